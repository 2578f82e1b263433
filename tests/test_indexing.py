"""Advanced indexing: integer arrays on one or several axes, mixed with slices, integers
and new axes; boolean masks; increments and sets with repeated indices; the gradients
PyMC's group-indexed (hierarchical) models produce; and the errors PyTensor raises for
out-of-bounds indices and mismatched shapes.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import REFERENCE_MODE, compare, reference, transpile_module


def _values(rng, dtype, shape):
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-5, 6, shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


def _variables(dtype="float64"):
    return dict(
        x=pt.vector("x", dtype=dtype), X=pt.matrix("X", dtype=dtype),
        T=pt.tensor3("T", dtype=dtype), idx=pt.lvector("idx"), jdx=pt.ivector("jdx"),
        m=pt.vector("m", dtype="bool"), M=pt.matrix("M", dtype="bool"),
        s=pt.lscalar("s"), y=pt.vector("y", dtype=dtype),
    )


def _values_for(rng, variables):
    values = dict(
        x=(8,), X=(6, 5), T=(5, 6, 5), y=(6,),
        idx=np.array([0, 4, -1, 2, 2, 0], dtype=np.int64),  # repeated and negative
        jdx=np.array([4, 0, 0, -5, 1, 3], dtype=np.int32),
        m=np.array([True, False, True, False, False, True, False, False]),
        M=rng.random((6, 5)) > 0.5, s=np.int64(-2),
    )
    return [values[k] if not isinstance(values[k], tuple)
            else _values(rng, v.type.dtype, values[k]) for k, v in variables.items()]


def _reads(x, X, T, idx, jdx, m, M, s, y):
    return [
        X[idx, jdx], X[idx, 1:], X[1:, idx], T[:, idx, jdx], T[idx, :, jdx], T[idx, 1],
        T[s, :, idx], T[1:, s, idx], T[::-1, idx], x[idx.reshape((2, 3))],
        X[idx.reshape((2, 3)), jdx[:3]], X[None, idx], x[[0, 2, 2, -1]], X[M],
        X[m[:6]], T[:, M], T[M.T], X[idx[:1].reshape((1, 1)), jdx.reshape((2, 3))],
        T[s:, idx], T[:s:-1, 1, idx], X[idx, s - 1::s],  # slices with symbolic bounds
    ]


def _updates(x, X, T, idx, jdx, m, M, s, y):
    return [
        pt.set_subtensor(x[idx], y[0]), pt.inc_subtensor(X[idx], X[:6]),
        pt.set_subtensor(X[idx, jdx], y), pt.inc_subtensor(X[idx, 1:], X[:6, 1:]),
        pt.inc_subtensor(T[idx, :, jdx], pt.outer(y, y)),
        pt.inc_subtensor(T[s, :, idx], 1), pt.inc_subtensor(X[M], 1),
        pt.inc_subtensor(x[idx], y, ignore_duplicates=True),
        pt.inc_subtensor(T[:, idx, jdx], X.T),
        pt.inc_subtensor(T[idx, s:, ::-s], 1.5),
    ]


def _rewritten(x, X, T, idx, jdx, m, M, s, y):
    """What the rewrites turn into AdvancedSubtensor1, AdvancedIncSubtensor1 and
    Nonzero (on transposed operands for columns)."""
    return [
        x[idx], X[idx], X[:, idx], X[idx][:, jdx], x[m], X[:, m[:5]], X[M],
        pt.inc_subtensor(x[idx], y), pt.set_subtensor(x[idx], y),
        pt.inc_subtensor(x[idx], 2), pt.inc_subtensor(X[idx], x[:5]),
        pt.inc_subtensor(X[:, idx], pt.outer(y, y)),
        pt.set_subtensor(X[:, idx], pt.specify_shape(y[:1], (1,))),
        pt.inc_subtensor(x[m], y[:3]), pt.set_subtensor(X[:, m[:5]], 5),
        pt.inc_subtensor(X[idx, jdx], y),
    ]


@pytest.mark.parametrize("rewrite", [True, False])
def test_reads_and_updates(rng, rewrite):
    variables = _variables()
    outputs = _rewritten(**variables)
    if not rewrite:  # these stay AdvancedSubtensor and AdvancedIncSubtensor either way
        outputs += _reads(**variables) + _updates(**variables)
    values = _values_for(rng, variables)
    compare(list(variables.values()), outputs, values, rewrite=rewrite)


def test_dtypes(rng):
    """float32, int64 and uint8 data, int8 and uint16 indices."""
    outputs, inputs, values = [], [], []
    for dtype in ("float32", "int64", "uint8"):
        x = pt.vector(f"x_{dtype}", dtype=dtype)
        X = pt.matrix(f"X_{dtype}", dtype=dtype)
        i8 = pt.vector(f"i8_{dtype}", dtype="int8")
        u16 = pt.vector(f"u16_{dtype}", dtype="uint16")
        last = pytensor.grad(pt.sum(x[i8] ** 2), x) if dtype == "float32" else x[x > 1]
        outputs += [x[i8], X[:, u16], X[i8, u16], pt.inc_subtensor(x[i8], x[:4]),
                    pt.set_subtensor(X[u16], X[0]), pt.inc_subtensor(X[i8, 1:], 3),
                    last]
        inputs += [x, X, i8, u16]
        low = 0 if dtype == "uint8" else -5
        values += [rng.integers(low, 6, 7).astype(dtype),
                   rng.integers(low, 6, (5, 4)).astype(dtype),
                   np.array([0, -1, 3, 3], dtype="int8"),
                   np.array([3, 0, 0, 1], dtype="uint16")]
    compare(inputs, outputs, values, rewrite=True)


@pytest.mark.parametrize("rewrite", [True, False])
def test_hierarchical_gradients(rng, rewrite):
    """The logp of a group-indexed normal model and its gradient (how PyMC's
    hierarchical models index parameters by group)."""
    mu = pt.vector("mu")
    log_sigma = pt.vector("log_sigma")
    beta = pt.matrix("beta")
    group = pt.lvector("group")
    other = pt.lvector("other")
    data = pt.vector("data")
    features = pt.matrix("features")
    pred = mu[group] + pt.sum(beta[group, :] * features, axis=1) + beta[group, other]
    sigma = pt.exp(log_sigma)[group]
    logp = pt.sum(-0.5 * ((data - pred) / sigma) ** 2 - pt.log(sigma))
    grads = pytensor.grad(logp, [mu, log_sigma, beta])
    cols = pt.exp(beta[:, other]).sum() + (beta[1:, other] ** 2).sum()
    grads += pytensor.grad(cols, [beta])
    values = [rng.normal(size=4), rng.normal(size=4), rng.normal(size=(4, 3)),
              rng.integers(0, 4, 20), rng.integers(-3, 3, 20), rng.normal(size=20),
              rng.normal(size=(20, 3))]
    compare([mu, log_sigma, beta, group, other, data, features], [logp, *grads], values,
            rewrite=rewrite)


def _raises_like_pytensor(module, inputs, outputs, values) -> type:
    """PyTensor and the generated module raise the same exception type."""
    with pytest.raises(Exception) as want:
        reference(inputs, outputs, values)
    with pytest.raises(want.type):
        module.kernel(*values)
    return want.type


@pytest.mark.parametrize("rewrite", [True, False])
def test_errors(rng, rewrite):
    x, X, y = pt.vector("x"), pt.matrix("X"), pt.vector("y")
    idx, jdx, m = pt.lvector("idx"), pt.lvector("jdx"), pt.vector("m", dtype="bool")
    xv, Xv, yv = rng.normal(size=5), rng.normal(size=(3, 4)), rng.normal(size=3)
    good, jgood = np.array([0, 4, -5]), np.array([1, 2, 3])

    vector = [x, idx, y], [x[idx], pt.inc_subtensor(x[idx], y),
                           pt.set_subtensor(x[idx], y)]
    module = compare(*vector, [xv, good, yv], rewrite=rewrite)  # indices at the edges
    for bad in (np.array([0, 5, 1]), np.array([-6, 0, 0])):
        assert _raises_like_pytensor(module, *vector, [xv, bad, yv]) is IndexError
    # an increment of the wrong length
    assert _raises_like_pytensor(module, *vector, [xv, good, yv[:2]]) is ValueError

    matrix = [X, idx, jdx], [X[idx, jdx], X[:, jdx]]
    module = transpile_module(*matrix, rewrite=rewrite)
    for rows, cols in [(np.array([0, 1, 3]), jgood), (good[:1], np.array([0, 4])),
                       (np.array([0, 1]), jgood)]:  # the last do not broadcast
        assert _raises_like_pytensor(module, *matrix, [Xv, rows, cols]) is IndexError
    if not rewrite:  # the rewrite turns x[m] into x[nonzero(m)], which checks nothing
        masked = [x, m], [x[m]]
        module = transpile_module(*masked, rewrite=rewrite)
        short = np.array([True, False])
        assert _raises_like_pytensor(module, *masked, [xv, short]) is IndexError


def test_index_arrays_broadcast_at_run_time(rng):
    """Index arrays whose static shapes leave a length open broadcast as NumPy's do
    when that length is 1 at run time, and a real mismatch raises IndexError."""
    x = pt.matrix("x")
    rows = pt.lmatrix("rows")
    cols = pt.lvector("cols")
    out = x[rows, cols]
    values = [rng.normal(size=(5, 4))]
    for r, c in [(np.array([[1], [3]]), np.array([0, 2, 3])),
                 (np.array([[2]]), np.array([0, 1])),
                 (np.array([[0, 1, 2]]), np.array([3])),
                 (np.zeros((2, 0), dtype=np.int64), np.array([1]))]:
        compare([x, rows, cols], [out], [*values, r, c])
    module = transpile_module([x, rows, cols], [out])
    bad = [*values, np.array([[0, 1]]), np.array([0, 1, 2])]
    with pytest.raises(IndexError):
        pytensor.function([x, rows, cols], out, mode=REFERENCE_MODE)(*bad)
    with pytest.raises(IndexError, match="could not be broadcast"):  # as NumPy raises
        module.kernel(*bad)
