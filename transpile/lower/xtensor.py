"""Ops that only change a variable's type, never its data: ``TypeCastingOp`` and its
subclasses, among them the ``xtensor`` casts (``XTensorFromTensor``,
``TensorFromXTensor``, ``Rename``), which the registry finds through their base class,
so ``pytensor.xtensor`` (and xarray, which it imports) is never imported for a graph
without them.  In generated code an xtensor is the NumPy array of its values (its
dimension names exist only in the graph), so each is a view of its input, without a
statement or a copy.  (``ViewOp`` has its own lowering in ``lower/basic.py``: the
same.)"""

from pytensor.compile.ops import TypeCastingOp

from ..registry import register


@register(TypeCastingOp)
def lower_TypeCastingOp(op, node, fn):
    (x,) = node.inputs
    (out,) = node.outputs
    fn.alias(out, fn.expr(x), view_of=x)
    if x in fn.broadcast_scalars:
        fn.broadcast_scalars[out] = fn.broadcast_scalars[x]
