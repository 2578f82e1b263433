"""A zoo of PyMC models, end to end: ``transpile.pymc.from_pymc`` against PyMC.

Each model (realistic sizes, synthetic data from a fixed seed) is transpiled with and
without PyTensor's rewrites; the module's ``logp`` and ``logp_dlogp`` entries are run
at the initial point, at random points and at points outside the support, and
compared with PyTensor's evaluation of ``model.logp()`` / ``model.dlogp()`` (the
rewritten graph for rewrite=True, the graph as PyMC builds it for rewrite=False) and,
where PyMC's compiled functions are defined, with ``model.compile_logp()`` /
``model.compile_dlogp()``.  A violated parameter check must raise the module's
``ParameterValueError`` with PyMC's message, where PyTensor raises PyMC's.

Models that hit an Op with no lowering yet are xfailed with the Op's name (see
``MISSING``); they pass unchanged once the lowering lands.  The six slowest graphs
without rewrites take up to minutes of Numba compilation on a cold cache and run only with
TRANSPILE_PYMC_FULL=1 (``SLOW``).  Generated sources are remembered under
.test_modules/pymc_zoo/ while transpile's code and this file are unchanged.  The
bench (``bench/pymc_bench.py``) imports ``ZOO`` from here.
"""

import functools
import hashlib
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from oracle import import_source
from pytensor.compile.mode import Mode

pm = pytest.importorskip("pymc")  # an extra ("examples"): absent in `make test-pytensor3`
from pymc.logprob.utils import ParameterValueError  # noqa: E402

import transpile  # noqa: E402
from transpile.pymc import from_pymc, model_graphs  # noqa: E402

pytestmark = pytest.mark.pymc
ROOT = Path(__file__).resolve().parent.parent
SEED = 20261125


def _rng(k):
    return np.random.default_rng([SEED, k])


EIGHT_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
EIGHT_SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def eight_schools_centered():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta = pm.Normal("theta", mu, tau, shape=8)
        pm.Normal("obs", theta, EIGHT_SIGMA, observed=EIGHT_Y)
    return model


def eight_schools_noncentered():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta_t = pm.Normal("theta_t", 0.0, 1.0, shape=8)
        theta = pm.Deterministic("theta", mu + tau * theta_t)
        pm.Normal("obs", theta, EIGHT_SIGMA, observed=EIGHT_Y)
    return model


def _linreg(scale):
    rng = _rng(1)
    n, k = 200, 5
    X = rng.normal(size=(n, k))
    y = X @ rng.normal(size=k) + 0.3 + rng.normal(scale=0.8, size=n)
    with pm.Model() as model:
        alpha = pm.Normal("alpha", 0.0, 10.0)
        beta = pm.Normal("beta", 0.0, 2.0, shape=k)
        sigma = scale("sigma")
        pm.Normal("y", alpha + pt.dot(X, beta), sigma, observed=y)
    return model


def linreg_halfnormal():
    return _linreg(lambda name: pm.HalfNormal(name, 1.0))


def linreg_halfcauchy():
    return _linreg(lambda name: pm.HalfCauchy(name, 2.0))


def linreg_exponential():
    return _linreg(lambda name: pm.Exponential(name, 1.0))


def hierarchical_logistic():
    rng = _rng(2)
    n, k, groups = 400, 3, 8
    X = rng.normal(size=(n, k))
    g = rng.integers(0, groups, size=n)
    a_true = rng.normal(0.5, 0.7, size=groups)
    logit = a_true[g] + X @ np.array([1.0, -0.5, 0.25])
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype("int64")
    with pm.Model() as model:
        mu_a = pm.Normal("mu_a", 0.0, 2.0)
        sigma_a = pm.HalfNormal("sigma_a", 1.0)
        a_offset = pm.Normal("a_offset", 0.0, 1.0, shape=groups)
        a = mu_a + sigma_a * a_offset
        beta = pm.Normal("beta", 0.0, 1.0, shape=k)
        pm.Bernoulli("y", logit_p=a[g] + pt.dot(X, beta), observed=y)
    return model


def poisson_glm():
    rng = _rng(3)
    n, k = 300, 4
    X = rng.normal(scale=0.5, size=(n, k))
    y = rng.poisson(np.exp(0.5 + X @ np.array([0.3, -0.2, 0.5, 0.1])))
    with pm.Model() as model:
        b0 = pm.Normal("b0", 0.0, 2.0)
        b = pm.Normal("b", 0.0, 1.0, shape=k)
        pm.Poisson("y", pt.exp(b0 + pt.dot(X, b)), observed=y)
    return model


def negbin_glm():
    rng = _rng(4)
    n, k = 300, 3
    X = rng.normal(scale=0.5, size=(n, k))
    mu = np.exp(1.0 + X @ np.array([0.4, -0.3, 0.2]))
    y = rng.negative_binomial(5.0, 5.0 / (5.0 + mu))
    with pm.Model() as model:
        b0 = pm.Normal("b0", 0.0, 2.0)
        b = pm.Normal("b", 0.0, 1.0, shape=k)
        alpha = pm.Exponential("alpha", 0.2)
        pm.NegativeBinomial("y", mu=pt.exp(b0 + pt.dot(X, b)), alpha=alpha, observed=y)
    return model


def normal_mixture():
    rng = _rng(5)
    y = np.concatenate([rng.normal(-2.0, 0.5, 150), rng.normal(1.0, 0.8, 250),
                        rng.normal(4.0, 0.6, 100)])
    with pm.Model() as model:
        w = pm.Dirichlet("w", np.ones(3))
        mu = pm.Normal("mu", [-1.0, 0.0, 1.0], 5.0, shape=3,
                       transform=pm.distributions.transforms.ordered)
        sigma = pm.HalfNormal("sigma", 2.0, shape=3)
        pm.NormalMixture("y", w, mu, sigma, observed=y)
    return model


def student_t_regression():
    rng = _rng(6)
    n = 150
    x = rng.uniform(-2, 2, size=n)
    y = 1.0 + 2.0 * x + rng.standard_t(3.0, size=n) * 0.5
    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 5.0)
        b = pm.Normal("b", 0.0, 5.0)
        # Untransformed: negative values are outside the support (logp -inf).
        sigma = pm.HalfNormal("sigma", 2.0, default_transform=None)
        nu = pm.Gamma("nu", 2.0, 0.1)
        pm.StudentT("y", nu=nu, mu=a + b * x, sigma=sigma, observed=y)
    return model


def categorical():
    rng = _rng(7)
    y = rng.choice(4, size=300, p=[0.1, 0.2, 0.3, 0.4])
    with pm.Model() as model:
        p = pm.Dirichlet("p", np.ones(4))
        pm.Categorical("y", p=p, observed=y)
    return model


def dirichlet_multinomial():
    rng = _rng(8)
    counts = rng.multinomial(20, [0.2, 0.3, 0.5], size=40)
    with pm.Model() as model:
        frac = pm.Dirichlet("frac", np.ones(3))
        conc = pm.Lognormal("conc", 1.0, 1.0)
        pm.DirichletMultinomial("counts", n=20, a=frac * conc, observed=counts)
    return model


def lkj_cholesky_cov():
    rng = _rng(9)
    cov = np.array([[1.0, 0.5, 0.2], [0.5, 2.0, -0.3], [0.2, -0.3, 0.5]])
    data = rng.multivariate_normal([0.0, 1.0, -1.0], cov, size=200)
    with pm.Model() as model:
        chol, _, _ = pm.LKJCholeskyCov("chol", n=3, eta=2.0,
                                       sd_dist=pm.Exponential.dist(1.0, shape=3),
                                       compute_corr=True)
        mu = pm.Normal("mu", 0.0, 5.0, shape=3)
        pm.MvNormal("obs", mu, chol=chol, observed=data)
    return model


def random_walk():
    rng = _rng(10)
    steps = 100
    truth = np.cumsum(rng.normal(scale=0.3, size=steps))
    y = truth + rng.normal(scale=0.5, size=steps)
    with pm.Model() as model:
        sigma = pm.HalfNormal("sigma", 1.0)
        x = pm.GaussianRandomWalk("x", sigma=sigma, init_dist=pm.Normal.dist(0.0, 1.0),
                                  steps=steps - 1)
        pm.Normal("y", x, 0.5, observed=y)
    return model


def ar1():
    rng = _rng(11)
    n = 120
    y = np.zeros(n)
    for t in range(1, n):
        y[t] = 0.7 * y[t - 1] + rng.normal(scale=0.5)
    with pm.Model() as model:
        rho = pm.Uniform("rho", -1.0, 1.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.AR("y", rho=[rho], sigma=sigma, init_dist=pm.Normal.dist(0.0, 1.0),
              observed=y)
    return model


def gp_marginal():
    rng = _rng(12)
    n = 30
    X = np.linspace(0, 5, n)[:, None]
    y = np.sin(X[:, 0]) + rng.normal(scale=0.2, size=n)
    with pm.Model() as model:
        ls = pm.Gamma("ls", 2.0, 1.0)
        eta = pm.HalfNormal("eta", 1.0)
        sigma = pm.HalfNormal("sigma", 0.5)
        gp = pm.gp.Marginal(cov_func=eta**2 * pm.gp.cov.ExpQuad(1, ls=ls))
        gp.marginal_likelihood("y", X=X, y=y, sigma=sigma)
    return model


def gp_by_hand():
    rng = _rng(12)
    n = 30
    x = np.linspace(0, 5, n)
    y = np.sin(x) + rng.normal(scale=0.2, size=n)
    d2 = (x[:, None] - x[None, :]) ** 2
    with pm.Model() as model:
        ls = pm.Gamma("ls", 2.0, 1.0)
        eta = pm.HalfNormal("eta", 1.0)
        sigma = pm.HalfNormal("sigma", 0.5)
        K = eta**2 * pt.exp(-0.5 * d2 / ls**2) + (sigma**2 + 1e-6) * pt.eye(n)
        L = pt.linalg.cholesky(K)
        alpha = pt.linalg.solve_triangular(L, y, lower=True)
        ll = (-0.5 * pt.sum(alpha**2) - pt.sum(pt.log(pt.diag(L)))
              - 0.5 * n * np.log(2 * np.pi))
        pm.Potential("marginal", ll)
    return model


def scan_smoothing():
    """Exponential smoothing: the one-step-ahead level is a pytensor.scan."""
    rng = _rng(13)
    n = 80
    y = np.cumsum(rng.normal(scale=0.3, size=n)) + rng.normal(scale=0.4, size=n)
    with pm.Model() as model:
        alpha = pm.Beta("alpha", 2.0, 2.0)
        level0 = pm.Normal("level0", 0.0, 2.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        levels, _ = pytensor.scan(lambda y_t, level, a: level + a * (y_t - level),
                                  sequences=[pt.as_tensor(y[:-1])],
                                  outputs_info=[level0], non_sequences=[alpha])
        mu = pt.concatenate([level0[None], levels])
        pm.Normal("y", mu, sigma, observed=y)
    return model


ZOO = {f.__name__: f for f in [
    eight_schools_centered, eight_schools_noncentered, linreg_halfnormal,
    linreg_halfcauchy, linreg_exponential, hierarchical_logistic, poisson_glm,
    negbin_glm, normal_mixture, student_t_regression, categorical,
    dirichlet_multinomial, lkj_cholesky_cov, random_walk, ar1, gp_marginal,
    gp_by_hand, scan_smoothing,
]}


# ---- which models need Ops that have no lowering yet ------------------------------
# (model, rewrite) -> the missing Op (and which entry needs it); strict=False: the
# test passes unchanged once the lowering lands.  Empty since the lowerings of CumOp,
# Split, ExtractDiag, AllocDiag, Eye, Cholesky, SolveTriangular and advanced indexing
# landed; e.g. MISSING[("gp_by_hand", True)] = "Cholesky (logp and dlogp)".
MISSING: dict[tuple[str, bool], str] = {}
# Not a missing Op: a wrong result, reported to the lowering's owner.
KNOWN_BUGS: dict[tuple[str, bool], str] = {}
# Without rewrites these graphs are hundreds of unfused nodes, and Numba takes half a
# minute to minutes to compile the module (most of this file's time on a cold cache):
# run them with TRANSPILE_PYMC_FULL=1.
SLOW = {("normal_mixture", False), ("lkj_cholesky_cov", False), ("gp_marginal", False),
        ("gp_by_hand", False), ("negbin_glm", False), ("dirichlet_multinomial", False)}
FULL = bool(os.environ.get("TRANSPILE_PYMC_FULL"))


# ---- the harness -------------------------------------------------------------------

TOL = {"rtol": 1e-8, "atol": 1e-9}
# The reference for each rewrite setting: PyTensor's Python implementations (no C
# compiler needed), on the rewritten graph or on the graph as PyMC builds it.
REFERENCE = {True: Mode(linker="py", optimizer="fast_run"),
             False: Mode(linker="py", optimizer=None)}
_MODELS: dict = {}
_MODULES: dict = {}


class Case:
    """One zoo model: its graphs, its points and PyTensor's functions of them."""

    def __init__(self, name):
        self.name = name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model = ZOO[name]()
            self.inputs, self.logp, self.dlogp = model_graphs(self.model)
        self.points = _points(self.model)
        self._functions = {}

    def function(self, rewrite: bool, entry: str):
        key = (rewrite, entry)
        if key not in self._functions:
            outputs = [self.logp] if entry == "logp" else [self.logp, self.dlogp]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._functions[key] = pytensor.function(
                    self.inputs, outputs, mode=REFERENCE[rewrite],
                    on_unused_input="ignore")
        return self._functions[key]

    def pymc_functions(self):
        """PyMC's own compiled functions (violated checks give -inf there)."""
        if "pymc" not in self._functions:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._functions["pymc"] = (
                    self.model.compile_logp(mode="FAST_COMPILE"),
                    self.model.compile_dlogp(mode="FAST_COMPILE"))
        return self._functions["pymc"]


def case(name) -> Case:
    if name not in _MODELS:
        _MODELS[name] = Case(name)
    return _MODELS[name]


def _points(model):
    """(label, {value var name: value}): the initial point, random points and points
    outside the support (scales underflowing to 0 or overflowing to inf through their
    log transform; untransformed variables negative)."""
    start = model.initial_point()
    rng = np.random.default_rng([SEED, 99])
    points = [("initial", start)]
    for k in range(3):
        points.append((f"random{k}", {n: v + rng.normal(scale=0.7, size=v.shape)
                                      for n, v in start.items()}))
    transforms = {v.name: model.rvs_to_transforms.get(model.values_to_rvs[v])
                  for v in model.value_vars}
    logs = [n for n, t in transforms.items() if getattr(t, "name", None) == "log"]
    plain = [n for n, t in transforms.items() if t is None]
    for label, names, value in (("zero-scale", logs, -800.0),
                                ("inf-scale", logs, 800.0), ("negative", plain, -1.5)):
        if names:
            points.append((label, {n: np.full_like(v, value) if n in names else v
                                   for n, v in start.items()}))
    return points


@functools.cache
def _code_digest() -> str:
    """What a generated module depends on: transpile's code, this file (the models)
    and the versions of PyMC, PyTensor and NumPy."""
    import numpy

    h = hashlib.sha256()
    for path in sorted((ROOT / "transpile").rglob("*.py")) + [Path(__file__)]:
        h.update(path.read_bytes())
    h.update(f"{pm.__version__} {pytensor.__version__} {numpy.__version__}".encode())
    return h.hexdigest()[:16]


def _cached_module(label: str, make):
    """The path of the module ``make(path)`` writes (with its data file, when it has
    one), remembered on disk (under .test_modules/, with the Numba cache the oracle's
    modules use) while nothing it depends on changes: transpiling a model takes
    seconds, importing a cached module well under one.  An UnsupportedOpError is
    remembered too."""
    import tempfile

    folder = ROOT / ".test_modules" / "pymc_zoo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{label}_{_code_digest()}.py"
    failed = path.with_suffix(".unsupported")
    if failed.exists():
        raise transpile.UnsupportedOpError(failed.read_text())
    if path.exists():
        return path
    # Written under its final name in a folder of this worker's own, then moved
    # (data file first): parallel workers never see half of a module.
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        staged = Path(tmp) / path.name
        try:
            make(staged)
        except transpile.UnsupportedOpError as exc:
            _write(failed, str(exc))
            raise
        if staged.with_suffix(".npz").exists():
            os.replace(staged.with_suffix(".npz"), path.with_suffix(".npz"))
        os.replace(staged, path)
    return path


def _write(path: Path, text: str) -> None:
    """Atomically: parallel test workers may write the same file at once."""
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def generated(name: str, rewrite: bool):
    """The imported module from_pymc writes for zoo model ``name``."""
    from oracle import _import

    key = (name, rewrite)
    if key not in _MODULES:
        tag = f"{name}_{'rw' if rewrite else 'norw'}"
        path = _cached_module(tag, lambda at: from_pymc(case(name).model, at,
                                                        rewrite=rewrite))
        _MODULES[key] = _import(f"zoo_{path.stem}", path)
    return _MODULES[key]


def _run(fn, args):
    """("ok", outputs) or ("raise", exception class name, message)."""
    try:
        out = fn(*args)
    except Exception as exc:  # noqa: BLE001 - what is raised is what is compared
        # PyTensor appends the failing node's description to the message.
        message = str(exc).split("\nApply node that caused the error")[0]
        return ("raise", type(exc).__name__, message, exc)
    return ("ok", out if isinstance(out, (list, tuple)) else [out])


def _same_value(got, want, label):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{label}: shape {got.shape} != {want.shape}"
    scale = float(np.nanmax(np.abs(want[np.isfinite(want)]), initial=1.0))
    np.testing.assert_allclose(got, want, rtol=TOL["rtol"], atol=TOL["atol"] * scale,
                               equal_nan=True, err_msg=label)


def _compare(got, want, label):
    if want[0] == "raise":
        assert got[0] == "raise", f"{label}: PyTensor raised {want[1]}({want[2]!r}), " \
                                  f"the module returned {got[1]}"
        assert got[1] == want[1], f"{label}: raised {got[1]}, PyTensor {want[1]}"
        assert got[2] == want[2], f"{label}: message {got[2]!r} != {want[2]!r}"
        if isinstance(want[3], ParameterValueError):
            assert isinstance(got[3], ValueError)
        return
    assert got[0] == "ok", f"{label}: raised {got[1]}({got[2]!r}), PyTensor did not"
    assert len(got[1]) == len(want[1])
    for k, (g, w) in enumerate(zip(got[1], want[1], strict=True)):
        _same_value(g, w, f"{label} output {k}")


# Costliest first, so that parallel workers finish together.
ORDER = ["gp_marginal", "normal_mixture", "lkj_cholesky_cov", "gp_by_hand",
         "dirichlet_multinomial", "hierarchical_logistic", "categorical", "negbin_glm",
         "random_walk", "scan_smoothing", "student_t_regression", "linreg_halfnormal",
         "linreg_halfcauchy", "linreg_exponential", "poisson_glm", "ar1",
         "eight_schools_centered", "eight_schools_noncentered"]
assert sorted(ORDER) == sorted(ZOO)


def _cases():
    for name in ORDER:
        for rewrite in (True, False):
            marks = []
            if (name, rewrite) in MISSING:
                marks.append(pytest.mark.xfail(raises=transpile.UnsupportedOpError,
                                               strict=False,
                                               reason=MISSING[name, rewrite]))
            if (name, rewrite) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=False,
                                               reason=KNOWN_BUGS[name, rewrite]))
            if (name, rewrite) in SLOW and not FULL:
                marks.append(pytest.mark.skip(reason="minutes of Numba compilation; "
                                              "set TRANSPILE_PYMC_FULL=1"))
            rid = f"{name}-{'rewrite' if rewrite else 'no_rewrite'}"
            yield pytest.param(name, rewrite, marks=marks, id=rid)


@pytest.mark.parametrize("name,rewrite", list(_cases()))
def test_zoo(name, rewrite):
    """Both entries against PyTensor (same graph, same rewrites) and PyMC."""
    c = case(name)
    module = generated(name, rewrite)
    pymc_logp, pymc_dlogp = c.pymc_functions()
    for entry, fn in (("logp", module.logp), ("dlogp", module.logp_dlogp)):
        reference = c.function(rewrite, entry)
        for label, point in c.points:
            args = [np.array(point[v.name]) for v in c.inputs]
            originals = [a.copy() for a in args]
            want = _run(reference, [a.copy() for a in args])
            got = _run(fn, args)
            _compare(got, want, f"{name} {entry} at {label}")
            for a, o in zip(args, originals, strict=True):
                np.testing.assert_array_equal(a, o, err_msg=f"{label}: input modified")
            if want[0] == "ok" and np.isfinite(want[1][0]):
                # PyMC's own compiled functions agree where no check is violated.
                _same_value(got[1][0], pymc_logp(point), f"{label}: compile_logp")
                if entry == "dlogp":
                    _same_value(got[1][1], pymc_dlogp(point), f"{label}: compile_dlogp")


# ---- the module's description of its inputs ---------------------------------------


def test_metadata_describes_the_value_variables():
    c = case("eight_schools_noncentered")
    module = generated("eight_schools_noncentered", True)
    assert module.VALUE_VARIABLES == (
        ("mu", "float64", (), None, "mu"),
        ("tau_log__", "float64", (), "log", "tau"),
        ("theta_t", "float64", (8,), None, "theta_t"),
    )
    assert module.DLOGP_SLICES == (("mu", 0, 1), ("tau_log__", 1, 2),
                                   ("theta_t", 2, 10))
    assert [i[0] for i in module.INPUTS] == ["mu", "tau_log", "theta_t"]
    assert module.OUTPUTS == (("logp", "float64", ()), ("dlogp", "float64", (10,)))
    doc = module.__doc__
    for text in ("logp(mu, tau_log, theta_t) -> logp",
                 "logp_dlogp(mu, tau_log, theta_t) -> (logp, dlogp)",
                 "tau_log__: tau = exp(tau_log__)", "ParameterValueError"):
        assert text in doc
    # The slices are PyMC's own layout: dlogp's pieces, in value-variable order.
    point = c.model.initial_point()
    args = [point[v.name] + 0.1 for v in c.inputs]
    _, dlogp = module.logp_dlogp(*args)
    named = {v.name: a for v, a in zip(c.inputs, args, strict=True)}
    want = c.pymc_functions()[1](named)
    for name, start, stop in module.DLOGP_SLICES:
        k = [v.name for v in c.inputs].index(name)
        np.testing.assert_allclose(dlogp[start:stop], np.ravel(want[start:stop]),
                                   rtol=1e-9)
        assert stop - start == np.size(args[k])


@pytest.mark.parametrize("name,expected", [
    ("normal_mixture", [("w_simplex__", "simplex", "w", (2,)),
                        ("mu_ordered__", "ordered", "mu", (3,)),
                        ("sigma_log__", "log", "sigma", (3,))]),
    ("lkj_cholesky_cov", [("chol_cholesky-cov-packed__", "cholesky-cov-packed", "chol",
                           (6,)), ("mu", None, "mu", (3,))]),
    ("ar1", [("rho_interval__", "interval", "rho", ()),
             ("sigma_log__", "log", "sigma", ())]),
    ("scan_smoothing", [("alpha_logodds__", "logodds", "alpha", ()),
                        ("level0", None, "level0", ()),
                        ("sigma_log__", "log", "sigma", ())]),
])
def test_transforms_are_named(name, expected):
    from transpile.pymc import value_variables

    got = value_variables(case(name).model)
    assert [(v.name, v.transform, v.variable, v.shape) for v in got] == expected
    text = {v.name: v.description for v in got}
    if name == "ar1":
        assert text["rho_interval__"] == "rho = -1 + (1 - -1) * sigmoid(rho_interval__)"
    if name == "normal_mixture":
        assert "softmax" in text["w_simplex__"] and "cumsum" in text["mu_ordered__"]
    if name == "lkj_cholesky_cov":
        assert "Cholesky" in text["chol_cholesky-cov-packed__"]


def test_models_without_a_density_are_refused():
    with pm.Model() as empty:
        pass
    with pytest.raises(transpile.TranspileError, match="no free variables"):
        from_pymc(empty)
    with pm.Model() as discrete:
        pm.Poisson("k", 3.0)
    with pytest.raises(transpile.TranspileError, match="no continuous free variables"):
        from_pymc(discrete)
    with pytest.raises(transpile.TranspileError, match="expected a pymc.Model"):
        from_pymc("model.py")


# ---- the command line: transpile pymc MODEL.py -----------------------------------

MODEL_FILE = """\
import numpy as np
import pymc as pm

with pm.Model() as {name}:
    mu = pm.Normal("mu", 0.0, 5.0)
    sigma = pm.HalfNormal("sigma", 2.0)
    pm.Normal("y", mu, sigma, observed=np.array([1.0, 2.5, 0.3, 1.7]))
"""


def _cli(*args, cwd):
    code = ("import sys; from transpile.pymc_cli import run_pymc; "
            "sys.exit(run_pymc(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_cli_writes_the_module(tmp_path):
    (tmp_path / "toy.py").write_text(MODEL_FILE.format(name="toy_model"))
    result = _cli("toy.py", "-o", "toy_logp.py", "--no-rewrite", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == ""
    source = (tmp_path / "toy_logp.py").read_text()
    assert "Regenerate:  transpile pymc toy.py --no-rewrite -o <this file>" in source
    assert "Model:       toy.py (sha256" in source
    module = import_source(source, stem="zoo_cli_toy")
    logp, dlogp = module.logp_dlogp(0.5, 0.1)
    assert math.isclose(logp, module.logp(0.5, 0.1), rel_tol=1e-12)
    assert dlogp.shape == (2,)
    # To stdout, by name
    result = _cli("toy.py", "--model-name", "toy_model", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith('"""Log-density')
    regenerate = "transpile pymc toy.py --model-name toy_model -o <this file>"
    assert regenerate in result.stdout


@pytest.mark.parametrize("content,args,message", [
    (None, [], "no such model file: "),
    ("x = 1\n", [], "defines no pymc.Model"),
    ("raise RuntimeError('boom')\n", [], "failed: RuntimeError: boom"),
    (MODEL_FILE.format(name="a") + "b = a\nwith pm.Model() as c:\n    pm.Normal('z')\n",
     [], "several pymc.Models (a, c)"),
    (MODEL_FILE.format(name="a"), ["--model-name", "nope"], "does not define `nope`"),
    ("model = 3\n", ["--model-name", "model"], "is not a pymc.Model but a int"),
])
def test_cli_errors(tmp_path, content, args, message):
    from transpile.pymc_cli import run_pymc

    script = tmp_path / ("missing.py" if content is None else "m.py")
    if content is not None:
        script.write_text(content)
    with pytest.raises(transpile.TranspileError) as info:
        run_pymc([str(script), *args])
    assert message in str(info.value)
    assert "\n" not in str(info.value)
