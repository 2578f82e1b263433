"""The pytest plugin: every graph PyTensor's Numba test suite compiles becomes a case.

Loaded with ``-p conformance.plugin`` (the driver, ``python -m conformance``, does so).
At configure time, before any test module is imported, it wraps

- ``compare_numba_and_py`` of ``tests/link/numba/test_basic.py``, which the other test
  modules import by name: each call is a case, compared with the suite's own
  ``assert_fn``, and the suite's check still runs (its result is the case's
  "PyTensor-Numba" column);
- ``pytensor.function`` wherever it has been imported: a function compiled in Numba mode
  outside ``compare_numba_and_py`` (``function(..., mode="NUMBA")`` in test_random.py,
  test_scan.py, ...) becomes a case at its first call, compared with Python mode by the
  suite's default tolerance; its "PyTensor-Numba" column is the test's outcome.
  A function compiled again from the same graph in one test (``verify_grad`` compiles
  its cost once per point: hundreds of times) is checked at its first point only.

Records are appended, one JSON line per case, at the end of each test.  A case whose
graph, arguments and harness/transpile sources are unchanged since its last record is
not transpiled again (``--conformance-force`` does).
"""

import hashlib
import importlib.metadata
import inspect
import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

from . import case
from . import values as saved

STATE = None  # the Session's recorder, set at configure time


def pytest_addoption(parser):
    group = parser.getgroup("conformance")
    group.addoption("--conformance-root", default=".conformance",
                    help="where the corpus, modules and results go")
    group.addoption("--conformance-force", action="store_true",
                    help="re-check every case, even unchanged ones")


def pytest_configure(config):
    global STATE
    STATE = State(Path(config.getoption("conformance_root")).resolve(),
                  config.getoption("conformance_force"))
    sys.path.insert(0, str(config.rootpath))  # the suite imports `tests.link.numba...`
    _patch_function()
    import tests.link.numba.test_basic as suite

    STATE.py_mode = suite.py_mode
    suite.compare_numba_and_py = _compare(suite.compare_numba_and_py)
    suite.eval_python_only = _quiet(suite.eval_python_only)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    STATE.begin(item.nodeid)
    yield
    STATE.finish()


def pytest_runtest_logreport(report):
    if STATE is not None and STATE.nodeid == report.nodeid:
        STATE.report(report)


# --- the state of a run ----------------------------------------------------------

def source_key() -> str:
    """A hash of what a case's outcome depends on besides its graph: transpile's source
    files, this harness's checking code and the versions of PyTensor, Numba and NumPy."""
    import transpile

    digest = hashlib.sha256()
    package = Path(transpile.__file__).parent
    harness = [case.HARNESS / f"{name}.py" for name in ("case", "plugin", "runner", "values")]
    for path in sorted(package.rglob("*.py")) + harness:
        digest.update(path.name.encode() + path.read_bytes())
    for name in ("pytensor", "numba", "numpy"):
        digest.update(importlib.metadata.version(name).encode())
    return digest.hexdigest()[:16]


def results_path(root: Path, version: str) -> Path:
    return root / f"results-{version}.jsonl"


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def stable(text: str) -> str:
    """A test id without the memory addresses some parameters print with
    (``<function chisquare at 0x7f...>``), which differ from run to run."""
    return _ADDRESS.sub("", text)


def read_results(path: Path) -> dict:
    """The latest record of each case (keyed by its id without addresses)."""
    records = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                records[stable(record["id"])] = record
    return records


def split_nodeid(nodeid: str) -> tuple[str, str]:
    """``tests/link/numba/linalg/test_x.py::TestA::test_b[p-1]`` ->
    (``linalg/test_x``, ``TestA.test_b.p-1``): the corpus directory and file stem."""
    path, _, name = stable(nodeid).partition("::")
    testfile = path.removeprefix("tests/link/numba/").removesuffix(".py")
    function, _, params = name.replace("::", ".").partition("[")
    params = params.removesuffix("]")
    clean = re.sub(r"[^\w.-]+", "_", params).strip("_")
    if clean != params or len(clean) > 80:
        clean = f"{clean[:80]}-{hashlib.sha1(params.encode()).hexdigest()[:6]}"
    return testfile, f"{function}.{clean}" if params else function


class State:
    def __init__(self, root: Path, force: bool):
        self.root = root
        self.force = force
        self.version = importlib.metadata.version("pytensor")
        self.results = results_path(root, self.version)
        self.cache = {} if force else read_results(self.results)
        self.source_key = source_key()
        self.py_mode = None
        self.nodeid = None
        self.inside = 0  # > 0 while the suite's own compare runs: no nested cases
        self.cases: list[dict] = []
        self.graphs: set[str] = set()  # the function graphs this test has checked
        self.test = None

    def begin(self, nodeid):
        self.nodeid, self.cases, self.test = nodeid, [], "passed"
        self.graphs = set()

    def report(self, report):
        if report.when == "call" or report.failed or report.skipped:
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
            elif report.when == "call":
                outcome = report.outcome
            else:
                outcome = "error" if report.failed else "skipped"
            if self.test in ("passed", "xpassed"):  # the first failure sticks
                self.test = outcome

    def finish(self):
        lines = []
        for record in self.cases:
            record["test"] = self.test
            passed = self.test == "passed" or (
                record["kind"] == "compare" and record.get("numba_error") is None)
            record["pytensor_numba"] = "pass" if passed else "fail"
            lines.append(json.dumps(record) + "\n")
        if lines:
            self.results.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.results, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, "".join(lines).encode())  # one write: workers append too
            finally:
                os.close(fd)
        self.nodeid, self.cases = None, []
        FUNCTIONS.clear()  # a Function outliving its test is not recorded later

    def new_case(self, kind: str) -> dict:
        testfile, stem = split_nodeid(self.nodeid)
        call = len(self.cases)
        record = {"id": f"{self.nodeid}#{call}", "nodeid": self.nodeid, "file": testfile,
                  "name": stem + (f"__{call}" if call else ""), "call": call, "kind": kind,
                  "pytensor": self.version, "date": time.strftime("%Y-%m-%d %H:%M:%S")}
        self.cases.append(record)
        return record


# --- one case ----------------------------------------------------------------------

class Repeated(Exception):
    """A function graph this test has checked already (at other arguments)."""


class Recorder:
    """Prepares a case before the suite's own call (which may advance shared state)
    and checks it after."""

    def __init__(self, kind, inputs, outputs, args, updates, py_mode=None):
        self.py_mode = py_mode or STATE.py_mode
        self.record = record = STATE.new_case(kind)
        base = STATE.root / "corpus" / record["file"] / record["name"]
        self.pkl = base.with_name(base.name + ".pkl")
        self.module = (STATE.root / "modules" / record["file"] / record["name"])
        self.module = self.module.with_name(self.module.name + ".py")
        self.graph = self.want = self.ref_error = None
        self.cached = self.unsaveable = None
        start = time.perf_counter()
        try:
            self._prepare(inputs, outputs, args, updates)
        except Repeated:
            STATE.cases.remove(record)
            self.record = None
        except case.Unpicklable as exc:
            record.update(outcome="skipped", reason=str(exc))
        except Exception as exc:  # noqa: BLE001 - a harness failure must not fail the test
            record.update(outcome="harness", reason=f"preparing: {case.one_line(exc)}")
        self.seconds = time.perf_counter() - start

    def _prepare(self, inputs, outputs, args, updates):
        record = self.record
        self.graph = graph = case.prepare(inputs, outputs, args, updates)
        if record["kind"] == "function":
            structure = case.graph_key(graph, arguments=False)
            if structure in STATE.graphs:
                raise Repeated
            STATE.graphs.add(structure)
        record["ops"] = case.op_names(graph.outputs)
        record["notes"] = graph.notes
        record["graph"] = case.write_graph(graph, self.pkl)
        record["pkl"] = str(self.pkl.relative_to(STATE.root))
        try:
            saved.save(self.pkl.with_suffix(".npz"), graph.args)
        except saved.Unsaveable as exc:
            self.pkl.with_suffix(".npz").unlink(missing_ok=True)
            self.unsaveable = f"cannot save the arguments: {exc}"
        record["key"] = key = f"{case.graph_key(graph)}-{STATE.source_key}"
        previous = STATE.cache.get(stable(record["id"]))
        if previous and previous.get("key") == key and previous.get("outcome") != "harness":
            self.cached = previous
            return
        try:
            self.want = case.reference(graph, self.py_mode)
        except NotImplementedError as exc:  # Python mode cannot run it: Numba mode can
            try:
                self.want = case.numba_reference(graph)
                record["reference"] = "PyTensor's Numba mode"
            except Exception:  # noqa: BLE001
                self.ref_error = case.one_line(exc)
        except Exception as exc:  # noqa: BLE001 - error-checking tests: the module must raise
            self.ref_error = case.one_line(exc)

    def _numba_reference(self):
        """The suite's own call in Numba mode returned where the Python mode raised:
        the test did not expect an error there (the Python mode fails on a graph that
        an earlier compilation left rewritten in place, such as an inner graph with
        an inplace Op), so that mode's result is the reference."""
        try:
            self.want = case.numba_reference(self.graph)
        except Exception:  # noqa: BLE001 - it raises after all: keep the Python error
            return
        self.record["reference"] = "PyTensor's Numba mode"
        self.ref_error = None

    def finish(self, assert_fn):
        record = self.record
        if record is None or "outcome" in record:
            return
        start = time.perf_counter()
        try:
            if self.ref_error and record["kind"] == "function" and "numba_error" not in record:
                self._numba_reference()
            if self.cached:
                keep = ("outcome", "reason", "refusal", "op", "output", "max_abs", "max_rel",
                        "transpile_seconds", "run_seconds", "seconds")
                record.update({k: self.cached[k] for k in keep if k in self.cached},
                              cached=True)
                return
            if self.unsaveable:
                result = case.run_transpile(self.pkl, self.module)
                record.update(result if "outcome" in result else
                              {"outcome": "skipped", "reason": self.unsaveable})
            else:
                record.update(case.check(self.graph, self.pkl, self.module, self.want,
                                         self.ref_error, assert_fn))
        except Exception as exc:  # noqa: BLE001
            record.update(outcome="harness", reason=f"checking: {case.one_line(exc)}")
        finally:
            if not self.cached:
                record["seconds"] = round(self.seconds + time.perf_counter() - start, 2)


def _compare(original):
    """``compare_numba_and_py``, recording a case around the suite's own check."""

    def compare_numba_and_py(graph_inputs, graph_outputs, test_inputs, *args, **kwargs):
        if STATE.nodeid is None or STATE.inside:
            return original(graph_inputs, graph_outputs, test_inputs, *args, **kwargs)
        test_inputs = list(test_inputs)
        recorder = Recorder("compare", graph_inputs, graph_outputs, test_inputs,
                            kwargs.get("updates"), kwargs.get("py_mode"))
        STATE.inside += 1
        try:
            return original(graph_inputs, graph_outputs, test_inputs, *args, **kwargs)
        except Exception as exc:
            recorder.record["numba_error"] = case.one_line(exc)
            raise
        finally:
            STATE.inside -= 1
            recorder.finish(kwargs.get("assert_fn"))

    compare_numba_and_py.__wrapped__ = original
    return compare_numba_and_py


def _quiet(original):
    """A suite helper that compiles in Numba mode itself: no cases inside it."""

    def wrapper(*args, **kwargs):
        STATE.inside += 1
        try:
            return original(*args, **kwargs)
        finally:
            STATE.inside -= 1

    wrapper.__wrapped__ = original
    return wrapper


# --- pytensor.function in Numba mode -----------------------------------------------

FUNCTIONS = {}  # id(compiled Function) -> the graph it was compiled from
RECORDING_CLASSES = {}


def _is_numba(mode) -> bool:
    from pytensor.compile.mode import get_mode
    from pytensor.link.numba.linker import NumbaLinker

    try:
        return mode is not None and isinstance(get_mode(mode).linker, NumbaLinker)
    except Exception:  # noqa: BLE001
        return False


def _recording_class(cls):
    """A subclass of PyTensor's Function whose first call records a case."""
    if cls not in RECORDING_CLASSES:
        def __call__(self, *args, **kwargs):
            spec = FUNCTIONS.pop(id(self), None)
            if spec is None or kwargs or STATE.nodeid is None or STATE.inside:
                return cls.__call__(self, *args, **kwargs)
            recorder = Recorder("function", spec["inputs"], spec["outputs"], args,
                                spec["updates"])
            try:
                return cls.__call__(self, *args)
            except Exception as exc:
                if recorder.record is not None:
                    recorder.record["numba_error"] = case.one_line(exc)
                raise
            finally:
                recorder.finish(None)

        RECORDING_CLASSES[cls] = type(cls.__name__, (cls,), {
            "__call__": __call__, "__slots__": (), "__module__": cls.__module__})
    return RECORDING_CLASSES[cls]


def _patch_function():
    import pytensor

    original = pytensor.function
    signature = inspect.signature(original)

    def function(*args, **kwargs):
        fn = original(*args, **kwargs)
        if STATE.nodeid is None or STATE.inside:
            return fn
        bound = signature.bind(*args, **kwargs).arguments
        if (_is_numba(bound.get("mode")) and bound.get("outputs") is not None
                and not bound.get("givens")):
            FUNCTIONS[id(fn)] = {"inputs": bound["inputs"], "outputs": bound["outputs"],
                                 "updates": bound.get("updates")}
            fn.__class__ = _recording_class(type(fn))
        return fn

    function.__wrapped__ = original
    for module in list(sys.modules.values()):
        if getattr(module, "function", None) is original:
            module.function = function
