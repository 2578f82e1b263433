"""Basic indexing: ``Subtensor`` (a view) and ``IncSubtensor`` (a copy, then an update).

The generated code never writes into an input: ``x[2:5] += y`` becomes
``out = x.copy(); out[2:5] += y``.
"""

import numpy as np
from pytensor.graph.basic import Constant
from pytensor.tensor.subtensor import (
    IncSubtensor,
    Subtensor,
    get_idx_list,
    indices_from_subtensor,
)

from .. import syntax as sx
from ..dtypes import converts_exactly, is_complex, typed_literal
from ..intforms import in_range, key
from ..registry import register
from .elemwise import dim_size
from .shape import int_value


def index_exprs(fn, idx_inputs, idx_list) -> list:
    """The index of a Subtensor-like node as syntax: expressions and slices."""
    result = []
    for entry in indices_from_subtensor(idx_inputs, idx_list):
        if isinstance(entry, slice):
            parts = [None if p is None else int_value(fn, p)
                     for p in (entry.start, entry.stop, entry.step)]
            result.append(sx.slice_(*parts))
        else:
            result.append(int_value(fn, entry))
    return result


def check_in_bounds(fn, x, entries, what: str) -> None:
    """``IndexError`` for an integer index of ``x[entries]`` out of its axis's range,
    as NumPy raises: Numba's basic indexing does not check (an index past the end
    reads or writes memory outside the array).  No check where the graph shows the
    index in range (``h[-1]`` of an ``h`` of ``n + 1`` rows) or an earlier check
    has (``x[1]`` after ``x[-2]``: both need two rows)."""
    facts = fn.module.plan.facts
    axis = 0
    for entry in entries:
        if isinstance(entry, slice):
            axis += 1
            continue
        index, length = facts.form(entry), facts.length(x, axis)
        if index is None or not in_range(index, length):
            size = dim_size(fn, x, axis)
            message = f"{what}: index out of bounds for axis {axis}"
            if index is not None and set(index) <= {1}:  # a number: a least length
                k = index.get(1, 0)
                need = k + 1 if k >= 0 else -k
                if not any(_at_least(checked, length, need) for checked in fn.checked):
                    fn.checked.add(("length at least", key(length), need))
                    fn.check([sx.compare("<", size, sx.literal(need))], "IndexError",
                             message)
            else:
                pos = int_value(fn, entry)
                found = ("in bounds", key(index) if index is not None else fn.code(pos),
                         key(length))
                if found not in fn.checked:
                    fn.checked.add(found)
                    fn.check([sx.out_of_bounds(pos, size)], "IndexError", message)
        axis += 1


def _at_least(checked, length: dict, need: int) -> bool:
    """Whether the check of key ``checked`` showed ``length >= need``."""
    return (isinstance(checked, tuple) and checked[:2] == ("length at least", key(length))
            and checked[2] >= need)


def _whole(fn, x, axis: int, entry) -> bool:
    """Whether the slice ``entry`` of ``x``'s axis ``axis`` takes all of it:
    ``x[:n]`` where the graph shows ``n`` is that length."""
    if not isinstance(entry, slice) or entry.step is not None or (
            entry.start is not None and not (isinstance(entry.start, Constant)
                                             and int(entry.start.data) == 0)):
        return False
    if entry.stop is None:
        return True
    facts = fn.module.plan.facts
    stop = facts.form(entry.stop)
    return stop is not None and stop == facts.length(x, axis)


@register(Subtensor)
def lower_Subtensor(op, node, fn):
    x, *idx = node.inputs
    (out,) = node.outputs
    entries = get_idx_list(node.inputs, op.idx_list)
    if all(_whole(fn, x, axis, e) for axis, e in enumerate(entries)):
        fn.alias(out, fn.expr(x), view_of=x)  # ``h[:n]`` of an ``h`` of n rows: ``h``
        return
    check_in_bounds(fn, x, entries, "Subtensor")
    value = sx.subscript(fn.expr(x), index_exprs(fn, idx, op.idx_list))
    if out.type.ndim == 0:
        fn.bind(out, value, hint=f"{x.name}_item" if x.name else "item")
    else:
        fn.bind(out, value, hint=f"{x.name}_part" if x.name else "part", view_of=x)


@register(IncSubtensor)
def lower_IncSubtensor(op, node, fn):
    x, y, *idx = node.inputs
    (out,) = node.outputs
    check_in_bounds(fn, x, get_idx_list([x, *idx], op.idx_list),
                    "SetSubtensor" if op.set_instead_of_inc else "IncSubtensor")
    if fn.can_donate(x):  # a fresh array only this node uses: update it in place
        target = fn.expr(x)
        fn.alias(out, target)
    else:
        target = fn.bind(out, sx.method(fn.expr(x), "copy"),
                         hint="updated" if op.set_instead_of_inc else "incremented")
    fn.contiguous.add(out)
    one, value = _increment(fn, x, y)
    slot = sx.subscript(target, index_exprs(fn, idx, op.idx_list))
    if op.set_instead_of_inc:
        if y in fn.broadcast_scalars or one:
            fn.emit(sx.assign(slot, value))
        else:  # y cannot share the target's memory: the target is a copy, or donated
            fn.store(slot, value, y, _window_ndim(op.idx_list, x.type.ndim),
                     x.type.dtype, "SetSubtensor")
        return
    checked = _fitting_dims(y)
    if checked:  # lengths the graph shows to be the window's need no check
        entries = get_idx_list([x, *idx], op.idx_list)
        offset = _window_ndim(op.idx_list, x.type.ndim) - y.type.ndim
        facts = fn.module.plan.facts
        checked = [d for d in checked
                   if facts.length(y, d) != facts.sliced(x, entries, offset + d)]
    if not _window_ndim(op.idx_list, x.type.ndim):  # one element
        fn.emit(sx.augassign(slot, "+", value))
        return
    # The window is a view, updated in place: ``a[i] += y`` would also assign the
    # updated view back to itself (Numba's slice assignment, whose error message
    # costs seconds of compilation on a first call).
    window = fn.bind_name(fn.fresh(f"{x.name}_window" if x.name else "window"), slot)
    if not checked or y in fn.broadcast_scalars:
        fn.emit(sx.augassign(window, "+", value))
        return
    # Numba's ``a[i:j] += y`` does not check that ``y`` fits the window (it reads
    # past the end of ``y``), so the lengths are compared first, as NumPy does.
    offset = _window_ndim(op.idx_list, x.type.ndim) - y.type.ndim
    tests = [sx.boolop("and",
                       sx.compare("!=", _dim(value, d), _dim(window, offset + d)),
                       sx.compare("!=", _dim(value, d), sx.literal(1)))
             for d in checked]
    if len(tests) > 1:  # (a and b) or (c and d): the grouping spelled out
        tests = [sx.paren(t) for t in tests]
    test = sx.any_of(tests)
    fn.emit(sx.if_(test, [sx.raise_("ValueError", "IncSubtensor: the increment's "
                                    "shape does not fit the indexed window")]))
    fn.emit(sx.augassign(window, "+", value))


def _increment(fn, x, y) -> tuple[bool, sx.Expr]:
    """What is stored or added into ``x``: whether it is a constant of one element,
    and its expression."""
    one = isinstance(y, Constant) and all(n == 1 for n in y.type.shape) and not \
        is_complex(y.type.dtype)
    if one:  # a constant of one element, broadcast: the number itself (``+= 1.0``),
        # spelled in the target's dtype when it is the same number there
        value = np.asarray(y.data).reshape(())
        value = (typed_literal(value.astype(x.type.dtype), x.type.dtype)
                 if converts_exactly(value, x.type.dtype) else
                 typed_literal(value, y.type.dtype))
    else:
        value = fn.broadcast_scalars.get(y, None) or fn.expr(y)
    if is_complex(y.type.dtype) and not is_complex(x.type.dtype):
        value = sx.attr(value, "real")  # NumPy stores a complex number's real part
    return one, value


def _fitting_dims(y) -> list[int]:
    """The dimensions of an increment whose length must be checked against the
    window's: all but those of static length 1 (which broadcast)."""
    return [d for d, n in enumerate(y.type.shape) if n != 1]


def _window_ndim(idx_list, ndim: int) -> int:
    """The number of dimensions ``x[idx]`` keeps: integer indices drop theirs."""
    return ndim - sum(not isinstance(entry, slice) for entry in idx_list)


def _dim(value, d: int):
    return sx.subscript(sx.attr(value, "shape"), [sx.literal(d)])
