"""``Softmax``, ``LogSoftmax`` and ``SoftmaxGrad`` along any axis.

The work is a row-wise helper over a 2-d view: the axis is moved last, the rest
flattened into rows, and the result given back its shape and axis order.
"""

import pytensor.tensor.special as pts

from .. import syntax as sx
from ..registry import register

# PyTensor 3 has no SoftmaxGrad (its softmax is a symbolic Op with a graph gradient).
_HELPERS = {
    getattr(pts, cls_name): helper
    for cls_name, helper in (("Softmax", "softmax_rows"),
                             ("LogSoftmax", "log_softmax_rows"),
                             ("SoftmaxGrad", "softmax_grad_rows"))
    if hasattr(pts, cls_name)
}


def _as_rows(fn, var, axis):
    """(2-d contiguous expression, shape of the moved array, permutation or None)."""
    ndim = var.type.ndim
    value = fn.expr(var)
    if axis is None:
        return sx.method(sx.call("np.ascontiguousarray", value), "reshape",
                         sx.tuple_([sx.literal(1), sx.literal(-1)])), None
    axis %= ndim
    perm = [d for d in range(ndim) if d != axis] + [axis]
    if perm != list(range(ndim)):
        value = sx.method(value, "transpose", *(sx.literal(p) for p in perm))
    if ndim == 2 and perm == [0, 1]:
        return (value if var in fn.contiguous else sx.call("np.ascontiguousarray", value)), perm
    return sx.method(sx.call("np.ascontiguousarray", value), "reshape",
                     sx.tuple_([sx.literal(-1), sx.subscript(sx.attr(fn.expr(var), "shape"),
                                                             [sx.literal(axis)])])), perm


@register(*_HELPERS)
def lower_Softmax(op, node, fn):
    (out,) = node.outputs
    ndim = out.type.ndim
    helper = fn.helper(_HELPERS[type(op)])
    rows = [_as_rows(fn, var, op.axis)[0] for var in node.inputs]
    _, perm = _as_rows(fn, node.inputs[0], op.axis)
    hint = type(op).__name__.lower()
    if ndim == 1 and op.axis is not None:
        rows = [sx.method(fn.expr(v) if v in fn.contiguous else
                          sx.call("np.ascontiguousarray", fn.expr(v)), "reshape",
                          sx.tuple_([sx.literal(1), sx.literal(-1)])) for v in node.inputs]
        perm = None
    result = sx.call(helper, *rows)
    x = fn.expr(node.inputs[0])
    if perm is None or perm == list(range(ndim)):
        fn.contiguous.add(out)  # the helper's fresh array, at most reshaped
    if perm is None or perm != list(range(ndim)) or ndim != 2:
        if perm is None or perm == list(range(ndim)):
            result = sx.method(result, "reshape", sx.attr(x, "shape"))
        else:
            moved = sx.tuple_([sx.subscript(sx.attr(x, "shape"), [sx.literal(p)]) for p in perm])
            inverse = [perm.index(d) for d in range(ndim)]
            result = sx.method(sx.method(result, "reshape", moved), "transpose",
                               *(sx.literal(p) for p in inverse))
    fn.bind(out, result, hint=hint)
