"""Data out of the source: large constants go to ``<module>.npz``, entries take them as
arguments (transpile/data.py).

One module (a 200,000-element data vector and a small weight vector) is transpiled
once with the command line into a temporary folder; the tests import it, call it in
fresh processes and tamper with copies of its files.
"""

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import _import

import transpile
from transpile.data import DATA_MIN_ELEMENTS

EXE = Path(sys.executable).parent / "transpile"
N = 200_000
RNG = np.random.default_rng(7)
BIG = RNG.normal(size=N)
SMALL = np.arange(1.0, DATA_MIN_ELEMENTS + 1.0)  # at the threshold: stays a literal


def _graph():
    x = pt.vector("x")
    a = pt.scalar("a")
    out = (x * pt.constant(BIG, name="design")).sum() * a + (
        pt.constant(SMALL)[: x.shape[0]] * x[:DATA_MIN_ELEMENTS]).sum()
    return [x, a], [out]


def _run(*args, cwd=None):
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("data")
    inputs, outputs = _graph()
    transpile.dump(inputs, outputs, work / "graph.pkl")
    result = _run(work / "graph.pkl", "-o", work / "kernels.py")
    assert result.returncode == 0, result.stderr
    fn = pytensor.function(inputs, outputs, mode="FAST_COMPILE")
    return work, fn


def _call_in_fresh_process(module: Path, cache: Path, expr: str):
    code = (
        "import json, sys\n"
        "import numpy as np\n"
        f"sys.path.insert(0, {str(module.parent)!r})\n"
        f"import {module.stem} as m\n"
        "x = np.linspace(-1, 1, %d)\n" % N +
        f"value = {expr}\n"
        "stats = m.kernel_with_data.stats\n"
        "print(json.dumps({'value': float(value), 'hits': sum(stats.cache_hits.values()),"
        " 'misses': sum(stats.cache_misses.values()),"
        " 'mods': sorted(k for k in sys.modules if k.split('.')[0] in"
        " ('pytensor', 'transpile', 'pymc'))}))\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_module_is_small_and_names_its_data(built):
    work, _ = built
    source = (work / "kernels.py").read_text()
    assert (work / "kernels.npz").exists()
    assert len(source) < 20_000, len(source)  # not 200,000 lines of literals
    tree = ast.parse(source)
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported <= {"numba", "numpy", "math"}, imported
    # the docstring names the array with its dtype and shape
    doc = ast.get_docstring(tree)
    assert "design_data" in doc and "float64" in doc and f"({N},)" in doc
    assert "kernels.npz" in doc
    # the 64-element constant stays in the source
    assert "64.0" in source


def test_results_match_pytensor_and_data_can_be_replaced(built):
    work, fn = built
    module = _import("data_kernels", work / "kernels.py")
    x = np.linspace(-1, 1, N)
    np.testing.assert_allclose(module.kernel(x, 0.5), fn(x, 0.5)[0], rtol=1e-10)
    other = RNG.normal(size=N)
    x_sym, a_sym = pt.vector("x"), pt.scalar("a")
    out = (x_sym * pt.constant(other)).sum() * a_sym + (
        pt.constant(SMALL)[: x_sym.shape[0]] * x_sym[:DATA_MIN_ELEMENTS]).sum()
    want = pytensor.function([x_sym, a_sym], out, mode="FAST_COMPILE")(x, 0.5)
    np.testing.assert_allclose(module.kernel(x, 0.5, design_data=other), want, rtol=1e-10)
    # the @njit entry takes the data positionally, for other Numba code
    np.testing.assert_allclose(module.kernel_with_data(x, 0.5, other), want, rtol=1e-10)
    # and the recorded array is not changed by a call
    assert np.array_equal(module.DATA["design_data"], BIG)
    # shapes the code was specialised on are checked (the loop is range(200000))
    with pytest.raises(ValueError, match="design_data must have shape"):
        module.kernel(x, 0.5, design_data=other[:10])


def test_the_compiled_code_takes_data_as_an_argument(built):
    """Numba freezes global arrays into compiled code (compile time and cache size
    grow with them); the data reach the @njit entry as an argument instead."""
    work, _ = built
    tree = ast.parse((work / "kernels.py").read_text())
    jitted = [f for f in tree.body if isinstance(f, ast.FunctionDef) and any(
        "njit" in ast.unparse(d) for d in f.decorator_list)]
    entry = next(f for f in jitted if f.name == "kernel_with_data")
    assert [a.arg for a in entry.args.args][-1] == "design_data"
    for function in jitted:
        names = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
        assert "DATA" not in names, function.name


def test_the_cache_hits_in_a_second_process(built, tmp_path):
    work, fn = built
    folder = tmp_path / "vendored"
    folder.mkdir()
    for name in ("kernels.py", "kernels.npz"):
        shutil.copy(work / name, folder / name)
    cache = tmp_path / "cache"
    first = _call_in_fresh_process(folder / "kernels.py", cache, "m.kernel(x, 2.0)")
    second = _call_in_fresh_process(folder / "kernels.py", cache, "m.kernel(x, 2.0)")
    assert first["misses"] >= 1 and first["hits"] == 0, first
    assert second["hits"] >= 1 and second["misses"] == 0, second
    assert first["value"] == second["value"]
    np.testing.assert_allclose(first["value"], fn(np.linspace(-1, 1, N), 2.0)[0],
                               rtol=1e-10)
    # new data, with no PyTensor and no transpile in the process
    third = _call_in_fresh_process(folder / "kernels.py", cache,
                                   "m.kernel(x, 1.0, design_data=np.ones(x.size))")
    assert third["mods"] == [], third["mods"]
    assert third["hits"] >= 1 and third["misses"] == 0, third
    x = np.linspace(-1, 1, N)
    np.testing.assert_allclose(third["value"], x.sum() + (SMALL * x[:64]).sum())


def test_a_changed_or_foreign_data_file_is_refused_on_import(built, tmp_path):
    work, _ = built
    shutil.copy(work / "kernels.py", tmp_path / "kernels.py")
    tampered = np.load(work / "kernels.npz")["design_data"].copy()
    tampered[12345] += 1.0
    np.savez(tmp_path / "kernels.npz", design_data=tampered)
    with pytest.raises(ValueError, match="regenerate the two together"):
        _import("tampered_kernels", tmp_path / "kernels.py")
    (tmp_path / "kernels.npz").unlink()
    with pytest.raises(FileNotFoundError):
        _import("missing_kernels", tmp_path / "kernels.py")


def test_stdout_is_refused_and_nothing_is_written(built, tmp_path):
    work, _ = built
    result = _run(work / "graph.pkl", cwd=tmp_path)
    assert result.returncode != 0 and result.stdout == ""
    assert "-o" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_o_writes_both_files_atomically(built, tmp_path):
    work, _ = built
    target = tmp_path / "out"
    target.mkdir()
    (target / "kernels.py").write_text("# the user's file\n")
    # the data file's place is taken by a folder: nothing may change
    (target / "kernels.npz").mkdir()
    result = _run(work / "graph.pkl", "-o", target / "kernels.py")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert (target / "kernels.py").read_text() == "# the user's file\n"
    assert sorted(p.name for p in target.iterdir()) == ["kernels.npz", "kernels.py"]
    (target / "kernels.npz").rmdir()
    # a second write of the same graph gives the same bytes (deterministic npz)
    result = _run(work / "graph.pkl", "-o", target / "kernels.py")
    assert result.returncode == 0, result.stderr
    assert (target / "kernels.npz").read_bytes() == (work / "kernels.npz").read_bytes()
    assert (target / "kernels.py").read_text() == (work / "kernels.py").read_text()
    assert sorted(p.name for p in target.iterdir()) == ["kernels.npz", "kernels.py"]


def test_a_pymc_regression_on_many_rows_takes_new_data(tmp_path):
    """PyMC's observed values and pm.Data are arguments of the entries with the
    model's data as defaults, kept in the .npz beside a small module: new data of
    other lengths give what PyMC gives after pm.set_data."""
    pm = pytest.importorskip("pymc")
    import transpile.pymc

    rows = 1_000_000
    rng = np.random.default_rng(3)
    X = rng.normal(size=(rows, 2))
    y = X @ np.array([1.5, -0.5]) + rng.normal(size=rows)
    with pm.Model() as model:
        X_data = pm.Data("X", X)
        beta = pm.Normal("beta", 0, 1, shape=2)
        sigma = pm.HalfNormal("sigma", 1)
        pm.Normal("y", X_data @ beta, sigma, observed=y, shape=X_data.shape[0])
    path = tmp_path / "regression.py"
    transpile.pymc.from_pymc(model, str(path))
    assert path.stat().st_size < 30_000
    assert (tmp_path / "regression.npz").stat().st_size > rows * 2 * 8
    m = _import("regression_data", path)
    assert [d[0] for d in m.MODEL_DATA] == ["X", "y"]

    point = {"beta": np.array([0.3, -0.2]), "sigma_log__": np.array(0.1)}
    names = [v[0] for v in m.VALUE_VARIABLES]

    want_logp = model.compile_logp()(point)
    want_dlogp = model.compile_dlogp()(point)
    got_logp, got_dlogp = m.logp_dlogp(*(point[n] for n in names))
    np.testing.assert_allclose(got_logp, want_logp, rtol=1e-9)
    np.testing.assert_allclose(got_dlogp, want_dlogp, rtol=1e-9)

    X_new = rng.normal(size=(1234, 2))
    y_new = rng.normal(size=1234)
    with pm.Model() as new_model:  # the same model on the new data
        X_data = pm.Data("X", X_new)
        beta = pm.Normal("beta", 0, 1, shape=2)
        sigma = pm.HalfNormal("sigma", 1)
        pm.Normal("y", X_data @ beta, sigma, observed=y_new, shape=X_data.shape[0])
    want_logp = new_model.compile_logp()(point)
    want_dlogp = new_model.compile_dlogp()(point)
    got_logp, got_dlogp = m.logp_dlogp(*(point[n] for n in names), X=X_new, y=y_new)
    np.testing.assert_allclose(got_logp, want_logp, rtol=1e-9)
    np.testing.assert_allclose(got_dlogp, want_dlogp, rtol=1e-9)
    np.testing.assert_allclose(m.logp(*(point[n] for n in names), X=X_new, y=y_new),
                               want_logp, rtol=1e-9)
