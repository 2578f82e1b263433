"""Run one generated module on saved inputs, in a process of its own (no PyTensor).

    python -m conformance.runner MODULE.py INPUTS.npz OUTPUTS.npz STATUS.json

Imports the module, calls its entry ``kernel`` on the inputs and saves what it returns
(always a list: a single output is wrapped).  Checks the module's contract on the way:
the inputs (random generators aside, which a module advances in place, as
documented) must be unchanged afterwards and no output may share memory with an input.
STATUS.json says how far it got: ``{"stage": "done"}``, or the stage that failed
(``import``, ``call``, ``contract``, ``save``) with the error's first line.
"""

import importlib.util
import json
import re
import sys
import time
import traceback

import numpy as np

from conformance import values as saved

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _first_line(exc: BaseException) -> str:
    """The error's type and its first informative line (Numba's typing errors open
    with a "Failed in nopython mode pipeline" line that says nothing of the cause)."""
    lines = [line.strip() for line in ANSI.sub("", str(exc)).splitlines()]
    lines = [line for line in lines if line and not line.startswith("Failed in ")]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def _is_numba_error(exc: BaseException) -> bool:
    """Numba rejecting the code (typing, lowering), as opposed to the code raising."""
    from numba.core.errors import NumbaError

    return isinstance(exc, NumbaError)


def _import(path: str):
    spec = importlib.util.spec_from_file_location("generated_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _contract(args, originals, results) -> str | None:
    for k, (arg, original) in enumerate(zip(args, originals, strict=True)):
        if isinstance(arg, np.random.Generator):
            continue  # advanced in place by design: the one argument a module changes
        if not saved.same(arg, original):
            return f"input {k} was modified"
        for j, result in enumerate(results):
            if (isinstance(arg, np.ndarray) and isinstance(result, np.ndarray)
                    and np.shares_memory(arg, result)):
                return f"output {j} shares memory with input {k}"
    return None


def run(module_path, inputs_path, outputs_path) -> dict:
    status = {"stage": "import"}
    try:
        start = time.perf_counter()
        module = _import(module_path)
        status["import_seconds"] = round(time.perf_counter() - start, 3)
        status["stage"] = "call"
        args = saved.load(inputs_path)
        start = time.perf_counter()
        results = module.kernel(*args)  # the first call compiles
        status["call_seconds"] = round(time.perf_counter() - start, 3)
        if len(module.OUTPUTS) == 1:
            results = [results]
        status["stage"] = "contract"
        broken = _contract(args, saved.load(inputs_path), results)
        if broken:
            return {**status, "error": broken}
        status["stage"] = "save"
        saved.save(outputs_path, list(results))
    except Exception as exc:  # noqa: BLE001 - every failure is reported, by stage
        status["error"] = _first_line(exc)
        status["numba_error"] = _is_numba_error(exc)
        status["message"] = ANSI.sub("", str(exc))[:3000]
        status["traceback"] = traceback.format_exc(limit=-3)
        return status
    return {**status, "stage": "done"}


def main(argv) -> int:
    module_path, inputs_path, outputs_path, status_path = argv
    status = run(module_path, inputs_path, outputs_path)
    with open(status_path, "w") as f:
        json.dump(status, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
