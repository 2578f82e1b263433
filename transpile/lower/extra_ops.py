"""Index and set operations of ``pytensor.tensor.extra_ops``: ``RavelMultiIndex``,
``UnravelIndex``, ``SearchsortedOp``, ``Unique``, ``FillDiagonal``,
``FillDiagonalOffset`` and ``Bartlett``.

The element-wise ones are a loop nest over the result with the arithmetic inline::

    for i in range(flat.shape[0]):
        rest = flat[i]
        if rest < 0 or rest >= size:
            raise ValueError("index out of bounds for the array of the given dims")
        col[i] = rest % dims[1]
        row[i] = rest // dims[1]

binary search and unique values are calls of helpers (``transpile/runtime/extra_ops.py``).
"""

from types import SimpleNamespace

import libcst as cst
from pytensor.graph.basic import Constant
from pytensor.tensor.extra_ops import (
    Bartlett,
    FillDiagonal,
    FillDiagonalOffset,
    RavelMultiIndex,
    SearchsortedOp,
    Unique,
    UnravelIndex,
)

from .. import syntax as sx
from ..dtypes import cast, dtype_attr, is_complex
from ..errors import UnsupportedOpError
from ..registry import register
from .elemwise import check_shapes, dim_size, element, output_dims, shape_tuple
from .shape import vector_elements


def _fill(fn, outs, sources, compute, hints) -> None:
    """Bind each of ``outs`` (all of one shape, that of the element-wise ``sources``)
    to an array filled in one loop nest: ``compute(indices)`` returns the statements
    of one position and the value of each output there.  0-d outputs are scalars."""
    ndim = outs[0].type.ndim
    if ndim == 0:
        stmts, values = compute([])
        fn.emit(*stmts)
        for out, value, hint in zip(outs, values, hints, strict=True):
            fn.bind(out, value, hint=hint)
        return
    dims, mismatches = output_dims(fn, SimpleNamespace(inputs=sources, outputs=outs))
    check_shapes(fn, mismatches, type(outs[0].owner.op).__name__)
    targets = []
    for out, hint in zip(outs, hints, strict=True):
        empty = sx.call("np.empty", shape_tuple(dims), dtype=dtype_attr(out.type.dtype))
        targets.append(fn.bind(out, empty, hint=hint))
        fn.contiguous.add(out)
    with fn.indices(ndim) as indices:
        stmts, values = compute(indices)
        here = [sx.name(i) for i in indices]
        stores = [sx.assign(sx.subscript(t, here), v)
                  for t, v in zip(targets, values, strict=True)]
        fn.emit(*sx.for_nest(indices, dims, [*stmts, *stores]))


def _raise_if(test, message: str):
    return sx.if_(test, [sx.raise_("ValueError", message)])


def _lengths(fn, dims, n: int, what: str) -> list:
    """The ``n`` entries of the shape vector ``dims`` (after checking its length),
    each a literal or a local (``n0 = dims[0]``)."""
    if dims.type.shape[0] is None:
        fn.emit(_raise_if(sx.compare("!=", dim_size(fn, dims, 0), sx.literal(n)),
                          f"{what}: dims must have {n} entries"))
    elif dims.type.shape[0] != n:
        raise UnsupportedOpError(f"{what} with {dims.type.shape[0]} dims for {n} indices")
    return [v if isinstance(v, (cst.Integer, cst.Name)) else fn.bind_name(fn.fresh(f"n{k}"), v)
            for k, v in enumerate(vector_elements(fn, dims, n))]


def _int_read(fn, var, indices, local: str, stmts: list) -> sx.Expr:
    """The integer entry of ``var`` at the loop position, in a local (as int64 when
    it is uint64: Numba mixes uint64 and int64 into float64)."""
    value = element(fn, var, indices)
    if var.type.dtype == "uint64":
        value = cast(value, "int64")
    name = fn.fresh(local)
    stmts.append(sx.assign(name, value))
    return sx.name(name)


@register(RavelMultiIndex)
def lower_RavelMultiIndex(op, node, fn):
    *coords, dims = node.inputs
    lengths = _lengths(fn, dims, len(coords), "ravel_multi_index")

    def compute(indices):
        stmts = []
        positions = []
        for var, length in zip(coords, lengths, strict=True):
            pos = _int_read(fn, var, indices, var.name or "index", stmts)
            if op.mode == "wrap":
                pos = sx.binop("%", pos, length)
            elif op.mode == "clip":
                pos = sx.call("min", sx.call("max", pos, sx.literal(0)),
                              sx.binop("-", length, sx.literal(1)))
            positions.append(pos)
        if op.mode == "raise":
            tests = [sx.boolop("or", sx.compare("<", p, sx.literal(0)),
                               sx.compare(">=", p, n))
                     for p, n in zip(positions, lengths, strict=True)]
            stmts.append(_raise_if(sx.any_of(tests), "invalid entry in coordinates array"))
        pairs = list(zip(positions, lengths, strict=True))
        if op.order == "F":
            pairs.reverse()
        flat = pairs[0][0]
        for pos, length in pairs[1:]:  # Horner: ((i0 * n1) + i1) * n2 + i2
            flat = sx.binop("+", sx.binop("*", flat, length), pos)
        return stmts, [flat]

    _fill(fn, node.outputs, coords, compute, ["flat_index"])


@register(UnravelIndex)
def lower_UnravelIndex(op, node, fn):
    flat, dims = node.inputs
    n = len(node.outputs)
    lengths = _lengths(fn, dims, n, "unravel_index")
    size = fn.bind_name(fn.fresh("size"), sx.chain("*", lengths))
    order = list(range(n)) if op.order == "C" else list(reversed(range(n)))

    def compute(indices):
        stmts = []
        rest = fn.fresh("rest")
        stmts.append(sx.assign(rest, sx.call("np.int64", element(fn, flat, indices))))
        rest = sx.name(rest)
        stmts.append(_raise_if(sx.boolop("or", sx.compare("<", rest, sx.literal(0)),
                                         sx.compare(">=", rest, size)),
                               "index out of bounds for the array of the given dims"))
        values = [None] * n
        # The fastest-varying coordinate first: its remainder, then divide it out.
        for k in reversed(order[1:]):
            coord = fn.fresh(f"coord{k}")
            stmts.append(sx.assign(coord, sx.binop("%", rest, lengths[k])))
            values[k] = sx.name(coord)
            stmts.append(sx.simple(cst.AugAssign(rest, cst.FloorDivideAssign(),
                                                    lengths[k])))
        values[order[0]] = rest
        return stmts, values

    _fill(fn, node.outputs, [flat], compute, [f"coord{k}" for k in range(n)])


@register(SearchsortedOp)
def lower_SearchsortedOp(op, node, fn):
    x, v, *sorter = node.inputs
    if is_complex(x.type.dtype) or is_complex(v.type.dtype):
        raise UnsupportedOpError(f"SearchsortedOp of {x.type.dtype} values: complex numbers "
                                 "are not ordered in Numba (not supported yet)")
    haystack = fn.expr(x)
    if sorter:
        (order,) = sorter
        fn.emit(_raise_if(sx.compare("!=", dim_size(fn, order, 0), dim_size(fn, x, 0)),
                          "sorter.size must equal a.size"))
        haystack = fn.bind_name(fn.fresh(fn.hint_after(x, "sorted")),
                                sx.subscript(haystack, [fn.expr(order)]))
    right = sx.literal(op.side == "right")
    (out,) = node.outputs
    value = fn.expr(v) if v.type.ndim else sx.call("np.array", fn.expr(v))
    found = sx.call(fn.helper("searchsorted"), haystack, value, right)
    if v.type.ndim == 0:
        found = sx.subscript(found, [])
    fn.bind(out, found, hint="position")
    if v.type.ndim:
        fn.contiguous.add(out)


# ---- unique values -------------------------------------------------------------------


def _unique_outputs(op, node) -> dict:
    """Which result each output is: "values", "index", "inverse", "counts"."""
    kinds = ["values"] + [k for k, flag in (("index", op.return_index),
                                            ("inverse", op.return_inverse),
                                            ("counts", op.return_counts)) if flag]
    return dict(zip(kinds, node.outputs, strict=True))


def _needed(fn, var) -> bool:
    return getattr(fn, "needed", lambda v: True)(var)


def _unpack(fn, results: dict, kinds, call, base: str, keep=()) -> dict:
    """``a, _, c, _ = call``: the results the graph reads (and those in ``keep``),
    the others dropped.  Returns each kept result's name."""
    names = {}
    for kind in kinds:
        var = results.get(kind)
        if kind in keep or var is not None and _needed(fn, var):
            names[kind] = fn.fresh(var.name if var is not None and var.name
                                   else f"{base}_{kind}")
    fn.emit(sx.assign_many([names.get(kind, "_") for kind in kinds], call))
    for kind, name in names.items():
        if results.get(kind) is not None:
            fn.values[results[kind]] = sx.name(name)
            fn.contiguous.add(results[kind])
    return names


@register(Unique)
def lower_Unique(op, node, fn):
    (x,) = node.inputs
    if is_complex(x.type.dtype):
        raise UnsupportedOpError(f"Unique of {x.type.dtype} values: complex numbers are "
                                 "not ordered in Numba (not supported yet)")
    results = _unique_outputs(op, node)
    base = fn.name_base(x) or "unique"
    if op.axis is None:
        flat = sx.call("np.ravel", fn.expr(x)) if x.type.ndim != 1 else fn.expr(x)
        if x.type.ndim == 0:
            flat = sx.call("np.array", sx.list_([fn.expr(x)]))
        _unpack(fn, results, ("values", "index", "inverse", "counts"),
                sx.call(fn.helper("unique_flat"), flat), base)
        return
    _unique_along(fn, op, x, results, base)


def _unique_along(fn, op, x, results, base) -> None:
    """Unique slices along ``op.axis``: the slices as the rows of a matrix (the axis
    moved first, the rest flattened), their unique rows, and the slices taken back."""
    axis, ndim = op.axis, x.type.ndim
    perm = [axis, *(d for d in range(ndim) if d != axis)]
    moved = fn.expr(x)
    if perm != list(range(ndim)):
        moved = sx.transpose(moved, perm)
    rows = fn.bind_name(fn.fresh(f"{base}_rows"), sx.method(
        sx.call("np.ascontiguousarray", moved), "reshape",
        sx.tuple_([dim_size(fn, x, axis), sx.literal(-1)])))
    values = results["values"]
    names = _unpack(fn, results, ("index", "inverse", "counts"),
                    sx.call(fn.helper("unique_rows"), rows), base, keep=("index",))
    index = sx.name(names["index"])
    if not _needed(fn, values):
        return
    taken = sx.subscript(rows, [index])
    shape = [sx.subscript(sx.attr(index, "shape"), [sx.literal(0)]),
             *(dim_size(fn, x, d) for d in perm[1:])]
    unique = sx.method(taken, "reshape", sx.tuple_(shape))
    if perm != list(range(ndim)):
        inverse = [perm.index(d) for d in range(ndim)]
        unique = sx.call("np.ascontiguousarray", sx.transpose(unique, inverse))
    fn.bind(values, unique, hint=f"{base}_values")
    fn.contiguous.add(values)


# ---- diagonals and windows -----------------------------------------------------------


def _copy_of(fn, a, out, hint: str) -> sx.Expr:
    """A copy of ``a`` to write into (``a`` itself when it is ours to give)."""
    if fn.can_donate(a):
        fn.alias(out, fn.expr(a))
        target = fn.expr(a)
    else:
        target = fn.bind(out, sx.method(fn.expr(a), "copy"), hint=hint)
    fn.contiguous.add(out)
    return target


@register(FillDiagonal)
def lower_FillDiagonal(op, node, fn):
    a, val = node.inputs
    (out,) = node.outputs
    ndim = a.type.ndim
    if ndim > 2:
        lengths = [dim_size(fn, a, d) for d in range(ndim)]
        fn.emit(_raise_if(sx.any_of([sx.compare("!=", n, lengths[0]) for n in lengths[1:]]),
                          "All dimensions of input must be of equal length"))
    target = _copy_of(fn, a, out, fn.hint_after(a, "filled"))
    length = sx.call("min", dim_size(fn, a, 0), dim_size(fn, a, 1)) if ndim == 2 \
        else dim_size(fn, a, 0)
    with fn.indices(1) as (i,):
        fn.emit(sx.for_range(i, [length], [
            sx.assign(sx.subscript(target, [sx.name(i)] * ndim), fn.expr(val))]))


@register(FillDiagonalOffset)
def lower_FillDiagonalOffset(op, node, fn):
    a, val, offset = node.inputs
    (out,) = node.outputs
    target = _copy_of(fn, a, out, fn.hint_after(a, "filled"))
    rows, cols = dim_size(fn, a, 0), dim_size(fn, a, 1)
    k = fn.expr(offset)
    if not isinstance(k, (cst.Name, cst.Integer)):
        k = fn.bind_name(fn.fresh("offset"), k)
    with fn.indices(1) as (i,):
        at = sx.name(i)
        above = sx.for_range(i, [sx.call("min", rows, cols, sx.binop("-", cols, k))], [
            sx.assign(sx.subscript(target, [at, sx.binop("+", at, k)]), fn.expr(val))])
        below = sx.for_range(i, [sx.call("min", rows, cols, sx.binop("+", rows, k))], [
            sx.assign(sx.subscript(target, [sx.binop("-", at, k), at]), fn.expr(val))])
    if isinstance(offset, Constant):
        fn.emit(above if int(offset.data) >= 0 else below)
    else:
        fn.emit(sx.if_(sx.compare(">=", k, sx.literal(0)), [above], [below]))


@register(Bartlett)
def lower_Bartlett(op, node, fn):
    (m,) = node.inputs
    (out,) = node.outputs
    fn.bind(out, sx.call(fn.helper("bartlett_window"), fn.expr(m)), hint="window")
    fn.contiguous.add(out)
