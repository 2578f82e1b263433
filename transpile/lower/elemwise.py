"""``Elemwise`` as an explicit loop nest, and ``DimShuffle`` as a view.

An ``Elemwise`` node (a fused ``Composite`` included) becomes one allocation per output
and one loop nest over the output shape, with the scalar expression inline::

    sigmoid = np.empty(z.shape, dtype=np.float64)
    for i in range(z.shape[0]):
        sigmoid[i] = 1.0 / (1.0 + math.exp(-z[i]))

Broadcasting is decided from the static types: a dimension of static length 1 is read
at index 0.  Dimensions that must agree at run time are checked once, up front.
"""

import libcst as cst
from pytensor.graph.basic import Constant
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.subtensor import IncSubtensor

from .. import syntax as sx
from ..dtypes import cast_if_unnatural, dtype_attr, is_int, typed_literal
from ..registry import register
from .parallel import independent_loops, reduction_loops
from .scalar import (
    ARITHMETIC,
    in_context,
    int64_wrapping,
    is_atomic,
    scalar_apply,
    scalar_result,
)


def dim_size(fn, var, d: int) -> sx.Expr:
    """The length of dimension ``d`` of ``var``: a literal when static."""
    static = var.type.shape[d]
    if static is not None:
        return sx.literal(static)
    if var in fn.dims:  # a view taken in a loop: its length, read off the whole array
        return fn.dims[var][d]
    return sx.subscript(sx.attr(fn.expr(var), "shape"), [sx.literal(d)])


def shape_tuple(dims) -> sx.Expr:
    return sx.tuple_(dims)


def output_dims(fn, node) -> tuple[list[sx.Expr], list[sx.Expr]]:
    """The output's dimension lengths, and the conditions under which inputs disagree."""
    ndim = node.outputs[0].type.ndim
    dims, mismatches = [], []
    for d in range(ndim):
        sources = [v for v in dict.fromkeys(node.inputs) if v.type.shape[d] != 1]
        if not sources:
            dims.append(sx.literal(1))
            continue
        statics = {v.type.shape[d] for v in sources} - {None}
        dims.append(dim_size(fn, next((v for v in sources if v.type.shape[d] is not None),
                                      sources[0]), d))
        if len(statics) <= 1 and any(v.type.shape[d] is None for v in sources) or len(statics) > 1:
            first = dims[-1]
            first_var = next((v for v in sources if v.type.shape[d] is not None), sources[0])
            for other in sources:
                size = dim_size(fn, other, d)
                if fn.code(size) != fn.code(first) and not fn.module.plan.facts.same(
                        other, d, first_var, d):  # (equal as the graph builds them)
                    mismatches.append(sx.compare("!=", size, first))
    return dims, mismatches


def whole_shape(fn, node, dims) -> sx.Expr:
    """``x.shape`` when one input spans the whole output, else a tuple of lengths."""
    out = node.outputs[0].type
    for var in node.inputs:
        if var not in fn.dims and var.type.ndim == out.ndim and all(
                s != 1 for s in var.type.shape) and all(
            fn.code(dim_size(fn, var, d)) == fn.code(dims[d]) for d in range(out.ndim)
        ) and any(s is None for s in var.type.shape):
            return sx.attr(fn.expr(var), "shape")
    return shape_tuple(dims)


def element(fn, var, indices, node=None) -> sx.Expr:
    """The element of ``var`` at the loop position (index 0 along broadcast dims); a
    broadcast constant as a literal, in the dtype of ``node``'s operation when that
    is exact (``in_context``)."""
    if var in fn.loop_values:  # computed by an earlier member of the same loop
        return fn.loop_values[var]
    if var in fn.broadcast_scalars:  # a scalar given dimensions only to broadcast
        constant = fn.broadcast_constants.get(var)
        if constant is not None and node is not None:
            return in_context(constant, node.op.scalar_op,
                              [constant if v is var else v for v in node.inputs])
        return fn.broadcast_scalars[var]
    if isinstance(var, Constant) and all(s == 1 for s in var.type.shape):
        if node is not None:
            return in_context(var, node.op.scalar_op, node.inputs)
        return typed_literal(var.data, var.type.dtype)  # ``2.0``, not ``CONST[0, 0]``
    if var.type.ndim == 0:
        return fn.expr(var)
    return read_at(fn, var, [sx.literal(0) if s == 1 else sx.name(i)
                             for s, i in zip(var.type.shape, indices, strict=True)])


def read_at(fn, var, index) -> sx.Expr:
    """``var[index]``, an element (``index``: an integer per dimension); of an
    expanded view, the element of the array it expands: ``m[i]``, not
    ``m[:, None][i, 0]``."""
    view = fn.reindexed.get(var)
    if view is not None and any(e is sx.NEWAXIS for e in view[1]):
        return sx.subscript(*fn.composed(var, index))
    return sx.subscript(fn.expr(var), index)


def loop_reads(fn, inputs, indices, node=None) -> list[sx.Expr]:
    """Each input's element at the loop position; an array element the scalar code
    reads more than once (an input listed twice) is read once, into a local."""
    reads: dict = {}
    for var in inputs:
        if var not in reads:
            expr = element(fn, var, indices, node)
            if inputs.count(var) > 1 and isinstance(expr, cst.Subscript):
                expr = fn.bind_name(fn.fresh(f"{var.name or 'x'}_item"), expr)
            reads[var] = expr
    return [reads[var] for var in inputs]


def check_shapes(fn, mismatches, what: str) -> None:
    new = [m for m in mismatches if fn.code(m) not in fn.checked]
    if not new:
        return
    fn.checked.update(fn.code(m) for m in new)
    fn.check(new, "ValueError", f"{what}: input shapes do not match")


def _hint(op, var) -> str:
    scalar = op.scalar_op
    if hasattr(scalar, "fgraph"):  # Composite: name it after its outermost operation
        out = scalar.fgraph.outputs[node_index(var)]
        if out.owner is not None:
            return getattr(out.owner.op, "name", None) or "fused"
        return "fused"
    return getattr(scalar, "name", None) or type(scalar).__name__.lower()


def node_index(var) -> int:
    return var.owner.outputs.index(var)


@register(Elemwise, destinations=True)
def lower_Elemwise(op, node, fn):
    """The loop nest of ``node`` and of the loop's other members, with the
    reductions accumulated in it, as the plan groups them (fusion.py)."""
    if node.outputs[0].type.ndim == 0:
        _lower_scalars(op, node, fn)
        return
    loop = fn.module.plan.loops.get(node)
    members = loop.members if loop is not None else [node]
    dims, mismatches = output_dims(fn, node)
    for member in members[1:]:
        mismatches += _outside_mismatches(fn, member, loop, dims)
    check_shapes(fn, mismatches, "Elemwise")
    shape = whole_shape(fn, node, dims)
    targets = {m: _targets(m, fn, dims, loop, shape) for m in members}
    accumulators = [a for m in members for _, accs in targets[m] for a in accs]
    with fn.indices(len(dims)) as indices:
        with fn.block() as body:
            for member in members:
                _element_body(member, fn, targets[member], indices, loop)
        loops = _loop_nest(fn, accumulators, indices, dims,
                           loop.kept if loop is not None else 0, body)
    for member in members:
        for var in member.outputs:
            fn.loop_values.pop(var, None)
    fn.emit(*loops)
    for a in accumulators:
        a.finish()


def _lower_scalars(op, node, fn) -> None:
    """A 0-d Elemwise: its values, bound to locals (or inline when as short); the
    constants a comparison or switch reads spelled in the dtype it computes in
    (``sigma > 0.0``; arithmetic upcasts its own, ``upcast_args``)."""
    args = [in_context(v, op.scalar_op, node.inputs)
            if isinstance(v, Constant) and not isinstance(op.scalar_op, ARITHMETIC)
            else fn.expr(v) for v in node.inputs]
    with int64_wrapping(fn, node):
        exprs = scalar_apply(op.scalar_op, args, node, fn)
    dtypes = [v.type.dtype for v in node.inputs]
    for var, expr in zip(node.outputs, exprs, strict=True):
        expr = scalar_result(expr, var.type.dtype, dtypes)
        if sx.is_simple(expr):  # a name, a number, ``x.shape[0]``: no local
            fn.alias(var, expr)
        else:
            fn.bind(var, expr, hint=_hint(op, var))


def _outside_mismatches(fn, member, loop, dims) -> list:
    """A later member's inputs from outside the loop whose lengths may differ from
    the loop's (the graph does not build them equal)."""
    first = loop.members[0].outputs[0]
    tests = []
    for var in dict.fromkeys(member.inputs):
        if var.owner in loop.order:
            continue
        for d, static in enumerate(var.type.shape):
            if static == 1 or fn.module.plan.facts.same(var, d, first, d):
                continue
            size = dim_size(fn, var, d)
            if fn.code(size) != fn.code(dims[d]):
                tests.append(sx.compare("!=", size, dims[d]))
    return tests


def _targets(node, fn, dims, loop, shape) -> list:
    """Per output: the array it is stored in (None for a loop local), and the
    reductions accumulated from it in this loop nest."""
    from .reduction import Accumulator

    targets = []
    for var in node.outputs:
        reductions = loop.reductions.get(var, []) if loop is not None else []
        if reductions:
            fn.fused[var] = reductions
        accumulators = [Accumulator(fn, r, dims) for r in reductions]
        if var in fn.destinations:
            target = fn.into_destination(var, dims)
        elif loop is None or var in loop.stored:
            target = fn.allocate(var, shape, var.type.dtype, _hint(node.op, var))
        else:
            target = None
        targets.append((target, accumulators))
    return targets


def _element_body(node, fn, targets, indices, loop) -> None:
    """One element's values: stored, accumulated into the reductions, and kept for
    the loop's later members."""
    op = node.op
    args = loop_reads(fn, node.inputs, indices, node)
    with int64_wrapping(fn, node):
        exprs = scalar_apply(op.scalar_op, args, node, fn)
    for var, (target, accs), expr in zip(node.outputs, targets, exprs, strict=True):
        if accs and is_int(var.type.dtype):
            # Numba computes narrow integers in int64; an array store wraps them
            # around to the dtype, and so must the value accumulated.
            expr = cast_if_unnatural(expr, var.type.dtype)
        read_later = loop is not None and any(
            client in loop.order for client, _ in fn.graph.clients.get(var, ()))
        if read_later:  # the value an array of its dtype would hold (int8 wraps)
            expr = scalar_result(expr, var.type.dtype, [v.type.dtype for v in node.inputs])
        uses = (target is not None) + len(accs) + read_later
        if (uses > 1 or read_later) and not is_atomic(expr):
            # stored and reduced, reduced twice, or read again: computed once, into a local
            expr = fn.bind_name(fn.fresh(_hint(op, var)), expr)
        if read_later:
            fn.loop_values[var] = expr
        if target is not None:
            fn.emit(sx.assign(sx.subscript(target, [sx.name(i) for i in indices]), expr))
        for a in accs:
            fn.emit(a.update(expr))


def _loop_nest(fn, accumulators, indices, dims, kept: int, body) -> list:
    """The loops around ``body``: full reductions start before them, row
    reductions at each of the ``kept`` leading positions."""
    inner = sx.for_nest(indices[kept:], dims[kept:], body)
    full = [a for a in accumulators if not a.kept]
    inits = [a.init() for a in accumulators if a.kept]
    if kept:
        stores = [s for a in accumulators for s in a.store(indices[:kept])]
        loops = sx.for_nest(indices[:kept], dims[:kept], [*inits, *inner, *stores])
        return ([*(a.init() for a in full), *loops] if full
                else independent_loops(fn, dims, loops))
    if full:
        return reduction_loops(fn, full, indices, dims, body)
    return independent_loops(fn, dims, inner)


@register(DimShuffle)
def lower_DimShuffle(op, node, fn):
    (x,) = node.inputs
    (out,) = node.outputs
    value = fn.expr(x)
    order = list(op.new_order)
    kept = [d for d in order if d != "x"]
    if x.type.ndim == 0:  # a scalar gains dimensions: a fresh array
        _expand_scalar(fn, x, out, value)
        return
    # its lengths, spelled by the array it views (``W.shape[1]`` for ``W.T``)
    fn.dims[out] = [sx.literal(1) if d == "x" else dim_size(fn, x, d) for d in order]
    dropped = [d for d in range(x.type.ndim) if d not in kept]
    _check_squeezed(fn, x, dropped)
    # 1. drop the broadcastable dimensions that disappear, by indexing them at 0
    # 2. transpose what is left, 3. add the new axes: numba views all the way.
    if kept != sorted(kept):
        if dropped:
            value = sx.subscript(value, [sx.literal(0) if d in dropped else sx.COLON
                                         for d in range(x.type.ndim)])
        remaining = [d for d in range(x.type.ndim) if d not in dropped]
        perm = [remaining.index(d) for d in kept]
        value = sx.transpose(value, perm)
        if "x" in order:
            value = sx.subscript(value, [sx.NEWAXIS if d == "x" else sx.COLON for d in order])
    else:
        index, pending = [], list(dropped)
        for d in order:
            if d == "x":
                index.append(sx.NEWAXIS)
                continue
            while pending and pending[0] < d:
                index.append(sx.literal(0))
                pending.pop(0)
            index.append(sx.COLON)
        index.extend(sx.literal(0) for _ in pending)
        fn.index_view(out, x, index, hint=_dimshuffle_hint(op))
        return
    if out.type.ndim == 0:
        fn.bind(out, value, hint="item")
        return
    fn.bind(out, value, hint=_dimshuffle_hint(op), view_of=x)


def _expand_scalar(fn, x, out, value) -> None:
    """A 0-d value given dimensions: the scalar itself where every consumer reads
    it as one (an Elemwise broadcasts it), else a fresh array."""
    if out.type.ndim == 0:
        fn.alias(out, value)
        return
    fn.broadcast_scalars[out] = value
    if isinstance(x, Constant):
        fn.broadcast_constants[out] = x
    if all(isinstance(c.op, Elemwise) or (isinstance(c.op, IncSubtensor) and i == 1)
           for c, i in fn.clients(out)):
        fn.alias(out, value)
        return
    full = sx.call("np.full", shape_tuple([sx.literal(1)] * out.type.ndim), value,
                   dtype=dtype_attr(out.type.dtype))
    fn.bind(out, full, hint="expanded")
    fn.contiguous.add(out)


def _check_squeezed(fn, x, dropped) -> None:
    """A dropped dimension of unknown length must be 1 at run time (indexing it at 0
    would silently take the first entry); PyTensor's DimShuffle raises."""
    unsure = [sx.compare("!=", dim_size(fn, x, d), sx.literal(1))
              for d in dropped if x.type.shape[d] != 1]
    if unsure:
        test = sx.any_of(unsure)
        if fn.code(test) not in fn.checked:
            fn.checked.add(fn.code(test))
            fn.emit(sx.if_(test, [sx.raise_(
                "ValueError", "DimShuffle: Attempting to squeeze axes with size not "
                "equal to one")]))


def _dimshuffle_hint(op) -> str:
    name = type(op).__name__
    if getattr(op, "is_transpose", False) or "Transpose" in str(op):
        return "transposed"
    if getattr(op, "is_expand_dims", False) or "ExpandDims" in str(op):
        return "expanded"
    if "DropDims" in str(op):
        return "dropped"
    return name.lower()
