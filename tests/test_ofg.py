"""OpFromGraph, inlined: one and several outputs, an Op applied twice, nested, returning
its own input, with a frozen shared variable, ``inline=True`` (which the rewrite step
expands itself), gradients (which are OpFromGraphs too), advanced indexing inside, and
PyTensor's own subclasses (Einsum, KroneckerProduct).
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import compare, transpile_module
from pytensor.compile.builders import OpFromGraph


def _ops():
    a, b = pt.vector("a"), pt.vector("b")
    affine = OpFromGraph([a, b], [pt.exp(a) * b + 1.0], name="affine")
    c, d = pt.matrix("c"), pt.lvector("d")
    stats = OpFromGraph([c], [c.sum(axis=0), pt.max(c, axis=1), c], name="stats")
    gather = OpFromGraph([c, d], [pt.inc_subtensor(c[d], 1.0)[:, 0], c[d, d]])
    e = pt.vector("e")
    nested = OpFromGraph([e], [affine(e, e) * 2.0, e + 0.0])
    inline = OpFromGraph([a, b], [a @ b], inline=True)
    w = pytensor.shared(np.array([1.0, -2.0, 3.0]), name="w")
    shared = OpFromGraph([a], [a * w])
    return affine, stats, gather, nested, inline, shared


@pytest.mark.parametrize("rewrite", [True, False])
def test_inlined(rng, rewrite):
    affine, stats, gather, nested, inline, shared = _ops()
    x, y = pt.vector("x"), pt.vector("y")
    X = pt.matrix("X")
    idx = pt.lvector("idx")
    total, peak, same = stats(X)
    outs = [
        affine(x, y), affine(y, x) + affine(x, x),  # one Op, applied three times
        total, peak, same, same * 2.0,  # an input returned (copied) and used
        *gather(X, idx), *nested(x), inline(x, y), shared(x),
        *pytensor.grad(pt.sum(affine(x, y) ** 2) + pt.sum(nested(y)[0]), [x, y]),
    ]
    values = [rng.normal(size=3), rng.normal(size=3), rng.normal(size=(4, 3)),
              np.array([0, 2, 2, -1])]
    compare([x, y, X, idx], outs, values, rewrite=rewrite)


@pytest.mark.parametrize("rewrite", [True, False])
def test_subclasses(rng, rewrite):
    A, B = pt.matrix("A"), pt.matrix("B")
    v = pt.vector("v")
    outs = [pt.einsum("ij,jk->ik", A, B), pt.einsum("ij,ij->i", A, B.T),
            pt.linalg.kron(A, B), pt.einsum("i,i->", v, v)]
    values = [rng.normal(size=(2, 3)), rng.normal(size=(3, 2)), rng.normal(size=4)]
    compare([A, B, v], outs, values, rewrite=rewrite)


def test_errors_inside_are_raised(rng):
    c, d = pt.vector("c"), pt.lvector("d")
    take = OpFromGraph([c, d], [c[d]])
    x, idx = pt.vector("x"), pt.lvector("idx")
    module = transpile_module([x, idx], [take(x, idx)], rewrite=False)
    with pytest.raises(IndexError):
        module.kernel(rng.normal(size=3), np.array([0, 3]))
