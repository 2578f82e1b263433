"""A fast printer for the statements the lowerings build.

libcst prints a node through a generic code generator (a state object, a token list,
a context manager per node), which cost about half of a large graph's transpile time.
:func:`statement_code` prints the node kinds generated code is made of (names,
numbers, strings, attributes, calls, operators, subscripts, tuples, lists,
conditional expressions; assignments, returns, raises and comment lines) directly,
honouring every whitespace and parenthesis field exactly as libcst does, and hands
anything else to libcst.  Its output is ``Module([]).code_for_node(stmt)``, byte for
byte (tests/test_format.py compares the two on every statement of the examples).
"""

import libcst as cst

_EMPTY = cst.Module([])
_DEFAULT = cst.MaybeSentinel.DEFAULT


class _Unknown(Exception):
    """A node this printer does not know: libcst prints the statement."""


def statement_code(stmt: cst.CSTNode) -> str:
    """``cst.Module([]).code_for_node(stmt)``, faster."""
    try:
        out: list[str] = []
        _statement(stmt, out)
        return "".join(out)
    except _Unknown:
        return _EMPTY.code_for_node(stmt)


def expression_code(node: cst.CSTNode) -> str:
    """``cst.Module([]).code_for_node(node)`` of an expression, faster."""
    try:
        out: list[str] = []
        _expr(node, out)
        return "".join(out)
    except (_Unknown, AttributeError):  # AttributeError: not an expression
        return _EMPTY.code_for_node(node)


def header_code(stmt: cst.CSTNode) -> str:
    """The code of a ``for``/``while``/``if`` statement with its body replaced by
    ``pass`` and no ``else``, as libcst prints it."""
    try:
        out: list[str] = []
        _header(stmt, out)
        return "".join(out)
    except _Unknown:
        pass_body = cst.IndentedBlock([cst.SimpleStatementLine([cst.Pass()])])
        return _EMPTY.code_for_node(stmt.with_changes(body=pass_body, orelse=None))


# ---- statements ---------------------------------------------------------------------


def _statement(stmt, out: list[str]) -> None:
    if type(stmt) is not cst.SimpleStatementLine:
        raise _Unknown
    _leading(stmt.leading_lines, out)
    body = stmt.body
    if not body:
        out.append("pass")
    last = len(body) - 1
    for k, small in enumerate(body):
        _small(small, out)
        semicolon = small.semicolon
        if semicolon is _DEFAULT:
            if k != last:
                out.append("; ")
        elif type(semicolon) is cst.Semicolon:
            _ws(semicolon.whitespace_before, out)
            out.append(";")
            _ws(semicolon.whitespace_after, out)
        else:
            raise _Unknown
    _trailing(stmt.trailing_whitespace, out)


def _header(stmt, out: list[str]) -> None:
    kind = type(stmt)
    if kind not in (cst.For, cst.While, cst.If):
        raise _Unknown
    _leading(stmt.leading_lines, out)
    if kind is cst.For:
        if stmt.asynchronous is not None:
            raise _Unknown
        out.append("for")
        _ws(stmt.whitespace_after_for, out)
        _expr(stmt.target, out)
        _ws(stmt.whitespace_before_in, out)
        out.append("in")
        _ws(stmt.whitespace_after_in, out)
        _expr(stmt.iter, out)
        _ws(stmt.whitespace_before_colon, out)
    elif kind is cst.While:
        out.append("while")
        _ws(stmt.whitespace_after_while, out)
        _expr(stmt.test, out)
        _ws(stmt.whitespace_before_colon, out)
    else:
        out.append("if")
        _ws(stmt.whitespace_before_test, out)
        _expr(stmt.test, out)
        _ws(stmt.whitespace_after_test, out)
    out.append(":\n    pass\n")  # a new body: its header has no comment


def _leading(lines, out: list[str]) -> None:
    for line in lines:  # EmptyLine; at depth 0 its indent adds nothing
        _ws(line.whitespace, out)
        if line.comment is not None:
            out.append(line.comment.value)
        _newline(line.newline, out)


def _trailing(trailing, out: list[str]) -> None:
    _ws(trailing.whitespace, out)
    if trailing.comment is not None:
        out.append(trailing.comment.value)
    _newline(trailing.newline, out)


def _newline(newline, out: list[str]) -> None:
    out.append("\n" if newline.value is None else newline.value)


def _small(small, out: list[str]) -> None:
    kind = type(small)
    if kind is cst.Assign:
        for target in small.targets:
            _expr(target.target, out)
            _ws(target.whitespace_before_equal, out)
            out.append("=")
            _ws(target.whitespace_after_equal, out)
        _expr(small.value, out)
    elif kind is cst.Expr:
        _expr(small.value, out)
    elif kind is cst.AugAssign:
        _expr(small.target, out)
        _operator(small.operator, out)
        _expr(small.value, out)
    elif kind is cst.Return:
        _keyword("return", small.whitespace_after_return, small.value, out)
    elif kind is cst.Raise:
        if small.cause is not None:
            raise _Unknown
        _keyword("raise", small.whitespace_after_raise, small.exc, out)
    elif kind is cst.Pass:
        out.append("pass")
    elif kind is cst.Break:
        out.append("break")
    elif kind is cst.Continue:
        out.append("continue")
    else:
        raise _Unknown


def _keyword(word: str, space, value, out: list[str]) -> None:
    """``return value`` / ``raise value``: a space by default only before a value."""
    out.append(word)
    if space is _DEFAULT:
        if value is not None:
            out.append(" ")
    else:
        _ws(space, out)
    if value is not None:
        _expr(value, out)


# ---- expressions --------------------------------------------------------------------


def _ws(node, out: list[str]) -> None:
    if type(node) is not cst.SimpleWhitespace:
        raise _Unknown  # ParenthesizedWhitespace: lines inside brackets
    if node.value:
        out.append(node.value)


def _operator(op, out: list[str]) -> None:
    """A binary, comparison, boolean or augmented-assignment operator with its
    whitespace (``is not`` and ``not in`` go to libcst)."""
    if type(op) in (cst.IsNot, cst.NotIn):
        raise _Unknown
    _ws(op.whitespace_before, out)
    out.append(op._get_token())
    _ws(op.whitespace_after, out)


def _expr(node, out: list[str]) -> None:
    lpar, rpar = node.lpar, node.rpar
    for paren in lpar:
        out.append("(")
        _ws(paren.whitespace_after, out)
    kind = type(node)
    if kind in _LEAVES:
        out.append(node.value)
    else:
        printer = _PRINTERS.get(kind)
        if printer is None:
            raise _Unknown
        printer(node, out)
    for paren in rpar:
        _ws(paren.whitespace_before, out)
        out.append(")")


_LEAVES = frozenset({cst.Name, cst.Integer, cst.Float, cst.SimpleString, cst.Imaginary})


def _attribute(node, out: list[str]) -> None:
    _expr(node.value, out)
    _ws(node.dot.whitespace_before, out)
    out.append(".")
    _ws(node.dot.whitespace_after, out)
    _expr(node.attr, out)


def _call(node, out: list[str]) -> None:
    _expr(node.func, out)
    _ws(node.whitespace_after_func, out)
    out.append("(")
    _ws(node.whitespace_before_args, out)
    last = len(node.args) - 1
    for k, arg in enumerate(node.args):
        _arg(arg, k != last, out)
    out.append(")")


def _binary(node, out: list[str]) -> None:  # also a BooleanOperation
    _expr(node.left, out)
    _operator(node.operator, out)
    _expr(node.right, out)


def _unary(node, out: list[str]) -> None:
    out.append(node.operator._get_token())
    _ws(node.operator.whitespace_after, out)
    _expr(node.expression, out)


def _comparison(node, out: list[str]) -> None:
    _expr(node.left, out)
    for target in node.comparisons:
        _operator(target.operator, out)
        _expr(target.comparator, out)


def _if_exp(node, out: list[str]) -> None:
    _expr(node.body, out)
    _ws(node.whitespace_before_if, out)
    out.append("if")
    _ws(node.whitespace_after_if, out)
    _expr(node.test, out)
    _ws(node.whitespace_before_else, out)
    out.append("else")
    _ws(node.whitespace_after_else, out)
    _expr(node.orelse, out)


def _subscript(node, out: list[str]) -> None:
    _expr(node.value, out)
    _ws(node.whitespace_after_value, out)
    out.append("[")
    _ws(node.lbracket.whitespace_after, out)
    last = len(node.slice) - 1
    for k, element in enumerate(node.slice):
        _subscript_element(element, k != last, out)
    _ws(node.rbracket.whitespace_before, out)
    out.append("]")


def _tuple(node, out: list[str]) -> None:
    elements = node.elements
    if len(elements) == 1:
        _element(elements[0], True, False, out)
    else:
        last = len(elements) - 1
        for k, element in enumerate(elements):
            _element(element, k < last, True, out)


def _list(node, out: list[str]) -> None:
    out.append("[")
    _ws(node.lbracket.whitespace_after, out)
    last = len(node.elements) - 1
    for k, element in enumerate(node.elements):
        _element(element, k < last, True, out)
    _ws(node.rbracket.whitespace_before, out)
    out.append("]")


_PRINTERS = {
    cst.Attribute: _attribute, cst.Call: _call, cst.BinaryOperation: _binary,
    cst.BooleanOperation: _binary, cst.UnaryOperation: _unary,
    cst.Comparison: _comparison, cst.IfExp: _if_exp, cst.Subscript: _subscript,
    cst.Tuple: _tuple, cst.List: _list,
}


def _comma(comma, default: bool, spaced: bool, out: list[str]) -> None:
    if comma is _DEFAULT:
        if default:
            out.append(", " if spaced else ",")
    elif type(comma) is cst.Comma:
        _ws(comma.whitespace_before, out)
        out.append(",")
        _ws(comma.whitespace_after, out)
    else:
        raise _Unknown


def _arg(arg, default_comma: bool, out: list[str]) -> None:
    if arg.star:
        out.append(arg.star)
    _ws(arg.whitespace_after_star, out)
    if arg.keyword is not None:
        _expr(arg.keyword, out)
        equal = arg.equal
        if equal is _DEFAULT:
            out.append(" = ")
        else:
            _ws(equal.whitespace_before, out)
            out.append("=")
            _ws(equal.whitespace_after, out)
    _expr(arg.value, out)
    _comma(arg.comma, default_comma, True, out)
    _ws(arg.whitespace_after_arg, out)


def _element(element, default_comma: bool, spaced: bool, out: list[str]) -> None:
    if type(element) is not cst.Element:
        raise _Unknown  # a starred element
    _expr(element.value, out)
    _comma(element.comma, default_comma, spaced, out)


def _subscript_element(element, default_comma: bool, out: list[str]) -> None:
    index = element.slice
    if type(index) is cst.Index:
        if index.star is not None:
            out.append(index.star)
        if index.whitespace_after_star is not None:
            _ws(index.whitespace_after_star, out)
        _expr(index.value, out)
    elif type(index) is cst.Slice:
        if index.lower is not None:
            _expr(index.lower, out)
        _colon(index.first_colon, out)
        if index.upper is not None:
            _expr(index.upper, out)
        second = index.second_colon
        if second is _DEFAULT:
            if index.step is not None:
                out.append(":")
        else:
            _colon(second, out)
        if index.step is not None:
            _expr(index.step, out)
    else:
        raise _Unknown
    _comma(element.comma, default_comma, True, out)


def _colon(colon, out: list[str]) -> None:
    _ws(colon.whitespace_before, out)
    out.append(":")
    _ws(colon.whitespace_after, out)
