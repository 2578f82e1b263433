"""Benchmarks: the generated module against PyTensor's Numba and C backends, NumPy
and a hand-written @njit reference, side by side in one run.

    python bench/run.py                 # writes docs/benchmarks.md
    python bench/run.py --quick         # fewer repetitions

Steady state: median of repeated calls after warm-up.  Cold: the first call in a
fresh process with empty Numba and PyTensor caches (import + compile + run).  All
Numba code here runs without fastmath (the generated module's default); PyTensor's
Numba mode is run with its default fastmath flags and with fastmath off.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

# Fresh Numba and PyTensor caches for this run (set before PyTensor is imported): a
# cache another run left behind can be stale (PyTensor's on-disk Numba cache then
# fails to load "<dynamic>" modules), and the cold-start children make their own.
_CACHES = tempfile.mkdtemp(prefix="transpile-bench-")
os.environ["NUMBA_CACHE_DIR"] = f"{_CACHES}/numba"
os.environ["PYTENSOR_FLAGS"] = ",".join(
    filter(None, [os.environ.get("PYTENSOR_FLAGS"), f"base_compiledir={_CACHES}/pytensor"]))

import cases  # noqa: E402
from timing import fmt, median_time  # noqa: E402

_CHILD = {
    # Each child imports only what its user would: numpy and the module under test.
    "generated": "import kernels as m; f = m.kernel",
    "hand-written @njit": "import references as m; f = m.REF",
    "pytensor numba": None,
}


def cold_start(case: str, backend: str) -> tuple[float, float]:
    """Seconds from process start to the first result: with fresh caches (cold),
    then in a second process with the caches the first one left (warm)."""
    with tempfile.TemporaryDirectory() as tmp:
        cases.prepare_cold(case, tmp)
        env = dict(os.environ, NUMBA_CACHE_DIR=f"{tmp}/numba",
                   PYTENSOR_FLAGS=f"base_compiledir={tmp}/pytensor")
        n_args = len(cases.CASES[case][1]())
        load = (f"import numpy as np; d = np.load({tmp!r} + '/args.npz'); "
                f"args = [d[f'a{{k}}'] for k in range({n_args})]; ")
        if _CHILD[backend] is None:
            body = (f"import cases; cases.first_call({case!r}, {backend!r}, {tmp!r})")
        else:
            ref = cases.CASES[case][2].__name__
            body = _CHILD[backend].replace("REF", ref) + "; f(*args)"
        code = ("import time; t0 = time.perf_counter(); import sys; "
                f"sys.path[:0] = [{tmp!r}, {str(ROOT / 'bench')!r}]; "
                + (load if _CHILD[backend] else "") + body
                + "; print(time.perf_counter() - t0)")
        # The references module lives in bench/: its cache goes to NUMBA_CACHE_DIR
        # like everything else, so the first child compiles it from scratch too.
        times = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", code], env=env,
                                 capture_output=True, text=True, check=True)
            times.append(float(out.stdout.strip().splitlines()[-1]))
        return times[0], times[1]


def check_agreement(name, backends) -> None:
    """Every backend must compute what the reference computes before it is timed."""
    import numpy as np

    def first(result):
        return np.asarray(result[0] if isinstance(result, (tuple, list)) else result)

    ref_fn, ref_args = backends["hand-written @njit"]
    want = first(ref_fn(*ref_args))
    for backend, (fn, args) in backends.items():
        got = first(fn(*args))
        if not np.allclose(got, want, rtol=1e-6, atol=1e-8):
            raise SystemExit(f"{name}: {backend} disagrees with the reference")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-cold", action="store_true")
    args = parser.parse_args()
    repeat = 5 if args.quick else 15
    rows = []
    for name in cases.CASES:
        backends = cases.build(name)
        check_agreement(name, backends)
        times = {}
        # Interleaved rounds: a load spike on the shared machine hits every backend.
        for _ in range(3):
            for backend, (fn, fargs) in backends.items():
                times.setdefault(backend, []).append(
                    median_time(fn, fargs, repeat, max_number=2000))
        times = {b: statistics.median(t) for b, t in times.items()}
        ref = times["hand-written @njit"]
        rows.append((name, {b: (t, t / ref) for b, t in times.items()}))
        print(name, {b: fmt(t) for b, t in times.items()}, flush=True)
    cold = {}
    if not args.no_cold:
        for name in cases.COLD_CASES:
            cold[name] = {b: cold_start(name, b) for b in cases.COLD_BACKENDS}
            print("cold", name, cold[name], flush=True)
    write_report(rows, cold)
    return 0


BACKENDS = ["generated", "generated --parallel", "pytensor numba",
            "pytensor numba, fastmath off",
            "pytensor C (cvm)", "numpy", "hand-written @njit"]
PYMC_SECTION = "## PyMC models"  # written by bench/pymc_bench.py, kept as it is


def write_report(rows, cold) -> None:
    import numba
    import pytensor

    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (`python bench/run.py`) on the project's 2-core",
        f"machine: numba {numba.__version__}, pytensor {pytensor.__version__}.",
        "Medians of repeated calls after warm-up (three interleaved rounds of every",
        "backend, the median of the rounds); in brackets the ratio to the hand-written",
        "`@njit` reference (lower is better).  fastmath is off for the generated",
        "module and the reference.  PyTensor's Numba mode compiles with fastmath by",
        "default; the column \"fastmath off\" is the same mode with",
        "`numba__fastmath=False`, the like-for-like comparison.  The machine is shared",
        "and noisy: compare within a row.  \"generated --parallel\" is the module",
        "transpiled with `--parallel` (loops of 16,384 elements or more over",
        "`numba.prange`, on both cores; docs/usage.md).",
        "",
        "## Steady state",
        "",
        "| case | " + " | ".join(BACKENDS) + " |",
        "| --- |" + " --- |" * len(BACKENDS),
    ]
    for name, times in rows:
        cells = [f"{fmt(times[b][0])} ({times[b][1]:.2f}x)" if b in times else "—"
                 for b in BACKENDS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if cold:
        lines += ["", "## First call in a fresh process", "",
                  "Seconds from process start (imports included) to the first result.",
                  "Cold: empty Numba cache and PyTensor base_compiledir.  Warm: a second",
                  "process with the caches the first one left (`cache=True`: what a",
                  "vendored module costs from its second run on).", "",
                  "| case | " + " | ".join(f"{b} cold | {b} warm"
                                          for b in cases.COLD_BACKENDS) + " |",
                  "| --- |" + " --- | --- |" * len(cases.COLD_BACKENDS)]
        for name, vals in cold.items():
            lines.append(f"| {name} | " + " | ".join(
                f"{fmt(vals[b][0])} | {fmt(vals[b][1])}" for b in cases.COLD_BACKENDS)
                + " |")
    lines += ["", "## Against the targets (from this run)", "",
              "Targets: steady state within 1.25x of the hand-written reference, cold",
              "first call within 2x of the hand-written one.", ""]
    for name, times in rows:
        ratio = times["generated"][1]
        numba_ratio = times["pytensor numba"][0] / times["generated"][0]
        lines.append(f"- {name}: {ratio:.2f}x the reference "
                     f"({'met' if ratio <= 1.25 else 'not met'}); PyTensor's Numba mode "
                     f"takes {numba_ratio:.1f}x the generated module's time.")
    for name, vals in cold.items():
        ratio = vals["generated"][0] / vals["hand-written @njit"][0]
        lines.append(f"- cold first call, {name}: {ratio:.2f}x the hand-written "
                     f"reference ({'met' if ratio <= 2 else 'not met'}); PyTensor's "
                     f"Numba mode {vals['pytensor numba'][0] / vals['generated'][0]:.1f}x "
                     "the generated module's.")
    text = "\n".join(lines) + "\n"
    path = ROOT / "docs" / "benchmarks.md"
    old = path.read_text() if path.exists() else ""
    if PYMC_SECTION in old:
        text += "\n" + PYMC_SECTION + old.split(PYMC_SECTION, 1)[1]
    path.write_text(text)
    (ROOT / "bench" / "results.json").write_text(
        json.dumps({"rows": rows, "cold": cold}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
