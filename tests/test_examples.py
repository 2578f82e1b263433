"""The committed generated_examples/: fresh, and correct.

Fresh: regenerating every example (in fresh processes) reproduces the committed
graph.pkl (as a graph: same digest) and kernel.py (byte for byte), and transpiling
the committed graph.pkl reproduces kernel.py.
Correct: each committed kernel.py, imported, matches PyTensor's evaluation of the
committed graph.pkl on random inputs.
Under another PyTensor version (make test-pytensor3), where the committed files are
not expected to match: each build.py's graph, transpiled with this PyTensor, matches
its evaluation.
"""

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytensor
import pytest
from oracle import REFERENCE_MODE, check_output, import_source, transpile_module

from transpile.load import load_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "generated_examples"
NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/build.py"))


def _generated_with() -> str:
    text = (EXAMPLES / "seed_recurrence" / "kernel.py").read_text()
    return next(line.split()[-1] for line in text.splitlines() if line.startswith("PyTensor:"))


needs_same_pytensor = pytest.mark.skipif(
    pytensor.__version__ != _generated_with(),
    reason="the committed examples were generated with another PyTensor version",
)
needs_other_pytensor = pytest.mark.skipif(
    pytensor.__version__ == _generated_with(),
    reason="the committed examples are checked as they are",
)


@needs_same_pytensor
def test_examples_are_fresh():
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "regenerate.py"), "--check"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]


@needs_same_pytensor
@pytest.mark.parametrize("name", NAMES)
def test_committed_graph_gives_the_committed_kernel(name):
    """What each kernel's header says regenerates it does: ``transpile graph.pkl``
    on the committed graph (not only on a fresh dump of build.py: a graph file that
    lost a constant's name would give ``CONST`` where the kernel reads ``x_data``)."""
    folder = EXAMPLES / name
    args_file = folder / "transpile.args"
    extra = args_file.read_text().split() if args_file.exists() else []
    result = subprocess.run([sys.executable, "-m", "transpile", "graph.pkl", *extra],
                            capture_output=True, text=True, cwd=folder)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == (folder / "kernel.py").read_text()


def _allowed(name):
    args_file = EXAMPLES / name / "transpile.args"
    args = args_file.read_text().split() if args_file.exists() else []
    return [args[k + 1] for k, a in enumerate(args) if a == "--allow-module"]


def _skip_without_needs(name):
    """Skip where the example's build needs a package this environment lacks (PyMC
    under PyTensor 3, which no PyMC release supports yet)."""
    uses_pymc = "import pymc" in (EXAMPLES / name / "build.py").read_text()
    for module in [*_allowed(name), *(["pymc"] if uses_pymc else [])]:
        pytest.importorskip(module)


def _value(var, rng):
    shape = tuple(7 if s is None else s for s in var.type.shape)
    if var.name == "c":  # Newton's sqrt wants a positive number
        return np.float64(2.0)
    value = rng.normal(size=shape) * 0.5
    return value.astype(var.type.dtype) if shape else np.dtype(var.type.dtype).type(value)


@needs_same_pytensor
@pytest.mark.parametrize("name", NAMES)
def test_example_kernel_matches_pytensor(name):
    _skip_without_needs(name)
    folder = EXAMPLES / name
    fgraph = load_file(folder / "graph.pkl", _allowed(name)).fgraph
    rng = np.random.default_rng(7)
    values = [_value(v, rng) for v in fgraph.inputs]
    want = pytensor.function(fgraph.inputs, fgraph.outputs, mode=REFERENCE_MODE)(*values)
    module = import_source((folder / "kernel.py").read_text(), stem=f"example_{name}")
    _check(name, module.kernel(*values), want, fgraph.outputs)


def _check(name, got, want, outputs):
    got = list(got) if len(outputs) > 1 else [got]
    for k, (g, w, var) in enumerate(zip(got, want, outputs, strict=True)):
        check_output(g, w, var, f"{name} output {k}", {"rtol": 1e-8, "atol": 1e-10})


@needs_other_pytensor
@pytest.mark.parametrize("name", NAMES)
def test_example_graph_transpiled_with_this_pytensor_matches_it(name):
    _skip_without_needs(name)
    built = runpy.run_path(str(EXAMPLES / name / "build.py"))
    inputs, outputs = built["inputs"], built["outputs"]
    rng = np.random.default_rng(7)
    values = [_value(v, rng) for v in inputs]
    want = pytensor.function(inputs, outputs, mode=REFERENCE_MODE)(*values)
    module = transpile_module(inputs, outputs)
    _check(name, module.kernel(*values), want, outputs)


@needs_other_pytensor
@pytest.mark.parametrize("name", NAMES)
def test_committed_graph_loads_under_this_pytensor(name):
    """A graph pickled by the other PyTensor version (2.38's spelling of a Subtensor's
    index list, attributes 3.0's classes no longer keep) loads, transpiles and matches
    this PyTensor's own evaluation of the loaded graph."""
    _skip_without_needs(name)
    fgraph = load_file(EXAMPLES / name / "graph.pkl", _allowed(name)).fgraph
    rng = np.random.default_rng(7)
    values = [_value(v, rng) for v in fgraph.inputs]
    want = pytensor.function(fgraph.inputs, fgraph.outputs, mode=REFERENCE_MODE)(*values)
    module = transpile_module(fgraph.inputs, fgraph.outputs)
    _check(name, module.kernel(*values), want, fgraph.outputs)
