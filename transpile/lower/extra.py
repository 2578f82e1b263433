"""Array utilities: ``Split``, ``CumOp`` (cumsum, cumprod), ``ExtractDiag``,
``AllocDiag``, ``Eye``, ``Repeat``, ``SortOp`` and ``ArgSortOp``.

Numba's NumPy lacks the ``axis`` arguments of most of these, so each is an explicit
loop along its axis, reading whole slices of the others::

    x_cumsum = x.copy()
    for i in range(1, x_cumsum.shape[1]):
        x_cumsum[:, i] += x_cumsum[:, i - 1]
"""

from pytensor.graph.basic import Constant
from pytensor.tensor.basic import AllocDiag, ExtractDiag, Eye, Split
from pytensor.tensor.extra_ops import CumOp, Repeat
from pytensor.tensor.sort import ArgSortOp, SortOp

from .. import syntax as sx
from ..dtypes import dtype_attr
from ..errors import UnsupportedOpError
from ..registry import register
from .elemwise import dim_size


def _constant_axis(node, axis_var, ndim: int) -> int:
    if not isinstance(axis_var, Constant):
        raise UnsupportedOpError(f"{node.op} with an axis known at run time: {node}")
    return int(axis_var.data) % ndim


def _trim(index: list) -> list:
    """Drop trailing ``:`` from a subscript."""
    index = list(index)
    while index and index[-1] is sx.COLON:
        index.pop()
    return index


def _along(ndim: int, axis: int, index) -> list:
    """A subscript taking ``index`` along ``axis`` and everything of the others."""
    subscript = [sx.COLON] * ndim
    subscript[axis] = index
    return _trim(subscript)


def _raise_if(fn, test, exc: str, message: str) -> None:
    fn.emit(sx.if_(test, [sx.raise_(exc, message)]))


def _fresh(fn, out, value, hint) -> None:
    fn.bind(out, value, hint=hint)
    fn.contiguous.add(out)


# ---- Split ---------------------------------------------------------------------------


def _split_sizes(fn, splits, n: int) -> list:
    if splits.owner is not None and type(splits.owner.op).__name__ == "MakeVector":
        return [fn.expr(v) for v in splits.owner.inputs]
    return [sx.subscript(fn.expr(splits), [sx.literal(k)]) for k in range(n)]


@register(Split)
def lower_Split(op, node, fn):
    x, axis_var, splits = node.inputs
    axis = _constant_axis(node, axis_var, x.type.ndim)
    n = op.len_splits
    if not isinstance(splits, Constant) and splits.type.shape[0] != n:
        _raise_if(fn, sx.compare("!=", dim_size(fn, splits, 0), sx.literal(n)),
                  "ValueError", "Length of splits is not equal to n_splits")
    length = dim_size(fn, x, axis)
    message = "split sizes must be non-negative and sum to the length of the axis"
    if isinstance(splits, Constant):  # where each part ends, as literals
        data = [int(v) for v in splits.data]
        if len(data) != n:
            raise UnsupportedOpError(f"{node}: {len(data)} split sizes for {n} splits")
        stops = [sx.literal(sum(data[: k + 1])) for k in range(n)]
        if min(data) < 0:
            fn.emit(sx.raise_("ValueError", message))
        elif x.type.shape[axis] != sum(data):
            _raise_if(fn, sx.compare("!=", length, stops[-1]), "ValueError", message)
    else:  # where each part ends, in locals
        sizes = _split_sizes(fn, splits, n)
        stops, total = [], None
        for k, size in enumerate(sizes):
            total = size if total is None else sx.binop("+", total, size)
            if k < n - 1:
                total = fn.bind_name(fn.fresh(fn.hint_after(x, f"stop{k}")), total)
            stops.append(total)
        smallest = sx.call("min", *sizes) if n > 1 else sizes[0]
        negative = sx.compare("<", smallest, sx.literal(0))
        _raise_if(fn, sx.boolop("or", negative, sx.compare("!=", stops[-1], length)),
                  "ValueError", message)
    value = fn.expr(x)
    for k, out in enumerate(node.outputs):
        start = stops[k - 1] if k > 0 else None
        stop = stops[k] if k < n - 1 else None
        part = sx.subscript(value, _along(x.type.ndim, axis, sx.slice_(start, stop)))
        fn.bind(out, part, hint=fn.hint_after(x, f"part{k}"), view_of=x)


# ---- CumOp ---------------------------------------------------------------------------


@register(CumOp)
def lower_CumOp(op, node, fn):
    (x,) = node.inputs
    (out,) = node.outputs
    name = "cumsum" if op.mode == "add" else "cumprod"
    if fn.can_donate(x):
        result = fn.expr(x)
        fn.alias(out, result)
    else:
        result = fn.bind(out, sx.method(fn.expr(x), "copy"), hint=fn.hint_after(x, name))
    fn.contiguous.add(out)
    # Each entry is combined with the one before it along the axis, item by item.
    with fn.indices(x.type.ndim) as loop:
        here = [sx.name(i) for i in loop]
        before = list(here)
        before[op.axis] = sx.binop("-", here[op.axis], sx.literal(1))
        combine = "+" if op.mode == "add" else "*"
        step = sx.augassign(sx.subscript(result, here), combine,
                            sx.subscript(result, before))
        for d in reversed(range(x.type.ndim)):
            extent = sx.subscript(sx.attr(result, "shape"), [sx.literal(d)])
            start = [sx.literal(1)] if d == op.axis else []
            step = sx.for_range(loop[d], [*start, extent], [step])
        fn.emit(step)


# ---- diagonals -----------------------------------------------------------------------
# Whole array parts are copied item by item: Numba compiles ``a[:, i] = b[:, i]``
# (a copy with a run-time shape check) many times slower than a loop.


def _diagonal_at(i: str, offset: int) -> tuple:
    """The (row, column) of the ``i``-th entry of the diagonal at ``offset``."""
    row = sx.name(i) if offset >= 0 else sx.binop("+", sx.name(i), sx.literal(-offset))
    col = sx.name(i) if offset <= 0 else sx.binop("+", sx.name(i), sx.literal(offset))
    return row, col


def _diagonal_loops(fn, i, size, offset, axes, others, extents, copy):
    """``for i in range(size)``, and inside it loops over the ``others`` axes (of
    lengths ``extents``) around ``copy(matrix_index, line_index)``: the index of the
    diagonal's ``i``-th entry in the array with the matrix ``axes``, and in the array
    holding diagonals along its last axis."""
    with fn.indices(len(others)) as loop:
        matrix_index = [None] * (len(others) + 2)
        matrix_index[axes[0]], matrix_index[axes[1]] = _diagonal_at(i, offset)
        at = iter(loop)
        matrix_index = [e if e is not None else sx.name(next(at)) for e in matrix_index]
        line_index = [*(sx.name(j) for j in loop), sx.name(i)]
        body = sx.for_nest(loop, extents, [copy(matrix_index, line_index)])
    fn.emit(sx.for_range(i, [size], body))


@register(ExtractDiag)
def lower_ExtractDiag(op, node, fn):
    (x,) = node.inputs
    (out,) = node.outputs
    rows, cols = dim_size(fn, x, op.axis1), dim_size(fn, x, op.axis2)
    if out.type.shape[-1] is not None:
        size = sx.literal(out.type.shape[-1])
    else:
        if op.offset >= 0:
            bound = sx.call("min", rows, sx.binop("-", cols, sx.literal(op.offset))
                            if op.offset else cols)
        else:
            bound = sx.call("min", sx.binop("-", rows, sx.literal(-op.offset)), cols)
        size = fn.bind_name(fn.fresh(fn.hint_after(x, "diag_len")),
                            sx.call("max", sx.literal(0), bound))
    others = [d for d in range(x.type.ndim) if d not in (op.axis1, op.axis2)]
    extents = [dim_size(fn, x, d) for d in others]
    shape = sx.tuple_([*extents, size]) if others else size
    target = fn.bind(out, sx.call("np.empty", shape, dtype=dtype_attr(out.type.dtype)),
                     hint=fn.hint_after(x, "diag"))
    fn.contiguous.add(out)
    def copy(matrix, line):
        return sx.assign(sx.subscript(target, line), sx.subscript(fn.expr(x), matrix))

    with fn.indices(1) as (i,):
        _diagonal_loops(fn, i, size, op.offset, (op.axis1, op.axis2), others, extents,
                        copy)


@register(AllocDiag)
def lower_AllocDiag(op, node, fn):
    (v,) = node.inputs
    (out,) = node.outputs
    n = dim_size(fn, v, v.type.ndim - 1)
    side = sx.binop("+", n, sx.literal(abs(op.offset))) if op.offset else n
    if out.type.shape[op.axis1] is not None:
        side = sx.literal(out.type.shape[op.axis1])
    elif op.offset:
        side = fn.bind_name(fn.fresh(fn.hint_after(v, "side")), side)
    extents = [dim_size(fn, v, d) for d in range(v.type.ndim - 1)]
    batch = iter(extents)
    shape = [side if d in (op.axis1, op.axis2) else next(batch)
             for d in range(out.type.ndim)]
    zeros = sx.call("np.zeros", sx.tuple_(shape), dtype=dtype_attr(out.type.dtype))
    target = fn.bind(out, zeros, hint=fn.hint_after(v, "diag"))
    fn.contiguous.add(out)
    others = [d for d in range(out.type.ndim) if d not in (op.axis1, op.axis2)]

    def copy(matrix, line):
        return sx.assign(sx.subscript(target, matrix), sx.subscript(fn.expr(v), line))

    with fn.indices(1) as (i,):
        _diagonal_loops(fn, i, n, op.offset, (op.axis1, op.axis2), others, extents,
                        copy)


@register(Eye)
def lower_Eye(op, node, fn):
    n, m, k = (fn.expr(v) for v in node.inputs)
    value = sx.call("np.eye", n, m, k, dtype=dtype_attr(op.dtype))
    _fresh(fn, node.outputs[0], value, "eye")


# ---- Repeat --------------------------------------------------------------------------


@register(Repeat)
def lower_Repeat(op, node, fn):
    x, repeats = node.inputs
    (out,) = node.outputs
    axis = op.axis
    length = dim_size(fn, x, axis)
    uniform = repeats.type.shape[0] == 1  # one count for every entry
    if not uniform:
        _raise_if(fn, sx.compare("!=", dim_size(fn, repeats, 0), length), "ValueError",
                  "repeats must have one count per entry along the axis")
    total = fn.fresh(fn.hint_after(x, "repeated_len"))
    others = [d for d in range(x.type.ndim) if d != axis]
    with fn.indices(1 + len(others)) as (i, *loop):
        count = sx.subscript(fn.expr(repeats),
                             [sx.literal(0) if uniform else sx.name(i)])
        fn.emit(sx.assign(total, sx.literal(0)))
        fn.emit(sx.for_range(i, [length], [
            sx.if_(sx.compare("<", count, sx.literal(0)),
                   [sx.raise_("ValueError", "repeats may not be negative")]),
            sx.augassign(sx.name(total), "+", count),
        ]))
        shape = [sx.name(total) if d == axis else dim_size(fn, x, d)
                 for d in range(x.type.ndim)]
        dims = sx.tuple_(shape) if len(shape) > 1 else shape[0]
        empty = sx.call("np.empty", dims, dtype=dtype_attr(out.type.dtype))
        target = fn.bind(out, empty, hint=fn.hint_after(x, "repeated"))
        fn.contiguous.add(out)
        # Entry i along the axis is copied ``count`` times, to ``at``, ``at + 1``...
        at = fn.fresh("at")
        fn.emit(sx.assign(at, sx.literal(0)))
        read, write = [sx.name(j) for j in loop], [sx.name(j) for j in loop]
        read.insert(axis, sx.name(i))
        write.insert(axis, sx.name(at))
        copy = sx.for_nest(loop, [dim_size(fn, x, d) for d in others], [
            sx.assign(sx.subscript(target, write), sx.subscript(fn.expr(x), read))])
        with fn.indices(1) as (r,):
            inner = sx.for_range(r, [count], [*copy, sx.augassign(sx.name(at), "+",
                                                                  sx.literal(1))])
        fn.emit(sx.for_range(i, [length], [inner]))


# ---- sorting -------------------------------------------------------------------------


def _sort(op, node, fn, sort_call, hint):
    """``sort_call`` along the axis: of the array itself when 1-d, else of each line
    along the axis, in loops over the other axes (copied out item by item)."""
    x, axis_var = node.inputs
    (out,) = node.outputs
    if x.type.ndim == 0:
        fn.alias(out, fn.expr(x))
        return
    axis = _constant_axis(node, axis_var, x.type.ndim)
    if x.type.ndim == 1:
        _fresh(fn, out, sort_call(fn.expr(x)), fn.hint_after(x, hint))
        return
    empty = sx.call("np.empty", sx.attr(fn.expr(x), "shape"),
                    dtype=dtype_attr(out.type.dtype))
    target = fn.bind(out, empty, hint=fn.hint_after(x, hint))
    fn.contiguous.add(out)
    others = [d for d in range(x.type.ndim) if d != axis]
    with fn.indices(x.type.ndim) as loop:
        *outer, j = loop
        index = [sx.COLON] * x.type.ndim
        for d, i in zip(others, outer, strict=True):
            index[d] = sx.name(i)
        line = fn.fresh("line")
        item = list(index)
        item[axis] = sx.name(j)
        copy = sx.assign(sx.subscript(target, item),
                         sx.subscript(sx.name(line), [sx.name(j)]))
        body = [sx.assign(line, sort_call(sx.subscript(fn.expr(x), _trim(index)))),
                sx.for_range(j, [dim_size(fn, x, axis)], [copy])]
        fn.emit(*sx.for_nest(outer, [dim_size(fn, x, d) for d in others], body))


@register(SortOp)
def lower_SortOp(op, node, fn):
    _sort(op, node, fn, lambda a: sx.call("np.sort", a), "sorted")


@register(ArgSortOp)
def lower_ArgSortOp(op, node, fn):
    # Numba's quicksort orders ties differently from NumPy's (which sorts short
    # arrays stably); a stable sort agrees with NumPy wherever NumPy's order is fixed.
    def argsort(a):
        return sx.call("np.argsort", a, kind=sx.string("mergesort"))

    _sort(op, node, fn, argsort, "order")
