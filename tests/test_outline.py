"""Repeated code becomes one helper (transpile/outline.py): the results stay
PyTensor's, and each helper is called once per copy.

The random graphs of tests/fuzz.py, built twice over two sets of inputs, make every
kind of node code the lowerings emit repeat: elementwise loops with broadcasting and
casts, reductions, indexing and stores, dot, scan.
"""

import ast
from collections import Counter
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from fuzz import Case, random_case
from oracle import compare, transpile_module
from pytensor.graph.replace import clone_replace
from test_format import mlp_graph
from test_fuzz import check_case


def helper_calls(module, entry: str = "kernel") -> Counter:
    """How often the entry calls each function the module defines."""
    tree = ast.parse(Path(module.__file__).read_text())
    defined = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    calls = Counter(n.func.id for n in ast.walk(defined[entry])
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name))
    return Counter({name: k for name, k in calls.items() if name in defined})


def twice(case: Case) -> Case:
    """``case``'s expressions, then the same expressions over copies of its inputs."""
    copies = [var.type(f"{var.name}_again") for var in case.inputs]
    again = clone_replace(case.outputs, dict(zip(case.inputs, copies, strict=True)))
    values = [np.copy(v) for v in case.values]
    return Case(case.seed, [*case.inputs, *copies], [*case.values, *values],
                [*case.outputs, *again], [*case.recipes, *(f"again: {r}" for r in case.recipes)])


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_random_graphs_built_twice(seed):
    case = twice(random_case(seed, 6))
    module = transpile_module(case.inputs, case.outputs)
    assert max(helper_calls(module).values(), default=0) >= 2, "nothing was outlined"
    check_case(case, module)


def test_layers_and_their_gradients_share_helpers():
    inputs, outputs = mlp_graph(5)
    rng = np.random.default_rng(1)
    values = [rng.normal(size=(4, 3)), *(rng.normal(size=(3, 3)) / 2 for _ in range(5))]
    module = compare(inputs, outputs, values)
    # A layer's stretch of nodes is one call: forward (Dot22, Composite) for every
    # layer but the last (whose loop also sums the loss), backward (Transpose, Dot22,
    # Transpose, Gemm, Composite) for all but the last and the first two (the seed's
    # layer, and the first, whose results other code reads).  tanh is written twice,
    # not once per layer.
    assert sorted(helper_calls(module).values()) == [2, 4], helper_calls(module)
    assert Path(module.__file__).read_text().count("math.tanh(") == 2


def test_scans_and_branches_repeated():
    """Loops with buffers, in-place increments and branches, each twice."""
    from pytensor.ifelse import ifelse

    outs, ins, values = [], [], []
    rng = np.random.default_rng(2)
    for k in range(2):
        xs, c = pt.matrix(f"xs{k}"), pt.scalar(f"c{k}")
        h0 = pt.vector(f"h{k}")
        seq, _ = pytensor.scan(lambda x, h: pt.tanh(x + 0.5 * h), sequences=xs,
                               outputs_info=h0)
        window = pt.inc_subtensor(xs[1:3], seq[-1])
        branch = ifelse(c > 0, seq[-1].sum(), (xs * c).sum())
        ins += [xs, c, h0]
        outs += [seq, window, branch]
        values += [rng.normal(size=(5, 3)), np.float64(1 - 2 * k), rng.normal(size=3)]
    module = compare(ins, outs, values)
    assert max(helper_calls(module).values()) >= 2


def test_stretches_repeated_back_to_back():
    """A chain of identical steps (a matrix-vector product, then elementwise work
    and a sum fused into one loop) is one call per step."""
    a, x = pt.matrix("a"), pt.vector("x")
    h, sums = x, []
    for _ in range(4):
        h = pt.tanh(pt.dot(a, h) - h)  # (not a sum PyTensor would flatten)
        sums.append(h.sum())
    rng = np.random.default_rng(3)
    module = compare([a, x], [h, *sums], [rng.normal(size=(5, 5)), rng.normal(size=5)])
    calls = helper_calls(module)
    assert calls and max(calls.values()) >= 3, calls


def test_a_result_live_in_one_copy_only():
    """Copies whose results are read differently are different helpers (or inline),
    never a helper returning a result the other copy leaves unbound."""
    x, y = pt.vector("x"), pt.vector("y")
    a = pt.exp(x) * 2 + pt.sin(x)
    b = pt.exp(y) * 2 + pt.sin(y)
    outs = [a.sum(), b, pt.exp(y)]
    compare([x, y], outs, [np.linspace(-1, 1, 7), np.linspace(0, 2, 7)])


def outlined(code: str) -> str:
    """The entry body ``code`` (statements, then its return) after the pass."""
    import libcst as cst

    from transpile.context import ModuleBuilder
    from transpile.outline import outline_repeats

    module = ModuleBuilder()
    body = outline_repeats(list(cst.parse_module(code).body), ["x", "n"], module)
    return cst.Module([*module.helpers.values(), *body]).code


def test_copies_must_match_field_by_field():
    """``x[:n]`` and ``x[n:]`` have the same nodes in a different order of fields:
    not copies (this once outlined both as one helper)."""
    step = """
# Subtensor
a{k} = x[{lo}:{hi}]
b{k} = np.empty(a{k}.shape)
for i in range(a{k}.shape[0]):
    b{k}[i] = a{k}[i] * 2.0
"""
    code = "".join(step.format(k=k, lo=lo, hi=hi)
                   for k, (lo, hi) in enumerate([("", "n"), ("n", ""), ("", "n")]))
    text = outlined("n = x.shape[0] // 2\n" + code + "return (b0, b1, b2)\n")
    assert text.count("def subtensor") == 1, text
    assert "b0 = subtensor(x, n)" in text and "b2 = subtensor(x, n)" in text, text
    assert "a1 = x[n:]" in text, text  # the other copy stays inline


def test_results_are_what_later_code_reads():
    """A copy returns what code after it reads, takes what it reads before writing,
    and a name it rebinds is returned; loop indices are neither."""
    step = """
# Composite
total = total + n
c{k} = np.empty(x.shape)
for i in range(x.shape[0]):
    c{k}[i] = x[i] + total
"""
    code = "total = 0.0\n" + "".join(step.format(k=k) for k in range(3))
    text = outlined(code + "return (c0, c1, c2, total)\n")
    assert "def composite(total, n, x):" in text, text
    assert "return (total, c0)" in text, text
    for k in range(3):
        assert f"(total, c{k}) = composite(total, n, x)" in text, text
