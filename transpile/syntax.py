"""Tiny builders for the libcst nodes the lowerings emit.

libcst prints exactly the tree it is given, so these builders own the two things a
hand-written tree gets wrong: parentheses (added from operator precedence, only where
Python needs them) and literals (a number's repr is always round-trippable).
"""

import math
from collections.abc import Iterable, Sequence

import libcst as cst
import numpy as np

from .walk import contains

Expr = cst.BaseExpression

# Binding strength, loosest first, as in the Python grammar.
_PREC_IFEXP, _PREC_OR, _PREC_AND, _PREC_NOT, _PREC_CMP = 1, 2, 3, 4, 5
_PREC_BITOR, _PREC_BITXOR, _PREC_BITAND, _PREC_SHIFT = 6, 7, 8, 9
_PREC_ADD, _PREC_MUL, _PREC_UNARY, _PREC_POW, _PREC_ATOM = 10, 11, 12, 13, 14

_BINOPS = {
    "+": (cst.Add, _PREC_ADD),
    "-": (cst.Subtract, _PREC_ADD),
    "*": (cst.Multiply, _PREC_MUL),
    "/": (cst.Divide, _PREC_MUL),
    "//": (cst.FloorDivide, _PREC_MUL),
    "%": (cst.Modulo, _PREC_MUL),
    "@": (cst.MatrixMultiply, _PREC_MUL),
    "**": (cst.Power, _PREC_POW),
    "&": (cst.BitAnd, _PREC_BITAND),
    "|": (cst.BitOr, _PREC_BITOR),
    "^": (cst.BitXor, _PREC_BITXOR),
    "<<": (cst.LeftShift, _PREC_SHIFT),
    ">>": (cst.RightShift, _PREC_SHIFT),
}
_CMPOPS = {
    "<": cst.LessThan,
    ">": cst.GreaterThan,
    "<=": cst.LessThanEqual,
    ">=": cst.GreaterThanEqual,
    "==": cst.Equal,
    "!=": cst.NotEqual,
}
_UNARYOPS = {"-": cst.Minus, "+": cst.Plus, "~": cst.BitInvert, "not": cst.Not}
_BINOP_PREC = {cls: prec for cls, prec in _BINOPS.values()}


def precedence(node: Expr) -> int:
    if node.lpar:
        return _PREC_ATOM
    if isinstance(node, cst.BinaryOperation):
        return _BINOP_PREC[type(node.operator)]
    if isinstance(node, cst.UnaryOperation):
        return _PREC_NOT if isinstance(node.operator, cst.Not) else _PREC_UNARY
    if isinstance(node, cst.Comparison):
        return _PREC_CMP
    if isinstance(node, cst.BooleanOperation):
        return _PREC_AND if isinstance(node.operator, cst.And) else _PREC_OR
    if isinstance(node, cst.IfExp):
        return _PREC_IFEXP
    return _PREC_ATOM


def paren(node: Expr) -> Expr:
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _wrap(node: Expr, below: int) -> Expr:
    return paren(node) if precedence(node) < below else node


def binop(op: str, left: Expr, right: Expr) -> Expr:
    cls, prec = _BINOPS[op]
    if op == "**":  # right-associative; -x ** 2 already means -(x ** 2)
        return cst.BinaryOperation(_wrap(left, prec + 1), cls(), _wrap(right, _PREC_UNARY))
    return cst.BinaryOperation(_wrap(left, prec), cls(), _wrap(right, prec + 1))


def chain(op: str, operands: Sequence[Expr]) -> Expr:
    """``a op b op c`` for an associative n-ary operation."""
    result = operands[0]
    for operand in operands[1:]:
        result = binop(op, result, operand)
    return result


def compare(op: str, left: Expr, right: Expr) -> Expr:
    # Comparisons chain in Python, so a comparison operand always gets parentheses.
    return cst.Comparison(
        _wrap(left, _PREC_CMP + 1),
        [cst.ComparisonTarget(_CMPOPS[op](), _wrap(right, _PREC_CMP + 1))],
    )


def out_of_bounds(pos: Expr, length: Expr) -> Expr:
    """``not -n <= pos < n``: ``pos`` is no index of an axis of length ``n``."""
    chained = cst.Comparison(unary("-", length), [
        cst.ComparisonTarget(cst.LessThanEqual(), _wrap(pos, _PREC_CMP + 1)),
        cst.ComparisonTarget(cst.LessThan(), _wrap(length, _PREC_CMP + 1)),
    ])
    return unary("not", chained)


def unary(op: str, operand: Expr) -> Expr:
    below = _PREC_NOT if op == "not" else _PREC_UNARY
    return cst.UnaryOperation(_UNARYOPS[op](), _wrap(operand, below))


def boolop(op: str, left: Expr, right: Expr) -> Expr:
    cls, prec = (cst.And, _PREC_AND) if op == "and" else (cst.Or, _PREC_OR)
    return cst.BooleanOperation(_wrap(left, prec), cls(), _wrap(right, prec + 1))


def any_of(tests: Sequence[Expr]) -> Expr:
    """``a or b or c`` (folded from the left) of one or more tests."""
    result = tests[0]
    for test in tests[1:]:
        result = boolop("or", result, test)
    return result


def ifexp(test: Expr, body: Expr, orelse: Expr) -> Expr:
    return cst.IfExp(
        test=_wrap(test, _PREC_IFEXP + 1),
        body=_wrap(body, _PREC_IFEXP + 1),
        orelse=orelse,
    )


def name(identifier: str) -> cst.Name:
    return cst.Name(identifier)


def dotted(path: str) -> Expr:
    """``np.float64`` from ``"np.float64"``."""
    head, *rest = path.split(".")
    node: Expr = cst.Name(head)
    for part in rest:
        node = cst.Attribute(node, cst.Name(part))
    return node


def attr(value: Expr, attribute: str) -> Expr:
    return cst.Attribute(_wrap(value, _PREC_ATOM), cst.Name(attribute))


def call(func: str | Expr, *args: Expr, **kwargs: Expr) -> cst.Call:
    func_node = dotted(func) if isinstance(func, str) else _wrap(func, _PREC_ATOM)
    arguments = [cst.Arg(a) for a in args]
    arguments += [
        cst.Arg(v, keyword=cst.Name(k), equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""),
            whitespace_after=cst.SimpleWhitespace(""),
        ))
        for k, v in kwargs.items()
    ]
    return cst.Call(func_node, arguments)


def method(value: Expr, meth: str, *args: Expr, **kwargs: Expr) -> cst.Call:
    return call(attr(value, meth), *args, **kwargs)


def transpose(value: Expr, perm: Sequence[int]) -> Expr:
    """``value`` with its axes permuted: ``value.T`` when they are reversed (every
    matrix transpose), else ``value.transpose(*perm)``.  Numba compiles the string
    formatting of an error message for ``transpose`` with axes, about 2 s on a
    first call (docs/performance.md); ``.T`` costs nothing."""
    perm = [int(p) for p in perm]
    if perm == list(range(len(perm)))[::-1]:
        return attr(value, "T")
    return method(value, "transpose", *(literal(p) for p in perm))


def is_simple(node: Expr) -> bool:
    """A name, a number or a length ``x.shape[k]``: as short as any local for it."""
    if isinstance(node, (cst.Name, cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return isinstance(node.expression, (cst.Integer, cst.Float))
    return (isinstance(node, cst.Subscript) and len(node.slice) == 1
            and isinstance(node.value, cst.Attribute) and node.value.attr.value == "shape"
            and isinstance(node.value.value, cst.Name)
            and isinstance(node.slice[0].slice, cst.Index)
            and isinstance(node.slice[0].slice.value, cst.Integer))


def tuple_(elements: Iterable[Expr]) -> cst.Tuple:
    elements = list(elements)
    elems = [cst.Element(e) for e in elements]
    if len(elems) == 1:
        elems = [cst.Element(elements[0], comma=cst.Comma())]
    return cst.Tuple(elems)


def list_(elements: Iterable[Expr]) -> cst.List:
    return cst.List([cst.Element(e) for e in elements])


COLON = object()  # a full slice, ``:``
NEWAXIS = object()  # ``None`` in an index


def slice_(start: Expr | None = None, stop: Expr | None = None, step: Expr | None = None):
    return cst.Slice(lower=start, upper=stop, step=step)


def subscript(value: Expr, indices: Sequence) -> Expr:
    """``value[i, j, :]``; ``indices`` holds expressions, slices, COLON or NEWAXIS."""
    elements = []
    for index in indices:
        if index is COLON:
            index = cst.Slice(lower=None, upper=None)
        elif index is NEWAXIS:
            index = cst.Name("None")
        if isinstance(index, cst.Slice):
            elements.append(cst.SubscriptElement(index))
        else:
            elements.append(cst.SubscriptElement(cst.Index(index)))
    if not elements:  # 0-d array: x[()]
        elements = [cst.SubscriptElement(cst.Index(cst.Tuple([])))]
    return cst.Subscript(_wrap(value, _PREC_ATOM), elements)


def literal(value) -> Expr:
    """A Python literal for a plain bool/int/float (no dtype wrapping)."""
    if isinstance(value, (bool, np.bool_)):
        return cst.Name("True" if value else "False")
    if isinstance(value, (int, np.integer)):
        value = int(value)
        node: Expr = cst.Integer(str(abs(value)))
        return unary("-", node) if value < 0 else node
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return dotted("np.nan")
        if math.isinf(value):
            return unary("-", dotted("np.inf")) if value < 0 else dotted("np.inf")
        text = repr(abs(value))
        node = cst.Float(text) if ("." in text or "e" in text) else cst.Integer(text)
        return unary("-", node) if math.copysign(1.0, value) < 0 else node
    if isinstance(value, (complex, np.complexfloating)):
        return call("complex", literal(value.real), literal(value.imag))
    raise TypeError(f"no literal for {value!r}")


def string(text: str) -> cst.SimpleString:
    """A string literal; repr escapes quotes, backslashes and control characters.
    Double quotes where that needs no escape, as black writes it."""
    code = repr(str(text))
    if code[0] == "'" and '"' not in text:
        code = f'"{code[1:-1]}"'
    return cst.SimpleString(code)


# ---- statements -------------------------------------------------------------


def comment_lines(*texts: str) -> list[cst.EmptyLine]:
    """``# text`` lines (a text's leading spaces kept: a continued line's indent)."""
    return [cst.EmptyLine(comment=cst.Comment(
        f"# {' ' * (len(t) - len(t.lstrip(' ')))}{one_line(t)}")) for t in texts if t]


COMMENT_WIDTH = 80  # a generated comment's text, at most


def one_line(text: str, limit: int = COMMENT_WIDTH) -> str:
    text = " ".join(str(text).split())
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def simple(stmt: cst.BaseSmallStatement, comment: str | None = None) -> cst.SimpleStatementLine:
    line = cst.SimpleStatementLine([stmt])
    if comment:
        line = line.with_changes(leading_lines=comment_lines(comment))
    return line


def assign(target: str | Expr, value: Expr, comment: str | None = None):
    target_node = cst.Name(target) if isinstance(target, str) else target
    return simple(cst.Assign([cst.AssignTarget(target_node)], value), comment)


def assign_many(targets: Sequence[str], value: Expr, comment: str | None = None):
    """``a, b = value``; a tuple ``value`` is written bare too (``a, b = b, a``)."""
    target = tuple_(cst.Name(t) for t in targets)
    if isinstance(value, cst.Tuple) and len(value.elements) > 1:
        value = value.with_changes(lpar=[], rpar=[])
    return simple(cst.Assign([cst.AssignTarget(target)], value), comment)


def augassign(target: Expr, op: str, value: Expr):
    cls = {"+": cst.AddAssign, "*": cst.MultiplyAssign, "-": cst.SubtractAssign}[op]
    return simple(cst.AugAssign(target, cls(), value))


def expr_stmt(value: Expr):
    return simple(cst.Expr(value))


def return_(value: Expr | None):
    return simple(cst.Return(value))


def raise_(exc: str, message: str):
    return simple(cst.Raise(call(exc, string(message))))


def block(body: Sequence[cst.BaseStatement]) -> cst.IndentedBlock:
    return cst.IndentedBlock(list(body) or [simple(cst.Pass())])


def if_(test: Expr, body: Sequence[cst.BaseStatement], orelse=None) -> cst.If:
    else_node = cst.Else(block(orelse)) if orelse else None
    return cst.If(test=test, body=block(body), orelse=else_node)


def for_range(index: str, args: Sequence[Expr], body: Sequence[cst.BaseStatement]) -> cst.For:
    return cst.For(cst.Name(index), call("range", *args), block(body))


def for_nest(indices: Sequence[str], extents: Sequence[Expr], body: Sequence[cst.BaseStatement]):
    """Nested ``for i in range(n)`` loops, outermost first; returns a statement list.
    A loop over ``range(1)`` is its body with the index 0."""
    stmts = list(body)
    for index, extent in reversed(list(zip(indices, extents, strict=True))):
        if isinstance(extent, cst.Integer) and extent.value == "1" and not _jumps(stmts):
            stmts = [stmt.visit(_IndexAt(index)) for stmt in stmts]
        else:
            stmts = [for_range(index, [extent], stmts)]
    return stmts


def _jumps(stmts) -> bool:
    """Whether the statements ``break`` or ``continue`` (out of the loop they are
    in: without it, they would leave another)."""
    return contains(stmts, lambda node: isinstance(node, (cst.Break, cst.Continue)))


class _IndexAt(cst.CSTTransformer):
    """Replace a loop index by 0 (not attribute names that happen to spell it)."""

    def __init__(self, index: str):
        self.index = index

    def leave_Attribute(self, original, updated):
        return updated.with_changes(attr=original.attr)

    def leave_Name(self, original, updated):
        return cst.Integer("0") if updated.value == self.index else updated


def while_(test: Expr, body: Sequence[cst.BaseStatement]) -> cst.While:
    return cst.While(test, block(body))


def with_comment(stmt: cst.BaseStatement, *comments: str) -> cst.BaseStatement:
    """``stmt`` under comment lines (each cut to one line of ``COMMENT_WIDTH``)."""
    return stmt.with_changes(leading_lines=[*comment_lines(*comments), *stmt.leading_lines])
