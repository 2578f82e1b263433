"""Reads and renames of libcst trees: the names a tree mentions (fast), names
replaced, and dead assignments.  The one place generated code's names are counted
or renamed.

libcst's visitors call a hook per node and rebuild every node a transformer passes
through; over a module of thousands of statements that dominated transpile time.
These walks read the frozen dataclass fields directly (which fields can hold nodes is
worked out once per node class), and pruning rebuilds only the blocks it changes, so
each function body is walked a fixed number of times whatever its size.
"""

import dataclasses
from collections import Counter

import libcst as cst

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
# Fields that hold tokens, whitespace or comments, never a name.
_TOKENS = {
    "comma", "semicolon", "dot", "operator", "equal", "colon", "lbracket", "rbracket",
    "lbrace", "rbrace", "lpar", "rpar", "newline", "trailing_whitespace", "header",
    "footer", "leading_lines", "lines_after_decorators", "asynchronous",
}
_LEAVES = (cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary)


def _fields(cls: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        if issubclass(cls, _LEAVES):
            fields = ()
        elif cls is cst.Attribute:
            fields = ("value",)  # in np.empty, only np is a name
        elif cls is cst.Arg:
            fields = ("value",)  # in dtype=np.float64, dtype is no variable
        else:
            fields = tuple(f.name for f in dataclasses.fields(cls)
                           if f.name not in _TOKENS and not f.name.startswith("whitespace"))
        _CHILD_FIELDS[cls] = fields
    return fields


def _children(item):
    for field in _fields(type(item)):
        value = getattr(item, field)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from (v for v in value if isinstance(v, cst.CSTNode))


def _nodes(node) -> list:
    return list(node) if isinstance(node, (list, tuple)) else [node]


def count_names(node, counts: Counter | None = None, *, in_loops: bool = False) -> Counter:
    """How often each variable occurs in ``node`` (a node or a list of nodes) as a
    ``Name``: read or bound (assignment targets and parameters included, attribute
    names and keywords not); with ``in_loops``, only inside ``for`` and ``while``
    loops (their headers included)."""
    counts = Counter() if counts is None else counts
    stack = [(item, not in_loops) for item in _nodes(node)]
    while stack:
        item, counted = stack.pop()
        if isinstance(item, cst.Name):
            if counted:
                counts[item.value] += 1
            continue
        counted = counted or isinstance(item, (cst.For, cst.While))
        stack.extend((child, counted) for child in _children(item))
    return counts


def contains(node, matches) -> bool:
    """Whether ``node`` (a node or a list of nodes) or a node in it ``matches``."""
    stack = _nodes(node)
    while stack:
        item = stack.pop()
        if matches(item):
            return True
        stack.extend(_children(item))
    return False


def _targets(target, names: set) -> None:
    if isinstance(target, cst.Name):
        names.add(target.value)
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            _targets(element.value, names)


def bound_names(node, updated: set | None = None) -> set[str]:
    """The names ``node`` (a node or a list of nodes) binds at any depth: assignment
    targets (tuples unpacked) and ``for`` targets; the targets of ``name += ...`` go
    into ``updated`` when it is given, else into the result."""
    names: set[str] = set()
    stack = _nodes(node)
    while stack:
        item = stack.pop()
        if isinstance(item, cst.AssignTarget) or isinstance(item, cst.For):
            _targets(item.target, names)
        elif isinstance(item, cst.AugAssign):
            _targets(item.target, names if updated is None else updated)
        if not isinstance(item, (cst.BaseExpression, *_LEAVES)):
            stack.extend(_children(item))
    return names


def read_names(node, plain: set | None = None) -> set[str]:
    """The variables the expression ``node`` reads; ``plain``, if given, collects
    those it reads other than as ``name.shape`` (whose value an in-place update
    keeps)."""
    names: set[str] = set()
    stack = _nodes(node)
    while stack:
        item = stack.pop()
        if isinstance(item, cst.Name):
            names.add(item.value)
            if plain is not None:
                plain.add(item.value)
        elif (plain is not None and isinstance(item, cst.Attribute)
              and isinstance(item.value, cst.Name) and item.attr.value == "shape"):
            names.add(item.value.value)
        else:
            stack.extend(_children(item))
    return names


def assigned_name(stmt) -> str | None:
    """The name a plain ``name = value`` statement line assigns, else None."""
    if type(stmt) is cst.SimpleStatementLine and len(stmt.body) == 1:
        small = stmt.body[0]
        if (type(small) is cst.Assign and len(small.targets) == 1
                and type(small.targets[0].target) is cst.Name):
            return small.targets[0].target.value
    return None


def _suites(stmt):
    """The statement lists nested in a compound statement: (owner, field) pairs."""
    for field in ("body", "orelse", "handlers", "finalbody"):
        value = getattr(stmt, field, None)
        if value is not None and isinstance(value, cst.CSTNode):
            yield value


def _simple_lines(body: list, out: list) -> None:
    """Every ``name = value`` line of ``body``, at any depth, in ``out``."""
    for stmt in body:
        if type(stmt) is cst.SimpleStatementLine:
            if assigned_name(stmt) is not None:
                out.append(stmt)
            continue
        for suite in _suites(stmt):
            inner = suite.body if isinstance(suite, cst.BaseSuite) else None
            if isinstance(inner, (list, tuple)):
                _simple_lines(inner, out)
            else:
                _simple_lines([suite], out)


def prune_dead_assignments(body: list) -> list:
    """Drop ``name = value`` statements (at any depth) whose name is never read.

    A name is dead when every occurrence of it is the target of such a statement;
    dropping those statements may make the names their values read dead in turn.
    Every bound value is a pure expression, so removing one changes no behaviour.
    Worked out on counts (one walk of the body, then one walk of each dropped
    statement), then the body is rebuilt once.
    """
    counts = count_names(body)
    lines: list = []
    _simple_lines(body, lines)
    by_name: dict[str, list] = {}
    for stmt in lines:
        by_name.setdefault(assigned_name(stmt), []).append(stmt)
    dead_lines: set[int] = set()
    pending = [n for n, stmts in by_name.items() if counts[n] <= len(stmts)]
    dead_names: set[str] = set()
    while pending:
        name = pending.pop()
        if name in dead_names:
            continue
        dead_names.add(name)
        touched = Counter()
        for stmt in by_name[name]:
            dead_lines.add(id(stmt))
            count_names(stmt.body[0].value, touched)
            counts[name] -= 1
        for other, k in touched.items():
            counts[other] -= k
            if other in by_name and other not in dead_names \
                    and counts[other] <= len(by_name[other]):
                pending.append(other)
    if not dead_lines:
        return list(body)
    return _without(list(body), dead_lines)


def _without(body: list, dead: set[int]) -> list:
    out = []
    for stmt in body:
        if id(stmt) in dead:
            continue
        if type(stmt) is not cst.SimpleStatementLine:
            stmt = _rebuild(stmt, dead)
        out.append(stmt)
    return out


def _rebuild(node, dead: set[int]):
    changes = {}
    for field in ("body", "orelse", "handlers", "finalbody"):
        value = getattr(node, field, None)
        if not isinstance(value, cst.CSTNode):
            continue
        if isinstance(value, cst.IndentedBlock):
            inner = _without(list(value.body), dead)
            if len(inner) != len(value.body) or any(
                    a is not b for a, b in zip(inner, value.body, strict=True)):
                changes[field] = value.with_changes(
                    body=inner or [cst.SimpleStatementLine([cst.Pass()])])
        elif isinstance(value, cst.BaseSuite):
            continue
        else:
            new = _rebuild(value, dead)
            if new is not value:
                changes[field] = new
    return node.with_changes(**changes) if changes else node


class _Renamer(cst.CSTTransformer):
    """Each ``Name`` in ``mapping`` replaced by its expression; attribute names
    (``np.empty``'s ``empty``) and keywords (``dtype=``) are not variables."""

    def __init__(self, mapping: dict):
        self.mapping = mapping

    def leave_Attribute(self, original, updated):
        return updated.with_changes(attr=original.attr)

    def leave_Arg(self, original, updated):
        return updated.with_changes(keyword=original.keyword)

    def leave_Name(self, original, updated):
        return self.mapping.get(updated.value, updated)


def rename(node, mapping: dict):
    """``node`` with each variable named in ``mapping`` replaced: by the expression
    it maps to, or by the name when it maps to a string."""
    if not mapping:
        return node
    exprs = {old: cst.Name(new) if isinstance(new, str) else new
             for old, new in mapping.items()}
    return node.visit(_Renamer(exprs))


def mentions(node, name: str) -> int:
    """How often the variable ``name`` occurs in ``node``."""
    return count_names(node)[name]
