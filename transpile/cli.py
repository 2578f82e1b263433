"""The command line: ``transpile GRAPH [-o OUT] ...`` and ``transpile dump SCRIPT``.

Every failure a user can cause is one line on stderr and exit status 1 (2 for a usage
error), with nothing written.
"""

import argparse
import importlib
import logging
import os
import runpy
import sys
import warnings
from pathlib import Path

from . import __version__
from .errors import TranspileError
from .syntax import one_line

EPILOG = """\
examples:
  transpile graph.pkl > kernels.py
  transpile graph.pkl -o kernels.py --name logp --fastmath
  transpile dump model.py -o graph.pkl     (model.py defines `inputs` and `outputs`)
  transpile pymc model.py -o logp.py       (model.py defines a PyMC model: logp, logp_dlogp)
  transpile pymc --predictive model.py -o draws.py   (prior_predictive, posterior_predictive)
  transpile check graph.pkl kernels.py     (does the module still agree with PyTensor?)
  transpile pymc check model.py logp.py    (the same for a PyMC model's module)

See docs/usage.md for the accepted pickle forms and the generated module's contract.
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="transpile",
        description="Turn a pickled PyTensor graph into a standalone Numba module.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("graph", help="the graph pickle (see `transpile dump` to make one)")
    p.add_argument("-o", "--output", help="write the module here (atomically) "
                   "instead of to stdout")
    p.add_argument("--name", default="kernel", help="the entry function's name "
                   "(default: kernel)")
    p.add_argument("--no-rewrite", action="store_true",
                   help="lower the graph as given, without PyTensor's rewrites")
    p.add_argument("--no-cache", action="store_true",
                   help="emit @njit without cache=True")
    p.add_argument("--fastmath", action="store_true",
                   help="emit @njit(fastmath=True) (off by default)")
    p.add_argument("--parallel", action="store_true",
                   help="run the outer loop of large elementwise and reduction work "
                   "over numba.prange, on every core (off by default)")
    p.add_argument("--no-outline", action="store_true",
                   help="write repeated code inline, not as one helper function per "
                   "repeated node (docs/performance.md)")
    p.add_argument("--allow-module", action="append", default=[], metavar="MODULE",
                   help="also allow this package's globals in the pickle (repeatable)")
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                   help="import MODULE first, for its @transpile.register lowerings")
    p.add_argument("--version", action="version", version=f"transpile {__version__}")
    return p


def _dump_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="transpile dump",
        description="Run a Python script that builds a PyTensor graph and pickle it. "
        "The script must define module-level `inputs` (a list of variables) and "
        "`outputs` (a variable or a list of them).",
    )
    p.add_argument("script", help="the Python file that builds the graph")
    p.add_argument("-o", "--output", default="graph.pkl",
                   help="where to write the pickle (default: graph.pkl)")
    p.add_argument("--inputs", default="inputs",
                   help="the inputs' name in the script (default: inputs)")
    p.add_argument("--outputs", default="outputs",
                   help="the outputs' name in the script (default: outputs)")
    return p


def _import_plugins(modules) -> None:
    sys.path.insert(0, os.getcwd())
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - report any plugin failure as one line
            raise TranspileError(
                f"--plugin {module}: {type(exc).__name__}: {exc}") from None


def _check_name(name: str) -> None:
    from .assemble import check_entry_name
    from .runtime import RuntimeLibrary

    check_entry_name(name, RuntimeLibrary().names())


def run(argv) -> int:
    from . import transpile

    args = _parser().parse_args(argv)
    _check_name(args.name)  # before the slow part: loading PyTensor and the graph
    _import_plugins(args.plugin)
    source = transpile(
        args.graph,
        name=args.name,
        rewrite=not args.no_rewrite,
        cache=not args.no_cache,
        fastmath=args.fastmath,
        parallel=args.parallel,
        outline=not args.no_outline,
        allow_modules=args.allow_module,
        output=args.output,  # the module (and its data file, if any) written there
    )
    if not args.output:
        sys.stdout.buffer.write(source.encode())
        sys.stdout.flush()
    return 0


def run_dump(argv) -> int:
    from . import dump
    from .naming import arrays_named_by

    args = _dump_parser().parse_args(argv)
    script = Path(args.script)
    if not script.is_file():
        raise TranspileError(f"no such script: {script}")
    sys.path.insert(0, str(script.resolve().parent))  # as `python script.py` does
    try:
        namespace = runpy.run_path(str(script), run_name="__transpile_dump__")
    except SystemExit as exc:
        raise TranspileError(f"{script} exited (status {exc.code}) before it "
                             "defined the graph") from None
    except Exception as exc:  # noqa: BLE001 - the user's script failed
        raise TranspileError(f"{script} failed: {type(exc).__name__}: {exc}") from None
    for key in (args.inputs, args.outputs):
        if key not in namespace:
            raise TranspileError(f"{script} does not define `{key}`")
    with arrays_named_by(namespace):  # x_data in the module, not CONST
        dump(namespace[args.inputs], namespace[args.outputs], args.output)
    return 0


def _command(argv) -> int:
    if argv[:1] == ["dump"]:
        return run_dump(argv[1:])
    if argv[:1] == ["check"]:
        from .check import run_check

        return run_check(argv[1:])
    if argv[:1] == ["pymc"]:
        from .pymc_cli import run_pymc

        return run_pymc(argv[1:])
    return run(argv)


def _quiet_compiler() -> None:
    """PyTensor's C compiler stays off for the whole run, before PyTensor is
    imported: nothing a graph file holds is ever compiled (docs/security.md)."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    os.environ["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, "cxx=") if f)


def _notes_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("transpile: note: %(message)s"))
    log = logging.getLogger("transpile")
    log.addHandler(handler)
    log.setLevel(logging.WARNING)
    log.propagate = False


def main(argv=None) -> int:
    from .room import with_room

    argv = list(sys.argv[1:] if argv is None else argv)
    if "pytensor" not in sys.modules:
        _quiet_compiler()
    warnings.filterwarnings("ignore")  # PyTensor's import-time notices are not ours
    logging.getLogger("pytensor").setLevel(logging.ERROR)  # e.g. "g++ not available"
    _notes_to_stderr()
    try:
        return with_room(_command, argv)
    except TranspileError as exc:
        print(f"transpile: error: {one_line(str(exc), 1000)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("transpile: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `transpile graph.pkl | head`: not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing left to flush at exit
        return 1
    except MemoryError:
        print("transpile: error: out of memory", file=sys.stderr)
        return 1
    except RecursionError:
        print("transpile: error: the graph is nested too deeply to transpile "
              "(RecursionError)", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("TRANSPILE_DEBUG"):
            raise
        print(f"transpile: internal error: {type(exc).__name__}: "
              f"{one_line(str(exc), 500)} (set TRANSPILE_DEBUG=1 for a traceback, "
              "and please report it)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
