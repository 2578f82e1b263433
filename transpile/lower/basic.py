"""Tensor construction and plumbing: ``Alloc``, ``AllocEmpty``, ``MakeVector``,
``ScalarFromTensor``, ``TensorFromScalar``, ``Join``, ``ARange``, ``DeepCopyOp``,
``ViewOp``, and the checks (``CheckAndRaise``, ``Assert``)."""


import numpy as np
from pytensor.compile.ops import DeepCopyOp, ViewOp
from pytensor.graph.basic import Constant
from pytensor.raise_op import CheckAndRaise
from pytensor.tensor.basic import (
    Alloc,
    AllocEmpty,
    ARange,
    Join,
    MakeVector,
    ScalarFromTensor,
    TensorFromScalar,
)

from .. import syntax as sx
from ..dtypes import cast_if_unnatural, dtype_attr
from ..registry import register
from .shape import int_value


def _fresh_array(fn, out, value, hint):
    fn.bind(out, value, hint=hint)
    fn.contiguous.add(out)


@register(Alloc)
def lower_Alloc(op, node, fn):
    value, *shape = node.inputs
    (out,) = node.outputs
    if out.type.ndim == 0:
        fn.bind(out, cast_if_unnatural(fn.expr(value), out.type.dtype), hint="filled")
        return
    dims = sx.tuple_(int_value(fn, s) for s in shape)
    dtype = dtype_attr(out.type.dtype)
    fill = _single_constant(value)
    if fill is not None:  # np.zeros((n, 3), dtype=...) rather than a 1-element CONST
        made = (sx.call("np.zeros", dims, dtype=dtype) if fill == 0 and not np.signbit(fill)
                else sx.call("np.full", dims, sx.literal(fill), dtype=dtype))
        _fresh_array(fn, out, made, "filled")
        return
    if value.type.ndim == 0:
        _fresh_array(fn, out, sx.call("np.full", dims, fn.expr(value), dtype=dtype), "filled")
        return
    target = fn.bind(out, sx.call("np.empty", dims, dtype=dtype), hint="filled")
    fn.contiguous.add(out)
    # Broadcast the value into the new array: leading dims are added by numpy rules.
    # PyTensor refuses to broadcast a length that is not static 1: so does exact.
    fn.store(target, fn.expr(value), value, out.type.ndim, out.type.dtype, "Alloc",
             exact=True)


def _single_constant(var):
    """The one value of a constant holding a single element (a ``(1, 1)``-shaped
    fill value is just a number), as a Python scalar; else None."""
    if not isinstance(var, Constant) or var.type.dtype.startswith("complex"):
        return None
    data = np.asarray(var.data)
    return data.reshape(()).item() if data.size == 1 else None


@register(AllocEmpty)
def lower_AllocEmpty(op, node, fn):
    (out,) = node.outputs
    dims = sx.tuple_(int_value(fn, s) for s in node.inputs)
    if out.type.ndim == 0:
        fn.bind(out, sx.call(dtype_attr(out.type.dtype), sx.literal(0)), hint="empty")
        return
    _fresh_array(fn, out, sx.call("np.empty", dims, dtype=dtype_attr(out.type.dtype)), "empty")


@register(MakeVector)
def lower_MakeVector(op, node, fn):
    (out,) = node.outputs
    dtype = dtype_attr(out.type.dtype)
    if not node.inputs:
        value = sx.call("np.empty", sx.literal(0), dtype=dtype)
    else:
        value = sx.call("np.array", sx.list_(fn.expr(v) for v in node.inputs), dtype=dtype)
    _fresh_array(fn, out, value, "vector")


@register(ScalarFromTensor, TensorFromScalar)
def lower_scalar_tensor(op, node, fn):
    # 0-d tensors and scalars are both plain Numba scalars in generated code.
    (x,) = node.inputs
    (out,) = node.outputs
    value = fn.expr(x)
    if x.type.dtype != out.type.dtype:
        value = cast_if_unnatural(value, out.type.dtype)
        fn.bind(out, value, hint="scalar")
    else:
        fn.alias(out, value)


@register(ViewOp)
def lower_ViewOp(op, node, fn):
    (x,) = node.inputs
    fn.alias(node.outputs[0], fn.expr(x), view_of=x)


@register(DeepCopyOp)
def lower_DeepCopyOp(op, node, fn):
    (x,) = node.inputs
    (out,) = node.outputs
    if x.type.ndim == 0 if hasattr(x.type, "ndim") else True:
        fn.alias(out, fn.expr(x))
    else:
        _fresh_array(fn, out, sx.method(fn.expr(x), "copy"), x.name or "copied")


@register(Join)
def lower_Join(op, node, fn):
    axis, *tensors = node.inputs
    (out,) = node.outputs
    dtype = out.type.dtype
    parts = []
    for t in tensors:
        value = fn.expr(t)
        if t.type.dtype != dtype:  # numba concatenates arrays of one dtype only
            value = sx.method(value, "astype", dtype_attr(dtype))
        parts.append(value)
    if len(parts) == 1:
        _fresh_array(fn, out, sx.method(parts[0], "copy"), "joined")
        return
    axis_expr = (sx.literal(int(axis.data) % out.type.ndim) if isinstance(axis, Constant)
                 else fn.expr(axis))
    value = sx.call("np.concatenate", sx.tuple_(parts), axis=axis_expr)
    _fresh_array(fn, out, value, "joined")


@register(ARange)
def lower_ARange(op, node, fn):
    (out,) = node.outputs
    args = [fn.expr(v) for v in node.inputs]
    value = sx.call("np.arange", *args)
    if any(v.type.dtype != op.dtype for v in node.inputs):
        value = sx.method(value, "astype", dtype_attr(op.dtype))
    _fresh_array(fn, out, value, "arange")


def _condition_keys(fn, conds) -> list:
    """A key for the conditions when each is an integer comparison of known forms
    (``n >= 1`` however ``n`` is computed): two checks of one condition are one."""
    from pytensor.scalar import basic as ps
    from pytensor.tensor.basic import ScalarFromTensor
    from pytensor.tensor.elemwise import Elemwise

    from ..intforms import key

    facts, parts = fn.module.plan.facts, []
    for cond in conds:
        while cond.owner is not None and isinstance(cond.owner.op, ScalarFromTensor):
            cond = cond.owner.inputs[0]
        node = cond.owner
        if node is None or not isinstance(node.op, Elemwise) or not isinstance(
                node.op.scalar_op, (ps.GE, ps.GT, ps.LE, ps.LT, ps.EQ, ps.NEQ)):
            return []
        forms = [facts.form(v) for v in node.inputs]
        if any(f is None for f in forms):
            return []
        parts.append((type(node.op.scalar_op).__name__, *map(key, forms)))
    return [("condition", *parts)]


@register(CheckAndRaise)
def lower_CheckAndRaise(op, node, fn):
    value, *conds = node.inputs
    (out,) = node.outputs
    if conds:
        tests = [fn.expr(c) for c in conds if not (isinstance(c, Constant) and bool(c.data))]
        if tests:
            test = tests[0]
            for t in tests[1:]:
                test = sx.boolop("and", test, t)
            exc = fn.module.exception_class(op.exc_type)
            failed = sx.unary("not", test)
            keys = {fn.code(failed), *_condition_keys(fn, conds)}
            if not keys & fn.checked:  # the same test made once
                fn.checked.update(keys)
                fn.emit(sx.if_(failed, [sx.raise_(exc, op.msg)]))
    if fn.can_donate(value):  # a fresh array only the check reads: handed on whole
        fn.alias(out, fn.expr(value))
    else:
        fn.alias(out, fn.expr(value), view_of=value)
    if value in fn.contiguous:
        fn.contiguous.add(out)
