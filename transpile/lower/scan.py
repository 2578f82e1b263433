"""``Scan`` as an explicit ``for`` loop.

Each traced state (sit-sot, mit-sot, mit-mot) lives in one buffer holding its initial
taps followed by one entry per step; a tap ``k`` of a state with look-back ``L`` reads
``buf[t + L + k]`` and the step's result is written at ``buf[t + L]``.  Sequences are
read at ``seq[t]``, nit-sot results written at ``out[t]``, untraced state (shared
variable updates) is a plain local rebound each step, and a while-loop (``until``)
breaks out and trims the buffers to the steps it ran.  The inner graph is lowered
inline, into the loop body, by the same lowerings as the outer graph::

    for t in range(n_steps):
        x[t + 1] = x[t] * a[t] + b[t]
"""

import libcst as cst
from pytensor.scan.op import Scan

from .. import syntax as sx
from ..dtypes import dtype_attr
from ..errors import UnsupportedOpError
from ..registry import register


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
    clients = fn.graph.clients.get(outer_out, ()) if fn.graph is not None else ()
    for client, _ in clients:
        for var in getattr(client, "outputs", ()):
            if var.name:
                return var.name
    return None


def _tap_name(base: str, tap: int) -> str:
    if tap == 0:
        return f"{base}_t"
    return f"{base}_tm{-tap}" if tap < 0 else f"{base}_tp{tap}"


def _inner_graph(op, fn):
    from pytensor.graph.fg import FunctionGraph

    from ..rewrite import rewrite

    fgraph = FunctionGraph(list(op.inner_inputs), list(op.inner_outputs), clone=True)
    if fn.module.rewrite_inner_graphs:
        rewrite(fgraph)
    return fgraph


def _read(fn, inner_var, value: sx.Expr, hint: str) -> None:
    """Bind an inner input to ``value``: inline for scalars, a local view otherwise."""
    if inner_var.type.ndim == 0:
        fn.alias(inner_var, value)
    else:
        fn.bind(inner_var, value, hint=hint)


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
    if any(not hasattr(v.type, "ndim") for v in node.inputs[1:]):
        raise UnsupportedOpError(f"Scan with non-tensor state (e.g. random generators): {node}")
    fgraph = _inner_graph(op, fn)
    inner_in, inner_out = fgraph.inputs, fgraph.outputs
    outer_in, outer_out = node.inputs, node.outputs

    n_steps = fn.expr(outer_in[0])
    if not isinstance(n_steps, cst.Name):
        n_steps = fn.bind_name(fn.fresh("n_steps"), n_steps)

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
    buffers, bases = [], []
    for outer_i, outer_o, inner_vars in zip(traced_outer_in, traced_outer_out, traced_inner_in):
        base = _result_name(fn, outer_o) or _base_name(outer_i, *inner_vars) or "state"
        bases.append(base)
        buffers.append(_storage(fn, outer_i, base))

    nitsot_sizes = op.outer_nitsot(outer_in)
    nitsot_inner = op.inner_nitsot_outs(inner_out)
    nitsot_outer = op.outer_nitsot_outs(outer_out)
    nitsot_buffers, deferred = [], []
    for size, inner_var, outer_var in zip(nitsot_sizes, nitsot_inner, nitsot_outer):
        name = fn.fresh(_result_name(fn, outer_var) or _base_name(inner_var) or "ys")
        core = list(inner_var.type.shape)
        known = all(s is not None for s in core)
        dims = [fn.expr(size), *(sx.literal(s if known else 0) for s in core)]
        fn.emit(sx.assign(name, sx.call("np.empty", sx.tuple_(dims),
                                        dtype=dtype_attr(inner_var.type.dtype))))
        nitsot_buffers.append(sx.name(name))
        if not known:
            deferred.append((name, size, inner_var))

    untraced_states = []
    for outer_i, inner_var in zip(op.outer_untraced_sit_sot(outer_in),
                                  op.inner_untraced_sit_sot(inner_in)):
        hint = _base_name(inner_var, outer_i) or "state"
        if outer_i.type.ndim == 0:
            untraced_states.append(fn.bind_name(fn.fresh(hint), fn.expr(outer_i)))
        else:
            untraced_states.append(_storage(fn, outer_i, hint))

    steps = None
    if info.as_while:
        steps = fn.bind_name(fn.fresh("steps"), n_steps)

    # ---- the loop --------------------------------------------------------------
    with fn.indices(1, preferred=("t", "t1", "t2", "t3")) as (t,):
        with fn.block() as body:
            for outer_seq, inner_var in zip(op.outer_seqs(outer_in), op.inner_seqs(inner_in)):
                base = _base_name(outer_seq, inner_var) or "seq"
                _read(fn, inner_var, sx.subscript(fn.expr(outer_seq), [sx.name(t)]),
                      f"{base}_t")
            for buf, base, taps, inner_vars in zip(buffers, bases, traced_taps, traced_inner_in):
                lookback = _lookback(taps)
                for tap, inner_var in zip(taps, inner_vars):
                    _read(fn, inner_var, sx.subscript(buf, [_at(t, lookback + tap)]),
                          _tap_name(base, tap))
            for state, inner_var in zip(untraced_states, op.inner_untraced_sit_sot(inner_in)):
                fn.alias(inner_var, state)
            for outer_v, inner_var in zip(op.outer_non_seqs(outer_in), op.inner_non_seqs(inner_in)):
                fn.alias(inner_var, fn.expr(outer_v), view_of=outer_v)

            from ..assemble import lower_nodes

            outer_graph, fn.graph = fn.graph, fgraph
            try:
                lower_nodes(fn, fgraph.toposort())
            finally:
                fn.graph = outer_graph

            for name, size, inner_var in deferred:  # shape known after the first step
                shape = sx.binop("+", sx.tuple_([fn.expr(size)]),
                                 sx.attr(fn.expr(inner_var), "shape"))
                fn.emit(sx.if_(sx.compare("==", sx.name(t), sx.literal(0)), [
                    sx.assign(name, sx.call("np.empty", shape,
                                            dtype=dtype_attr(inner_var.type.dtype)))]))
            for buf, taps, out_taps, inner_vars in zip(buffers, traced_taps, traced_out_taps,
                                                      traced_inner_out):
                lookback = _lookback(taps)
                for tap, inner_var in zip(out_taps, inner_vars):
                    fn.emit(sx.assign(sx.subscript(buf, [_at(t, lookback + tap)]),
                                      fn.expr(inner_var)))
            for buf, inner_var in zip(nitsot_buffers, nitsot_inner):
                fn.emit(sx.assign(sx.subscript(buf, [sx.name(t)]), fn.expr(inner_var)))
            for state, inner_var in zip(untraced_states, op.inner_untraced_sit_sot_outs(inner_out)):
                value = fn.expr(inner_var)
                if inner_var.type.ndim and not fn.owns(inner_var):
                    value = sx.method(value, "copy")
                fn.emit(sx.assign(state, value))
            if info.as_while:
                until = fn.expr(inner_out[-1])
                fn.emit(sx.if_(until, [
                    sx.assign(steps.value, sx.binop("+", sx.name(t), sx.literal(1))),
                    cst.SimpleStatementLine([cst.Break()]),
                ]))
        fn.emit(sx.for_range(t, [n_steps], inline_single_use(body)))

    # ---- results -------------------------------------------------------------
    for buf, taps, outer_var in zip(buffers, traced_taps, traced_outer_out):
        value = buf
        if info.as_while:
            end = sx.binop("+", steps, sx.literal(_lookback(taps)))
            value = fn.bind_name(fn.fresh(buf.value), sx.subscript(buf, [sx.slice_(None, end)]))
        fn.alias(outer_var, value)
        fn.contiguous.add(outer_var)
    for buf, outer_var in zip(nitsot_buffers, nitsot_outer):
        value = buf
        if info.as_while:
            value = sx.subscript(buf, [sx.slice_(None, steps)])
            value = fn.bind_name(fn.fresh(buf.value), value)
        fn.alias(outer_var, value)
        fn.contiguous.add(outer_var)
    for state, outer_var in zip(untraced_states, op.outer_untraced_sit_sot_outs(outer_out)):
        fn.alias(outer_var, state)


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
    def __init__(self, target: str, value):
        self.target, self.value = target, value

    def leave_Attribute(self, original, updated):
        return updated

    def leave_Name(self, original, updated):
        if updated.value == self.target:
            from .. import syntax

            return syntax.paren(self.value) if not isinstance(
                self.value, (cst.Name, cst.Subscript, cst.Call, cst.Attribute)) else self.value
        return updated


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
                merged = out[k + 1].with_changes(
                    body=[second.with_changes(value=second.value.visit(
                        _Replace(target, first.value)))],
                    leading_lines=[*out[k].leading_lines, *out[k + 1].leading_lines])
                out[k:k + 2] = [merged]
                continue
        k += 1
    return out
