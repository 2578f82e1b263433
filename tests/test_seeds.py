"""Gradient seeds built directly (transpile/seeds.py): zeros with one entry set, put
into a longer array's tail and reversed, become one ``np.zeros`` and one assignment;
the values match PyTensor's, and where the original chain raises (the inner array
too short for its entry) the module raises too.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import REFERENCE_MODE, compare


def _chain(x, k: int, start: int):
    """``zeros(n + start, m)[start:] += (zeros(n, m)[k] += 1.0)``, then reversed."""
    n, m = x.shape[0], x.shape[1]
    inner = pt.inc_subtensor(pt.zeros((n, m))[k], 1.0)
    outer = pt.inc_subtensor(pt.zeros((n + start, m))[start:], inner)
    return outer[::-1]


@pytest.mark.parametrize("k,start", [(-1, 1), (-2, 3), (0, 2), (1, 0)])
def test_seed_chain_is_one_array_with_one_entry(rng, k, start):
    x = pt.matrix("x")
    seed = _chain(x, k, start)
    out = seed * 2.0 + x.sum()  # read by a consumer, as a Scan reads its seed
    module = compare([x], [seed, out], [rng.normal(size=(4, 3))])
    entry = open(module.__file__).read().split("def kernel")[1]
    assert entry.count("np.zeros(") == 1, entry
    assert "[::-1]" not in entry and "window" not in entry, entry


@pytest.mark.parametrize("k,start,rows", [(-1, 1, 0), (-2, 3, 1), (1, 0, 1)])
def test_an_entry_that_did_not_exist_still_raises(rng, k, start, rows):
    """The inner zeros have ``rows`` rows, too few for entry ``k``: PyTensor raises
    IndexError, and so does the module (the composed array would be long enough)."""
    x = pt.matrix("x")
    seed = _chain(x, k, start)
    value = rng.normal(size=(rows, 3))
    with pytest.raises(IndexError):
        pytensor.function([x], seed, mode=REFERENCE_MODE)(value)
    module = compare([x], [seed], [rng.normal(size=(4, 3))])
    with pytest.raises(IndexError):
        module.kernel(value)


def test_scan_gradient_starts_from_the_seed_it_needs(rng):
    """The gradient of a loop's last state: the backward Scan's buffer is the seed
    itself (no copy of a reversed view); empty sequences raise as PyTensor does."""
    x0, xs = pt.vector("x0"), pt.matrix("xs")
    w = pt.matrix("w")
    hs, _ = pytensor.scan(lambda x, h: pt.tanh(w @ h + x), sequences=[xs],
                          outputs_info=[x0])
    grad = pytensor.grad(hs[-1].sum(), w)
    values = [rng.normal(size=3), rng.normal(size=(5, 3)), rng.normal(size=(3, 3))]
    module = compare([x0, xs, w], [hs[-1], grad], values)
    entry = open(module.__file__).read().split("def kernel")[1]
    assert entry.count("np.zeros(") == 2, entry  # the seed, and grad_w's ring
    assert ".copy()" not in entry, entry
    empty = [values[0], np.zeros((0, 3)), values[2]]
    with pytest.raises(IndexError):
        pytensor.function([x0, xs, w], [hs[-1], grad], mode=REFERENCE_MODE)(*empty)
    with pytest.raises(IndexError):
        module.kernel(*empty)
