"""Sample a vendored PyMC model with nutpie: the module alone, no PyMC, no PyTensor.

    python sample.py [--module eight_schools.py] [--draws 1000] [--tune 1000]
                     [--chains 2] [--seed 1] [--route pyfunc|cfunc] [--save FILE.npz]

eight_schools.py was written by ``transpile pymc model.py -o eight_schools.py``; this
script imports it, numpy and nutpie, nothing else (nutpie itself needs no PyTensor
for a model of this kind).  Any module ``transpile pymc`` writes works the same way
(``--module``): everything nutpie needs is in the module's flat entries and metadata:

- ``NDIM`` and ``logp_dlogp_flat(q) -> (logp, grad)``, the log-density over one
  vector of unconstrained values (a violated parameter check gives -inf);
- ``expand(q)``, the free variables on their constrained scale and the model's
  Deterministics, described by ``EXPANDED`` (name, dtype, shape, dims) and
  ``COORDS``; nutpie stores these per draw;
- ``initial_point()``, PyMC's initial point, which is jittered by U(-1, 1) per entry
  as PyMC and nutpie do.

Two routes into nutpie:

- ``pyfunc`` (default): nutpie's public ``nutpie.compiled_pyfunc.from_pyfunc``; nutpie
  calls the module's entries through Python, once per gradient evaluation.
- ``cfunc``: nutpie's own PyMC route, which calls a ``numba.cfunc`` directly from its
  Rust code: the module's ``LOGP_CFUNC`` and ``EXPAND_CFUNC``, with nuts-rs's
  signatures, handed to ``nutpie.compile_pymc.CompiledPyMCModel``.  That class is
  nutpie's internal API (nutpie 0.16), not a public one: it may change.

Prints the posterior mean and standard deviation of every scalar, the timings and
the top-level modules the process imported; ``--save`` writes the draws (one array
per expanded variable, shape (chains, draws, *shape)) and nutpie's ``n_steps``.
"""

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def load_module(path):
    """Import the vendored module from its file."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _layout(module):
    names = [name for name, *_ in module.EXPANDED]
    dtypes = [np.dtype(dtype) for _, dtype, _, _ in module.EXPANDED]
    shapes = [tuple(shape) for _, _, shape, _ in module.EXPANDED]
    # nutpie names every axis of a variable with dims, or none of them.
    dims = {name: tuple(d) for name, _, _, d in module.EXPANDED if d and None not in d}
    coords = {dim: list(values) for dim, values in module.COORDS.items()}
    return names, dtypes, shapes, dims, coords


def _initial_point_fn(module):
    def initial_point(seed):
        rng = np.random.default_rng(seed)
        return module.initial_point() + rng.uniform(-1.0, 1.0, size=module.NDIM)

    return initial_point


def pyfunc_model(module):
    """nutpie's model of ``module`` through its public ``from_pyfunc``."""
    from nutpie.compiled_pyfunc import from_pyfunc

    names, dtypes, shapes, dims, coords = _layout(module)

    def make_logp_fn():
        return module.logp_dlogp_flat  # q -> (logp, grad)

    def make_expand_fn(seed1, seed2, chain):
        def expand(q):
            values = module.expand(q)
            return {name: np.asarray(value, dtype=dtype).reshape(shape)
                    for name, value, dtype, shape in zip(names, values, dtypes, shapes,
                                                         strict=True)}

        return expand

    return from_pyfunc(module.NDIM, make_logp_fn, make_expand_fn, dtypes, shapes, names,
                       coords=coords, dims=dims,
                       make_initial_point_fn=_initial_point_fn(module))


def cfunc_model(module):
    """nutpie's model of ``module`` through its (internal) cfunc route: nuts-rs calls
    ``LOGP_CFUNC`` and ``EXPAND_CFUNC`` with no Python in between."""
    from nutpie.compile_pymc import CompiledPyMCModel

    names, _, shapes, dims, coords = _layout(module)
    sizes = [int(np.prod(shape, dtype=np.int64)) for shape in shapes]
    starts = np.cumsum([0, *sizes])
    slices = [slice(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:], strict=True)]
    return CompiledPyMCModel(
        compiled_logp_func=module.LOGP_CFUNC,
        compiled_expand_func=module.EXPAND_CFUNC,
        initial_point_func=_initial_point_fn(module),
        shared_data={},
        user_data=np.zeros(1),  # the cfuncs take no user data
        n_expanded=module.NEXPANDED,
        shape_info=(names, slices, shapes),
        logp_func=None,
        expand_func=None,
        _n_dim=module.NDIM,
        _shapes=dict(zip(names, shapes, strict=True)),
        _coords=coords,
        dims=dims,
    )


def compile_module(module, route: str):
    """The nutpie model, with the module's functions compiled (Numba compiles on the
    first call, or loads its cache): what nutpie's compile_pymc_model does for PyMC."""
    q = module.initial_point()
    module.logp_dlogp_flat(q)
    module.expand(q)
    return pyfunc_model(module) if route == "pyfunc" else cfunc_model(module)


def run(module, route="pyfunc", draws=1000, tune=1000, chains=2, seed=1):
    """(draws, n_steps, timings): each expanded variable's draws, shape
    (chains, draws, *shape), nutpie's leapfrog steps per draw, and seconds."""
    import nutpie

    start = time.perf_counter()
    compiled = compile_module(module, route)
    compiled_at = time.perf_counter()
    nutpie.sample(compiled, draws=1, tune=1, chains=1, seed=seed, progress_bar=False)
    first_at = time.perf_counter()
    trace = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, seed=seed,
                          cores=chains, progress_bar=False)
    done = time.perf_counter()
    posterior = trace.posterior
    values = {name: posterior[name].values for name, *_ in module.EXPANDED}
    n_steps = trace.sample_stats["n_steps"].values
    timings = {"compile": compiled_at - start, "first_draw": first_at - start,
               "sampling": done - first_at}
    return values, n_steps, timings


def summary(values) -> list[str]:
    lines = []
    for name, draws in values.items():
        flat = draws.reshape(draws.shape[0] * draws.shape[1], -1)
        for k in range(flat.shape[1]):
            label = name if flat.shape[1] == 1 and draws.ndim == 2 else f"{name}[{k}]"
            lines.append(f"{label} {flat[:, k].mean():.3f} {flat[:, k].std():.3f}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default=str(HERE / "eight_schools.py"))
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--route", choices=("pyfunc", "cfunc"), default="pyfunc")
    parser.add_argument("--save", metavar="FILE.npz")
    args = parser.parse_args(argv)
    module = load_module(args.module)
    values, n_steps, timings = run(module, args.route, args.draws, args.tune,
                                   args.chains, args.seed)
    total = args.chains * (args.draws + args.tune)
    print(f"route {args.route} chains {args.chains} draws {args.draws} tune {args.tune}")
    print("variable mean sd")
    print("\n".join(summary(values)))
    print(f"seconds compile {timings['compile']:.3f} first_draw {timings['first_draw']:.3f} "
          f"sampling {timings['sampling']:.3f} draws_per_second "
          f"{total / timings['sampling']:.0f}")
    if args.save:
        np.savez(args.save, _n_steps=n_steps, **values,
                 **{f"_seconds_{k}": v for k, v in timings.items()})
    # What this process imported: the test checks that PyMC and PyTensor are absent.
    print("modules", " ".join(sorted({m.split(".")[0] for m in sys.modules})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
