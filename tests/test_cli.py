"""The command line, run as users run it: in a subprocess.

Every run starts a Python that imports PyTensor (seconds each), so all runs are
started once, concurrently, by the ``runs`` fixture; the tests only read results.
Every failure must be one line on stderr, no traceback, a non-zero exit status,
nothing on stdout, and no file written or touched.
"""

import ast
import os
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytensor.tensor as pt
import pytest
from once import once_per_run
from oracle import import_source
from pytensor.graph.fg import FunctionGraph

import transpile
from transpile.load import load_file

TESTS = Path(__file__).resolve().parent
EXE = Path(sys.executable).parent / "transpile"
ORIGINAL = "# a file the user already had\n"

# The subprocess runs are made once, by session fixtures: every test of this file runs
# on one xdist worker (`--dist loadgroup`, Makefile), and a session fixture stays set
# up when that worker runs other files' tests in between (a module one would be torn
# down and made again).
pytestmark = pytest.mark.xdist_group("cli")

MODEL = """\
import pytensor.tensor as pt

x = pt.vector("x")
s = pt.scalar("s")
inputs = [x, s]
outputs = [pt.exp(x) * s, (x ** 2).sum()]
if __name__ == "__main__":
    raise SystemExit("not run by transpile dump")
"""


class Call:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _prepare(work: Path) -> None:
    from custom_op_demo import times_three

    x, s = pt.vector("x"), pt.scalar("s")
    transpile.dump([x, s], [pt.exp(x) * s, (x**2).sum()], work / "graph.pkl")
    transpile.dump([x], [times_three(x) + 1], work / "custom.pkl")
    # A constant index out of bounds: PyTensor's constant folding raises on it.
    transpile.dump([], [pt.as_tensor(np.arange(3))[[4]]], work / "folding.pkl")
    no_outputs = FunctionGraph([x], [], clone=True)
    (work / "empty_graph.pkl").write_bytes(pickle.dumps(no_outputs))
    (work / "hostile.pkl").write_bytes(
        pickle.dumps(Call(os.system, f"touch {work / 'pwned'}")))
    (work / "notes.pkl").write_text("these are notes, not a pickle\n")
    (work / "existing.py").write_text(ORIGINAL)
    (work / "model.py").write_text(MODEL)
    (work / "no_outputs_model.py").write_text(MODEL.replace("outputs =", "results ="))
    (work / "broken_model.py").write_text("raise RuntimeError('the model is broken')\n")


COMMANDS = {
    "help": ["--help"],
    "dump_help": ["dump", "--help"],
    "version": ["--version"],
    "stdout": ["graph.pkl"],
    "file": ["graph.pkl", "-o", "out/kernels.py"],
    "flags": ["graph.pkl", "--name", "logp", "--no-rewrite", "--no-cache",
              "--fastmath", "-o", "flags.py"],
    "plugin": ["custom.pkl", "--allow-module", "custom_op_demo", "--plugin",
               "custom_op_plugin", "-o", "plugin.py"],
    "dump": ["dump", "model.py", "-o", "dumped.pkl"],
    "folding": ["folding.pkl", "-o", "folding.py"],
    # Failures: each may only print one line to stderr and must leave existing.py.
    "missing": ["missing.pkl", "-o", "existing.py"],
    "directory": ["out_dir_that_is_a_dir", "-o", "existing.py"],
    "not_a_pickle": ["notes.pkl", "-o", "existing.py"],
    "hostile": ["hostile.pkl", "-o", "existing.py"],
    "custom_refused": ["custom.pkl", "-o", "existing.py"],
    "unsupported": ["custom.pkl", "--allow-module", "custom_op_demo",
                    "-o", "existing.py"],
    "no_outputs": ["empty_graph.pkl", "-o", "existing.py"],
    "name_class": ["graph.pkl", "--name", "class", "-o", "existing.py"],
    "name_1x": ["graph.pkl", "--name", "1x", "-o", "existing.py"],
    "name_a-b": ["graph.pkl", "--name", "a-b", "-o", "existing.py"],
    "name_np": ["graph.pkl", "--name", "np", "-o", "existing.py"],
    "name_range": ["graph.pkl", "--name", "range", "-o", "existing.py"],
    "bad_plugin": ["graph.pkl", "--plugin", "no_such_plugin_x", "-o", "existing.py"],
    "bad_allow": ["graph.pkl", "--allow-module", "no_such_module_x",
                  "-o", "existing.py"],
    "no_output_dir": ["graph.pkl", "-o", "no/such/dir/kernels.py"],
    "dump_missing": ["dump", "missing_model.py", "-o", "existing.py"],
    "dump_no_outputs": ["dump", "no_outputs_model.py", "-o", "existing.py"],
    "dump_broken": ["dump", "broken_model.py", "-o", "existing.py"],
}
SUCCESSES = ("help", "dump_help", "version", "stdout", "file", "flags", "plugin",
             "dump", "folding")
FAILURES = [name for name in COMMANDS if name not in SUCCESSES]


def _work(work: Path) -> Path:
    _prepare(work)
    (work / "out").mkdir()
    (work / "out_dir_that_is_a_dir").mkdir()
    return work


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    return once_per_run(tmp_path_factory, "cli", _work)


@pytest.fixture(scope="session")
def runs(work, tmp_path_factory):
    # on_opt_error=raise (as PyTensor's own test suite sets it) must not change what
    # transpile does: a rewrite that raises is skipped with a note.
    env = {**os.environ, "PYTHONPATH": str(TESTS), "TRANSPILE_DEBUG": "",
           "PYTENSOR_FLAGS": "on_opt_error=raise"}

    def run(args):
        return subprocess.run([str(EXE), *args], capture_output=True, text=True,
                              cwd=work, env=env, timeout=300)

    def run_all(_):
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = dict(zip(COMMANDS, pool.map(run, COMMANDS.values()), strict=True))
        results["module"] = subprocess.run(
            [sys.executable, "-m", "transpile", "--version"],
            capture_output=True, text=True, cwd=work, env=env,
        )
        return results

    return once_per_run(tmp_path_factory, "cli_runs", run_all)


def _ok(result):
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


# ---- help and version ------------------------------------------------------------


def test_help_names_every_flag(runs):
    text = _ok(runs["help"])
    for flag in ("-o", "--output", "--name", "--no-rewrite", "--no-cache", "--fastmath",
                 "--allow-module", "--plugin", "--version", "transpile dump"):
        assert flag in text
    dump_text = _ok(runs["dump_help"])
    for flag in ("script", "-o", "--inputs", "--outputs"):
        assert flag in dump_text


def test_version(runs):
    assert _ok(runs["version"]).strip() == f"transpile {transpile.__version__}"
    assert _ok(runs["module"]).strip() == f"transpile {transpile.__version__}"


# ---- output ----------------------------------------------------------------------


def test_stdout_is_a_valid_module(runs, work):
    source = _ok(runs["stdout"])
    tree = ast.parse(source)
    assert any(isinstance(n, ast.FunctionDef) and n.name == "kernel" for n in tree.body)
    module = import_source(source, stem="cli_stdout")
    x = np.linspace(-1.0, 1.0, 5)
    y, total = module.kernel(x, 2.0)
    np.testing.assert_allclose(y, np.exp(x) * 2.0, rtol=1e-12)
    np.testing.assert_allclose(total, (x**2).sum(), rtol=1e-12)


def test_output_file_is_written_whole_and_alone(runs, work):
    assert _ok(runs["file"]) == ""
    written = work / "out" / "kernels.py"
    assert written.read_text() == runs["stdout"].stdout
    assert os.listdir(work / "out") == ["kernels.py"]  # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert written.stat().st_mode & 0o777 == 0o666 & ~umask


def test_flags_reach_the_module(runs, work):
    _ok(runs["flags"])
    source = (work / "flags.py").read_text()
    assert "def logp(" in source and "def kernel(" not in source
    assert "fastmath=True" in source and "cache=True" not in source
    assert "none (--no-rewrite)" in source
    flags = "--name logp --no-rewrite --no-cache --fastmath"
    assert f"Regenerate:  transpile graph.pkl {flags} -o <this file>" in source


def test_plugin_registers_a_lowering_for_a_users_op(runs, work):
    _ok(runs["plugin"])
    source = (work / "plugin.py").read_text()
    assert "custom_op" not in source.split('"""', 2)[2]  # no import of the user's code
    module = import_source(source, stem="cli_plugin")
    x = np.arange(4.0)
    np.testing.assert_array_equal(module.kernel(x), 3 * x + 1)


def test_a_failing_rewrite_is_skipped_with_a_note(runs, work):
    """Constant folding raises on an out-of-bounds constant index; the node is left
    for the module, which raises IndexError as PyTensor does."""
    result = runs["folding"]
    assert result.returncode == 0, result.stderr
    # (PyTensor 3.0's index rewrites fail on it too: a note each, nothing else)
    note = "transpile: note: a PyTensor rewrite failed and was skipped: "
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith(note) for line in lines), lines
    assert any(line.startswith(note + "constant_folding") for line in lines), lines
    module = import_source((work / "folding.py").read_text(), "folding")
    with pytest.raises(IndexError):
        module.kernel()


def test_dump_writes_a_graph_pickle(runs, work):
    _ok(runs["dump"])
    fgraph = load_file(work / "dumped.pkl").fgraph
    assert [v.name for v in fgraph.inputs] == ["x", "s"]
    assert len(fgraph.outputs) == 2


# ---- failures --------------------------------------------------------------------


@pytest.mark.parametrize("name", FAILURES)
def test_a_failure_is_one_line_and_writes_nothing(runs, work, name):
    result = runs[name]
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("transpile: error: ")
    assert "Traceback" not in result.stderr
    assert (work / "existing.py").read_text() == ORIGINAL
    leftovers = [p.name for p in work.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers
    assert not (work / "pwned").exists()


@pytest.mark.parametrize(
    "name, fragments",
    [
        ("missing", ["no such file: missing.pkl"]),
        ("directory", ["is a directory"]),
        ("not_a_pickle", ["not a readable graph pickle"]),
        ("hostile", ["'posix.system'", "no business naming it"]),
        ("custom_refused", ["'custom_op_demo.TimesThree'",
                            "--allow-module custom_op_demo"]),
        ("unsupported", ["unsupported Op custom_op_demo.TimesThree",
                         "@transpile.register(TimesThree)", "--plugin"]),
        ("no_outputs", ["no outputs"]),
        ("name_class", ["--name 'class'", "not a valid Python identifier"]),
        ("name_1x", ["--name '1x'", "not a valid Python identifier"]),
        ("name_a-b", ["--name 'a-b'", "not a valid Python identifier"]),
        ("name_np", ["--name 'np'", "clashes"]),
        ("name_range", ["--name 'range'", "builtin"]),
        ("bad_plugin", ["--plugin no_such_plugin_x", "No module named"]),
        ("bad_allow", ["--allow-module no_such_module_x", "cannot import"]),
        ("no_output_dir", ["cannot write", "no such directory"]),
        ("dump_missing", ["no such script: missing_model.py"]),
        ("dump_no_outputs", ["does not define `outputs`"]),
        ("dump_broken", ["broken_model.py failed", "RuntimeError",
                         "the model is broken"]),
    ],
)
def test_failure_messages(runs, name, fragments):
    for fragment in fragments:
        assert fragment in runs[name].stderr


def test_usage_errors_exit_with_status_2(work):
    result = subprocess.run([str(EXE)], capture_output=True, text=True, cwd=work)
    assert result.returncode == 2
    assert "the following arguments are required: graph" in result.stderr
    assert "Traceback" not in result.stderr


# ---- writing, in process ----------------------------------------------------------


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    from transpile import output

    target = tmp_path / "kernels.py"
    target.write_text(ORIGINAL)

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "replace", disk_full)
    with pytest.raises(transpile.TranspileError, match="cannot write .*No space left"):
        output.write_atomic(target, "new text")
    assert target.read_text() == ORIGINAL
    assert os.listdir(tmp_path) == ["kernels.py"]

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(output.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        output.write_atomic(target, "new text")
    assert os.listdir(tmp_path) == ["kernels.py"]


def test_a_write_keeps_permissions_and_follows_symlinks(tmp_path):
    from transpile.output import write_atomic

    real = tmp_path / "real.py"
    real.write_text(ORIGINAL)
    real.chmod(0o640)
    link = tmp_path / "link.py"
    link.symlink_to(real)
    write_atomic(link, "new text")
    assert link.is_symlink() and real.read_text() == "new text"
    assert real.stat().st_mode & 0o777 == 0o640
