"""Advanced indexing: integer arrays and boolean masks, read
(``AdvancedSubtensor1``, ``AdvancedSubtensor``) and written
(``AdvancedIncSubtensor1``, ``AdvancedIncSubtensor``), with ``Nonzero`` and
``MakeSlice``, which feed them.

Numba indexes with at most one 1-d array per subscript and checks no bounds, so the
generated code gathers and scatters in an explicit loop over the index arrays, with a
bounds check on every index it reads (``IndexError``, as NumPy raises)::

    for i in range(group.shape[0]):
        pos = group[i]
        if not -mu.shape[0] <= pos < mu.shape[0]:
            raise IndexError("index out of bounds for axis 0")
        mu_group[i] = mu[pos]

Inside the loop over the index arrays, each index is read and checked once; the axes
that are not indexed are looped over inside it, so every copy is of one item
(``out[j, i] = x[j, pos]``), which Numba compiles much faster than copies between array
parts.  Increments accumulate repeated indices in index order, as ``np.add.at``
does.  Index arrays and the increment must have the lengths NumPy would broadcast
them to, except along dimensions of static length 1 (no broadcasting of a length
known only at run time, as elsewhere in PyTensor).  A lone 1-d boolean mask is
read with Numba's own indexing, ``x[mask]``, after a check of its length.
"""

from dataclasses import dataclass, field

import libcst as cst
import numpy as np
from pytensor.graph.basic import Constant
from pytensor.tensor.basic import Nonzero
from pytensor.tensor.subtensor import (
    AdvancedIncSubtensor,
    AdvancedIncSubtensor1,
    AdvancedSubtensor,
    AdvancedSubtensor1,
    indices_from_subtensor,
)
from pytensor.tensor.type_other import MakeSlice, NoneTypeT, SliceType

from .. import syntax as sx
from ..dtypes import dtype_attr, is_complex, typed_literal
from ..errors import UnsupportedOpError
from ..registry import register
from .elemwise import dim_size
from .shape import int_value


@register(MakeSlice)
def lower_MakeSlice(op, node, fn):
    # Read by the indexing lowerings as ``start:stop:step``; a slice object otherwise.
    fn.alias(node.outputs[0], sx.call("slice", *(fn.expr(v) for v in node.inputs)))


@register(Nonzero)
def lower_Nonzero(op, node, fn):
    (a,) = node.inputs
    value = sx.call("np.nonzero", fn.expr(a))
    base = a.name or "nonzero"
    if len(node.outputs) == 1:
        fn.bind(node.outputs[0], sx.subscript(value, [sx.literal(0)]),
                hint=f"{base}_at")
    else:
        names = [fn.fresh(out.name or f"{base}_at{d}")
                 for d, out in enumerate(node.outputs)]
        fn.emit(sx.assign_many(names, value))
        for out, name in zip(node.outputs, names, strict=True):
            fn.alias(out, sx.name(name))
    fn.contiguous.update(node.outputs)


# ---- the index, axis by axis -------------------------------------------------------


def index_entries(op, index_inputs) -> list:
    """The index, one entry per position of the subscript: a variable (an integer, or
    an array of integers or booleans), a ``slice`` of variables, integers and Nones,
    ``None`` for ``np.newaxis``, or a variable holding a slice object.

    PyTensor 3 keeps the slices' structure in ``op.idx_list`` and passes their parts
    as inputs; PyTensor 2 passes each slice as one input (a constant or ``MakeSlice``).
    """
    idx_list = getattr(op, "idx_list", None)
    if idx_list is not None:
        return list(indices_from_subtensor(index_inputs, idx_list))
    entries = []
    for var in index_inputs:
        if isinstance(var.type, NoneTypeT):
            entries.append(None)
        elif isinstance(var, Constant) and isinstance(var.type, SliceType):
            entries.append(var.data)
        elif var.owner is not None and isinstance(var.owner.op, MakeSlice):
            entries.append(slice(*(None if isinstance(v.type, NoneTypeT) else v
                                   for v in var.owner.inputs)))
        else:
            entries.append(var)
    return entries


def _is_slice(entry) -> bool:
    return isinstance(entry, slice) or isinstance(entry.type, SliceType)


@dataclass
class _Axis:
    """One axis of the array being indexed (after slices and new axes are applied)."""

    length: sx.Expr
    index: sx.Expr | None = None  # an index array or integer; None for a whole axis
    shape: tuple = ()  # the index's static shape (None: known at run time)
    source: object = None  # arrays with one source have one length (a mask's nonzero)
    in_bounds: bool = False  # known to hold valid indices only
    number: int = 0  # the axis of the input array, for error messages

    @property
    def advanced(self) -> bool:
        return self.index is not None


@dataclass
class _Plan:
    """What ``x[indices]`` reads: ``view`` (``x`` or a basic-indexed view of it), its
    axes, the loop extents of the broadcast index arrays (``batch``), and the output's
    dimensions, each ``("batch", b)`` or ``("axis", a)``."""

    view: sx.Expr
    view_index: list  # the basic part of the index, applied to get ``view``
    axes: list[_Axis]
    dtype: str
    batch: list[sx.Expr] = field(default_factory=list)
    out_dims: list[tuple[str, int]] = field(default_factory=list)

    def out_shape(self) -> list[sx.Expr]:
        return [self.batch[k] if kind == "batch" else self.axes[k].length
                for kind, k in self.out_dims]


def _shape_at(value: sx.Expr, d: int) -> sx.Expr:
    return sx.subscript(sx.attr(value, "shape"), [sx.literal(d)])


def _slice(fn, entry):
    """A slice index as syntax: ``COLON``, ``start:stop:step``, or a slice object."""
    if not isinstance(entry, slice):
        return fn.expr(entry)  # a slice object passed in
    parts = [entry.start, entry.stop, entry.step]
    if all(p is None for p in parts):
        return sx.COLON
    return sx.slice_(*(None if p is None
                       else sx.literal(int(p)) if isinstance(p, (int, np.integer))
                       else int_value(fn, p) for p in parts))


def _statically_in_bounds(var, length) -> bool:
    if not isinstance(var, Constant) or length is None:
        return False
    data = np.asarray(var.data)
    return bool(np.all((data >= -length) & (data < length)))


def _plan(fn, x, indices, hint: str) -> _Plan:
    """Split ``x[indices]`` (see ``index_entries``) into a basic part (a view) and the
    advanced axes."""
    view_index, axes, x_axis = [], [], 0
    masks = []  # (first view axis, mask variable)
    for var in indices:
        if var is None:
            view_index.append(sx.NEWAXIS)
            axes.append(_Axis(sx.literal(1)))
        elif _is_slice(var):
            view_index.append(_slice(fn, var))
            axes.append(_Axis(None, number=x_axis))
            x_axis += 1
        elif var.type.dtype == "bool":
            masks.append((len(axes), var))
            for _ in range(var.type.ndim):
                view_index.append(sx.COLON)
                axes.append(_Axis(dim_size(fn, x, x_axis), number=x_axis))
                x_axis += 1
        else:
            length = dim_size(fn, x, x_axis)
            # The arrays of one np.nonzero have one length (no need to check it).
            same = var.owner if var.owner is not None and isinstance(
                var.owner.op, Nonzero) else var
            axes.append(_Axis(length, fn.expr(var), tuple(var.type.shape), same,
                              _statically_in_bounds(var, x.type.shape[x_axis]), x_axis))
            view_index.append(sx.COLON)
            x_axis += 1
    for _ in range(x_axis, x.type.ndim):
        axes.append(_Axis(None, number=x_axis))
        x_axis += 1

    view = fn.expr(x)
    view_index = _trim(view_index)
    if view_index:
        view = fn.bind_name(fn.fresh(f"{hint}_view"), sx.subscript(view, view_index))
    for a, axis in enumerate(axes):
        if axis.length is None:  # a whole or sliced axis: its length in the view
            static = None if view_index else x.type.shape[axis.number]
            axis.length = (sx.literal(static) if static is not None
                           else _shape_at(view, a))
    for first, mask in masks:
        _expand_mask(fn, axes, first, mask)
    plan = _Plan(view, view_index, axes, x.type.dtype)
    _broadcast(fn, plan)
    return plan


def _expand_mask(fn, axes, first: int, mask) -> None:
    """A boolean mask over ``k`` axes reads like the ``k`` index arrays of its
    ``np.nonzero``, once its shape is checked against the axes it covers."""
    value = fn.expr(mask)
    for d in range(mask.type.ndim):
        axis = axes[first + d]
        if not (isinstance(axis.length, cst.Integer) and mask.type.shape[d] is not None
                and int(axis.length.value) == mask.type.shape[d]):
            _raise_if(fn, sx.compare("!=", dim_size(fn, mask, d), axis.length),
                      "IndexError", "boolean index did not match indexed array along "
                      f"axis {axis.number}")
    base = mask.name or "mask"
    if mask.type.ndim == 1:
        names = [fn.fresh(f"{base}_at")]
        fn.emit(sx.assign(names[0], sx.subscript(sx.call("np.nonzero", value),
                                                 [sx.literal(0)])))
    else:
        names = [fn.fresh(f"{base}_at{d}") for d in range(mask.type.ndim)]
        fn.emit(sx.assign_many(names, sx.call("np.nonzero", value)))
    for d, name in enumerate(names):
        axis = axes[first + d]
        axis.index, axis.shape = sx.name(name), (None,)
        axis.source, axis.in_bounds = mask, True


def _broadcast(fn, plan: _Plan) -> None:
    """The loop extents of the index arrays broadcast together, checked to agree, and
    where the looped dimensions go in the output (NumPy's rule: in place of the
    indexed axes when those are adjacent, else first)."""
    arrays = [ax for ax in plan.axes if ax.advanced and ax.shape]
    nb = max((len(ax.shape) for ax in arrays), default=0)
    stretched = set()  # arrays that may broadcast a length known only at run time
    for b in range(nb):
        lengths, seen = [], []
        for ax in arrays:
            d = b - (nb - len(ax.shape))
            if d < 0 or ax.shape[d] == 1 or ax.source in seen:
                continue
            seen.append(ax.source)
            lengths.append((ax, sx.literal(ax.shape[d]) if ax.shape[d] is not None
                            else _shape_at(ax.index, d)))
        static = [n for _, n in lengths if isinstance(n, cst.Integer)]
        if len(lengths) < 2:
            extent = lengths[0][1] if lengths else sx.literal(1)
        elif static:  # one known length: every other must be it (or 1 at run time)
            extent = static[0]
        else:  # NumPy's rule at run time: the lengths that are not 1 agree
            extent = lengths[0][1]
            for _, n in lengths[1:]:  # the first length that is not 1, else 1
                extent = sx.ifexp(sx.compare("==", extent, sx.literal(1)), n, extent)
            extent = fn.bind_name(fn.fresh("extent"), extent)
        for ax, n in lengths:
            if isinstance(n, cst.Integer) and isinstance(extent, cst.Integer):
                if n.value != extent.value:
                    raise UnsupportedOpError("index arrays that cannot broadcast "
                                             "together")
                continue
            if len(lengths) > 1:
                if not isinstance(n, cst.Integer):
                    stretched.add(id(ax))
                _raise_if(fn, sx.paren(sx.boolop("and", sx.compare("!=", n, extent),
                                                 sx.compare("!=", n, sx.literal(1)))),
                          "IndexError", "shape mismatch: indexing arrays could not be "
                          "broadcast together")
        plan.batch.append(extent)
    for ax in arrays:  # a length 1 at run time is read at 0 like a static one
        if id(ax) in stretched:
            shape = [plan.batch[nb - len(ax.shape) + d] for d in range(len(ax.shape))]
            ax.index = fn.bind_name(fn.fresh("broadcast_index"), sx.call(
                "np.broadcast_to", ax.index, sx.tuple_(shape)))
            ax.shape = tuple(n if n == 1 else None for n in ax.shape)
    advanced = [a for a, ax in enumerate(plan.axes) if ax.advanced]
    basic = [a for a, ax in enumerate(plan.axes) if not ax.advanced]
    batch_dims = [("batch", b) for b in range(nb)]
    if advanced and advanced == list(range(advanced[0], advanced[-1] + 1)):
        plan.out_dims = [*(("axis", a) for a in basic if a < advanced[0]), *batch_dims,
                         *(("axis", a) for a in basic if a > advanced[-1])]
    else:
        plan.out_dims = [*batch_dims, *(("axis", a) for a in basic)]


# ---- emitting ----------------------------------------------------------------------


def _raise_if(fn, test, exc: str, message: str, into: list | None = None) -> None:
    stmt = sx.if_(test, [sx.raise_(exc, message)])
    if into is None:
        fn.emit(stmt)
    else:
        into.append(stmt)


def _trim(index: list) -> list:
    """Drop trailing ``:`` from a subscript."""
    index = list(index)
    while index and index[-1] is sx.COLON:
        index.pop()
    return index


def _positions(fn, plan: _Plan, loop: list[str], body: list) -> dict[int, sx.Expr]:
    """Statements reading each index at the loop position into a local, checked
    (appended to ``body``; an integer index is checked once, before the loops);
    returns the index of each advanced axis."""
    nb = len(plan.batch)
    arrays = [ax for ax in plan.axes if ax.advanced and ax.shape]
    positions = {}
    for a, axis in enumerate(plan.axes):
        if not axis.advanced:
            continue
        if axis.shape:  # an index array: its element at this step
            at = [sx.literal(0) if n == 1 else sx.name(loop[nb - len(axis.shape) + d])
                  for d, n in enumerate(axis.shape)]
            pos = fn.fresh("pos" if len(arrays) == 1 else f"pos{axis.number}")
            body.append(sx.assign(pos, sx.subscript(axis.index, at)))
            pos = sx.name(pos)
        else:
            pos = axis.index
        if not axis.in_bounds:
            check: list = []
            _raise_if(fn, sx.out_of_bounds(pos, axis.length), "IndexError",
                      f"index out of bounds for axis {axis.number}", check)
            if axis.shape:
                body.extend(check)
            else:
                fn.emit(*check)
        positions[a] = pos
    return positions


def _loops(fn, plan: _Plan, statement) -> None:
    """Loops over the broadcast index arrays (reading and checking each index once),
    and inside them over the axes that are not indexed, around
    ``statement(out_index, view_index, out_loop)``: everything is read and written an
    item at a time (Numba compiles copies between array parts slowly)."""
    basic = [a for a, ax in enumerate(plan.axes) if not ax.advanced]
    with fn.indices(len(plan.batch)) as batch_loop:
        body: list = []
        positions = _positions(fn, plan, batch_loop, body)
        with fn.indices(len(basic)) as basic_loop:
            at = dict(zip(basic, basic_loop, strict=True))
            view_index = [positions[a] if a in positions else sx.name(at[a])
                          for a in range(len(plan.axes))]
            out_loop = [batch_loop[k] if kind == "batch" else at[k]
                        for kind, k in plan.out_dims]
            inner = statement([sx.name(i) for i in out_loop], view_index, out_loop)
            body.extend(sx.for_nest(basic_loop, [plan.axes[a].length for a in basic],
                                    [inner]))
        fn.emit(*sx.for_nest(batch_loop, plan.batch, body))


def _lone_mask(indices):
    """The only advanced index, when it is a 1-d boolean mask (Numba reads it)."""
    if any(v is None for v in indices):
        return None
    advanced = [v for v in indices if not _is_slice(v)]
    if len(advanced) == 1 and advanced[0].type.dtype == "bool":
        return advanced[0] if advanced[0].type.ndim == 1 else None
    return None


def lower_take(fn, x, indices, out) -> None:
    """``out = x[indices]``."""
    named = [v.name for v in indices
             if not (v is None or _is_slice(v) or isinstance(v, Constant)) and v.name]
    hint = fn.hint_after(x, named[0] if len(named) == 1 else "taken")
    mask = _lone_mask(indices)
    if mask is not None:
        where = next(k for k, v in enumerate(indices) if v is mask)
        length = dim_size(fn, x, where)
        if mask.type.shape[0] is None or mask.type.shape[0] != x.type.shape[where]:
            _raise_if(fn, sx.compare("!=", dim_size(fn, mask, 0), length), "IndexError",
                      f"boolean index did not match indexed array along axis {where}")
        index = [fn.expr(v) if v is mask else _slice(fn, v) for v in indices]
        fn.bind(out, sx.subscript(fn.expr(x), index), hint=fn.hint_after(x, "masked"))
        fn.contiguous.add(out)
        return
    plan = _plan(fn, x, indices, fn.name_base(x) or "x")
    if not plan.batch:  # integers and slices only: basic indexing, copied
        index = _trim(_positions(fn, plan, [], []).get(a, sx.COLON)
                      for a in range(len(plan.axes)))
        value = sx.subscript(plan.view, index)
        if out.type.ndim:
            value = sx.method(value, "copy")
        fn.bind(out, value, hint=hint)
        fn.contiguous.add(out)
        return
    shape = [sx.literal(s) if s is not None else dim
             for s, dim in zip(out.type.shape, plan.out_shape(), strict=True)]
    dims = shape[0] if len(shape) == 1 else sx.tuple_(shape)
    target = fn.bind(out, sx.call("np.empty", dims, dtype=dtype_attr(out.type.dtype)),
                     hint=hint)
    fn.contiguous.add(out)
    _loops(fn, plan, lambda out_index, view_index, _: sx.assign(
        sx.subscript(target, out_index), sx.subscript(plan.view, view_index)))


def _scalar(fn, y, dtype: str) -> sx.Expr | None:
    """``y`` as a scalar, when it holds one value broadcast: a constant of one element
    (a literal of the updated array's ``dtype``: ``5.0``, not ``CONST[0, 0]``), a 0-d
    value, a known broadcast scalar."""
    if isinstance(y, Constant) and np.asarray(y.data).size == 1:
        value = np.asarray(y.data).item()
        return typed_literal(value.real if isinstance(value, complex) else value, dtype)
    if y.type.ndim == 0:
        return fn.expr(y)
    return fn.broadcast_scalars.get(y, None)


def _increment(fn, plan: _Plan, y, out_loop: list[str]) -> sx.Expr:
    """The item of ``y`` (broadcast to the indexed shape) at the loop position (its
    real part, as NumPy stores it, when a complex ``y`` goes into a real array)."""
    item = _scalar(fn, y, plan.dtype)
    if item is None:
        lead = len(out_loop) - y.type.ndim
        index = [sx.literal(0) if n == 1 else sx.name(i)
                 for n, i in zip(y.type.shape, out_loop[lead:], strict=True)]
        item = sx.subscript(fn.expr(y), index)
    if is_complex(y.type.dtype) and not is_complex(plan.dtype) and not isinstance(
            y, Constant):
        item = sx.attr(item, "real")
    return item


def _check_increment(fn, plan: _Plan, y) -> None:
    """``y`` has the indexed shape, but for dimensions of static length 1."""
    if _scalar(fn, y, plan.dtype) is not None:
        return
    shape = plan.out_shape()[len(plan.out_dims) - y.type.ndim:]
    checks = []
    for d, length in enumerate(shape):
        static = y.type.shape[d]
        if static != 1 and not (isinstance(length, cst.Integer) and static is not None
                                and int(length.value) == static):
            checks.append(sx.compare("!=", dim_size(fn, y, d), length))
    if checks:
        test = sx.any_of(checks)
        _raise_if(fn, test, "ValueError",
                  "shape mismatch: the increment does not fit the indexed shape")


def lower_update(fn, x, y, indices, out, set_instead_of_inc: bool,
                 ignore_duplicates: bool = False) -> None:
    """``out = x.copy(); out[indices] += y`` (or ``= y``), repeated indices
    accumulating; with ``ignore_duplicates``, NumPy's ``out[indices] += y`` (each
    repeated index incremented once, by its last value)."""
    if fn.can_donate(x) and not ignore_duplicates:
        target = fn.expr(x)  # a fresh array only this node uses: update it in place
        fn.alias(out, target)
    else:
        suffix = "updated" if set_instead_of_inc else "incremented"
        target = fn.bind(out, sx.method(fn.expr(x), "copy"), hint=fn.hint_after(x, suffix))
    fn.contiguous.add(out)
    plan = _plan(fn, out, indices, fn.hint_after(x, "updated"))
    if y.type.ndim > len(plan.out_dims):
        raise UnsupportedOpError(f"an increment with more dimensions than it fits: {y}")
    source = fn.expr(x)
    if ignore_duplicates and plan.view_index:
        source = fn.bind_name(fn.fresh(fn.hint_after(x, "view")),
                              sx.subscript(source, plan.view_index))
    _check_increment(fn, plan, y)

    def statement(out_index, view_index, out_loop):
        slot = sx.subscript(plan.view, view_index)
        value = _increment(fn, plan, y, out_loop)
        if set_instead_of_inc:
            return sx.assign(slot, value)
        if ignore_duplicates:  # every index read first, then written
            before = sx.subscript(source, view_index)
            return sx.assign(slot, sx.binop("+", before, value))
        return sx.augassign(slot, "+", value)

    _loops(fn, plan, statement)


# ---- the Ops -----------------------------------------------------------------------


@register(AdvancedSubtensor1)
def lower_AdvancedSubtensor1(op, node, fn):
    x, idx = node.inputs
    lower_take(fn, x, [idx], node.outputs[0])


@register(AdvancedSubtensor)
def lower_AdvancedSubtensor(op, node, fn):
    x, *indices = node.inputs
    lower_take(fn, x, index_entries(op, indices), node.outputs[0])


@register(AdvancedIncSubtensor1)
def lower_AdvancedIncSubtensor1(op, node, fn):
    x, y, idx = node.inputs
    lower_update(fn, x, y, [idx], node.outputs[0], op.set_instead_of_inc)


@register(AdvancedIncSubtensor)
def lower_AdvancedIncSubtensor(op, node, fn):
    x, y, *indices = node.inputs
    lower_update(fn, x, y, index_entries(op, indices), node.outputs[0],
                 op.set_instead_of_inc,
                 getattr(op, "ignore_duplicates", False) and not op.set_instead_of_inc)
