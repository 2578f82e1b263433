"""``transpile check`` and ``transpile pymc check`` (transpile/check.py): they pass on
every committed example and fail, naming the output, on a module edited to be wrong.

Each runs as a user runs it, in a fresh process (the module is imported under its
file's stem, as ``import kernel`` would: Numba's cache records that name).
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "generated_examples"
GRAPH_EXAMPLES = sorted(p.parent.name for p in EXAMPLES.glob("*/build.py"))
FULL = bool(os.environ.get("TRANSPILE_PYMC_FULL"))
# Each check compiles its module in a fresh process: two graph examples and the
# pymc_hmc module by default, every committed example with TRANSPILE_PYMC_FULL=1.
if not FULL:
    GRAPH_EXAMPLES = [e for e in GRAPH_EXAMPLES if e in ("logistic_regression",
                                                          "seed_recurrence")]
# nutpie's module is the same model as pymc_hmc's.
PYMC_EXAMPLES = {"pymc_hmc": "eight_schools.py",
                 **({"nutpie": "eight_schools.py"} if FULL else {})}
NEEDS = {"pymc_model": "pymc"}
HAS_PYMC = importlib.util.find_spec("pymc") is not None


def _transpile(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "transpile", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=900)


def _extra(example):
    args = EXAMPLES / example / "transpile.args"
    return args.read_text().split() if args.exists() else []


@pytest.mark.parametrize("example", GRAPH_EXAMPLES)
def test_check_passes_on_committed_graph_examples(example):
    if example in NEEDS:
        pytest.importorskip(NEEDS[example])
    folder = EXAMPLES / example
    result = _transpile("check", folder / "graph.pkl", folder / "kernel.py",
                        *_extra(example))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "max abs error" in result.stdout and "MISMATCH" not in result.stdout


@pytest.mark.skipif(not HAS_PYMC, reason="PyMC is not installed")
@pytest.mark.parametrize("example", sorted(PYMC_EXAMPLES))
def test_pymc_check_passes_on_committed_examples(example):
    folder = EXAMPLES / example
    result = _transpile("pymc", "check", "model.py", PYMC_EXAMPLES[example], cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LOGP_CFUNC.grad" in result.stdout and "expand.theta" in result.stdout


def _edited(source: Path, out: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text, f"{old!r} is not in {source}"
    out.write_text(text.replace(old, new, 1))
    return out


def test_check_fails_on_an_edited_graph_module(tmp_path):
    folder = EXAMPLES / "logistic_regression"
    # A wrong sign in the loss: 1 + y instead of 1 - y.
    module = _edited(folder / "kernel.py", tmp_path / "kernel.py", "sub_1 = 1.0 - y[i]",
                     "sub_1 = 1.0 + y[i]")
    result = _transpile("check", folder / "graph.pkl", module)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "MISMATCH" in result.stdout
    assert "the module differs from PyTensor in" in result.stderr


def test_check_reads_inputs_from_npz_and_honours_tolerances(tmp_path):
    folder = EXAMPLES / "seed_recurrence"
    text = (folder / "kernel.py").read_text()
    # A relative error of about 1e-6 in every output: within --rtol 1e-5, not 1e-9.
    module = _edited(folder / "kernel.py", tmp_path / "kernel.py", "    return ",
                     "    return 1.000001 * ")
    assert module.read_text() != text
    rng = np.random.default_rng(0)
    from transpile.load import load_file

    fgraph = load_file(folder / "graph.pkl").fgraph
    arrays = {}
    for k, var in enumerate(fgraph.inputs):
        shape = tuple(4 if s is None else s for s in var.type.shape)
        arrays[f"arr_{k}"] = rng.uniform(0.1, 0.9, size=shape).astype(var.type.dtype)
    np.savez(tmp_path / "inputs.npz", **arrays)
    loose = _transpile("check", folder / "graph.pkl", module, "--inputs",
                       tmp_path / "inputs.npz", "--rtol", "1e-5", "--atol", "0")
    assert loose.returncode == 0, loose.stdout + loose.stderr
    tight = _transpile("check", folder / "graph.pkl", module, "--inputs",
                       tmp_path / "inputs.npz", "--rtol", "1e-9", "--atol", "0")
    assert tight.returncode == 1 and "rtol=1e-09" in tight.stderr, tight.stderr


@pytest.mark.skipif(not HAS_PYMC, reason="PyMC is not installed")
def test_pymc_check_fails_naming_the_output(tmp_path):
    folder = EXAMPLES / "nutpie"
    (tmp_path / "model.py").write_text((folder / "model.py").read_text())
    # expand's theta wrong: mu - tau * theta_t instead of mu + tau * theta_t.
    module = _edited(folder / "eight_schools.py", tmp_path / "eight_schools.py",
                     "add[i] = mu + tau * theta_t[i]", "add[i] = mu - tau * theta_t[i]")
    result = _transpile("pymc", "check", "model.py", module.name, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "expand.theta" in result.stderr and "EXPAND_CFUNC" in result.stderr
    assert "logp_dlogp_flat" not in result.stderr  # the density itself is right
