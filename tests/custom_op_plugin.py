"""A plugin, as a user writes one: ``transpile --plugin custom_op_plugin ...``
registers the lowering of their Op before the graph is transpiled."""

from custom_op_demo import TimesThree

import transpile
from transpile import syntax as sx


@transpile.register(TimesThree)
def lower_TimesThree(op, node, fn):
    (x,) = node.inputs
    (out,) = node.outputs
    fn.bind(out, sx.binop("*", fn.expr(x), sx.literal(3.0)), hint="tripled")
