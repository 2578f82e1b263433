"""Scale: transpile time against graph size, module size and compile time against data
size, first call against graph size; this project and PyTensor's Numba mode side by side.

    python bench/scale.py            # writes "## Scale" of docs/benchmarks.md and
                                     # docs/scale-*.png (make bench-scale)
    python bench/scale.py --quick    # smaller sizes, one repeat (a smoke run)

Graphs: an L-layer ``tanh(h @ w) + 0.1 * h`` network with its gradient (about 16 nodes
a layer) and a long elementwise chain (4 nodes a step); ``(x * C).sum()`` with a
constant ``C`` of n float64s for the data rows.  Transpile times are in this process
after a warm-up transpile (imports excluded); first calls are fresh processes with
empty Numba and PyTensor caches, timed from process start to the first result.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.setrecursionlimit(100_000)  # pytensor.grad recurses once per layer

if __name__ == "__main__":  # fresh caches for this run (children import this module)
    _CACHES = tempfile.mkdtemp(prefix="transpile-scale-")
    os.environ["NUMBA_CACHE_DIR"] = f"{_CACHES}/numba"
    os.environ["PYTENSOR_FLAGS"] = ",".join(filter(None, [
        os.environ.get("PYTENSOR_FLAGS"), f"base_compiledir={_CACHES}/pytensor"]))

import numpy as np  # noqa: E402
import pytensor  # noqa: E402
import pytensor.tensor as pt  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from timing import fmt, replace_section  # noqa: E402

SECTION = "## Scale"


# ---- graphs ------------------------------------------------------------------------


def mlp_graph(layers: int):
    x = pt.matrix("x")
    ws = [pt.matrix(f"w{i}") for i in range(layers)]
    h = x
    for w in ws:
        h = pt.tanh(h @ w) + 0.1 * h
    loss = h.sum()
    return [x, *ws], [loss, *pytensor.grad(loss, ws)]


def chain_graph(steps: int):
    x = pt.vector("x")
    h = x
    for i in range(steps):
        h = pt.sin(h) + 0.5 * h if i % 2 else pt.exp(-h * h) - h
    return [x], [h]


def data_graph(data: np.ndarray):
    x = pt.vector("x")
    return [x], [(x * pt.constant(data, name="C")).sum()]


GRAPHS = {"mlp": (mlp_graph, 16), "chain": (chain_graph, 4)}  # builder, nodes per unit


def mlp_args(layers: int):
    rng = np.random.default_rng(0)
    return [rng.normal(size=(8, 8)), *(rng.normal(size=(8, 8)) / 4 for _ in range(layers))]


# ---- transpile time ----------------------------------------------------------------


def time_transpile(graph, repeat: int, others: bool = True) -> dict:
    """Median seconds of lowering + assembling + formatting without rewrites, of
    PyTensor's rewrites (as transpile runs them) and of the same on the rewritten
    graph; and of ``pytensor.function(..., mode="NUMBA")`` (its rewrites and code
    generation; Numba compiles at the first call)."""
    from transpile.assemble import Options, generate_module
    from transpile.load import load_object
    from transpile.rewrite import rewrite

    times = {"emit": [], "rewrite": [], "emit rewritten": [], "pytensor.function": []}
    nodes = lines = 0
    for _ in range(repeat):
        with pytensor.config.change_flags(cxx=""):
            loaded = load_object(graph())
            nodes = len(loaded.fgraph.apply_nodes)
            start = time.perf_counter()
            source, _ = generate_module(loaded, Options(rewrite=False, data_file="d.npz"))
            times["emit"].append(time.perf_counter() - start)
            lines = source.count("\n")
            if not others:
                continue
            loaded = load_object(graph())
            start = time.perf_counter()
            rewrite(loaded.fgraph)
            times["rewrite"].append(time.perf_counter() - start)
            start = time.perf_counter()
            generate_module(loaded, Options(rewrite=False, data_file="d.npz"))
            times["emit rewritten"].append(time.perf_counter() - start)
        if not others:
            continue
        inputs, outputs = graph()
        start = time.perf_counter()
        pytensor.function(inputs, outputs, mode="NUMBA")
        times["pytensor.function"].append(time.perf_counter() - start)
    out = {k: statistics.median(v) if v else None for k, v in times.items()}
    out.update(nodes=nodes, lines=lines)
    return out


# ---- fresh processes ---------------------------------------------------------------

_CHILD = """
def peak_mb():  # this process's peak resident memory (ru_maxrss survives exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
import json, sys, time
t0 = time.perf_counter()
sys.setrecursionlimit(100000)
sys.path[:0] = [{tmp!r}, {bench!r}]
import numpy as np
args = list(np.load({tmp!r} + "/args.npz").values())
{body}
print(json.dumps({{"first call": time.perf_counter() - t0, "built": built - t0,
                  "rss": peak_mb()}}))
"""
_OURS = "import kernels\nbuilt = time.perf_counter()\nkernels.kernel(*args)"
_PYTENSOR = """
import pytensor, scale
{graph}
f = pytensor.function(inputs, outputs, mode="NUMBA")
built = time.perf_counter()
f(*args)
"""


def fresh_process(tmp: str, body: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=f"{tmp}/numba",
               PYTENSOR_FLAGS=f"base_compiledir={tmp}/pytensor")
    code = _CHILD.format(tmp=tmp, bench=str(ROOT / "bench"), body=body)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_calls(graph_code: str, graph, args) -> dict:
    """Fresh-process first calls of the transpiled module and of PyTensor's Numba
    mode (which builds its function in the process: that is its transpile)."""
    import transpile

    with tempfile.TemporaryDirectory() as tmp:
        np.savez(f"{tmp}/args.npz", *args)
        start = time.perf_counter()
        transpile.transpile(graph(), output=f"{tmp}/kernels.py")
        transpiled = time.perf_counter() - start
        data = Path(f"{tmp}/kernels.npz")
        sizes = {"module bytes": Path(f"{tmp}/kernels.py").stat().st_size,
                 "data bytes": data.stat().st_size if data.exists() else 0}
        ours = fresh_process(tmp, _OURS)
        theirs = fresh_process(tmp, _PYTENSOR.format(graph=graph_code))
    return {"transpile": transpiled, **sizes, "ours": ours, "pytensor": theirs}


# ---- the run -----------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--max-data", type=int, default=7, help="largest data, 10^k")
    parser.add_argument("--repeat", type=int, default=3, help="transpile timings")
    parser.add_argument("--max-nodes", type=int, default=10_000)
    parser.add_argument("--full", action="store_true",
                        help="rewrites and pytensor.function at 10,000 nodes too")
    parser.add_argument("--first-call-nodes", type=int, nargs="*", default=[100, 1000])
    opts = parser.parse_args()
    import transpile

    transpile.transpile(chain_graph(2))  # imports and registrations, once
    sizes = [n for n in (100, 1000, 10_000) if n <= (1000 if opts.quick else opts.max_nodes)]
    repeat = 1 if opts.quick else opts.repeat
    results = {"nodes": {}, "data": {}, "first": {}}
    for kind, (build, per) in GRAPHS.items():
        for n in sizes:
            units = max(1, n // per)
            big = n >= 10_000
            r = time_transpile(lambda b=build, u=units: b(u), 1 if big else repeat,
                               others=opts.full or not big)
            results["nodes"][f"{kind} {n}"] = r
            print(kind, n, r, flush=True)
    for k in range(3, (5 if opts.quick else opts.max_data) + 1):
        n = 10**k
        rng = np.random.default_rng(k)
        with tempfile.TemporaryDirectory() as tmp:
            np.save(f"{tmp}/C.npy", rng.normal(size=n))
            code = (f"C = np.load({tmp + '/C.npy'!r}); "
                    "inputs, outputs = scale.data_graph(C)")
            data = np.load(f"{tmp}/C.npy")
            r = first_calls(code, lambda d=data: data_graph(d), [np.ones(n)])
        results["data"][n] = r
        print("data", n, r, flush=True)
    for n in ([100] if opts.quick else opts.first_call_nodes):
        layers = max(1, n // 16)
        code = f"inputs, outputs = scale.mlp_graph({layers})"
        r = first_calls(code, lambda u=layers: mlp_graph(u), mlp_args(layers))
        results["first"][n] = r
        print("first call", n, r, flush=True)
    (ROOT / "bench" / "scale.json").write_text(json.dumps(results, indent=1))
    plot(results)
    write_section(results)
    return 0


def plot(results) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for kind in GRAPHS:
        rows = [r for key, r in results["nodes"].items() if key.startswith(kind)]
        n = [r["nodes"] for r in rows]
        ax.loglog(n, [r["emit"] for r in rows], "o-", label=f"transpile, {kind}")
        done = [r for r in rows if r["rewrite"] is not None]
        ax.loglog([r["nodes"] for r in done], [r["rewrite"] for r in done], "s:",
                  label=f"rewrites, {kind}")
        ax.loglog([r["nodes"] for r in done], [r["pytensor.function"] for r in done],
                  "^--", label=f"pytensor.function NUMBA, {kind}")
    ax.loglog([100, 10_000], [0.1, 10], "k-", lw=0.5, label="1 s per 1,000 nodes")
    _finish(ax, fig, "graph nodes", "seconds", "scale-nodes.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    n = list(results["data"])
    rows = list(results["data"].values())
    ax.loglog(n, [r["transpile"] for r in rows], "o-", label="transpile")
    ax.loglog(n, [r["ours"]["first call"] for r in rows], "s-",
              label="generated: first call, fresh process")
    ax.loglog(n, [r["pytensor"]["first call"] for r in rows], "^--",
              label="PyTensor Numba: build + first call, fresh process")
    ax2 = ax.twinx()
    ax2.loglog(n, [r["module bytes"] for r in rows], "k:", label="module bytes")
    ax2.set_ylabel("module bytes (dotted)")
    _finish(ax, fig, "constant elements", "seconds", "scale-data.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    rows = list(results["first"].values())
    n = [int(k) for k in results["first"]]
    ax.loglog(n, [r["ours"]["first call"] for r in rows], "s-", label="generated")
    ax.loglog(n, [r["pytensor"]["first call"] for r in rows], "^--",
              label="PyTensor Numba mode")
    _finish(ax, fig, "graph nodes (network + gradient)",
            "seconds to first result, fresh process", "scale-first-call.png")


def _finish(ax, fig, xlabel, ylabel, name) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    ax.grid(True, which="both", lw=0.3)
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / name, dpi=100)


def _fmt(seconds) -> str:
    return "not run" if seconds is None else fmt(seconds)


def write_section(results) -> None:
    import numba

    lines = [
        SECTION, "",
        "Produced by `make bench-scale` (`python bench/scale.py`, a separate run from",
        f"the tables above, same machine): numba {numba.__version__}, pytensor "
        f"{pytensor.__version__}.  The machine is shared and noisy; every number",
        "below comes from this one run.  Transpile times are medians of three (one at",
        "10,000 nodes), in-process after a warm-up transpile, so imports are not",
        "counted; first calls are fresh processes with empty caches.", "",
        "### Transpile time against graph size", "",
        "Nodes before rewrites.  *transpile*: lowering + assembling + formatting,",
        "without rewrites (the target: at most 1 s per 1,000 nodes).  *rewrites*:",
        "PyTensor's rewrites as transpile runs them, and *after rewrites* the",
        "transpile of the rewritten graph.  *pytensor.function*: PyTensor's Numba",
        "mode building its function (its rewrites and code generation; Numba",
        "compiles at the first call).", "",
        "| graph | nodes | module lines | transpile | per 1,000 nodes | rewrites | "
        "after rewrites | pytensor.function (NUMBA) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, r in results["nodes"].items():
        lines.append(f"| {key.split()[0]} | {r['nodes']:,} | {r['lines']:,} | "
                     f"{fmt(r['emit'])} | {fmt(r['emit'] / r['nodes'] * 1000)} | "
                     f"{_fmt(r['rewrite'])} | {_fmt(r['emit rewritten'])} | "
                     f"{_fmt(r['pytensor.function'])} |")
    lines += [
        "", "![transpile time against nodes](scale-nodes.png)", "",
        "### Data size", "",
        "`(x * C).sum()` with a float64 constant `C` of n elements: arrays over 64",
        "elements go to the `.npz` beside the module and reach the compiled code as",
        "arguments.  *first call*: a fresh process with empty caches, from its start",
        "to the first result (for PyTensor this includes `pytensor.function`, built",
        "in that process; for the generated module, importing it and loading the",
        "data).  Peak RSS of that process in MB.", "",
        "| elements | transpile | module | data file | generated first call | "
        "PyTensor Numba first call | RSS generated | RSS PyTensor |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n, r in results["data"].items():
        lines.append(f"| {int(n):,} | {fmt(r['transpile'])} | {r['module bytes']:,} B | "
                     f"{r['data bytes']:,} B | {fmt(r['ours']['first call'])} | "
                     f"{fmt(r['pytensor']['first call'])} | {r['ours']['rss']:.0f} | "
                     f"{r['pytensor']['rss']:.0f} |")
    lines += [
        "", "![time and module size against data](scale-data.png)", "",
        "### First call against graph size", "",
        "The network and its gradient, rewrites on (the default), 8x8 matrices; a",
        "fresh process with empty caches.  *import*: the generated module's import",
        "(or PyTensor importing, building the graph and `pytensor.function`); the",
        "rest of the first call is Numba compiling.", "",
        "| nodes | transpile | generated: import | generated: first call | "
        "PyTensor: build | PyTensor: first call |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for n, r in results["first"].items():
        lines.append(f"| {int(n):,} | {fmt(r['transpile'])} | {fmt(r['ours']['built'])} | "
                     f"{fmt(r['ours']['first call'])} | {fmt(r['pytensor']['built'])} | "
                     f"{fmt(r['pytensor']['first call'])} |")
    lines += ["", "![first call against nodes](scale-first-call.png)", ""]
    text = "\n".join(lines)
    replace_section(ROOT / "docs" / "benchmarks.md", SECTION, text)


if __name__ == "__main__":
    sys.exit(main())
