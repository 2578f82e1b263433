"""Loops: which ``Elemwise`` nodes share one loop nest, and which reductions are
accumulated in it.  Decided by the plan for each graph (``plan_loops``), read by
``lower/elemwise.py`` for its own node.

PyTensor fuses chains of elementwise work into one ``Composite``, but not always all
of it: a gradient computes a second ``Composite`` from the first one's results (the
logistic regression's residual from its sigmoid), and a reduction is a node of its
own.  A loop here is

* its **members**: ``Elemwise`` nodes over the same iteration space (the same rank,
  the same broadcast dimensions, lengths the plan's facts know equal), each reading
  results of earlier members, and nothing else that depends on them;
* the **reductions** of each member result accumulated in the loop: full reductions
  (``Sum{axes=None}``) and the reductions over trailing axes keeping the same
  leading ``kept`` dimensions (a row sum);
* which member results are **stored** as arrays: those something outside the loop
  reads (or the graph returns).  The others live in the loop body as locals.

The members after the first, and the reductions, are lowered by the first member's
lowering (``Plan.taken``).  ``Plan.order`` moves whatever the later members read from
outside the loop before the first, so that the loop can run at its place.
"""

from __future__ import annotations

import dataclasses

# A later member's other inputs must not depend on the loop; looking that up walks
# back from them, over at most this many nodes (else the member starts a loop of
# its own).
MAX_WALK = 256


@dataclasses.dataclass(eq=False)
class Loop:
    """``Elemwise`` nodes computed in one loop nest."""

    members: list  # the Elemwise nodes, in the order their element code runs
    pattern: tuple  # per dimension, whether it is broadcast (static length 1)
    reductions: dict = dataclasses.field(default_factory=dict)  # result -> CAReduce nodes
    kept: int = 0  # leading dimensions the row reductions keep (0: full ones only)
    stored: set = dataclasses.field(default_factory=set)  # member results kept as arrays
    order: dict = dataclasses.field(default_factory=dict)  # member -> its position

    @property
    def results(self) -> list:
        return [var for node in self.members for var in node.outputs]

    def local(self, var) -> bool:
        """Whether ``var`` is a member result that is not an array (a loop local)."""
        return var.owner in self.order and var not in self.stored


def _lowered_here(node, lowering) -> bool:
    from .registry import _LOWERINGS, _lookup

    return _lookup(_LOWERINGS, node.op) is lowering


def _pattern(var) -> tuple:
    return tuple(s == 1 for s in var.type.shape)


def plan_loops(fgraph, facts, nodes) -> list[Loop]:
    """The loops of ``fgraph`` (``nodes``: its toposort)."""
    from pytensor.ifelse import IfElse
    from pytensor.tensor.elemwise import Elemwise

    from .lower.elemwise import lower_Elemwise

    position = {node: k for k, node in enumerate(nodes)}
    # no loop across an IfElse's branches: a branch's nodes are lowered in it
    joinable = not any(isinstance(node.op, IfElse) for node in nodes)
    loops, loop_of = [], {}
    for node in nodes:
        if not isinstance(node.op, Elemwise) or node.outputs[0].type.ndim == 0 \
                or not _lowered_here(node, lower_Elemwise):
            continue
        loop = _joined(fgraph, node, loop_of, facts, position) if joinable else None
        if loop is None:
            loop = Loop([], _pattern(node.outputs[0]))
            loops.append(loop)
        loop.order[node] = len(loop.members)
        loop.members.append(node)
        loop_of[node] = loop
    for loop in loops:
        _outside_reads(fgraph, loop)
    return loops


def _joined(fgraph, node, loop_of, facts, position) -> Loop | None:
    """The loop of one of ``node``'s inputs that ``node`` can join, if any."""
    out = node.outputs[0]
    for var in node.inputs:
        loop = loop_of.get(var.owner)
        if loop is None or _pattern(out) != loop.pattern:
            continue
        first = loop.members[0].outputs[0]
        if not all(broadcast or facts.same(out, d, first, d)
                   for d, broadcast in enumerate(loop.pattern)):
            continue
        inside = [v for v in node.inputs if v.owner in loop.order]
        others = [v for v in node.inputs if v.owner not in loop.order]
        if any(_pattern(v) != loop.pattern for v in inside):
            continue
        blocking = [v for v in others if _depends(v, loop, position, loop_of)]
        if not blocking:
            return loop
        if all(_free(fgraph, v, loop, position, loop_of) for v in blocking):
            return loop
    return None


def _free(fgraph, var, loop, position, loop_of) -> bool:
    """Whether ``var`` (or what an ExpandDims of it reads) is a result of a 0-d
    ``Composite`` that ``_split_off`` frees from the loop's results: the result
    does not need them, only the node's other results do."""
    from pytensor.graph.basic import ancestors
    from pytensor.tensor.elemwise import DimShuffle

    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    node = var.owner
    if node is None or len(node.outputs) < 2 or node.outputs[0].type.ndim:
        return False
    k = node.outputs.index(var)
    inner = getattr(node.op, "scalar_op", None)
    if not hasattr(inner, "fgraph"):
        return False
    needed = set(ancestors([inner.outputs[k]]))
    if any(_depends(v, loop, position, loop_of) for j, v in enumerate(node.inputs)
           if inner.inputs[j] in needed):
        return False
    return _split_off(fgraph, node, k)


def _depends(var, loop, position, loop_of) -> bool:
    """Whether ``var`` is computed from a result of ``loop`` (True when the walk is
    too long to tell).  A node of another loop needs what any of that loop's
    members reads: the loops are lowered whole."""
    start = position[loop.members[0]]
    seen, todo = set(), [var.owner]
    while todo:
        node = todo.pop()
        if node is None or node in seen or position.get(node, -1) < start:
            continue
        if node in loop.order:
            return True
        seen.add(node)
        if len(seen) > MAX_WALK:
            return True
        other = loop_of.get(node)
        for member in (other.members if other is not None else [node]):
            todo.extend(v.owner for v in member.inputs)
    return False


def _outside_reads(fgraph, loop) -> None:
    """The reductions accumulated in ``loop`` and the results stored as arrays."""
    from pytensor.tensor.elemwise import CAReduce

    from .lower.reduction import lower_CAReduce, reduced_axes

    kept = None
    outputs = set(fgraph.outputs)
    for var in loop.results:
        reductions, stored = [], var in outputs
        for client, _ in fgraph.clients.get(var, ()):
            op = getattr(client, "op", None)
            if client in loop.order:
                continue
            if isinstance(op, CAReduce) and getattr(op.scalar_op, "identity", None) \
                    is not None and _lowered_here(client, lower_CAReduce):
                axes = reduced_axes(op, var.type.ndim)
                k = var.type.ndim - len(axes)
                if axes and axes == list(range(k, var.type.ndim)) and (
                        k == 0 or kept in (None, k)):
                    kept = k if k else kept
                    reductions.append(client)
                    continue
            stored = True
        if reductions:
            loop.reductions[var] = reductions
        if stored:
            loop.stored.add(var)
    loop.kept = kept or 0


def _split_off(fgraph, node, k: int) -> bool:
    """Give result ``k`` of the 0-d ``Composite`` ``node`` a node of its own (and the
    other results another), when it needs fewer of the inputs.  PyTensor fuses
    ``n = float(len(y))`` with ``loss = -(total / n)``: a loop that reads ``n`` and
    computes ``total`` can then run before ``loss`` is computed."""
    from pytensor.graph.basic import ancestors
    from pytensor.scalar.basic import Composite
    from pytensor.tensor.elemwise import Elemwise

    op = node.op
    if not isinstance(op, Elemwise) or not isinstance(op.scalar_op, Composite) \
            or len(node.outputs) < 2 or node.outputs[0].type.ndim:
        return False
    inner = op.scalar_op
    needs = [{j for j, v in enumerate(inner.inputs) if v in above}
             for above in (set(ancestors([out])) for out in inner.outputs)]
    rest = [j for j in range(len(node.outputs)) if j != k]
    if needs[k] >= set().union(*(needs[j] for j in rest)):
        return False
    replacements = []
    for group in ([k], rest):
        used = sorted(set().union(*(needs[j] for j in group)))
        outs = [inner.outputs[j] for j in group]
        if any(out in inner.inputs for out in outs):
            return False  # a result that is an input as it is
        part = Composite([inner.inputs[j] for j in used], outs)
        new = Elemwise(part).make_node(*[node.inputs[j] for j in used]).outputs
        replacements += [(node.outputs[j], var) for j, var in zip(group, new, strict=True)]
    for old, var in replacements:
        var.name = old.name
        fgraph.replace(old, var, reason="transpile: a result the loop needs first")
    return True
