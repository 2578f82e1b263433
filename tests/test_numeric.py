"""Arithmetic as NumPy computes it where Numba's operators differ: integer matrix
products (exact, wrapping around), a 0-d argmax, the complex numbers each scalar Op
supports (and the refusal of those Numba cannot compute), integer edge cases."""

import re

import numpy as np
import pytensor.scalar.basic as ps
import pytensor.scalar.math as psm
import pytensor.tensor as pt
import pytest
from oracle import compare
from pytensor.tensor.elemwise import Elemwise

import transpile
from transpile.lower.scalar import COMPLEX_OPS


def test_integer_products_are_exact():
    # In float64, 2**62 + 1 is 2**62: the product would come back as INT64_MIN.
    a, M = pt.lvector("a"), pt.lmatrix("M")
    b8 = pt.tensor("b8", dtype="int8", shape=(None, None, None))
    u = pt.tensor("u", dtype="uint64", shape=(None, None))
    bv, bm = pt.vector("bv", dtype="bool"), pt.matrix("bm", dtype="bool")
    w = pt.wvector("w")
    outs = [pt.dot(a, a), pt.dot(M, a), pt.dot(a, M), pt.dot(M, M), b8 @ b8, u @ u,
            pt.dot(bv, bv), pt.dot(bm, bm), pt.dot(bm, bv), pt.dot(w, M)]
    values = [np.array([2**62 + 1, 3]), np.array([[2**62 + 1, 3], [-7, 2**40]]),
              np.arange(-13, 14, dtype="int8").reshape(3, 3, 3) * 9,
              np.array([[2**64 - 1, 5], [3, 2**63]], dtype="uint64"), np.array([True, False]),
              np.array([[True, False], [False, False]]), np.array([30000, -30000], "int16")]
    for rewrite in (True, False):
        compare([a, M, b8, u, bv, bm, w], outs, values, rewrite=rewrite)


def test_int64_arithmetic_wraps_around_where_llvm_would_simplify():
    """int64 values near the extremes: NumPy's products, sums and negations wrap
    around, and ``(x * x) % x``, ``(x + 1) > x``, ``-x == x`` see the wrapped values
    (Numba's signed arithmetic lets LLVM assume no overflow and simplify them to 0,
    True, False); lengths, which cannot be that large, keep plain operators."""
    x, k = pt.lvector("x"), pt.lscalar("k")
    outs = [(x * x) % x, pt.gt(x + 1, x), pt.eq(-x, x), (x * k) // k, (k * k) % k,
            pt.lt(x - 1, x), x.shape[0] * 3 + 1]
    big = np.iinfo(np.int64)
    values = [np.array([big.max - 1, big.min, 38, big.max, -1]), np.int64(big.max - 1)]
    with np.errstate(over="ignore"):
        module = compare([x, k], outs, values, rewrite=False)
    source = open(module.__file__).read()
    assert re.search(r"wrapping_mul\((\w+), \1\)", source), source
    assert "item * 3" in source, source  # x.shape[0] * 3


def test_scalar_edges():
    x, i8 = pt.dscalar("x"), pt.bvector("i8")
    i64, b = pt.lvector("i64"), pt.bscalar("b")
    u16 = pt.tensor("u16", dtype="uint16", shape=(None,))
    flag = pt.scalar("flag", dtype="bool")
    outs = [pt.argmax(x), pt.argmin(x), pt.max(x), pt.min(x),
            i64 // i64[::-1], i64 % i64[::-1], pt.sign(u16), abs(flag), pt.maximum(flag, b),
            pt.minimum(i8, flag), i8 * u16[:3].astype("uint64")]
    values = [1.5, np.array([-128, 127, 3], "int8"), np.array([-2**63, 7, 0, -1, 5]),
              np.array([0, 1, 65535, 7], "uint16"), np.int8(-3), True]
    compare([x, i8, i64, u16, b, flag], outs, values)
    # A narrow integer wraps around before it is summed: -(-128) is -128 in int8.
    # (The rewrites make these -sum(x) and max(x) ** 2, exact only without overflow.)
    compare([i8], [(-i8).sum(), pt.sqr(i8).max(), (i8 * i8).prod()], values[1:2], rewrite=False)


def _complex_cases():
    """Each scalar Op of COMPLEX_OPS that PyTensor applies to complex numbers."""
    instances = {}
    for module in (ps, psm):
        for obj in vars(module).values():
            if isinstance(obj, COMPLEX_OPS) and not isinstance(obj, psm.Softplus):
                instances.setdefault(type(obj), obj)
    z, c = pt.zvector("z"), pt.cvector("c")
    outs = []
    for op in instances.values():
        for arg in (z, c):
            try:
                out = Elemwise(op)(*[arg] * (op.nin if op.nin > 0 else 2))
            except (TypeError, ValueError, NotImplementedError):
                continue  # not an Op of complex numbers (Complex, Switch, ...)
            outs.extend(out if isinstance(out, list) else [out])
    return [z, c], outs


def test_complex_scalar_ops():
    inputs, outs = _complex_cases()
    assert len(outs) > 40
    values = [np.array([0.5 + 0.25j, -1.5 + 2j, 0.1 - 0.3j, 0j, 3 - 1j]),
              np.array([0.5 + 0.25j, -1.5 + 2j, 0.1 - 0.3j, 0j, 3 - 1j], "complex64")]
    compare(inputs, outs, values, rewrite=False)
    z, k = pt.zvector("z"), pt.lvector("k")
    # Without rewrites: they fold z / 0 into z * (1 / 0), which is NaN everywhere.
    more = [z / k, z / pt.complex(k * 0.0, 0.0), z ** 2, pt.complex(0.0, k) ** z,
            pt.log1p(pt.exp(z)), pt.tanh(z * 40)]
    compare([z, k], more, [values[0], np.array([0, 2, -1, 3, 0])], rewrite=False)


@pytest.mark.parametrize("build", [pt.gamma, lambda z: z < 1, pt.sigmoid])
def test_unsupported_complex_is_refused(build):
    z = pt.zvector("z")
    with pytest.raises(transpile.UnsupportedOpError, match="complex128 values is not supported"):
        transpile.transpile(([z], [build(z)]), rewrite=False)
