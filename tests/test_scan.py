"""Scan in all its forms, through the execution oracle.

Each test builds a graph with ``pytensor.scan``, transpiles it (with and without
PyTensor's rewrites for the main forms), runs the generated ``@njit`` kernel and
compares it with PyTensor's own evaluation.  Several outputs share one graph where
that is natural: every generated module costs a Numba compilation.
"""

import re

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import REFERENCE_MODE, compare, transpile_module
from pytensor.graph.replace import clone_replace
from pytensor.scan.op import Scan, ScanInfo
from pytensor.scan.utils import until

import transpile

BOTH = pytest.mark.parametrize("rewrite", [True, False], ids=["rewrite", "no-rewrite"])
pytestmark = pytest.mark.filterwarnings(
    "ignore:Scan return signature:DeprecationWarning")


def seed_graph():
    x0 = pt.scalar("x0")
    a = pt.vector("a")
    b = pt.vector("b")
    xs, _ = pytensor.scan(lambda a_t, b_t, x_tm1: x_tm1 * a_t + b_t,
                          sequences=[a, b], outputs_info=[x0])
    xs.name = "x"
    return x0, a, b, xs


def seed_values(rng, n=12):
    return [np.float64(0.5), rng.uniform(0.5, 1.0, n), rng.normal(size=n)]


# ---- the seed recurrence ------------------------------------------------------------


@BOTH
def test_seed_all_states_and_last(rng, rewrite):
    x0, a, b, xs = seed_graph()
    compare([x0, a, b], [xs, xs[-1]], seed_values(rng), rewrite=rewrite)
    # the loop runs over the shortest sequence, as PyTensor's does
    values = [np.float64(-1.0), rng.uniform(0.5, 1.0, 9), rng.normal(size=7)]
    compare([x0, a, b], [xs, xs[-1]], values, rewrite=rewrite)


def test_seed_last_state_only(rng):
    x0, a, b, xs = seed_graph()
    compare([x0, a, b], [xs[-1]], seed_values(rng))


def test_seed_source_is_one_loop_with_one_statement():
    x0, a, b, xs = seed_graph()
    for rewrite in (True, False):
        source = transpile.transpile(([x0, a, b], [xs]), rewrite=rewrite)
        entry = source[source.index("def kernel("):]
        assert entry.count("for t in range(") == 1, source
        loop = entry[entry.index("for t in range("):].split("\n")
        body = [line.strip() for line in loop[1:]
                if line.startswith(" " * 8) and not line.strip().startswith("#")]
        assert len(body) == 1, source
        # x[t + 1] = x[t] * a[t] + b[t], whatever the buffers are called
        statement = body[0]
        target, value = statement.split(" = ")
        buffer = target.split("[")[0]
        assert target == f"{buffer}[t + 1]", statement
        assert f"{buffer}[t] * " in value and "[t] + " in value, statement
        assert "np.empty(" in entry  # one buffer, allocated before the loop
        # the graph shows the sequences and the buffer are long enough: no checks
        assert "raise" not in entry and "scan_full_buffer" not in source


def loop_bodies(source: str) -> list[str]:
    """The text of each ``for t... in range(`` loop of the entry function."""
    entry = source[source.index("def kernel("):].split("\n")
    bodies = []
    for k, line in enumerate(entry):
        if line.lstrip().startswith("for t") and " in range(" in line:
            indent = len(line) - len(line.lstrip())
            body = []
            for inner in entry[k + 1:]:
                if inner.strip() and len(inner) - len(inner.lstrip()) <= indent:
                    break
                body.append(inner)
            bodies.append("\n".join(body))
    return bodies


def test_scalar_states_allocate_nothing_per_step():
    x0, a, b, xs = seed_graph()
    c, roots = newton_sqrt()
    f0 = pt.vector("f0")
    fib, _ = pytensor.scan(lambda f2, f1: f1 + f2, n_steps=10,
                           outputs_info=[dict(initial=f0, taps=[-2, -1])])
    ys = pytensor.scan(lambda a_t, x: (x * a_t, pt.exp(a_t) - x), sequences=[a],
                       outputs_info=[x0, None])[0][1]
    graph = ([x0, a, b, c, f0], [xs, roots, fib, ys, pytensor.grad(xs.sum(), a)])
    for rewrite in (True, False):
        bodies = loop_bodies(transpile.transpile(graph, rewrite=rewrite))
        assert len(bodies) >= 5
        for body in bodies:
            for alloc in ("np.empty", "np.zeros", "np.full", "np.array", ".copy()"):
                assert alloc not in body, body


# ---- sequences ---------------------------------------------------------------------


@BOTH
def test_several_sequences_matrix_and_taps(rng, rewrite):
    a = pt.vector("a")
    M = pt.matrix("M")
    c = pt.vector("c")

    def step(a_tm1, a_t, a_tp2, m_t, c_t, s_tm1):
        s_t = s_tm1 + a_tm1 * a_t - a_tp2 + m_t.sum() * c_t
        return s_t, m_t * a_t + s_t  # sit-sot and a vector nit-sot

    (s, ys), _ = pytensor.scan(
        step, sequences=[dict(input=a, taps=[-1, 0, 2]), M, c],
        outputs_info=[pt.constant(0.0, dtype="float64"), None])
    values = [rng.normal(size=11), rng.normal(size=(8, 3)), rng.normal(size=9)]
    compare([a, M, c], [s, ys], values, rewrite=rewrite)


def test_matrix_sequence_row_state(rng):
    # Each step reads a row of a matrix and a matrix slice of a 3-d sequence.
    X = pt.matrix("X")
    T = pt.tensor3("T")
    h0 = pt.vector("h0")
    hs, _ = pytensor.scan(lambda x_t, T_t, h: pt.tanh((T_t * h).sum(axis=1) + x_t),
                          sequences=[X, T], outputs_info=[h0])
    values = [rng.normal(size=(6, 4)), rng.normal(size=(6, 4, 4)) / 2,
              rng.normal(size=4)]
    compare([X, T, h0], [hs], values)


# ---- non-sequences, sit-sot and mit-sot states ---------------------------------------


@BOTH
def test_non_sequences_and_vector_state(rng, rewrite):
    W = pt.matrix("W")
    c = pt.vector("c")
    k = pt.scalar("k")
    h0 = pt.vector("h0")
    hs, _ = pytensor.scan(lambda h, W, c, k: pt.tanh(W @ h + c) * k,
                          outputs_info=[h0], non_sequences=[W, c, k], n_steps=7)
    values = [rng.normal(size=(5, 5)) / 2, rng.normal(size=5), np.float64(0.9),
              rng.normal(size=5)]
    compare([W, c, k, h0], [hs, hs[-1]], values, rewrite=rewrite)


@BOTH
def test_mit_sot_scalar_and_vector(rng, rewrite):
    f0 = pt.vector("f0")  # the two first Fibonacci-like values
    v0 = pt.matrix("v0")  # two initial vectors
    n = pt.iscalar("n")
    fib, _ = pytensor.scan(lambda f2, f1: f1 + f2,
                           outputs_info=[dict(initial=f0, taps=[-2, -1])], n_steps=n)
    vs, _ = pytensor.scan(lambda v2, v1: 0.5 * v1 - 0.25 * v2[::-1] + 1.0,
                          outputs_info=[dict(initial=v0, taps=[-2, -1])], n_steps=n)
    values = [np.array([0.0, 1.0]), rng.normal(size=(2, 3)), np.int32(15)]
    compare([f0, v0, n], [fib, vs], values, rewrite=rewrite)


def test_mit_sot_with_gap_and_sit_sot_together(rng):
    # taps [-3, -1]: the state's buffer keeps three initial entries
    x0 = pt.vector("x0")
    y0 = pt.scalar("y0")
    a = pt.vector("a")

    def step(a_t, x3, x1, y1):
        return x1 - 0.5 * x3 + a_t * y1, y1 * 0.9 + a_t

    (xs, ys), _ = pytensor.scan(step, sequences=[a],
                                outputs_info=[dict(initial=x0, taps=[-3, -1]), y0])
    values = [rng.normal(size=3), np.float64(1.0), rng.normal(size=10)]
    compare([x0, y0, a], [xs, ys], values)


# ---- nit-sot outputs -----------------------------------------------------------------


@BOTH
def test_nit_sot(rng, rewrite):
    a = pt.vector("a")
    v = pt.vector("v")  # its length is not static: nor is each step's output shape
    sq, scaled = pytensor.scan(lambda a_t, v: (a_t ** 2, v * a_t + 1.0),
                               sequences=[a], non_sequences=[v])[0]
    values = [rng.normal(size=6), rng.normal(size=4)]
    compare([a, v], [sq, scaled], values, rewrite=rewrite)


def test_nit_sot_shape_from_the_step(rng):
    # each step returns a slice whose length depends on the data, the same every step
    a = pt.vector("a")
    k = pt.iscalar("k")
    ys, _ = pytensor.scan(lambda a_t, k: pt.exp(a[:k]) * a_t, sequences=[a],
                          non_sequences=[k])
    compare([a, k], [ys, ys.sum()], [rng.normal(size=5), np.int32(3)])


def test_nit_sot_zero_steps(rng):
    a = pt.vector("a")
    v = pt.vector("v")
    ys, _ = pytensor.scan(lambda a_t, v: v * a_t, sequences=[a], non_sequences=[v])
    values = [np.zeros(0), rng.normal(size=3)]
    # Unrewritten, a step's shape is known only once a step ran: (0, 0), as
    # PyTensor's own unrewritten Scan.
    compare([a, v], [ys], values, rewrite=False)
    # Rewritten, the shape is inferred from v's: (0, 3), as PyTensor's FAST_RUN.
    module = transpile_module([a, v], [ys])
    fast_run = pytensor.function([a, v], ys, mode="FAST_RUN")
    assert module.kernel(*values).shape == fast_run(*values).shape == (0, 3)


# ---- n_steps ---------------------------------------------------------------------


@BOTH
def test_n_steps_without_sequences(rng, rewrite):
    x0 = pt.scalar("x0")
    n = pt.iscalar("n")
    doubled, _ = pytensor.scan(lambda x: 2 * x + 1, outputs_info=[x0], n_steps=n)
    fixed, _ = pytensor.scan(lambda x: x / 3 - 1, outputs_info=[x0], n_steps=6)
    compare([x0, n], [doubled, fixed], [np.float64(0.25), np.int32(9)], rewrite=rewrite)


def test_n_steps_shorter_than_sequences(rng):
    a = pt.vector("a")
    x0 = pt.scalar("x0")
    n = pt.iscalar("n")
    xs, _ = pytensor.scan(lambda a_t, x: x + a_t, sequences=[a], outputs_info=[x0],
                          n_steps=n)
    ys, _ = pytensor.scan(lambda a_t, x: x * a_t, sequences=[a], outputs_info=[x0],
                          n_steps=4)
    backwards, _ = pytensor.scan(lambda a_t, x: x * 0.5 + a_t, sequences=[a],
                                 outputs_info=[x0], n_steps=n, go_backwards=True)
    compare([a, x0, n], [xs, ys, backwards],
            [rng.normal(size=10), np.float64(1.5), np.int32(7)])


# ---- untraced state (shared-variable updates), hand-built Scans ----------------------


def _counting_scan(counter):
    a = pt.vector("a")
    x0 = pt.scalar("x0")

    def step(a_t, x, counter):
        return x * 0.5 + a_t, {counter: counter + a_t * x}

    xs, updates = pytensor.scan(step, sequences=[a], outputs_info=[x0],
                                non_sequences=[counter])
    return a, x0, xs, updates[counter]


def test_shared_update_from_frozen_shared(rng):
    # A shared variable the graph does not take as input is frozen at its value.
    counter = pytensor.shared(np.float64(2.0), name="counter")
    a, x0, xs, new_counter = _counting_scan(counter)
    compare([a, x0], [xs, new_counter], [rng.normal(size=8), np.float64(1.0)])


@BOTH
def test_shared_update_as_output(rng, rewrite):
    counter = pytensor.shared(np.zeros(3), name="counter")
    a, x0, xs, new_counter = _counting_scan(counter)
    # the shared variable becomes an ordinary input of the transpiled graph
    start = pt.vector("counter_start")
    xs, new_counter = clone_replace([xs, new_counter], {counter: start})
    values = [rng.normal(size=8), np.float64(1.0), rng.normal(size=3)]
    compare([a, x0, start], [xs, new_counter], values, rewrite=rewrite)


def _scan_op(inner_inputs, inner_outputs, **counts):
    info = dict(n_seqs=0, mit_mot_in_slices=(), mit_mot_out_slices=(),
                mit_sot_in_slices=(), sit_sot_in_slices=(), n_nit_sot=0,
                n_untraced_sit_sot=0, n_non_seqs=0, as_while=False)
    return Scan(inner_inputs, inner_outputs, ScanInfo(**{**info, **counts}))


@BOTH
def test_untraced_states_swap(rng, rewrite):
    # Untraced sit-sot (what `pytensor.scan` makes of a non-tensor update such as an
    # RNG's; built directly here): only the last value is kept.  The new values are
    # the old ones swapped, so each must be read before the other is rebound.
    s1, s2, s3 = pt.scalar("s1"), pt.scalar("s2"), pt.scalar("s3")
    v1, v2 = pt.vector("v1"), pt.vector("v2")
    op = _scan_op([s1, s2, s3, v1, v2], [s2, s1, s3 * s1 + s2, v2, v1[::-1] * s3],
                  n_untraced_sit_sot=5)
    n = pt.iscalar("n")
    starts = [pt.scalar("a"), pt.scalar("b"), pt.scalar("c"), pt.vector("va"),
              pt.vector("vb")]
    outs = op(n, *starts)
    values = [np.int32(5), np.float64(1.0), np.float64(2.0), np.float64(0.5),
              rng.normal(size=3), rng.normal(size=3)]
    module = compare([n, *starts], outs, values, rewrite=rewrite)
    # no step: the initial values (PyTensor's Python Scan returns None there)
    for got, want in zip(module.kernel(np.int32(0), *values[1:]), values[1:], strict=True):
        np.testing.assert_array_equal(got, want)


def test_mit_mot_reads_the_tap_it_overwrites(rng):
    # A mit-mot state reads taps 0 and 1 and writes tap 1; a nit-sot output is the
    # tap-1 value read at the step's start.  (PyTensor's Python Scan cannot run this
    # graph, so the reference is a NumPy loop.)
    g0, g1 = pt.scalar("g0"), pt.scalar("g1")
    w0, w1 = pt.vector("w0"), pt.vector("w1")
    op = _scan_op([g0, g1, w0, w1], [g0 * 0.5 + g1, w0 * 0.5 + w1, g1, w1[::-1]],
                  mit_mot_in_slices=((0, 1), (0, 1)), mit_mot_out_slices=((1,), (1,)),
                  n_nit_sot=2)
    n = pt.iscalar("n")
    buf, wbuf = pt.vector("buf"), pt.matrix("wbuf")
    outs = op(n, buf, wbuf, n, n)
    module = transpile_module([n, buf, wbuf], outs)
    steps, b, w = 6, rng.normal(size=7), rng.normal(size=(7, 3))
    want_b, want_w = b.copy(), w.copy()
    want_g, want_v = np.empty(steps), np.empty((steps, 3))
    for t in range(steps):
        want_g[t], want_v[t] = want_b[t + 1], want_w[t + 1][::-1]
        want_b[t + 1] = want_b[t] * 0.5 + want_b[t + 1]
        want_w[t + 1] = want_w[t] * 0.5 + want_w[t + 1]
    got = module.kernel(np.int32(steps), b, w)
    for g, want in zip(got, [want_b, want_w, want_g, want_v], strict=True):
        np.testing.assert_allclose(g, want, rtol=1e-14)
    # one step more would write past the buffers' end: refused, not done
    with pytest.raises(IndexError):
        module.kernel(np.int32(steps + 1), b, w)


# ---- while loops ---------------------------------------------------------------------


def newton_sqrt():
    c = pt.scalar("c")

    def step(x, c):
        x_new = 0.5 * (x + c / x)
        return x_new, until(pt.abs(x_new - x) < 1e-10)

    xs, _ = pytensor.scan(step, outputs_info=[c], non_sequences=[c], n_steps=100)
    return c, xs


@BOTH
def test_until_newton_sqrt(rng, rewrite):
    c, xs = newton_sqrt()
    module = compare([c], [xs, xs[-1], xs.shape[0]], [np.float64(7.0)], rewrite=rewrite)
    got, last, steps = module.kernel(2.0)
    assert last == pytest.approx(np.sqrt(2.0), rel=1e-14)
    assert 3 < steps < 100


def test_until_with_sequence_and_nit_sot(rng):
    a = pt.vector("a")
    limit = pt.scalar("limit")

    def step(a_t, total, limit):
        new = total + a_t
        return (new, new * 2.0), until(new > limit)

    zero = pt.constant(0.0, dtype="float64")
    (totals, doubled), _ = pytensor.scan(step, sequences=[a], outputs_info=[zero, None],
                                         non_sequences=[limit])
    values = [rng.uniform(0.0, 1.0, 30), np.float64(4.0)]
    compare([a, limit], [totals, doubled], values)
    compare([a, limit], [totals, doubled], [values[0], np.float64(1e9)])  # never stops


# ---- scans in scans ------------------------------------------------------------------


@BOTH
def test_nested_scan(rng, rewrite):
    A = pt.matrix("A")
    x0 = pt.scalar("x0")

    def row_step(row, x):
        # the inner scan runs along one row: y_j = y_{j-1} * 0.5 + row_j
        ys, _ = pytensor.scan(lambda r_j, y: y * 0.5 + r_j, sequences=[row],
                              outputs_info=[x])
        return ys[-1]

    xs, _ = pytensor.scan(row_step, sequences=[A], outputs_info=[x0])
    compare([A, x0], [xs], [rng.normal(size=(5, 4)), np.float64(0.3)], rewrite=rewrite)


def test_nested_scan_with_vector_states(rng):
    A = pt.tensor3("A")
    h0 = pt.vector("h0")

    def outer(M, h):
        hs, _ = pytensor.scan(lambda m, g: pt.tanh(m * g + g[::-1]), sequences=[M],
                              outputs_info=[h])
        return hs[-1], hs.sum(axis=0)

    (hs, sums), _ = pytensor.scan(outer, sequences=[A], outputs_info=[h0, None])
    compare([A, h0], [hs, sums], [rng.normal(size=(4, 3, 5)), rng.normal(size=5)])


# ---- dtypes --------------------------------------------------------------------------


def test_float32_state_stays_float32(rng):
    x0 = pt.scalar("x0", dtype="float32")
    a = pt.vector("a", dtype="float32")
    h0 = pt.vector("h0", dtype="float32")
    xs, _ = pytensor.scan(lambda a_t, x: x * a_t + np.float32(0.5), sequences=[a],
                          outputs_info=[x0])
    hs, _ = pytensor.scan(lambda a_t, h: pt.tanh(h * a_t), sequences=[a],
                          outputs_info=[h0])
    assert xs.dtype == hs.dtype == "float32"
    values = [np.float32(0.25), rng.uniform(0.5, 1.0, 10).astype("float32"),
              rng.normal(size=3).astype("float32")]
    module = compare([x0, a, h0], [xs, hs], values)
    assert all(o.dtype == np.float32 for o in module.kernel(*values))


def test_int_sequences(rng):
    k = pt.ivector("k")
    m = pt.lvector("m")
    total0 = pt.lscalar("total0")

    def step(k_t, m_t, total):
        return total + k_t * m_t, k_t // 3, (m_t % 4) * 1.5

    (totals, thirds, mixed), _ = pytensor.scan(
        step, sequences=[k, m], outputs_info=[total0, None, None])
    values = [rng.integers(-20, 20, 9).astype("int32"), rng.integers(-9, 9, 9),
              np.int64(5)]
    compare([k, m, total0], [totals, thirds, mixed], values)


# ---- gradients (mit-mot) -------------------------------------------------------------


def central_differences(f, values, k, eps=1e-6, entries=None):
    """d f / d values[k] by central differences, at ``entries`` (flat indices) or
    at every entry, ``f`` being the generated kernel's scalar loss."""
    x = np.asarray(values[k], dtype=np.float64)
    grad = np.zeros(x.shape)
    for idx in (range(x.size) if entries is None else entries):
        shifted = []
        for sign in (1.0, -1.0):
            y = x.copy()
            y.flat[idx] += sign * eps
            args = list(values)
            args[k] = y if x.ndim else np.float64(y)
            shifted.append(f(*args))
        grad.flat[idx] = (shifted[0] - shifted[1]) / (2 * eps)
    return grad


@BOTH
def test_grad_of_seed(rng, rewrite):
    x0, a, b, xs = seed_graph()
    loss = xs.sum()
    grads = pytensor.grad(loss, [a, b, x0])
    values = seed_values(rng)
    module = compare([x0, a, b], [loss, *grads], values, rewrite=rewrite)
    if rewrite:
        return
    loss_of = lambda *v: module.kernel(*v)[0]  # noqa: E731
    _, ga, gb, gx0 = module.kernel(*values)
    np.testing.assert_allclose(ga, central_differences(loss_of, values, 1), rtol=1e-6)
    np.testing.assert_allclose(gb, central_differences(loss_of, values, 2), rtol=1e-6)
    np.testing.assert_allclose(gx0, central_differences(loss_of, values, 0), rtol=1e-6)


def rnn_graph():
    """h_t = tanh(W h_{t-1} + U x_t); the loss and its gradient in W, back-propagated
    through every step and, from a second scan, through the last 5 only."""
    W = pt.matrix("W")
    U = pt.matrix("U")
    X = pt.matrix("X")
    h0 = pt.vector("h0")
    grads = []
    for truncate_gradient in (-1, 5):
        hs, _ = pytensor.scan(lambda x_t, h, W, U: pt.tanh(W @ h + U @ x_t),
                              sequences=[X], outputs_info=[h0], non_sequences=[W, U],
                              truncate_gradient=truncate_gradient)
        loss = (hs ** 2).sum()
        grads.append(pytensor.grad(loss, W))
    return [W, U, X, h0], loss, grads


def rnn_values(rng, hidden=8, inputs=4, steps=20):
    return [rng.normal(size=(hidden, hidden)) / np.sqrt(hidden),
            rng.normal(size=(hidden, inputs)) / np.sqrt(inputs),
            rng.normal(size=(steps, inputs)), rng.normal(size=hidden)]


@BOTH
def test_grad_of_rnn_full_and_truncated(rng, rewrite):
    inputs, loss, (gW, gW_truncated) = rnn_graph()
    values = rnn_values(rng)
    module = compare(inputs, [loss, gW, gW_truncated], values, rewrite=rewrite,
                     tol={"rtol": 1e-9, "atol": 1e-11})
    if not rewrite:
        return
    entries = rng.choice(64, size=6, replace=False)
    loss_of = lambda *v: module.kernel(*v)[0]  # noqa: E731
    fd = central_differences(loss_of, values, 0, entries=entries)
    _, got, truncated = module.kernel(*values)
    np.testing.assert_allclose(got.flat[entries], fd.flat[entries], rtol=1e-6,
                               atol=1e-8)
    # back-propagating through 5 steps only is not the full gradient
    assert not np.allclose(truncated.flat[entries], fd.flat[entries], rtol=1e-4)


def test_grad_of_mit_sot_and_non_sequence(rng):
    x0 = pt.vector("x0")
    w = pt.scalar("w")
    xs, _ = pytensor.scan(lambda x2, x1, w: x1 * w - 0.3 * x2,
                          outputs_info=[dict(initial=x0, taps=[-2, -1])],
                          non_sequences=[w], n_steps=12)
    loss = (xs * np.arange(1.0, 13.0)).sum()
    grads = pytensor.grad(loss, [x0, w])
    values = [rng.normal(size=2), np.float64(0.8)]
    module = compare([x0, w], [loss, *grads], values)
    loss_of = lambda *v: module.kernel(*v)[0]  # noqa: E731
    _, gx0, gw = module.kernel(*values)
    np.testing.assert_allclose(gx0, central_differences(loss_of, values, 0), rtol=1e-6)
    np.testing.assert_allclose(gw, central_differences(loss_of, values, 1), rtol=1e-6)


# ---- graphs PyTensor already rewrote: circular buffers -------------------------------


def test_graph_of_a_compiled_function(rng):
    # A compiled Function's graph went through PyTensor's memory-saving Scan rewrites:
    # states whose last values only are used live in circular buffers of a few
    # entries, nit-sot outputs keep their last rows only, and Scans are in-place.
    from pytensor.compile.mode import Mode

    x0, a, b, xs = seed_graph()
    f0 = pt.vector("f0")
    n = pt.iscalar("n")
    fib, _ = pytensor.scan(lambda f2, f1: f1 + f2, n_steps=n,
                           outputs_info=[dict(initial=f0, taps=[-2, -1])])
    # a nit-sot output that depends on a state (so not pushed out of the loop)
    _, squares = pytensor.scan(lambda a_t, y: (y * a_t + 1.0, (y * a_t) ** 2),
                               sequences=[a], outputs_info=[x0, None])[0]
    c, roots = newton_sqrt()
    inputs = [x0, a, b, f0, n, c]
    outputs = [xs[-1], xs[-3:], fib[-1], fib[-2], squares[-2:], roots[-1]]
    function = pytensor.function(inputs, outputs,
                                 mode=Mode(linker="py", optimizer="fast_run"))
    source = transpile.transpile(function.maker.fgraph)
    assert "scan_full_buffer(" in source and "scan_stored(" in source
    from oracle import import_source

    module = import_source(source)
    values = [*seed_values(rng), np.array([0.0, 1.0]), np.int32(12), np.float64(3.0)]
    for k, (got, want) in enumerate(zip(module.kernel(*values), function(*values), strict=True)):
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"output {k}")


def test_compiled_function_with_a_shared_update(rng):
    counter = pytensor.shared(np.zeros(3), name="counter")
    a, x0, xs, new_counter = _counting_scan(counter)
    function = pytensor.function([a, x0], xs, updates={counter: new_counter})
    from oracle import import_source

    module = import_source(transpile.transpile(function))
    values = [rng.normal(size=8), np.float64(1.0), rng.normal(size=3)]
    got_xs, got_counter = module.kernel(*values)
    counter.set_value(values[2])
    np.testing.assert_allclose(got_xs, function(*values[:2]), rtol=1e-12)
    np.testing.assert_allclose(got_counter, counter.get_value(), rtol=1e-12)


def test_sequence_shorter_than_n_steps_is_refused(rng):
    # PyTensor's Scan refuses it (PyTensor 3's default Numba mode runs on past the
    # end without an error); the generated loop must not read past the end.
    a = pt.vector("a")
    n = pt.iscalar("n")
    xs, _ = pytensor.scan(lambda a_t, x: x + a_t, sequences=[a],
                          outputs_info=[pt.constant(0.0, dtype="float64")], n_steps=n)
    module = transpile_module([a, n], [xs])
    with pytest.raises(ValueError):
        pytensor.function([a, n], xs, mode=REFERENCE_MODE)(np.ones(3), np.int32(5))
    with pytest.raises(ValueError, match="shorter"):
        module.kernel(np.ones(3), np.int32(5))


def test_vector_states_from_matrix_products_allocate_nothing_per_step(rng):
    """An RNN step: the products go into arrays allocated once before the loop
    (``np.dot(W, h_tm1, out)``) and the tanh is written straight into ``h[t + 1]``."""
    W, U = pt.matrix("W"), pt.matrix("U")
    xs, h0 = pt.matrix("xs"), pt.vector("h0")
    hs, _ = pytensor.scan(lambda x_t, h: pt.tanh(W @ h + U @ x_t), sequences=[xs],
                          outputs_info=[h0])
    values = [rng.normal(size=(6, 6)) / 3, rng.normal(size=(6, 4)) / 2,
              rng.normal(size=(9, 4)), rng.normal(size=6)]
    module = compare([W, U, xs, h0], [hs], values)
    (body,) = loop_bodies(open(module.__file__).read())
    for alloc in ("np.empty", "np.zeros", "np.full", "np.array", ".copy()", "np.outer"):
        assert alloc not in body, body
    assert "np.dot(" in body
    for call in re.findall(r"np\.dot\(([^()]*)\)", body):
        assert call.count(",") == 2, body  # np.dot(a, b, out)


@BOTH
def test_scratch_arrays_are_not_carried_from_step_to_step(rng, rewrite):
    """A product computed into a reused array becomes an untraced state (rebound,
    not stored in a buffer) and a nit-sot output: each must keep its own copy."""
    v, w = pt.vector("v"), pt.vector("w")
    M = pt.matrix("M")
    op = _scan_op([v, w, M], [M @ w, M.T @ v, (M @ v) * 2], n_untraced_sit_sot=2,
                  n_nit_sot=1, n_non_seqs=1)
    n = pt.iscalar("n")
    v0, w0, A = pt.vector("v0"), pt.vector("w0"), pt.matrix("A")
    outs = op(n, v0, w0, n, A)
    values = [np.int32(4), rng.normal(size=3), rng.normal(size=3),
              rng.normal(size=(3, 3)) / 2]
    compare([n, v0, w0, A], outs, values, rewrite=rewrite)


def test_a_last_state_returned_by_name_keeps_its_name(rng):
    """``root = xs[-1]`` is returned as ``root``.  The states' buffer is named after
    the initial state (``x`` for ``x0``) or, failing that, ``root_trace``; PyTensor 3
    keeps only the last state, in a local named ``root``."""
    x0, c = pt.scalar("x0"), pt.scalar()
    for init, buffer in ((x0, "x"), (c, "root_trace")):
        xs, _ = pytensor.scan(lambda x: x * 0.5 + 1.0, outputs_info=[init], n_steps=6)
        root = xs[-1]
        root.name = "root"
        module = compare([init], [root], [3.0])
        source = open(module.__file__).read()
        assert [row[0] for row in module.OUTPUTS] == ["root"]
        traced = re.search(rf"^    {buffer} = np\.empty", source, re.M)
        untraced = "np.empty" not in source and re.search(r"^        root = ", source, re.M)
        assert traced or untraced, source
