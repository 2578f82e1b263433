"""PyMC models: logp + dlogp of the module ``transpile.pymc.from_pymc`` writes,
against PyTensor's Numba and C backends and (eight schools) a hand-written @njit
function.

    python bench/pymc_bench.py            # runs, prints, and writes the section
                                          # "## PyMC models" of docs/benchmarks.md
    python bench/pymc_bench.py --quick    # fewer repetitions
    python bench/pymc_bench.py --no-write # print only

Steady state: median over repeats of the mean time of one ``logp, dlogp`` call at a
point near the initial point, after warm-up, every backend in the same run.
PyTensor's functions are PyMC's own (``model.compile_fn`` on ``model.logp()`` and
``model.dlogp()``, inputs ``model.value_vars``) with ``trust_input=True``, as PyMC's
samplers call them.  Cold: seconds from a fresh process's start to the first result,
with an empty NUMBA_CACHE_DIR (and, for PyTensor, an empty compile directory).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]

import math  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
from timing import fmt, import_file, median_time, replace_section  # noqa: E402

MODELS = {
    "eight_schools_noncentered": "eight schools, non-centered (10 parameters)",
    "linreg_halfnormal": "linear regression, X 200x5, HalfNormal scale (7 parameters)",
    "negbin_glm": "negative-binomial GLM, X 300x3 (5 parameters)",
}
# Cold first calls: three zoo models of different sizes (value variables; nodes of
# the logp + dlogp graph after PyTensor's rewrites are printed by the run).
COLD = {
    "eight_schools_noncentered": "eight schools, non-centered",
    "negbin_glm": "negative-binomial GLM",
    "gp_marginal": "GP marginal likelihood (pm.gp.Marginal, 30 points)",
}
SECTION = "## PyMC models"

# ---- the hand-written reference: eight schools, non-centered ----------------------

_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
_INV_SIGMA = 1.0 / np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
_LOG_2PI = math.log(2.0 * math.pi)
# Every constant term: mu's and tau's priors, theta_t's and the likelihood's.
_CONST = (-0.5 * _LOG_2PI - math.log(5.0) + math.log(2.0) - math.log(math.pi)
          - math.log(5.0) - 16 * 0.5 * _LOG_2PI + float(np.log(_INV_SIGMA).sum()))


@numba.njit(cache=True)
def eight_schools_logp_dlogp(mu, tau_log, theta_t):
    """mu ~ N(0, 5), tau ~ HalfCauchy(5) (tau = exp(tau_log)), theta_t ~ N(0, 1),
    y ~ N(mu + tau * theta_t, sigma): the log-density and its gradient, one pass."""
    tau = math.exp(tau_log)
    u = tau / 5.0
    logp = _CONST - 0.5 * (mu / 5.0) ** 2 - math.log1p(u * u) + tau_log
    grad = np.empty(10)
    g_mu = -mu / 25.0
    g_tau = 0.0
    for j in range(8):
        t = theta_t[j]
        r = (_Y[j] - mu - tau * t) * _INV_SIGMA[j]
        logp -= 0.5 * (t * t + r * r)
        w = r * _INV_SIGMA[j]
        g_mu += w
        g_tau += w * t
        grad[2 + j] = w * tau - t
    grad[0] = g_mu
    grad[1] = (g_tau - 2.0 * u / 5.0 / (1.0 + u * u)) * tau + 1.0
    return logp, grad


# ---- building the backends ----------------------------------------------------------


def build(name: str, folder: Path):
    """{backend: (function, args)} for zoo model ``name``."""
    from pytensor.compile.mode import Mode
    from test_pymc_zoo import ZOO

    from transpile.pymc import from_pymc

    model = ZOO[name]()
    path = folder / f"gen_{name}.py"  # with its data file, where it has one
    from_pymc(model, path)
    module = import_file(path, f"gen_{name}")
    rng = np.random.default_rng(5)
    start = model.initial_point()
    args = [np.asarray(start[v.name] + rng.normal(scale=0.3, size=start[v.name].shape),
                       dtype=v.dtype) for v in model.value_vars]
    outs = [model.logp(), model.dlogp()]
    # The Numba functions take scalars as Python floats (what a caller would pass),
    # PyTensor's functions with trust_input=True need 0-d arrays.
    plain = [a.item() if a.ndim == 0 else a for a in args]
    backends = {"generated": (module.logp_dlogp, plain)}
    for label, mode in (("pytensor numba", "NUMBA"),
                        ("pytensor C (cvm)", Mode(linker="cvm", optimizer="fast_run"))):
        fn = model.compile_fn(outs, inputs=model.value_vars, mode=mode, point_fn=False)
        fn.trust_input = True
        backends[label] = (fn, args)
    if name == "eight_schools_noncentered":
        backends["hand-written @njit"] = (eight_schools_logp_dlogp, plain)
    return backends


def check_agreement(name: str, backends) -> None:
    """Every backend computes the generated module's values before it is timed."""
    fn, args = backends["generated"]
    want_logp, want_grad = fn(*args)
    for backend, (fn, args) in backends.items():
        logp, grad = fn(*args)
        ok = np.allclose(logp, want_logp, rtol=1e-7) and np.allclose(
            grad, want_grad, rtol=1e-7, atol=1e-9)
        if not ok:
            raise SystemExit(f"{name}: {backend} disagrees with the generated module: "
                             f"{logp} vs {want_logp}")


# ---- cold first call --------------------------------------------------------------


def cold_generated(name: str) -> tuple[list[float], int]:
    """A fresh process importing zoo model ``name``'s module (and its data file) and
    calling logp_dlogp once at the initial point, with an empty Numba cache; then the
    same with the cache that run filled.  Also the module's length in lines."""
    from test_pymc_zoo import ZOO

    from transpile.pymc import from_pymc

    model = ZOO[name]()
    start = model.initial_point()
    args = [np.asarray(start[v.name], dtype=v.dtype) for v in model.value_vars]
    with tempfile.TemporaryDirectory() as tmp:
        source = from_pymc(model, Path(tmp) / "model_logp.py")
        np.savez(Path(tmp) / "args.npz", *args)
        env = dict(os.environ, NUMBA_CACHE_DIR=f"{tmp}/numba")
        code = ("import time; t0 = time.perf_counter(); import sys; "
                f"sys.path.insert(0, {tmp!r}); import numpy as np; "
                f"d = np.load({tmp!r} + '/args.npz'); "
                f"args = [d[f'arr_{{k}}'] for k in range({len(args)})]; "
                "import model_logp; model_logp.logp_dlogp(*args); "
                "print(time.perf_counter() - t0)")
        times = []
        for _ in range(2):  # fresh cache, then the cache the first run wrote
            out = subprocess.run([sys.executable, "-c", code], env=env,
                                 capture_output=True, text=True, check=True)
            times.append(float(out.stdout.strip().splitlines()[-1]))
        return times, source.count("\n")


def cold_pytensor(name: str) -> float:
    """A fresh process building the model with PyMC and calling its Numba-mode
    logp + dlogp function once, with empty Numba and PyTensor caches."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=f"{tmp}/numba",
                   PYTENSOR_FLAGS=f"base_compiledir={tmp}/pytensor")
        code = (
            "import time; t0 = time.perf_counter(); import sys; "
            f"sys.path[:0] = [{str(ROOT / 'tests')!r}]; "
            "import warnings; warnings.simplefilter('ignore'); "
            f"from test_pymc_zoo import ZOO; model = ZOO[{name!r}](); "
            "fn = model.compile_fn([model.logp(), model.dlogp()], "
            "inputs=model.value_vars, mode='NUMBA', point_fn=False); "
            "p = model.initial_point(); fn(*[p[v.name] for v in model.value_vars]); "
            "print(time.perf_counter() - t0)")
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])


# ---- the report -------------------------------------------------------------------


def report(rows, cold) -> str:
    import pymc
    import pytensor

    backends = ["generated", "pytensor numba", "pytensor C (cvm)", "hand-written @njit"]
    lines = [
        SECTION,
        "",
        "Produced by `python bench/pymc_bench.py` (a separate run from the tables",
        f"above, same machine): numba {numba.__version__}, pytensor "
        f"{pytensor.__version__}, pymc {pymc.__version__}.  One `logp, dlogp` call at",
        "a point near the initial point: the generated module's `logp_dlogp`",
        "(`transpile.pymc.from_pymc`, rewrites on, fastmath off) against PyMC's own",
        "compiled function of `model.logp()` and `model.dlogp()` (`model.compile_fn`,",
        "`trust_input=True`, as PyMC's samplers call it) in PyTensor's Numba mode and",
        "C mode (`Mode(linker=\"cvm\", optimizer=\"fast_run\")`), and for eight",
        "schools a hand-written `@njit` function computing the same log-density and",
        "gradient in one pass.  Medians of repeated calls after warm-up; in brackets",
        "the ratio to the generated module (lower is faster).",
        "",
        "| model | " + " | ".join(backends) + " |",
        "| --- |" + " --- |" * len(backends),
    ]
    for name, times in rows:
        gen = times["generated"]
        cells = [f"{fmt(times[b])} ({times[b] / gen:.2f}x)" if b in times else "—"
                 for b in backends]
        lines.append(f"| {MODELS[name]} | " + " | ".join(cells) + " |")
    if cold:
        lines += [
            "",
            "Cold first calls in a fresh process, for three models of different sizes:",
            "the generated module (import numpy and the module, compile, call) with an",
            "empty Numba cache, then again with the cache that run wrote",
            "(`cache=True`: what a vendored module costs from the second process on);",
            "against PyMC importing, building the model and compiling its Numba-mode",
            "function, with empty Numba and PyTensor caches.  *lines*: the generated",
            "module's length.",
            "",
            "| model | lines | generated, empty cache | generated, cached | "
            "PyMC + PyTensor Numba mode, empty caches |",
            "| --- | ---: | --- | --- | --- |",
        ]
        for name, c in cold.items():
            empty, cached = c["generated"]
            lines.append(f"| {COLD[name]} | {c['lines']:,} | {fmt(empty)} "
                         f"({empty / c['pytensor numba']:.2f}x) | {fmt(cached)} | "
                         f"{fmt(c['pytensor numba'])} |")
    lines += ["", "From this run:", ""]
    for name, times in rows:
        gen = times["generated"]
        faster = ", ".join(f"{times[b] / gen:.1f}x faster than {b}"
                           for b in ("pytensor numba", "pytensor C (cvm)"))
        line = f"- {MODELS[name].split(' (')[0]}: the generated module is {faster}"
        if "hand-written @njit" in times:
            line += (f"; the hand-written function takes "
                     f"{times['hand-written @njit'] / gen:.2f}x the generated time")
        lines.append(line + ".")
    for name, c in cold.items():
        empty, cached = c["generated"]
        lines.append(f"- Cold start of the {COLD[name].split(' (')[0]}: {empty:.1f} s "
                     f"with an empty cache, {cached:.1f} s once cached, against "
                     f"{c['pytensor numba']:.1f} s for PyMC's Numba-mode function.")
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    """Replace (or append) the "## PyMC models" section of docs/benchmarks.md."""
    replace_section(ROOT / "docs" / "benchmarks.md", SECTION, text)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-cold", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    repeat = 5 if args.quick else 21
    rows, cold = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            backends = build(name, Path(tmp))
            check_agreement(name, backends)
            times = {b: median_time(fn, a, repeat) for b, (fn, a) in backends.items()}
            rows.append((name, times))
            print(name, {b: fmt(t) for b, t in times.items()}, flush=True)
    for name in [] if args.no_cold else COLD:
        times, lines = cold_generated(name)
        cold[name] = {"generated": times, "pytensor numba": cold_pytensor(name),
                      "lines": lines}
        print("cold", name, cold[name], flush=True)
    text = report(rows, cold)
    print(text)
    if not args.no_write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
