"""Tensor construction and plumbing: Alloc, AllocEmpty, MakeVector, Join, ARange,
DeepCopyOp, ViewOp, TensorFromScalar / ScalarFromTensor, and the checks (Assert,
CheckAndRaise) raising the exception type PyTensor raises.
"""

import numpy as np
import pytensor.tensor as pt
import pytest
from chunked import compare_chunked
from oracle import compare, transpile_module
from pytensor.compile.ops import deep_copy_op, view_op
from pytensor.raise_op import Assert, CheckAndRaise


@pytest.mark.parametrize("rewrite", [True, False])
def test_alloc(rng, rewrite):
    n, m = pt.lscalar("n"), pt.lscalar("m")
    s = pt.scalar("s")
    v = pt.vector("v")
    i = pt.bscalar("i")
    x = pt.matrix("x")
    outs = [
        pt.alloc(s, n, m), pt.alloc(v, n, 3), pt.alloc(v, 2, n, 3), pt.alloc(i, n),
        pt.alloc(np.float32(1.5), m, 2), pt.zeros((n, m)),
        pt.ones((2, n), dtype="int8"), pt.full((n,), 7, dtype="int32"),
        pt.zeros_like(x), pt.ones_like(v, dtype="bool"),
        pt.alloc(s, n, m) * x,  # consumed by Elemwise
        pt.alloc(x[0], 2, 3),  # a row broadcast down
        pt.alloc(s),  # 0-d
    ]
    values = [np.int64(2), np.int64(3), 0.5, rng.normal(size=3), np.int8(-3),
              rng.normal(size=(2, 3))]
    compare_chunked([n, m, s, v, i, x], outs, values, rewrite=rewrite)


def test_alloc_empty_gives_shape_and_dtype():
    # The contents are uninitialised: only shapes and dtypes can be compared.
    n = pt.lscalar("n")
    dtypes = ("float64", "int32", "bool")
    empties = [pt.empty((n, 3), dtype=dtype) for dtype in dtypes]
    module = transpile_module([n], [*empties, empties[0].shape], rewrite=False)
    *outs, shape = module.kernel(4)
    for out, dtype in zip(outs, dtypes, strict=True):
        assert out.dtype == np.dtype(dtype) and out.shape == (4, 3)
    assert list(shape) == [4, 3]


@pytest.mark.parametrize("rewrite", [True, False])
def test_make_vector_and_scalar_tensor_conversions(rewrite):
    a, b = pt.scalar("a"), pt.scalar("b")
    i = pt.lscalar("i")
    k = pt.bscalar("k")
    f = pt.fscalar("f")
    outs = [pt.stack([a, b, a * b]), pt.as_tensor([i, i + 1]), pt.stack([i, k]),
            pt.stack([a, i]), pt.stack([f, f * 2]), pt.stack([k, k]),
            pt.stack([f, a]), pt.stack([a])]
    values = [0.5, -2.0, np.int64(3), np.int8(-4), np.float32(1.25)]
    compare([a, b, i, k, f], outs, values, rewrite=rewrite)


@pytest.mark.parametrize("rewrite", [True, False])
def test_join(rng, rewrite):
    x, y = pt.tensor3("x"), pt.tensor3("y")
    i = pt.tensor3("i", dtype="int32")
    b = pt.tensor3("b", dtype="bool")
    u, w = pt.vector("u"), pt.lvector("w")
    outs = [
        pt.concatenate([x, y], axis=0), pt.concatenate([x, y, x], axis=1),
        pt.concatenate([x, y], axis=2), pt.concatenate([x, y], axis=-1),
        pt.concatenate([x, i], axis=0), pt.concatenate([i, b], axis=1),  # mixed dtypes
        pt.concatenate([i, i], axis=2), pt.concatenate([u, w]), pt.concatenate([u]),
        pt.concatenate([x.transpose(0, 2, 1), y], axis=1),  # a non-contiguous part
        pt.stack([u, u], axis=1), pt.concatenate([x, y], axis=1).sum(),
    ]
    values = [rng.normal(size=(2, 3, 3)), rng.normal(size=(2, 3, 3)),
              rng.integers(-5, 5, (2, 3, 3)).astype("int32"),
              rng.random((2, 3, 3)) > 0.5,
              rng.normal(size=3), rng.integers(0, 9, 4)]
    compare_chunked([x, y, i, b, u, w], outs, values, rewrite=rewrite)


def test_join_on_a_symbolic_axis(rng):
    x, y = pt.matrix("x"), pt.matrix("y")
    axis = pt.lscalar("axis")
    out = pt.join(axis, x, y)
    values = [rng.normal(size=(3, 3)), rng.normal(size=(3, 3))]
    for a in (0, 1, -1):
        compare([axis, x, y], [out], [np.int64(a), *values], rewrite=False)


@pytest.mark.parametrize("rewrite", [True, False])
def test_arange(rewrite):
    n = pt.lscalar("n")
    k = pt.iscalar("k")
    start, stop, step = pt.scalar("start"), pt.scalar("stop"), pt.scalar("step")
    outs = [pt.arange(n), pt.arange(2, n), pt.arange(n, -6, -2), pt.arange(k),
            pt.arange(k, dtype="int8"), pt.arange(start, stop, step),
            pt.arange(stop, start, -step), pt.arange(0.5, n),
            pt.arange(n, dtype="float32"),
            pt.arange(n) * start]
    compare([n, k, start, stop, step], outs,
            [np.int64(7), np.int32(4), -1.0, 2.25, 0.5], rewrite=rewrite)


def test_deep_copy_and_view_ops(rng):
    x = pt.matrix("x")
    s = pt.scalar("s")
    outs = [deep_copy_op(x), view_op(x), deep_copy_op(s), view_op(x) * 2,
            deep_copy_op(pt.exp(x)), x]
    compare([x, s], outs, [rng.normal(size=(2, 3)), 1.5], rewrite=False)


class ParameterError(ValueError):
    pass


@pytest.mark.parametrize("rewrite", [True, False])
def test_assert_and_check_and_raise(rng, rewrite):
    x = pt.vector("x")
    n = pt.lscalar("n")
    checked = Assert("x must be positive")(x, pt.all(x > 0))
    two = CheckAndRaise(ValueError, "n must be small")(x * 2, pt.lt(n, 5), pt.gt(n, 0))
    custom = CheckAndRaise(ParameterError, "bad parameter")(pt.sum(x), pt.neq(n, 3))
    # ParameterError is this file's own class: the graph file names it, so loading
    # the file needs this module trusted, as a user's own Op would.
    module = compare([x, n], [pt.log(checked), two, custom], [rng.random(4) + 0.1, 2],
                     rewrite=rewrite, allow_modules=["test_basic"])
    with pytest.raises(AssertionError, match="x must be positive"):
        module.kernel(-rng.random(4), 2)
    with pytest.raises(ValueError, match="n must be small"):
        module.kernel(rng.random(4) + 0.1, 7)
    with pytest.raises(ValueError, match="n must be small"):
        module.kernel(rng.random(4) + 0.1, 0)
    with pytest.raises(ValueError, match="bad parameter") as info:
        module.kernel(rng.random(4) + 0.1, 3)
    assert type(info.value).__name__ == "ParameterError"  # the module's own class
