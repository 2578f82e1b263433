"""Elemwise loop nests and DimShuffle views: broadcasting decided from static shapes,
0-d inputs in every form the contract accepts, fused multi-output Composites, and
DimShuffle's transposes, new axes and dropped broadcastable axes in 2 to 4 dimensions.
"""

import re
from pathlib import Path

import numpy as np
import pytensor.tensor as pt
import pytest
from chunked import compare_chunked
from oracle import compare, transpile_module


@pytest.mark.parametrize("rewrite", [True, False])
def test_broadcasting_from_static_shapes(rng, rewrite):
    a = pt.matrix("a")
    r = pt.tensor("r", shape=(1, None))
    c = pt.tensor("c", shape=(None, 1))
    q = pt.tensor("q", shape=(1, 1))
    v = pt.vector("v")
    s = pt.scalar("s")
    t3 = pt.tensor3("t3")
    m3 = pt.tensor("m3", shape=(None, 1, None))
    b4 = pt.tensor("b4", shape=(1, None, 1, None))
    i = pt.lvector("i")
    k = pt.tensor("k", shape=(3, 4))  # static lengths: checked against the others
    outs = [
        a + r, a * c, r + c, r * c * s, q + a, q * r, v + a, a - v * s, c + v, s + v,
        m3 * a, t3 + m3, t3 * r, t3 + v, b4 + m3, b4 * t3, b4 * s,
        pt.exp(r) + i,  # int + float
        a + np.arange(4.0),  # a constant array operand
        r + 1.0, q * 2,  # every dimension broadcastable
        k + a, k * r, k * v,
    ]
    values = [
        rng.normal(size=(3, 4)), rng.normal(size=(1, 4)), rng.normal(size=(3, 1)),
        rng.normal(size=(1, 1)), rng.normal(size=4), 1.5, rng.normal(size=(2, 3, 4)),
        rng.normal(size=(2, 1, 4)), rng.normal(size=(1, 2, 1, 4)),
        rng.integers(-5, 5, size=4), rng.normal(size=(3, 4)),
    ]
    compare_chunked([a, r, c, q, v, s, t3, m3, b4, i, k], outs, values, rewrite=rewrite)


def test_mismatched_shapes_raise(rng):
    a, b = pt.matrix("a"), pt.matrix("b")
    module = transpile_module([a, b], [pt.exp(a) + b], rewrite=False)
    with pytest.raises((ValueError, AssertionError)):
        module.kernel(rng.normal(size=(3, 4)), rng.normal(size=(3, 5)))
    with pytest.raises((ValueError, AssertionError)):
        module.kernel(rng.normal(size=(3, 4)), rng.normal(size=(1, 4)))  # not static 1


def test_scalar_inputs_in_every_form(rng):
    x = pt.vector("x")
    s = pt.scalar("s")
    k = pt.lscalar("k")
    f = pt.fscalar("f")
    b = pt.scalar("b", dtype="bool")
    outs = [x * s + k, f * 2, x * f, pt.switch(b, x, s), s * k, f + k]
    xv = rng.normal(size=5)
    for sv, kv, fv, bv in [
        (1.5, 3, 0.25, True),  # Python numbers
        # NumPy scalars
        (np.float64(1.5), np.int64(-3), np.float32(0.25), np.bool_(False)),
        # 0-d arrays
        (np.array(1.5), np.array(7), np.array(0.25, dtype="float32"), np.array(True)),
        (np.float32(2.5), np.int32(4), 2, 0),  # other dtypes of the same kind
    ]:
        compare([x, s, k, f, b], outs, [xv, sv, kv, fv, bv])


@pytest.mark.parametrize("rewrite", [True, False])
def test_composite_with_multiple_outputs(rng, rewrite):
    x, y = pt.matrix("x"), pt.matrix("y")
    z = pt.tensor("z", shape=(1, None))
    e = pt.exp(x * y)
    outs = [e + 1, e * z, pt.log1p(e) - z, x * y - z, pt.switch(e > 1, x, y),
            pt.cast(e > 2, "int8")]
    module = compare([x, y, z], outs, [rng.normal(size=(3, 4)), rng.normal(size=(3, 4)),
                                       rng.normal(size=(1, 4))], rewrite=rewrite)
    if rewrite:  # the rewrites fuse all six into one loop nest
        source = Path(module.__file__).read_text()
        assert source.count("for i in range(") == 1, source


@pytest.mark.parametrize("rewrite", [True, False])
def test_dimshuffle(rng, rewrite):
    x = pt.matrix("x")
    x3 = pt.tensor3("x3")
    x4 = pt.tensor4("x4")
    b3 = pt.tensor("b3", shape=(1, None, 1))
    b4 = pt.tensor("b4", shape=(None, 1, None, 1))
    s = pt.scalar("s")
    outs = [
        # transposes, returned directly (views of inputs: must come back as copies)
        x.T, x3.transpose(2, 0, 1), x3.transpose(1, 2, 0), x4.transpose(3, 1, 0, 2),
        x4.transpose(0, 1, 3, 2),
        # new axes
        x[None], x[:, None], x.dimshuffle("x", 1, "x", 0), x3.dimshuffle(0, "x", 1, 2),
        # broadcastable axes dropped, alone and with a transpose or new axes
        b3.dimshuffle(1), b3.dimshuffle(1, "x"), b3.dimshuffle("x", 1, 0),
        b4.dimshuffle(2, 0), b4.dimshuffle(2, "x", 0, "x"), b4.dimshuffle(0, 2),
        # a scalar gaining axes
        s.dimshuffle("x", "x"), s.dimshuffle("x") + x3.sum(),
        # consumed by Elemwise
        x.T * x.T, x3.transpose(2, 0, 1) + x3.dimshuffle(2, 0, "x", 1).sum(axis=3),
        x4.transpose(3, 1, 0, 2) * x4.dimshuffle(3, 1, 0, 2),
    ]
    values = [rng.normal(size=(3, 4)), rng.normal(size=(2, 3, 4)),
              rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(1, 3, 1)),
              rng.normal(size=(2, 1, 3, 1)), 0.5]
    compare_chunked([x, x3, x4, b3, b4, s], outs, values, rewrite=rewrite)


def test_float32_inputs_stay_float32(rng):
    x, y = pt.fmatrix("x"), pt.frow("y")
    s = pt.fscalar("s")
    outs = [x * y + s, pt.exp(x) / (1 + y), x * 0.5, (x - y) ** 2, pt.sqrt(abs(x)) * s]
    for out in outs:
        assert out.dtype == "float32"
    compare([x, y, s], outs, [rng.normal(size=(3, 4)).astype("float32"),
                              rng.normal(size=(1, 4)).astype("float32"), 1.25])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softplus_pairs_share_one_exp(rng, dtype):
    """softplus(x), softplus(-x) and sigmoid(x) of one x in a fused Composite (a
    logistic loss and its gradient) come from one softplus_sigmoid call; alone, or
    of different arguments, each keeps its own helper."""
    x = pt.tensor("x", dtype=dtype, shape=(None,))
    y = pt.tensor("y", dtype=dtype, shape=(None,))
    z = pt.tanh(x) * 3 + y
    outs = [pt.softplus(z) - y * pt.softplus(-z), pt.sigmoid(z) * y,  # all three of z
            pt.softplus(x) + pt.softplus(-x),  # two of x
            pt.sigmoid(y + 1), pt.softplus(x - y)]  # alone
    xv = np.concatenate([rng.normal(scale=5.0, size=20),
                         [0.0, 30.0, -30.0, 400.0, -400.0]]).astype(dtype)
    module = compare([x, y], outs, [xv, rng.normal(size=xv.size).astype(dtype)],
                     rewrite=True)
    source = Path(module.__file__).read_text()
    assert source.count("= softplus_sigmoid(") == 2, source
    assert re.search(r"softplus\w*, softplus_neg\w*, sigmoid\w* = softplus_sigmoid\(",
                     source), source  # all three used
    assert "def sigmoid(" in source and "def softplus(" in source


def test_calls_made_in_pytensor_order(rng):
    # Several function calls in one loop body are made in the graph's topological
    # order, the order PyTensor's Numba mode makes them (docs/performance.md).
    x = pt.vector("x")
    out = pt.exp(-x**2) * pt.sin(x) + pt.log1p(pt.abs(x))
    source = Path(transpile_module([x], [out]).__file__).read_text()
    calls = re.findall(r"= math\.(\w+)\(", source)
    assert calls == ["log1p", "sin", "exp"]
    assert re.search(r"\w+\[i\] = exp \* sin \+ log1p", source)
    compare([x], [out], [rng.normal(size=1000)])


def test_one_element_arrays_are_scalars_and_their_join_a_vector(rng):
    """Elementwise work on arrays of static length 1 (what PyMC's gradient joins, one
    per value variable) runs on scalars, and their ``Join`` is one ``np.array([...])``:
    no one-element arrays filled by loops, no ``np.concatenate``.  Mixed dtypes,
    a multi-output Composite's results and a ``MakeVector`` part join too."""
    a, b = pt.dscalar("a"), pt.fscalar("b")
    v = pt.tensor("v", shape=(1,), dtype="float64")
    n = pt.lscalar("n")
    x = pt.vector("x")
    ea, eb = pt.exp(a)[None], pt.log1p(b * b)[None]
    parts = [ea * v + 1.0, pt.sin(eb), (n * 3)[None], pt.stack([a, a * 2.0]), v - ea]
    joined = pt.concatenate(parts)
    total = (x * joined[0] - eb).sum()  # a one-element result broadcast in a loop
    values = [0.3, np.float32(-1.5), np.array([2.0]), np.int64(4), rng.normal(size=5)]
    compare([a, b, v, n, x], [joined, total], values, rewrite=False)
    module = compare([a, b, v, n, x], [joined, total], values)
    source = open(module.__file__).read()  # the rewritten graph's
    assert "np.concatenate" not in source and re.search(r"np.array\(\s*\[", source), source
    assert "np.empty((1,)" not in source, source
