"""Reductions: Sum, Prod, Max, Min, All, Any over every subset of the axes of a 3-d
tensor (trailing axes take the scalar-accumulator path, the others accumulate into the
output), integer and bool inputs and their accumulator dtypes, and Argmax.
"""

import re

import numpy as np
import pytensor.tensor as pt
import pytest
from chunked import compare_chunked
from comments import fused_reductions, standalone_reductions
from oracle import compare
from pytensor.tensor.math import ProdWithoutZeros

# Every subset of the axes of a 3-d tensor; (0, 2) and 0 are not trailing, so they
# accumulate into the output array, the others use a scalar accumulator per row.
AXES = [None, 0, 1, 2, (0, 1), (0, 2), (1, 2), (2, 0, 1)]


def _values(rng, dtype, shape=(3, 4, 5)):
    if dtype == "bool":
        return rng.random(shape) > 0.3
    if np.dtype(dtype).kind in "iu":
        low = 0 if np.dtype(dtype).kind == "u" else -3
        return rng.integers(low, 4, shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


# One module per axis subset: Numba's compile time grows faster than linearly with the
# size of a function, so many small kernels compile faster than one big one.
@pytest.mark.parametrize("axis", AXES, ids=str)
def test_careduce_over_every_axis_subset(rng, axis):
    x = pt.tensor3("x")
    b = pt.tensor3("b", dtype="bool")
    outs = [pt.sum(x, axis=axis), pt.prod(x, axis=axis), pt.max(x, axis=axis),
            pt.min(x, axis=axis), pt.all(b, axis=axis), pt.any(b, axis=axis)]
    xv = _values(rng, "float64")
    xv[1, 2, 3] = np.nan  # max and min propagate NaN
    compare([x, b], outs, [xv, _values(rng, "bool")], rewrite=False)


@pytest.mark.parametrize("axis", [None, 1, (0, 2)], ids=str)
def test_careduce_rewritten(rng, axis):
    # The rewrites fuse elementwise work into the reduction (CAReduce{Composite}),
    # turn min into -max(-x), and all/any of a float into reductions of x != 0.
    x = pt.tensor3("x")
    outs = [pt.sum(pt.exp(x), axis=axis), pt.prod(x * 2, axis=axis),
            pt.max(x, axis=axis), pt.min(x, axis=axis), pt.all(x, axis=axis),
            pt.any(x > 0.5, axis=axis)]
    compare([x], outs, [_values(rng, "float64")], rewrite=True)


@pytest.mark.parametrize("dtype, rewrite", [
    ("float32", True), ("int8", False), ("uint8", True), ("bool", True),
])
def test_careduce_dtypes(rng, dtype, rewrite):
    # Integer sums and products accumulate in (u)int64, float32 stays float32.
    x = pt.tensor3("x", dtype=dtype)
    outs = []
    for axis in (None, (0, 2)):
        outs += [pt.sum(x, axis=axis), pt.max(x, axis=axis), pt.min(x, axis=axis)]
        if dtype != "bool":
            outs.append(pt.prod(x, axis=axis))
    compare([x], outs, [_values(rng, dtype)], rewrite=rewrite)


@pytest.mark.parametrize("rewrite", [True, False])
def test_reduction_variants(rng, rewrite):
    x = pt.tensor3("x")
    m = pt.lmatrix("m")
    f = pt.fmatrix("f")
    b = pt.matrix("b", dtype="bool")
    r = pt.tensor("r", shape=(None, 1, None))
    c = pt.matrix("c", dtype="complex128")
    z = pt.vector("z")
    outs = [
        pt.sum(x, axis=(0, 2), keepdims=True), pt.max(x, axis=1, keepdims=True),
        pt.mean(x, axis=(0, 2)), pt.var(f, axis=1),
        pt.sum(m, axis=0, dtype="int8"), pt.sum(m, acc_dtype="float64"),
        pt.mean(b), pt.sum(b, axis=1),
        pt.sum(r, axis=1), pt.max(r, axis=(0, 1)),  # over a broadcastable axis
        pt.sum(x.transpose(2, 0, 1), axis=1),  # a non-contiguous input
        # a complex sum into a real result keeps the real part, as NumPy casts
        pt.sum(c, axis=1, dtype="float64"), pt.sum(c, dtype="float64"),
        ProdWithoutZeros(axis=None)(z), ProdWithoutZeros(axis=None)(z[:2]),
    ]
    values = [_values(rng, "float64"), _values(rng, "int64", (4, 5)),
              _values(rng, "float32", (4, 5)), _values(rng, "bool", (4, 5)),
              _values(rng, "float64", (3, 1, 5)),
              _values(rng, "float64", (4, 5)) + 1j * _values(rng, "float64", (4, 5)),
              np.array([0.0, 0.0, 2.0, -3.0, 0.0])]
    compare_chunked([x, m, f, b, r, c, z], outs, values, rewrite=rewrite)


@pytest.mark.parametrize("dtype, rewrite", [("float64", True), ("float64", False),
                                            ("int32", False)])
def test_argmax(rng, dtype, rewrite):
    x = pt.tensor3("x", dtype=dtype)
    outs = [pt.argmax(x, axis=a) for a in (None, 0, 1, (0, 2))]
    values = [_values(rng, dtype)]
    if dtype == "float64":  # ties (the first one wins), keepdims, a transposed input
        m = pt.matrix("m")
        outs += [pt.argmax(m, axis=1, keepdims=True), pt.argmax(m.T, axis=1),
                 pt.argmin(x, axis=2)]
        mv = _values(rng, dtype, (4, 5))
        mv[0, 0] = mv[0, 3] = mv[2, 0] = 9.0
        return compare([x, m], outs, [*values, mv], rewrite=rewrite)
    compare([x], outs, values, rewrite=rewrite)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int8", "bool"])
def test_a_full_reduction_is_accumulated_in_the_loop_that_feeds_it(rng, dtype):
    """An Elemwise result read only by a full reduction is never stored: the
    reduction's accumulator is updated in the Elemwise's loop.  Accumulator dtypes
    (int8 sums in int64, float32 in float32), every reduction kind, two
    reductions of one fused Composite, and a result that is also returned."""
    x = pt.tensor("x", dtype=dtype, shape=(None, None))
    y = pt.tensor("y", dtype=dtype, shape=(None, None))
    if dtype == "bool":
        outs = [pt.all(x & y), pt.any(x ^ y), pt.sum(x | y), pt.all(~x)]
        values = [rng.random((3, 4)) > 0.5, rng.random((3, 4)) > 0.3]
    else:
        a = x * y + 1
        outs = [pt.sum(a), pt.prod(x + 1), pt.max(x - y), pt.min(x * 2),
                pt.sum(x * y), pt.max(x * y), pt.sum(a) + a[0, 0]]
        if dtype.startswith("float"):
            outs += [pt.sum(pt.exp(x) * y) + pt.sum(pt.exp(x) - y), pt.max(pt.abs(x))]
        values = [rng.integers(-3, 4, size=(3, 4)).astype(dtype),
                  rng.integers(-3, 4, size=(3, 4)).astype(dtype)]
    modules = compare_chunked([x, y], outs, values)
    source = "".join(open(m.__file__).read() for m in modules)
    assert fused_reductions(source) >= len(outs) - 1, source  # sum(a) is read twice
    assert not standalone_reductions(source), source


def test_fused_reductions_inside_a_scan_body(rng):
    import pytensor

    xs = pt.matrix("xs")
    s0 = pt.scalar("s0")
    out, _ = pytensor.scan(lambda x_t, s: pt.sum(pt.exp(x_t * s)) / 4 - pt.max((x_t - s) ** 2),
                           sequences=[xs], outputs_info=[s0])
    module = compare([xs, s0], [out], [rng.normal(size=(5, 3)), 0.5])
    assert ", in one loop" in open(module.__file__).read()


@pytest.mark.parametrize("rewrite", [True, False])
def test_row_reductions_are_accumulated_in_the_loop_that_feeds_them(rng, rewrite):
    """Reductions over trailing axes (row sums, a logsumexp's sum) of an Elemwise
    result: one accumulator per row in the Elemwise's loop nest.  Mixed: a
    Composite with a row sum and a full sum of two of its outputs (the full sum's
    accumulator starts before the row loop); a 3-d result reduced over its last
    two axes; float32 and int8 accumulators."""
    x = pt.matrix("x")
    y = pt.matrix("y")
    t = pt.tensor3("t")
    i8 = pt.tensor("i8", dtype="int8", shape=(None, None))
    f32 = pt.tensor("f32", dtype="float32", shape=(None, None))
    e = pt.exp(x) * y
    outs = [pt.sum(x * y, axis=1), pt.max(pt.exp(x) - y, axis=-1), pt.logsumexp(x, axis=1),
            pt.sum(e, axis=1) + pt.sum(pt.log1p(pt.abs(e))),
            pt.sum(t * 2, axis=(1, 2)), pt.prod(t + 1, axis=2),
            pt.sum(i8 * 3, axis=1), pt.sum(f32 * f32, axis=1), pt.min(x * y, axis=0)]
    values = [rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(2, 3, 4)),
              rng.integers(-5, 5, size=(3, 4)).astype("int8"),
              rng.normal(size=(3, 4)).astype("float32")]
    modules = compare_chunked([x, y, t, i8, f32], outs, values, rewrite=rewrite)
    source = "".join(open(m.__file__).read() for m in modules)
    standalone = standalone_reductions(source)
    if not rewrite:  # all but the min over axis 0 (not a trailing axis)
        assert fused_reductions(source) == 9 and standalone == ["Max{axis=0}"], source
    else:
        # The rewrites move some elementwise work out of the reduced loops (sum(t * 2)
        # becomes 2 * sum(t)), so that Max{axis=1} (logsumexp's max), the sums of
        # i8 and t (and PyTensor 3's CAReduce{Composite} of f32) read inputs.
        pt3_careduce = sum(c.startswith("CAReduce") for c in standalone)
        assert fused_reductions(source) >= 6 - pt3_careduce, source
        assert all(re.match(r"Max\{axis=[01]\}|Sum\{axis=1\}|Sum\{axes=\[1, 2\]\}|CAReduce",
                            c) for c in standalone), standalone
