"""``transpile check``: does a generated module still compute what PyTensor computes?

    transpile check GRAPH.pkl MODULE.py [--inputs FILE.npz] [--seed N] ...
    transpile pymc check MODEL.py MODULE.py [--inputs FILE.npz] [--seed N] ...

For people who regenerate (or keep) a vendored module across a PyTensor or PyMC
upgrade: both sides are evaluated on the same inputs, the largest absolute and
relative error of every output is printed, and the exit status is 1 when an output
differs beyond ``--rtol``/``--atol`` (the error names it).

The graph side is PyTensor's own evaluation (its Python implementations, on the
rewritten graph: no C compiler is involved) of the graph file, loaded safely as
``transpile`` loads it (docs/security.md).  The module is imported from its file:
it is the caller's own code.  For PyMC, the model file is run (as ``transpile pymc``
runs it) and every entry of the module is checked: ``logp`` and ``logp_dlogp``
against ``model.logp()`` and ``model.dlogp()``, the flat entries against PyMC's
compiled functions (``logp_dlogp_flat``, ``LOGP_CFUNC`` called through ctypes),
``expand`` and ``EXPAND_CFUNC`` against the free variables and Deterministics,
``initial_point`` against ``model.initial_point()``.
"""

import ctypes
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import TranspileError

DEFAULT_TOL = {"float64": (1e-7, 1e-10), "float32": (1e-4, 1e-6)}
SIZE = 5  # the length of a dimension the graph leaves unknown, for drawn inputs


@dataclass(frozen=True)
class Result:
    """One output compared: the largest errors, and whether they are within tolerance."""

    output: str
    abs_err: float
    rel_err: float
    ok: bool
    note: str = ""


@dataclass(frozen=True)
class Raised:
    """An evaluation that raised, kept as what is compared."""

    name: str  # the exception's class name
    message: str


def _evaluate(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - what is raised is what is compared
        message = str(exc).split("\nApply node that caused the error")[0]
        return Raised(type(exc).__name__, message.strip())


# ---- comparing two values ----------------------------------------------------------


def compare(label: str, got, want, rtol=None, atol=None) -> Result:
    """``got`` (the module's) against ``want`` (PyTensor's)."""
    if isinstance(want, Raised) or isinstance(got, Raised):
        return _compare_raised(label, got, want)
    if isinstance(want, slice) or isinstance(got, slice):  # a slice output: exactly
        same = isinstance(got, slice) and isinstance(want, slice) and got == want
        return Result(label, 0.0 if same else np.inf, 0.0 if same else np.inf, same,
                      "" if same else f"{got!r} != {want!r}")
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return Result(label, np.inf, np.inf, False, f"shape {got.shape} != {want.shape}")
    if got.dtype.kind != want.dtype.kind and not {got.dtype.kind, want.dtype.kind} <= set("iub"):
        return Result(label, np.inf, np.inf, False, f"dtype {got.dtype} != {want.dtype}")
    if want.dtype.kind not in "fc":
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64)) if got.size else 0
        err = float(np.max(diff, initial=0.0))
        return Result(label, err, err, err == 0)
    single = want.dtype in (np.float32, np.complex64)
    rtol_default, atol_default = DEFAULT_TOL["float32" if single else "float64"]
    rtol = rtol_default if rtol is None else rtol
    atol = atol_default if atol is None else atol
    return _compare_floats(label, got.astype(want.dtype), want, rtol, atol)


def _compare_floats(label, got, want, rtol, atol) -> Result:
    same = (got == want) | (np.isnan(got) & np.isnan(want))  # inf == inf, nan "==" nan
    finite = np.isfinite(got) & np.isfinite(want)
    if np.any(~same & ~finite):
        return Result(label, np.inf, np.inf, False, "non-finite where the other is not")
    diff = np.where(finite, np.abs(got - want), 0.0)
    scale = np.abs(np.where(finite, want, 1.0))
    rel = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), diff)
    ok = bool(np.all(diff <= atol + rtol * scale))
    return Result(label, float(np.max(diff, initial=0.0)), float(np.max(rel, initial=0.0)),
                  ok)


def _compare_raised(label, got, want) -> Result:
    if isinstance(got, Raised) and isinstance(want, Raised):
        ok = got.name == want.name
        note = f"both raised {want.name}" if ok else f"raised {got.name}, PyTensor {want.name}"
        return Result(label, 0.0 if ok else np.inf, 0.0 if ok else np.inf, ok, note)
    if isinstance(want, Raised):
        return Result(label, np.inf, np.inf, False,
                      f"PyTensor raised {want.name} ({want.message[:80]}), the module did not")
    return Result(label, np.inf, np.inf, False,
                  f"the module raised {got.name} ({got.message[:80]}), PyTensor did not")


def report(results) -> str:
    """The table ``transpile check`` prints."""
    width = max([len("output"), *(len(r.output) for r in results)])
    lines = [f"{'output'.ljust(width)}  {'max abs error':>13}  {'max rel error':>13}  status"]
    for r in results:
        status = "ok" if r.ok else "MISMATCH"
        note = f" ({r.note})" if r.note else ""
        lines.append(f"{r.output.ljust(width)}  {r.abs_err:13.3g}  {r.rel_err:13.3g}  "
                     f"{status}{note}")
    return "\n".join(lines)


def verdict(results, rtol, atol) -> None:
    """Raise (exit status 1) naming every output that differs."""
    bad = [r for r in results if not r.ok]
    if bad:
        tol = "default tolerances" if rtol is None and atol is None else \
            f"rtol={rtol}, atol={atol}"
        names = ", ".join(dict.fromkeys(r.output.split(" @ ")[0] for r in bad))
        worst = max(bad, key=lambda r: r.abs_err)
        raise TranspileError(f"the module differs from PyTensor in {names} ({tol}; "
                             f"largest: {worst.output}, abs error {worst.abs_err:.3g}"
                             f"{', ' + worst.note if worst.note else ''})")


def summarize(results) -> list[Result]:
    """One row per output: the worst over all input sets (labels ``out @ set``)."""
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.output.split(" @ ")[0], []).append(r)
    rows = []
    for key, group in groups.items():
        bad = [r for r in group if not r.ok]
        note = next((r.note for r in bad or group if r.note), "")
        if bad:
            note = f"{note + ', ' if note else ''}at {bad[0].output.split(' @ ')[-1]}"
        rows.append(Result(key, max(r.abs_err for r in group),
                           max(r.rel_err for r in group), not bad, note))
    return rows


# ---- the module ------------------------------------------------------------------------


def import_module(path):
    """The generated module, imported from its file, under its file's stem as
    ``import stem`` would: Numba's cache records the module's name with each compiled
    function and imports it by that name when it loads them (under another name, a
    function cached by ``import stem`` would not load).  A private name if another
    module holds the stem."""
    path = Path(path).resolve()
    if not path.is_file():
        raise TranspileError(f"no such module file: {path}")
    name = path.stem
    held = sys.modules.get(name)
    if held is not None and Path(getattr(held, "__file__", "") or "").resolve() == path:
        return held
    if held is not None or not name.isidentifier():
        name = f"_transpile_checked_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the module failed to import
        sys.modules.pop(name, None)
        raise TranspileError(f"{path} failed to import: {type(exc).__name__}: {exc}") from None
    return module


def _entry(module, name: str, path):
    fn = getattr(module, name, None)
    if not callable(fn):
        raise TranspileError(f"{path} has no entry `{name}` (see --name)")
    return fn


# ---- a graph file against its module ---------------------------------------------------


def draw_inputs(fgraph, seed: int, count: int, size: int = SIZE) -> list[list]:
    """``count`` input sets drawn from the inputs' types: the first positive (0.5 to
    1.5, where logs and square roots are defined), the others standard normal;
    integers in [0, size), unknown dimensions of length ``size``."""
    rng = np.random.default_rng(seed)
    sets = []
    for k in range(count):
        values = []
        for var in fgraph.inputs:
            shape = tuple(size if s is None else int(s) for s in var.type.shape)
            values.append(_draw(rng, np.dtype(var.type.dtype), shape, positive=k == 0,
                                size=size))
        sets.append(values)
    return sets


def _draw(rng, dtype, shape, positive: bool, size: int):
    if dtype.kind == "b":
        value = rng.uniform(size=shape) < 0.5
    elif dtype.kind in "iu":
        value = rng.integers(0, size, size=shape)
    elif dtype.kind == "c":
        value = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    else:
        value = rng.uniform(0.5, 1.5, size=shape) if positive else rng.normal(size=shape)
    return np.asarray(value).astype(dtype)


def npz_inputs(path, names: list[str], params: list[str], dtypes) -> list:
    """One input set from a ``.npz``: arrays named after the graph's inputs (or the
    module's parameters), or ``arr_0``, ``arr_1``... in order (``np.savez(f, *values)``)."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise TranspileError(f"--inputs {path}: cannot read it ({exc})") from None
    values = []
    for k, (name, param, dtype) in enumerate(zip(names, params, dtypes, strict=True)):
        key = next((c for c in (name, param, f"arr_{k}") if c and c in data.files), None)
        if key is None:
            raise TranspileError(f"--inputs {path}: no array for input {k} ({name or param});"
                                 f" it holds {', '.join(data.files) or 'nothing'}")
        values.append(np.asarray(data[key]).astype(dtype))
    return values


def _outputs_labels(module, fgraph) -> list[str]:
    meta = getattr(module, "OUTPUTS", ())
    if len(meta) == len(fgraph.outputs):
        return [str(m[0]) for m in meta]
    return [var.name or f"output {k}" for k, var in enumerate(fgraph.outputs)]


def check_graph(fgraph, module, entry: str, input_sets, *, rtol=None, atol=None,
                path="the module") -> list[Result]:
    """Every output of ``module.<entry>`` against PyTensor's evaluation of ``fgraph``
    on each input set; labels ``output @ set``."""
    import pytensor
    from pytensor.compile.mode import Mode

    from .lower.random import frozen_generators, is_generator

    if any(is_generator(v) for v in fgraph.inputs) or frozen_generators(fgraph):
        raise TranspileError("the graph draws random numbers: the module's draws follow the "
                             "distributions, not PyTensor's random streams, so there is "
                             "nothing to compare value by value")
    fn = _entry(module, entry, path)
    reference = pytensor.function(list(fgraph.inputs), list(fgraph.outputs),
                                  mode=Mode(linker="py", optimizer="fast_run"),
                                  on_unused_input="ignore")
    labels = _outputs_labels(module, fgraph)
    results = []
    for k, values in enumerate(input_sets):
        want = _evaluate(reference, *[np.copy(v) for v in values])
        got = _evaluate(fn, *[np.copy(v) for v in values])
        tag = f" @ inputs {k}"
        if isinstance(want, Raised) or isinstance(got, Raised):
            results.append(compare(f"{entry}{tag}", got, want))
            continue
        got = list(got) if len(labels) > 1 else [got]
        for label, g, w in zip(labels, got, want, strict=True):
            results.append(compare(label + tag, g, w, rtol, atol))
    return results


# ---- a PyMC model against its module ---------------------------------------------------


def pymc_points(model, seed: int, count: int) -> list[tuple[str, dict]]:
    """The initial point, then ``count`` points jittered by U(-1, 1) per continuous
    entry (as PyMC jitters its samplers' starting points)."""
    start = model.initial_point()
    continuous = {v.name for v in model.continuous_value_vars}
    rng = np.random.default_rng(seed)
    points = [("initial point", start)]
    for k in range(count):
        points.append((f"jittered {k}", {
            n: (v + rng.uniform(-1.0, 1.0, size=np.shape(v))).astype(v.dtype)
            if n in continuous else v for n, v in start.items()}))
    return points


def npz_points(path, model) -> list[tuple[str, dict]]:
    """Points from a ``.npz`` of value variables (PyMC's names: ``tau_log__``), each of
    its own shape, or all with one more leading axis for several points."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise TranspileError(f"--inputs {path}: cannot read it ({exc})") from None
    start = model.initial_point()
    missing = [n for n in start if n not in data.files]
    if missing:
        raise TranspileError(f"--inputs {path}: no array for {', '.join(missing)} (value "
                             "variables, by PyMC's names)")
    stacked = all(data[n].ndim == np.ndim(v) + 1 for n, v in start.items())
    count = len(data[next(iter(start))]) if stacked else 1
    return [(f"{Path(path).name}[{k}]" if stacked else Path(path).name,
             {n: np.asarray(data[n][k] if stacked else data[n]).astype(v.dtype)
              for n, v in start.items()}) for k in range(count)]


class PyMCReference:
    """PyTensor's evaluation of what each entry of a logp module computes."""

    def __init__(self, model):
        import pytensor
        from pytensor.compile.mode import Mode

        from .pymc import model_graphs
        from .pymc_sampler import expand_graph

        mode = Mode(linker="py", optimizer="fast_run")
        self.model = model
        self.inputs, logp, dlogp = model_graphs(model)
        self.names = [v.name for v in model.value_vars]
        self.logp = pytensor.function(self.inputs, logp, mode=mode)
        self.both = pytensor.function(self.inputs, [logp, dlogp], mode=mode)
        self.expand = pytensor.function(self.inputs, expand_graph(model, self.inputs),
                                        mode=mode, on_unused_input="ignore")
        # PyMC's compiled functions: a violated check gives -inf (what samplers see).
        self.compiled = (model.compile_logp(mode=mode), model.compile_dlogp(mode=mode))

    def args(self, point):
        return [np.asarray(point[n]) for n in self.names]

    def flat(self, point, checks: str):
        if checks == "raise":
            return _evaluate(self.both, *self.args(point))
        logp = _evaluate(self.compiled[0], point)
        if isinstance(logp, Raised) or not np.isfinite(logp):
            return logp, None
        return logp, _evaluate(self.compiled[1], point)


def _flat(module, point, names) -> np.ndarray:
    parts = [np.ravel(point[name]) for name, *_ in module.DLOGP_SLICES]
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0)


def check_pymc(model, module, *, name: str = "logp", points, rtol=None, atol=None,
               path="the module") -> list[Result]:
    """Every entry of the logp module ``module`` against ``model`` at ``points``
    (``(label, {value var: value})`` pairs); labels ``entry.output @ point``."""
    _check_same_model(model, module, path)
    ref = PyMCReference(model)
    logp_fn, both_fn = _entry(module, name, path), _entry(module, f"{name}_dlogp", path)
    flat = hasattr(module, "logp_dlogp_flat")
    results = []
    for label, point in points:
        args, tag = ref.args(point), f" @ {label}"
        results.append(compare(f"{name}{tag}", _evaluate(logp_fn, *args),
                               _evaluate(ref.logp, *args), rtol, atol))
        results += _pair(f"{name}_dlogp", ("logp", "dlogp"), tag,
                         _evaluate(both_fn, *args), _evaluate(ref.both, *args), rtol, atol)
        if flat:
            results += _check_flat(module, ref, point, tag, rtol, atol)
    if flat:
        results.append(compare("initial_point", module.initial_point(),
                               _flat(module, model.initial_point(), ref.names), rtol, atol))
    return results


def _check_same_model(model, module, path) -> None:
    from .pymc import value_variables

    if not hasattr(module, "VALUE_VARIABLES"):
        raise TranspileError(f"{path} is not a module `transpile pymc` wrote (no "
                             "VALUE_VARIABLES)")
    want = [(v.name, v.shape) for v in value_variables(model)]
    got = [(n, tuple(s)) for n, _, s, *_ in module.VALUE_VARIABLES]
    if got != want:
        raise TranspileError(f"{path} was generated from another model: its value "
                             f"variables are {got}, the model's {want}")


def _pair(entry, names, tag, got, want, rtol, atol) -> list[Result]:
    if isinstance(got, Raised) or isinstance(want, Raised):
        return [compare(f"{entry}{tag}", got, want)]
    return [compare(f"{entry}.{n}{tag}", g, w, rtol, atol)
            for n, g, w in zip(names, got, want, strict=True)]


def _check_flat(module, ref, point, tag, rtol, atol) -> list[Result]:
    q = _flat(module, point, ref.names)
    want = ref.flat(point, getattr(module, "CHECKS", "neg-inf"))
    got = _evaluate(module.logp_dlogp_flat, q)
    results = _flat_results("logp_dlogp_flat", tag, got, want, rtol, atol)
    results += _flat_results("LOGP_CFUNC", tag, call_logp_cfunc(module, q), want, rtol,
                             atol)
    values = _evaluate(module.expand, q)
    expected = _evaluate(ref.expand, *ref.args(point))
    names = [n for n, *_ in module.EXPANDED]
    results += _pair("expand", names, tag, values, expected, rtol, atol)
    if not isinstance(expected, Raised):
        flat = np.concatenate([np.ravel(v).astype(np.float64) for v in expected])
        results.append(compare(f"EXPAND_CFUNC{tag}", call_expand_cfunc(module, q), flat,
                               rtol, atol))
    return results


def _flat_results(entry, tag, got, want, rtol, atol) -> list[Result]:
    if isinstance(got, Raised) or isinstance(want, Raised):
        return [compare(f"{entry}{tag}", got, want)]
    logp, grad = want
    results = [compare(f"{entry}.logp{tag}", got[0], logp, rtol, atol)]
    if grad is not None:  # PyMC's gradient where its logp is finite
        results.append(compare(f"{entry}.grad{tag}", got[1], grad, rtol, atol))
    return results


# ---- the cfuncs, through ctypes, as C code would call them -----------------------------

_DOUBLE_P = ctypes.POINTER(ctypes.c_double)
LOGP_PROTOTYPE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_uint64, _DOUBLE_P, _DOUBLE_P,
                                  _DOUBLE_P, ctypes.c_void_p)
EXPAND_PROTOTYPE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_uint64, ctypes.c_uint64,
                                    _DOUBLE_P, _DOUBLE_P, ctypes.c_void_p)


def call_logp_cfunc(module, q):
    """(logp, grad) from ``module.LOGP_CFUNC`` called through ctypes; a non-zero status
    is Raised("status N") unless logp is non-finite (codes 1-3: a rejected point)."""
    fn = LOGP_PROTOTYPE(module.LOGP_CFUNC.address)
    x = np.ascontiguousarray(q, dtype=np.float64)
    grad = np.zeros(module.NDIM)
    logp = ctypes.c_double(np.nan)
    status = fn(module.NDIM, x.ctypes.data_as(_DOUBLE_P), grad.ctypes.data_as(_DOUBLE_P),
                ctypes.byref(logp), None)
    if status == 1:
        return Raised("ParameterValueError" if module.CHECKS == "raise" else "Exception",
                      "LOGP_CFUNC returned 1")
    if status < 0 or (status == 0 and not np.isfinite(logp.value)):
        return Raised(f"status {status}", "LOGP_CFUNC failed")
    return logp.value, grad


def call_expand_cfunc(module, q):
    fn = EXPAND_PROTOTYPE(module.EXPAND_CFUNC.address)
    x = np.ascontiguousarray(q, dtype=np.float64)
    out = np.zeros(module.NEXPANDED)
    status = fn(module.NDIM, module.NEXPANDED, x.ctypes.data_as(_DOUBLE_P),
                out.ctypes.data_as(_DOUBLE_P), None)
    return out if status == 0 else Raised(f"status {status}", "EXPAND_CFUNC failed")


# ---- the command lines -------------------------------------------------------------------


def _common(p) -> None:
    p.add_argument("--inputs", action="append", default=[], metavar="FILE.npz",
                   help="evaluate on these inputs (repeatable) instead of drawn ones")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the drawn inputs (default: 0)")
    p.add_argument("--rtol", type=float, default=None,
                   help="relative tolerance (default: 1e-7 for float64, 1e-4 for float32)")
    p.add_argument("--atol", type=float, default=None,
                   help="absolute tolerance (default: 1e-10 for float64, 1e-6 for float32)")


def _graph_parser():
    import argparse

    p = argparse.ArgumentParser(
        prog="transpile check",
        description="Evaluate a graph file with PyTensor and its generated module on the "
        "same inputs; print the largest absolute and relative error of each output; exit "
        "with status 1 if any output differs beyond the tolerances.")
    p.add_argument("graph", help="the graph pickle the module was generated from")
    p.add_argument("module", help="the generated module (a .py file)")
    p.add_argument("--name", default="kernel", help="the entry's name (default: kernel)")
    _common(p)
    p.add_argument("--draws", type=int, default=3, metavar="N",
                   help="how many input sets to draw when no --inputs is given (default: "
                   "3: one in [0.5, 1.5], the others standard normal)")
    p.add_argument("--size", type=int, default=SIZE, metavar="N",
                   help=f"length of dimensions the graph leaves unknown (default: {SIZE})")
    p.add_argument("--allow-module", action="append", default=[], metavar="MODULE",
                   help="also allow this package's globals in the pickle (repeatable)")
    return p


def run_check(argv) -> int:
    import pytensor

    from .load import load_file

    args = _graph_parser().parse_args(argv)
    module = import_module(args.module)
    with pytensor.config.change_flags(cxx=""):
        fgraph = load_file(args.graph, args.allow_module).fgraph
        if args.inputs:
            params = [p for p, *_ in getattr(module, "INPUTS", ())] or \
                [None] * len(fgraph.inputs)
            sets = [npz_inputs(path, [v.name for v in fgraph.inputs], params,
                               [v.type.dtype for v in fgraph.inputs]) for path in args.inputs]
        else:
            sets = draw_inputs(fgraph, args.seed, args.draws, args.size)
        results = check_graph(fgraph, module, args.name, sets, rtol=args.rtol,
                              atol=args.atol, path=args.module)
    return _finish(results, args)


def _pymc_parser():
    import argparse

    p = argparse.ArgumentParser(
        prog="transpile pymc check",
        description="Run a PyMC model file and check every entry of the module `transpile "
        "pymc` wrote for it against PyMC and PyTensor, at the model's initial point and at "
        "jittered points; exit with status 1 if any output differs beyond the tolerances.")
    p.add_argument("model", help="the Python file that defines the pymc.Model")
    p.add_argument("module", help="the module `transpile pymc` wrote (a .py file)")
    p.add_argument("--model-name", default=None, metavar="NAME",
                   help="the model's variable name in the file (as for transpile pymc)")
    p.add_argument("--name", default="logp", help="the log-density entry's name, as given "
                   "to transpile pymc --name (default: logp)")
    _common(p)
    p.add_argument("--points", type=int, default=3, metavar="N",
                   help="how many jittered points besides the initial point (default: 3)")
    return p


def run_pymc_check(argv) -> int:
    import warnings

    import pytensor

    from .pymc_cli import load_model

    args = _pymc_parser().parse_args(argv)
    module = import_module(args.module)
    model = load_model(args.model, args.model_name)
    with warnings.catch_warnings(), pytensor.config.change_flags(cxx=""):
        warnings.simplefilter("ignore")
        points = [p for path in args.inputs for p in npz_points(path, model)] or \
            pymc_points(model, args.seed, args.points)
        results = check_pymc(model, module, name=args.name, points=points,
                             rtol=args.rtol, atol=args.atol, path=args.module)
    return _finish(results, args)


def _finish(results, args) -> int:
    rows = summarize(results)
    print(report(rows), flush=True)
    verdict(rows, args.rtol, args.atol)
    return 0
