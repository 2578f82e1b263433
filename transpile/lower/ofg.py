"""``OpFromGraph``: a graph used as one Op (``AllocDiag``, ``Einsum``, ``Pad``,
``KroneckerProduct`` and users' own are subclasses).

The inner graph is inlined: its inputs are bound to the outer expressions and its nodes
lowered in place by the same lowerings, so the generated code reads as if the graph had
been written out.  The rewrite step inlines ``inline=True`` OpFromGraphs itself; the
others (the default) arrive here, and their inner graph gets the same rewrites as the
outer one.
"""

from pytensor.compile.builders import OpFromGraph

from ..compat import op_class
from ..registry import register

# Numba mode's rewrites wrap one node in an OpWithCoreShape (BlockwiseWithCoreShape,
# RandomVariableWithCoreShape) to hand it its core output shapes.  That node was
# rewritten already, and rewriting it again would only wrap it again, without end.
# (BlockwiseWithCoreShape has a lowering of its own, in lower/blockwise.py.)
OpWithCoreShape = op_class("OpWithCoreShape", ("pytensor.tensor.blockwise",))


def inner_graph(op, fn):
    """A copy of the inner graph, rewritten as the outer graph was (unless the
    rewrites made it)."""
    from pytensor.graph.fg import FunctionGraph

    from ..rewrite import rewrite

    fgraph = FunctionGraph(list(op.inner_inputs), list(op.inner_outputs), clone=True)
    made_by_rewrites = OpWithCoreShape is not None and isinstance(op, OpWithCoreShape)
    if fn.module.rewrite_inner_graphs and not made_by_rewrites:
        rewrite(fgraph)
    fn.module.plan.add_graph(fgraph)
    return fgraph


def lower_inline(fn, fgraph, outer_inputs, outer_outputs) -> None:
    """Lower ``fgraph`` with its inputs bound to ``outer_inputs``, binding
    ``outer_outputs`` to its results."""
    from ..assemble import lower_nodes

    for inner, outer in zip(fgraph.inputs, outer_inputs, strict=True):
        # A view of the outer value: never written, copied if returned.
        fn.alias(inner, fn.expr(outer), view_of=outer)
        if outer in fn.broadcast_scalars:
            fn.broadcast_scalars[inner] = fn.broadcast_scalars[outer]

    with fn.inner(fgraph):
        lower_nodes(fn, fgraph.toposort())

    seen = {}
    for inner, outer in zip(fgraph.outputs, outer_outputs, strict=True):
        base = fn.view_of.get(inner)
        if inner in seen:  # a result returned twice: the second is a view of the first
            base = seen[inner]
        fn.alias(outer, fn.expr(inner), view_of=base)
        # An array of our own, unless shared by two results (then neither may be
        # updated in place).
        if base is None and inner in fn.contiguous and fgraph.outputs.count(inner) == 1:
            fn.contiguous.add(outer)
        seen.setdefault(inner, outer)


@register(OpFromGraph)
def lower_OpFromGraph(op, node, fn):
    lower_inline(fn, inner_graph(op, fn), node.inputs, node.outputs)
