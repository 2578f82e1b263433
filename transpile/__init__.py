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
              fastmath: bool = False, parallel: bool = False, outline: bool = True,
              allow_modules=(), output=None) -> str:
    """The source of a generated module.

    ``graph`` is a path to a graph pickle, or an object of any form a pickle may hold:
    a ``FunctionGraph``, a compiled ``Function``, a list of output variables or an
    ``(inputs, outputs)`` pair.  With ``output`` (a path), the module is also written
    there, atomically, and its data file (arrays too large for the source, see
    docs/usage.md) beside it; a graph with such arrays needs ``output``.
    ``outline=False`` writes code the graph repeats inline, once per copy, instead of
    as one helper function called per copy (transpile/outline.py).
    """
    from .room import with_room

    options = {"name": name, "rewrite": rewrite, "cache": cache, "fastmath": fastmath,
               "parallel": parallel, "outline": outline,
               "allow_modules": tuple(allow_modules)}
    return with_room(_transpile, graph, options, output)


def _transpile(graph, options: dict, output) -> str:
    from pathlib import Path

    from .data import data_file_for, write_module
    from .load import read_file, read_records
    from .output import check_output_dir

    records = None
    if isinstance(graph, (str, Path)):
        # Read and parse the file before PyTensor is imported: a file that is missing,
        # damaged or hostile is refused in a fraction of a second.
        records = read_records(read_file(graph))
    if output is not None:
        check_output_dir(output)

    import pytensor

    from .assemble import Options, generate_module
    from .load import load_file, load_object

    # PyTensor's C compiler stays off throughout: nothing in a graph is compiled.
    with pytensor.config.change_flags(cxx=""):
        if records is not None:
            loaded = load_file(graph, options["allow_modules"], records)
        else:
            loaded = load_object(graph)
        source, data = generate_module(loaded, Options(**options,
                                                       data_file=data_file_for(output)))
    if output is not None:
        write_module(output, source, data)
    return source


def dump(inputs, outputs, path) -> None:
    """Write ``(inputs, outputs)`` to ``path`` as a graph pickle for ``transpile``."""
    from .load import dump as _dump

    _dump(inputs, outputs, path)


__all__ = [
    "GraphError", "LoadError", "TranspileError", "UnsupportedOpError", "__version__",
    "dump", "register", "register_scalar", "transpile",
]
