"""Scalar Ops, through Elemwise: every entry of the scalar lowering table, each dtype
family, with and without PyTensor's rewrites (which fuse the outputs of one graph into
a multi-output Composite, so both the one-loop-per-node and the fused code run).

Each test batches many small cases into one graph, compared a few outputs per
generated module (``compare_chunked``): every module costs a Numba compilation.
"""

import numpy as np
import pytensor.tensor as pt
import pytest
from chunked import compare_chunked
from oracle import compare
from pytensor.tensor.xlogx import xlogx, xlogy0

N = 9


def _values(rng, dtype, nonzero=False):
    """A vector of ``dtype`` with negative values where the dtype has them."""
    if dtype == "bool":
        return rng.random(N) > 0.5
    kind = np.dtype(dtype).kind
    if kind == "u":
        v = rng.integers(0, 16, N)
    elif kind == "i":
        v = rng.integers(-12, 13, N)
    else:
        v = rng.normal(scale=3.0, size=N)
    if nonzero:
        v[v == 0] = 5
    return v.astype(dtype)


# (int32 and int64: test_integer_division_and_modulo..., test_mixed_dtype_upcasting)
@pytest.mark.parametrize("dtype, rewrite", [
    ("float64", True), ("float64", False), ("float32", True), ("int8", True),
    ("uint8", False),
])
def test_arithmetic_and_comparisons(rng, dtype, rewrite):
    x = pt.vector("x", dtype=dtype)
    y = pt.vector("y", dtype=dtype)
    outs = [
        x + y, x - y, x * y, x / y, x // y, x % y, abs(x), pt.sqr(x), x ** 2,
        pt.reciprocal(y), pt.maximum(x, y), pt.minimum(x, y), pt.add(x, y, x),
        x * y * x,
        x < y, x <= y, x > y, x >= y, pt.eq(x, y), pt.neq(x, y),
        pt.switch(x > y, x, y), pt.switch(pt.lt(x, 3), x * 2, 7),
        pt.clip(x, 1, 6), pt.sign(x), pt.second(x, y), pt.identity(x),
    ]
    if np.dtype(dtype).kind != "u":
        outs += [-x, x - 3 * y]
    if np.dtype(dtype).kind == "f":
        outs += [x ** y, pt.sqrt(abs(x)), pt.clip(x, -1.5, 0.5)]
    xv = _values(rng, dtype)
    yv = _values(rng, dtype, nonzero=True)
    if np.dtype(dtype).kind == "f":
        xv[0] = np.nan  # NaN propagates through maximum, minimum and clip
    compare_chunked([x, y], outs, [xv, yv], rewrite=rewrite)


@pytest.mark.parametrize("rewrite", [True, False])
def test_integer_division_and_modulo_with_negative_operands(rewrite):
    # Floor division and modulo follow the divisor's sign (NumPy's rules, not C's),
    # and division by zero gives NumPy's results (0 for integers, inf/nan for floats).
    a8, b8 = pt.bvector("a8"), pt.bvector("b8")
    a32, b32 = pt.ivector("a32"), pt.ivector("b32")
    a64, b64 = pt.lvector("a64"), pt.lvector("b64")
    f, g = pt.dvector("f"), pt.dvector("g")
    h, k = pt.fvector("h"), pt.fvector("k")
    pairs = [(a8, b8), (a32, b32), (a64, b64), (f, g), (h, k), (a8, b32), (a32, g)]
    outs = [op(a, b) for a, b in pairs for op in (pt.int_div, pt.mod)]
    outs += [a8 // 3, a8 % -3, a64 // -4, a64 % 4, f % 2.5, f // -2.5]
    num = np.array([-7, -6, -1, 0, 1, 6, 7, -12, 12, 5])
    den = np.array([2, -2, 3, -3, 5, -5, 4, -7, 7, 0])  # NumPy: n // 0 == n % 0 == 0
    values = [num.astype("int8"), den.astype("int8"), num.astype("int32"),
              den.astype("int32"), num.astype("int64"), den.astype("int64"),
              num + 0.25, den * 0.75, (num - 0.5).astype("float32"),
              (den * 1.5).astype("float32")]
    compare_chunked([a8, b8, a32, b32, a64, b64, f, g, h, k], outs, values,
                    rewrite=rewrite)


@pytest.mark.parametrize("rewrite", [True, False])
def test_logic_and_bitwise(rng, rewrite):
    p, q = pt.vector("p", dtype="bool"), pt.vector("q", dtype="bool")
    i, j = pt.bvector("i"), pt.bvector("j")
    u, w = pt.vector("u", dtype="uint8"), pt.vector("w", dtype="uint8")
    m = pt.lvector("m")
    outs = [
        p & q, p | q, p ^ q, ~p, pt.and_(p, ~q), pt.or_(~p, q), pt.invert(p ^ q),
        pt.eq(p, q), pt.neq(p, q), pt.lt(p, q), p + q, p * q,
        i & j, i | j, i ^ j, ~i, u & w, u | w, u ^ w, ~u, m & 6, ~m,
        pt.switch(p, i, j), pt.switch(p & (i > 0), u, w),
        (i > 0) & q, pt.eq(i, 0) | p,
        # narrow intermediates wrap around as in NumPy
        (u - w) > 3, (i * j) // 5, -(i * 11) < 0, (~u) > 200,
    ]
    values = [_values(rng, "bool"), _values(rng, "bool"), _values(rng, "int8"),
              _values(rng, "int8"), _values(rng, "uint8"), _values(rng, "uint8"),
              _values(rng, "int64")]
    compare_chunked([p, q, i, j, u, w, m], outs, values, rewrite=rewrite)


def test_casts(rng):
    f = pt.dvector("f")
    s = pt.fvector("s")
    i = pt.bvector("i")
    b = pt.vector("b", dtype="bool")
    outs = [pt.cast(f, dt) for dt in ("int8", "int32", "int64", "float32", "bool")]
    outs += [pt.cast(abs(f), "uint8"), pt.cast(s, "float64"), pt.cast(s, "int16")]
    outs += [pt.cast(i, dt) for dt in ("float64", "float32", "int64", "bool")]
    outs += [pt.cast(abs(i), "uint8")]
    outs += [pt.cast(b, dt) for dt in ("int8", "float64", "float32")]
    outs += [pt.cast(f, "int8") + i, pt.cast(i * i, "float32") / s]
    fv = rng.uniform(-60, 60, size=N)
    fv[:3] = [0.0, -0.7, 2.9]  # truncation toward zero
    values = [fv, rng.normal(size=N).astype("float32") * 40, _values(rng, "int8"),
              _values(rng, "bool")]
    compare_chunked([f, s, i, b], outs, values, rewrite=False)


EXP_LOG_POINTS = np.array([0.0, 1e-8, 1e-3, 0.3, 0.69, 1.0, 2.5, 7.0, 19.0, 34.0, 40.0])
SOFT_POINTS = np.array([-50.0, -37.5, -36.0, -5.0, -0.5, 0.0, 0.7, 17.5, 18.5, 33.0,
                        34.0])


@pytest.mark.parametrize("dtype, rewrite", [("float64", True), ("float64", False),
                                            ("float32", True)])
def test_exp_log_and_special_functions(dtype, rewrite):
    x = pt.vector("x", dtype=dtype)  # non-negative
    z = pt.vector("z", dtype=dtype)  # both signs, across the helpers' thresholds
    outs = [
        pt.exp(z), pt.exp2(z), pt.expm1(z), pt.log(x), pt.log2(x), pt.log10(x),
        pt.log1p(x), pt.sqrt(x), x ** 0.5, x ** z, pt.pow(x, 3), pt.sigmoid(z),
        pt.softplus(z), pt.log1mexp(-x - 1e-3), pt.log1mexp(-x), pt.erf(z), pt.erfc(z),
        pt.gamma(x + 0.1), pt.gamma(z), pt.gammaln(x + 0.1), xlogx(x), xlogy0(x, x + 1),
        xlogy0(z * 0, x), pt.exp(z) * 2.5 + 1,
    ]
    values = [EXP_LOG_POINTS.astype(dtype), SOFT_POINTS.astype(dtype)]
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else None
    compare_chunked([x, z], outs, values, rewrite=rewrite, tol=tol)


@pytest.mark.parametrize("dtype, rewrite", [("float64", True), ("float32", False)])
def test_trig_hyperbolic_and_rounding(rng, dtype, rewrite):
    x = pt.vector("x", dtype=dtype)  # in (-1, 1)
    y = pt.vector("y", dtype=dtype)  # any
    outs = [
        pt.sin(y), pt.cos(y), pt.tan(x), pt.arcsin(x), pt.arccos(x), pt.arctan(y),
        pt.arctan2(x, y), pt.sinh(x), pt.cosh(x), pt.tanh(y), pt.arcsinh(y),
        pt.arccosh(1 + y * y), pt.arctanh(x), pt.deg2rad(y), pt.rad2deg(x),
        pt.ceil(y), pt.floor(y), pt.trunc(y), pt.round(y, mode="half_to_even"),
        pt.round(y, mode="half_away_from_zero"), pt.sign(y), pt.isnan(y / x),
        pt.isinf(y / x),
    ]
    xv = rng.uniform(-0.95, 0.95, size=N)
    xv[0] = 0.0
    yv = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -3.7, 4.2, 0.0])
    compare_chunked([x, y], outs, [xv.astype(dtype), yv.astype(dtype)], rewrite=rewrite)


@pytest.mark.parametrize("rewrite", [True, False])
def test_mixed_dtype_upcasting(rng, rewrite):
    i8, i32, i64 = pt.bvector("i8"), pt.ivector("i32"), pt.lvector("i64")
    u8 = pt.vector("u8", dtype="uint8")
    f32, f64 = pt.fvector("f32"), pt.dvector("f64")
    b = pt.vector("b", dtype="bool")
    outs = [
        i8 + i32, u8 + i8, u8 * i32, i8 * f32, i32 + f32, f32 + f64, f32 * 2.5,
        f32 * 1.1, f32 / i8, b + i8, b * f32, i64 / i64, i8 / i8, i32 - u8,
        f32 ** 2, pt.maximum(i8, f32), pt.switch(b, i8, f32), pt.clip(i32, i8, 9),
        i8 * 30,  # 30 is an int8 constant: the product wraps around in int8
    ]
    values = [_values(rng, "int8", nonzero=True), _values(rng, "int32"),
              _values(rng, "int64", nonzero=True), _values(rng, "uint8"),
              _values(rng, "float32"), _values(rng, "float64"), _values(rng, "bool")]
    compare_chunked([i8, i32, i64, u8, f32, f64, b], outs, values, rewrite=rewrite)


@pytest.mark.parametrize("rewrite", [True, False])
def test_zero_dimensional(rewrite):
    # 0-d graphs take the scalar path of the Elemwise lowering (no loops).
    a, c = pt.fscalar("a"), pt.fscalar("c")
    i, j = pt.bscalar("i"), pt.bscalar("j")
    p = pt.scalar("p", dtype="bool")
    d = pt.dscalar("d")
    outs = [
        a * c + 1, a / c, pt.exp(a), pt.sigmoid(c), i + j, i * j, i // j, i % j,
        i - j * 3,
        i / j, p & (i > j), p | ~p, ~p, a < c, pt.switch(p, a, c), pt.cast(a, "int8"),
        pt.cast(i, "float32"), pt.cast(d, "bool"), d * i, pt.maximum(a, d), abs(i),
        pt.clip(d, -1, 1), p + p, p * p,
    ]
    values = [np.float32(1.75), np.float32(-0.5), np.int8(-7), np.int8(2),
              np.bool_(True), -0.25]
    compare_chunked([a, c, i, j, p, d], outs, values, rewrite=rewrite)


def test_complex(rng):
    x, y = pt.zvector("x"), pt.zvector("y")
    r = pt.dvector("r")
    outs = [x + y, x * y, x / y, -x, abs(x), pt.real(x), pt.imag(x), pt.conj(x),
            pt.angle(x), pt.exp(x), pt.sqrt(x), pt.log(y), pt.complex(r, r * 2), x * r,
            pt.erf(x)]
    values = [rng.normal(size=N) + 1j * rng.normal(size=N),
              rng.normal(size=N) + 1j * rng.normal(size=N), rng.normal(size=N)]
    compare_chunked([x, y, r], outs, values, rewrite=False)


@pytest.mark.parametrize("rewrite", [True, False], ids=["rewrite", "no-rewrite"])
def test_constants_are_spelled_in_the_dtype_of_their_expression(rng, rewrite):
    """An int8 zero compared with a float64, a float32 -inf as a float64 switch's
    branch: ``x > 0.0`` and ``-np.inf`` (exact conversions); a constant that does not
    convert exactly (int64 extremes into float64) keeps its own dtype."""
    x = pt.vector("x")
    n = pt.lscalar("n")
    zero, low = pt.constant(np.int8(0)), pt.constant(np.float32(-np.inf))
    big = pt.constant(np.int64(2**62 + 1))
    out = pt.switch(pt.gt(x, zero), x * 2, low) + (n + big) * 1.0
    module = compare([x, n], [out], [rng.normal(size=6), np.int64(3)], rewrite=rewrite)
    source = open(module.__file__).read()
    assert "np.int8(" not in source and "np.float32(" not in source, source
