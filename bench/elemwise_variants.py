"""What a plain-Numba loop can do about the elementwise chain, side by side with
PyTensor's Numba mode (docs/performance.md).

    python bench/elemwise_variants.py [--size N] [--rounds R]

The chain is the bench's ``exp(-x**2) * sin(x) + log1p(abs(x))``.  Every variant is
run on the same inputs in one process, interleaved in rounds; each round takes the
median of repeated calls after a warm-up, and the table gives the median of the
rounds (and the fastest round).  Ratios are to PyTensor's Numba mode in this run.
Several input distributions are timed because the cost of the loop depends on them.
"""

import argparse
import math
import statistics
import sys
import tempfile
import timeit
from pathlib import Path

import numba
import numpy as np
import pytensor
import pytensor.tensor as pt
from numba import njit
from timing import import_file

import transpile

_TERMS = {"exp": "math.exp(-(v * v))", "sin": "math.sin(v)", "log1p": "math.log1p(abs(v))"}


def ordered_loop(order, **options):
    """The scalar loop with its three calls made in ``order``, each into a local."""
    body = "\n".join(f"        {name}_ = {_TERMS[name]}" for name in order)
    src = (f"def chain(x):\n    out = np.empty(x.shape, dtype=np.float64)\n"
           f"    for i in range(x.shape[0]):\n        v = x[i]\n{body}\n"
           f"        out[i] = exp_ * sin_ + log1p_\n    return out\n")
    namespace = {"np": np, "math": math}
    exec(src, namespace)  # a benchmark of loop shapes, not generated code
    return njit(error_model="numpy", **options)(namespace["chain"])


@njit(error_model="numpy")
def split_loops(x):
    n = x.shape[0]
    a, b, out = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        a[i] = math.exp(-(x[i] * x[i]))
    for i in range(n):
        b[i] = math.sin(x[i])
    for i in range(n):
        out[i] = a[i] * b[i] + math.log1p(abs(x[i]))
    return out


@njit(error_model="numpy")
def blocked_loops(x):
    n = x.shape[0]
    out, a, b = np.empty(n), np.empty(256), np.empty(256)
    for s in range(0, n, 256):
        m = min(256, n - s)
        for j in range(m):
            a[j] = math.exp(-(x[s + j] * x[s + j]))
        for j in range(m):
            b[j] = math.sin(x[s + j])
        for j in range(m):
            out[s + j] = a[j] * b[j] + math.log1p(abs(x[s + j]))
    return out


@numba.vectorize(["float64(float64)"])
def chain_ufunc(v):
    return math.exp(-(v * v)) * math.sin(v) + math.log1p(abs(v))


@njit(error_model="numpy")
def _into(x, out):
    for i in range(x.shape[0]):
        out[i] = math.exp(-(x[i] * x[i])) * math.sin(x[i]) + math.log1p(abs(x[i]))


@njit(error_model="numpy")
def output_passed_in(x):
    out = np.empty(x.shape[0])
    _into(x, out)
    return out


@njit(error_model="numpy")
def flat_ravel(x):
    flat = x.ravel()
    out = np.empty(flat.shape[0])
    for i in range(flat.shape[0]):
        v = flat[i]
        out[i] = math.exp(-(v * v)) * math.sin(v) + math.log1p(abs(v))
    return out.reshape(x.shape)


def generated_kernel(directory):
    x = pt.vector("x")
    source = transpile.transpile(([x], [pt.exp(-x**2) * pt.sin(x) + pt.log1p(pt.abs(x))]))
    path = Path(directory) / "gen_chain_variants.py"
    path.write_text(source)
    module = import_file(path, path.stem)
    return module.kernel, source


def backends(directory):
    x = pt.vector("x")
    out = pt.exp(-x**2) * pt.sin(x) + pt.log1p(pt.abs(x))
    pt_numba = pytensor.function([x], out, mode="NUMBA", trust_input=True)
    with pytensor.config.change_flags(numba__fastmath=False):
        pt_strict = pytensor.function([x], out, mode="NUMBA", trust_input=True)
    kernel, _ = generated_kernel(directory)
    return {
        "pytensor numba": pt_numba,
        "pytensor numba, fastmath off": pt_strict,
        "generated module": kernel,
        "loop: exp, sin, log1p": ordered_loop(["exp", "sin", "log1p"]),
        "loop: log1p, sin, exp (PyTensor's order)": ordered_loop(["log1p", "sin", "exp"]),
        "loop: exp, log1p, sin": ordered_loop(["exp", "log1p", "sin"]),
        "loop: exp, sin, log1p, error_model=python": njit(ordered_loop(
            ["exp", "sin", "log1p"]).py_func),
        "loop: exp, sin, log1p, fastmath={'contract'}": ordered_loop(
            ["exp", "sin", "log1p"], fastmath={"contract"}),
        "loop: exp, sin, log1p, fastmath={'afn'}": ordered_loop(
            ["exp", "sin", "log1p"], fastmath={"afn"}),
        "numba.vectorize ufunc": chain_ufunc,
        "output passed in": output_passed_in,
        "flat index over ravel()": flat_ravel,
        "three loops, temporaries": split_loops,
        "blocks of 256, one call per inner loop": blocked_loops,
    }


DATA = {
    "normal(0, 1) (the bench)": lambda rng, n: rng.normal(size=n),
    "normal, sorted": lambda rng, n: np.sort(rng.normal(size=n)),
    "uniform(0.1, 0.5)": lambda rng, n: rng.uniform(0.1, 0.5, n),
    "uniform(-10, 10)": lambda rng, n: rng.uniform(-10, 10, n),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10**6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", nargs="*", default=list(DATA))
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    number = max(1, 2 * 10**6 // args.size)
    with tempfile.TemporaryDirectory() as tmp:
        fns = backends(tmp)
        for label in args.data:
            xs = DATA[label](rng, args.size)
            expected = np.exp(-xs**2) * np.sin(xs) + np.log1p(np.abs(xs))
            exact = {k: np.array_equal(f(xs), expected) for k, f in fns.items()}
            times = {k: [] for k in fns}
            for _ in range(args.rounds):
                for k, f in fns.items():
                    runs = timeit.repeat(lambda f=f, xs=xs: f(xs), number=number, repeat=7)
                    times[k].append(statistics.median(runs) / number)
            base = statistics.median(times["pytensor numba"])
            print(f"\n{label}, n = {args.size}: median of {args.rounds} rounds "
                  "(fastest round), ratio to pytensor numba; = means bit-equal to NumPy")
            for k, ts in times.items():
                m = statistics.median(ts)
                print(f"  {k:48s} {m * 1e3:8.2f} ms ({min(ts) * 1e3:7.2f})  "
                      f"{m / base:5.2f}x  {'=' if exact[k] else '~'}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
