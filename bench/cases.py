"""The benchmark cases: graphs, inputs, and a hand-written @njit reference for each."""

from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt

import transpile

ROOT = Path(__file__).resolve().parent.parent
rng = np.random.default_rng(0)


from references import (  # noqa: E402
    ref_add,
    ref_chain,
    ref_logreg,
    ref_rnn,
    ref_rnn_grad,
    ref_seed,
    ref_softmax,
)
from timing import import_file  # noqa: E402

# ---- graphs ----------------------------------------------------------------------


def seed_graph():
    x0 = pt.scalar("x0")
    a = pt.vector("a")
    b = pt.vector("b")
    xs, _ = pytensor.scan(lambda a_t, b_t, x: x * a_t + b_t, sequences=[a, b],
                          outputs_info=[x0])
    return [x0, a, b], [xs]


def chain_graph():
    x = pt.vector("x")
    return [x], [pt.exp(-x**2) * pt.sin(x) + pt.log1p(pt.abs(x))]


def logreg_graph():
    X, y, w, b = pt.matrix("X"), pt.vector("y"), pt.vector("w"), pt.scalar("b")
    p = pt.sigmoid(X @ w + b)
    loss = -pt.mean(y * pt.log(p) + (1 - y) * pt.log(1 - p))
    return [X, y, w, b], [loss, *pytensor.grad(loss, [w, b])]


def softmax_graph():
    x = pt.matrix("x")
    return [x], [pt.special.softmax(x, axis=1), pt.logsumexp(x, axis=1)]


def add_graph():
    a, b = pt.scalar("a"), pt.scalar("b")
    return [a, b], [a + b]


def rnn_graph(grad: bool):
    W, U = pt.matrix("W"), pt.matrix("U")
    xs, h0 = pt.matrix("xs"), pt.vector("h0")
    hs, _ = pytensor.scan(lambda x_t, h: pt.tanh(W @ h + U @ x_t), sequences=[xs],
                          outputs_info=[h0])
    h_last = hs[-1]
    outputs = [h_last, pytensor.grad(h_last.sum(), W)] if grad else [h_last]
    return [W, U, xs, h0], outputs


def rnn_args():
    return [rng.normal(size=(32, 32)) / 6, rng.normal(size=(32, 16)) / 4,
            rng.normal(size=(200, 16)), np.zeros(32)]


CASES = {
    "seed scan, 10^5 steps": (seed_graph, lambda: [0.5, rng.uniform(-1, 1, 10**5),
                                                    rng.normal(size=10**5)], ref_seed),
    "seed scan, 100 steps": (seed_graph, lambda: [0.5, rng.uniform(-1, 1, 100),
                                                   rng.normal(size=100)], ref_seed),
    "RNN forward, hidden 32, input 16, 200 steps": (lambda: rnn_graph(False), rnn_args,
                                                     ref_rnn),
    "RNN forward + grad wrt W": (lambda: rnn_graph(True), rnn_args, ref_rnn_grad),
    "elementwise chain, 10^6": (chain_graph, lambda: [rng.normal(size=10**6)], ref_chain),
    "logistic regression loss+grad, X 1000x50": (
        logreg_graph, lambda: [rng.normal(size=(1000, 50)),
                               (rng.random(1000) > 0.5).astype(float),
                               rng.normal(size=50), 0.1], ref_logreg),
    "row softmax + logsumexp, 500x1000": (softmax_graph,
                                          lambda: [rng.normal(size=(500, 1000))], ref_softmax),
    "scalar add (call overhead)": (add_graph, lambda: [1.0, 2.0], ref_add),
}
COLD_CASES = list(CASES)  # every case's first call, in fresh processes
COLD_BACKENDS = ["generated", "pytensor numba", "hand-written @njit"]


def generated_module(name: str, inputs, outputs, directory: Path | None = None,
                     parallel: bool = False):
    source = transpile.transpile((inputs, outputs), parallel=parallel)
    directory = directory or ROOT / "bench" / "results"
    directory.mkdir(parents=True, exist_ok=True)
    stem = "gen_" + "".join(c if c.isalnum() else "_" for c in name)
    stem += "_parallel" if parallel else ""
    path = directory / f"{stem}.py"
    if not path.exists() or path.read_text() != source:
        path.write_text(source)
    module = import_file(path, stem)
    return module


def build(name: str) -> dict:
    graph, make_args, ref = CASES[name]
    inputs, outputs = graph()
    args = make_args()
    module = generated_module(name, inputs, outputs)
    out = outputs if len(outputs) > 1 else outputs[0]
    numba_fn = pytensor.function(inputs, out, mode="NUMBA", trust_input=True)
    # PyTensor's Numba mode compiles with fastmath by default; the generated module
    # and the reference do not, so this column compares like with like.
    with pytensor.config.change_flags(numba__fastmath=False):
        strict_fn = pytensor.function(inputs, out, mode="NUMBA", trust_input=True)
    c_fn = pytensor.function(inputs, out, mode=pytensor.compile.mode.Mode(
        linker="cvm", optimizer="fast_run"), trust_input=True)
    pt_args = [np.asarray(a) for a in args]
    parallel = generated_module(name, inputs, outputs, parallel=True)
    backends = {
        "generated": (module.kernel, args),
        "generated --parallel": (parallel.kernel, args),
        "pytensor numba": (numba_fn, pt_args),
        "pytensor numba, fastmath off": (strict_fn, pt_args),
        "pytensor C (cvm)": (c_fn, pt_args),
        "hand-written @njit": (ref, args),
    }
    if graph in NUMPY:
        backends["numpy"] = (NUMPY[graph], args)
    return backends


def _numpy_logreg(X, y, w, b):
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    r = (p - y) / y.shape[0]
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return loss, r @ X, r.sum()


def _numpy_softmax(x):
    m = x.max(axis=1, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(axis=1, keepdims=True)
    return e / s, (m + np.log(s))[:, 0]


NUMPY = {
    chain_graph: lambda x: np.exp(-x**2) * np.sin(x) + np.log1p(np.abs(x)),
    logreg_graph: _numpy_logreg,
    softmax_graph: _numpy_softmax,
    add_graph: lambda a, b: a + b,
}


def first_call(name: str, backend: str, tmp: str) -> None:
    """PyTensor's first call on case ``name`` (run in a fresh process)."""
    args = [np.load(Path(tmp) / "args.npz")[f"a{k}"] for k in range(len(CASES[name][1]()))]
    inputs, outputs = CASES[name][0]()
    pytensor.function(inputs, outputs if len(outputs) > 1 else outputs[0],
                      mode="NUMBA")(*args)


def prepare_cold(name: str, tmp: str) -> None:
    """Write the case's arguments and its generated module (the vendored file)."""
    inputs, outputs = CASES[name][0]()
    args = CASES[name][1]()
    np.savez(Path(tmp) / "args.npz", **{f"a{k}": np.asarray(a) for k, a in enumerate(args)})
    (Path(tmp) / "kernels.py").write_text(transpile.transpile((inputs, outputs)))
