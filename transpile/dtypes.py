"""Spelling PyTensor dtypes and typed constants in generated code."""

import libcst as cst
import numpy as np

from . import syntax as sx

# dtypes whose scalars Numba already produces from plain Python arithmetic, so a value
# computed in one of them never needs an explicit cast to be of the right type.
NATURAL = frozenset({"float64", "int64", "bool"})


def dtype_attr(dtype: str) -> sx.Expr:
    """``np.float64`` for ``"float64"`` (``np.bool_`` for bool)."""
    return sx.dotted("np.bool_" if dtype == "bool" else f"np.{np.dtype(dtype).name}")


def cast(value: sx.Expr, dtype: str) -> sx.Expr:
    """``np.float32(value)`` (``value`` itself when it is already such a cast)."""
    func = dtype_attr(dtype)
    if isinstance(value, cst.Call) and value.func.deep_equals(func):
        return value
    return sx.call(func, value)


def convert(value: sx.Expr, source: str, dtype: str) -> sx.Expr:
    """``value`` (a scalar of ``source``) as ``dtype``, as NumPy converts it: a
    complex number becomes a real one by its real part (Numba refuses the cast)."""
    if source == dtype:
        return value
    if is_complex(source) and not is_complex(dtype):
        value = sx.attr(value, "real")
    return cast(value, dtype)


def convert_array(value: sx.Expr, source: str, dtype: str) -> sx.Expr:
    """``value.astype(dtype)`` for an array of ``source``, as :func:`convert`."""
    if is_complex(source) and not is_complex(dtype):
        value = sx.attr(value, "real")
    return sx.method(value, "astype", dtype_attr(dtype))


def cast_if_unnatural(value: sx.Expr, dtype: str) -> sx.Expr:
    return value if dtype in NATURAL else cast(value, dtype)


def typed_literal(value, dtype: str) -> sx.Expr:
    """A scalar constant of exactly ``dtype``: ``2.0``, ``np.float32(2.0)``, ``True``."""
    value = np.asarray(value).reshape(())  # a number, or an array of one
    if value.dtype.kind == "f" and np.dtype(dtype).kind == "f":
        # the shortest digits that give the number back in its own dtype: a float32
        # 0.1 is ``np.float32(0.1)``, not ``np.float32(0.10000000149011612)``
        value = float(str(value.astype(dtype)[()]))
    value = np.asarray(value).item()
    if dtype == "bool":
        return sx.literal(bool(value))
    kind = np.dtype(dtype).kind
    if kind in "iu":
        plain = sx.literal(int(value))
    elif kind == "f":
        plain = sx.literal(float(value))
    elif kind == "c":
        plain = sx.literal(complex(value))
    else:
        raise TypeError(f"no scalar literal for dtype {dtype}")
    return plain if dtype in NATURAL else cast(plain, dtype)


def converts_exactly(value, dtype: str) -> bool:
    """Whether the constant ``value`` (a NumPy scalar or 0-d array) is the same
    number in ``dtype``, written the same: ``np.int8(0)`` as ``0.0``,
    ``np.float32(-inf)`` as ``-np.inf``; not ``2**62 + 1`` in float64, a fraction in
    an integer dtype, nor a float32 ``0.1`` (``0.10000000149011612`` in float64)."""
    value = np.asarray(value).reshape(())
    if value.dtype.kind in "cb" or np.dtype(dtype).kind in "cb":
        return False
    with np.errstate(all="ignore"):
        converted = value.astype(dtype)
        same = np.array_equal(converted.astype(value.dtype), value,
                              equal_nan=value.dtype.kind == "f")
    if value.dtype.kind == "f" and converted.dtype.kind == "f":
        same = same and str(converted[()]) == str(value[()])
    return bool(same)


def is_float(dtype: str) -> bool:
    return np.dtype(dtype).kind == "f"


def is_int(dtype: str) -> bool:
    return np.dtype(dtype).kind in "iu"


def is_complex(dtype: str) -> bool:
    return np.dtype(dtype).kind == "c"


def identity_literal(kind: str, dtype: str) -> sx.Expr:
    """The identity of a reduction: 0, 1, the lowest or the highest value."""
    if kind == "zero":
        return typed_literal(0, dtype)
    if kind == "one":
        return typed_literal(1, dtype)
    if dtype == "bool":
        return sx.literal(kind == "highest")
    if is_float(dtype) or is_complex(dtype):
        inf = sx.dotted("np.inf")
        value = sx.unary("-", inf) if kind == "lowest" else inf
        return value if dtype == "float64" else cast(value, dtype)
    info = np.iinfo(dtype)
    return typed_literal(info.min if kind == "lowest" else info.max, dtype)
