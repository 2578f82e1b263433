"""One case: a graph the suite compiles in Numba mode, checked through transpile.

The steps, in the test's own process (:func:`prepare` and :func:`check`):

1. The graph is made self-contained: shared random generators become inputs (after the
   test's own inputs, with their current values as arguments) and update expressions
   become extra outputs, so the generated module takes and returns them.
2. It is written to the corpus with ``transpile.dump`` (or, when dump refuses, as a raw
   pickle of ``(inputs, outputs)``; the record says why), its arguments next to it.
3. PyTensor's Python mode (the suite's reference) evaluates it on copies of the arguments.
4. ``transpile graph.pkl -o module.py``, with no flags, runs in a fresh process, and
   :mod:`conformance.runner` runs the module on the saved arguments in another one.
5. Its results are compared with the reference by the suite's own assert function.
"""

import copy
import hashlib
import json
import os
import pickle
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import values as saved

try:  # PyTensor 3 moved these
    from pytensor.graph.traversal import graph_inputs, io_toposort
except ImportError:
    from pytensor.graph.basic import graph_inputs, io_toposort

TIMEOUT = float(os.environ.get("CONFORMANCE_TIMEOUT", 300))  # seconds per subprocess
HARNESS = Path(__file__).resolve().parent
# PyTensor's flags as they were before the suite's conftest added its own at session
# start (on_opt_error=raise, ...): a user runs transpile without those.
USER_FLAGS = os.environ.get("PYTENSOR_FLAGS")


class Unpicklable(Exception):
    """Neither transpile.dump nor pickle can write the graph."""


@dataclass
class Graph:
    """A case's graph in the form the module will have: inputs (the test's, then the
    shared generators), outputs (the test's, then the updates), and its arguments."""

    inputs: list
    outputs: list
    args: list
    notes: list = field(default_factory=list)


# --- the graph ---------------------------------------------------------------

def _variable(x):
    return getattr(x, "variable", x)  # In(...) / Out(...) wrappers hold the variable


def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _filtered(var, value):
    """The value as PyTensor's Function passes it to the implementation."""
    if isinstance(value, np.random.Generator):
        return copy.deepcopy(value)
    try:
        return var.type.filter(value, allow_downcast=None)
    except Exception:  # noqa: BLE001 - let the module see it as the test gave it
        return value


def prepare(inputs, outputs, args, updates=None) -> Graph:
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.replace import clone_replace
    from pytensor.tensor.random.type import RandomGeneratorType

    inputs = [_variable(x) for x in inputs]
    outputs = [_variable(x) for x in _as_list(outputs)]
    updates = list(dict(updates or {}).items())
    everything = outputs + [value for _, value in updates]
    generators = [v for v in graph_inputs(everything)
                  if isinstance(v, SharedVariable) and isinstance(v.type, RandomGeneratorType)]
    replace = {g: g.type(name=g.name or "rng") for g in generators}
    if replace:
        everything = clone_replace(everything, replace=replace)
    args = [_filtered(var, value) for var, value in zip(inputs, args, strict=True)]
    args += [copy.deepcopy(g.get_value(borrow=True)) for g in generators]
    notes = [f"{len(generators)} shared generator(s) as inputs"] if generators else []
    if updates:
        notes.append(f"{len(updates)} update(s) as outputs")
    return Graph(inputs + list(replace.values()), everything, args, notes)


def _nodes(variables):
    """Every Apply node the variables depend on, inner graphs (Scan, OpFromGraph,
    Composite, ScalarLoop) included."""
    stack, seen = [list(variables)], set()
    while stack:
        outs = stack.pop()
        for node in io_toposort(list(graph_inputs(outs)), outs):
            yield node
            inner = getattr(node.op, "fgraph", None)
            if inner is not None and id(inner) not in seen:
                seen.add(id(inner))
                stack.append(list(inner.outputs))


def op_names(variables) -> list[str]:
    """Class names of the graph's Ops, with the scalar Op of an Elemwise and the core
    Op of a Blockwise counted too."""
    names = set()
    for node in _nodes(variables):
        op = node.op
        names.add(type(op).__name__)
        for attr in ("scalar_op", "core_op"):
            inner = getattr(op, attr, None)
            if inner is not None:
                names.add(type(inner).__name__)
    return sorted(names)


def _value_bytes(value) -> bytes:
    if isinstance(value, np.random.Generator):
        return json.dumps(value.bit_generator.state, sort_keys=True).encode()
    if isinstance(value, (np.ndarray, np.generic, int, float, complex, bool)):
        array = np.asarray(value)
        if array.dtype.kind != "O":
            return f"{array.dtype.str}{array.shape}".encode() + array.tobytes()
    return repr(value).encode()


def graph_key(graph: Graph, arguments: bool = True) -> str:
    """A hash of the graph's structure, constants and (unless ``arguments`` is false)
    arguments.  (Pickles of one graph differ from run to run: FunctionGraph timings,
    set orders; this does not.)"""
    from pytensor.graph.basic import Constant
    from pytensor.printing import debugprint

    digest = hashlib.sha256()
    text = debugprint(graph.outputs, file="str", print_type=True)
    digest.update(re.sub(r"0x[0-9a-fA-F]+", "0x", text).encode())
    digest.update(repr([(v.name, str(v.type)) for v in graph.inputs]).encode())
    for node in _nodes(graph.outputs):
        for var in node.inputs:
            if isinstance(var, Constant):
                digest.update(_value_bytes(var.data))
    for value in graph.args if arguments else ():
        digest.update(_value_bytes(value))
    return digest.hexdigest()[:24]


def write_graph(graph: Graph, path: Path) -> str:
    """Write the pickle (and the arguments next to it); returns how it was written."""
    import transpile

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        transpile.dump(graph.inputs, graph.outputs, path)
        how = "transpile.dump"
    except Exception as exc:  # noqa: BLE001 - fall back to a raw pickle, and say why
        how = f"raw pickle (transpile.dump refused: {one_line(exc)})"
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
        try:
            path.write_bytes(pickle.dumps((graph.inputs, graph.outputs), protocol=5))
        except Exception as exc:  # noqa: BLE001 - e.g. an Op class local to a test
            path.unlink(missing_ok=True)
            raise Unpicklable(f"cannot pickle the graph: {one_line(exc)}") from None
    return how


def reference(graph: Graph, py_mode) -> list:
    """The graph evaluated in the suite's Python mode."""
    return _evaluate(graph, py_mode)


def numba_reference(graph: Graph) -> list:
    """The graph evaluated in PyTensor's Numba mode: the reference where its Python
    mode cannot run a graph (a Scan gradient whose inner function is compiled in
    Numba mode needs a VM), and for random draws, which Numba's ``Generator`` makes
    differently from NumPy's for some distributions (the module draws with Numba's)."""
    return _evaluate(graph, "NUMBA")


def _evaluate(graph: Graph, mode) -> list:
    from pytensor import function

    fn = function(graph.inputs, graph.outputs, mode=mode, on_unused_input="ignore",
                  accept_inplace=True)
    return list(fn(*[copy.deepcopy(a) for a in graph.args]))


# --- the subprocesses ----------------------------------------------------------

def child_env() -> dict:
    """The environment a user would run in: PYTHONPATH kept (so a worktree's
    transpile is the one tested), the suite's NUMBA_BOUNDSCHECK and PyTensor flags
    dropped, one thread."""
    env = dict(os.environ)
    env.pop("NUMBA_BOUNDSCHECK", None)
    env.pop("PYTENSOR_FLAGS", None)
    if USER_FLAGS is not None:
        env["PYTENSOR_FLAGS"] = USER_FLAGS
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def transpile_command() -> list[str]:
    script = Path(sys.executable).parent / "transpile"
    return [str(script)] if script.exists() else [sys.executable, "-m", "transpile"]


def one_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")[:300]


def _refusal(stderr: str, returncode: int) -> dict:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    last = next((line for line in reversed(lines) if line.startswith("transpile:")),
                lines[-1] if lines else f"exit status {returncode}")
    message = last.removeprefix("transpile: error: ")
    unsupported = re.search(r"unsupported (?:scalar )?Op ([\w.]+)", message)
    if unsupported:
        return {"refusal": "unsupported Op", "op": unsupported.group(1).rsplit(".", 1)[-1],
                "reason": message}
    if last.startswith("transpile: error: "):
        loader = re.search(r"unpickl|pickle|allow-module", message)
        return {"refusal": "loader" if loader else "other", "reason": message}
    internal = re.sub(r" \(set TRANSPILE_DEBUG=1.*$", "", last)
    return {"refusal": "internal error",
            "reason": internal.removeprefix("transpile: internal error: ")}


def run_transpile(pkl: Path, module: Path) -> dict:
    """``transpile graph.pkl -o module.py``: {} on success, else the outcome."""
    module.parent.mkdir(parents=True, exist_ok=True)
    module.unlink(missing_ok=True)
    start = time.perf_counter()
    try:
        done = subprocess.run(transpile_command() + [str(pkl), "-o", str(module)],
                              capture_output=True, text=True, timeout=TIMEOUT,
                              env=child_env(), cwd=pkl.parent)
    except subprocess.TimeoutExpired:
        return {"outcome": "timeout", "reason": f"transpile took over {TIMEOUT:.0f} s"}
    seconds = round(time.perf_counter() - start, 2)
    if done.returncode == 0 and module.exists():
        return {"transpile_seconds": seconds}
    return {"outcome": "refused", "transpile_seconds": seconds,
            **_refusal(done.stderr, done.returncode)}


def run_module(module: Path, inputs: Path, outputs: Path) -> dict:
    """The runner's status, from a fresh process."""
    status_path = module.with_suffix(".status.json")
    status_path.unlink(missing_ok=True)
    outputs.unlink(missing_ok=True)
    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"),
                                                      str(HARNESS.parent)]))
    command = [sys.executable, "-m", "conformance.runner", str(module), str(inputs),
               str(outputs), str(status_path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                              env=env, cwd=HARNESS.parent)
    except subprocess.TimeoutExpired:
        return {"stage": "timeout"}
    if not status_path.exists():  # killed, or crashed inside Numba's compiler
        tail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])
        return {"stage": "process", "error": tail[-1][:300]}
    return json.loads(status_path.read_text())


# --- the comparison -----------------------------------------------------------

def default_assert(x, y):
    """The suite's default check: allclose at rtol 1e-4, dtype and shape strict, and
    an array where the reference has one."""
    np.testing.assert_allclose(x, y, rtol=1e-4, strict=True)
    assert isinstance(x, np.ndarray) == isinstance(y, np.ndarray), (
        f"{type(x).__name__} where the reference has {type(y).__name__}")


def as_declared(value, var):
    """A saved result in the form PyTensor returns for ``var``: the module returns 0-d
    results as scalars (its documented contract), PyTensor as 0-d arrays (tensors) or
    NumPy scalars (scalar types).  Only a value of the same kind is converted."""
    from pytensor.scalar import ScalarType

    dtype = getattr(var.type, "dtype", None)
    if dtype is None or not isinstance(value, np.ndarray) or value.ndim != 0:
        return value
    same_kind = value.dtype.kind == np.dtype(dtype).kind or (
        value.dtype.kind in "iu" and np.dtype(dtype).kind in "iu")
    if not same_kind:
        return value
    if isinstance(var.type, ScalarType):
        return np.dtype(dtype).type(value[()])
    return np.asarray(value, dtype=dtype)


def discrepancy(got, want) -> dict:
    """Max absolute and relative error where the two are comparable."""
    try:
        got, want = np.asarray(got), np.asarray(want)
    except Exception:  # noqa: BLE001
        return {}
    if got.shape != want.shape or got.dtype.kind not in "biufc" or want.dtype.kind not in "biufc":
        return {"got": f"{got.dtype}{list(got.shape)}", "want": f"{want.dtype}{list(want.shape)}"}
    g, w = got.astype(np.complex128), want.astype(np.complex128)
    nan_mismatch = int(np.sum(np.isnan(g) != np.isnan(w)))
    both = ~(np.isnan(g) | np.isnan(w)) & (g != w)
    diff = np.abs(g - w)[both]
    rel = diff / np.maximum(np.abs(w[both]), np.finfo(float).tiny)
    out = {"max_abs": float(diff.max()) if diff.size else 0.0,
           "max_rel": float(rel.max()) if rel.size else 0.0,
           "mismatched": int(both.sum()) + nan_mismatch, "size": int(g.size)}
    return {k: (v if np.isfinite(v) else str(v)) for k, v in out.items()}


def compare(got: list, want: list, graph: Graph, assert_fn) -> dict:
    """{} when every output agrees, else the first that does not."""
    if len(got) != len(want):
        return {"reason": f"{len(got)} outputs, the reference has {len(want)}"}
    for k, (g, w, var) in enumerate(zip(got, want, graph.outputs, strict=True)):
        g = as_declared(g, var)
        try:
            if isinstance(w, np.random.Generator):
                assert saved.same(g, w), "generator state differs"
            elif isinstance(w, slice):
                assert saved.same(g, w), f"{g!r} where the reference has {w!r}"
            else:
                (assert_fn or default_assert)(g, w)
        except Exception as exc:  # noqa: BLE001 - any failing check is a wrong output
            detail = {} if isinstance(w, (np.random.Generator, slice)) else discrepancy(g, w)
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            why = lines[0] if lines else type(exc).__name__
            if isinstance(detail.get("max_abs"), float) and detail["mismatched"]:
                why = (f"max abs err {detail['max_abs']:.3g}, max rel err "
                       f"{detail['max_rel']:.3g} ({detail['mismatched']} of {detail['size']})")
            return {"reason": f"output {k} ({var.type}): {why[:300]}", "output": k, **detail}
    return {}


def check(graph: Graph, pkl: Path, module: Path, want, ref_error, assert_fn) -> dict:
    """Transpile, run and compare: the case's outcome and its details.  A module's
    random draws that differ from the Python mode's are compared with PyTensor's
    Numba mode's (:func:`numba_reference`)."""
    result = run_transpile(pkl, module)
    if "outcome" in result:
        return result
    outputs = module.with_suffix(".out.npz")
    status = run_module(module, pkl.with_suffix(".npz"), outputs)
    result["run_seconds"] = status.get("call_seconds")
    stage, error = status["stage"], status.get("error")
    if stage == "timeout":
        return {**result, "outcome": "timeout", "reason": f"module ran over {TIMEOUT:.0f} s"}
    if stage == "contract":
        return {**result, "outcome": "wrong", "reason": error}
    if stage == "call" and ref_error is not None and not status.get("numba_error"):
        return {**result, "outcome": "pass", "reason": f"both raise ({error})"}
    if stage != "done":
        return {**result, "outcome": "crash", "reason": f"{stage}: {error}"}
    if ref_error is not None:
        return {**result, "outcome": "wrong",
                "reason": f"the module returns where the reference raises {ref_error}"}
    got = saved.load(outputs)
    mismatch = compare(got, want, graph, assert_fn)
    if mismatch and any(isinstance(a, np.random.Generator) for a in graph.args):
        try:
            again = compare(got, numba_reference(graph), graph, assert_fn)
        except Exception:  # noqa: BLE001 - PyTensor's Numba mode fails: keep the first
            again = mismatch
        if not again:
            return {**result, "outcome": "pass",
                    "reason": "the draws are PyTensor's Numba mode's (not NumPy's)"}
    return {**result, "outcome": "wrong" if mismatch else "pass", **mismatch}
