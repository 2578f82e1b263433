"""What the plan (transpile/plan.py) decides about a Scan, through the oracle.

A state read only at its last entries lives in a ring of rows, the reads of its
initial buffer and of its last entries are the Scan's own; outputs nothing reads are
not computed.  Each case is compared with PyTensor and its source checked for the
layout it should have; the memory of a long loop is measured in a subprocess.
"""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import REFERENCE_MODE, compare, graph_file, transpile_module

import transpile

BOTH = pytest.mark.parametrize("rewrite", [True, False], ids=["rewrite", "no-rewrite"])
pytestmark = pytest.mark.filterwarnings(
    "ignore:Scan return signature:DeprecationWarning")


def decay_graph():
    x0 = pt.vector("x0")
    a = pt.vector("a")
    n = pt.iscalar("n")
    xs, _ = pytensor.scan(lambda x, a: pt.tanh(x * a) + 0.5 * x, outputs_info=[x0],
                          non_sequences=[a], n_steps=n)
    last = xs[-1]
    last.name = "x_last"
    return [x0, a, n], last


@BOTH
def test_last_state_is_carried_in_two_rows(rng, rewrite):
    inputs, last = decay_graph()
    values = [rng.normal(size=5), rng.uniform(0.5, 1.5, 5), np.int32(7)]
    module = compare(inputs, [last], values, rewrite=rewrite)
    source = open(module.__file__).read()
    assert "prev, cur = cur, prev" in source
    # rewritten, the buffer's initial row is a constant slice: the ring is built new
    assert ("np.empty((2, " in source) == rewrite
    assert "[t + 1]" not in source and "[t]" not in source  # no trace, no row per step
    for n in (1, 2):
        compare(inputs, [last], [*values[:2], np.int32(n)], rewrite=rewrite)


def test_no_step_reads_out_of_bounds_as_pytensor_refuses(rng):
    inputs, last = decay_graph()
    values = [rng.normal(size=5), rng.uniform(0.5, 1.5, 5), np.int32(0)]
    module = transpile_module(inputs, [last])
    with pytest.raises(IndexError):
        pytensor.function(inputs, last, mode=REFERENCE_MODE)(*values)
    with pytest.raises(IndexError, match="out of bounds"):
        module.kernel(*values)


@BOTH
def test_two_taps_scalar_state_carried_in_three_rows(rng, rewrite):
    f0 = pt.vector("f0", shape=(2,))  # two initial taps, whatever the graph does
    c = pt.scalar("c")
    fs, _ = pytensor.scan(lambda f2, f1, c: c * f1 + f2 - 0.25 * f2 * f1,
                          outputs_info=[{"initial": f0, "taps": [-2, -1]}],
                          non_sequences=[c], n_steps=9)
    values = [np.array([0.1, 0.3]), np.float64(0.9)]
    module = compare([f0, c], [fs[-1], fs[-2]], values, rewrite=rewrite)
    source = open(module.__file__).read()
    assert "prev2, prev, cur = prev, cur, prev2" in source


@BOTH
def test_state_read_whole_keeps_its_trace(rng, rewrite):
    inputs, _ = decay_graph()
    x0, a, n = inputs
    xs, _ = pytensor.scan(lambda x, a: x * a + 1.0, outputs_info=[x0], non_sequences=[a],
                          n_steps=n)
    values = [rng.normal(size=4), rng.uniform(0.5, 1.5, 4), np.int32(6)]
    module = compare(inputs, [xs[-1], xs.sum(axis=0)], values, rewrite=rewrite)
    assert "prev, cur" not in open(module.__file__).read()


def test_two_scans_from_one_initial_buffer(rng):
    x0 = pt.vector("x0")
    a = pt.vector("a")
    ys, _ = pytensor.scan(lambda y, a: y * a, outputs_info=[x0], non_sequences=[a],
                          n_steps=5)
    zs, _ = pytensor.scan(lambda z, a: z + a, outputs_info=[x0], non_sequences=[a],
                          n_steps=5)
    values = [rng.normal(size=3), rng.uniform(0.5, 1.5, 3)]
    compare([x0, a], [ys[-1], zs[-1], zs], values)


def test_nested_scan_with_carried_states(rng):
    x0 = pt.vector("x0")
    a = pt.vector("a")

    def outer(x, a):
        inner, _ = pytensor.scan(lambda y, a: pt.sin(y) * a, outputs_info=[x],
                                 non_sequences=[a], n_steps=3)
        return inner[-1] + x

    xs, _ = pytensor.scan(outer, outputs_info=[x0], non_sequences=[a], n_steps=4)
    values = [rng.normal(size=3), rng.uniform(0.5, 1.5, 3)]
    module = compare([x0, a], [xs[-1]], values)
    source = open(module.__file__).read()
    assert len(re.findall(r"(prev\w*), (cur\w*) = \2, \1", source)) == 2


@BOTH
def test_gradient_runs_only_the_outputs_it_returns(rng, rewrite):
    """The gradient Scan of an RNN computes the gradients of W, U, the inputs and
    h0; asked for W's alone, the module computes neither U's nor the inputs'."""
    W = pt.matrix("W")
    U = pt.matrix("U")
    xs = pt.matrix("xs")
    h0 = pt.vector("h0")
    hs, _ = pytensor.scan(lambda x_t, h: pt.tanh(W @ h + U @ x_t), sequences=[xs],
                          outputs_info=[h0])
    grad_W = pytensor.grad(hs[-1].sum(), W)
    values = [rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(4, 3)), rng.normal(size=(6, 3)),
              rng.normal(size=4)]
    module = compare([W, U, xs, h0], [hs[-1], grad_W], values, rewrite=rewrite)
    source = open(module.__file__).read()
    (backward,) = re.findall(r"# Scan\{grad_of_scan_fn.*", source, flags=re.S)
    # one outer product per step, W's gradient (U's would be a second), and one
    # matrix-vector product (the gradient of h)
    products = backward.count("# Ger") if rewrite else backward.count("# Matmul") - 1
    assert products == 1, backward
    assert "prev, cur = cur, prev" in backward  # W's gradient: its last value only


def test_gradient_of_every_input_still_runs_every_output(rng):
    W = pt.matrix("W")
    xs = pt.matrix("xs")
    h0 = pt.vector("h0")
    hs, _ = pytensor.scan(lambda x_t, h: pt.tanh(W @ h + x_t), sequences=[xs],
                          outputs_info=[h0])
    grads = pytensor.grad(hs[-1].sum(), [W, xs, h0])
    values = [rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(5, 3)), rng.normal(size=3)]
    compare([W, xs, h0], grads, values)


# ---- memory of a long loop --------------------------------------------------------

STEPS, LENGTH = 200_000, 1_000

MEASURE = textwrap.dedent("""
    import importlib.util, resource, sys
    import numpy as np
    spec = importlib.util.spec_from_file_location("long_scan", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x0, a = np.full({length}, 0.5), np.full({length}, 0.9)
    module.kernel(x0, a, np.int32(2))  # compiled, and every page it needs touched
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    last = module.kernel(x0, a, np.int32({steps}))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) * 1024, x0.nbytes + a.nbytes + last.nbytes)
""")


def test_long_scan_runs_in_the_memory_of_its_state(tmp_path):
    """200,000 steps of a 1,000-long state, returning the last: the trace would be
    1.6 GB; the ring is two rows, so the peak grows by no more than twice what the
    inputs and outputs hold (ru_maxrss, in a subprocess)."""
    inputs, last = decay_graph()
    path = tmp_path / "long_scan.py"
    transpile.transpile(graph_file(inputs, [last]), output=path)
    script = tmp_path / "measure.py"
    script.write_text(MEASURE.format(length=LENGTH, steps=STEPS))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run([sys.executable, str(script), str(path)], capture_output=True,
                         text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    grown, held = map(int, run.stdout.split())
    assert grown <= 2 * held, f"peak RSS grew by {grown} bytes for {held} bytes of data"


# ---- checks a loop makes once ------------------------------------------------------


@BOTH
def test_invariant_check_is_made_once_before_the_loop(rng, rewrite):
    """``x * a`` in every step compares the state's length with ``a``'s: the same
    comparison each step, made once before the loop, and only when the loop runs (a
    Scan of no steps computes nothing, and PyTensor raises nothing)."""
    x0 = pt.vector("x0")
    a = pt.vector("a")
    n = pt.iscalar("n")
    xs, _ = pytensor.scan(lambda x, a: x * a, outputs_info=[x0], non_sequences=[a],
                          n_steps=n)
    module = compare([x0, a, n], [xs], [rng.normal(size=3), rng.normal(size=3),
                                        np.int32(4)], rewrite=rewrite)
    source = open(module.__file__).read()
    loop = source[source.index("for t in range"):]
    assert "raise" not in loop.split("return")[0], loop
    compare([x0, a, n], [xs], [rng.normal(size=3), rng.normal(size=4), np.int32(0)],
            rewrite=rewrite)
    with pytest.raises(ValueError):
        pytensor.function([x0, a, n], xs, mode=REFERENCE_MODE)(
            np.ones(3), np.ones(4), np.int32(2))
    with pytest.raises(ValueError, match="shapes do not match"):
        module.kernel(np.ones(3), np.ones(4), np.int32(2))


# ---- the committed RNN gradient, as a reviewer reads it ------------------------------

RNN = Path(__file__).resolve().parent.parent / "generated_examples" / "rnn" / "kernel.py"
ENTRY_LINES = 100  # what issue 9 asks of it


def test_rnn_example_has_no_dead_work():
    source = RNN.read_text()
    entry = source[source.index("def kernel("):]
    assert len(entry.splitlines()) <= ENTRY_LINES
    assert "np.int8" not in entry and "switch" not in entry  # no index arithmetic
    assert "np.zeros((2," in entry  # grad_W: its last value only, in two rows
    assert entry.count("# Ger") == 1 and entry.count("# Gemv") == 3  # U's is not computed
    for loop in re.findall(r"\n    for t in range.*?(?=\n    \S)", entry, flags=re.S):
        assert "raise" not in loop, loop


@BOTH
def test_views_of_views_read_the_array_they_view(rng, rewrite):
    """A sequence given new axes and squeezed again in the body, and an Elemwise of
    expanded vectors, read the arrays themselves (``xs[t]``, ``a[i]``), with the
    same results as PyTensor, new axes at either end included."""
    xs, a, b = pt.matrix("xs"), pt.vector("a"), pt.vector("b")

    def step(x_t, row_t, acc):  # x_t: (n, 1), row_t: (1, n)
        return acc + x_t[:, 0] * 2 + row_t[0] * a

    acc, _ = pytensor.scan(step, sequences=[xs[:, :, None], xs[:, None, :]],
                           outputs_info=[pt.zeros_like(a)])
    outer = (a[:, None] * b[None, :]).sum(axis=1)
    module = compare([xs, a, b], [acc[-1], outer],
                     [rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=3)],
                     rewrite=rewrite)
    source = open(module.__file__).read()
    if rewrite:
        assert "[:, :, None]" not in source and "[:, None, :]" not in source, source
        assert re.search(r"\bxs\[t\]", source), source


class Halve(pytensor.graph.op.Op):
    """``x / 2`` for a float64 vector: an Op of this file's own, lowered below by a
    lowering that honours destinations, as a user's plugin would write it."""

    __props__ = ()

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return pytensor.graph.basic.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0] / 2


def lower_Halve(op, node, fn):
    from transpile import syntax as sx

    (x,), (out,) = node.inputs, node.outputs
    n = sx.subscript(sx.attr(fn.expr(x), "shape"), [sx.literal(0)])
    if out in fn.destinations:  # the plan gave it one: write there
        target = fn.into_destination(out, [n])
    else:
        target = fn.bind(out, sx.call("np.empty_like", fn.expr(x)), hint="halved")
    with fn.indices(1) as (i,):
        read = sx.subscript(fn.expr(x), [sx.name(i)])
        fn.emit(sx.for_range(i, [n], [sx.assign(sx.subscript(target, [sx.name(i)]),
                                                sx.binop("*", read, sx.literal(0.5)))]))


@pytest.fixture
def halve_lowering():
    """``lower_Halve`` registered for the test only (the registry is global: another
    test lists every registered Op)."""
    from transpile import registry

    transpile.register(Halve, destinations=True)(lower_Halve)
    yield
    registry._LOWERINGS.pop(Halve, None)
    registry._DESTINATIONS.discard(Halve)


def test_a_new_lowering_opts_into_destinations(rng, halve_lowering):
    """A lowering registered with ``destinations=True`` writes a Scan step's result
    straight into the state's buffer row; the Scan lowering knows nothing of it."""
    h0 = pt.vector("h0")
    hs, _ = pytensor.scan(lambda h: Halve()(h), outputs_info=[h0], n_steps=4)
    module = compare([h0], [hs], [rng.normal(size=3)], allow_modules=["test_scan_layout"])
    body = open(module.__file__).read().split("for t in range", 1)[1]
    assert "h_t = h[t + 1]" in body, body
    assert "np.empty_like" not in body, body
