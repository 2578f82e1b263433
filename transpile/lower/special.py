"""``Softmax``, ``LogSoftmax`` and ``SoftmaxGrad`` along any axis, or set of axes.

The work is a row-wise helper over a 2-d view: the reduced axes are moved last,
the rest flattened into rows, and the result given back its shape and axis order.
"""

import libcst as cst
import pytensor.tensor.special as pts

from .. import syntax as sx
from ..logsumexp import LogSumExp, SoftmaxLogSumExp, scipy_log_softmax
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
        value = sx.transpose(value, perm)
    if ndim == 2 and perm == [0, 1]:
        return value if var in fn.contiguous else sx.call("np.ascontiguousarray", value)
    row_length = sx.chain("*", [sx.subscript(sx.attr(fn.expr(var), "shape"), [sx.literal(a)])
                                for a in axes])
    return sx.method(sx.call("np.ascontiguousarray", value), "reshape",
                     sx.tuple_([sx.literal(-1), row_length]))


def _rows_back(fn, x, result, perm, axes, out) -> sx.Expr:
    """The row-wise ``result`` of a helper on ``x``'s rows in ``x``'s own shape."""
    ndim = x.type.ndim
    value = fn.expr(x)
    if perm == list(range(ndim)):
        fn.contiguous.add(out)  # the helper's fresh array, at most reshaped
        if ndim != 2 or len(axes) == ndim:
            result = sx.method(result, "reshape", sx.attr(value, "shape"))
        return result
    moved = sx.tuple_([sx.subscript(sx.attr(value, "shape"), [sx.literal(p)]) for p in perm])
    inverse = [perm.index(d) for d in range(ndim)]
    return sx.transpose(sx.method(result, "reshape", moved), inverse)


def _per_row_back(fn, x, result, axes, out) -> sx.Expr:
    """A helper's one value per row of ``x`` in the shape of ``x`` without ``axes``."""
    kept = [d for d in range(x.type.ndim) if d not in axes]
    if not kept:
        return sx.subscript(result, [sx.literal(0)])
    fn.contiguous.add(out)
    if len(kept) == 1:
        return result
    shape = sx.attr(fn.expr(x), "shape")
    return sx.method(result, "reshape",
                     sx.tuple_([sx.subscript(shape, [sx.literal(d)]) for d in kept]))


def _perm(ndim, axes) -> list[int]:
    return [d for d in range(ndim) if d not in axes] + list(axes)


@register(*_HELPERS)
def lower_Softmax(op, node, fn):
    (out,) = node.outputs
    axes = _axes(op, out.type.ndim)
    perm = _perm(out.type.ndim, axes)
    rows = [_rows(fn, var, perm, axes) for var in node.inputs]
    flag = [sx.name("True")] if scipy_log_softmax(op) else []
    result = sx.call(fn.helper(_HELPERS[type(op)]), *rows, *flag)
    fn.bind(out, _rows_back(fn, node.inputs[0], result, perm, axes, out),
            hint=type(op).__name__.lower())


@register(LogSumExp)
def lower_LogSumExp(op, node, fn):
    (x,), (out,) = node.inputs, node.outputs
    rows = _rows(fn, x, _perm(x.type.ndim, op.axes), op.axes)
    result = sx.call(fn.helper("logsumexp_rows"), rows)
    fn.bind(out, _per_row_back(fn, x, result, op.axes, out), hint="logsumexp")


@register(SoftmaxLogSumExp)
def lower_SoftmaxLogSumExp(op, node, fn):
    """``softmax, lse = softmax_logsumexp_rows(rows)``: one row pass for both."""
    (x,), (out, lse) = node.inputs, node.outputs
    perm = _perm(x.type.ndim, op.axes)
    rows = _rows(fn, x, perm, op.axes)
    kind = "log_softmax" if op.log else "softmax"
    names = [fn.fresh(out.name or kind, kind), fn.fresh(lse.name or "logsumexp", "logsumexp")]
    flag = [sx.name("True")] * (op.log + op.scipy_shift)
    fn.emit(sx.assign_many(names, sx.call(fn.helper("softmax_logsumexp_rows"), rows, *flag)))
    for var, value in ((out, _rows_back(fn, x, sx.name(names[0]), perm, op.axes, out)),
                       (lse, _per_row_back(fn, x, sx.name(names[1]), op.axes, lse))):
        if isinstance(value, cst.Name):
            fn.values[var] = value
        else:
            fn.bind(var, value, hint=kind if var is out else "logsumexp")
