"""The index and set operations of extra_ops (ravel_multi_index, unravel_index,
searchsorted, unique, fill_diagonal, fill_diagonal_offset, bartlett) and
convolve1d, in its modes and batched, with gradients, against PyTensor."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import compare, reference, transpile_module
from pytensor.tensor import extra_ops as eo
from pytensor.tensor.signal import convolve1d
from pytensor.tensor.signal.conv import _blockwise_convolve_1d


def _index_graph():
    i, d = pt.lvector("i"), pt.tensor("d", shape=(2,), dtype="int64")
    j, f = pt.ivector("j"), pt.lmatrix("f")
    j2 = pt.wvector("j2")  # out of range: wrapped, clipped
    x, v, s = pt.vector("x"), pt.matrix("v"), pt.lvector("s")
    X, k, M = pt.matrix("X"), pt.lscalar("k"), pt.iscalar("M")
    w = pt.bscalar("w")
    T = pt.tensor3("T")
    dv = pt.lvector("dv")  # dims of a length known only at run time
    u = pt.vector("u")  # not sorted: the positions NumPy's own search gives
    outs = [
        eo.ravel_multi_index([i, j], d), eo.ravel_multi_index([i, j2], d, mode="wrap", order="F"),
        eo.ravel_multi_index([j2, i], d, mode="clip"), eo.ravel_multi_index([i, j], dv),
        *eo.unravel_index(f, d), *eo.unravel_index(f, d, order="F"), *eo.unravel_index(w, d),
        pt.searchsorted(x, v), pt.searchsorted(x, v, side="right"),
        pt.searchsorted(x, v, sorter=s), pt.searchsorted(x, k),
        pt.searchsorted(u, X), pt.searchsorted(u, X.T, side="right"),
        *eo.unique(v, return_index=True, return_inverse=True, return_counts=True),
        eo.unique(x), *eo.unique(X, return_inverse=True, axis=1),
        *eo.unique(X, return_counts=True, return_index=True, axis=0),
        eo.unique(T, axis=2), eo.unique(x, axis=0),
        eo.fill_diagonal(X, 5.0), eo.fill_diagonal(X.T, k), eo.fill_diagonal(T[:2], 1.0),
        eo.fill_diagonal_offset(X, 2.0, k), eo.fill_diagonal_offset(X, 3.0, -1),
        eo.fill_diagonal_offset(pt.exp(X), 3.0, 2),  # writes into its own fresh array
        eo.bartlett(M), eo.bartlett(k - 4),
    ]
    inputs = [i, j, d, f, x, v, s, X, k, M, w, T, j2, dv, u]
    xs = np.sort(np.array([0.5, 1.0, 1.0, np.nan, 2.0, -np.inf]))
    values = [np.array([1, 0, 2, 3]), np.array([2, 1, 0, 2], "int32"), np.array([4, 3]),
              np.array([[0, 5], [11, 7]]), xs, np.array([[1.0, np.nan], [0.7, 3.0]]),
              np.argsort(xs[::-1]), np.array([[1.0, 2, 1, 2], [3, 4, 3, 5], [1, 2, 1, 2]]),
              np.int64(1), np.int32(5), np.int8(7),
              np.array([[[1.0, 1], [2, 2]], [[1, 1], [2, 3]], [[1, 1], [2, 2]]]),
              np.array([5, -1, 0, -7], "int16"), np.array([4, 3]), np.array([1.5, 3.2, 0.5])]
    return inputs, outs, values


@pytest.mark.parametrize("rewrite", [True, False])
def test_index_and_set_ops(rewrite):
    inputs, outs, values = _index_graph()
    compare(inputs, outs, values, rewrite=rewrite)


def test_index_errors_and_edges():
    """The errors NumPy raises (out-of-bounds coordinates and flat indices, a sorter
    of the wrong length, fill_diagonal of an array whose sides differ), and the
    window of one point and of none."""
    inputs, outs, values = _index_graph()
    module = transpile_module(inputs, outs)
    for position, bad in ((0, np.array([1, 0, 2, 4])), (3, np.array([[0, 12], [1, 2]])),
                          (6, np.arange(3)), (11, np.ones((3, 3, 2)))):
        broken = list(values)
        broken[position] = bad
        with pytest.raises(Exception) as want:
            reference(inputs, outs, broken)
        with pytest.raises(want.type):
            module.kernel(*broken)
    for m in (1, 0, -3):
        edge = list(values)
        edge[9] = np.int32(m)
        got = module.kernel(*edge)[-2]
        np.testing.assert_array_equal(got, reference(inputs, outs, edge)[-2])


def test_convolve1d():
    a, v, A = pt.vector("a"), pt.vector("v"), pt.matrix("A")
    iv, ia, f = pt.bvector("iv"), pt.ivector("ia"), pt.vector("f", dtype="float32")
    full = pt.scalar("full", dtype="bool")
    outs = [
        convolve1d(a, v), convolve1d(a, v, mode="valid"), convolve1d(v, a, mode="valid"),
        convolve1d(a, v, mode="same"), convolve1d(A, v), convolve1d(A, a[:2], mode="valid"),
        convolve1d(iv, ia), convolve1d(f, iv, mode="valid"),
        convolve1d(A, A[::-1], mode="valid"),  # a batch of kernels too
        _blockwise_convolve_1d(a, v, full),
        *pytensor.grad(convolve1d(a, v, mode="valid").sum() + convolve1d(A, v).sum(), [a, v]),
    ]
    values = [np.arange(5.0), np.array([1.0, -2, 0.5]), np.arange(12.0).reshape(3, 4),
              np.array([100, -100, 7], "int8"), np.array([3, 200, -5, 9], "int32"),
              np.linspace(0, 1, 6).astype("float32"), np.True_]
    inputs = [a, v, A, iv, ia, f, full]
    module = compare(inputs, outs, values)
    values[-1] = np.False_  # the mode decided at run time
    np.testing.assert_allclose(module.kernel(*values)[9], reference(inputs, outs, values)[9])
