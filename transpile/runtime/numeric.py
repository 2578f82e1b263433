"""Arithmetic whose NumPy semantics Numba's operators do not give: integer matrix
products (Numba's np.dot is BLAS, floats only), int64 floor division at the edge
(``INT64_MIN // -1``), complex division (by zero too), complex powers of zero,
the complex exp of a real number and tanh of a large real part.

Plain ``@numba.njit`` code; generated modules copy what they use.  Integer products
are summed in integer arithmetic, so they wrap around exactly as NumPy's do.
"""

import math

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def int64_floor_divide(a, b):
    """``a // b`` of int64 numbers as NumPy computes it: Numba's gives 0 for
    ``INT64_MIN // -1``, NumPy wraps around to INT64_MIN (and ``x // 0`` is 0)."""
    if b == -1:
        return -a
    return a // b


# Numba's signed integer arithmetic tells LLVM that it never overflows, and LLVM
# simplifies by it: ``(x * x) % x`` compiles to 0 where NumPy's is ``x * x`` wrapped
# around, mod x.  int64 arithmetic on values that may be that large (data, not
# lengths) is done in uint64, whose overflow LLVM may not assume away, and read
# back as int64: the same bits, wrapped around as NumPy's.


@numba.njit(cache=True, error_model="numpy")
def wrapping_add(a, b):
    """``a + b`` of int64 numbers, wrapping around on overflow as NumPy's."""
    return np.int64(np.uint64(a) + np.uint64(b))


@numba.njit(cache=True, error_model="numpy")
def wrapping_sub(a, b):
    """``a - b`` of int64 numbers, wrapping around on overflow as NumPy's."""
    return np.int64(np.uint64(a) - np.uint64(b))


@numba.njit(cache=True, error_model="numpy")
def wrapping_mul(a, b):
    """``a * b`` of int64 numbers, wrapping around on overflow as NumPy's."""
    return np.int64(np.uint64(a) * np.uint64(b))


@numba.njit(cache=True, error_model="numpy")
def complex_divide(a, b):
    """``a / b`` of complex numbers by NumPy's algorithm (Smith's, scaled by the
    larger part of ``b``); division by zero gives infinities and NaN where Numba's
    raises ZeroDivisionError."""
    br, bi = b.real, b.imag
    if abs(br) >= abs(bi):
        if br == 0 and bi == 0:
            return complex(a.real / abs(br), a.imag / abs(br))
        ratio = bi / br
        scale = 1.0 / (br + bi * ratio)
        return complex((a.real + a.imag * ratio) * scale, (a.imag - a.real * ratio) * scale)
    ratio = br / bi
    scale = 1.0 / (bi + br * ratio)
    return complex((a.real * ratio + a.imag) * scale, (a.imag * ratio - a.real) * scale)


@numba.njit(cache=True, error_model="numpy")
def complex_power(a, b):
    """``a ** b`` of complex numbers as NumPy computes it: Numba's gives NaN for a
    zero base, where NumPy gives 0 when the exponent's real part is positive."""
    if b == 0:
        return a ** b
    if a == 0:
        if b.real > 0:
            return a * 0
        return a * np.nan
    return a ** b




@numba.njit(cache=True, error_model="numpy")
def complex_exp(z):
    """``np.exp`` of a complex number: Numba's is ``exp(x) * (cos(y) + i sin(y))``,
    NaN in the imaginary part where exp(x) overflows and y is 0 (NumPy: inf + 0j)."""
    if z.imag == 0:
        return complex(math.exp(z.real), z.imag)
    return np.exp(z)


@numba.njit(cache=True, error_model="numpy")
def complex_tanh(z):
    """``np.tanh`` of a complex number: Numba's gives NaN where cosh overflows (a
    real part beyond 20 or so), where the value is then ±1 to every digit."""
    if abs(z.real) > 20.0:
        return complex(math.copysign(1.0, z.real), math.copysign(0.0, math.sin(2.0 * z.imag)))
    return np.tanh(z)


@numba.njit(cache=True, error_model="numpy")
def int_dot_vv(a, b):
    """``np.dot`` of two integer vectors."""
    if a.shape[0] != b.shape[0]:
        raise ValueError("dot: shapes not aligned")
    total = np.zeros(1, dtype=a.dtype)  # sums in a's dtype, wrapping as NumPy's
    for k in range(a.shape[0]):
        total[0] += a[k] * b[k]
    return total[0]


@numba.njit(cache=True, error_model="numpy")
def int_dot_mv(a, b):
    """``np.dot`` of an integer matrix and vector."""
    if a.shape[1] != b.shape[0]:
        raise ValueError("dot: shapes not aligned")
    out = np.zeros(a.shape[0], dtype=a.dtype)
    for i in range(a.shape[0]):
        for k in range(a.shape[1]):
            out[i] += a[i, k] * b[k]
    return out


@numba.njit(cache=True, error_model="numpy")
def int_dot_vm(a, b):
    """``np.dot`` of an integer vector and matrix."""
    if a.shape[0] != b.shape[0]:
        raise ValueError("dot: shapes not aligned")
    out = np.zeros(b.shape[1], dtype=a.dtype)
    for k in range(b.shape[0]):
        for j in range(b.shape[1]):
            out[j] += a[k] * b[k, j]
    return out


@numba.njit(cache=True, error_model="numpy")
def int_dot_mm(a, b):
    """``np.dot`` of two integer matrices."""
    if a.shape[1] != b.shape[0]:
        raise ValueError("dot: shapes not aligned")
    out = np.zeros((a.shape[0], b.shape[1]), dtype=a.dtype)
    for i in range(a.shape[0]):
        for k in range(a.shape[1]):
            for j in range(b.shape[1]):
                out[i, j] += a[i, k] * b[k, j]
    return out
