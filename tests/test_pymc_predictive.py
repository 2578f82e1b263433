"""``transpile pymc --predictive``: prior and posterior predictive draws of PyMC
models, compared in distribution with PyMC's own ``sample_prior_predictive`` and
``sample_posterior_predictive``.

The module draws from other random streams than PyMC, so the comparison is by
distribution: a two-sample Kolmogorov-Smirnov test, at fixed seeds, of each
variable's first entries (the draws of each entry are independent across draws),
between ``DRAWS`` draws of each side.  The posterior predictive is given the same
"posterior" on both sides (prior draws of the free variables).  Models come from
the zoo of ``tests/test_pymc_zoo.py``; the others of the zoo run with
``TRANSPILE_PYMC_FULL=1``.  PyMC's side runs in PyTensor's Python mode (no C
compilation on a cold cache).
"""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.stats as stats
from oracle import _import, import_source
from pytensor.compile.mode import Mode

pm = pytest.importorskip("pymc")  # an extra ("examples"): absent in `make test-pytensor3`
az = pytest.importorskip("arviz")

from test_pymc_zoo import ZOO  # noqa: E402

import transpile.cli  # noqa: E402
from transpile.errors import TranspileError  # noqa: E402
from transpile.pymc_predictive import from_pymc_predictive  # noqa: E402

pytestmark = pytest.mark.pymc
FULL = bool(os.environ.get("TRANSPILE_PYMC_FULL"))
SEED = 20261125
DRAWS = 2000
ENTRIES = 4  # entries of each variable compared
PYMC_MODE = Mode(linker="py", optimizer="fast_compile")
DEFAULT = ["eight_schools_centered", "hierarchical_logistic", "categorical"]
# The rest of the zoo (random walks, AR(1) through a Scan, mixtures, LKJ, GPs, ...).
SLOW = [name for name in ZOO if name not in DEFAULT]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cache = {}
    folder = tmp_path_factory.mktemp("predictive")

    def build(name):
        if name not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = ZOO[name]()
                # written with -o, as a user would: large data go to its data file
                path = folder / f"pred_{name}.py"
                from_pymc_predictive(model, str(path))
                cache[name] = model, _import(f"pred_{name}", path)
        return cache[name]

    return build


def _same_distribution(ours, theirs, label):
    ours = np.asarray(ours).reshape(len(ours), -1)
    theirs = np.asarray(theirs).reshape(len(theirs), -1)
    assert ours.shape[1] == theirs.shape[1], f"{label}: shape of one draw differs"
    for k in range(min(ENTRIES, ours.shape[1])):
        result = stats.ks_2samp(ours[:, k], theirs[:, k])
        assert result.pvalue > 1e-4, f"{label}[{k}]: KS p-value {result.pvalue:.2g}"


def _pymc_prior(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample_prior_predictive(draws=DRAWS, model=model, random_seed=SEED,
                                           compile_kwargs={"mode": PYMC_MODE})
    draws = {}
    for group in ("prior", "prior_predictive"):
        if group not in idata.groups():  # no observed variables
            continue
        for name, values in idata[group].data_vars.items():
            draws[name] = values.values[0]
    return draws


def _check(model, module):
    rows = module.PRIOR_VARIABLES
    got = module.prior_predictive(np.random.default_rng(SEED), DRAWS)
    got = got if isinstance(got, tuple) else (got,)
    prior = dict(zip([r[0] for r in rows], got, strict=True))
    for name, _, dtype, shape in rows:
        assert prior[name].shape == (DRAWS, *shape) and prior[name].dtype == dtype, name
    want = _pymc_prior(model)
    for name, _, _, _ in rows:
        _same_distribution(prior[name], want[name], f"prior {name}")

    free = [r[0] for r in module.POSTERIOR_ARGUMENTS]
    observed = [r[0] for r in module.POSTERIOR_VARIABLES]
    if not observed:  # a model of potentials only: no posterior predictive
        assert not hasattr(module, "posterior_predictive")
        return
    drawn = module.posterior_predictive(np.random.default_rng(SEED + 1),
                                        *[prior[name] for name in free])
    drawn = drawn if isinstance(drawn, tuple) else (drawn,)
    posterior = az.from_dict(posterior={name: prior[name][None] for name in free})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample_posterior_predictive(
            posterior, model=model, random_seed=SEED + 1, progressbar=False,
            compile_kwargs={"mode": PYMC_MODE})
    shapes = {r[0]: r[3] for r in module.POSTERIOR_VARIABLES}
    for name, values in zip(observed, drawn, strict=True):
        assert values.shape == (DRAWS, *shapes[name]), name
        _same_distribution(values, idata.posterior_predictive[name].values[0],
                           f"posterior predictive {name}")


@pytest.mark.parametrize("name", DEFAULT)
def test_predictive_matches_pymc(built, name):
    _check(*built(name))


@pytest.mark.skipif(not FULL, reason="the rest of the zoo: set TRANSPILE_PYMC_FULL=1")
@pytest.mark.parametrize("name", SLOW)
def test_predictive_matches_pymc_full(built, name):
    _check(*built(name))


def test_posterior_predictive_follows_the_given_values(built):
    """Each observed draw is drawn given its own posterior draw: with theta pinned
    far apart, each school's draws centre on its own theta."""
    model, module = built("eight_schools_centered")
    theta = np.tile(np.arange(8) * 1000.0, (500, 1))
    obs = module.posterior_predictive(np.random.default_rng(SEED), np.zeros(500),
                                      np.ones(500), theta)
    sigma = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
    z = (obs - theta) / sigma
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1.0) < 0.05


def test_runs_without_pymc_or_pytensor(built):
    """The module, run in a fresh process: numba and numpy only."""
    _, module = built("eight_schools_centered")
    folder, stem = os.path.split(module.__file__)
    script = textwrap.dedent(f"""
        import importlib, sys
        import numpy as np
        sys.path.insert(0, {folder!r})
        draws = importlib.import_module({stem[:-3]!r})
        mu, tau, theta, obs = draws.prior_predictive(np.random.default_rng(1), 50)
        again = draws.posterior_predictive(np.random.default_rng(2), mu, tau, theta)
        assert obs.shape == again.shape == (50, 8), (obs.shape, again.shape)
        loaded = sorted(m for m in ("pymc", "pytensor", "transpile") if m in sys.modules)
        assert not loaded, loaded
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ""}, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


MODEL_SCRIPT = """
import numpy as np
import pymc as pm

with pm.Model() as model:
    mu = pm.Normal("mu", 0.0, 1.0)
    sigma = pm.HalfNormal("sigma", 1.0)
    pm.Normal("y", mu, sigma, observed=np.array([0.1, -0.3, 0.5]))
"""


def test_cli_predictive(tmp_path, capsys):
    script = tmp_path / "model.py"
    script.write_text(MODEL_SCRIPT)
    out = tmp_path / "draws.py"
    assert transpile.cli.main(["pymc", "--predictive", str(script), "-o", str(out)]) == 0
    source = out.read_text()
    assert "def prior_predictive(rng, draws):" in source
    assert "def posterior_predictive(rng, mu, sigma):" in source
    assert "transpile pymc --predictive model.py -o <this file>" in source
    module = import_source(source, "pred")
    mu, sigma, y = module.prior_predictive(np.random.default_rng(SEED), 1000)
    assert y.shape == (1000, 3) and (sigma > 0).all()
    assert transpile.cli.main(["pymc", "--predictive", "--name", "f", str(script)]) == 1
    assert "--name does not apply to --predictive" in capsys.readouterr().err


def test_not_a_model():
    with pytest.raises(TranspileError, match="expected a pymc.Model"):
        from_pymc_predictive(object())
