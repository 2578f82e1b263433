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
from the graph (``_length``); otherwise it emits a check (a sequence shorter than
the steps is an error, as in PyTensor) or, for a state buffer of another length (a
circular one, from PyTensor's memory-saving rewrites in a compiled ``Function``'s
graph), runs the loop on a full-length buffer and returns what PyTensor's Scan would
(``transpile/runtime/scan.py``).
"""

import collections

import libcst as cst
import numpy as np
from pytensor.scan.op import Scan

from .. import syntax as sx
from ..dtypes import dtype_attr
from ..errors import UnsupportedOpError
from ..registry import register
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


def _inner_graph(op, fn):
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
        counter = _Counter(read.value)
        value.visit(counter)
        return counter.count > 0
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


def _fills_whole(inner_var, dtype: str) -> bool:
    """Whether ``inner_var`` may be computed in place in its buffer entry: an array
    result of the buffer's dtype, from an Elemwise or a matrix product (whose
    lowerings write into ``fn.destinations``)."""
    from pytensor.tensor.blas import Dot22, Gemm, Gemv, Ger
    from pytensor.tensor.elemwise import Elemwise
    from pytensor.tensor.math import Dot

    owner = inner_var.owner
    return (owner is not None and isinstance(owner.op, (Elemwise, Dot, Dot22, Gemv,
                                                         Gemm, Ger))
            and len(owner.outputs) == 1 and inner_var.type.ndim > 0
            and inner_var.type.dtype == dtype)


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
    info = op.info
    # A random generator may be an untraced state: each step draws from it, advancing
    # it in place, and its next state is the same object (lower/random.py).
    generators = [v for v in op.outer_untraced_sit_sot(node.inputs) if is_generator(v)]
    if any(not hasattr(v.type, "ndim") and not any(v is g for g in generators)
           for v in node.inputs[1:]):
        raise UnsupportedOpError(f"Scan with non-tensor inputs (random generators other "
                                 f"than updated states, typed lists): {node}")
    fgraph = _inner_graph(op, fn)
    inner_in, inner_out = fgraph.inputs, fgraph.outputs
    outer_in, outer_out = node.inputs, node.outputs

    n_steps = fn.expr(outer_in[0])
    if not isinstance(n_steps, cst.Name) and not (
            sx.is_simple(n_steps) and isinstance(n_steps, cst.Subscript)):  # xs.shape[0]
        n_steps = fn.bind_name(fn.fresh("n_steps"), n_steps)

    # PyTensor's Scan refuses a sequence shorter than its steps; here it would be
    # read out of bounds.  As ``pytensor.scan`` slices them, they are long enough.
    short = [fn.expr(seq) for seq in op.outer_seqs(outer_in)
             if not _covers_steps(seq, outer_in[0])]
    if short:
        tests = [sx.compare("<", _len0(seq), n_steps) for seq in short]
        test = sx.any_of(tests)
        fn.emit(sx.if_(test, [sx.raise_(
            "ValueError", "Scan: a sequence is shorter than the number of steps")]))

    # ---- storage -------------------------------------------------------------
    traced_taps = [*info.mit_mot_in_slices, *info.mit_sot_in_slices, *info.sit_sot_in_slices]
    traced_outer_in = [*op.outer_mitmot(outer_in), *op.outer_mitsot(outer_in),
                       *op.outer_sitsot(outer_in)]
    traced_outer_out = [*op.outer_mitmot_outs(outer_out), *op.outer_mitsot_outs(outer_out),
                        *op.outer_sitsot_outs(outer_out)]
    traced_out_taps = [*info.mit_mot_out_slices,
                       *[(0,)] * (info.n_mit_sot + info.n_sit_sot)]
    traced_inner_in = _groups(
        [*op.inner_mitmot(inner_in), *op.inner_mitsot(inner_in), *op.inner_sitsot(inner_in)],
        [len(t) for t in traced_taps])
    traced_inner_out = _groups(
        [*op.inner_mitmot_outs(inner_out), *op.inner_mitsot_outs(inner_out),
         *op.inner_sitsot_outs(inner_out)],
        [len(t) for t in traced_out_taps])
    # A state the graph reads only at its last entries is carried in a ring of rows
    # (plan.py); ``slots[lookback]`` names the rows' indices, oldest first.
    layout = fn.module.plan.layout(node)
    carried, initial = layout.carried, layout.initial
    buffers, bases, stores, slots = [], [], [], {}
    for k, (outer_i, outer_o, inner_vars, taps, out_taps) in enumerate(zip(
            traced_outer_in, traced_outer_out, traced_inner_in, traced_taps,
            traced_out_taps, strict=True)):
        base = (_result_name(fn, outer_o) or _base_name(outer_i, *inner_vars)
                or _initial_name(outer_i) or _trace_name(fn, outer_o) or "state")
        bases.append(base)
        lookback = _lookback(taps)
        if k in carried:
            buffers.append(_ring(fn, carried[k], outer_i, base))
            stores.append(None)
            slots[lookback] = None
            continue
        if k in initial:  # made here, as the graph would have made it (plan.py)
            buf = _built(fn, initial[k], fn.expr(initial[k][1].owner.inputs[0]),
                         lookback, outer_i, base)
        else:
            buf = _storage(fn, outer_i, base)
        buffers.append(buf)
        if k < info.n_mit_mot:
            # read and written at t + tap: PyTensor's Scan fails on a buffer too short
            need = lookback + max(0, *taps, *out_taps) + 1
            if not _at_least(_length(outer_i, 0), outer_in[0], need - 1):
                fn.emit(sx.if_(sx.compare("<", _len0(buf), _plus(n_steps, need - 1)), [
                    sx.raise_("IndexError", "Scan: a mit-mot buffer is shorter than "
                              "its taps need")]))
            stores.append(None)
        elif _difference(_length(outer_i, 0), outer_in[0]) == lookback:
            stores.append(None)
        else:  # a circular buffer, or one of unknown length
            store = fn.fresh(f"{buf.value}_store")
            fn.emit(sx.with_comment(sx.assign(store, _len0(buf)),
                f"{buf.value} may be shorter than {fn.code(_plus(n_steps, lookback))} "
                "(a circular buffer)"))
            store = sx.name(store)
            full = sx.call(fn.helper("scan_full_buffer"), buf, _plus(n_steps, lookback),
                           sx.literal(lookback))
            fn.emit(sx.assign(buf, full))
            stores.append(store)
    for lookback in slots:
        slots[lookback] = [fn.fresh(name) for name in _slot_names(lookback)]
        fn.emit(sx.assign_many(slots[lookback], sx.tuple_(
            [sx.literal(row) for row in range(lookback + 1)])))

    nitsot_sizes = op.outer_nitsot(outer_in)
    nitsot_inner = op.inner_nitsot_outs(inner_out)
    nitsot_outer = op.outer_nitsot_outs(outer_out)
    nitsot_buffers, nitsot_stores, deferred = [], [], []
    for size, inner_var, outer_var in zip(nitsot_sizes, nitsot_inner, nitsot_outer, strict=True):
        name = fn.fresh(_result_name(fn, outer_var) or _base_name(inner_var)
                        or _trace_name(fn, outer_var) or "ys")
        core = list(inner_var.type.shape)
        known = all(s is not None for s in core)
        exact = _difference(size, outer_in[0]) == 0
        rows = fn.expr(size) if exact else n_steps
        dims = [rows, *(sx.literal(s if known else 0) for s in core)]
        fn.emit(sx.assign(name, sx.call("np.empty", sx.tuple_(dims),
                                        dtype=dtype_attr(inner_var.type.dtype))))
        nitsot_buffers.append(sx.name(name))
        nitsot_stores.append(None if exact else fn.expr(size))
        if not known:
            deferred.append((name, rows, inner_var))

    untraced_states = []
    for outer_i, inner_var, outer_o in zip(op.outer_untraced_sit_sot(outer_in),
                                           op.inner_untraced_sit_sot(inner_in),
                                           op.outer_untraced_sit_sot_outs(outer_out),
                                           strict=True):
        hint = outer_o.name or _base_name(inner_var, outer_i) or "state"
        if is_generator(outer_i):
            untraced_states.append(fn.expr(outer_i))
        elif outer_i.type.ndim == 0:
            untraced_states.append(fn.bind_name(fn.fresh(hint), fn.expr(outer_i)))
        else:
            untraced_states.append(_storage(fn, outer_i, hint))

    steps = None
    if info.as_while:
        steps = fn.bind_name(fn.fresh("steps"), n_steps)

    # ---- the loop --------------------------------------------------------------
    rebound = [s.value for s in untraced_states] + [n for ns in slots.values() for n in ns]
    with fn.indices(1, preferred=("t", "t1", "t2", "t3")) as (t,):
        def entry(k: int, tap: int) -> sx.Expr:
            """The row of traced state ``k``'s buffer that holds tap ``tap`` in
            step ``t`` (tap 0: the step's result)."""
            lookback = _lookback(traced_taps[k])
            if k in carried:
                return sx.name(slots[lookback][lookback + tap])
            return _at(t, lookback + tap)

        with fn.block() as body, fn.loop(rebound) as frame:
            within = fn.module.plan.within
            for outer_seq, inner_var in zip(op.outer_seqs(outer_in), op.inner_seqs(inner_in),
                                            strict=True):
                within[inner_var] = (outer_seq, 1)
                base = _base_name(outer_seq, inner_var) or "seq"
                _read(fn, inner_var, sx.subscript(fn.expr(outer_seq), [sx.name(t)]),
                      f"{base}_t", fn.expr(outer_seq))
            for k, (buf, base, taps, inner_vars) in enumerate(zip(
                    buffers, bases, traced_taps, traced_inner_in, strict=True)):
                for tap, inner_var in zip(taps, inner_vars, strict=True):
                    within[inner_var] = (traced_outer_in[k], 1)
                    _read(fn, inner_var, sx.subscript(buf, [entry(k, tap)]),
                          _tap_name(base, tap), buf)
            for state, inner_var in zip(untraced_states, op.inner_untraced_sit_sot(inner_in),
                                        strict=True):
                fn.alias(inner_var, state, view_of=inner_var if getattr(
                    inner_var.type, "ndim", 0) else None)
            for outer_v, inner_var in zip(op.outer_non_seqs(outer_in),
                                          op.inner_non_seqs(inner_in), strict=True):
                if hasattr(outer_v.type, "ndim"):
                    within[inner_var] = (outer_v, 0)
                fn.alias(inner_var, fn.expr(outer_v), view_of=outer_v)
                if outer_v in fn.transposes:
                    fn.transposes[inner_var] = fn.transposes[outer_v]

            from ..assemble import lower_nodes

            # Results an Elemwise computes are written straight into their buffer
            # entry (``h[t + 1]``): no array allocated and copied in every step.
            destinations = {}
            deferred_names = {name for name, _, _ in deferred}
            stored = [*traced_inner_out, *([v] for v in nitsot_inner)]
            counts = collections.Counter(v for group in stored for v in group)
            for k, (buf, base, taps, out_taps, out_vars, outer_i) in enumerate(zip(
                    buffers, bases, traced_taps, traced_out_taps, traced_inner_out,
                    traced_outer_in, strict=True)):
                for tap, inner_var in zip(out_taps, out_vars, strict=True):
                    if tap not in taps and counts[inner_var] == 1 and _fills_whole(
                            inner_var, outer_i.type.dtype):
                        destinations[inner_var] = (sx.subscript(buf, [entry(k, tap)]),
                                                   _tap_name(base, tap))
            for buf, inner_var, outer_var in zip(nitsot_buffers, nitsot_inner,
                                                 nitsot_outer, strict=True):
                if buf.value not in deferred_names and counts[inner_var] == 1 and \
                        _fills_whole(inner_var, outer_var.type.dtype):
                    destinations[inner_var] = (sx.subscript(buf, [sx.name(t)]),
                                               f"{buf.value}_t")

            outer_graph, outer_needed = fn.graph, getattr(fn, "needed", None)
            fn.graph = fgraph
            fn.needed = lambda v: bool(fgraph.clients.get(v)) or v in fgraph.outputs
            fn.destinations.update(destinations)
            try:
                lower_nodes(fn, fgraph.toposort())
            finally:
                fn.graph = outer_graph
                if outer_needed is not None:
                    fn.needed = outer_needed
                for var in destinations:
                    fn.destinations.pop(var, None)

            for name, rows, inner_var in deferred:  # shape known after the first step
                shape = sx.binop("+", sx.tuple_([rows]),
                                 sx.attr(fn.expr(inner_var), "shape"))
                fn.emit(sx.if_(sx.compare("==", sx.name(t), sx.literal(0)), [
                    sx.assign(name, sx.call("np.empty", shape,
                                            dtype=dtype_attr(inner_var.type.dtype)))]))

            # The step's results, stored in order.  A store may overwrite what a
            # later store (or the until condition) still reads: a mit-mot tap that
            # is both read and written, an untraced state rebound before another
            # state's new value (a swap) is taken from it.  Such values are taken
            # before the first store.
            writes = []  # (target, inner output, inner inputs the store overwrites)
            for k, (buf, taps, out_taps, in_vars, out_vars) in enumerate(zip(
                    buffers, traced_taps, traced_out_taps, traced_inner_in, traced_inner_out,
                    strict=True)):
                for tap, inner_var in zip(out_taps, out_vars, strict=True):
                    overwritten = [v for k, v in zip(taps, in_vars, strict=True) if k == tap]
                    writes.append((sx.subscript(buf, [entry(k, tap)]), inner_var, overwritten))
            for buf, inner_var in zip(nitsot_buffers, nitsot_inner, strict=True):
                writes.append((sx.subscript(buf, [sx.name(t)]), inner_var, []))
            for state, inner_in_var, inner_var in zip(
                    untraced_states, op.inner_untraced_sit_sot(inner_in),
                    op.inner_untraced_sit_sot_outs(inner_out), strict=True):
                if not is_generator(inner_var):  # a generator's next state is itself
                    writes.append((state, inner_var, [inner_in_var]))
            _store(fn, writes, inner_out[-1] if info.as_while else None)
            for rows in slots.values():  # the oldest row takes the next step's result
                fn.emit(sx.assign_many(rows, sx.tuple_(
                    [sx.name(row) for row in [*rows[1:], rows[0]]])))
            if info.as_while:
                until = fn.expr(inner_out[-1])
                fn.emit(sx.if_(until, [
                    sx.assign(steps.value, sx.binop("+", sx.name(t), sx.literal(1))),
                    cst.SimpleStatementLine([cst.Break()]),
                ]))
        preheader = frame.preheader
        if preheader:  # scratch arrays every step writes into
            preheader[0] = sx.with_comment(preheader[0], "reused by every step")
        fn.emit(*preheader, *fn.loop_checks(frame.checks, n_steps),
                sx.for_range(t, [n_steps], inline_single_use(body)))

    # ---- results -------------------------------------------------------------
    def result(buf, store, lookback: int):
        if store is not None:  # what PyTensor leaves in a buffer of `store` entries
            entries = _plus(steps if info.as_while else n_steps, lookback)
            trim = sx.binop("-", n_steps, steps) if info.as_while else sx.literal(0)
            return fn.bind_name(fn.fresh(buf.value), sx.call(
                fn.helper("scan_stored"), buf, store, entries, trim))
        if info.as_while:
            end = _plus(steps, lookback)
            ran = sx.subscript(buf, [sx.slice_(None, end)])
            return fn.bind_name(fn.fresh(buf.value), ran)
        return buf

    for k, (buf, store, taps, outer_var) in enumerate(zip(
            buffers, stores, traced_taps, traced_outer_out, strict=True)):
        if k in carried:  # its reads: entry -j is the row of tap -j after the last step
            fn.alias(outer_var, buf)
            lookback = carried[k].lookback
            for reader, j in carried[k].reads:
                (var,) = reader.outputs
                hint = f"{bases[k]}_last" if j == 1 else f"{bases[k]}_tm{j - 1}"
                fn.bind(var, sx.subscript(buf, [sx.name(slots[lookback][lookback - j])]),
                        hint=hint, view_of=outer_var if var.type.ndim else None)
            continue
        fn.alias(outer_var, result(buf, store, _lookback(taps)))
        fn.contiguous.add(outer_var)
    for buf, store, outer_var in zip(nitsot_buffers, nitsot_stores, nitsot_outer, strict=True):
        fn.alias(outer_var, result(buf, store, 0))
        fn.contiguous.add(outer_var)
    for state, outer_var in zip(untraced_states, op.outer_untraced_sit_sot_outs(outer_out),
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




# ---- lengths known at transpile time ------------------------------------------------
#
# PyTensor hands a Scan one buffer per state, of ``n_steps + lookback`` entries as
# ``pytensor.scan`` builds it, or fewer (a circular buffer: PyTensor's memory-saving
# rewrites keep only the last values a graph uses).  The plain loop needs the full
# length; when the graph shows that the buffer has it (as ``pytensor.scan`` builds it,
# before and after rewriting), no run-time check is emitted.  Integer scalar graphs
# are compared as linear forms over opaque terms: ``1 + min(a.shape[0], b.shape[0])``
# is ``{1: 1, min(len(a, 0), len(b, 0)): 1}``.


def _form(var, depth: int = 0):
    """``var`` (an integer scalar) as a linear form: a dict from term to
    coefficient, the key ``1`` holding the constant; ``None`` if not integer."""
    from pytensor.graph.basic import Constant
    from pytensor.tensor.basic import ScalarFromTensor, TensorFromScalar
    from pytensor.tensor.elemwise import Elemwise

    dtype = str(getattr(var.type, "dtype", ""))
    if not dtype.startswith(("int", "uint")) or getattr(var.type, "ndim", 0) != 0:
        return None
    if isinstance(var, Constant):
        return {1: int(np.asarray(var.data))}
    node = var.owner
    if node is None or depth > 64:
        return {("var", var): 1}
    op = node.op
    if isinstance(op, (ScalarFromTensor, TensorFromScalar)):
        return _form(node.inputs[0], depth + 1)
    if isinstance(op, Elemwise):
        args = [_form(v, depth + 1) for v in node.inputs]
        return _scalar_form(op.scalar_op, args, node.outputs.index(var), depth)
    length = _length_of_shape(var, depth)
    if length is not None:
        return length
    return {("var", var): 1}


def _scalar_form(scalar_op, args, index: int, depth: int):
    import pytensor.scalar as ps

    if any(a is None for a in args):
        return None
    if isinstance(scalar_op, ps.Composite):
        inner = dict(zip(scalar_op.fgraph.inputs, args, strict=True))
        for node in scalar_op.fgraph.toposort():
            node_args = [inner[v] if v in inner else _const_form(v)
                         for v in node.inputs]
            for k, out in enumerate(node.outputs):
                inner[out] = _scalar_form(node.op, node_args, k, depth + 1)
        out = scalar_op.fgraph.outputs[index]
        return inner.get(out) if out in inner else _const_form(out)
    if isinstance(scalar_op, (ps.Identity, ps.Cast)):
        return args[0]
    if isinstance(scalar_op, ps.Add):
        return _combine(args, [1] * len(args))
    if isinstance(scalar_op, ps.Sub):
        return _combine(args, [1, -1])
    if isinstance(scalar_op, ps.Neg):
        return _combine(args, [-1])
    if isinstance(scalar_op, ps.Mul):
        consts = [a[1] for a in args if set(a) <= {1}]
        others = [a for a in args if not set(a) <= {1}]
        factor = int(np.prod([c for c in consts])) if consts else 1
        if not others:
            return {1: factor}
        if len(others) == 1:
            return _combine(others, [factor])
    if isinstance(scalar_op, ps.ScalarMinimum):  # nested minima are one
        terms = set()
        for a in args:
            key = _key(a)
            if isinstance(key, tuple) and key[:1] == ("min",):
                terms |= key[1]
            else:
                terms.add(key)
        return {("min", frozenset(terms)): 1}
    return {(type(scalar_op).__name__, str(scalar_op), tuple(_key(a) for a in args)): 1}


def _const_form(var):
    from pytensor.graph.basic import Constant

    if isinstance(var, Constant) and str(var.type.dtype).startswith(("int", "uint")):
        return {1: int(np.asarray(var.data))}
    return None


def _combine(forms, coefficients):
    out: dict = {}
    for form, c in zip(forms, coefficients, strict=True):
        for term, k in form.items():
            out[term] = out.get(term, 0) + c * k
    return {term: k for term, k in out.items() if k != 0 or term == 1}


def _key(form):
    """A hashable stand-in for a form: the term itself when the form is one term."""
    items = {t: k for t, k in form.items() if not (t == 1 and k == 0)}
    if len(items) == 1:
        ((term, k),) = items.items()
        if k == 1 and term != 1:
            return term
    return ("sum", frozenset(items.items()))


def _length_of_shape(var, depth: int):
    """``len(x, axis)`` for ``x.shape[axis]`` spelled as Shape_i or Shape()[axis]."""
    from pytensor.graph.basic import Constant
    from pytensor.tensor.shape import Shape, Shape_i
    from pytensor.tensor.subtensor import Subtensor

    node = var.owner
    if isinstance(node.op, Shape_i):
        return _length(node.inputs[0], node.op.i, depth + 1)
    if (isinstance(node.op, Subtensor) and len(node.inputs) == 2
            and node.inputs[0].owner is not None
            and isinstance(node.inputs[0].owner.op, Shape)
            and isinstance(node.inputs[1], Constant)):
        shaped = node.inputs[0].owner.inputs[0]
        return _length(shaped, int(node.inputs[1].data), depth + 1)
    return None


def _length(x, axis: int, depth: int = 0):
    """The form of ``x.shape[axis]``.  Where slicing clips (``x[:-1]`` of an empty
    ``x``) the true length is larger than the form, never smaller: a proof that a
    buffer is long enough stays sound."""
    from pytensor.graph.basic import Constant
    from pytensor.tensor.basic import Alloc, AllocEmpty
    from pytensor.tensor.elemwise import DimShuffle, Elemwise
    from pytensor.tensor.subtensor import IncSubtensor, Subtensor, get_idx_list

    static = x.type.shape[axis] if axis < x.type.ndim else None
    if static is not None:
        return {1: int(static)}
    opaque = {("len", x, axis): 1}
    node = x.owner
    if node is None or depth > 64:
        return opaque
    op = node.op
    if isinstance(op, AllocEmpty):
        return _form(node.inputs[axis], depth + 1) or opaque
    if isinstance(op, Alloc):
        return _form(node.inputs[1 + axis], depth + 1) or opaque
    if isinstance(op, IncSubtensor):
        return _length(node.inputs[0], axis, depth + 1)
    if isinstance(op, DimShuffle):
        source = op.new_order[axis]
        return {1: 1} if source == "x" else _length(node.inputs[0], source, depth + 1)
    if isinstance(op, Elemwise):
        for inp in node.inputs:
            if inp.type.ndim == x.type.ndim and inp.type.shape[axis] != 1:
                return _length(inp, axis, depth + 1)
        return opaque
    if isinstance(op, Scan) and not op.info.as_while:
        k = node.outputs.index(x)
        n_traced = op.info.n_mit_mot + op.info.n_mit_sot + op.info.n_sit_sot
        if k < n_traced:  # a state's result is as long as its buffer
            return _length(node.inputs[1 + op.info.n_seqs + k], axis, depth + 1)
        if k < n_traced + op.info.n_nit_sot and axis == 0:
            size = node.inputs[1 + op.info.n_seqs + op.info.n_untraced_sit_sot + k]
            return _form(size, depth + 1) or opaque
        return opaque
    if not isinstance(op, Subtensor):
        return opaque
    idx = get_idx_list(node.inputs, op.idx_list)
    dropped = sum(not isinstance(i, slice) for i in idx[:axis])
    source = node.inputs[0]
    if axis >= len(idx) - dropped and all(isinstance(i, slice) for i in idx):
        return _length(source, axis, depth + 1)
    if dropped or axis >= len(idx) or not isinstance(idx[axis], slice):
        return opaque
    s = idx[axis]

    def const(v):
        return int(v.data) if isinstance(v, Constant) else None

    step = 1 if s.step is None else const(s.step)
    if step == -1 and s.start is None and s.stop is None:  # x[::-1]
        return _length(source, axis, depth + 1)
    if step != 1 or (s.start is not None and const(s.start) != 0):
        return opaque
    if s.stop is None:
        return _length(source, axis, depth + 1)
    whole = _length(source, axis, depth + 1)
    stop = const(s.stop)
    if stop is not None and stop < 0:
        return _combine([whole, {1: stop}], [1, 1])
    stop = _form(s.stop, depth + 1)
    if stop is None:
        return opaque
    key, whole_key = _key(stop), _key(whole)
    if key == whole_key or (isinstance(key, tuple) and key[:1] == ("min",)
                            and whole_key in key[1]):
        return stop  # x[:n] with n no more than x's length
    return {("min", frozenset({key, whole_key})): 1}


def _difference(a, b):
    """``a - b`` (integer scalars, or their forms) as a constant when the graph
    shows it is one, else None."""
    a, b = (x if isinstance(x, dict) else _form(x) for x in (a, b))
    if a is None or b is None:
        return None
    diff = _combine([a, b], [1, -1])
    if set(diff) <= {1}:
        return diff.get(1, 0)
    return None


def _at_least(a, b, c: int) -> bool:
    """Whether the graph shows ``a - b >= c`` (integer scalars or forms); ``b`` may
    be a minimum, no more than any of its terms."""
    a, b = (x if isinstance(x, dict) else _form(x) for x in (a, b))
    if a is None or b is None:
        return False
    diff = _difference(a, b)
    if diff is not None:
        return diff >= c
    key = _key(b)
    if isinstance(key, tuple) and key[:1] == ("min",):
        return any(_at_least(a, _unkey(term), c) for term in key[1])
    return False


def _unkey(key) -> dict:
    if isinstance(key, tuple) and key[:1] == ("sum",):
        return dict(key[1])
    return {key: 1}


def _covers_steps(seq, n_steps) -> bool:
    """Whether a sequence provably has ``n_steps`` entries or more (as the ones
    ``pytensor.scan`` slices to the shortest's length)."""
    return _at_least(_length(seq, 0), n_steps, 0)


class _Counter(cst.CSTVisitor):
    def __init__(self, target: str):
        self.target, self.count = target, 0

    def visit_Attribute(self, node):
        node.value.visit(self)
        return False

    def visit_Name(self, node):
        if node.value == self.target:
            self.count += 1


class _Replace(cst.CSTTransformer):
    """Substitute ``value`` for the name ``target``, parenthesized only where the
    surrounding operator needs it."""

    def __init__(self, target: str, value):
        self.target, self.value = target, value
        self.wrapped = None  # the parenthesized copy of value, if one was made

    def leave_Attribute(self, original, updated):
        return updated.with_changes(attr=original.attr)

    def leave_Name(self, original, updated):
        if updated.value != self.target:
            return updated
        if sx.precedence(self.value) >= sx._PREC_ATOM:
            return self.value
        self.wrapped = sx.paren(self.value)
        return self.wrapped

    def _fit(self, child, below: int):
        if (child is self.wrapped and child is not None
                and sx.precedence(self.value) >= below):
            return self.value
        return child

    def leave_BinaryOperation(self, original, updated):
        prec = sx.precedence(updated.with_changes(lpar=[], rpar=[]))
        power = isinstance(updated.operator, cst.Power)
        return updated.with_changes(
            left=self._fit(updated.left, prec + 1 if power else prec),
            right=self._fit(updated.right, sx._PREC_UNARY if power else prec + 1))

    def leave_UnaryOperation(self, original, updated):
        not_ = isinstance(updated.operator, cst.Not)
        below = sx._PREC_NOT if not_ else sx._PREC_UNARY
        return updated.with_changes(expression=self._fit(updated.expression, below))

    def leave_BooleanOperation(self, original, updated):
        prec = sx.precedence(updated.with_changes(lpar=[], rpar=[]))
        return updated.with_changes(left=self._fit(updated.left, prec),
                                    right=self._fit(updated.right, prec + 1))

    def leave_Comparison(self, original, updated):
        return updated.with_changes(left=self._fit(updated.left, sx._PREC_CMP + 1))

    def leave_ComparisonTarget(self, original, updated):
        return updated.with_changes(comparator=self._fit(updated.comparator,
                                                         sx._PREC_CMP + 1))

    def leave_IfExp(self, original, updated):
        return updated.with_changes(test=self._fit(updated.test, sx._PREC_IFEXP + 1),
                                    body=self._fit(updated.body, sx._PREC_IFEXP + 1),
                                    orelse=self._fit(updated.orelse, sx._PREC_IFEXP))

    def leave_Assign(self, original, updated):
        return updated.with_changes(value=self._fit(updated.value, sx._PREC_IFEXP))

    def leave_Arg(self, original, updated):
        return updated.with_changes(value=self._fit(updated.value, sx._PREC_IFEXP))

    def leave_Index(self, original, updated):
        return updated.with_changes(value=self._fit(updated.value, sx._PREC_IFEXP))

    def leave_Element(self, original, updated):
        return updated.with_changes(value=self._fit(updated.value, sx._PREC_IFEXP))


def _single_assign(stmt):
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            return small
    return None


def inline_single_use(body: list) -> list:
    """Fold ``tmp = expr`` into the next statement when that is ``tmp``'s only use:
    ``x[t + 1] = x[t] * a[t] + b[t]`` instead of a temporary and a store."""
    out = list(body)
    k = 0
    while k < len(out) - 1:
        first, second = _single_assign(out[k]), _single_assign(out[k + 1])
        if (first is not None and second is not None
                and isinstance(first.targets[0].target, cst.Name)):
            target = first.targets[0].target.value
            uses = 0
            for stmt in out:
                counter = _Counter(target)
                stmt.visit(counter)
                uses += counter.count
            in_value = _Counter(target)
            second.value.visit(in_value)
            if uses == 2 and in_value.count == 1:
                replace = _Replace(target, first.value)
                value = second.value.visit(replace)
                if value is replace.wrapped:
                    value = first.value
                merged = out[k + 1].with_changes(
                    body=[second.with_changes(value=value)],
                    leading_lines=[*out[k].leading_lines, *out[k + 1].leading_lines])
                out[k:k + 2] = [merged]
                continue
        k += 1
    return out
