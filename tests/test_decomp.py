"""Decompositions (``transpile/lower/decomp.py``, ``runtime/decomp.py``) and the LAPACK
routines they bind (``runtime/lapack.py``): ``SVD``, ``QR``, ``LU``, ``Eig``, ``Eigh``,
``Schur``, ``QZ``, ``TRSYL``, ``BlockDiagonal`` and the solvers of ``linear_control``
built on them, in float64, float32, complex and integer dtypes, batched, and the
generated module's LAPACK bindings, in this process and the next.

The helpers call the LAPACK routines PyTensor's ``perform`` calls, the same way, so
even the results that are not unique (signs of singular vectors and eigenvectors,
Schur forms and their vectors) are compared with PyTensor's directly, to the oracle's
tolerance, and then checked for what defines them (reconstructions, orthogonality).
Numba compilation dominates the run time: each test compiles one module with many
outputs, and each helper compiles once per module and argument types.
"""

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import scipy.linalg
from oracle import compare, reference

import transpile
from transpile.compat import op_class
from transpile.errors import UnsupportedOpError
from transpile.runtime import RuntimeLibrary

L = pt.linalg
PYTENSOR_3 = int(pytensor.__version__.split(".")[0]) >= 3
FLOAT32_TOL = {"rtol": 1e-4, "atol": 1e-5}


def reconstructs(a, *factors, atol):
    product = factors[0]
    for factor in factors[1:]:
        product = product @ factor
    np.testing.assert_allclose(product, a, atol=atol)


def orthonormal_columns(q, atol):
    np.testing.assert_allclose(q.conj().T @ q, np.eye(q.shape[1]), atol=atol)


def flatten(outs: dict):
    return [out for group in outs.values() for out in group]


def by_key(outs: dict, results):
    """The module's results, grouped as ``outs`` is."""
    results = iter(results)
    return {key: [next(results) for _ in group] for key, group in outs.items()}


# ---- every decomposition in one graph ------------------------------------------------


def batched_eigh(x):
    """eigh of a batch (PyTensor 2.38's ``eigh`` takes one matrix)."""
    from pytensor.tensor.blockwise import Blockwise

    core = op_class("Eigh")() if not PYTENSOR_3 else op_class("Eigh")(lower=True)
    return Blockwise(core, signature="(m,m)->(m),(m,m)")(x)


def decomposition_graph():
    """Every decomposition with each option value at least once: on square ``a``
    and ``b``, tall ``t``, wide ``w``, the integer ``m`` (results in float64) and
    batches ``ab``, ``bb`` of square matrices; and the solvers of linear_control
    (Sylvester, continuous and discrete Lyapunov, discrete Riccati: OpFromGraphs
    of Schur forms, TRSYL, QR, a QZ form sorted inside the unit circle and LU,
    inlined; the discrete Lyapunov's default, bilinear, method is a continuous
    one's).  Real inputs: complex ones are test_float32_and_complex's."""
    a, b, t, w, q, r = (pt.matrix(name) for name in "abtwqr")
    m = pt.lmatrix("m")
    ab, bb = pt.tensor3("ab"), pt.tensor3("bb")
    outs = {
        "svd": L.svd(t), "svd_reduced": L.svd(w, full_matrices=False),
        "singular_values": [L.svd(a, compute_uv=False)],
        "qr": L.qr(t), "qr_economic": L.qr(t, mode="economic"), "qr_wide": L.qr(w),
        "qr_r": [L.qr(w, mode="r")], "qr_raw_pivoting": L.qr(t, mode="raw", pivoting=True),
        "qr_pivoting": L.qr(w, mode="economic", pivoting=True),
        "lu": L.lu(a), "lu_permute_l": L.lu(b, permute_l=True),
        "lu_p_indices": L.lu(a, p_indices=True),
        "eig": L.eig(a), "eigh": L.eigh(a + a.T),
        "eigh_upper": L.eigh(a, UPLO="U"),  # of the upper triangle of an asymmetric a
        "schur": L.schur(a), "schur_lhp": L.schur(a, sort="lhp"),
        "schur_rhp": L.schur(b, sort="rhp"),
        "qz": L.qz(a, b), "qz_ouc": L.qz(a, b, sort="ouc", return_eigenvalues=True),
        "block_diag": [L.block_diag(a, t, w)],
        "integer": [*L.eigh(m, UPLO="U"), L.svd(m, compute_uv=False), *L.lu(m),
                    *L.qr(m), *(L.schur(m) if PYTENSOR_3 else []), *L.eig(m)],
        "batched": [*L.svd(ab, full_matrices=False), *L.qr(ab), *L.lu(ab, p_indices=True),
                    *L.eig(ab), *batched_eigh(ab + ab.mT), *L.schur(ab, sort="iuc"),
                    *L.qz(ab, bb, return_eigenvalues=True), L.block_diag(ab, bb)],
        # linear_control's solvers: OpFromGraphs of the decompositions (and TRSYL)
        "linear_control": [L.solve_sylvester(a, b, q), L.solve_continuous_lyapunov(a, q),
                           L.solve_discrete_lyapunov(0.3 * a, q),
                           L.solve_discrete_are(a, t[:5, :3], q, r),
                           L.solve_sylvester(ab, bb, ab)],  # one per batch element
    }
    return [a, b, t, w, m, ab, bb, q, r], outs


def decomposition_values(rng):
    m = rng.integers(-3, 4, size=(4, 4))
    q, r = rng.normal(size=(5, 5)), rng.normal(size=(3, 3))
    return [rng.normal(size=(5, 5)), rng.normal(size=(5, 5)), rng.normal(size=(6, 4)),
            rng.normal(size=(3, 5)), m + m.T, rng.normal(size=(2, 4, 4)),
            rng.normal(size=(2, 4, 4)), q @ q.T, r @ r.T]


def check_definitions(r, values, atol):
    """What defines each decomposition, on the generated module's results ``r``."""
    a, b, t, w = values[:4]
    u, s, vt = r["svd"]
    reconstructs(t, u[:, :4] * s, vt, atol=atol)
    orthonormal_columns(u, atol)
    for key, matrix in [("qr", t), ("qr_economic", t), ("qr_wide", w)]:
        q, upper = r[key]
        reconstructs(matrix, q, upper, atol=atol)
        orthonormal_columns(q, atol)
        np.testing.assert_array_equal(upper, np.triu(upper))
    q, upper, p = r["qr_pivoting"]
    reconstructs(w[:, p], q, upper, atol=atol)
    p, lower, upper = r["lu_p_indices"]
    reconstructs(a, lower[p], upper, atol=atol)
    perm, lower, upper = r["lu"]
    reconstructs(a, perm, lower, upper, atol=atol)
    values, vectors = r["eig"]
    np.testing.assert_allclose(a @ vectors, vectors * values, atol=atol)
    values, vectors = r["eigh_upper"]
    upper_symmetric = np.triu(a) + np.triu(a, 1).T
    np.testing.assert_allclose(upper_symmetric @ vectors, vectors * values, atol=atol)
    for key, matrix in [("schur", a), ("schur_lhp", a), ("schur_rhp", b)]:
        form, vectors = r[key]
        reconstructs(matrix, vectors, form, vectors.T, atol=atol)
        orthonormal_columns(vectors, atol)
    form, _ = r["schur_lhp"]
    selected = np.linalg.eigvals(form).real < 0  # (in the order of the diagonal)
    assert not (selected[1:] & ~selected[:-1]).any(), "sorted: the selected lead"
    aa, bb, alpha, beta, q, z = r["qz_ouc"]
    reconstructs(a, q, aa, z.T, atol=atol)
    reconstructs(b, q, bb, z.T, atol=atol)
    np.testing.assert_array_equal(bb, np.triu(bb))


def check_linear_control(results, values):
    """Against SciPy's solvers, to the tolerance of PyTensor's own tests (1e-8)."""
    a, b, t, _, _, ab, bb, q, r = values
    want = [scipy.linalg.solve_sylvester(a, b, q),
            scipy.linalg.solve_continuous_lyapunov(a, q),
            scipy.linalg.solve_discrete_lyapunov(0.3 * a, q),
            scipy.linalg.solve_discrete_are(a, t[:5, :3], q, r),
            np.stack([scipy.linalg.solve_sylvester(*abc)
                      for abc in zip(ab, bb, ab, strict=True)])]
    for got, expected in zip(results, want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-8)


def test_decompositions(rng):
    """Against PyTensor's own results, then against their definitions (and SciPy's
    linear-control solvers); batched through BlockwiseWithCoreShape, as the
    rewrites leave them."""
    inputs, outs = decomposition_graph()
    values = decomposition_values(rng)
    module = compare(inputs, flatten(outs), values, rewrite=True)
    results = by_key(outs, module.kernel(*values))
    check_definitions(results, values, atol=1e-10)
    check_linear_control(results["linear_control"], values)


FULL = bool(os.environ.get("TRANSPILE_LINALG_FULL"))
slow = pytest.mark.skipif(not FULL, reason="compiles a module of its own for little "
                          "more coverage: set TRANSPILE_LINALG_FULL=1")


@slow
def test_decompositions_without_rewrites(rng):
    """The same graph, its Blockwise nodes as built: a plain Blockwise takes its
    outputs' core shapes from the signature and the core Op's infer_shape."""
    inputs, outs = decomposition_graph()
    values = decomposition_values(rng)
    module = compare(inputs, flatten(outs), values, rewrite=False)
    check_definitions(by_key(outs, module.kernel(*values)), values, atol=1e-10)


@slow
def test_batched_without_rewrites_on_an_empty_batch(rng):
    """Core shapes known before the loop, so that an empty batch gives empty
    results (PyTensor's own Blockwise cannot evaluate one: shapes checked by
    hand)."""
    ab, bb, sq = pt.tensor3("ab"), pt.tensor3("bb"), pt.tensor3("sq")
    outs = [*L.svd(ab, full_matrices=False), *L.qr(ab, mode="economic"),
            *L.lu(sq), *L.schur(sq), L.block_diag(ab, bb)]
    values = [rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 2, 3)),
              rng.normal(size=(3, 3, 3))]
    module = compare([ab, bb, sq], outs, values, rewrite=False)
    empty = module.kernel(np.empty((0, 4, 2)), np.empty((0, 2, 3)), np.empty((0, 3, 3)))
    shapes = [(0, 4, 2), (0, 2), (0, 2, 2), (0, 4, 2), (0, 2, 2), (0, 3, 3), (0, 3, 3),
              (0, 3, 3), (0, 3, 3), (0, 3, 3), (0, 6, 5)]
    assert [x.shape for x in empty] == shapes


@slow
def test_float32_and_complex(rng):
    """float32 stays float32 (complex64 where complex), computed as PyTensor does:
    NumPy's SVD, Eig and (2.38's) Eigh in double precision, then cast, SciPy's
    routines in single precision.  complex128 goes through the complex routines
    (PyTensor 2.38 types the results of a complex QR as real, but returns them
    complex: so does the module, and it refuses a graph that computes on them); so do
    real matrices for a complex Schur or QZ form."""
    f, g = pt.fmatrix("f"), pt.fmatrix("g")
    z, y = pt.zmatrix("z"), pt.zmatrix("y")
    single = [*L.svd(f), *L.qr(f, pivoting=True), *L.lu(f), *L.eig(f),
              *L.eigh(f, UPLO="U"), *L.schur(f, sort="ouc"), *L.schur(g, output="complex"),
              *L.qz(f, g, sort="iuc", return_eigenvalues=True), L.block_diag(f, g),
              L.solve_sylvester(f, g, f)]
    complex_ = [*L.svd(z), *L.lu(z), *L.eig(z), *L.schur(z, sort="lhp"),
                *L.qz(z, y, sort="rhp", return_eigenvalues=True),
                *L.qz(f, g, output="complex", sort="lhp"),
                *L.schur(f, output="complex", sort="iuc"), L.block_diag(z, y),
                L.solve_sylvester(z, y, z)]
    sylvester_at = len(single) + len(complex_) - 1
    complex_ += [*L.qr(z), *L.qr(z, mode="raw", pivoting=True),
                 L.svd(z, compute_uv=False)]  # real singular values of a complex matrix
    if not PYTENSOR_3:  # complex factors typed real: returned as PyTensor returns them
        with pytest.raises(UnsupportedOpError, match="QR.* cannot compute on them"):
            transpile.transpile(([z], [L.qr(z)[0] + 1]))
    values = [rng.normal(size=(4, 4)).astype("float32") for _ in range(2)]
    values += [rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)) for _ in range(2)]
    module = compare([f, g, z, y], single + complex_, values)  # tolerance by dtype
    got = module.kernel(*values)
    assert {x.dtype for x in got[:len(single)]} == {
        np.dtype(d) for d in ("float32", "int32", "complex64")}
    schur_form, schur_vectors = got[len(single) + 8:len(single) + 10]
    reconstructs(values[2], schur_vectors, schur_form, schur_vectors.conj().T, atol=1e-10)
    x = got[sylvester_at]
    np.testing.assert_allclose(values[2] @ x + x @ values[3], values[2], atol=1e-10)


def test_failures_and_empty_matrices(rng):
    """Matrices that are not finite: a Schur form is nan, as PyTensor checks; QR
    is what LAPACK makes of it; LU raises, as SciPy's ``lu`` does (SVD too, as
    NumPy's does).  Empty matrices give empty results; a block diagonal matrix of
    an integer and a float block is a float one."""
    a, e, k = pt.matrix("a"), pt.matrix("e"), pt.lmatrix("k")
    outs = [*L.schur(a), *L.qr(a), *L.lu(e), *L.svd(e), L.block_diag(k, a)]
    empty, ints = np.empty((0, 0)), rng.integers(-5, 5, size=(2, 3))
    module = compare([a, e, k], outs, [empty, empty, ints])
    with_nan = rng.normal(size=(3, 3))
    with_nan[1, 1] = np.nan
    module = compare([a, e, k], outs, [with_nan, empty, ints])
    assert all(np.isnan(x).all() for x in module.kernel(with_nan, empty, ints)[:2])
    for run in (module.kernel, lambda *v: reference([a, e, k], outs, v)):
        with pytest.raises(ValueError):  # (np.linalg.LinAlgError is one)
            run(empty, with_nan, ints)


# ---- Eigh: the routine and the triangle PyTensor's perform uses ----------------------


def eigvalsh(a, b=None, lower=True):
    """``eigvalsh`` of PyTensor 3 (``b`` optional) or 2.38 (``b`` a NoneConst)."""
    if b is None and not PYTENSOR_3:
        from pytensor.tensor.type_other import NoneConst

        b = NoneConst
    return L.eigvalsh(a, b, lower=lower)


def test_eigh_eigenvectors_are_pytensors_without_sign_fixes(rng):
    """Issue 12: eigh(a, UPLO="U") gave NumPy's eigenvalues but not its
    eigenvectors (two columns of three with the other sign): it ran LAPACK on the
    lower triangle of a.T, which holds the same numbers but takes another path
    through the reduction to tridiagonal form.  Now the upper triangle goes to
    LAPACK as such: in PyTensor 2.38 NumPy's eigh (syevd), in 3 SciPy's (syevr,
    or syevd with driver="evd"; sygvd for a pair).  The oracle compares the
    eigenvectors as they are: no sign is normalised.  Eigvalsh alike (SciPy's
    syevr without vectors, sygvd for a pair)."""
    x, f, p = pt.lmatrix("x"), pt.matrix("f"), pt.matrix("p")
    outs = [*L.eigh(x, UPLO="U"), *L.eigh(x), *L.eigh(f, UPLO="U"), *L.eigh(f),
            eigvalsh(f), eigvalsh(f, lower=False), eigvalsh(f, p),
            eigvalsh(f, p, lower=False)]
    if PYTENSOR_3:
        from pytensor.tensor.blockwise import Blockwise

        Eigh = op_class("Eigh")
        for lower in (True, False):
            outs += Blockwise(Eigh(lower=lower, driver="evd"),
                              signature="(m,m)->(m),(m,m)")(f)
            outs += L.eigh(f, p, lower=lower)
    y, spd = rng.integers(1, 10, size=(3, 3)), rng.normal(size=(5, 5))
    values = [y.T @ y, rng.normal(size=(5, 5)),  # f asymmetric: one triangle read
              spd @ spd.T + np.eye(5)]
    compare([x, f, p], outs, values)


def test_expm(rng):
    """Scaling and squaring, at every Padé degree (1-norms from 0.004 to 80), and
    for a batch, float32, complex128 and integers (float64 results in PyTensor 3;
    2.38 types them as integers: refused), against SciPy's ``expm`` (Al-Mohy and
    Higham's variant: the same approximants, other choices of degree and scaling,
    so equal to rounding)."""
    a, f, z = pt.matrix("a"), pt.fmatrix("f"), pt.zmatrix("z")
    batch = pt.tensor3("batch")
    scales = [1e-3, 3e-2, 0.2, 0.5, 1.0, 5.0, 20.0]
    outs = [L.expm(a * scale) for scale in scales]
    outs += [L.expm(batch), L.expm(f), L.expm(z)]
    m = pt.lmatrix("m")
    if PYTENSOR_3:
        outs.append(L.expm(m))
    else:
        with pytest.raises(UnsupportedOpError, match="Expm with results of dtype int64"):
            transpile.transpile(([m], [L.expm(m)]))
    values = [rng.normal(size=(4, 4)), rng.normal(size=(4, 4)).astype("float32"),
              5 * (rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))),
              rng.normal(size=(2, 3, 3)), rng.integers(-2, 3, size=(4, 4))]
    inputs = [a, f, z, batch, m]
    compare(inputs, outs, values)


# ---- the generated module's LAPACK bindings ------------------------------------------


def source_of(inputs, outputs, **options) -> str:
    return transpile.transpile((inputs, outputs), **options)


def test_bindings_are_carried_once_and_only_when_used():
    a, b = pt.matrix("a"), pt.matrix("b")
    source = source_of([a, b], [*L.schur(a), *L.schur(b, sort="lhp"),
                                L.solve_sylvester(a, b, a)])
    tree = ast.parse(source)
    imports = [stmt for stmt in tree.body if isinstance(stmt, ast.Import | ast.ImportFrom)]
    assert [ast.unparse(stmt) for stmt in imports] == ["import numba",
                                                       "import numpy as np"]
    assigned = [stmt.targets[0].id for stmt in tree.body if isinstance(stmt, ast.Assign)]
    bound = [name for name in assigned if name.islower()]
    assert bound == ["sgees", "dgees", "strsen", "dtrsen", "strsyl", "dtrsyl", "ctrsyl",
                     "ztrsyl"]  # as runtime/lapack.py orders them
    constants = [name for name in assigned if name not in ("INPUTS", "OUTPUTS", *bound)]
    assert constants == ["UNSORTED", "LEFT_HALF_PLANE", "RIGHT_HALF_PLANE",
                         "INSIDE_UNIT_CIRCLE", "OUTSIDE_UNIT_CIRCLE"]  # (sort=)
    docstring = " ".join(ast.get_docstring(tree).split())
    assert ("from SciPy's scipy.linalg.cython_lapack when the module is imported (so "
            f"SciPy is needed): {', '.join(bound)}.") in docstring
    defined = [stmt.name for stmt in tree.body if isinstance(stmt, ast.FunctionDef)]
    assert len(defined) == len(set(defined))
    # The binding block (the binder, then the routines) comes before the helpers.
    names = [stmt.name if isinstance(stmt, ast.FunctionDef) else stmt.targets[0].id
             for stmt in tree.body if isinstance(stmt, ast.Assign | ast.FunctionDef)]
    assert names[:3 + len(bound) + len(constants)] == [
        "INPUTS", "OUTPUTS", "lapack_routine", *bound, *constants]
    helpers = [stmt for stmt in tree.body if isinstance(stmt, ast.FunctionDef)][1:]
    assert all(ast.unparse(h.decorator_list[0]).startswith("numba.njit") for h in helpers)
    # A module that binds nothing says nothing about it.
    plain = source_of([a], [L.cholesky(a), *L.svd(a)])  # np.linalg only
    assert "cython_lapack" not in plain and "lapack_routine" not in plain


def test_every_binding_matches_scipys_cython_lapack():
    """Each routine is bound under its own name with as many pointer arguments as
    SciPy's cython_lapack declares (the count is all a binding gets wrong)."""
    pxd = (Path(scipy.linalg.__file__).parent / "cython_lapack.pxd").read_text()
    declared = {}
    for line in pxd.splitlines():
        if line.startswith("cdef void "):
            name, args = line[len("cdef void "):].split("(", 1)
            declared[name] = args.split(")", 1)[0].count("*")
    tree = ast.parse(Path(transpile.runtime.__file__).with_name("lapack.py").read_text())
    bindings = [stmt for stmt in tree.body if isinstance(stmt, ast.Assign)]
    assert bindings
    for stmt in bindings:
        (target,) = stmt.targets
        call = stmt.value
        assert isinstance(call, ast.Call) and call.func.id == "lapack_routine"
        name, n_args = (arg.value for arg in call.args)
        assert target.id == name and declared[name] == n_args, name
    library = RuntimeLibrary()
    assert all(library.is_binding(stmt.targets[0].id) for stmt in bindings)
    assert library.is_binding("lapack_routine") and not library.is_binding("gees_real")
    closure = library.closure("gees_real")
    assert set(closure) == {"lapack_routine", "sgees", "dgees", "fortran_char",
                            "double_precision", "fortran_int", "workspace_size",
                            "gees_real"}
    assert closure.index("lapack_routine") < closure.index("dgees")
    assert closure[-1] == "gees_real"


CROSS_PROCESS = """
import importlib.util, json, sys
import numpy as np
spec = importlib.util.spec_from_file_location("decomp_module", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
rng = np.random.default_rng(0)
a, b, c = rng.normal(size=(4, 4)), rng.normal(size=(3, 3)), rng.normal(size=(4, 3))
results = [module.kernel(a, b, c).tolist()]
print(json.dumps({"hits": sum(module.kernel.stats.cache_hits.values()),
                  "misses": sum(module.kernel.stats.cache_misses.values()),
                  "results": results}))
"""


def test_cached_lapack_bindings_work_in_the_next_process(tmp_path):
    """A module that binds LAPACK routines, imported by two fresh processes with
    one Numba cache: the first compiles and writes the cache, the second loads
    the machine code from it (SciPy's routines at other addresses there, as
    address-space randomisation moves them), and both compute the same."""
    a, b, c = pt.matrix("a"), pt.matrix("b"), pt.matrix("c")
    module_path = tmp_path / "decomp_module.py"
    module_path.write_text(source_of([a, b, c], [L.solve_sylvester(a, b, c)]))
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(CROSS_PROCESS))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}

    def run():
        done = subprocess.run([sys.executable, str(script), str(module_path)], env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        import json

        return json.loads(done.stdout.splitlines()[-1])

    cold, warm = run(), run()
    assert cold["hits"] == 0 and cold["misses"] == 1
    assert warm["hits"] == 1 and warm["misses"] == 0
    np.testing.assert_array_equal(warm["results"], cold["results"])
    rng = np.random.default_rng(0)
    a_val, b_val, c_val = (rng.normal(size=s) for s in [(4, 4), (3, 3), (4, 3)])
    x = np.asarray(warm["results"][0])
    np.testing.assert_allclose(a_val @ x + x @ b_val, c_val, atol=1e-10)
