"""Dense linear algebra (``transpile/lower/linalg.py``, ``runtime/linalg.py``):
decompositions, solves, determinants and inverses in float64, float32 and integer
dtypes, with vector and matrix right-hand sides, non-contiguous and empty inputs,
PyTensor's failure semantics (nan where it gives nan, an error where it raises),
batched ``Blockwise``, and gradients up to a Gaussian-process marginal likelihood.

Numba compilation dominates the run time, and each helper compiles once per
module and argument signature, so tests share graphs: one kernel with many outputs
is run on several sets of values (well-posed, non-contiguous, failing, empty).
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import scipy.linalg
from oracle import compare, reference, transpile_module
from pytensor.tensor.blockwise import Blockwise
from pytensor.tensor.nlinalg import SLogDet, slogdet
from pytensor.tensor.slinalg import Solve, lu_factor, pivot_to_permutation

import transpile
import transpile.runtime.linalg as R
from transpile.errors import UnsupportedOpError

LINALG_MODULES = ("pytensor.tensor.slinalg", "pytensor.tensor.nlinalg")
FLOAT32_TOL = {"rtol": 2e-4, "atol": 2e-5}  # factorisations lose a few float32 digits


def compare_or_xfail(inputs, outputs, values, **options):
    """``compare``, but an expected failure while the graph needs a lowering that
    belongs to another module (not a linear algebra Op)."""
    try:
        transpile.transpile((list(inputs), list(outputs)),
                            rewrite=options.get("rewrite", True))
    except UnsupportedOpError as exc:
        if any(f"Op {m}." in str(exc) for m in LINALG_MODULES):
            raise
        pytest.xfail(str(exc).split(";")[0])
    return compare(inputs, outputs, values, **options)


def spd(rng, n, dtype="float64", batch=()):
    a = rng.normal(size=(*batch, n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def well_conditioned(rng, n, dtype="float64", batch=()):
    return (rng.normal(size=(*batch, n, n)) + n * np.eye(n)).astype(dtype)


def tridiagonal(rng, n):
    # A small diagonal makes the elimination swap rows.
    return (np.diag(rng.normal(size=n) * 0.1) + np.diag(rng.normal(size=n - 1), 1)
            + np.diag(rng.normal(size=n - 1), -1))


def non_contiguous(value):
    """The same values in memory that is not C-contiguous."""
    if value.ndim == 2:
        return np.asfortranarray(value) if value.shape[1] < 3 else np.repeat(
            value, 2, axis=1)[:, ::2]
    return np.repeat(value, 2)[::2] if value.ndim == 1 else value


# ---- Cholesky and the solves -------------------------------------------------------


def solver_graph():
    """Cholesky (lower, upper), SolveTriangular, Solve (every assume_a) and
    CholeskySolve, each option value at least once, with vector and matrix
    right-hand sides.  Each matrix feeds one kind of solve, so that no rewrite fuses
    solves into a shared factorisation.  (Every combination of options is checked
    against SciPy on the runtime helpers below, where it costs no compilation.)"""
    s, g, t, h, p, q, d = (pt.matrix(name) for name in "sgthpqd")
    bv, bm = pt.vector("bv"), pt.matrix("bm")
    L = pt.linalg.cholesky(s)
    outs = [L, pt.linalg.cholesky(s, lower=False), pt.linalg.solve(g, bm),
            pt.linalg.cho_solve((L, True), bv)]
    for b, lower, trans, unit in [(bv, True, 0, False), (bm, False, 0, True),
                                  (bm, True, 1, True), (bv, False, 1, False)]:
        outs.append(pt.linalg.solve_triangular(t, b, lower=lower, trans=trans,
                                               unit_diagonal=unit))
    for b, lower in [(bv, True), (bm, False)]:
        outs.append(pt.linalg.solve(h, b, assume_a="sym", lower=lower))
        # (The rewrite sharing one Cholesky factor between solves of one matrix
        # ignores their `lower`, which matters for asymmetric input: p and q.)
        outs.append(pt.linalg.solve(p if lower else q, b, assume_a="pos", lower=lower))
    outs.append(Blockwise(Solve(assume_a="tridiagonal", b_ndim=2))(d, bm))
    outs.append(Blockwise(Solve(assume_a="banded", b_ndim=2))(g, bm))  # a general solve
    return [s, g, t, h, p, q, d, bv, bm], outs


def solver_values(rng, n):
    p, q = spd(rng, n), spd(rng, n)
    p[0, n - 1] += 3.0  # asymmetric: only the triangle named by `lower` is read
    q[n - 1, 0] += 3.0
    d = tridiagonal(rng, n) + np.triu(rng.normal(size=(n, n)), 2)  # (read: 3 diagonals)
    return [spd(rng, n), well_conditioned(rng, n), well_conditioned(rng, n),
            rng.normal(size=(n, n)), p, q, d, rng.normal(size=n),
            rng.normal(size=(n, n))]  # b square: PyTensor's failed Solve has a's shape


def test_solvers(rng):
    """Well-posed, non-contiguous, failing and empty inputs, without rewrites (so
    the Blockwise-wrapped core Ops are lowered)."""
    inputs, outs = solver_graph()
    n = 5
    values = solver_values(rng, n)
    compare(inputs, outs, values, rewrite=False)
    compare(inputs, outs, [non_contiguous(v) for v in values], rewrite=False)

    failing = list(values)
    failing[0] = spd(rng, n) - 20 * np.eye(n)  # not positive definite: nan factor
    failing[1] = np.ones((n, n))  # singular: nan solution
    failing[2] = failing[2].copy()
    failing[2][2, 2] = 0.0  # a zero on the diagonal: nan unless unit_diagonal
    failing[6] = np.diag(np.ones(n - 1), 1) + np.diag(np.ones(n - 1), -1)  # singular
    compare(inputs, outs, failing, rewrite=False)

    empty = [np.empty((0, 0))] * 7 + [np.empty(0), np.empty((0, 0))]
    compare(inputs, outs, empty, rewrite=False)


def test_solvers_rewritten(rng):
    """The same graph after PyTensor's rewrites: the core Ops without their
    Blockwise, transposes as views; and sign(det), log(abs(det)) become SLogDet."""
    inputs, outs = solver_graph()
    c = pt.matrix("c")
    values = solver_values(rng, 6)
    # Symmetric p and q: PyTensor 3 rewrites solve(q, assume_a="pos", lower=False)
    # into a Cholesky factor of the lower triangle (test_solvers reads the triangles).
    for k in (4, 5):
        values[k] = (values[k] + values[k].T) / 2
    module = compare([*inputs, c], [*outs, *slogdet(c)],
                     [*values, rng.normal(size=(6, 6))], rewrite=True)
    assert "slogdet(c)" in open(module.__file__).read()


# ---- determinants, inverses, LU, eigh -------------------------------------------


def signed(v):
    """Eigenvectors with their first row made positive: each column's sign is
    arbitrary (PyTensor 3 calls LAPACK's syevr, NumPy and Numba syevd, and the two
    choose different signs)."""
    return v * pt.sign(v[0])


def inverse_graph():
    a, e, r, c, f = (pt.matrix(name) for name in "aercf")
    sign, logabsdet = slogdet(c)  # sign(det), log(abs(det)): Det without rewrites
    # (Not of `a`: a rewrite would take det(a) from this LU factor, dropping the
    # sign of its row permutation.)
    lu, pivots = lu_factor(f)
    w, v = pt.linalg.eigh(e)
    eigh_cost = pt.sum(w * pt.arange(w.shape[0])) + pt.sum(v[0] ** 2 * w)
    outs = [pt.linalg.det(a), pt.linalg.inv(a), *SLogDet()(a), sign, logabsdet,
            lu, pivots, pivot_to_permutation(pivots, inverse=True),
            pivot_to_permutation(pivots, inverse=False),
            pt.linalg.pinv(r), pt.linalg.pinv(e, hermitian=True), w, signed(v),
            pytensor.grad(eigh_cost, e)]  # EighGrad
    return [a, e, r, c, f], outs


def inverse_values(rng, n):
    a = well_conditioned(rng, n)
    a[0, 0] = -a[0, 0]  # a negative determinant
    return [a, spd(rng, n) - 4 * np.eye(n), rng.normal(size=(n - 1, n + 1)),
            rng.normal(size=(n, n)), rng.normal(size=(n, n))]


def test_determinants_inverses_lu_and_eigh(rng):
    """On C-contiguous and non-contiguous inputs.  (The rewrites change nothing
    here but unwrap the Blockwise, as in test_solvers_rewritten.)"""
    inputs, outs = inverse_graph()
    values = inverse_values(rng, 5)
    compare(inputs, outs, values, rewrite=False)
    compare(inputs, outs, [non_contiguous(v) for v in values], rewrite=False)


def test_float32_and_integer_dtypes(rng):
    """float32 stays float32; integer matrices give float64 results; a float32
    matrix with a float64 right-hand side solves in float64."""
    f, fs, ft = pt.fmatrix("f"), pt.fmatrix("fs"), pt.fmatrix("ft")
    fb = pt.fvector("fb")
    m = pt.lmatrix("m")
    d = pt.dvector("d")
    L = pt.linalg.cholesky(fs)
    w, v = pt.linalg.eigh(fs)
    outs = [L, pt.linalg.solve_triangular(ft, fb, lower=True),
            pt.linalg.cho_solve((L, True), fb), pt.linalg.solve(f, fb),
            pt.linalg.solve(ft, fb, assume_a="sym"),
            pt.linalg.solve(fs, fb, assume_a="pos"),
            pt.linalg.det(f), *SLogDet()(f), pt.linalg.inv(f), w, signed(v),
            pt.linalg.det(m), pt.linalg.cholesky(m),
            pt.linalg.solve_triangular(f, d, lower=True), pt.linalg.solve(m, d)]
    n = 4
    values = [well_conditioned(rng, n, "float32"), spd(rng, n, "float32"),
              well_conditioned(rng, n, "float32"), rng.normal(size=n).astype("float32"),
              np.array([[4, 1, 0, 0], [1, 3, 1, 0], [0, 1, 2, 1], [0, 0, 1, 5]]),
              rng.normal(size=n)]
    compare([f, fs, ft, fb, m, d], outs, values, rewrite=False, tol=FLOAT32_TOL)


# ---- failure semantics ------------------------------------------------------------


def test_determinants_of_singular_and_nan_matrices(rng):
    """det and slogdet of a singular matrix are 0 and (0, -inf); nan propagates
    through det, slogdet and inv (NumPy's behaviour; Numba's np.linalg would
    raise), real or complex (nan + nan j)."""
    z, w = pt.matrix("z"), pt.matrix("w")
    zc, wc = pt.matrix("zc", dtype="complex128"), pt.matrix("wc", dtype="complex128")
    outs = [pt.linalg.det(z), *SLogDet()(z), pt.linalg.det(w), pt.linalg.inv(w),
            pt.linalg.det(zc), *SLogDet()(zc), pt.linalg.det(wc), *SLogDet()(wc)]
    with_nan = well_conditioned(rng, 3)
    with_nan[1, 2] = np.nan
    with np.errstate(invalid="ignore"):
        compare([z, w, zc, wc], outs,
                [np.ones((3, 3)), with_nan, np.full((3, 3), 1 + 2j), with_nan + 1j],
                rewrite=False)


def test_errors_raise_like_pytensor(rng):
    """Cholesky with on_error="raise", the inverse of a singular matrix and
    mismatched shapes raise, in the generated module as in PyTensor."""
    x, y, a = pt.matrix("x"), pt.matrix("y"), pt.matrix("a")
    b = pt.vector("b")
    with pytest.warns(FutureWarning):
        L = pt.linalg.cholesky(x, on_error="raise")
    inputs, outs = [x, y, a, b], [L, pt.linalg.inv(y), pt.linalg.solve_triangular(a, b)]
    module = transpile_module(inputs, outs, rewrite=True)
    good = [spd(rng, 3), well_conditioned(rng, 3), well_conditioned(rng, 3), np.ones(3)]
    np.testing.assert_allclose(module.kernel(*good)[0], np.linalg.cholesky(good[0]))
    for k, bad, error in [(0, -good[0], ValueError),  # LinAlgError is a ValueError
                          (1, np.ones((3, 3)), np.linalg.LinAlgError),
                          (3, np.ones(4), ValueError),
                          (2, np.ones((3, 4)), ValueError)]:
        values = [*good[:k], bad, *good[k + 1:]]
        with pytest.raises(error):
            reference(inputs, outs, values)
        with pytest.raises(error):
            module.kernel(*values)


# ---- batched Blockwise ------------------------------------------------------------


def batched_graph():
    """Cholesky, solve_triangular, solve, det and slogdet over batch dimensions:
    broadcast both ways (s's batch is (B, 1), bm's is (C,), read as (1, C)), and one
    right-hand side b1 for a whole batch of matrices.  (det is of its own matrices:
    a rewrite sharing an LU factor with a solve would drop the sign of its row
    permutation, as in inverse_graph.)"""
    s = pt.tensor("s", shape=(None, 1, None, None))
    g, bm, d = pt.tensor3("g"), pt.tensor3("bm"), pt.tensor3("d")
    b1 = pt.vector("b1")
    L = pt.linalg.cholesky(s)
    outs = [L, pt.linalg.solve_triangular(L, bm, lower=True),
            pt.linalg.solve(g, b1, b_ndim=1), pt.linalg.solve(g, bm, assume_a="pos"),
            pt.linalg.det(d), *Blockwise(SLogDet())(d)]
    return [s, g, bm, d, b1], outs


@pytest.mark.parametrize("rewrite", [True, False])
def test_batched(rng, rewrite):
    """With the rewrites, each batched Blockwise arrives wrapped in
    BlockwiseWithCoreShape, its core output shapes as extra inputs; without, they
    come from the signature.  Either way the outputs are allocated before the
    loop, so an empty batch gives empty results."""
    inputs, outs = batched_graph()
    n = 4
    values = [spd(rng, n, batch=(2, 1)), spd(rng, n, batch=(3,)),
              rng.normal(size=(3, n, 2)), well_conditioned(rng, n, batch=(3,)),
              rng.normal(size=n)]
    module = compare_or_xfail(inputs, outs, values, rewrite=rewrite)
    if rewrite:
        assert "Blockwise{Cholesky" in open(module.__file__).read()
    # PyTensor's Python Blockwise cannot evaluate an empty batch: shapes by hand.
    empty = [np.empty((0, 1, n, n)), np.empty((0, n, n)), np.empty((0, n, 2)),
             np.empty((0, n, n)), rng.normal(size=n)]
    shapes = [(0, 1, n, n), (0, 0, n, 2), (0, n), (0, n, 2), (0,), (0,), (0,)]
    for got, shape in zip(module.kernel(*empty), shapes, strict=True):
        assert got.shape == shape and got.dtype == np.float64


@pytest.mark.parametrize("rewrite", [True, False])
def test_batched_core_shapes_from_infer_shape_or_a_result(rng, rewrite):
    """Core output lengths the signature does not give: from the core Op's
    infer_shape (a diagonal's, clip(n - 1, 0, m)), so that an empty batch gives an
    empty result; or, where they depend on the values (a Repeat's), from the first
    batch element, computed before the loop, so that an empty batch raises, as in
    PyTensor."""
    from pytensor.tensor.basic import ExtractDiag
    from pytensor.tensor.extra_ops import Repeat

    x, r = pt.tensor3("x"), pt.lmatrix("r")
    diagonal = Blockwise(ExtractDiag(offset=1), signature="(m,n)->(k)")(x)
    module = compare([x], [diagonal], [rng.normal(size=(2, 3, 5))], rewrite=rewrite)
    assert module.kernel(np.empty((0, 3, 5))).shape == (0, 3)

    repeated = Blockwise(Repeat(axis=0), signature="(n),(n)->(m)")(x[:, 0], r)
    counts = np.array([[1, 0, 2, 1, 0], [0, 0, 0, 4, 0]])  # as many in each row
    module = compare([x, r], [repeated], [rng.normal(size=(2, 3, 5)), counts],
                     rewrite=rewrite)
    with pytest.raises(NotImplementedError):
        module.kernel(np.empty((0, 3, 5)), np.empty((0, 5), dtype=np.int64))


# ---- gradients --------------------------------------------------------------------


def gp_marginal_likelihood():
    """log N(y | 0, K), K = eta^2 exp(-(x - x')^2 / (2 ls^2)) + sigma^2 I, through the
    Cholesky factor; and its gradient with respect to the hyperparameters."""
    x, y = pt.vector("x"), pt.vector("y")
    ls, eta, sigma = pt.scalar("ls"), pt.scalar("eta"), pt.scalar("sigma")
    n = x.shape[0]
    sq_dist = (x[:, None] - x[None, :]) ** 2
    K = eta**2 * pt.exp(-0.5 * sq_dist / ls**2) + sigma**2 * pt.eye(n)
    L = pt.linalg.cholesky(K)
    alpha = pt.linalg.solve_triangular(L, y, lower=True)
    logp = (-0.5 * alpha @ alpha - pt.sum(pt.log(pt.diag(L)))
            - 0.5 * n * np.log(2 * np.pi))
    return [x, y, ls, eta, sigma], [logp, *pytensor.grad(logp, [ls, eta, sigma])]


def gradient_graph(rewrite: bool):
    """The Gaussian-process log likelihood with its gradient (through cholesky and
    solve_triangular), and gradients through solve, det and slogdet; rewritten,
    also through a tridiagonal solve (the solve and its transpose then share one
    LU factorisation, general or tridiagonal)."""
    a, d, s, m = (pt.matrix(name) for name in "adsm")
    b = pt.vector("b")
    gp_inputs, gp_outputs = gp_marginal_likelihood()
    _, logabsdet = pt.linalg.slogdet(s)
    outs = [*gp_outputs, *pytensor.grad(pt.sum(pt.linalg.solve(a, b) ** 2), [a, b]),
            *pytensor.grad(pt.linalg.det(d), [d]), *pytensor.grad(logabsdet, [s])]
    if rewrite:
        cost = pt.sum(pt.linalg.solve(m, b, assume_a="tridiagonal") ** 2)
        outs += pytensor.grad(cost, [m, b])
    return [*gp_inputs, a, d, s, m, b], outs


@pytest.mark.parametrize("rewrite", [True, False])
def test_gradients_and_gp_marginal_likelihood(rng, rewrite):
    inputs, outs = gradient_graph(rewrite)
    n, m = 4, 12
    x = np.sort(rng.uniform(0, 5, size=m))
    y = np.sin(x) + 0.1 * rng.normal(size=m)
    ls, eta, sigma = 1.3, 0.8, 0.3
    values = [x, y, np.float64(ls), np.float64(eta), np.float64(sigma),
              well_conditioned(rng, n), well_conditioned(rng, n), spd(rng, n),
              tridiagonal(rng, n), rng.normal(size=n)]
    module = compare_or_xfail(inputs, outs, values, rewrite=rewrite, tol={
        "rtol": 1e-8, "atol": 1e-10})
    # The log likelihood against SciPy's multivariate normal, and its gradient
    # against central differences.
    from scipy.stats import multivariate_normal

    def logp(ls, eta, sigma):
        K = (eta**2 * np.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / ls**2)
             + sigma**2 * np.eye(m))
        return multivariate_normal(np.zeros(m), K).logpdf(y)

    got = module.kernel(*values)[:4]
    np.testing.assert_allclose(got[0], logp(ls, eta, sigma), rtol=1e-10)
    h = 1e-6
    steps = h * np.eye(3)
    theta = np.array([ls, eta, sigma])
    numeric = [(logp(*(theta + step)) - logp(*(theta - step))) / (2 * h)
               for step in steps]
    np.testing.assert_allclose(got[1:], numeric, rtol=1e-5)


# ---- the runtime helpers on their own, against SciPy and LAPACK ------------------
# Called from Python, the helpers take their options as plain (not literal) bools,
# so one compilation covers every combination (memory layouts are covered above).


def test_runtime_cholesky_and_triangular_solves(rng):
    n = 5
    a = spd(rng, n)
    a[0, n - 1] += 1.0  # asymmetric: one triangle is read
    t = well_conditioned(rng, n)
    for lower in (True, False):
        sym = np.tril(a) + np.tril(a, -1).T if lower else np.triu(a) + np.triu(a, 1).T
        np.testing.assert_allclose(R.cholesky(a, lower),
                                   scipy.linalg.cholesky(sym, lower=lower), rtol=1e-12)
        c = scipy.linalg.cholesky(sym, lower=lower)
        for b in (rng.normal(size=n), rng.normal(size=(n, 3))):
            np.testing.assert_allclose(R.cho_solve(c, b, lower),
                                       scipy.linalg.cho_solve((c, lower), b),
                                       rtol=1e-10)
            for unit in (False, True):
                for value in (t, t.T):  # C- and Fortran-ordered
                    np.testing.assert_allclose(
                        R.solve_triangular(value, b, lower, unit),
                        scipy.linalg.solve_triangular(value, b, lower=lower,
                                                      unit_diagonal=unit), rtol=1e-10)
    assert np.isnan(R.cholesky(-a, True)).all()
    with pytest.raises(ValueError):
        R.cholesky(np.ones((2, 3)), True)


def test_runtime_general_symmetric_and_positive_definite_solves(rng):
    n = 5
    a = rng.normal(size=(n, n))
    pos = spd(rng, n)
    pos[n - 1, 0] += 1.0
    for b in (rng.normal(size=n), rng.normal(size=(n, 2))):
        np.testing.assert_allclose(R.solve_general(a, b), scipy.linalg.solve(a, b),
                                   rtol=1e-10)
        for lower in (True, False):
            np.testing.assert_allclose(
                R.solve_symmetric(a, b, lower),
                scipy.linalg.solve(a, b, assume_a="sym", lower=lower), rtol=1e-10)
            np.testing.assert_allclose(
                R.solve_positive_definite(pos, b, lower),
                scipy.linalg.solve(pos, b, assume_a="pos", lower=lower), rtol=1e-10)
    assert np.isnan(R.solve_positive_definite(-pos, np.ones(n), True)).all()


def test_runtime_lu_factor_and_pivots(rng):
    for a in (well_conditioned(rng, 6) - 6 * np.eye(6), rng.normal(size=(6, 6))):
        want_lu, want_pivots = scipy.linalg.lu_factor(a)
        lu, pivots = R.lu_factor(a)
        np.testing.assert_allclose(lu, want_lu, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(pivots, want_pivots)
        p_inv = R.permutation_from_pivots(pivots, True)
        unit_lower = np.tril(lu, -1) + np.eye(6)
        np.testing.assert_allclose(a[p_inv], unit_lower @ np.triu(lu),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(R.permutation_from_pivots(pivots, False),
                                      np.argsort(p_inv))
    assert np.isnan(R.lu_factor(np.ones((3, 3)))[0]).all()


def test_complex_factorisations_and_solves(rng):
    """Cholesky (either triangle), every Solve (a Hermitian one reads one triangle
    and conjugates it), triangular solves (``trans="C"``), Cholesky solves, LU
    factors (pivots by ``|re| + |im|``, as LAPACK's), inverses, pseudo-inverses,
    determinants and their logarithms of complex matrices, compared with PyTensor
    (SciPy's LAPACK)."""
    n = 5
    a = pt.matrix("a", dtype="complex128")
    b = pt.matrix("b", dtype="complex128")
    v = pt.vector("v", dtype="complex128")
    lower_factor = pt.linalg.cholesky(a, lower=True)
    upper_factor = pt.linalg.cholesky(a, lower=False)
    h = pt.matrix("h", dtype="complex128")  # one triangle read, the other not
    outs = [lower_factor, upper_factor,
            *(pt.linalg.solve(m, b, assume_a=kind, lower=lower)
              for kind in ("gen", "sym", "her")
              for m, lower in ((h, True), (h.T, False))),
            # (pos of h and of h.T in one graph: PyTensor's rewrites would share one
            # Cholesky factor between them, as if h were Hermitian)
            pt.linalg.solve(h, b, assume_a="pos", lower=True),
            pt.linalg.solve(a, b, assume_a="pos", lower=False),
            pt.linalg.solve(a, v, assume_a="gen", b_ndim=1),
            pt.linalg.solve_triangular(lower_factor, b, lower=True),
            pt.linalg.solve_triangular(upper_factor, b, lower=False, trans="C"),
            pt.linalg.solve_triangular(lower_factor, v, lower=True, trans="T", b_ndim=1,
                                       unit_diagonal=True),
            pt.linalg.cho_solve((lower_factor, True), b),
            pt.linalg.cho_solve((upper_factor, False), b),
            *pt.linalg.lu_factor(a), pt.linalg.inv(a), pt.linalg.pinv(b),
            pt.linalg.det(h), *SLogDet()(h), *SLogDet()(a)]
    x = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    hermitian_pd = x @ x.conj().T + n * np.eye(n)
    one_triangle = hermitian_pd.copy()
    one_triangle[np.triu_indices(n, 1)] = np.pi + 2j  # not read
    values = [hermitian_pd, rng.normal(size=(n, 3)) + 1j * rng.normal(size=(n, 3)),
              rng.normal(size=n) + 1j * rng.normal(size=n), one_triangle]
    compare([a, b, v, h], outs, values)


def test_positive_definite_solves_read_the_triangle_they_name(rng):
    """A positive definite solve reads the triangle its ``lower`` names, the other
    one being anything (PyTensor 3.0's rewrite into triangular solves reads the
    lower one whatever ``lower`` says; the module solves the system the Op means)."""
    n = 5
    a, b = pt.matrix("a"), pt.matrix("b")
    v = pt.vector("v")
    outs = [pt.linalg.solve(a, b, assume_a="pos", lower=False),
            pt.linalg.solve(a, v, assume_a="pos", lower=False, b_ndim=1)]
    x = rng.normal(size=(n, n))
    upper_only = np.triu(x @ x.T + n * np.eye(n)) + np.tril(np.full((n, n), 7.0), -1)
    compare([a, b, v], outs, [upper_only, rng.normal(size=(n, 2)), rng.normal(size=n)])


def test_complex_tridiagonal_lu_factor_and_solve(rng):
    """The tridiagonal LU factorisation and its solve on complex matrices, through
    the graph."""
    try:  # PyTensor 3.0
        from pytensor.tensor.linalg import tridiagonal_lu_factor, tridiagonal_lu_solve
    except ImportError:
        from pytensor.tensor._linalg.solve.tridiagonal import (
            tridiagonal_lu_factor,
            tridiagonal_lu_solve,
        )

    a = pt.matrix("a", dtype="complex128")
    b = pt.matrix("b", dtype="complex128")
    factors = tridiagonal_lu_factor(a)
    outs = [*factors, tridiagonal_lu_solve(factors, b, b_ndim=2, transposed=False),
            tridiagonal_lu_solve(factors, b, b_ndim=2, transposed=True)]
    n = 5
    values = [tridiagonal(rng, n) + 1j * tridiagonal(rng, n),
              rng.normal(size=(n, 2)) + 1j * rng.normal(size=(n, 2))]
    compare([a, b], outs, values)


def test_runtime_tridiagonal_against_lapack(rng):
    gtsv, gttrf, gttrs = scipy.linalg.get_lapack_funcs(("gtsv", "gttrf", "gttrs"),
                                                       dtype=np.float64)
    for n in (3, 4, 8):  # (SciPy's wrappers refuse smaller systems)
        a = tridiagonal(rng, n)
        diagonals = np.diag(a, -1), np.diag(a), np.diag(a, 1)
        factors = R.tridiagonal_lu_factor(*diagonals)
        for got, want in zip(factors, gttrf(*diagonals)[:5], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12)
        for b in (rng.normal(size=n), rng.normal(size=(n, 2))):
            want = gtsv(*diagonals, b)[3]
            np.testing.assert_allclose(R.solve_tridiagonal(a, b), want, rtol=1e-12)
            for transposed in (False, True):
                want, _ = gttrs(*factors, b, trans="T" if transposed else "N")
                got = R.tridiagonal_lu_solve(*factors, b, transposed)
                np.testing.assert_allclose(got, want, rtol=1e-12)
    # complex: pivots chosen by |re| + |im|, as zgttrf chooses them
    gttrf, gttrs = scipy.linalg.get_lapack_funcs(("gttrf", "gttrs"), dtype=np.complex128)
    for n in (3, 4, 8):
        a = tridiagonal(rng, n) + 1j * tridiagonal(rng, n)
        diagonals = np.diag(a, -1), np.diag(a), np.diag(a, 1)
        factors = R.tridiagonal_lu_factor(*diagonals)
        for got, want in zip(factors, gttrf(*diagonals)[:5], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12)
        b = rng.normal(size=(n, 2)) + 1j * rng.normal(size=(n, 2))
        for transposed in (False, True):
            want, _ = gttrs(*factors, b, trans="T" if transposed else "N")
            np.testing.assert_allclose(R.tridiagonal_lu_solve(*factors, b, transposed),
                                       want, rtol=1e-12)
    one_by_one = R.solve_tridiagonal(np.array([[0.5]]), np.ones(1))
    np.testing.assert_allclose(one_by_one, [2.0])
    assert np.isnan(R.solve_tridiagonal(np.zeros((3, 3)), np.ones(3))).all()
