"""Plan: decisions about the whole graph, made once before any node is lowered.

A lowering sees one node.  Some choices need more: whether anything reads a Scan's
output, whether its trace is read whole or only its last entries, whether the buffer
it starts from is used by anyone else.  The plan makes them from the graph's clients,
for the outer graph and every Scan body (``plan_graph`` runs on each inner graph
too), and a lowering reads the plan of its own node (``module.plan``):

* **Dead Scan outputs** are removed from the graph (``remove_dead_scan_outputs``): a
  traced state, a nit-sot or an updated state that nothing reads is not computed,
  unless another live output reads its taps.  A gradient's Scan computes the
  gradient of every input of the forward loop; a graph that asks for one of them
  runs one.
* **Carried states** (``ScanLayout.carried``): a mit-sot or sit-sot whose trace the
  graph reads only at its last entries (``xs[-1]``, ``xs[-2]`` within its taps) is
  kept in a ring of ``lookback + 1`` rows, addressed by rotating row indices
  (``prev, cur = cur, prev``) instead of ``t``: memory is the size of the taps,
  not of ``n_steps``.  The reads of its last entries are bound by the Scan's
  lowering (``Plan.taken``), and so is the buffer of initial values when only the
  Scan uses it (``set_subtensor(empty(n + 1, ...)[:1], x0)`` and ``zeros(n + 1,
  ...)`` become a ring of two rows).
* **Initial buffers** (``ScanLayout.initial``): a state whose whole trace is used
  starts from a buffer the Scan's lowering makes itself, when only the Scan uses the
  graph's (``np.empty`` and its first rows copied from ``x0``).
* **Reads of a trace's last entries** are put in a form the layout recognises
  before PyTensor's rewrites merge them: ``pytensor.scan`` hands back ``xs[1:]``,
  and ``xs[1:][-1]`` becomes ``xs_full[-1]`` (``canonical_scan_reads``), with the
  check that the Scan ran a step, where the merged index would read out of
  bounds.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .intforms import Facts


@dataclasses.dataclass
class Carried:
    """A traced state kept in a ring of ``lookback + 1`` rows."""

    lookback: int
    reads: list  # (Subtensor node, j): the node reads entry -j of the trace
    # how the ring starts: ("slice",) the first rows of the Scan's buffer;
    # ("set", AllocEmpty variable, initial value) and ("fill", Alloc variable, value)
    # build the ring itself from what the graph would have filled the buffer with
    init: tuple = ("slice",)


@dataclasses.dataclass
class ScanLayout:
    # traced index (mit-mot, mit-sot, sit-sot order, as ``Scan`` numbers them) ->
    # Carried
    carried: dict = dataclasses.field(default_factory=dict)
    # traced index -> ("set", AllocEmpty variable, initial value): a whole trace
    # whose buffer the Scan's lowering makes itself (only the Scan uses it)
    initial: dict = dataclasses.field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.carried or self.initial)


class Plan:
    """The plan of one module: every graph lowered into it, inner graphs included."""

    def __init__(self):
        self.scans: dict = {}  # Scan node -> ScanLayout
        self.taken: dict = {}  # node -> the Scan node whose lowering binds its outputs
        self.facts = Facts()  # integers and lengths (intforms.py)
        self.loops: dict = {}  # Elemwise node -> its Loop (fusion.py)
        # Scan node -> the step results written into their buffer entry (step_destinations)
        self.destinations: dict = {}
        self.transposes: dict = {}  # variable -> the matrix it is the transpose of

    def enter(self, node, fgraph) -> None:
        """Before a Scan's body (``fgraph``) is planned: its inputs have the lengths
        of the outer arrays they are rows of (a sequence, a state's buffer) or are
        (the non-sequences)."""
        op, inner, outer = node.op, fgraph.inputs, node.inputs
        info = op.info
        traced_in = [*op.inner_mitmot(inner), *op.inner_mitsot(inner), *op.inner_sitsot(inner)]
        taps = [*info.mit_mot_in_slices, *info.mit_sot_in_slices, *info.sit_sot_in_slices]
        buffers = [*op.outer_mitmot(outer), *op.outer_mitsot(outer), *op.outer_sitsot(outer)]
        rows = list(zip(op.inner_seqs(inner), op.outer_seqs(outer), strict=True))
        for buffer, state_taps in zip(buffers, taps, strict=True):
            rows += [(traced_in.pop(0), buffer) for _ in state_taps]
        within = self.facts.within
        for inner_var, outer_var in rows:
            within[inner_var] = (outer_var, 1)
        for inner_var, outer_var in zip(op.inner_non_seqs(inner), op.outer_non_seqs(outer),
                                        strict=True):
            if hasattr(outer_var.type, "ndim"):
                within[inner_var] = (outer_var, 0)
            if outer_var in self.transposes:  # m.T passed in: the body may read m
                self.transposes[inner_var] = self.transposes[outer_var]
        self.destinations[node] = step_destinations(node, fgraph)

    def layout(self, node) -> ScanLayout:
        return self.scans.get(node) or ScanLayout()

    def add_graph(self, fgraph) -> None:
        """Plan ``fgraph`` (removing its dead Scan outputs first)."""
        from pytensor.scan.op import Scan

        canonical_scan_reads(fgraph)  # done before rewriting too; here for --no-rewrite
        remove_dead_scan_outputs(fgraph)
        self.facts.learn(fgraph)
        self._add_transposes(fgraph)
        self._add_loops(fgraph, fgraph.toposort())
        for node in fgraph.toposort():  # (the loops may have split a 0-d Composite)
            if isinstance(node.op, Scan):
                layout = _layout(fgraph, node)
                if not layout:
                    continue
                self.scans[node] = layout
                inits = [*(c.init for c in layout.carried.values()), *layout.initial.values()]
                for carried in layout.carried.values():
                    for reader, _ in carried.reads:
                        self.taken[reader] = node
                for init in inits:
                    if init[0] != "slice":
                        buffer = init[1]
                        self.taken[buffer.owner] = node
                        for client, _ in fgraph.clients[buffer]:
                            if client is not node:  # the SetSubtensor into it
                                self.taken[client] = node


    def _add_transposes(self, fgraph) -> None:
        """``m.T`` of a matrix: a matrix product reads ``m`` itself (lower/blas.py)."""
        from pytensor.tensor.elemwise import DimShuffle

        for node in fgraph.apply_nodes:
            if isinstance(node.op, DimShuffle) and list(node.op.new_order) == [1, 0]:
                self.transposes[node.outputs[0]] = node.inputs[0]

    def _add_loops(self, fgraph, nodes) -> None:
        from .fusion import plan_loops

        for loop in plan_loops(fgraph, self.facts, nodes):
            first = loop.members[0]
            for node in loop.members:
                self.loops[node] = loop
                if node is not first:
                    self.taken[node] = first
            for reductions in loop.reductions.values():
                for node in reductions:
                    self.taken[node] = first

    def is_loop_local(self, var) -> bool:
        """Whether ``var`` is a result of a loop that lives only in its body."""
        loop = self.loops.get(var.owner)
        return loop is not None and loop.local(var)

    def order(self, nodes) -> list:
        """``nodes`` (a toposort) in the order they are lowered: a loop of several
        members is lowered as one node, at the first member, after everything its
        members read from outside it."""
        position = {node: k for k, node in enumerate(nodes)}
        if not any(len(self.loops[n].members) > 1 for n in nodes if n in self.loops):
            return list(nodes)

        def members(node) -> list:
            loop = self.loops.get(node)
            return loop.members if loop is not None else [node]

        def reads(node) -> list:
            inside = set(members(node))
            return [members(v.owner)[0] for m in inside for v in m.inputs
                    if v.owner in position and v.owner not in inside]

        done, ordered = set(), []
        for node in nodes:
            todo = [(members(node)[0], False)]
            while todo:  # depth first, each node after what it reads
                current, ready = todo.pop()
                if current in done:
                    continue
                if ready:
                    done.update(members(current))
                    ordered.extend(members(current))
                    continue
                todo.append((current, True))
                todo.extend((n, False) for n in reversed(reads(current)) if n not in done)
        return ordered


# ---- dead outputs ---------------------------------------------------------------


def _groups(op, inner_inputs=None, inner_outputs=None):
    """Per outer output of a Scan, its inner input taps and its inner outputs (of
    its body as the op holds it, or as given: the body rewritten for lowering)."""
    info = op.info
    ins = list((op.inner_inputs if inner_inputs is None else inner_inputs)[info.n_seqs:])
    outs = list(op.inner_outputs if inner_outputs is None else inner_outputs)
    in_groups, out_groups = [], []
    for taps, out_taps in zip(info.mit_mot_in_slices, info.mit_mot_out_slices, strict=True):
        in_groups.append(ins[:len(taps)])
        out_groups.append(outs[:len(out_taps)])
        del ins[:len(taps)], outs[:len(out_taps)]
    for taps in (*info.mit_sot_in_slices, *info.sit_sot_in_slices):
        in_groups.append(ins[:len(taps)])
        out_groups.append(outs[:1])
        del ins[:len(taps)], outs[:1]
    for _ in range(info.n_nit_sot):
        in_groups.append([])
        out_groups.append(outs[:1])
        del outs[:1]
    for _ in range(info.n_untraced_sit_sot):
        in_groups.append(ins[:1])
        out_groups.append(outs[:1])
        del ins[:1], outs[:1]
    return in_groups, out_groups, outs  # what remains of outs: the until condition


def step_destinations(node, fgraph) -> dict:
    """The results of a Scan step (``fgraph``: its body, as lowered) that the node
    computing them writes straight into their buffer's entry (``h[t + 1]``, a
    nit-sot's ``ys[t]``): no array allocated and copied in every step.  Such a result
    is an array of the buffer's dtype, stored once, into an entry the step does not
    also read, by a node whose lowering honours destinations
    (``registry.writes_destinations``).  ``{result: (k, tap)}``: ``k`` the index of
    its outer output (states, then nit-sots), ``tap`` its output tap (None for a
    nit-sot)."""
    from collections import Counter

    from .registry import writes_destinations

    op, info = node.op, node.op.info
    _, out_groups, _ = _groups(op, fgraph.inputs, fgraph.outputs)
    n_traced = info.n_mit_mot + info.n_mit_sot + info.n_sit_sot
    in_taps = [*info.mit_mot_in_slices, *info.mit_sot_in_slices, *info.sit_sot_in_slices]
    out_taps = [*info.mit_mot_out_slices, *[(0,)] * (info.n_mit_sot + info.n_sit_sot)]
    stored = out_groups[:n_traced + info.n_nit_sot]
    counts = Counter(var for group in stored for var in group)
    buffers = [*op.outer_mitmot(node.inputs), *op.outer_mitsot(node.inputs),
               *op.outer_sitsot(node.inputs), *op.outer_nitsot_outs(node.outputs)]
    chosen = {}
    for k, (group, buffer) in enumerate(zip(stored, buffers, strict=True)):
        for j, var in enumerate(group):
            tap = out_taps[k][j] if k < n_traced else None
            owner = var.owner
            if ((tap is None or tap not in in_taps[k]) and counts[var] == 1
                    and owner is not None and len(owner.outputs) == 1
                    and writes_destinations(owner.op) and var.type.ndim > 0
                    and var.type.dtype == buffer.type.dtype):
                chosen[var] = (k, tap)
    return chosen


def removable_outputs(op, dead) -> list[int]:
    """Of the outer outputs ``dead`` (indices nothing reads), those whose inner
    computation no live output needs: a state stays while a live output reads one
    of its taps."""
    from pytensor.graph.traversal import graph_inputs

    in_groups, out_groups, condition = _groups(op)
    live = set(range(len(out_groups))) - set(dead)
    needed = set(graph_inputs([v for k in sorted(live) for v in out_groups[k]] + condition))
    changed = True
    while changed:
        changed = False
        for k in dead:
            if k not in live and any(v in needed for v in in_groups[k]):
                live.add(k)
                needed.update(graph_inputs(out_groups[k]))
                changed = True
    return [k for k in dead if k not in live]


def remove_dead_scan_outputs(fgraph) -> None:
    """Replace every Scan with outputs nothing reads by one without them."""
    from pytensor.scan.op import Scan

    for node in fgraph.toposort():
        if not isinstance(node.op, Scan) or node not in fgraph.apply_nodes:
            continue
        op = node.op
        dead = [k for k, out in enumerate(node.outputs) if not fgraph.clients.get(out)]
        removed = removable_outputs(op, dead) if dead else []
        if not removed or len(removed) == len(node.outputs):
            continue
        inner_in, inner_out, info, outer_in = _without(op, node.inputs, set(removed))
        new_op = Scan(inner_in, inner_out, info, mode=op.mode, profile=op.profile,
                      truncate_gradient=op.truncate_gradient, name=op.name,
                      allow_gc=op.allow_gc)
        new_outs = new_op(*outer_in, return_list=True)
        kept = [k for k in range(len(node.outputs)) if k not in removed]
        pairs = [(node.outputs[old], new) for old, new in zip(kept, new_outs, strict=True)
                 if fgraph.clients.get(node.outputs[old])]
        fgraph.replace_all(pairs, reason="remove_dead_scan_outputs")


def _without(op, outer_inputs, removed: set):
    """A Scan's inner inputs and outputs, its info and its outer inputs, without the
    outer outputs ``removed`` (their taps, inner results and outer inputs)."""
    info = op.info
    in_groups, out_groups, condition = _groups(op)
    counts = [info.n_mit_mot, info.n_mit_sot, info.n_sit_sot, info.n_nit_sot,
              info.n_untraced_sit_sot]
    starts = [sum(counts[:j]) for j in range(len(counts))]
    kinds = [[k for k in range(start, start + n) if k not in removed]
             for start, n in zip(starts, counts, strict=True)]
    mitmot, mitsot, sitsot, nitsot, untraced = kinds

    def picked(seq, kind: int):  # the entries of the kept outputs of one kind
        return [seq[k - starts[kind]] for k in kinds[kind]]

    new_info = dataclasses.replace(
        info,
        mit_mot_in_slices=tuple(picked(info.mit_mot_in_slices, 0)),
        mit_mot_out_slices=tuple(picked(info.mit_mot_out_slices, 0)),
        mit_sot_in_slices=tuple(picked(info.mit_sot_in_slices, 1)),
        sit_sot_in_slices=tuple(picked(info.sit_sot_in_slices, 2)),
        n_nit_sot=len(nitsot), n_untraced_sit_sot=len(untraced))
    states = [*mitmot, *mitsot, *sitsot, *untraced]
    inner_in = [*op.inner_seqs(op.inner_inputs),
                *(v for k in states for v in in_groups[k]),
                *op.inner_non_seqs(op.inner_inputs)]
    inner_out = [v for k in [*mitmot, *mitsot, *sitsot, *nitsot, *untraced]
                 for v in out_groups[k]] + condition
    traced = [*op.outer_mitmot(outer_inputs), *op.outer_mitsot(outer_inputs),
              *op.outer_sitsot(outer_inputs)]
    outer_in = [outer_inputs[0], *op.outer_seqs(outer_inputs),
                *(traced[k] for k in [*mitmot, *mitsot, *sitsot]),
                *picked(op.outer_untraced_sit_sot(outer_inputs), 4),
                *picked(op.outer_nitsot(outer_inputs), 3),
                *op.outer_non_seqs(outer_inputs)]
    return inner_in, inner_out, new_info, outer_in


# ---- reads of the last entries ----------------------------------------------------


def _constant_int(var) -> int | None:
    from pytensor.graph.basic import Constant

    if isinstance(var, Constant) and np.ndim(var.data) == 0 and \
            str(np.asarray(var.data).dtype).startswith(("int", "uint")):
        return int(np.asarray(var.data))
    return None


def last_entry(node, var, length: int | None = None) -> int | None:
    """``j`` if ``node`` is ``var[-j]`` (a Subtensor of one constant negative index),
    or ``var[length - j]`` when ``var`` is known to have ``length`` entries."""
    from pytensor.tensor.subtensor import Subtensor

    if not isinstance(getattr(node, "op", None), Subtensor) or len(node.op.idx_list) != 1 \
            or isinstance(node.op.idx_list[0], slice) or node.inputs[0] is not var:
        return None
    index = _constant_int(node.inputs[1])
    if index is not None and index >= 0 and length is not None and index < length:
        return length - index
    return -index if index is not None and index < 0 else None


def _tail_from(node, var, start: int) -> bool:
    """Whether ``node`` is ``var[start:]`` with a constant ``start``."""
    from pytensor.tensor.subtensor import Subtensor

    if not isinstance(getattr(node, "op", None), Subtensor) or node.inputs[0] is not var:
        return False
    (entry, *rest) = node.op.idx_list
    return (not rest and isinstance(entry, slice) and entry.stop is None
            and entry.step is None and entry.start is not None and len(node.inputs) == 2
            and _constant_int(node.inputs[1]) == start)


def _traced(node):
    """(outer output, lookback) of each mit-sot and sit-sot, and its traced index."""
    op, info = node.op, node.op.info
    taps = [*info.mit_sot_in_slices, *info.sit_sot_in_slices]
    outs = [*op.outer_mitsot_outs(node.outputs), *op.outer_sitsot_outs(node.outputs)]
    ins = [*op.outer_mitsot(node.inputs), *op.outer_sitsot(node.inputs)]
    for pos, (out, outer_in, state_taps) in enumerate(zip(outs, ins, taps, strict=True)):
        yield info.n_mit_mot + pos, out, outer_in, -min(0, min(state_taps))


def canonical_scan_reads(fgraph) -> None:
    """``xs_full[L:][-j]`` (the last entries of what ``pytensor.scan`` returns)
    becomes ``xs_full[-j]``, checked to be within the steps the Scan ran."""
    import pytensor.tensor as pt
    from pytensor.raise_op import CheckAndRaise
    from pytensor.scan.op import Scan

    for node in fgraph.toposort():
        if not isinstance(node.op, Scan) or node not in fgraph.apply_nodes:
            continue
        n_steps = node.inputs[0]
        for _, out, _, lookback in _traced(node):
            for client, _ in list(fgraph.clients.get(out, ())):
                if not _tail_from(client, out, lookback):
                    continue
                tail = client.outputs[0]
                for reader, _ in list(fgraph.clients.get(tail, ())):
                    j = last_entry(reader, tail)
                    if j is None:
                        continue
                    check = CheckAndRaise(IndexError, f"index {-j} is out of bounds: the "
                                          f"Scan ran fewer than {j} step(s)")
                    entry = out[-j]
                    value = check(entry, pt.ge(n_steps, j))
                    entry.name = value.name = reader.outputs[0].name
                    if value.type != reader.outputs[0].type:
                        continue
                    fgraph.replace(reader.outputs[0], value, reason="canonical_scan_reads")


# ---- layouts --------------------------------------------------------------------


def _layout(fgraph, node) -> ScanLayout:
    from .lower.buffers import difference, length

    layout = ScanLayout()
    if node.op.info.as_while:  # its buffers are trimmed to the steps it ran
        return layout
    n_steps = node.inputs[0]
    steps = _constant_int(n_steps)
    for k, out, outer_in, lookback in _traced(node):
        if difference(length(outer_in, 0), n_steps) != lookback:
            continue  # a buffer of another length (circular): the loop's own layout
        init = _initial(fgraph, node, outer_in, lookback)
        clients = fgraph.clients.get(out, ())
        reads = [(client, last_entry(client, out, None if steps is None else steps + lookback))
                 for client, _ in clients]
        if reads and all(j is not None and j <= lookback for _, j in reads):
            layout.carried[k] = Carried(lookback, reads, init)
        elif init[0] == "set":
            layout.initial[k] = init
    return layout


def _only_client(fgraph, var, node) -> bool:
    clients = fgraph.clients.get(var, ())
    return len(clients) == 1 and clients[0][0] is node


def _initial(fgraph, node, buffer, lookback: int) -> tuple:
    """How a carried state's ring starts, when the Scan alone uses its buffer:
    ``set_subtensor(empty(...)[:lookback], x0)`` or ``alloc(value, ...)``."""
    from pytensor.tensor.basic import Alloc, AllocEmpty
    from pytensor.tensor.subtensor import IncSubtensor

    owner = buffer.owner
    if owner is None or not _only_client(fgraph, buffer, node):
        return ("slice",)
    if isinstance(owner.op, Alloc) and owner.inputs[0].type.ndim == 0:
        return ("fill", buffer, owner.inputs[0])
    if isinstance(owner.op, IncSubtensor) and owner.op.set_instead_of_inc:
        empty, value = owner.inputs[:2]
        (entry, *rest) = owner.op.idx_list
        if (not rest and isinstance(entry, slice) and entry.start is None
                and entry.step is None and entry.stop is not None
                and len(owner.inputs) == 3 and _constant_int(owner.inputs[2]) == lookback
                and empty.owner is not None and isinstance(empty.owner.op, AllocEmpty)
                and _only_client(fgraph, empty, owner)):
            return ("set", empty, value)
    return ("slice",)
