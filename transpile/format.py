"""Format a generated module as black would, without running black over all of it.

black costs about a millisecond per line even on text it leaves unchanged, so a
10,000-node graph would spend most of its transpile in black.  Nearly every line the
lowerings emit is already in black's style: short, single spaces, no quotes to
normalize, no redundant parentheses.  So:

- the module's skeleton (docstring, imports, metadata, constants, helpers with their
  docstrings, each function's decorators and signature) goes through black once, with
  each function body replaced by a marker line;
- each body is rendered statement by statement: a line that passes ``_black_clean``
  (short enough at its indentation, and free of what black rewrites: quotes, ``**``,
  slices, trailing commas, parentheses around a whole value, ...) is kept as libcst
  prints it; any other statement is formatted by black on its own, at depth 0 with
  the line length reduced by its indentation (black measures lines with their
  indentation, so this splits them as it would in place), and cached;
- the marker lines are replaced by the bodies.

A body with a statement this does not know (``try``, ``with``, nested ``def``, blank
lines, ``elif`` under comments, ...) goes to black whole.  The result is what
``black.format_str`` makes of the module (tests check ``black(output) == output``).
"""

import functools
import re

import black
import libcst as cst

from .printer import expression_code, header_code, statement_code

BLACK_MODE = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=88)
_INDENT = "    "
# What black would rewrite in a line that fits: quotes and escapes, ``**`` (hugged
# when simple), ``:`` (slice spacing, lambdas, dicts), trailing commas, semicolons,
# inline comments, doubled spaces.
_UNCLEAN = re.compile(r"""['\\;#\t]|\*\*|:|,[)\]}]|\s\s|\s$|lambda|\bprint\b""")
# A parenthesised atom that may be the whole value of a statement (black drops those
# parentheses): ``= (``, ``return (``, ``in (`` ...
_OPEN_VALUE = re.compile(r"(?:^|= |\breturn |\bin |\bif |\bwhile |\bdel |\bassert |"
                         r"\bfor |\belse |\bnot )\(")
_COMMENT = re.compile(r"#(?: \S(?:.*\S)?)?")


def format_module(tree: cst.Module) -> str:
    """``black.format_str(tree.code)``, computed mostly without black."""
    skeleton, bodies = [], {}
    for k, stmt in enumerate(tree.body):
        marker = f"__transpile_{k}_of_{len(tree.body)}_5f3a9c__"
        if isinstance(stmt, cst.SimpleStatementLine) and not stmt.leading_lines:
            lines = _split(stmt, 0)  # a long top-level line: INPUTS, OUTPUTS, ...
            if lines is not None:
                bodies[marker] = lines
                skeleton.append(cst.SimpleStatementLine([cst.Expr(cst.Name(marker))]))
                continue
        if not isinstance(stmt, cst.FunctionDef):
            skeleton.append(stmt)
            continue
        header = _split_signature(stmt)
        if header is not None:  # black is slow on a long signature: split it here
            bodies[f"def {stmt.name.value}({marker}_params):"] = header
            stmt = stmt.with_changes(params=cst.Parameters(
                [cst.Param(cst.Name(f"{marker}_params"))]))
        lines = _function_body(stmt)
        if lines is None:
            skeleton.append(stmt)
            continue
        bodies[marker] = lines
        keep = stmt.body.body[:1] if _is_docstring(stmt.body.body[0]) else []
        stub = [*keep, cst.SimpleStatementLine([cst.Expr(cst.Name(marker))])]
        skeleton.append(stmt.with_changes(body=stmt.body.with_changes(body=stub)))
    text = black.format_str(tree.with_changes(body=skeleton).code, mode=BLACK_MODE)
    out = []
    for line in text.splitlines(keepends=True):
        body = bodies.get(line.strip())
        out.extend(body if body is not None else [line])
    return "".join(out)


def _is_docstring(stmt) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _function_body(fn: cst.FunctionDef) -> list[str] | None:
    body = fn.body
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return None
    stmts = list(body.body)
    if _is_docstring(stmts[0]):
        stmts = stmts[1:]
    if not stmts or not _plain_block(body):
        return None
    lines: list[str] = []
    return lines if _statements(stmts, 1, lines) else None


def _plain_block(block) -> bool:
    """An indented block with nothing black would move: no comment after its colon,
    none after its last statement, the default indentation."""
    return (isinstance(block, cst.IndentedBlock) and block.indent is None
            and not block.header.comment and not block.footer)


def _statements(stmts, depth: int, out: list[str]) -> bool:
    """Append the formatted lines of ``stmts`` at ``depth``; False: not handled."""
    for stmt in stmts:
        if isinstance(stmt, cst.SimpleStatementLine):
            lines = _split(stmt, depth) if not stmt.leading_lines else None
            out.extend(lines if lines is not None else _simple(statement_code(stmt), depth))
        elif isinstance(stmt, (cst.For, cst.While, cst.If)):
            if not _compound(stmt, depth, out):
                return False
        else:
            return False
    return True


def _compound(stmt, depth: int, out: list[str]) -> bool:
    if not _plain_block(stmt.body) or getattr(stmt, "asynchronous", None):
        return False
    head = header_code(stmt)
    lines = _simple(head, depth, header=True)
    if lines is None:
        return False
    out.extend(lines)
    if not _statements(stmt.body.body, depth + 1, out):
        return False
    orelse = stmt.orelse
    if orelse is None:
        return True
    if orelse.leading_lines or not isinstance(orelse, cst.Else) \
            or not _plain_block(orelse.body):
        return False  # elif, or comments over else: leave it to black
    out.append(f"{_INDENT * depth}else:\n")
    return _statements(orelse.body.body, depth + 1, out)


def _simple(text: str, depth: int, header: bool = False) -> list[str] | None:
    """The lines of one statement (its comment lines first) at ``depth``; for a
    compound statement's ``header`` (rendered over a ``pass`` body), its first lines."""
    lines = text.splitlines()
    if header:
        lines = lines[:-1]  # the pass
    if "" in lines:
        return None  # blank lines: black's rules depend on the neighbours
    width = BLACK_MODE.line_length - len(_INDENT) * depth
    if not all(_COMMENT.fullmatch(line) and "fmt:" not in line and "type:" not in line
               for line in lines[:-1]) or not _clean(lines[-1], width, header):
        lines = _black_statement(text, max(width, 1))
        if lines is None:
            return None
        if header:
            lines = lines[:-1]
    indent = _INDENT * depth
    return [f"{indent}{line}\n" if line else "\n" for line in lines]


def _clean(line: str, width: int, header: bool, item: bool = False) -> bool:
    """Whether black leaves ``line`` (a statement, or a header without its colon
    when ``header``, or with ``item`` the contents of brackets) as it is.  An item
    may start with ``(`` (a tuple: black removes no parentheses there), and the
    ``,)`` of a one-element tuple is black's own spelling (the lowerings write no
    other trailing comma)."""
    if header:
        if not line.endswith(":"):
            return False
        line = line[:-1]
    if len(line) > width or not line.isascii() or not line or line[0] == " ":
        return False
    if item:
        line = line.replace(",)", ")")
    if _UNCLEAN.search(line) or (line[0] == "(" and not item) or "for (" in line:
        return False  # parentheses around a target: black drops them
    for match in _OPEN_VALUE.finditer(line):
        if not (item and match.start() == 0) \
                and _closing(line, match.end() - 1) == len(line) - 1:
            return False
    return True


def _closing(line: str, start: int) -> int:
    """The index of the bracket closing the one at ``start``."""
    level = 0
    for i in range(start, len(line)):
        if line[i] in "([{":
            level += 1
        elif line[i] in ")]}":
            level -= 1
            if level == 0:
                return i
    return -1


# ---- long bracketed lines, split as black splits them ------------------------------


def _split(stmt: cst.SimpleStatementLine, depth: int) -> list[str] | None:
    """Black's lines for a statement too long for one line whose value is one
    bracketed list of short items (``INPUTS = (...)``, ``return a, b, ...``,
    ``x = f(a, b, ...)``), or None when it is not one (black then formats it).

    Black's rule for such a line: one item a line, each followed by a comma; for a
    call (or a ``def``), the arguments on one indented line of their own instead
    when they fit there.
    Black takes time superlinear in a line's length, so a graph with hundreds of
    inputs or outputs spent seconds in it on three lines."""
    if len(stmt.body) != 1 or stmt.trailing_whitespace.comment is not None:
        return None
    width = BLACK_MODE.line_length - len(_INDENT) * depth
    small = stmt.body[0]
    kind = type(small)
    if kind is cst.Assign and len(small.targets) == 1 \
            and type(small.targets[0].target) is cst.Name:
        head = f"{small.targets[0].target.value} = "
        value = small.value
    elif kind is cst.Return and small.value is not None:
        head, value = "return ", small.value
        if type(value) is cst.Tuple and not value.lpar:
            value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    elif kind is cst.Expr:
        head, value = "", small.value
    else:
        return None
    parts = _bracketed(value)
    if parts is None:
        return None
    opening, items, closing = parts
    if len(head) + len(opening) + len(", ".join(items)) + len(closing) <= width:
        return None  # it may fit on one line: the usual path decides
    return _exploded(head + opening, items, closing, depth, width,
                     one_line=type(value) is cst.Call)


def _split_signature(fn: cst.FunctionDef) -> list[str] | None:
    """Black's lines for a ``def`` line too long for one line (plain parameters,
    defaults and a bare ``*`` included), or None."""
    p = fn.params
    if fn.asynchronous is not None or fn.returns is not None or fn.type_parameters \
            or p.posonly_params or isinstance(p.star_arg, cst.Param) or p.star_kwarg:
        return None
    items = [_param(param) for param in p.params]
    if isinstance(p.star_arg, cst.ParamStar):
        items.append("*")
    items += [_param(param) for param in p.kwonly_params]
    if not items or None in items:
        return None
    head = f"def {fn.name.value}("
    if len(head) + len(", ".join(items)) + 2 <= BLACK_MODE.line_length:
        return None  # fits on one line: black is quick
    return _exploded(head, items, "):", 0, BLACK_MODE.line_length, one_line=True)


def _param(param: cst.Param) -> str | None:
    if param.annotation is not None or param.star not in ("", cst.MaybeSentinel.DEFAULT):
        return None
    if param.default is None:
        return param.name.value
    return f"{param.name.value}={expression_code(param.default)}"


def _bracketed(value) -> tuple[str, list[str], str] | None:
    """``(opening, items, closing)`` of a parenthesised tuple, a list or a call
    of a name or attribute with plain arguments, or None."""
    kind = type(value)
    if kind is cst.Tuple and len(value.lpar) == 1 and len(value.rpar) == 1 \
            and len(value.elements) > 1:
        opening, closing, elements = "(", ")", value.elements
    elif kind is cst.List and not value.lpar and value.elements:
        opening, closing, elements = "[", "]", value.elements
    elif kind is cst.Call and not value.lpar and value.args \
            and type(value.func) in (cst.Name, cst.Attribute):
        opening, closing = expression_code(value.func) + "(", ")"
        elements = value.args
    else:
        return None
    items = []
    for element in elements:
        if type(element) is cst.Element:
            items.append(expression_code(element.value))
        elif type(element) is cst.Arg and not element.star:
            code = expression_code(element.value)
            items.append(code if element.keyword is None
                         else f"{element.keyword.value}={code}")
        else:
            return None
    return opening, items, closing


def _exploded(opening: str, items: list[str], closing: str, depth: int, width: int,
              one_line: bool) -> list[str] | None:
    """``opening``, the items indented (on ``one_line`` if they fit), ``closing``."""
    inner = width - len(_INDENT)
    if len(opening) > width:
        return None
    joined = ", ".join(items)
    if one_line and _clean(joined, inner, False, item=True):
        body = [joined]
    elif all(_clean(i + ",", inner, False, item=True) for i in items):
        body = [i + "," for i in items]
    else:
        return None
    indent = _INDENT * depth
    return [f"{indent}{opening}\n", *(f"{indent}{_INDENT}{b}\n" for b in body),
            f"{indent}{closing}\n"]


@functools.lru_cache(maxsize=4096)
def _black_statement(text: str, width: int) -> list[str] | None:
    mode = BLACK_MODE if width == BLACK_MODE.line_length else black.Mode(
        target_versions=BLACK_MODE.target_versions, line_length=width)
    try:
        formatted = black.format_str(text, mode=mode)
    except black.InvalidInput:
        return None
    return formatted.splitlines()
