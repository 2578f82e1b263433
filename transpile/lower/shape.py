"""Shape Ops: ``Shape``, ``Shape_i``, ``Reshape``, ``SpecifyShape``."""

import libcst as cst
from pytensor.tensor.basic import MakeVector
from pytensor.tensor.shape import Reshape, Shape, Shape_i, SpecifyShape

from .. import syntax as sx
from ..dtypes import dtype_attr
from ..registry import register
from .elemwise import dim_size


@register(Shape)
def lower_Shape(op, node, fn):
    (x,) = node.inputs
    if x.type.ndim == 0:
        value = sx.call("np.empty", sx.literal(0), dtype=dtype_attr("int64"))
    else:
        value = sx.call("np.array", sx.attr(fn.expr(x), "shape"), dtype=dtype_attr("int64"))
    fn.bind(node.outputs[0], value, hint="shape")


@register(Shape_i)
def lower_Shape_i(op, node, fn):
    (x,) = node.inputs
    length = dim_size(fn, x, op.i)
    if isinstance(fn.expr(x), cst.Name):  # ``W.shape[1]`` is as short as a local
        fn.alias(node.outputs[0], length)
        return
    fn.bind(node.outputs[0], length, hint=f"{x.name or 'n'}_{op.i}" if x.name else "n")


def int_value(fn, var) -> sx.Expr:
    """An integer operand (a length, an index): a plain literal when constant."""
    from pytensor.graph.basic import Constant

    if isinstance(var, Constant) and getattr(var.type, "ndim", None) == 0:
        return sx.literal(int(var.data))
    return fn.expr(var)


def vector_elements(fn, vec, length: int | None = None) -> list[sx.Expr]:
    """The elements of a short vector of known length (static, or ``length``, which
    the caller has checked at run time): MakeVector's scalars inline."""
    if vec.owner is not None and isinstance(vec.owner.op, MakeVector):
        return [int_value(fn, v) for v in vec.owner.inputs]
    from pytensor.graph.basic import Constant

    if isinstance(vec, Constant):
        return [sx.literal(int(v)) for v in vec.data]
    if vec.type.shape[0] is not None:
        length = vec.type.shape[0]
    return [sx.subscript(fn.expr(vec), [sx.literal(k)]) for k in range(length)]


def contiguous(fn, var) -> sx.Expr:
    """``var`` as a C-contiguous array (Numba's reshape needs one)."""
    if var in fn.contiguous:
        return fn.expr(var)
    return sx.call("np.ascontiguousarray", fn.expr(var))


@register(Reshape)
def lower_Reshape(op, node, fn):
    x, shape = node.inputs
    (out,) = node.outputs
    if out.type.ndim == 0:  # a one-element array becomes its scalar
        fn.bind(out, sx.subscript(sx.call("np.ravel", fn.expr(x)), [sx.literal(0)]),
                hint="item")
        return
    if x.type.ndim == 0:
        value = sx.call("np.full", sx.tuple_([sx.literal(1)] * out.type.ndim), fn.expr(x),
                        dtype=dtype_attr(out.type.dtype))
        fn.bind(out, value, hint="reshaped")
        fn.contiguous.add(out)
        return
    dims = sx.tuple_(vector_elements(fn, shape))
    fn.bind(out, sx.method(contiguous(fn, x), "reshape", dims), hint="reshaped", view_of=x)
    fn.contiguous.add(out)


@register(SpecifyShape)
def lower_SpecifyShape(op, node, fn):
    x, *shape = node.inputs
    from pytensor.graph.basic import Constant

    checks = []
    for d, s in enumerate(shape):
        if isinstance(s, Constant) and s.data is None or s.type.__class__.__name__ == "NoneTypeT":
            continue
        checks.append(sx.compare("!=", sx.subscript(sx.attr(fn.expr(x), "shape"),
                                                    [sx.literal(d)]), int_value(fn, s)))
    if checks and x.type.ndim:
        test = sx.any_of(checks)
        fn.emit(sx.if_(test, [sx.raise_("AssertionError",
                                        "SpecifyShape: input does not have the specified shape")]))
    fn.alias(node.outputs[0], fn.expr(x), view_of=x)
    if x in fn.contiguous:
        fn.contiguous.add(node.outputs[0])
