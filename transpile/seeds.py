"""Seeds: arrays of zeros with one entry set, built directly.

A gradient's seed comes out of PyTensor's ``grad`` as a chain of updates of zeros:
the gradient of ``h[-1]`` is ``zeros(T, n)`` with row ``-1`` set to one, put into
``zeros(T + 1, n)[1:]`` (the gradient of the slice ``h[1:]``), then reversed for the
backward loop.  Lowered as written that is two allocations, two windows and a
reversed view, where a person writes ``seed = np.zeros((T + 1, n)); seed[0] = 1.0``.
``direct_seeds`` rewrites the chain into that, one step at a time:

* an increment of zeros by a constant is a set (``zeros[k] += c`` is ``zeros[k] = c``:
  basic indices name each entry once);
* zeros with entry ``k`` set, put whole into ``zeros(S)[start:]`` (where the lengths
  are known to match), is ``zeros(S)`` with entry ``start + k`` (or ``k`` from the
  end) set, once a check that entry ``k`` existed has passed (``IndexError``, as
  the original raises when the inner array is too short);
* zeros with entry ``k`` set, reversed (``[::-1]``), is zeros with entry ``-1 - k``
  set.

The checks made on the way stay around the value they guard.
"""

from __future__ import annotations

import numpy as np


def direct_seeds(fgraph) -> None:
    """Rewrite ``fgraph``'s seed chains in place (see the module's docstring)."""
    from pytensor.graph.rewriting.basic import MergeOptimizer
    from pytensor.tensor.subtensor import IncSubtensor, Subtensor

    changed = False
    for node in fgraph.toposort():
        if node not in fgraph.apply_nodes:
            continue
        new = None
        if type(node.op) is IncSubtensor:
            new = _as_set(node)
            if new is None:
                new = _composed(node)
        elif type(node.op) is Subtensor:
            new = _reversed(node)
        if new is not None and new.type == node.outputs[0].type:
            fgraph.replace(node.outputs[0], new, reason="direct_seeds")
            changed = True
    if changed:  # a check's condition may be one the graph already computes
        MergeOptimizer().rewrite(fgraph)


def _zeros(var) -> bool:
    """Whether ``var`` is an ``Alloc`` of a constant zero (checks around it aside)."""
    from pytensor.graph.basic import Constant
    from pytensor.tensor.basic import Alloc

    owner = _checked(var)[0].owner
    return (owner is not None and isinstance(owner.op, Alloc)
            and isinstance(owner.inputs[0], Constant)
            and bool(np.all(np.asarray(owner.inputs[0].data) == 0)))


def _unit_constant(var) -> bool:
    from pytensor.graph.basic import Constant

    return isinstance(var, Constant) and all(s == 1 for s in var.type.shape)


def _entries(node) -> list:
    """A Subtensor's or an IncSubtensor's index, its variables in place."""
    from pytensor.tensor.subtensor import IncSubtensor, get_idx_list

    inputs = node.inputs
    if isinstance(node.op, IncSubtensor):  # (x, y, *index): y is no index
        inputs = [inputs[0], *inputs[2:]]
    return list(get_idx_list(inputs, node.op.idx_list))


def _int(entry) -> int | None:
    from pytensor.graph.basic import Constant

    if isinstance(entry, Constant) and np.ndim(entry.data) == 0:
        return int(entry.data)
    return None


def _checked(var):
    """``(value, checks)``: what ``var`` is once the ``CheckAndRaise`` nodes around
    it are taken off, and a function that puts them back around another value."""
    from pytensor.raise_op import CheckAndRaise

    wrappers = []
    while var.owner is not None and isinstance(var.owner.op, CheckAndRaise):
        wrappers.append(var.owner)
        var = var.owner.inputs[0]

    def rewrap(value):
        for node in reversed(wrappers):
            value = node.op(value, *node.inputs[1:])
        return value

    return var, rewrap


def _one_entry(var):
    """``(zeros, k, c)`` when ``var`` is ``zeros`` with ``zeros[k]`` set to the
    constant ``c`` (``k`` an integer along the first axis), else None."""
    from pytensor.tensor.subtensor import IncSubtensor

    node = var.owner
    if node is None or type(node.op) is not IncSubtensor:
        return None
    x, y = node.inputs[:2]
    entries = _entries(node)
    if not (_zeros(x) and _unit_constant(y) and len(entries) == 1):
        return None
    k = _int(entries[0])
    return None if k is None else (x, k, y)


def _set_entry(zeros, k: int, c):
    from pytensor.tensor.subtensor import set_subtensor

    return set_subtensor(zeros[k], c)


def _as_set(node):
    """An increment of zeros by a constant, as a set."""
    x, y = node.inputs[:2]
    if node.op.set_instead_of_inc or not (_zeros(x) and _unit_constant(y)):
        return None
    op = type(node.op)(node.op.idx_list, set_instead_of_inc=True)
    return op(*node.inputs)


def _composed(node):
    """``zeros(S)[start:]`` updated by zeros with entry ``k`` set, where the lengths
    match: ``zeros(S)`` with that entry set, after the check that ``k`` existed."""
    from pytensor.raise_op import CheckAndRaise

    from .intforms import length_of, sliced_length

    x, y = node.inputs[:2]
    y, rewrap = _checked(y)
    entries, inner = _entries(node), _one_entry(y)
    if inner is None or not _zeros(x) or len(entries) != 1 or y.type.ndim != x.type.ndim:
        return None
    (window,) = entries
    if not isinstance(window, slice) or window.stop is not None or window.step is not None:
        return None
    start = 0 if window.start is None else _int(window.start)
    if start is None or start < 0:
        return None
    if any(sliced_length(x, entries, d) != length_of(y, d) for d in range(y.type.ndim)):
        return None
    zeros, k, c = inner
    rows = _checked(zeros)[0].owner.inputs[1]  # the inner array's length
    exists = rows >= -k if k < 0 else rows > k
    check = CheckAndRaise(IndexError, f"index {k} is out of bounds for axis 0")
    # checked before the entry is written (the composed index may be out of bounds)
    return rewrap(_set_entry(check(x, exists), k if k < 0 else start + k, c))


def _reversed(node):
    """Zeros with entry ``k`` set, reversed: zeros with entry ``-1 - k`` set."""
    value, rewrap = _checked(node.inputs[0])
    entries, inner = _entries(node), _one_entry(value)
    if inner is None or not entries:
        return None
    first, *rest = entries
    if not (isinstance(first, slice) and first.start is None and first.stop is None
            and _int(first.step) == -1):
        return None
    if any(not (isinstance(e, slice) and e.start is None and e.stop is None
                and e.step is None) for e in rest):
        return None
    zeros, k, c = inner
    return rewrap(_set_entry(zeros, -1 - k, c))
