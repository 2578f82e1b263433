"""Loops the plan fuses (transpile/fusion.py): Elemwise nodes over one iteration
space computed in one loop nest, each reading the earlier ones' elements, with the
reductions they feed accumulated in it.  Each module is compared with PyTensor; the
loop structure is read off the generated source."""

import ast
import runpy
from pathlib import Path

import numpy as np
import pytensor.tensor as pt
import pytest
from comments import comments, loop_parts
from oracle import compare, reference, transpile_module

EXAMPLES = Path(__file__).resolve().parent.parent / "generated_examples"


def _entry(module) -> ast.FunctionDef:
    tree = ast.parse(Path(module.__file__).read_text())
    return next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "kernel")


def _top_loops(module) -> list[ast.For]:
    return [s for s in _entry(module).body if isinstance(s, ast.For)]


def _arrays_allocated(module) -> int:
    return sum(isinstance(n, ast.Call) and ast.unparse(n.func) == "np.empty"
               for n in ast.walk(_entry(module)))


def test_logistic_regression_loss_and_gradient_in_one_pass(rng):
    """The committed example's graph: the loss, the residual and the bias gradient
    in one loop over the rows, one array (the residual, for X.T @ r) stored."""
    built = runpy.run_path(str(EXAMPLES / "logistic_regression" / "build.py"))
    inputs, outputs = built["inputs"], built["outputs"]
    values = [rng.normal(size=(50, 3)), (rng.random(50) > 0.5).astype("float64"),
              rng.normal(size=3), np.float64(0.3)]
    module = compare(inputs, outputs, values)
    loops = _top_loops(module)
    assert len(loops) == 1, Path(module.__file__).read_text()
    assert _arrays_allocated(module) == 1
    members, reductions = loop_parts(next(
        text for _, _, text in comments(Path(module.__file__).read_text())
        if text.endswith("in one loop")))
    assert len(members) == 2 and len(reductions) == 2


def test_unfused_chain_is_one_loop(rng):
    """Without PyTensor's rewrites every operation is a node of its own: the plan
    still computes the chain, its reductions and its stored results in one loop."""
    x, y = pt.matrix("x"), pt.matrix("y")
    a = pt.exp(x) * y
    b = a + x
    outs = [pt.sum(b), b, pt.max(a * 2.0, axis=1)]
    values = [rng.normal(size=(4, 5)), rng.normal(size=(4, 5))]
    module = compare([x, y], outs, values, rewrite=False)
    assert len(_top_loops(module)) == 1, Path(module.__file__).read_text()
    assert _arrays_allocated(module) == 2  # b (returned) and the row maxima


def test_a_checked_term_is_summed_in_the_loop_that_computes_it(rng):
    """PyMC's parameter checks sit between a log-density's elementwise terms and
    their sum (``sum(check(terms, sigma > 0))``): the sum is still accumulated in
    the terms' loop, no array of terms is stored, and a failing check raises as
    PyTensor's does."""
    from pytensor.raise_op import CheckAndRaise

    x, sigma = pt.vector("x"), pt.scalar("sigma")
    terms = -0.5 * (x / sigma) ** 2 - pt.log(sigma)
    checked = CheckAndRaise(ValueError, "sigma > 0")(terms, pt.gt(sigma, 0))
    outs = [pt.sum(checked), pt.sum(checked * x)]
    module = compare([x, sigma], outs, [rng.normal(size=9), np.float64(1.5)])
    assert len(_top_loops(module)) == 1, Path(module.__file__).read_text()
    assert _arrays_allocated(module) == 0, Path(module.__file__).read_text()
    with pytest.raises(ValueError, match="sigma > 0"):
        module.kernel(rng.normal(size=9), np.float64(-1.0))
    with pytest.raises(ValueError, match="sigma > 0"):
        reference([x, sigma], outs, [rng.normal(size=9), np.float64(-1.0)])


def test_a_member_that_reads_a_reduction_of_the_loop_is_not_joined(rng):
    """softmax: ``e / sum(e)`` needs the whole sum first, so it is a second loop."""
    x = pt.vector("x")
    e = pt.exp(x - pt.max(x))
    out = e / pt.sum(e)
    values = [rng.normal(size=7)]
    module = compare([x], [out], values, rewrite=False)
    assert len(_top_loops(module)) >= 2


def test_outside_input_of_another_length_raises_as_pytensor_does(rng):
    """A later member's input from outside the loop is checked against the loop's
    length before the loop runs."""
    x, z = pt.vector("x"), pt.vector("z")
    a = pt.exp(x)
    outs = [pt.sum(a), a * z]
    module = compare([x, z], outs, [rng.normal(size=6), rng.normal(size=6)],
                     rewrite=False)
    assert len(_top_loops(module)) == 1
    bad = [rng.normal(size=6), rng.normal(size=5)]
    with pytest.raises(ValueError):
        reference([x, z], outs, bad)
    with pytest.raises(ValueError):
        module.kernel(*bad)


def test_broadcast_patterns_that_differ_are_separate_loops(rng):
    """A row vector result read by a matrix Elemwise is broadcast there: not one
    iteration space, so two loops (and the same numbers as PyTensor)."""
    x, m = pt.row("x"), pt.matrix("m")
    a = pt.exp(x)
    out = a * m + pt.sum(a)
    compare([x, m], [out], [rng.normal(size=(1, 4)), rng.normal(size=(3, 4))],
            rewrite=False)


def test_a_loop_result_read_in_the_loop_and_returned(rng):
    """A member's result that is returned is stored, and later members read the
    local value, not the array."""
    x = pt.vector("x")
    a = pt.log1p(pt.exp(x))
    outs = [a, pt.sum(a * a), a - 1.0]
    module = compare([x], outs, [rng.normal(size=9)], rewrite=False)
    (loop,) = _top_loops(module)
    arrays = {t.id for n in ast.walk(_entry(module)) if isinstance(n, ast.Assign)
              and ast.unparse(n.value).startswith("np.empty") for t in n.targets}
    assert len(arrays) == 2
    reads = [n for n in ast.walk(loop) if isinstance(n, ast.Subscript)
             and isinstance(n.ctx, ast.Load) and ast.unparse(n.value) in arrays]
    assert not reads, ast.unparse(loop)


def test_scan_body_loops(rng):
    """In a Scan body too: the step's elementwise work and its reduction in one loop."""
    import pytensor

    xs = pt.matrix("xs")

    def step(x, total):
        a = pt.exp(x) + 1.0
        return total + pt.sum(a * x)

    out = pytensor.scan(step, sequences=[xs], outputs_info=[pt.zeros(())],
                        return_list=True)[0][0]
    compare([xs], [out], [rng.normal(size=(5, 3))], rewrite=False)
    module = transpile_module([xs], [out], rewrite=False)
    loops = [n for n in ast.walk(_entry(module)) if isinstance(n, ast.For)]
    assert len(loops) == 2  # the steps, and one loop in each step
