"""Matrix products: ``Dot`` and the BLAS-shaped Ops rewrites produce from it
(``Dot22``, ``Dot22Scalar``, ``Gemv``, ``Gemm``, ``Ger``, ``BatchedDot``).

All become ``np.dot`` (BLAS through Numba) with the scalings written out (integer
products: loops in integer arithmetic, ``int_dot_mm`` and its kin); a term
multiplied by a constant zero (``Gemv``'s ``beta * y`` on a fresh ``AllocEmpty``
buffer) is dropped, so uninitialised memory is never read.
"""

import numpy as np
from pytensor.graph.basic import Constant
from pytensor.tensor.blas import BatchedDot, Dot22, Dot22Scalar, Gemm, Gemv, Ger
from pytensor.tensor.math import Dot

from .. import syntax as sx
from ..dtypes import dtype_attr, is_complex, is_float
from ..registry import register
from .elemwise import dim_size


def _constant_value(var):
    if isinstance(var, Constant):
        value = np.asarray(var.data)
        if value.size == 1:
            return value.item()
    return None


def operand(fn, var, dtype: str) -> sx.Expr:
    """``var`` as an operand of np.dot: in the output dtype (BLAS needs one)."""
    value = fn.expr(var)
    if var.type.dtype != dtype:
        value = sx.method(value, "astype", dtype_attr(dtype))
    return value


def _transposed_matrix(fn, var):
    """The matrix ``m`` when ``var`` is ``m.T`` (in this graph, or a Scan's
    non-sequence that is one outside: the plan knows), else None."""
    return fn.module.plan.transposes.get(var)


def _operands(fn, a, b, dtype: str) -> list:
    """The arguments of ``np.dot`` for ``a @ b``.  ``m.T @ v`` is ``v @ m``: BLAS reads
    ``m`` in its own (C) order, no copy."""
    m = _transposed_matrix(fn, a)
    if m is not None and b.type.ndim == 1 and m.type.dtype == b.type.dtype == dtype:
        return [fn.expr(b), fn.expr(m)]
    return [operand(fn, a, dtype), operand(fn, b, dtype)]


def dot(fn, a, b, dtype: str) -> sx.Expr:
    if is_float(dtype) or is_complex(dtype):
        return sx.call("np.dot", *_operands(fn, a, b, dtype))
    return product_of(fn, operand(fn, a, dtype), a.type.ndim, operand(fn, b, dtype),
                      b.type.ndim, dtype)


_INT_DOT = {(1, 1): "int_dot_vv", (2, 1): "int_dot_mv", (1, 2): "int_dot_vm",
            (2, 2): "int_dot_mm"}


def product_of(fn, a: sx.Expr, a_ndim: int, b: sx.Expr, b_ndim: int, dtype: str) -> sx.Expr:
    """``np.dot(a, b)`` of two operands already of ``dtype``.  Numba's np.dot is BLAS,
    floats only: integers are multiplied and summed in integer loops (a helper), so
    they wrap around exactly as NumPy's do; booleans (``any(a & b)``) go through
    float64, exact for them."""
    if is_float(dtype) or is_complex(dtype):
        return sx.call("np.dot", a, b)
    if dtype == "bool":
        product = sx.call("np.dot", sx.method(a, "astype", dtype_attr("float64")),
                          sx.method(b, "astype", dtype_attr("float64")))
        return sx.method(product, "astype", dtype_attr(dtype)) if a_ndim + b_ndim > 2 \
            else sx.compare("!=", product, sx.literal(0.0))
    return sx.call(fn.helper(_INT_DOT[a_ndim, b_ndim]), a, b)


def scaled(fn, alpha, term: sx.Expr) -> sx.Expr:
    if _constant_value(alpha) == 1:
        return term
    return sx.binop("*", fn.expr(alpha), term)


def plus_scaled(fn, beta, base, term: sx.Expr) -> sx.Expr:
    """``beta * base + term``, dropping ``beta * base`` when ``beta`` is 0."""
    b = _constant_value(beta)
    if b == 0:
        return term
    scaled_base = fn.expr(base) if b == 1 else sx.binop("*", fn.expr(beta), fn.expr(base))
    return sx.binop("+", scaled_base, term)


def _product_dims(fn, a, b) -> list:
    """The lengths of ``np.dot(a, b)`` from the operands' shapes ([] for a scalar)."""
    dims = [dim_size(fn, a, 0)] if a.type.ndim == 2 else []
    dims += [dim_size(fn, b, 1)] if b.type.ndim == 2 else []
    return dims


def _in_scratch(fn, node, a, b, alpha=None, beta=None, y=None) -> bool:
    """Inside a loop, ``beta * y + alpha * (a @ b)`` computed into an array allocated
    once before the loop, when its shape is the same in every step:
    ``np.dot(a, b, out)``, then ``out *= alpha`` and ``out += y`` as needed.
    Returns False (nothing emitted) where that does not apply."""
    (out,) = node.outputs
    dtype = out.type.dtype
    if not fn.in_loop:
        return False
    if not is_float(dtype) or a.type.dtype != dtype or b.type.dtype != dtype:
        return False
    dims = _product_dims(fn, a, b)
    shape = sx.tuple_(dims)
    b_value = _constant_value(beta) if beta is not None else 0
    if not dims or b_value not in (0, 1) or not (
            out in fn.destinations or fn.invariant(shape)):
        return False
    if y is not None and b_value == 1 and y.type.dtype != dtype:
        return False
    if out in fn.destinations:  # straight into the Scan buffer's entry
        target = fn.into_destination(out, dims)
    else:
        target = fn.allocate(out, shape, dtype, "dot")
    fn.emit(sx.expr_stmt(sx.call("np.dot", *_operands(fn, a, b, dtype), target)))
    if alpha is not None and _constant_value(alpha) != 1:
        fn.emit(sx.augassign(target, "*", fn.expr(alpha)))
    if b_value == 1:
        fn.emit(sx.augassign(target, "+", fn.expr(y)))
    return True


def _bind(fn, node, value):
    (out,) = node.outputs
    fn.bind(out, value, hint="dot")
    if out.type.ndim:
        fn.contiguous.add(out)


@register(Dot, Dot22, destinations=True)
def lower_Dot(op, node, fn):
    a, b = node.inputs
    if _in_scratch(fn, node, a, b):
        return
    _bind(fn, node, dot(fn, a, b, node.outputs[0].type.dtype))


@register(Dot22Scalar)
def lower_Dot22Scalar(op, node, fn):
    a, b, alpha = node.inputs
    if _in_scratch(fn, node, a, b, alpha):
        return
    _bind(fn, node, scaled(fn, alpha, dot(fn, a, b, node.outputs[0].type.dtype)))


@register(Gemv, destinations=True)
def lower_Gemv(op, node, fn):
    y, alpha, a, x, beta = node.inputs
    if _in_scratch(fn, node, a, x, alpha, beta, y):
        return
    term = scaled(fn, alpha, dot(fn, a, x, node.outputs[0].type.dtype))
    _bind(fn, node, plus_scaled(fn, beta, y, term))


@register(Gemm, destinations=True)
def lower_Gemm(op, node, fn):
    z, alpha, a, b, beta = node.inputs
    if _in_scratch(fn, node, a, b, alpha, beta, z):
        return
    term = scaled(fn, alpha, dot(fn, a, b, node.outputs[0].type.dtype))
    _bind(fn, node, plus_scaled(fn, beta, z, term))


@register(Ger, destinations=True)
def lower_Ger(op, node, fn):
    """``a + alpha * outer(x, y)`` as one loop nest into one new array (or into a
    Scan buffer's entry, or an array reused by every step of a loop)."""
    a, alpha, x, y = node.inputs
    (out,) = node.outputs
    if not all(v.type.dtype == out.type.dtype for v in (a, x, y)):
        outer = sx.call("np.outer", fn.expr(x), fn.expr(y))
        _bind(fn, node, sx.binop("+", fn.expr(a), scaled(fn, alpha, outer)))
        return
    dims = [dim_size(fn, a, d) for d in (0, 1)]
    lengths = [dim_size(fn, v, 0) for v in (x, y)]
    fn.check([sx.compare("!=", lengths[0], dims[0]), sx.compare("!=", lengths[1], dims[1])],
             "ValueError", "Ger: the vectors do not match the matrix")
    if out in fn.destinations:
        target = fn.into_destination(out, dims)
    else:
        target = fn.allocate(out, sx.tuple_(dims), out.type.dtype, "ger")
    with fn.indices(2) as (i, j):
        product = sx.binop("*", sx.subscript(fn.expr(x), [sx.name(i)]),
                           sx.subscript(fn.expr(y), [sx.name(j)]))
        value = sx.binop("+", sx.subscript(fn.expr(a), [sx.name(i), sx.name(j)]),
                         scaled(fn, alpha, product))
        body = [sx.assign(sx.subscript(target, [sx.name(i), sx.name(j)]), value)]
        fn.emit(*sx.for_nest([i, j], dims, body))


@register(BatchedDot)
def lower_BatchedDot(op, node, fn):
    a, b = node.inputs
    (out,) = node.outputs
    dtype = out.type.dtype
    # One np.dot per batch entry, into a preallocated result.
    n = sx.subscript(sx.attr(fn.expr(a), "shape"), [sx.literal(0)])
    shape = [n]
    for var, dims in ((a, range(1, a.type.ndim - 1)), (b, range(2, b.type.ndim))):
        shape += [sx.subscript(sx.attr(fn.expr(var), "shape"), [sx.literal(d)]) for d in dims]
    # np.dot needs operands of one dtype: cast once, before the loop.
    operands = [fn.expr(v) if v.type.dtype == dtype else fn.bind_name(
        fn.fresh(fn.hint_after(v, dtype)), operand(fn, v, dtype)) for v in (a, b)]
    target = fn.bind(out, sx.call("np.empty", sx.tuple_(shape), dtype=dtype_attr(dtype)),
                     hint="batched_dot")
    with fn.indices(1) as (i,):
        rows = [sx.subscript(value, [sx.name(i)]) for value in operands]
        value = product_of(fn, rows[0], a.type.ndim - 1, rows[1], b.type.ndim - 1, dtype)
        body = [sx.assign(sx.subscript(target, [sx.name(i)]), value)]
        fn.emit(sx.for_range(i, [n], body))
    fn.contiguous.add(out)
