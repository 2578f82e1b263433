"""``Convolve1d`` (``pytensor.tensor.signal``): the direct sum of products, as NumPy's
``np.convolve`` computes it, in the ``convolve`` helper (``transpile/runtime``).

Its "full" / "valid" mode is an input (a boolean scalar), usually a constant;
``convolve1d(..., mode="same")`` is "valid" on a zero-padded input.  Batched
convolutions are a ``Blockwise`` of this Op (``lower/blockwise.py``)."""

from pytensor.graph.basic import Constant
from pytensor.tensor.basic import ScalarFromTensor
from pytensor.tensor.signal.conv import Convolve1d

from .. import syntax as sx
from ..dtypes import dtype_attr
from ..registry import register


def _operand(fn, var, dtype: str) -> sx.Expr:
    value = fn.expr(var)
    if var.type.dtype != dtype:
        value = sx.method(value, "astype", dtype_attr(dtype))
    return value


def _flag(fn, var) -> sx.Expr:
    """The mode flag: a literal when constant.  (A Blockwise without batch dimensions
    rebuilds the core node, wrapping the flag in a ScalarFromTensor nothing lowered.)"""
    while var not in fn.values and var.owner is not None and isinstance(
            var.owner.op, ScalarFromTensor):
        var = var.owner.inputs[0]
    if isinstance(var, Constant):
        return sx.literal(bool(var.data))
    return fn.expr(var)


@register(Convolve1d)
def lower_Convolve1d(op, node, fn):
    a, v, full_mode = node.inputs
    (out,) = node.outputs
    dtype = out.type.dtype
    value = sx.call(fn.helper("convolve"), _operand(fn, a, dtype), _operand(fn, v, dtype),
                    _flag(fn, full_mode))
    fn.bind(out, value, hint="convolved")
    fn.contiguous.add(out)
