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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import cases  # noqa: E402


def median_time(fn, args, repeat: int, number: int) -> float:
    fn(*args)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn(*args)
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


_CHILD = {
    # Each child imports only what its user would: numpy and the module under test.
    "generated": "import kernels as m; f = m.kernel",
    "hand-written @njit": "import references as m; f = m.REF",
    "pytensor numba": None,
}


def cold_start(case: str, backend: str) -> float:
    """Seconds from process start to the first result, with fresh caches."""
    with tempfile.TemporaryDirectory() as tmp:
        cases.prepare_cold(case, tmp)
        env = dict(os.environ, NUMBA_CACHE_DIR=f"{tmp}/numba",
                   PYTENSOR_FLAGS=f"compiledir={tmp}/pytensor")
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
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])


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


def fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


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
        for backend, (fn, fargs) in backends.items():
            single = median_time(fn, fargs, 1, 1)
            number = max(1, min(2000, int(0.02 / max(single, 1e-7))))
            times[backend] = median_time(fn, fargs, repeat, number)
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


def write_report(rows, cold) -> None:
    import numba
    import pytensor

    backends = list(rows[0][1])
    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (`python bench/run.py`) on the project's 2-core",
        f"machine: numba {numba.__version__}, pytensor {pytensor.__version__}.",
        "Medians of repeated calls after warm-up; in brackets the ratio to the",
        "hand-written `@njit` reference (lower is better).  fastmath is off for the",
        "generated module and the reference; PyTensor's Numba mode uses its default",
        "fastmath flags.  The machine is shared and noisy: compare within a row.",
        "",
        "## Steady state",
        "",
        "| case | " + " | ".join(backends) + " |",
        "| --- |" + " --- |" * len(backends),
    ]
    for name, times in rows:
        cells = [f"{fmt(t)} ({r:.2f}x)" if b in times else "—"
                 for b, (t, r) in ((b, times.get(b, (0, 0))) for b in backends)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if cold:
        lines += ["", "## Cold first call (fresh process, fresh caches)", "",
                  "| case | " + " | ".join(cases.COLD_BACKENDS) + " |",
                  "| --- |" + " --- |" * len(cases.COLD_BACKENDS)]
        for name, vals in cold.items():
            lines.append(f"| {name} | " + " | ".join(fmt(vals[b]) for b in cases.COLD_BACKENDS) + " |")
    lines.append("")
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(lines))
    (ROOT / "bench" / "results.json").write_text(json.dumps({"rows": rows, "cold": cold}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
