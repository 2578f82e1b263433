"""nutpie sampling a vendored module against nutpie's own PyMC path.

    python bench/nutpie_bench.py             # runs, prints, writes "## nutpie" of
                                             # docs/benchmarks.md
    python bench/nutpie_bench.py --no-write  # print only

Per model, each route in a fresh process with an empty NUMBA_CACHE_DIR (cold) and
then again with the cache that run filled (warm), 2 chains x (1000 tune + 1000
draws), seed 1:

- vendored, pyfunc: the module ``transpile pymc`` wrote, through nutpie's public
  ``from_pyfunc`` (generated_examples/nutpie/sample.py --route pyfunc); the process
  imports neither PyMC nor PyTensor;
- vendored, cfunc: the same module's ``LOGP_CFUNC``/``EXPAND_CFUNC`` handed to
  nutpie's internal ``CompiledPyMCModel`` (--route cfunc), no Python per gradient;
- nutpie's own: ``nutpie.compile_pymc_model(model)`` (PyTensor's Numba backend, its
  cfunc) in a process that builds the model with PyMC.

compile: seconds from the start of the timed section (the module imported, or the
model built) until nutpie has a compiled model; first draw: until one draw of one
chain is back (compile included); draws/s: (tune + draws) x chains over the seconds
of the full run.  transpile: seconds ``from_pymc`` takes to write the module (once,
at generation, not in the sampling process).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "generated_examples" / "nutpie" / "sample.py"
MODELS = {
    "eight_schools": "eight schools, non-centered, named schools (10 parameters)",
    "hierarchical_logistic": "hierarchical logistic regression, 400 rows (13 parameters)",
    "lkj_cholesky_cov": "LKJ Cholesky covariance, MvNormal of 200x3 (9 parameters)",
}
SECTION = "## nutpie"


def _model(name):
    sys.path.insert(0, str(ROOT / "tests"))
    if name == "eight_schools":
        from transpile.pymc_cli import load_model

        return load_model(str(ROOT / "generated_examples" / "nutpie" / "model.py"))
    from test_pymc_zoo import ZOO

    return ZOO[name]()


def own(name: str) -> dict:
    """nutpie's own PyMC path, timed in this process (the worker of --own)."""
    import warnings

    import nutpie

    warnings.simplefilter("ignore")
    start = time.perf_counter()
    model = _model(name)
    compiled = nutpie.compile_pymc_model(model)
    compiled_at = time.perf_counter()
    nutpie.sample(compiled, draws=1, tune=1, chains=1, seed=1, progress_bar=False)
    first_at = time.perf_counter()
    nutpie.sample(compiled, draws=1000, tune=1000, chains=2, seed=1, cores=2,
                  progress_bar=False)
    done = time.perf_counter()
    return {"compile": compiled_at - start, "first_draw": first_at - start,
            "draws_per_second": 4000 / (done - first_at)}


def _vendored(module: Path, route: str, cache: str) -> dict:
    result = subprocess.run(
        [sys.executable, str(SAMPLE), "--module", str(module), "--route", route],
        capture_output=True, text=True, check=True,
        env=dict(os.environ, NUMBA_CACHE_DIR=cache))
    line = next(x for x in result.stdout.splitlines() if x.startswith("seconds "))
    words = line.split()
    values = dict(zip(words[1::2], map(float, words[2::2]), strict=True))
    return {"compile": values["compile"], "first_draw": values["first_draw"],
            "draws_per_second": values["draws_per_second"]}


def _own(name: str, cache: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--own", name], capture_output=True,
                            text=True, check=True, env=dict(os.environ, NUMBA_CACHE_DIR=cache))
    return json.loads(result.stdout.splitlines()[-1])


def measure(name: str, folder: Path) -> dict:
    from transpile.pymc import from_pymc

    model = _model(name)
    path = folder / f"{name}.py"
    start = time.perf_counter()
    from_pymc(model, path)
    rows = {"transpile": time.perf_counter() - start}
    for label, run in (("vendored, pyfunc", lambda c: _vendored(path, "pyfunc", c)),
                       ("vendored, cfunc", lambda c: _vendored(path, "cfunc", c)),
                       ("nutpie's own", lambda c: _own(name, c))):
        cache = tempfile.mkdtemp(dir=folder, prefix="numba-")
        rows[label] = {"cold": run(cache), "warm": run(cache)}
        print(name, label, rows[label], flush=True)
    return rows


def table(results: dict) -> list[str]:
    lines = ["| model | route | compile, cold / warm | first draw, cold / warm | "
             "draws/s, cold / warm run |", "| --- | --- | --- | --- | --- |"]
    for name, rows in results.items():
        for label, r in rows.items():
            if label == "transpile":
                continue
            c, w = r["cold"], r["warm"]
            lines.append(f"| {name} | {label} | {c['compile']:.1f} s / {w['compile']:.1f} s"
                         f" | {c['first_draw']:.1f} s / {w['first_draw']:.1f} s | "
                         f"{c['draws_per_second']:,.0f} / {w['draws_per_second']:,.0f} |")
    lines.append("")
    lines.append("transpile (writing the module, once): " + ", ".join(
        f"{name} {rows['transpile']:.1f} s" for name, rows in results.items()) + ".")
    return lines


def write_section(lines: list[str]) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text()
    head = [SECTION, "", "Produced by `python bench/nutpie_bench.py` on the project's 2-core "
            "machine (shared with other work while it ran: treat the figures as rough); "
            "see the script's docstring for what each column measures. 2 chains x (1000 "
            "tune + 1000 draws); draws/s of both runs (they differ by the machine's load, "
            "not by the cache).", ""]
    block = "\n".join(head + lines) + "\n"
    if SECTION in text:
        before, _, after = text.partition(SECTION)
        rest = after.split("\n## ", 1)
        text = before + block + ("\n## " + rest[1] if len(rest) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    doc.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--own", metavar="MODEL", help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("models", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    if args.own:
        print(json.dumps(own(args.own)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        results = {name: measure(name, Path(tmp)) for name in args.models}
    lines = table(results)
    print("\n".join(lines))
    if not args.no_write:
        write_section(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
