"""Identifiers: graph variable names are arbitrary strings; in the generated module
they become distinct, valid identifiers that shadow nothing, and never code."""

import ast
import builtins
import keyword
import re

import numpy as np
import pytensor.tensor as pt
import pytest
from oracle import compare

from transpile.naming import MODULE_NAMES, Namespace, is_reserved, sanitize

# ---- sanitize -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, want",
    [
        ("x", "x"),
        ("x y", "x_y"),
        ("x.T", "x_T"),
        ("sd_log__", "sd_log"),
        ("lkj_cholesky-cov-packed__", "lkj_cholesky_cov_packed"),
        ('a"; import os', "a_import_os"),
        ("__import__('os')", "import_os"),
        ("1abc", "v_1abc"),
        ("9", "v_9"),
        ("", "v"),
        ("_", "v"),
        ("!!!", "v"),
        ("x\x00y\n", "x_y"),
        ("café", "cafe"),
        ("σ", "sigma"),
        ("μ_obs", "mu_obs"),
        ("σμ", "sigma_mu"),
        ("Σ", "Sigma"),
        ("中文", "v"),
        ("ﬁx", "fix"),
    ],
)
def test_sanitize(raw, want):
    assert sanitize(raw) == want


def test_sanitize_uses_the_fallback_for_empty_and_leading_digits():
    assert sanitize("", "x") == "x"
    assert sanitize("1abc", "x") == "x_1abc"
    assert sanitize("", "1x") == "v_1x"  # even a bad fallback yields an identifier
    assert sanitize("", "Composite{exp}") == "Composite_exp"


def test_sanitize_shortens_long_names():
    name = sanitize("a_very_long_name_" * 10)
    assert name.isidentifier() and len(name) <= 48 and not name.endswith("_")


@pytest.mark.parametrize("raw", ["class", "np", "sum", "é" * 3, " ", "\u2003", "0" * 60,
                                 "a" * 200, "__init__", "if", "None", "match"])
def test_sanitize_always_gives_an_ascii_identifier(raw):
    name = sanitize(raw)
    assert name.isidentifier() and name.isascii()


# ---- Namespace ----------------------------------------------------------------------


def test_names_are_unique_with_numbered_suffixes():
    ns = Namespace()
    assert [ns.create("exp") for _ in range(3)] == ["exp", "exp_1", "exp_2"]
    assert ns.create("exp_1") == "exp_3"  # taken: counts on from the stem
    assert ns.create(None, "tmp") == "tmp"
    assert ns.create("", "tmp") == "tmp_1"


def test_keywords_builtins_and_module_names_get_a_trailing_underscore():
    ns = Namespace()
    assert ns.create("class") == "class_"
    assert ns.create("sum") == "sum_"
    assert ns.create("np") == "np_"
    assert ns.create("INPUTS") == "INPUTS_"
    assert ns.create("sum") == "sum_1"
    for name in ("class", "sum", "range", "np", "numba", "math", "OUTPUTS", "match"):
        assert is_reserved(name)
    assert not is_reserved("kernel") and not is_reserved("x")


def test_reserved_names_are_avoided():
    ns = Namespace(reserved={"kernel", "log1mexp"})
    assert ns.create("kernel") == "kernel_1"
    ns.reserve("y")
    assert ns.create("y") == "y_1"


def test_children_avoid_their_parents_names_and_parents_their_childrens():
    module = Namespace(reserved={"kernel"})
    entry = module.child()
    assert entry.create("kernel") == "kernel_1"
    constant = module.create("CONST")
    assert entry.create("CONST") == "CONST_1"  # a local never hides a module name
    local = entry.create("W")
    assert module.create("W") == "W_1"  # nor a module name created later
    sibling = module.child()
    assert sibling.create("W") == "W"  # two functions' locals do not meet
    assert constant == "CONST" and local == "W"


def test_every_created_name_is_a_valid_unreserved_identifier():
    ns = Namespace()
    raws = ["class", "x y", "1abc", "", "sum", "sum_", "sum_1", "σ", "中文", "_1", "__"]
    names = [ns.create(raw) for raw in raws * 2]
    assert len(set(names)) == len(names)
    for name in names:
        assert name.isidentifier() and not keyword.iskeyword(name)
        assert name not in dir(builtins) and name not in MODULE_NAMES


# ---- end to end ------------------------------------------------------------

HOSTILE = ["class", "np", "kernel", "x y", 'a"; import os', "__import__('os')", "sum",
           "1abc", "dup", "dup", "σ", "μ_obs", "中文"]


def _graph():
    xs = [pt.vector(name) for name in HOSTILE]
    named = []

    def name(var, label):
        var.name = label
        named.append(var)
        return var

    a = name(xs[0] * xs[1], "range")
    b = name(pt.exp(xs[2]) + xs[3], "i")  # the generated loops' index
    c = name(xs[4] - xs[5] * xs[6], "INPUTS")
    d = name((xs[7] + xs[8]) / (1 + xs[9] ** 2), "numba")
    e = name(xs[10] * xs[11] - xs[12], "kernel")
    total = name((a + b + c + d + e).sum(), "math")
    outputs = [name(a * b, "dup"), name(c + d, "dup"), name(e * 2, "OUTPUTS"), total]
    return xs, outputs


class _Code(ast.NodeVisitor):
    """What the module does, as opposed to what its strings and comments say."""

    def __init__(self):
        self.imports, self.calls, self.names = set(), set(), set()

    def visit_Import(self, node):
        self.imports |= {alias.name for alias in node.names}

    def visit_ImportFrom(self, node):
        self.imports.add(node.module)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name):
            self.calls.add(node.func.id)
        self.generic_visit(node)

    def visit_Name(self, node):
        self.names.add(node.id)


def _locals(fn: ast.FunctionDef) -> set:
    names = {a.arg for a in fn.args.args}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _module_names(tree: ast.Module) -> set:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def check_module_hygiene(source: str, n_inputs: int) -> list[str]:
    """Assert the module imports and calls nothing it should not, that its entry's
    parameters are ``n_inputs`` distinct plain identifiers, and that no function
    local hides a module-level name; return the parameter names."""
    tree = ast.parse(source)
    code = _Code()
    code.visit(tree)
    assert code.imports <= {"numba", "numpy", "math"}, code.imports
    assert not code.calls & {"__import__", "eval", "exec", "compile", "open", "getattr"}
    assert "os" not in code.names and "__import__" not in code.names
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    (entry,) = [f for f in functions if f.name == "kernel"]
    params = [a.arg for a in entry.args.args]
    assert len(params) == n_inputs == len(set(params))
    for param in params:
        assert param.isidentifier() and param.isascii() and not is_reserved(param)
    module_names = _module_names(tree)
    for fn in functions:
        hidden = _locals(fn) & module_names
        assert not hidden, f"{fn.name}: locals hide module names {hidden}"
    return params


@pytest.mark.parametrize("rewrite", [True, False])
def test_hostile_names_end_to_end(rng, rewrite):
    inputs, outputs = _graph()
    values = [rng.normal(size=4) for _ in inputs]
    module = compare(inputs, outputs, values, rewrite=rewrite)
    source = open(module.__file__).read()
    params = check_module_hygiene(source, len(inputs))
    assert [row[0] for row in module.INPUTS] == params
    assert params[:3] == ["class_", "np_", "kernel_1"]
    assert "sigma" in params and "mu_obs" in params
    for raw in ('a"; import os', "__import__('os')"):
        assert raw not in source


def test_an_input_named_like_a_constant_does_not_hide_it(rng):
    x, y = pt.vector("CONST"), pt.vector("y")
    c = pt.constant(np.array([1.0, 2.0, 3.0]))
    module = compare([x, y], [x * c + y], [rng.normal(size=3), rng.normal(size=3)])
    check_module_hygiene(open(module.__file__).read(), 2)


def test_outputs_keep_their_names_through_the_rewrites(rng):
    """A rewrite puts a new node in an output's place (``-mean(...)`` becomes a fused
    ``neg``); the module still calls the result what the graph called it.  One
    variable returned under two names takes the first; an input returned as it is
    keeps its own name (a copy of it is returned); unnamed outputs are named by
    their node."""
    x, y = pt.vector("x"), pt.vector("y")
    loss = -pt.mean(pt.log1p(pt.exp(x)) * y)
    loss.name = "loss"
    grad = (x * 2 + y).sum()
    grad.name = "grad"
    again = grad + 0  # the rewrites make it grad itself
    again.name = "again"
    same = x.copy()
    same.name = "same_x"
    module = compare([x, y], [loss, grad, again, same, x * y],
                     [rng.normal(size=5), rng.normal(size=5)], rewrite=True)
    labels = [row[0] for row in module.OUTPUTS]
    assert labels[:4] == ["loss", "grad", "grad", "x"], labels
    assert labels[4] not in labels[:4], labels
    source = open(module.__file__).read()
    assert re.search(r"^    loss = ", source, re.M), source
    assert "return (loss, grad, grad, x.copy(), " in source, source


def test_constants_take_the_names_of_the_script_arrays_they_equal(rng):
    """``transpile dump model.py`` and ``transpile pymc`` name an array constant after
    the script's module-level array holding the same values; a constant folded from
    one named constant is named after it (``log(sigma)``: ``LOG_SIGMA``); any other
    keeps the generic name."""
    from transpile.naming import arrays_named_by

    x_data = rng.normal(size=4)
    sigma = np.array([1.0, 2.0, 3.0, 4.0])
    script = {"x_data": x_data, "sigma": sigma, "_hidden": np.ones(4), "n": 4}
    b = pt.scalar("b")
    with arrays_named_by(script):
        out = (b * pt.constant(x_data.copy()) - pt.log(pt.constant(sigma))
               + pt.constant(np.array([7.0, 8.0, 9.0, 10.0])))
        module = compare([b], [out], [np.float64(0.5)])
    source = open(module.__file__).read()
    assert re.search(r"^X_DATA = np\.array", source, re.M), source
    assert re.search(r"^LOG_SIGMA = np\.array", source, re.M), source
    assert "CONST" in source  # 7.0 ... 10.0: no array of the script holds them
