"""The sampler interface of a ``transpile pymc`` module (transpile/pymc_sampler.py):
``logp_dlogp_flat``, ``LOGP_CFUNC`` through ctypes, ``expand``, ``initial_point`` and
their metadata, against PyMC's own compiled functions; ``generated_examples/nutpie/``;
and, with ``TRANSPILE_NUTPIE=1``, nutpie sampling vendored modules in a process
without PyMC or PyTensor against nutpie's own ``compile_pymc_model``.

Every comparison goes through ``transpile.check.check_pymc``, the code behind
``transpile pymc check``, so these tests are also that command's oracle tests.
"""

import ctypes
import importlib.util
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymc")

import pymc as pm  # noqa: E402
from test_pymc_zoo import _cached_module, generated  # noqa: E402

from transpile import check  # noqa: E402
from transpile.pymc import from_pymc  # noqa: E402

pytestmark = pytest.mark.pymc

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "generated_examples" / "nutpie"
NUTPIE = bool(os.environ.get("TRANSPILE_NUTPIE"))
_MODULES: dict = {}


def _example_model():
    from transpile.pymc_cli import load_model

    return load_model(str(EXAMPLE / "model.py"))


def _example():
    """The committed generated_examples/nutpie/eight_schools.py, imported (as
    ``eight_schools``, the name sample.py imports it by and Numba's cache records)."""
    if "example" not in _MODULES:
        _MODULES["example"] = check.import_module(EXAMPLE / "eight_schools.py")
    return _MODULES["example"]


def _unpack(module, q):
    shapes = {name: shape for name, _, shape, _, _ in module.VALUE_VARIABLES}
    return [q[a:b].reshape(shapes[name]) for name, a, b in module.DLOGP_SLICES]


def _assert_all_ok(results):
    rows = check.summarize(results)
    bad = [r for r in rows if not r.ok]
    assert not bad, check.report(rows)


# ---- the flat entries against PyMC -------------------------------------------------


def test_committed_example_matches_pymc():
    model, module = _example_model(), _example()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check.check_pymc(model, module, points=check.pymc_points(model, 0, 4))
    _assert_all_ok(results)
    names = {r.output.split(" @ ")[0] for r in results}
    assert {"logp_dlogp_flat.logp", "logp_dlogp_flat.grad", "LOGP_CFUNC.logp",
            "LOGP_CFUNC.grad", "expand.theta", "EXPAND_CFUNC", "initial_point"} <= names


# Each compiles a module of its own: one by default, the rest with
# TRANSPILE_PYMC_FULL=1 (docs/usage.md, testing switches).
FLAT_ZOO = ["hierarchical_logistic"] + (
    ["linreg_halfnormal", "lkj_cholesky_cov", "student_t_regression"]
    if os.environ.get("TRANSPILE_PYMC_FULL") else [])


@pytest.mark.parametrize("name", FLAT_ZOO)
def test_zoo_flat_entries_match_pymc(name):
    """Models with data in a file (hierarchical_logistic), transforms and
    Deterministics (lkj_cholesky_cov), points outside the support
    (student_t_regression's untransformed sigma)."""
    from test_pymc_zoo import _points, case

    module = generated(name, True)
    model = case(name).model
    points = [p for p in _points(model) if p[0] != "initial"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check.check_pymc(model, module,
                                   points=check.pymc_points(model, 1, 1) + points)
    _assert_all_ok(results)


def test_flat_entry_layout_and_grad_argument():
    module = _example()
    assert module.NDIM == sum(stop - start for _, start, stop in module.DLOGP_SLICES)
    q = module.initial_point() + 0.3
    before = q.copy()
    logp, grad = module.logp_dlogp_flat(q)
    out = np.full(module.NDIM, 7.0)
    logp2, grad2 = module.logp_dlogp_flat(q, out)
    assert grad2 is out and logp2 == logp
    np.testing.assert_array_equal(out, grad)
    np.testing.assert_array_equal(q, before)  # the caller's q is never modified
    # The per-variable entry on the same values, unpacked by DLOGP_SLICES.
    args = _unpack(module, q)
    want_logp, want_grad = module.logp_dlogp(*args)
    assert logp == want_logp
    np.testing.assert_array_equal(grad, want_grad)
    with pytest.raises(ValueError, match="NDIM"):
        module.logp_dlogp_flat(q[:-1])


def test_expanded_metadata_names_dims_and_coords():
    module, model = _example(), _example_model()
    names = [n for n, *_ in module.EXPANDED]
    assert names == [v.name for v in [*model.free_RVs, *model.deterministics]]
    dims = {n: d for n, _, _, d in module.EXPANDED}
    assert dims["theta"] == ("school",) and dims["mu"] == ()
    assert module.COORDS == {"school": tuple(model.coords["school"])}
    values = module.expand(module.initial_point())
    for (name, dtype, shape, _), value in zip(module.EXPANDED, values, strict=True):
        assert np.asarray(value).dtype == np.dtype(dtype) and np.shape(value) == shape, name
    assert module.NEXPANDED == sum(int(np.prod(s)) for _, _, s, _ in module.EXPANDED)


def test_data_keywords_reach_the_flat_entries():
    """The flat entries take the model's data as keywords, as logp does."""
    module = _example()
    q = module.initial_point() + 0.1
    y = module.DATA["obs"] + 1.0
    logp, grad = module.logp_dlogp_flat(q, obs=y)
    args = _unpack(module, q)
    want = module.logp_dlogp(*args, obs=y)
    assert logp == want[0] and logp != module.logp_dlogp_flat(q)[0]
    np.testing.assert_array_equal(grad, want[1])


# ---- checks: -inf (the default) or raise -----------------------------------------


def _checked_model():
    """sigma is an untransformed Normal: negative values violate Normal's sigma > 0
    check, which PyMC's compiled functions turn into -inf."""
    with pm.Model() as model:
        sigma = pm.Normal("sigma", 1.0, 0.5)
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.Normal("y", mu, sigma, observed=np.array([0.1, -0.3, 0.4]))
    return model


def _checked_module(checks):
    from oracle import _import

    key = ("checked", checks)
    if key not in _MODULES:
        path = _cached_module(f"sampler_checked_{checks.replace('-', '')}",
                              lambda at: from_pymc(_checked_model(), at, checks=checks))
        _MODULES[key] = _import(f"sampler_checked_{checks.replace('-', '')}_{path.stem}",
                                path)
    return _MODULES[key]


def test_violated_check_gives_minus_inf_by_default():
    module, model = _checked_module("neg-inf"), _checked_model()
    assert module.CHECKS == "neg-inf"
    bad = np.array([-1.0, 0.0])  # sigma < 0
    logp, grad = module.logp_dlogp_flat(bad)
    assert logp == -np.inf and np.isnan(grad).all()
    assert model.compile_logp()({"sigma": -1.0, "mu": 0.0}) == -np.inf
    with pytest.raises(ValueError, match="sigma > 0"):  # the per-variable entries raise
        module.logp_dlogp(-1.0, 0.0)
    status, _, _ = _call_cfunc(module, bad)
    assert status > 0
    points = [("bad", {"sigma": np.array(-1.0), "mu": np.array(0.0)}),
              *check.pymc_points(model, 2, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _assert_all_ok(check.check_pymc(model, module, points=points))


def test_violated_check_raises_with_checks_raise():
    module = _checked_module("raise")
    assert module.CHECKS == "raise"
    with pytest.raises(ValueError, match="sigma > 0"):
        module.logp_dlogp_flat(np.array([-1.0, 0.0]))
    status, _, _ = _call_cfunc(module, np.array([-1.0, 0.0]))
    assert status == 1  # the exception stops at the C boundary
    assert np.isfinite(module.logp_dlogp_flat(np.array([1.0, 0.0]))[0])


# ---- the cfunc through ctypes, as C code calls it --------------------------------


def _call_cfunc(module, q, dim=None):
    fn = check.LOGP_PROTOTYPE(module.LOGP_CFUNC.address)
    x = np.ascontiguousarray(q, dtype=np.float64)
    grad = np.zeros(max(module.NDIM, len(x)))
    logp = ctypes.c_double(0.0)
    status = fn(module.NDIM if dim is None else dim, x.ctypes.data_as(check._DOUBLE_P),
                grad.ctypes.data_as(check._DOUBLE_P), ctypes.byref(logp), None)
    return status, logp.value, grad[:module.NDIM]


def test_cfunc_status_codes_through_ctypes():
    module = _example()
    q = module.initial_point() + 0.2
    status, logp, grad = _call_cfunc(module, q)
    want_logp, want_grad = module.logp_dlogp_flat(q)
    assert status == 0 and logp == want_logp
    np.testing.assert_array_equal(grad, want_grad)
    q_nan = q.copy()
    q_nan[0] = np.nan
    assert _call_cfunc(module, q_nan)[0] > 0  # non-finite: recoverable
    q_big = q.copy()
    q_big[1] = 800.0  # tau = exp(800) = inf: logp is -inf or NaN
    assert _call_cfunc(module, q_big)[0] > 0
    assert _call_cfunc(module, np.zeros(module.NDIM + 1), dim=module.NDIM + 1)[0] == -1


def test_ctypes_example_in_the_docs_runs_without_pymc():
    text = (ROOT / "docs" / "pymc.md").read_text()
    block = next(b.split("```", 1)[0] for b in text.split("```python\n")[1:]
                 if "LOGP_CFUNC.address" in b)
    code = block + "\nimport sys\nassert 'pymc' not in sys.modules\nprint('ok')\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=EXAMPLE,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


# ---- generated_examples/nutpie --------------------------------------------------


def test_committed_example_is_fresh(tmp_path):
    out = tmp_path / "eight_schools.py"
    code = ("import sys; from transpile.pymc_cli import run_pymc; "
            "sys.exit(run_pymc(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "model.py", "-o", str(out)],
                            cwd=EXAMPLE, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.read_text() == (EXAMPLE / "eight_schools.py").read_text(), (
        "generated_examples/nutpie/eight_schools.py is stale: regenerate it with "
        "`transpile pymc model.py -o eight_schools.py` in that folder")


def _sample(module_path: Path, out: Path, route="pyfunc", draws=1000, seed=1):
    """sample.py in a fresh process: (draws, n_steps, the modules it imported)."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLE / "sample.py"), "--module", str(module_path),
         "--route", route, "--draws", str(draws), "--tune", "1000", "--seed", str(seed),
         "--save", str(out)], capture_output=True, text=True, timeout=1200,
        env=dict(os.environ))
    assert result.returncode == 0, result.stderr[-3000:]
    modules = next(line for line in result.stdout.splitlines()
                   if line.startswith("modules ")).split()[1:]
    saved = np.load(out)
    draws_by_name = {k: saved[k] for k in saved.files if not k.startswith("_")}
    return draws_by_name, set(modules), result.stdout


def _nutpie_reference(model, draws=1000, seed=2):
    import nutpie

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = nutpie.compile_pymc_model(model)
        trace = nutpie.sample(compiled, draws=draws, tune=1000, chains=2, seed=seed,
                              progress_bar=False)
    return {name: trace.posterior[name].values for name in trace.posterior.data_vars}


def _assert_same_posterior(got: dict, want: dict):
    """Every scalar's posterior mean within 4.5 Monte-Carlo standard errors (each
    side's sd / sqrt(ESS), ESS by arviz) of the other."""
    import arviz

    # nutpie's own trace also holds the unconstrained values (tau_log__).
    assert set(got) <= set(want), (sorted(got), sorted(want))
    for name, mine in got.items():
        ref = want[name]
        assert mine.shape[2:] == ref.shape[2:], name
        m, r = mine.reshape(*mine.shape[:2], -1), ref.reshape(*ref.shape[:2], -1)
        for k in range(m.shape[2]):
            a, b = m[:, :, k], r[:, :, k]
            if np.ptp(b) == 0 and np.ptp(a) == 0:  # a constant entry (a Cholesky zero)
                assert a.flat[0] == pytest.approx(b.flat[0]), f"{name}[{k}]"
                continue
            se = np.hypot(a.std() / np.sqrt(float(arviz.ess(a))),
                          b.std() / np.sqrt(float(arviz.ess(b))))
            assert abs(a.mean() - b.mean()) < 4.5 * se, (
                f"{name}[{k}]: {a.mean():.4f} vs nutpie's {b.mean():.4f} (se {se:.4f})")


def test_example_samples_without_pymc_or_pytensor(tmp_path):
    """Cheap: 20 draws, both routes; the process imports neither PyMC nor PyTensor."""
    if importlib.util.find_spec("nutpie") is None:
        pytest.skip("nutpie is not installed (pip install -e '.[nutpie]')")
    for route in ("pyfunc", "cfunc"):
        draws, modules, out = _sample(EXAMPLE / "eight_schools.py",
                                      tmp_path / f"{route}.npz", route, draws=20)
        assert "nutpie" in modules and "numba" in modules, out
        for forbidden in ("pymc", "pytensor", "transpile"):
            assert forbidden not in modules, f"sample.py imported {forbidden}"
        assert draws["theta"].shape == (2, 20, 8)


@pytest.mark.skipif(not NUTPIE, reason="nutpie sampling runs with TRANSPILE_NUTPIE=1")
@pytest.mark.parametrize("name", ["eight_schools", "hierarchical_logistic",
                                  "lkj_cholesky_cov"])
def test_nutpie_posterior_matches_nutpies_own(name, tmp_path):
    pytest.importorskip("nutpie")
    from test_pymc_zoo import case

    if name == "eight_schools":
        path, model = EXAMPLE / "eight_schools.py", _example_model()
    else:
        # A copy: the zoo's modules are imported as zoo_<stem>, and Numba's cache,
        # which names its files by the file's stem, records that name (sample.py
        # imports a module by its stem).
        source, model = Path(generated(name, True).__file__), case(name).model
        path = tmp_path / source.name
        for suffix in (".py", ".npz"):
            if source.with_suffix(suffix).exists():
                shutil.copy(source.with_suffix(suffix), path.with_suffix(suffix))
    draws, modules, out = _sample(path, tmp_path / "draws.npz")
    for forbidden in ("pymc", "pytensor"):
        assert forbidden not in modules, f"sample.py imported {forbidden}"
    _assert_same_posterior(draws, _nutpie_reference(model))
