"""Split, cumulative sums and products, diagonals (extracted and allocated), Eye,
Repeat, Sort and ArgSort: along every axis, in several dtypes, with their gradients and
the errors PyTensor raises at run time.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import compare, reference, transpile_module
from pytensor.tensor.basic import alloc_diag


def _raises_like_pytensor(module, inputs, outputs, values) -> type:
    with pytest.raises(Exception) as want:
        reference(inputs, outputs, values)
    with pytest.raises(want.type):
        module.kernel(*values)
    return want.type


@pytest.mark.parametrize("rewrite", [True, False])
def test_split_and_cumulative(rng, rewrite):
    x = pt.vector("x")
    X = pt.matrix("X")
    T = pt.tensor3("T", dtype="float32")
    n = pt.ivector("n")
    k = pt.lscalar("k")
    outs = [
        *pt.split(x, [2, 0, 3], n_splits=3), *pt.split(X, n, n_splits=2, axis=1),
        *pt.split(T, pt.stack([k, 4 - k]), n_splits=2, axis=-1),
        pt.cumsum(x), pt.cumprod(x), pt.cumsum(X, axis=0), pt.cumprod(X, axis=1),
        pt.cumsum(X), pt.cumsum(T, axis=1), pt.cumprod(T, axis=-1),
        pt.cumsum(n), pt.cumsum(pt.exp(x)) * 2,  # updates an array of its own in place
        *pytensor.grad(pt.sum(pt.cumprod(X, axis=1) * pt.cumsum(X, axis=0)) + pt.sum(
            pt.split(x, [2, 3], n_splits=2)[1] ** 2), [X, x]),
    ]
    values = [rng.normal(size=5), rng.normal(size=(3, 4)),
              rng.normal(size=(2, 3, 4)).astype("float32"),
              np.array([1, 3], dtype="int32"), np.int64(3)]
    compare([x, X, T, n, k], outs, values, rewrite=rewrite)


@pytest.mark.parametrize("rewrite", [True, False])
def test_diagonals_eye_repeat(rng, rewrite):
    X = pt.matrix("X")
    S = pt.tensor("S", shape=(3, 5), dtype="float32")
    T = pt.tensor3("T")
    v = pt.vector("v")
    V = pt.imatrix("V")
    r = pt.lvector("r")
    n = pt.lscalar("n")
    outs = [
        pt.diagonal(X), pt.diagonal(X, 1), pt.diagonal(X, -2), pt.diagonal(X, 7),
        pt.diagonal(S, 2), pt.diagonal(T, 1, 0, 2), pt.diagonal(T, -1, 2, 1),
        pt.diag(v), pt.diag(v, 2), pt.diag(v, -1), pt.diag(V[0]),
        alloc_diag(V, offset=1, axis1=0, axis2=2),
        pt.eye(n), pt.eye(n, 4, 1), pt.eye(3, n, -1, dtype="int32"),
        pt.repeat(v, r), pt.repeat(X, r[:4], axis=0), pt.repeat(T, r[:4], axis=1),
        pt.repeat(X, pt.specify_shape(r[:1], (1,)), axis=1),
        *pytensor.grad(pt.sum(pt.diagonal(X, 1) ** 2) + pt.sum(pt.diag(v) * X[:4, :4])
                       + pt.sum(pt.repeat(v, r) ** 2), [X, v]),
    ]
    values = [rng.normal(size=(4, 5)), rng.normal(size=(3, 5)).astype("float32"),
              rng.normal(size=(3, 4, 5)), rng.normal(size=4),
              rng.integers(-5, 5, (2, 3)).astype("int32"), np.array([2, 0, 1, 3]),
              np.int64(3)]
    compare([X, S, T, v, V, r, n], outs, values, rewrite=rewrite)


@pytest.mark.parametrize("rewrite", [True, False])
def test_sort_and_argsort(rng, rewrite):
    x = pt.vector("x")
    X = pt.matrix("X", dtype="float32")
    T = pt.tensor3("T", dtype="int64")
    outs = [
        pt.sort(x), pt.argsort(x), pt.sort(X), pt.sort(X, axis=0),
        pt.sort(X, axis=None), pt.argsort(X, axis=0), pt.argsort(X, axis=1),
        pt.sort(T, axis=1),
        pt.argsort(T, axis=0, stable=True), pt.argsort(T, axis=None, kind="mergesort"),
        pytensor.grad(pt.sum(pt.sort(x) * pt.arange(5)), x),
    ]
    values = [rng.permutation(5) / 2.0, rng.normal(size=(3, 4)).astype("float32"),
              rng.integers(0, 3, (2, 3, 4))]  # ties, sorted stably
    compare([x, X, T], outs, values, rewrite=rewrite)
    y = pt.vector("y")
    special = np.array([2.0, np.nan, -1.0, np.inf, 0.5])
    compare([y], [pt.sort(y)], [special], rewrite=rewrite)


def test_errors(rng):
    x = pt.vector("x")
    n = pt.lvector("n")
    r = pt.lvector("r")
    inputs, outputs = [x, n, r], [*pt.split(x, n, n_splits=2), pt.repeat(x, r)]
    xv = rng.normal(size=4)
    module = compare(inputs, outputs, [xv, np.array([1, 3]), np.array([1, 0, 2, 1])])
    for bad_split, bad_repeats in [
        (np.array([1, 2]), np.array([1, 1, 1, 1])),  # sizes do not sum to the length
        (np.array([-1, 5]), np.array([1, 1, 1, 1])),  # a negative size
        (np.array([1, 1, 2]), np.array([1, 1, 1, 1])),  # too many sizes
        (np.array([1, 3]), np.array([1, -1, 1, 1])),  # a negative count
        (np.array([1, 3]), np.array([1, 1, 1])),  # too few counts
    ]:
        assert _raises_like_pytensor(module, inputs, outputs,
                                     [xv, bad_split, bad_repeats]) is ValueError
    split_only = [x, n], pt.split(x, n, n_splits=2)
    module = transpile_module(*split_only)
    too_long = np.array([2, 3])
    assert _raises_like_pytensor(module, *split_only, [xv, too_long]) is ValueError
