"""Formatting without black over the whole module (transpile/format.py), dead
assignments pruned on counts (transpile/walk.py), the progress line."""

import io

import black
import libcst as cst
import pytensor
import pytensor.tensor as pt
import pytest

from transpile import progress
from transpile.assemble import Options, build_entry, generate
from transpile.context import ModuleBuilder
from transpile.format import BLACK_MODE, _clean, format_module
from transpile.load import load_object
from transpile.walk import count_names, prune_dead_assignments


def mlp_graph(layers=4):
    x = pt.matrix("x")
    ws = [pt.matrix(f"w{i}") for i in range(layers)]
    h = x
    for w in ws:
        h = pt.tanh(h @ w) + 0.1 * h
    loss = h.sum()
    return [x, *ws], [loss, *pytensor.grad(loss, ws)]


def mixed_graph():
    """Slices, powers, strings in checks, a Scan loop, an IfElse, integer casts."""
    x, y = pt.vector("x"), pt.matrix("y")
    n = pt.scalar("n", dtype="int64")
    xs = pytensor.scan(lambda a, s: s * a + a ** 2, sequences=[x[1:]],
                       outputs_info=[pt.constant(0.0, dtype="float64")],
                         return_updates=False)
    from pytensor.ifelse import ifelse

    z = ifelse(n > 2, xs[-1] * 2, x[:n].sum())
    return [x, y, n], [z, (y[:, 1:] ** 3).sum(axis=0) + x[: y.shape[1] - 1], y.T @ x[:2]]


GRAPHS = {"mlp": mlp_graph, "mixed": mixed_graph}


def _tree(build, rewrite):
    """The assembled (unformatted) module of ``build()``, captured from generate."""
    import transpile.assemble as assemble

    captured = {}
    real = assemble.format_module

    def capture(tree):
        captured["tree"] = tree
        return real(tree)

    assemble.format_module = capture
    try:
        with pytensor.config.change_flags(cxx=""):
            source = generate(load_object(build()), Options(rewrite=rewrite))
    finally:
        assemble.format_module = real
    return captured["tree"], source


@pytest.mark.parametrize("rewrite", [False, True])
@pytest.mark.parametrize("label", GRAPHS)
def test_format_module_is_black(label, rewrite):
    tree, source = _tree(GRAPHS[label], rewrite)
    assert source == black.format_str(tree.code, mode=BLACK_MODE)
    assert black.format_str(source, mode=BLACK_MODE) == source


@pytest.mark.parametrize("line", [
    "x = a ** 2", "x = y[1:]", "s = 'text'", "(a, b) = f(x)", "x = (a + b)",
    "return (a, b)", "x = f(a,)", "x = a  + b", "x = a # c", "for (i, j) in z",
    "x = f(a); y = 1", "x = " + "a + " * 30 + "b",
])
def test_lines_black_may_change_are_not_clean(line):
    assert not _clean(line, 88, header=False)


@pytest.mark.parametrize("label", GRAPHS)
def test_clean_lines_are_left_alone_by_black(label):
    tree, _ = _tree(GRAPHS[label], False)
    entry = cst.Module([]).code_for_node(tree.body[-1])
    lines = [line.strip() for line in entry.splitlines()[1:]]
    clean = [line for line in lines if line and _clean(line, 88, header=False)
             and not line.startswith(("return", "raise"))]
    assert len(clean) > 10
    for line in clean:
        assert black.format_str(line + "\n", mode=BLACK_MODE) == line + "\n", line


def test_format_module_falls_back_to_black_for_unknown_statements():
    code = ("def f(x):\n    try:\n        y = x\n    except Exception:\n        y = 'a'\n"
            "    return y\n\n\ndef g(x):\n    z = x ** 2\n    if z > 1:\n        w = z[1:]\n"
            "    elif z:\n        w = 1\n    return w\n")
    tree = cst.parse_module(code)
    assert format_module(tree) == black.format_str(code, mode=BLACK_MODE)


_ITEMS = ["a", "x_1", "ccc_dd", "np.float64(1.5)", '"s"', "(None,)", "(1, 2)", "()",
          "y[0]", "f(a, b)", "-a", "not b", "a if b else c", "x[1:2]", "{1: 2}",
          "np.empty((n, m), dtype=np.float64)", "q" * 70, "r" * 90]


def _long_statement(rng, n):
    items = ", ".join(rng.choice(_ITEMS) for _ in range(n))
    kind = rng.randrange(7)
    if kind == 6:
        params = ", ".join(f"p{i}" for i in range(n)) + (", *, y=Y" if n % 2 else "")
        return f"@numba.njit(cache=True)\ndef kernel({params}):\n    return p0\n"
    line = [f"v = ({items}{',' if n == 1 else ''})", f"v = [{items}]", f"v = np.empty({items})",
            f"return {items}", f"g({items})", f"v = h({items}, dtype=np.float64)"][kind]
    for depth in range(rng.randrange(4)):
        line = f"for i{depth} in range(n):\n" + "".join(
            f"    {part}\n" for part in line.splitlines())
    return "def kernel(a):\n" + "".join(f"    {part}\n" for part in line.splitlines())


def test_long_bracketed_lines_are_split_as_black_splits_them():
    """Tuples, lists, calls, returns and signatures too long for a line are split
    without black (transpile/format.py, ``_split``); the lines are black's."""
    import random

    rng = random.Random(0)
    for n in [*range(1, 40), *rng.choices(range(1, 120), k=200)]:
        code = _long_statement(rng, n)
        assert format_module(cst.parse_module(code)) == black.format_str(
            code, mode=BLACK_MODE), code


def test_black_never_sees_the_long_lines_of_a_wide_graph(monkeypatch):
    """A graph of 300 inputs: its signature, INPUTS, OUTPUTS and return are split
    without black (black takes superlinear time in a line's length)."""
    import transpile.format as fmt

    seen = []
    real = fmt.black.format_str

    def spy(text, mode):
        seen.extend(line for line in text.splitlines() if len(line) > 88)
        return real(text, mode=mode)

    monkeypatch.setattr(fmt.black, "format_str", spy)
    xs = [pt.vector(f"x{i}") for i in range(300)]
    with pytensor.config.change_flags(cxx=""):
        source = generate(load_object((xs, [2 * x for x in xs])), Options(rewrite=False))
    assert all(line.startswith("    kernel(x0, x1,") for line in seen)  # the docstring
    assert black.format_str(source, mode=BLACK_MODE) == source
    assert "    x299,\n):" in source and 'INPUTS = (\n    ("x0", "float64", (None,)),' in source


def _statements_in(stmts):
    """Every simple statement and compound header below ``stmts``, with its kind."""
    for stmt in stmts:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield "statement", stmt
        elif isinstance(stmt, (cst.For, cst.While, cst.If, cst.FunctionDef)):
            if not isinstance(stmt, cst.FunctionDef):
                yield "header", stmt
            yield from _statements_in(stmt.body.body)
            orelse = getattr(stmt, "orelse", None)
            if isinstance(orelse, cst.Else):
                yield from _statements_in(orelse.body.body)
            elif orelse is not None:
                yield from _statements_in([orelse])


_PASS_BODY = cst.IndentedBlock([cst.SimpleStatementLine([cst.Pass()])])


@pytest.mark.parametrize("label", GRAPHS)
def test_the_printer_prints_what_libcst_prints(label):
    """transpile/printer.py against libcst's own code generator, on the trees the
    lowerings build (default whitespace) and on the same module parsed back from its
    text (whitespace and parentheses as written, runtime helpers included)."""
    from transpile.printer import expression_code, header_code, statement_code

    tree, source = _tree(GRAPHS[label], True)
    empty = cst.Module([])
    seen = 0
    for module in (tree, cst.parse_module(source)):
        for kind, stmt in _statements_in(module.body):
            if kind == "statement":
                assert statement_code(stmt) == empty.code_for_node(stmt)
                for small in stmt.body:
                    value = getattr(small, "value", None)
                    if isinstance(value, cst.BaseExpression):
                        assert expression_code(value) == empty.code_for_node(value)
            else:
                bare = stmt.with_changes(body=_PASS_BODY, orelse=None)
                assert header_code(stmt) == empty.code_for_node(bare)
            seen += 1
    assert seen > 50


def _body(code):
    return list(cst.parse_module(code).body)


def test_prune_drops_chains_of_dead_assignments_at_any_depth():
    body = _body("a = x\nb = a + 1\nc = b * 2\nfor i in range(n):\n    d = c\n"
                 "    e = x\n    out[i] = e\nreturn out\n")
    kept = cst.Module(prune_dead_assignments(body)).code
    assert kept == "for i in range(n):\n    e = x\n    out[i] = e\nreturn out\n"


def test_prune_keeps_names_read_elsewhere_and_empty_loops_stay_valid():
    body = _body("a = x\na = a + 1\nfor i in range(n):\n    d = a\nreturn a\n")
    kept = cst.Module(prune_dead_assignments(body)).code
    assert kept == "a = x\na = a + 1\nfor i in range(n):\n    pass\nreturn a\n"


def test_count_names_skips_attribute_and_keyword_names():
    counts = count_names(cst.parse_module("x = np.empty(n, dtype=np.float64)\n"))
    assert counts == {"x": 1, "np": 2, "n": 1}


class _TTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_line_only_on_a_terminal_and_only_when_slow(monkeypatch):
    quiet = _TTY()
    with progress.reporting(quiet):  # the default delay: a fast transpile says nothing
        progress.stage("lowering", 0, 10)
    assert quiet.getvalue() == ""
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress.Progress.__init__, "__defaults__", (0.0, 0.0))
    tty, pipe = _TTY(), io.StringIO()
    for stream in (tty, pipe):
        with progress.reporting(stream):
            module = ModuleBuilder()
            with pytensor.config.change_flags(cxx=""):
                build_entry(load_object(mlp_graph(2)).fgraph, module)
    assert "transpile: lowering 0/" in tty.getvalue()
    assert tty.getvalue().endswith("\r")
    assert pipe.getvalue() == ""


def test_transpile_pymc_shows_the_progress_line_too(monkeypatch):
    pm = pytest.importorskip("pymc")
    import sys

    from transpile.pymc import from_pymc

    monkeypatch.setattr(progress.Progress.__init__, "__defaults__", (0.0, 0.0))
    tty = _TTY()
    monkeypatch.setattr(sys, "stderr", tty)
    with pm.Model() as model:
        mu = pm.Normal("mu")
        pm.Normal("y", mu, 1.0, observed=[0.1, 0.2])
    from_pymc(model)
    shown = tty.getvalue()
    assert "transpile: rewriting logp" in shown and "transpile: lowering" in shown
    assert "transpile: formatting" in shown and shown.endswith("\r")
