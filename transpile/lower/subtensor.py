"""Basic indexing: ``Subtensor`` (a view) and ``IncSubtensor`` (a copy, then an update).

The generated code never writes into an input: ``x[2:5] += y`` becomes
``out = x.copy(); out[2:5] += y``.
"""

from pytensor.tensor.subtensor import IncSubtensor, Subtensor, indices_from_subtensor

from .. import syntax as sx
from ..registry import register
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


@register(Subtensor)
def lower_Subtensor(op, node, fn):
    x, *idx = node.inputs
    (out,) = node.outputs
    value = sx.subscript(fn.expr(x), index_exprs(fn, idx, op.idx_list))
    if out.type.ndim == 0:
        fn.bind(out, value, hint=f"{x.name}_item" if x.name else "item")
    else:
        fn.bind(out, value, hint=f"{x.name}_part" if x.name else "part", view_of=x)


@register(IncSubtensor)
def lower_IncSubtensor(op, node, fn):
    x, y, *idx = node.inputs
    (out,) = node.outputs
    if fn.can_donate(x):  # a fresh array only this node uses: update it in place
        target = fn.expr(x)
        fn.alias(out, target)
    else:
        target = fn.bind(out, sx.method(fn.expr(x), "copy"),
                         hint="updated" if op.set_instead_of_inc else "incremented")
    fn.contiguous.add(out)
    value = fn.broadcast_scalars.get(y, None) or fn.expr(y)
    slot = sx.subscript(target, index_exprs(fn, idx, op.idx_list))
    if op.set_instead_of_inc:
        fn.emit(sx.assign(slot, value))
    else:
        fn.emit(sx.augassign(slot, "+", value))
