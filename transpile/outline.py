"""Repeated code, one function: a node's code that the entry repeats becomes a helper.

Large graphs repeat themselves: a network's layers, their gradients, a model's like
terms.  Written inline, every copy is one more stretch of one function for Numba to
type and LLVM to optimise, and their cost grows faster than the function's length
(docs/performance.md, "The first call of a large graph").  A person writes the
repeated code once, as a function, and calls it; so does this pass.  Numba then
compiles each helper once per signature (and caches it on its own), whatever the
number of calls.

The entry's body is cut into *groups*: the code of one node starts at the comment
naming its Op.  Two groups are copies when their code is the same up to a consistent
renaming of the function's local variables (globals, attributes, keywords and literals
must match), and they read the same inputs and leave the same results live.  A group
that has a copy and is worth a call (a loop, a branch, a line of array arithmetic,
two calls or more) becomes a helper named after its Op, whose parameters are the
locals it reads before writing them (in order of first use) and whose results are
the locals it writes that code after it reads; each copy becomes one call.  A
stretch of nodes repeated back to back (a layer) is taken whole the same way.

Behaviour is unchanged: helpers take arrays by reference, so writes into an array made
elsewhere are seen by the caller, and every name a group rebinds that later code
reads is returned.  Code this pass cannot analyse exactly (constructs the lowerings do
not emit) is left inline and treated as reading and writing every name it mentions.
"""

import dataclasses
import re
from collections import Counter

import libcst as cst

from . import syntax as sx
from .walk import count_names

# Fields that are layout, never meaning (comments live in leading_lines).
_LAYOUT = {
    "leading_lines", "lines_after_decorators", "header", "footer", "trailing_whitespace",
    "newline", "lpar", "rpar", "comma", "semicolon", "equal", "colon", "dot",
    "lbracket", "rbracket", "lbrace", "rbrace", "asynchronous",
}
_FIELDS: dict[type, tuple[str, ...]] = {}
_SIMPLE = {cst.Assign, cst.AugAssign, cst.Expr, cst.Return, cst.Raise, cst.Assert,
           cst.Pass, cst.Break, cst.Continue}
# Expressions with scopes of their own: never in the lowerings' code.
_SCOPES = {cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp,
           cst.NamedExpr, cst.Yield, cst.Await}
# Shapes are complete (every field of every node but layout, in order, list lengths
# included), so equal shapes are equal code; the test suite also compares each copy
# with its helper's code tree against tree (tests/conftest.py sets this).
VERIFY = False
MIN_SIZE = 14  # syntax nodes of a line of arithmetic worth a call (a = b * c + d is 9)


class _Opaque(Exception):
    """Code this pass does not analyse."""


def _fields(cls: type) -> tuple[str, ...]:
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = tuple(f.name for f in dataclasses.fields(cls)
                       if f.name not in _LAYOUT and not f.name.startswith("whitespace"))
        _FIELDS[cls] = fields
    return fields


_NODE_TYPES: dict[type, bool] = {}


def _is_node(value) -> bool:
    """``isinstance(value, cst.CSTNode)``, by a table: CSTNode is an ABC, whose
    checks dominated this pass."""
    kind = type(value)
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = isinstance(value, cst.CSTNode)
    return known


def _children(node):
    for field in _fields(type(node)):
        value = getattr(node, field)
        if _is_node(value):
            yield value
        elif type(value) in (list, tuple):
            yield from (v for v in value if _is_node(v))


def _variables(node):
    """The ``Name`` nodes of ``node`` that stand for variables (not attribute names,
    keywords or parameters)."""
    stack = [node]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is cst.Name:
            yield item
        elif kind is cst.Attribute:
            stack.append(item.value)
        elif kind is cst.Arg:
            stack.append(item.value)
        elif kind in _SCOPES:
            raise _Opaque
        else:
            stack.extend(_children(item))


# ---- what a group reads and writes -----------------------------------------------


@dataclasses.dataclass
class _Flow:
    exposed: set  # names read before the group surely wrote them
    written: set  # every name it binds
    surely: set = dataclasses.field(default_factory=set)  # bound on every path


def _reads(node, defined: set, flow: _Flow) -> None:
    for var in _variables(node):
        if var.value not in defined:
            flow.exposed.add(var.value)


def _bind(target, defined: set, flow: _Flow) -> None:
    if type(target) is cst.Name:
        names = [target.value]
    elif type(target) in (cst.Tuple, cst.List) and all(
            type(e) is cst.Element and type(e.value) is cst.Name for e in target.elements):
        names = [e.value.value for e in target.elements]
    else:  # x[i] = ..., x.a = ...: reads x and i
        _reads(target, defined, flow)
        return
    flow.written.update(names)
    defined.update(names)


def _small(small, defined: set, flow: _Flow) -> None:
    kind = type(small)
    if kind is cst.Assign:
        _reads(small.value, defined, flow)
        for target in small.targets:
            _bind(target.target, defined, flow)
    elif kind is cst.AugAssign:
        _reads(small.target, defined, flow)
        _reads(small.value, defined, flow)
        if type(small.target) is cst.Name:
            _bind(small.target, defined, flow)
    elif kind in _SIMPLE:
        _reads(small, defined, flow)
    else:
        raise _Opaque


def _statements(suite) -> list:
    if isinstance(suite, cst.IndentedBlock):
        return list(suite.body)
    raise _Opaque  # a one-line suite (``if x: y``): the lowerings write blocks


def _run(stmts, defined: set, flow: _Flow) -> set:
    """Walk ``stmts`` in order; ``defined``: names surely bound before them.  Returns
    the names surely bound after them."""
    defined = set(defined)
    for stmt in stmts:
        kind = type(stmt)
        if kind is cst.SimpleStatementLine:
            for small in stmt.body:
                _small(small, defined, flow)
        elif kind is cst.For:
            _reads(stmt.iter, defined, flow)
            inner = set(defined)
            _bind(stmt.target, inner, flow)
            _run(_statements(stmt.body), inner, flow)  # a loop may not run
            if stmt.orelse is not None:
                _run(_statements(stmt.orelse.body), defined, flow)
        elif kind is cst.While:
            _reads(stmt.test, defined, flow)
            _run(_statements(stmt.body), defined, flow)
            if stmt.orelse is not None:
                _run(_statements(stmt.orelse.body), defined, flow)
        elif kind is cst.If:
            defined = _branches(stmt, defined, flow)
        else:
            raise _Opaque
    return defined


def _branches(stmt: cst.If, defined: set, flow: _Flow) -> set:
    _reads(stmt.test, defined, flow)
    taken = _run(_statements(stmt.body), defined, flow)
    other = stmt.orelse
    if other is None:
        return defined
    if type(other) is cst.If:
        return taken & _branches(other, defined, flow)
    return taken & _run(_statements(other.body), defined, flow)


def _flow(stmts) -> _Flow | None:
    flow = _Flow(set(), set())
    try:
        flow.surely = _run(stmts, set(), flow)
    except _Opaque:
        return None
    return flow


# ---- copies ------------------------------------------------------------------------


def _shape(stmts, local: set) -> tuple[tuple, list[str]]:
    """The code of ``stmts`` with its locals numbered by first use (so that two copies
    that differ only in their variables' names have equal shapes), and those locals
    in that order.  Every field of every node but layout is in it, in order, an
    absent one too (``a[:n]`` is not ``a[n:]``), and every list's length."""
    order: dict[str, int] = {}
    out: list = []
    append = out.append

    def walk(item):
        kind = type(item)
        if kind is cst.Name:
            name = item.value
            if name in local:
                append(("L", order.setdefault(name, len(order))))
            else:
                append(("G", name))
            return
        append(kind)
        if kind is cst.Attribute:
            append(item.attr.value)
            walk(item.value)
            return
        if kind is cst.Arg:
            append(("A", item.star, item.keyword.value if item.keyword else None))
            walk(item.value)
            return
        for field in _fields(kind):
            value = getattr(item, field)
            if _is_node(value):
                walk(value)
            elif type(value) in (list, tuple):
                append(len(value))
                for v in value:
                    walk(v)
            else:  # None, a string or number, or MaybeSentinel (layout)
                append(value if value is None or isinstance(value, (str, int)) else "-")

    for stmt in stmts:
        walk(stmt)
    return tuple(out), list(order)


def _then(flows: list[_Flow]) -> _Flow:
    """The flow of code that runs ``flows``' code one after the other."""
    out = _Flow(set(), set())
    for flow in flows:
        out.exposed |= flow.exposed - out.surely
        out.written |= flow.written
        out.surely |= flow.surely
    return out


def _joined(shapes: list[tuple]) -> tuple[tuple, list[str]]:
    """The shape of code that runs ``shapes``' code one after the other: the locals
    numbered anew, by first use in the whole."""
    index: dict[str, int] = {}
    out = []
    for shape, order in shapes:
        number = [index.setdefault(name, len(index)) for name in order]
        out.extend(("L", number[t[1]]) if type(t) is tuple and t[0] == "L" else t
                   for t in shape)
    return tuple(out), list(index)


def _size(stmts) -> int:
    count, stack = 0, list(stmts)
    while stack:
        item = stack.pop()
        count += 1
        stack.extend(_children(item))
    return count


@dataclasses.dataclass
class _Group:
    stmts: list
    flow: _Flow | None
    key: tuple = ()
    order: list = dataclasses.field(default_factory=list)
    params: list = dataclasses.field(default_factory=list)
    results: list = dataclasses.field(default_factory=list)
    live_after: set = dataclasses.field(default_factory=set)
    parts: list = dataclasses.field(default_factory=list)  # each node's statements
    shaped: tuple | None = None  # (shape, locals in order of first use)


def _groups(body: list) -> list[list]:
    """``body`` cut where a statement opens with a comment (a node's code)."""
    groups: list[list] = []
    for stmt in body:
        if not groups or any(line.comment is not None for line in stmt.leading_lines):
            groups.append([])
        groups[-1].append(stmt)
    return groups


def _worth_a_call(stmts) -> bool:
    """Whether code is worth a helper: a loop or a branch; a line of arithmetic long
    enough to be on arrays (``0.1 * a + np.dot(b, c)``: Numba compiles a loop for
    it); or two calls or more.  Views, lengths and a single call are not: a helper
    around them would only rename them."""
    calls = 0
    for stmt in stmts:
        if type(stmt) is not cst.SimpleStatementLine:
            return True
        work = _work(stmt)
        if work == "arithmetic":
            return True
        calls += work == "call"
    return calls >= 2


def _work(line) -> str | None:
    """``"arithmetic"``, ``"call"`` or None: what one line does, index arithmetic
    (inside brackets) aside."""
    found, stack, long_enough = None, [line], None
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is cst.BinaryOperation:
            if long_enough is None:
                long_enough = _size([line]) >= MIN_SIZE
            if long_enough:
                return "arithmetic"
        if kind is cst.Call:
            found = "call"
        if kind is cst.Subscript:
            stack.append(item.value)
            continue
        stack.extend(_children(item))
    return found


def _op_word(stmts) -> str:
    """``Composite{...}`` -> ``composite``; ``Dot22`` -> ``dot22``: the Op named in
    the comment over a node's code."""
    comment = next((line.comment.value for line in stmts[0].leading_lines
                    if line.comment is not None), "")
    words = re.findall(r"[A-Za-z][A-Za-z0-9]*", comment.lstrip("# "))
    word = words[0] if words else "node"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", word).lower()


def _helper_hint(group) -> str:
    """A node's helper is named after its Op; a stretch's after its first three
    distinct Ops (``dot22_composite``)."""
    words = list(dict.fromkeys(_op_word(part) for part in group.parts))
    return "_".join(words[:3])


def _call_comment(group) -> list:
    """Over a call: the comment of each node it runs, one after the other."""
    return [line for part in group.parts for line in part[0].leading_lines
            if line.comment is not None]


def outline_repeats(body: list, params, module) -> list:
    """``body`` (an entry's statements, ending in its ``return``) with every group that
    repeats replaced by a call of one helper (added to ``module``)."""
    if not body or type(body[-1]) is not cst.SimpleStatementLine:
        return body
    nodes = _groups(body[:-1])
    flows = [_flow(stmts) for stmts in nodes]
    local = set(params)
    for stmts, flow in zip(nodes, flows, strict=True):
        local |= flow.written if flow else set(count_names(stmts))
    shaped = [_shape(stmts, local) if flow else None
              for stmts, flow in zip(nodes, flows, strict=True)]
    known = {id(stmts): (flow, shape)
             for stmts, flow, shape in zip(nodes, flows, shaped, strict=True)}
    units = _units(nodes, _tandem_repeats([s and s[0] for s in shaped]))
    groups, counts = _analyse(units, params, local, body[-1], known)
    if any(len(g.parts) > 1 and counts[g.key] < 2 for g in groups):
        # A stretch whose copies do not all match as wholes: node by node instead.
        units = [part for g, unit in zip(groups, units, strict=True) for part in
                 (g.parts if len(g.parts) > 1 and counts[g.key] < 2 else [unit])]
        groups, counts = _analyse(units, params, local, body[-1], known)
    helpers: dict[tuple, tuple[str, _Group]] = {}
    out = []
    for group in groups:
        if group.flow is None or counts[group.key] < 2:
            out.extend(group.stmts)
            continue
        if group.key not in helpers:
            helpers[group.key] = (_add_helper(module, group), group)
        helper, first = helpers[group.key]
        if VERIFY and group is not first:
            assert _same_code(first, group), f"not a copy: {_call(helper, group)}"
        out.append(_call(helper, group))
    return [*out, body[-1]]


def _analyse(units: list[list], params, local: set, tail, known) -> tuple[list, Counter]:
    """Each unit (a node's statements, or several nodes' one after the other) as a
    group: what it reads and leaves live, its shape; and how many copies of each
    shape are worth a call.  ``known``: each node's flow and shape, worked out once."""
    groups = []
    for unit in units:
        if isinstance(unit, _Stretch):  # (its nodes are never opaque)
            group = _Group([s for part in unit for s in part],
                           _then([known[id(part)][0] for part in unit]))
            group.parts = list(unit)
            group.shaped = _joined([known[id(part)][1] for part in unit])
        else:
            group = _Group(unit, known[id(unit)][0])
            group.parts = [unit]
            group.shaped = known[id(unit)][1]
        groups.append(group)
    flow = _flow([tail])
    live = flow.exposed if flow else set(count_names(tail))
    for group in reversed(groups):
        group.live_after = live
        if group.flow is None:
            live = live | set(count_names(group.stmts))
        else:
            live = (live - group.flow.surely) | group.flow.exposed
    available = set(params)
    counts = Counter()
    for group in groups:
        flow = group.flow
        if flow is None:
            available |= set(count_names(group.stmts))
            continue
        shape, group.order = group.shaped
        group.params = [v for v in group.order if v in flow.exposed and v in available]
        group.results = [v for v in group.order if v in flow.written and v in group.live_after]
        position = {v: k for k, v in enumerate(group.order)}
        group.key = (shape, tuple(position[v] for v in group.params),
                     tuple(position[v] for v in group.results))
        available |= flow.written
        if _worth_a_call(group.stmts):
            counts[group.key] += 1
    return groups, counts


class _Stretch(list):
    """Consecutive nodes' statement lists that repeat as a whole (a layer)."""


MAX_PERIOD = 16  # nodes in a repeating stretch (a layer and its gradient: 2-8)


def _tandem_repeats(shapes: list) -> list[tuple[int, int, int]]:
    """Where the sequence of node shapes repeats back to back: ``(start, period,
    copies)`` of at least two copies, not overlapping, those that save the most
    calls first.  A network's layers are a stretch of a few nodes repeated once per
    layer; outlined as one helper each, the entry holds one call per layer."""
    ids: dict = {}
    seq = [ids.setdefault(s, len(ids)) if s is not None else -1 - k
           for k, s in enumerate(shapes)]
    n = len(seq)
    found = []
    for period in range(2, MAX_PERIOD + 1):
        i = 0
        while i + period < n:
            if seq[i] != seq[i + period]:
                i += 1
                continue
            j = i
            while j + period < n and seq[j] == seq[j + period]:
                j += 1
            copies = (j + period - i) // period
            if copies >= 2:
                found.append(((copies - 1) * period, -period, i, copies))
            i = j + 1
    taken = [False] * n
    chosen = []
    for _, neg_period, start, copies in sorted(found, reverse=True):
        period = -neg_period
        span = range(start, start + period * copies)
        if any(taken[k] for k in span):
            continue
        for k in span:
            taken[k] = True
        chosen.append((start, period, copies))
    return sorted(chosen)


def _units(nodes: list[list], repeats) -> list:
    """The nodes' statement lists, each stretch of a repeat as one ``_Stretch``."""
    units, k = [], 0
    for start, period, copies in repeats:
        units.extend(nodes[k:start])
        for c in range(copies):
            units.append(_Stretch(nodes[start + c * period:start + (c + 1) * period]))
        k = start + period * copies
    units.extend(nodes[k:])
    return units


def _same_code(first: _Group, copy: _Group) -> bool:
    """Whether ``copy`` is ``first``'s code with its locals renamed (comments aside):
    the shapes that matched are checked against the trees themselves."""
    names = dict(zip(copy.order, first.order, strict=True))
    return all(
        a.with_changes(leading_lines=()).deep_equals(
            _renamed(b, names).with_changes(leading_lines=()))
        for a, b in zip(first.stmts, copy.stmts, strict=True))


def _returned(names: list[str]):
    if not names:
        return None
    return sx.name(names[0]) if len(names) == 1 else sx.tuple_(map(sx.name, names))


def _renamed(node, names: dict):
    """``node`` with its variables renamed by ``names``."""
    kind = type(node)
    if kind is cst.Name:
        new = names.get(node.value)
        return node if new is None or new == node.value else node.with_changes(value=new)
    fields = ("value",) if kind in (cst.Attribute, cst.Arg) else _fields(kind)
    changes = {}
    for field in fields:
        value = getattr(node, field)
        if _is_node(value):
            new = _renamed(value, names)
        elif type(value) in (list, tuple) and any(_is_node(v) for v in value):
            new = type(value)(_renamed(v, names) if _is_node(v) else v for v in value)
            if all(a is b for a, b in zip(new, value, strict=True)):
                continue
        else:
            continue
        if new is not value:
            changes[field] = new
    return node.with_changes(**changes) if changes else node


def _add_helper(module, group: _Group) -> str:
    # The helper's locals are named by role, without the entry's numbering
    # (``add_19`` -> ``add``): a function of its own has no other ``add``.
    ns = module.namespace.child()
    names = {old: ns.create(re.sub(r"_\d+$", "", old)) for old in group.order}
    body = [_renamed(stmt, names) for stmt in group.stmts]
    if group.results:
        body.append(sx.return_(_returned([names[v] for v in group.results])))
    params = [names[p] for p in group.params]

    def build(name):
        return cst.FunctionDef(
            name=cst.Name(name),
            params=cst.Parameters([cst.Param(cst.Name(p)) for p in params]),
            body=sx.block(body),
            decorators=[module.decorator()],
        )

    return module.add_helper(_helper_hint(group), build).value


def _call(helper: str, group: _Group) -> cst.BaseStatement:
    call = sx.call(helper, *map(sx.name, group.params))
    if not group.results:
        stmt = sx.expr_stmt(call)
    elif len(group.results) == 1:
        stmt = sx.assign(group.results[0], call)
    else:
        stmt = sx.assign_many(group.results, call)
    return stmt.with_changes(leading_lines=_call_comment(group))
