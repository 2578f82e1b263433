"""``Scan`` as an explicit ``for`` loop.

Each traced state (sit-sot, mit-sot, mit-mot) lives in one buffer holding its initial
taps followed by one entry per step; a tap ``k`` of a state with look-back ``L`` reads
``buf[t + L + k]`` and the step's result is written at ``buf[t + L]``; a state the
graph reads only at its last entries (``xs[-1]``) is carried instead in a ring of
``L + 1`` rows whose indices rotate each step (``prev, cur = cur, prev``), as the
plan decides (``transpile/plan.py``).  Sequences are
read at ``seq[t]``, nit-sot results written at ``out[t]``, untraced state (shared
variable updates) is a plain local rebound each step, and a while-loop (``until``)
breaks out and trims the buffers to the steps it ran.  The inner graph is lowered
inline, into the loop body, by the same lowerings as the outer graph::

    for t in range(n_steps):
        x[t + 1] = x[t] * a[t] + b[t]

Numba does not check bounds, so what the loop indexes must be long enough.  As
``pytensor.scan`` builds them, sequences and buffers are, and the lowering proves it
from the graph (``buffers.length``); otherwise it emits a check (a sequence shorter than
the steps is an error, as in PyTensor) or, for a state buffer of another length (a
circular one, from PyTensor's memory-saving rewrites in a compiled ``Function``'s
graph), runs the loop on a full-length buffer and returns what PyTensor's Scan would
(``transpile/runtime/scan.py``).
"""

import libcst as cst
import numpy as np
from pytensor.scan.op import Scan

from .. import syntax as sx
from ..context import STEP_INDICES
from ..dtypes import dtype_attr
from ..errors import UnsupportedOpError
from ..registry import register
from ..walk import mentions
from .buffers import at_least, covers_steps, difference, length
from .inline import inline_single_use
from .random import is_generator


def _groups(flat, sizes):
    out, k = [], 0
    for n in sizes:
        out.append(flat[k:k + n])
        k += n
    return out


def _lookback(taps) -> int:
    return -min(0, min(taps))


def _at(t: str, offset: int) -> sx.Expr:
    return sx.name(t) if offset == 0 else sx.binop("+", sx.name(t), sx.literal(offset))


def _base_name(*candidates) -> str | None:
    for var in candidates:
        name = getattr(var, "name", None)
        if name:
            return name.split("[")[0]
    return None


def _result_name(fn, outer_out) -> str | None:
    """The name the user gave a Scan result: its own, or that of the slice of it
    the graph returns (``xs[1:]``, what ``pytensor.scan`` hands back)."""
    if outer_out.name:
        return outer_out.name
    for var in _client_outputs(fn, outer_out):
        if var.name and var.type.ndim == outer_out.type.ndim:
            return var.name
    return None


def _trace_name(fn, outer_out) -> str | None:
    """``x_trace`` for a Scan result the graph reads one step of, named ``x``
    (a last state ``xs[-1]``, which takes the name ``x`` itself)."""
    for var in _client_outputs(fn, outer_out):
        if var.name and var.type.ndim < outer_out.type.ndim:
            return f"{var.name}_trace"
    return None


def _client_outputs(fn, var) -> list:
    clients = fn.graph.clients.get(var, ()) if fn.graph is not None else ()
    return [out for client, _ in clients for out in getattr(client, "outputs", ())
            if hasattr(out.type, "ndim")]


def _initial_name(outer_in) -> str | None:
    """``x`` for a state whose initial value is named ``x0`` (or ``x_0``): the
    buffer ``pytensor.scan`` builds is ``set_subtensor(empty[:k], x0)``."""
    from pytensor.tensor.subtensor import IncSubtensor, Subtensor

    var = outer_in
    for _ in range(8):
        if var.name or var.owner is None:
            break
        op = var.owner.op
        if isinstance(op, IncSubtensor) and op.set_instead_of_inc:
            var = var.owner.inputs[1]
        elif isinstance(op, Subtensor) or (
                type(op).__name__ in ("DimShuffle", "Unbroadcast", "SpecifyShape")
                and len(var.owner.inputs) == 1):
            var = var.owner.inputs[0]
        else:
            break
    name = var.name or ""
    if name.endswith("0") and name.rstrip("0").rstrip("_").isidentifier():
        return name.rstrip("0").rstrip("_")
    return None


def _tap_name(base: str, tap: int) -> str:
    if tap == 0:
        return f"{base}_t"
    return f"{base}_tm{-tap}" if tap < 0 else f"{base}_tp{tap}"


def _inner_graph(op, node, fn):
    from pytensor.graph.fg import FunctionGraph
    from pytensor.graph.replace import clone_replace

    from ..rewrite import rewrite

    # A Scan body's inputs are nominal variables, one object per position and type
    # in every Scan (a nested body's first input is its parent's), and cloning keeps
    # them: the body gets variables of its own, so that each has its own value.
    inputs = [var.type() for var in op.inner_inputs]
    for new, var in zip(inputs, op.inner_inputs, strict=True):
        new.name = var.name
    outputs = clone_replace(list(op.inner_outputs),
                            replace=dict(zip(op.inner_inputs, inputs, strict=True)))
    fgraph = FunctionGraph(inputs, outputs, clone=False)
    if fn.module.rewrite_inner_graphs:
        rewrite(fgraph)
    fn.module.plan.enter(node, fgraph)
    fn.module.plan.add_graph(fgraph)
    return fgraph


def _read(fn, inner_var, value: sx.Expr, hint: str, whole: sx.Expr | None = None) -> None:
    """Bind an inner input to ``value`` (an entry ``whole[...]`` of an array bound
    before the loop): inline for scalars, a local view otherwise."""
    if inner_var.type.ndim == 0:
        fn.alias(inner_var, value)
    else:  # a view: what is derived from it is a view of it too
        fn.bind(inner_var, value, hint=hint, view_of=inner_var)
        if whole is not None:
            fn.dims[inner_var] = [sx.subscript(sx.attr(whole, "shape"), [sx.literal(d + 1)])
                                  for d in range(inner_var.type.ndim)]


def _mentions(fn, value: sx.Expr, read: sx.Expr) -> bool:
    """Whether the expression ``value`` reads the location ``read`` (a local or a
    buffer entry)."""
    if isinstance(read, cst.Name):
        return mentions(value, read.value) > 0
    return fn.code(read) in fn.code(value)


def _store(fn, writes, until_var) -> None:
    """Emit the step's stores ``target = value`` so that every value is the one the
    step computed, though an earlier store may overwrite an inner input it reads.

    A buffer entry is overwritten in memory, so a view of it is clobbered too; a
    plain name (an untraced state) is rebound, so only reading that name is.  A
    rebound state gets an array of its own unless the step made a fresh one for it.
    """
    overwritten, pending = [], []
    for target, inner_var, clobbers in writes:
        pending.append((target, inner_var, list(overwritten)))
        overwritten.extend((c, not isinstance(target, cst.Name)) for c in clobbers)
    if until_var is not None:
        pending.append((None, until_var, list(overwritten)))
    values, rebound = [], set()
    for target, inner_var, clobbered in pending:
        value = fn.expr(inner_var)
        base = fn.view_of.get(inner_var, inner_var)
        array = bool(inner_var.type.ndim)
        rebind = isinstance(target, cst.Name)
        own = array and fn.owns(inner_var) and not (rebind and inner_var in rebound)
        if rebind and own:
            rebound.add(inner_var)
        if any(_mentions(fn, value, fn.expr(c)) or (in_memory and base is c)
               for c, in_memory in clobbered):
            if array and not own:
                value, own = sx.method(value, "copy"), True
            hint = "stop" if target is None else f"{_target_name(target)}_new"
            value = fn.bind_name(fn.fresh(hint), value)
            if target is None:
                fn.alias(inner_var, value)
        if rebind and array and not own:
            value = sx.method(value, "copy")
        values.append((value, own))
    for (target, inner_var, _), (value, own) in zip(pending, values, strict=True):
        if target is None or inner_var in fn.written:
            continue
        fresh = own or inner_var in fn.scratch  # memory of its own, not the buffer's
        if fresh and not isinstance(target, cst.Name):
            fn.store(target, value, inner_var, inner_var.type.ndim, inner_var.type.dtype,
                     "Scan", exact=True)
        else:
            fn.emit(sx.assign(target, value))


def _target_name(target) -> str:
    while isinstance(target, cst.Subscript):
        target = target.value
    return target.value if isinstance(target, cst.Name) else "value"


def _storage(fn, outer_in, hint: str) -> cst.Name:
    """A buffer this loop may write: the outer input itself when nothing else uses it
    (a fresh array made for this Scan, renamed after the state), else a copy."""
    if fn.can_donate(outer_in):
        value = fn.expr(outer_in)
        if isinstance(value, cst.Name):
            return fn.rename(value.value, fn.fresh(hint))
    return fn.bind_name(fn.fresh(hint), sx.method(fn.expr(outer_in), "copy"))


@register(Scan)
def lower_Scan(op, node, fn):
    # A random generator may be an untraced state: each step draws from it, advancing
    # it in place, and its next state is the same object (lower/random.py).
    generators = [v for v in op.outer_untraced_sit_sot(node.inputs) if is_generator(v)]
    if any(not hasattr(v.type, "ndim") and not any(v is g for g in generators)
           for v in node.inputs[1:]):
        raise UnsupportedOpError(f"Scan with non-tensor inputs (random generators other "
                                 f"than updated states, typed lists): {node}")
    scan = _ScanLowering(op, node, fn)
    scan.check_sequences()
    for k in range(len(scan.taps)):
        scan.traced_buffer(k)
    scan.name_slots()
    scan.nitsot_buffers()
    scan.untraced_states()
    scan.loop()
    scan.bind_results()


class _ScanLowering:
    """One Scan being lowered: its inputs and outputs in groups, the buffers made for
    them before the loop, the loop, and what the Scan's outputs are after it.  The
    traced states (mit-mot, mit-sot, sit-sot) are numbered ``k`` in that order, as
    ``Scan`` numbers them."""

    def __init__(self, op, node, fn):
        self.op, self.node, self.fn, self.info = op, node, fn, op.info
        self.fgraph = _inner_graph(op, node, fn)
        inner_in, inner_out = self.fgraph.inputs, self.fgraph.outputs
        outer_in, outer_out = node.inputs, node.outputs
        info = self.info
        self.n_steps = fn.expr(outer_in[0])
        if not isinstance(self.n_steps, cst.Name) and not (  # xs.shape[0]: as it is
                sx.is_simple(self.n_steps) and isinstance(self.n_steps, cst.Subscript)):
            self.n_steps = fn.bind_name(fn.fresh("n_steps"), self.n_steps)
        self.taps = [*info.mit_mot_in_slices, *info.mit_sot_in_slices,
                     *info.sit_sot_in_slices]
        self.out_taps = [*info.mit_mot_out_slices, *[(0,)] * (info.n_mit_sot + info.n_sit_sot)]
        self.outer_in = [*op.outer_mitmot(outer_in), *op.outer_mitsot(outer_in),
                         *op.outer_sitsot(outer_in)]
        self.outer_out = [*op.outer_mitmot_outs(outer_out), *op.outer_mitsot_outs(outer_out),
                          *op.outer_sitsot_outs(outer_out)]
        self.inner_in = _groups(
            [*op.inner_mitmot(inner_in), *op.inner_mitsot(inner_in),
             *op.inner_sitsot(inner_in)], [len(t) for t in self.taps])
        self.inner_out = _groups(
            [*op.inner_mitmot_outs(inner_out), *op.inner_mitsot_outs(inner_out),
             *op.inner_sitsot_outs(inner_out)], [len(t) for t in self.out_taps])
        # A state the graph reads only at its last entries is carried in a ring of
        # rows (plan.py); ``slots[lookback]`` names the rows' indices, oldest first.
        layout = fn.module.plan.layout(node)
        self.carried, self.initial = layout.carried, layout.initial
        self.buffers, self.bases, self.stores, self.slots = [], [], [], {}
        # nit-sot results: their buffers, the entries PyTensor keeps (None: all), and
        # those whose shape is known only after the first step
        self.nitsot_inner = op.inner_nitsot_outs(inner_out)
        self.nitsot_outer = op.outer_nitsot_outs(outer_out)
        self.nitsot, self.nitsot_stores, self.deferred = [], [], []
        self.untraced = []
        self.steps = None  # a while-loop's count of the steps it ran
        self.t = None  # the loop index

    # ---- before the loop ---------------------------------------------------------

    def check_sequences(self) -> None:
        """PyTensor's Scan refuses a sequence shorter than its steps; here it would be
        read out of bounds.  As ``pytensor.scan`` slices them, they are long enough."""
        fn, op = self.fn, self.op
        short = [fn.expr(seq) for seq in op.outer_seqs(self.node.inputs)
                 if not covers_steps(seq, self.node.inputs[0])]
        if short:
            test = sx.any_of([sx.compare("<", _len0(seq), self.n_steps) for seq in short])
            fn.emit(sx.if_(test, [sx.raise_(
                "ValueError", "Scan: a sequence is shorter than the number of steps")]))

    def traced_buffer(self, k: int) -> None:
        """The buffer traced state ``k`` is read from and written to in the loop."""
        fn, n_steps = self.fn, self.n_steps
        outer_i, outer_o, taps = self.outer_in[k], self.outer_out[k], self.taps[k]
        base = (_result_name(fn, outer_o) or _base_name(outer_i, *self.inner_in[k])
                or _initial_name(outer_i) or _trace_name(fn, outer_o) or "state")
        self.bases.append(base)
        lookback = _lookback(taps)
        if k in self.carried:
            self.buffers.append(_ring(fn, self.carried[k], outer_i, base))
            self.stores.append(None)
            self.slots[lookback] = None
            return
        if k in self.initial:  # made here, as the graph would have made it (plan.py)
            init = self.initial[k]
            buf = _built(fn, init, fn.expr(init[1].owner.inputs[0]), lookback, outer_i, base)
        else:
            buf = _storage(fn, outer_i, base)
        self.buffers.append(buf)
        steps_in = self.node.inputs[0]
        if k < self.info.n_mit_mot:
            # read and written at t + tap: PyTensor's Scan fails on a buffer too short
            need = lookback + max(0, *taps, *self.out_taps[k]) + 1
            if not at_least(length(outer_i, 0), steps_in, need - 1):
                fn.emit(sx.if_(sx.compare("<", _len0(buf), _plus(n_steps, need - 1)), [
                    sx.raise_("IndexError", "Scan: a mit-mot buffer is shorter than "
                              "its taps need")]))
            self.stores.append(None)
        elif difference(length(outer_i, 0), steps_in) == lookback:
            self.stores.append(None)
        else:  # a circular buffer, or one of unknown length
            store = fn.fresh(f"{buf.value}_store")
            fn.emit(sx.with_comment(sx.assign(store, _len0(buf)),
                f"{buf.value} may be shorter than {fn.code(_plus(n_steps, lookback))} "
                "(a circular buffer)"))
            full = sx.call(fn.helper("scan_full_buffer"), buf, _plus(n_steps, lookback),
                           sx.literal(lookback))
            fn.emit(sx.assign(buf, full))
            self.stores.append(sx.name(store))

    def name_slots(self) -> None:
        """``prev, cur = 0, 1``: the rows of the rings, for each look-back."""
        for lookback in self.slots:
            self.slots[lookback] = [self.fn.fresh(name) for name in _slot_names(lookback)]
            self.fn.emit(sx.assign_many(self.slots[lookback], sx.tuple_(
                [sx.literal(row) for row in range(lookback + 1)])))

    def nitsot_buffers(self) -> None:
        fn, op = self.fn, self.op
        steps_in = self.node.inputs[0]
        for size, inner_var, outer_var in zip(op.outer_nitsot(self.node.inputs),
                                              self.nitsot_inner, self.nitsot_outer,
                                              strict=True):
            name = fn.fresh(_result_name(fn, outer_var) or _base_name(inner_var)
                            or _trace_name(fn, outer_var) or "ys")
            core = list(inner_var.type.shape)
            known = all(s is not None for s in core)
            exact = difference(size, steps_in) == 0
            rows = fn.expr(size) if exact else self.n_steps
            dims = [rows, *(sx.literal(s if known else 0) for s in core)]
            fn.emit(sx.assign(name, sx.call("np.empty", sx.tuple_(dims),
                                            dtype=dtype_attr(inner_var.type.dtype))))
            self.nitsot.append(sx.name(name))
            self.nitsot_stores.append(None if exact else fn.expr(size))
            if not known:
                self.deferred.append((name, rows, inner_var))

    def untraced_states(self) -> None:
        fn, op = self.fn, self.op
        for outer_i, inner_var, outer_o in zip(op.outer_untraced_sit_sot(self.node.inputs),
                                               op.inner_untraced_sit_sot(self.fgraph.inputs),
                                               op.outer_untraced_sit_sot_outs(self.node.outputs),
                                               strict=True):
            hint = outer_o.name or _base_name(inner_var, outer_i) or "state"
            if is_generator(outer_i):
                self.untraced.append(fn.expr(outer_i))
            elif outer_i.type.ndim == 0:
                self.untraced.append(fn.bind_name(fn.fresh(hint), fn.expr(outer_i)))
            else:
                self.untraced.append(_storage(fn, outer_i, hint))
        if self.info.as_while:
            self.steps = fn.bind_name(fn.fresh("steps"), self.n_steps)

    # ---- the loop ----------------------------------------------------------------

    def entry(self, k: int, tap: int) -> sx.Expr:
        """The row of traced state ``k``'s buffer that holds tap ``tap`` in step
        ``t`` (tap 0: the step's result)."""
        lookback = _lookback(self.taps[k])
        if k in self.carried:
            return sx.name(self.slots[lookback][lookback + tap])
        return _at(self.t, lookback + tap)

    def loop(self) -> None:
        fn = self.fn
        rebound = [s.value for s in self.untraced] + [
            n for names in self.slots.values() for n in names]
        with fn.indices(1, preferred=STEP_INDICES) as (t,):
            self.t = t
            with fn.block() as body, fn.loop(rebound) as frame:
                self.bind_inputs()
                self.lower_body()
                self.store_results()
            preheader = frame.preheader
            if preheader:  # scratch arrays every step writes into
                preheader[0] = sx.with_comment(preheader[0], "reused by every step")
            fn.emit(*preheader, *fn.loop_checks(frame.checks, self.n_steps),
                    sx.for_range(t, [self.n_steps], inline_single_use(body)))

    def bind_inputs(self) -> None:
        """The body's inputs: a sequence's entry, the taps, the states, the rest."""
        fn, op, t = self.fn, self.op, self.t
        outer_in, inner_in = self.node.inputs, self.fgraph.inputs
        for outer_seq, inner_var in zip(op.outer_seqs(outer_in), op.inner_seqs(inner_in),
                                        strict=True):
            base = _base_name(outer_seq, inner_var) or "seq"
            if inner_var.type.ndim == 0:
                fn.alias(inner_var, sx.subscript(fn.expr(outer_seq), [sx.name(t)]))
                continue
            fn.index_view(inner_var, outer_seq, [sx.name(t)] + [sx.COLON] * inner_var.type.ndim,
                          f"{base}_t", view_of=inner_var)
            fn.dims[inner_var] = [fn.view_length(outer_seq, d + 1)
                                  for d in range(inner_var.type.ndim)]
        for k, (buf, base, taps, inner_vars) in enumerate(zip(
                self.buffers, self.bases, self.taps, self.inner_in, strict=True)):
            for tap, inner_var in zip(taps, inner_vars, strict=True):
                _read(fn, inner_var, sx.subscript(buf, [self.entry(k, tap)]),
                      _tap_name(base, tap), buf)
        for state, inner_var in zip(self.untraced, op.inner_untraced_sit_sot(inner_in),
                                    strict=True):
            fn.alias(inner_var, state, view_of=inner_var if getattr(
                inner_var.type, "ndim", 0) else None)
        for outer_v, inner_var in zip(op.outer_non_seqs(outer_in),
                                      op.inner_non_seqs(inner_in), strict=True):
            fn.alias(inner_var, fn.expr(outer_v), view_of=outer_v)
            if outer_v in fn.dims:
                fn.dims[inner_var] = fn.dims[outer_v]

    def destinations(self) -> dict:
        """The entries the plan writes results into (``plan.step_destinations``),
        spelled: ``h[t + 1]``; a nit-sot's ``ys[t]`` unless its buffer is allocated
        only after the first step."""
        deferred = {name for name, _, _ in self.deferred}
        n_traced = len(self.buffers)
        destinations = {}
        for var, (k, tap) in self.fn.module.plan.destinations.get(self.node, {}).items():
            if k < n_traced:
                destinations[var] = (sx.subscript(self.buffers[k], [self.entry(k, tap)]),
                                     _tap_name(self.bases[k], tap))
                continue
            buf = self.nitsot[k - n_traced]
            if buf.value not in deferred:
                destinations[var] = (sx.subscript(buf, [sx.name(self.t)]), f"{buf.value}_t")
        return destinations

    def lower_body(self) -> None:
        """The inner graph, lowered inline by the same lowerings as the outer one."""
        from ..assemble import lower_nodes

        fn, fgraph = self.fn, self.fgraph
        destinations = self.destinations()
        fn.destinations.update(destinations)
        try:
            with fn.inner(fgraph):
                lower_nodes(fn, fgraph.toposort())
        finally:
            for var in destinations:
                fn.destinations.pop(var, None)

    def store_results(self) -> None:
        """The step's results, stored in order.  A store may overwrite what a later
        store (or the until condition) still reads: a mit-mot tap that is both read
        and written, an untraced state rebound before another state's new value (a
        swap) is taken from it.  Such values are taken before the first store."""
        fn, op, t = self.fn, self.op, self.t
        inner_in, inner_out = self.fgraph.inputs, self.fgraph.outputs
        for name, rows, inner_var in self.deferred:  # shape known after the first step
            shape = sx.binop("+", sx.tuple_([rows]), sx.attr(fn.expr(inner_var), "shape"))
            fn.emit(sx.if_(sx.compare("==", sx.name(t), sx.literal(0)), [
                sx.assign(name, sx.call("np.empty", shape,
                                        dtype=dtype_attr(inner_var.type.dtype)))]))
        writes = []  # (target, inner output, inner inputs the store overwrites)
        for k, (buf, taps, out_taps, in_vars, out_vars) in enumerate(zip(
                self.buffers, self.taps, self.out_taps, self.inner_in, self.inner_out,
                strict=True)):
            for tap, inner_var in zip(out_taps, out_vars, strict=True):
                overwritten = [v for j, v in zip(taps, in_vars, strict=True) if j == tap]
                writes.append((sx.subscript(buf, [self.entry(k, tap)]), inner_var,
                               overwritten))
        for buf, inner_var in zip(self.nitsot, self.nitsot_inner, strict=True):
            writes.append((sx.subscript(buf, [sx.name(t)]), inner_var, []))
        for state, inner_in_var, inner_var in zip(
                self.untraced, op.inner_untraced_sit_sot(inner_in),
                op.inner_untraced_sit_sot_outs(inner_out), strict=True):
            if not is_generator(inner_var):  # a generator's next state is itself
                writes.append((state, inner_var, [inner_in_var]))
        _store(fn, writes, inner_out[-1] if self.info.as_while else None)
        for rows in self.slots.values():  # the oldest row takes the next step's result
            fn.emit(sx.assign_many(rows, sx.tuple_(
                [sx.name(row) for row in [*rows[1:], rows[0]]])))
        if self.info.as_while:
            fn.emit(sx.if_(fn.expr(inner_out[-1]), [
                sx.assign(self.steps.value, sx.binop("+", sx.name(t), sx.literal(1))),
                cst.SimpleStatementLine([cst.Break()]),
            ]))

    # ---- after the loop ----------------------------------------------------------

    def result(self, buf, store, lookback: int):
        """What the Scan returns for a buffer: all of it, the steps a while-loop
        ran, or what PyTensor leaves in a buffer of ``store`` entries."""
        fn, n_steps, steps = self.fn, self.n_steps, self.steps
        if store is not None:
            entries = _plus(steps if self.info.as_while else n_steps, lookback)
            trim = sx.binop("-", n_steps, steps) if self.info.as_while else sx.literal(0)
            return fn.bind_name(fn.fresh(buf.value), sx.call(
                fn.helper("scan_stored"), buf, store, entries, trim))
        if self.info.as_while:
            ran = sx.subscript(buf, [sx.slice_(None, _plus(steps, lookback))])
            return fn.bind_name(fn.fresh(buf.value), ran)
        return buf

    def bind_results(self) -> None:
        fn = self.fn
        for k, (buf, store, taps, outer_var) in enumerate(zip(
                self.buffers, self.stores, self.taps, self.outer_out, strict=True)):
            if k in self.carried:  # entry -j: the row of tap -j after the last step
                fn.alias(outer_var, buf)
                lookback = self.carried[k].lookback
                for reader, j in self.carried[k].reads:
                    (var,) = reader.outputs
                    hint = f"{self.bases[k]}_last" if j == 1 else f"{self.bases[k]}_tm{j - 1}"
                    row = sx.name(self.slots[lookback][lookback - j])
                    fn.bind(var, sx.subscript(buf, [row]), hint=hint,
                            view_of=outer_var if var.type.ndim else None)
                continue
            fn.alias(outer_var, self.result(buf, store, _lookback(taps)))
            fn.contiguous.add(outer_var)
        for buf, store, outer_var in zip(self.nitsot, self.nitsot_stores, self.nitsot_outer,
                                         strict=True):
            fn.alias(outer_var, self.result(buf, store, 0))
            fn.contiguous.add(outer_var)
        for state, outer_var in zip(self.untraced,
                                    self.op.outer_untraced_sit_sot_outs(self.node.outputs),
                                    strict=True):
            fn.alias(outer_var, state)


def _slot_names(lookback: int) -> list[str]:
    """``prev, cur`` for one tap back; ``prev2, prev, cur`` for two; ..."""
    return [f"prev{d}" if d > 1 else "prev" for d in range(lookback, 0, -1)] + ["cur"]


def _ring(fn, carried, outer_in, hint: str) -> cst.Name:
    """The ``lookback + 1`` rows a carried state lives in, its initial taps first:
    built from what the graph would have filled the Scan's buffer with, when only the
    Scan uses that buffer (plan.py), else the buffer's first rows."""
    rows = carried.lookback + 1
    if carried.init[0] == "slice":
        window = sx.subscript(fn.expr(outer_in), [sx.slice_(None, sx.literal(rows))])
        if not fn.can_donate(outer_in):
            window = sx.method(window, "copy")
        return fn.bind_name(fn.fresh(hint), window)
    return _built(fn, carried.init, sx.literal(rows), carried.lookback, outer_in, hint)


def _built(fn, init, rows: sx.Expr, lookback: int, outer_in, hint: str) -> cst.Name:
    """A state's buffer of ``rows`` entries, made here as the graph would have made
    it for the Scan alone (plan.py): ``np.empty`` with the initial taps stored in its
    first ``lookback`` rows (``init`` is ``("set", empty, x0)``), or ``np.zeros`` /
    ``np.full`` (``("fill", alloc, value)``)."""
    from pytensor.graph.basic import Constant

    dtype = dtype_attr(outer_in.type.dtype)
    kind, buffer, value = init
    lengths = buffer.owner.inputs[1:] if kind == "set" else buffer.owner.inputs[2:]
    shape = sx.tuple_([rows, *(fn.expr(n) for n in lengths)])
    if kind == "fill":
        if isinstance(value, Constant) and not np.any(value.data):
            return fn.bind_name(fn.fresh(hint), sx.call("np.zeros", shape, dtype=dtype))
        return fn.bind_name(fn.fresh(hint), sx.call("np.full", shape, fn.expr(value),
                                                    dtype=dtype))
    buf = fn.bind_name(fn.fresh(hint), sx.call("np.empty", shape, dtype=dtype))
    row = _row(fn, value) if lookback == 1 else value
    one = row is not value  # x0[None, :]: stored as x0, into row 0
    value = row
    if one and value.type.dtype == outer_in.type.dtype and _lengths_of(lengths, value):
        if value.type.ndim == 0:
            fn.emit(sx.assign(sx.subscript(buf, [sx.literal(0)]), fn.expr(value)))
            return buf
        with fn.indices(value.type.ndim) as names:  # sized by x0 itself: a plain copy
            at = [sx.name(i) for i in names]
            fn.emit(*sx.for_nest(names, [fn.expr(n) for n in lengths], [sx.assign(
                sx.subscript(buf, [sx.literal(0), *at]), sx.subscript(fn.expr(value), at))]))
        return buf
    first = sx.subscript(buf, [sx.literal(0)] if one else [sx.slice_(None, sx.literal(
        lookback))])
    fn.store(first, fn.expr(value), value, outer_in.type.ndim - one, outer_in.type.dtype,
             "Scan")
    return buf


def _lengths_of(lengths, value) -> bool:
    """Whether ``lengths`` are ``value.shape`` itself, axis by axis."""
    from ..intforms import term_of

    return value.type.ndim == len(lengths) and all(
        term_of(n) == ("len", value, axis) for axis, n in enumerate(lengths))


def _row(fn, value):
    """What a one-row initial value ``x0[None, ...]`` is a row of: ``x0`` when it
    is that expansion, else the value itself."""
    from pytensor.tensor.elemwise import DimShuffle

    owner = value.owner
    if owner is not None and isinstance(owner.op, DimShuffle) and \
            list(owner.op.new_order) == ["x", *range(owner.inputs[0].type.ndim)]:
        return owner.inputs[0]
    return value


def _len0(array: sx.Expr) -> sx.Expr:
    return sx.subscript(sx.attr(array, "shape"), [sx.literal(0)])


def _plus(expr, offset: int):
    return expr if offset == 0 else sx.binop("+", expr, sx.literal(offset))
