"""transpile: PyTensor graphs -> standalone, readable Numba modules.

    transpile graph.pkl > kernels.py

The Python API mirrors the command line:

    import transpile
    transpile.dump([x, y], [loss, grad], "graph.pkl")   # write a graph pickle
    source = transpile.transpile("graph.pkl")            # or a graph object
"""

__version__ = "0.1.0"

from .errors import GraphError, LoadError, TranspileError, UnsupportedOpError  # noqa: E402
from .registry import register, register_scalar  # noqa: E402


def transpile(graph, *, name: str = "kernel", rewrite: bool = True, cache: bool = True,
              fastmath: bool = False, allow_modules=()) -> str:
    """The source of a generated module.

    ``graph`` is a path to a graph pickle, or an object of any form a pickle may hold:
    a ``FunctionGraph``, a compiled ``Function``, a list of output variables or an
    ``(inputs, outputs)`` pair.
    """
    from .room import with_room

    options = {"name": name, "rewrite": rewrite, "cache": cache, "fastmath": fastmath,
               "allow_modules": tuple(allow_modules)}
    return with_room(_transpile, graph, options)


def _transpile(graph, options: dict) -> str:
    from pathlib import Path

    import pytensor

    from .assemble import Options, generate
    from .load import load_file, load_object

    # PyTensor's C compiler stays off throughout: nothing in a graph is compiled.
    with pytensor.config.change_flags(cxx=""):
        if isinstance(graph, (str, Path)):
            loaded = load_file(graph, options["allow_modules"])
        else:
            loaded = load_object(graph)
        return generate(loaded, Options(**options))


def dump(inputs, outputs, path) -> None:
    """Write ``(inputs, outputs)`` to ``path`` as a graph pickle for ``transpile``."""
    from .load import dump as _dump

    _dump(inputs, outputs, path)


__all__ = [
    "GraphError", "LoadError", "TranspileError", "UnsupportedOpError", "__version__",
    "dump", "register", "register_scalar", "transpile",
]
