"""generated_examples/pymc_hmc/: a hand-written HMC on a module from ``transpile pymc``.

The sampler runs in a fresh process that must import neither PyMC nor PyTensor (nor
transpile); its posterior means must match eight schools' known posterior; and the
committed eight_schools.py must be what ``transpile pymc model.py`` writes today.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pymc

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "generated_examples" / "pymc_hmc"

# Posterior means of the non-centered eight schools model (mu ~ N(0, 5),
# tau ~ HalfCauchy(5)) from PyMC's NUTS: 4 chains x 25000 draws after 2000 tuning
# steps, target_accept=0.95 (Monte Carlo standard errors at most 0.017; posterior
# standard deviations 3.3 for mu, 3.2 for tau, 4.7 to 5.6 for theta).
REFERENCE = {
    "mu": 4.385, "tau": 3.608,
    "theta[0]": 6.219, "theta[1]": 4.919, "theta[2]": 3.906, "theta[3]": 4.747,
    "theta[4]": 3.614, "theta[5]": 4.041, "theta[6]": 6.278, "theta[7]": 4.865,
}


def _run_sampler():
    result = subprocess.run(
        [sys.executable, "sample.py", "2000", "1"], cwd=EXAMPLE, capture_output=True,
        text=True, env=dict(os.environ), timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    means = {}
    for line in lines:
        key, _, value = line.partition(" ")
        if key in REFERENCE:
            means[key] = float(value)
    modules = next(line for line in lines if line.startswith("modules ")).split()[1:]
    return means, set(modules), lines[0]


def test_sampler_needs_neither_pymc_nor_pytensor_and_finds_the_posterior():
    means, modules, summary = _run_sampler()
    assert "eight_schools" in modules and "numpy" in modules
    for forbidden in ("pymc", "pytensor", "transpile"):
        assert forbidden not in modules, f"sample.py imported {forbidden}"
    assert set(means) == set(REFERENCE), summary
    # 2 chains x 2000 draws: Monte Carlo error about 0.1 for mu, 0.15 for tau and
    # theta; the sampler's own bias (a fixed step size, no U-turn criterion) is small.
    for key, want in REFERENCE.items():
        tol = 0.6 if key in ("mu", "tau") else 0.8
        assert abs(means[key] - want) < tol, f"{key}: {means[key]} vs {want}, {summary}"


def _regenerated(tmp_path, name: str, *flags) -> str:
    """``transpile pymc [flags] model.py -o <tmp>/name``, run in the example's folder
    as the Makefile runs it: the module's text."""
    out = tmp_path / name
    code = ("import sys; from transpile.pymc_cli import run_pymc; "
            "sys.exit(run_pymc(sys.argv[1:]))")
    result = subprocess.run(
        [sys.executable, "-c", code, *flags, "model.py", "-o", str(out)], cwd=EXAMPLE,
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out.read_text()


@pytest.mark.skipif(importlib.util.find_spec("pymc") is None,
                    reason="PyMC is not installed (make test-pytensor3)")
def test_committed_module_is_fresh(tmp_path):
    committed = (EXAMPLE / "eight_schools.py").read_text()
    assert _regenerated(tmp_path, "eight_schools.py") == committed, (
        "generated_examples/pymc_hmc/eight_schools.py is stale: regenerate it with "
        "`transpile pymc model.py -o eight_schools.py` in that folder")


def test_predictive_draws_need_neither_pymc_nor_pytensor():
    """predictive.py: prior predictive draws, then posterior predictive draws for
    sample.py's posterior, from eight_schools_draws.py alone."""
    result = subprocess.run(
        [sys.executable, "predictive.py", "1000", "3"], cwd=EXAMPLE,
        capture_output=True, text=True, env=dict(os.environ), timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    modules = next(line for line in lines if line.startswith("modules ")).split()[1:]
    assert "eight_schools_draws" in modules
    for forbidden in ("pymc", "pytensor", "transpile"):
        assert forbidden not in modules, f"predictive.py imported {forbidden}"
    values = {}
    for line in lines:
        words = line.split()
        if words[0].startswith("obs["):
            values[words[0]] = (float(words[2]), float(words[4]))
    # mu ~ Normal(0, 5): 1000 draws give its sd within a few percent
    prior = next(line for line in lines if line.startswith("prior mu"))
    sd = float(prior.split()[-1])
    assert abs(sd - 5.0) < 0.5, prior
    # obs_j ~ Normal(theta_j, sigma_j): the replicated effects' mean is the posterior
    # mean of theta_j, up to Monte Carlo error (sigma_j <= 18 over 1000 draws)
    for j in range(8):
        replicated, theta = values[f"obs[{j}]"]
        assert abs(replicated - theta) < 2.5, (j, replicated, theta)


@pytest.mark.skipif(importlib.util.find_spec("pymc") is None,
                    reason="PyMC is not installed (make test-pytensor3)")
def test_committed_draws_module_is_fresh(tmp_path):
    committed = (EXAMPLE / "eight_schools_draws.py").read_text()
    assert _regenerated(tmp_path, "eight_schools_draws.py", "--predictive") == committed, (
        "generated_examples/pymc_hmc/eight_schools_draws.py is stale: regenerate it with "
        "`make examples`")
