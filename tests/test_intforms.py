"""Integer forms (transpile/intforms.py): what lengths decide, and what they do not."""

import pytensor.scalar as ps
import pytensor.tensor as pt
from pytensor.tensor.subtensor import get_idx_list

from transpile import intforms

N = {("len", "x", 0): 1}  # a length: never negative
V = {("var", "v"): 1}  # any integer


def plus(form, c):
    return intforms.combine([form, intforms.constant(c)], [1, 1])


def test_comparisons_of_lengths():
    assert intforms.decide(ps.lt, [N, plus(N, 1)], [None, None])[1] is True
    assert intforms.decide(ps.ge, [N, plus(N, 1)], [None, None])[1] is False
    assert intforms.decide(ps.lt, [intforms.constant(-1), N], [None, None])[1] is True
    # n > 0 depends on n; so does anything about v
    assert intforms.decide(ps.gt, [N, intforms.constant(0)], [None, None])[1] is None
    assert intforms.decide(ps.lt, [V, plus(V, 1)], [None, None])[1] is True
    assert intforms.decide(ps.lt, [V, intforms.constant(0)], [None, None])[1] is None


def test_switch_min_and_max():
    zero = intforms.constant(0)
    # switch(0 < n, 0, n) is min(0, n): 0, for every length
    condition = (ps.LT, zero, N)
    _, _, choice = intforms.decide(ps.switch, [None, zero, N], [None, None, None], condition)
    assert choice == 1
    # switch(n < 1, n, 1) is min(n, 1): undecided (n may be 0)
    condition = (ps.LT, N, intforms.constant(1))
    assert intforms.decide(ps.switch, [None, N, intforms.constant(1)], [None] * 3,
                           condition)[2] is None
    assert intforms.decide(ps.scalar_maximum, [plus(N, 1), N], [None, None])[2] == 0
    assert intforms.decide(ps.scalar_minimum, [plus(N, 1), N], [None, None])[2] == 1


def test_lengths_through_views():
    x = pt.matrix("x")
    n = x.shape[0]
    y = pt.zeros((n + 1, 3))
    assert intforms.length_of(y[1:], 0) == intforms.length_of(x, 0)
    assert intforms.length_of(y[::-1], 1) == intforms.constant(3)
    assert intforms.length_of(y[:-1], 0) == intforms.length_of(x, 0)
    # x[2:] is len - 2 only when len >= 2: not decided
    tail = x[2:]
    entries = get_idx_list(tail.owner.inputs, tail.owner.op.idx_list)
    assert intforms.sliced_length(x, entries, 0) is None
    assert intforms.same_length(y[1:], 0, x, 0)
    assert not intforms.same_length(y, 0, x, 0)
