"""``transpile pymc MODEL.py [-o OUT] [--model-name NAME] [--predictive] ...``.

Runs a Python file that defines a ``pymc.Model`` and writes the module of its joint
log-density and gradient (see ``transpile.pymc``), or with ``--predictive`` the
module that draws its prior and posterior predictive (``transpile.pymc_predictive``).
The model is found by name (``--model-name``, default ``model``), else it is the only
``pymc.Model`` the file defines at module level.
"""

import argparse
import runpy
import sys
from pathlib import Path

from .errors import TranspileError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="transpile pymc",
        description="Run a Python file that defines a PyMC model and write a "
        "standalone Numba module with logp(<value vars>) and "
        "logp_dlogp(<value vars>) -> (logp, dlogp), or with --predictive one with "
        "prior_predictive(rng, draws) and posterior_predictive(rng, <free variables>).",
    )
    p.add_argument("model", help="the Python file that defines the pymc.Model")
    p.add_argument("-o", "--output", help="write the module here (atomically) instead "
                   "of to stdout")
    p.add_argument("--model-name", default=None, metavar="NAME",
                   help="the model's variable name in the file (default: `model`, "
                   "else the only pymc.Model the file defines)")
    p.add_argument("--name", default=None, help="the log-density entry's name; the "
                   "gradient entry is NAME_dlogp (default: logp)")
    p.add_argument("--predictive", action="store_true",
                   help="write prior_predictive(rng, draws) and posterior_predictive(rng, "
                   "<free variables>) instead: draws from the model, as "
                   "pm.sample_prior_predictive and pm.sample_posterior_predictive")
    p.add_argument("--no-rewrite", action="store_true",
                   help="lower the graphs as PyMC builds them, without PyTensor's "
                   "rewrites")
    p.add_argument("--fastmath", action="store_true",
                   help="emit @njit(fastmath=True) (off by default)")
    p.add_argument("--no-cache", action="store_true",
                   help="emit @njit without cache=True")
    p.add_argument("--checks", choices=("neg-inf", "raise"), default="neg-inf",
                   help="what a violated parameter check does in the flat entries "
                   "(logp_dlogp_flat, LOGP_CFUNC): give logp = -inf as PyMC's compiled "
                   "functions and samplers do (default), or raise ParameterValueError as "
                   "model.logp() does; logp and logp_dlogp always raise")
    return p


def find_model(namespace: dict, name: str | None, script) -> object:
    """The ``pymc.Model`` called ``name`` in ``namespace``, else the only one."""
    import pymc as pm

    if name is not None:
        if name not in namespace:
            raise TranspileError(f"{script} does not define `{name}`")
        model = namespace[name]
        if not isinstance(model, pm.Model):
            raise TranspileError(f"`{name}` in {script} is not a pymc.Model but a "
                                 f"{type(model).__name__}")
        return model
    if isinstance(namespace.get("model"), pm.Model):
        return namespace["model"]
    found = {}
    for key, value in namespace.items():
        if isinstance(value, pm.Model) and not key.startswith("_"):
            found.setdefault(id(value), (key, value))
    if not found:
        raise TranspileError(f"{script} defines no pymc.Model")
    if len(found) > 1:
        names = ", ".join(sorted(k for k, _ in found.values()))
        raise TranspileError(f"{script} defines several pymc.Models ({names}); pick "
                             "one with --model-name")
    return next(iter(found.values()))[1]


def load_model(script, name: str | None = None):
    """Run ``script`` and return the model it defines."""
    return find_model(load_script(script), name, Path(script))


def load_script(script) -> dict:
    """Run the model file ``script``: its module namespace."""
    script = Path(script)
    if not script.is_file():
        raise TranspileError(f"no such model file: {script}")
    try:
        import pymc  # noqa: F401
    except ImportError:
        raise TranspileError("PyMC is not installed (pip install pymc)") from None
    sys.path.insert(0, str(script.resolve().parent))  # the script's own imports
    try:
        return runpy.run_path(str(script), run_name="__transpile_pymc__")
    except Exception as exc:  # noqa: BLE001 - the user's script failed
        detail = str(exc).splitlines()[0] if str(exc) else ""
        raise TranspileError(f"{script} failed: {type(exc).__name__}"
                             f"{': ' + detail if detail else ''}") from None
    finally:
        sys.path.pop(0)


def run_pymc(argv) -> int:
    from .naming import arrays_named_by

    if argv[:1] == ["check"]:
        from .check import run_pymc_check

        return run_pymc_check(argv[1:])
    args = _parser().parse_args(argv)
    if args.predictive and args.name is not None:
        raise TranspileError("--name does not apply to --predictive: the entries are "
                             "prior_predictive and posterior_predictive")
    namespace = load_script(args.model)
    model = find_model(namespace, args.model_name, Path(args.model))
    with arrays_named_by(namespace):  # x_data in the module, not CONST
        if args.predictive:
            return _run_predictive(args, model)
        return _run_logp(args, model)


def _run_logp(args, model) -> int:
    from .pymc import cli_command, from_pymc

    args.name = args.name or "logp"
    source = from_pymc(
        model,
        args.output,
        name=args.name,
        rewrite=not args.no_rewrite,
        fastmath=args.fastmath,
        cache=not args.no_cache,
        source=Path(args.model).name,
        checks=args.checks,
        regenerate=cli_command(Path(args.model).name, name=args.name,
                               rewrite=not args.no_rewrite, fastmath=args.fastmath,
                               cache=not args.no_cache, model_name=args.model_name,
                               checks=args.checks),
    )
    if not args.output:
        sys.stdout.write(source)
    return 0


def _run_predictive(args, model) -> int:
    from .pymc import cli_command
    from .pymc_predictive import from_pymc_predictive

    script = Path(args.model).name
    command = cli_command(script, rewrite=not args.no_rewrite, fastmath=args.fastmath,
                          cache=not args.no_cache, model_name=args.model_name)
    source = from_pymc_predictive(
        model, args.output, rewrite=not args.no_rewrite, fastmath=args.fastmath,
        cache=not args.no_cache, source=script,
        regenerate=command.replace("transpile pymc ", "transpile pymc --predictive ", 1))
    if not args.output:
        sys.stdout.write(source)
    return 0
