"""``ScalarLoop``: the gradients of gammainc and gammaincc (what they compile to),
and loops made by hand: a while loop with its until condition over a float32 and an
int64 state, a for loop, and n_steps of zero."""

import numpy as np
import pytensor
import pytensor.scalar as ps
import pytensor.tensor as pt
from oracle import compare
from pytensor.scalar.loop import ScalarLoop
from pytensor.tensor.elemwise import Elemwise


def test_scalar_loops():
    k, x = pt.vector("k"), pt.vector("x")
    grads = pytensor.grad(pt.gammainc(k, x).sum() + pt.gammaincc(k, x).sum(), [k, x])
    a0, c0, lim = ps.float32("a0"), ps.int64("c0"), ps.float32("lim")
    a1 = a0 * np.float32(1.5)
    grow = ScalarLoop(init=[a0, c0], update=[a1, c0 + 1], constant=[lim], until=a1 > lim)
    halve = ScalarLoop(init=[a0], update=[a0 * np.float32(0.5)])
    n, a, L = pt.lscalar("n"), pt.vector("a", dtype="float32"), pt.fscalar("L")
    outs = [*grads, *Elemwise(grow)(n, a, pt.constant(np.int64(0)), L), Elemwise(halve)(n, a)]
    inputs = [k, x, n, a, L]
    for steps in (20, 0):
        values = [np.array([0.5, 2.0, 10.0]), np.array([0.3, 2.5, 8.0]), np.int64(steps),
                  np.array([0.1, 1.0, 50.0], "float32"), np.float32(10.0)]
        compare(inputs, outs, values)


def test_float32_gradient():
    # The loop runs in float32 as PyTensor's does; the result is float64, so the
    # comparison is at float32's precision.
    k, x = pt.vector("k", dtype="float32"), pt.vector("x", dtype="float32")
    grad = pytensor.grad(pt.gammainc(k, x).sum(), k)
    compare([k, x], [grad], [np.array([1.5, 3.0], "float32"), np.array([0.7, 2.0], "float32")],
            tol={"rtol": 1e-5, "atol": 1e-7})
