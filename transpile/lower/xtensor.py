"""Ops that only change a variable's type, never its data: ``TypeCastingOp`` and its
subclasses, among them the ``xtensor`` casts (``XTensorFromTensor``,
``TensorFromXTensor``, ``Rename``).  In generated code an xtensor is the NumPy array
of its values (its dimension names exist only in the graph), so each is a view of its
input, without a statement or a copy.  (``ViewOp`` has its own lowering in
``lower/basic.py``: the same.)"""

from pytensor.compile.ops import TypeCastingOp

from ..compat import op_class
from ..registry import register

_XTENSOR = ("pytensor.xtensor.basic",)


def _xtensor_class(name: str):
    import warnings

    with warnings.catch_warnings():  # pytensor.xtensor warns that it is experimental
        warnings.simplefilter("ignore")
        return op_class(name, _XTENSOR)


@register(TypeCastingOp, *(_xtensor_class(name) for name in (
    "XTensorFromTensor", "TensorFromXTensor", "Rename")))
def lower_TypeCastingOp(op, node, fn):
    (x,) = node.inputs
    (out,) = node.outputs
    fn.alias(out, fn.expr(x), view_of=x)
    if x in fn.broadcast_scalars:
        fn.broadcast_scalars[out] = fn.broadcast_scalars[x]
