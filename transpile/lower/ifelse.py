"""``IfElse`` (``pytensor.ifelse``) as an ``if`` statement that computes only the
branch it takes::

    if use_exact:
        # Exp
        exp = np.empty(x.shape, dtype=np.float64)
        ...
        result = exp
    else:
        result = x.copy()

Deciding what goes in a branch (``branch_nodes``, called by ``lower_nodes`` before it
lowers a list of nodes): the nodes whose every result is read only by one branch of
one IfElse, directly or through other such nodes, are lowered inside that branch and
nowhere else.  A nested IfElse in a branch is itself such a node, and its branches are
decided when its enclosing branch is lowered.
"""

from pytensor.graph.basic import Constant
from pytensor.ifelse import IfElse

from .. import syntax as sx
from ..dtypes import cast_if_unnatural
from ..registry import register
from .inline import inline_single_use


def _exclusive(fgraph, nodes, ifelse, positions, claimed) -> list:
    """The nodes among ``nodes`` (in order) whose results only ``ifelse``'s inputs at
    ``positions`` read, directly or through each other."""
    owned: set = set()
    outputs = set(fgraph.outputs)
    before = nodes[:nodes.index(ifelse)]
    for node in reversed(before):  # every reader of a node comes after it
        if node in claimed or any(o in outputs for o in node.outputs):
            continue
        readers = [client for o in node.outputs for client in fgraph.clients.get(o, ())]
        if readers and all(c in owned or (c is ifelse and i in positions)
                           for c, i in readers):
            owned.add(node)
    return [node for node in before if node in owned]


def branch_nodes(fn, nodes) -> set:
    """Plan the IfElse nodes among ``nodes``: record in ``fn.branches`` the nodes each
    of its branches computes, and return all such nodes (``lower_nodes`` skips them:
    the IfElse lowers them in its branch)."""
    fgraph = fn.graph
    ifelses = [n for n in nodes if isinstance(n.op, IfElse)]
    if fgraph is None or not ifelses:
        return set()
    claimed: set = set()
    for node in reversed(ifelses):  # an enclosing IfElse comes after the ones it holds
        if node in claimed:
            continue
        n = node.op.n_outs
        then = _exclusive(fgraph, nodes, node, set(range(1, n + 1)), claimed)
        claimed.update(then)
        orelse = _exclusive(fgraph, nodes, node, set(range(n + 1, 2 * n + 1)), claimed)
        claimed.update(orelse)
        fn.branches[node] = (then, orelse)
    return claimed


def _own_copy(fn, var) -> bool:
    """Whether ``var`` is an array the function made (not a view, not a constant)."""
    return fn.owns(var) and not isinstance(var, Constant)


def _base(fn, var):
    return fn.view_of.get(var, var)


def _lower_branch(fn, nodes) -> list:
    """The statements computing one branch's nodes."""
    from ..assemble import lower_nodes

    with fn.scoped_checks(), fn.block() as body:  # a branch may not be taken
        lower_nodes(fn, nodes)
    return body


def _result(fn, var, copy: bool) -> sx.Expr:
    value = fn.expr(var)
    if copy:
        return sx.method(value, "copy")
    if getattr(var.type, "ndim", 0) == 0:
        return cast_if_unnatural(value, var.type.dtype)  # one Numba type in both
    return value


@register(IfElse)
def lower_IfElse(op, node, fn):
    cond, *branches = node.inputs
    n = op.n_outs
    then_vars, else_vars = branches[:n], branches[n:]
    then_nodes, else_nodes = fn.branches.pop(node, ([], []))
    test = fn.expr(cond)
    then_body = _lower_branch(fn, then_nodes)
    else_body = _lower_branch(fn, else_nodes)
    for out, t, f in zip(node.outputs, then_vars, else_vars, strict=True):
        target = fn.fresh(out.name or "chosen")
        if getattr(out.type, "ndim", 0) == 0:
            copies = (False, False)
            fn.values[out] = sx.name(target)
        elif _base(fn, t) is _base(fn, f) and not (_own_copy(fn, t) and _own_copy(fn, f)):
            copies = (False, False)  # views of one array: so is the output
            fn.values[out] = sx.name(target)
            fn.set_view(out, _base(fn, t))
        else:  # an array made in the branch, else a copy
            copies = (not _own_copy(fn, t), not _own_copy(fn, f))
            fn.values[out] = sx.name(target)
            fn.contiguous.add(out)
        then_body.append(sx.assign(target, _result(fn, t, copies[0])))
        else_body.append(sx.assign(target, _result(fn, f, copies[1])))
    # ``chosen = exp`` after ``exp = ...``: one statement (names in a branch are its own)
    fn.emit(sx.if_(test, inline_single_use(then_body), inline_single_use(else_body)))
