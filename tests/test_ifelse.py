"""``IfElse``: several outputs, views of the inputs, constants, a nested IfElse, an
IfElse in a Scan step, ``as_view``; and that only the branch taken is computed."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import compare, transpile_module
from pytensor.ifelse import IfElse, ifelse
from pytensor.raise_op import Assert

import transpile


def _graph():
    c, d = pt.bscalar("c"), pt.dscalar("d")
    x, y, k = pt.vector("x"), pt.vector("y"), pt.iscalar("k")
    e = pt.exp(x) * 2
    step, _ = pytensor.scan(lambda x_t, acc: ifelse(pt.gt(x_t, 1.0), acc + x_t, acc * 0.5),
                            sequences=[x], outputs_info=[pt.constant(np.float64(1.0))])
    outs = [
        *ifelse(c, [pt.exp(x).sum(), x, e, k * 2], [pt.log(y).sum(), x[::2], y + 1, k]),
        ifelse(pt.gt(d, 0), ifelse(c, pt.sin(x), pt.cos(x)), pt.tanh(y)),
        ifelse(c, pt.constant(np.arange(3.0)), y[:3]),
        IfElse(n_outs=1, as_view=True)(c, x, y),
        e.sum(), step,
    ]
    return [c, d, x, y, k], outs


@pytest.mark.parametrize("rewrite", [True, False])
def test_ifelse(rewrite):
    inputs, outs = _graph()
    x, y = np.arange(4.0), np.arange(1.0, 5.0)
    for c, d in ((1, 0.5), (0, -0.5), (0, 0.5), (1, -2.0)):
        compare(inputs, outs, [np.int8(c), d, x, y, np.int32(3)], rewrite=rewrite)


def test_only_the_branch_taken_is_computed():
    c, x, y = pt.bscalar("c"), pt.vector("x"), pt.vector("y")
    never = Assert("the other branch was computed")(y, pt.all(y > 100))
    out = ifelse(c, pt.exp(x).sum(), pt.log(never).sum())
    source = transpile.transpile(([c, x, y], [out]))
    lines = source.splitlines()
    at_if = next(n for n, line in enumerate(lines) if line.strip() == "if c:")
    at_else = next(n for n, line in enumerate(lines) if line.strip() == "else:")
    assert any("math.exp" in line for line in lines[at_if:at_else])
    assert any("raise" in line for line in lines[at_else:])
    module = transpile_module([c, x, y], [out])
    values = np.array([0.5, 2.0])
    np.testing.assert_allclose(module.kernel(np.int8(1), values, values), np.exp(values).sum())
    with pytest.raises(AssertionError):
        module.kernel(np.int8(0), values, values)


def test_a_check_in_the_branch_not_taken_is_not_raised(rng):
    """A parameter check in a branch stays there, even where the elementwise result
    it checks is also read outside the branch (the rewrite that moves checks before
    elementwise work would otherwise raise it whichever branch is taken)."""
    c, s, x = pt.bscalar("c"), pt.dscalar("s"), pt.vector("x")
    e = pt.exp(x * s)
    checked = Assert("s > 0")(e, pt.gt(s, 0.0))
    outs = [ifelse(c, checked.sum(), pt.constant(np.float64(0.0))), e.sum()]
    values = rng.normal(size=5)
    module = compare([c, s, x], outs, [np.int8(1), np.float64(0.5), values])
    # (PyTensor's Python mode is not lazy: it raises the check whichever branch)
    np.testing.assert_allclose(module.kernel(np.int8(0), np.float64(-1.0), values),
                               (0.0, np.exp(-values).sum()))
    with pytest.raises(AssertionError, match="s > 0"):
        module.kernel(np.int8(1), np.float64(-1.0), values)
