"""``Softmax``, ``LogSoftmax`` and ``SoftmaxGrad`` along any axis, or set of axes.

The work is a row-wise helper over a 2-d view: the reduced axes are moved last,
the rest flattened into rows, and the result given back its shape and axis order.
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


def _axes(op, ndim):
    """The normalized, sorted axes the Op reduces over: PyTensor 2.x stores an int
    or None, PyTensor 3 a tuple (or None)."""
    if op.axis is None:
        return tuple(range(ndim))
    axes = op.axis if isinstance(op.axis, (tuple, list)) else (op.axis,)
    return tuple(sorted({a % ndim for a in axes}))


def _rows(fn, var, perm, axes):
    """``var`` as a contiguous 2-d array, one row per position outside ``axes``."""
    ndim = var.type.ndim
    value = fn.expr(var)
    if len(axes) == ndim:
        flat = value if var in fn.contiguous else sx.call("np.ascontiguousarray", value)
        return sx.method(flat, "reshape", sx.tuple_([sx.literal(1), sx.literal(-1)]))
    if perm != list(range(ndim)):
        value = sx.method(value, "transpose", *(sx.literal(p) for p in perm))
    if ndim == 2 and perm == [0, 1]:
        return value if var in fn.contiguous else sx.call("np.ascontiguousarray", value)
    row_length = sx.chain("*", [sx.subscript(sx.attr(fn.expr(var), "shape"), [sx.literal(a)])
                                for a in axes])
    return sx.method(sx.call("np.ascontiguousarray", value), "reshape",
                     sx.tuple_([sx.literal(-1), row_length]))


@register(*_HELPERS)
def lower_Softmax(op, node, fn):
    (out,) = node.outputs
    ndim = out.type.ndim
    axes = _axes(op, ndim)
    perm = [d for d in range(ndim) if d not in axes] + list(axes)
    rows = [_rows(fn, var, perm, axes) for var in node.inputs]
    result = sx.call(fn.helper(_HELPERS[type(op)]), *rows)
    x = fn.expr(node.inputs[0])
    if perm == list(range(ndim)):
        fn.contiguous.add(out)  # the helper's fresh array, at most reshaped
        if ndim != 2 or len(axes) == ndim:
            result = sx.method(result, "reshape", sx.attr(x, "shape"))
    else:
        moved = sx.tuple_([sx.subscript(sx.attr(x, "shape"), [sx.literal(p)]) for p in perm])
        inverse = [perm.index(d) for d in range(ndim)]
        result = sx.method(sx.method(result, "reshape", moved), "transpose",
                           *(sx.literal(p) for p in inverse))
    fn.bind(out, result, hint=type(op).__name__.lower())
