"""Load: a pickle file (or an in-memory object) -> a ``FunctionGraph``.

Unpickling runs code named by the file, so it is restricted: a pickle may only name
classes from the allowed packages (PyTensor, NumPy and whatever ``--allow-module``
adds) and a short list of reconstructor functions.  Anything else is refused before it
is imported, with an error naming the global.
"""

import hashlib
import importlib
import io
import pickle
import sys
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import GraphError, LoadError

DEFAULT_ALLOWED_PACKAGES = ("pytensor", "numpy")

# Functions (not classes) that pickles of PyTensor graphs legitimately call.
_ALLOWED_FUNCTIONS = frozenset(
    {
        ("copyreg", "_reconstructor"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "dtype"),
        ("numpy.random._pickle", "__bit_generator_ctor"),
        ("numpy.random._pickle", "__generator_ctor"),
        ("numpy.random._pickle", "__randomstate_ctor"),
        ("pytensor.compile.function.types", "_constructor_Function"),
        ("pytensor.compile.function.types", "_constructor_FunctionMaker"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy.core.numeric", "_frombuffer"),
    }
)
# Harmless builtin and standard-library types that pickles of graphs contain.
_ALLOWED_STDLIB = frozenset(
    {
        ("builtins", n)
        for n in (
            "object", "slice", "set", "frozenset", "complex", "range", "tuple",
            "list", "dict", "int", "float", "bool", "str", "bytes", "bytearray",
            "type", "NotImplemented", "Ellipsis",
        )
    }
    | {("collections", "OrderedDict"), ("collections", "defaultdict"),
       ("collections", "deque"), ("_collections", "OrderedDict"),
       ("copyreg", "__newobj__"), ("pathlib", "PosixPath"),
       ("pathlib", "PurePosixPath"), ("pathlib", "WindowsPath"),
       ("pathlib", "PureWindowsPath")}
)


def _root(module: str) -> str:
    return module.split(".", 1)[0]


# PyTensor subpackages whose plain functions (type-inference rules such as
# ``upcast_out``) graph pickles name.  Not ``link``, ``utils``, ``misc`` or the config
# machinery, which hold functions that compile, spawn processes or touch files.
_GRAPH_SUBPACKAGES = tuple(
    f"pytensor.{sub}"
    for sub in ("scalar", "tensor", "graph", "sparse", "scan", "raise_op", "ifelse",
                "gradient", "xtensor", "compile.builders", "compile.ops",
                "compile.sharedvalue")
)


# Parts of the allowed packages that touch files, load libraries or run compilers.
_DENIED_MODULES = (
    "numpy.ctypeslib", "numpy.f2py", "numpy.distutils", "numpy.testing",
    "numpy.lib._npyio_impl", "numpy.lib.npyio", "numpy.lib._datasource",
    "numpy._core.memmap", "numpy.core.memmap",
    "pytensor.utils", "pytensor.link.c.cmodule", "pytensor.compile.compiledir",
    "pytensor.compile.compilelock", "pytensor.configparser",
)
_DENIED_NAMES = frozenset({("numpy", "memmap"), ("numpy", "DataSource"),
                           ("numpy", "load"), ("numpy", "fromfile")})


def _within(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _safe_getattr(obj, attribute: str):
    """``getattr`` as pickles of bound methods use it, minus private attributes."""
    if not isinstance(attribute, str) or attribute.startswith("_"):
        raise LoadError(f"refusing to unpickle getattr(..., {attribute!r})")
    value = getattr(obj, attribute)
    if isinstance(value, types.ModuleType):
        raise LoadError(f"refusing to unpickle getattr(..., {attribute!r}): a module")
    return value


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only allow-listed globals.

    Allowed: classes from PyTensor, NumPy and the ``user_modules``; PyTensor's plain
    functions from its graph subpackages; a short list of reconstructor functions;
    any non-module global of a ``user_modules`` package (the user vouched for it);
    ``getattr`` restricted to public attributes.  Modules themselves never.
    """

    def __init__(self, file, user_modules: Iterable[str] = ()):
        super().__init__(file)
        self.user_modules = tuple(user_modules)
        self.packages = (*DEFAULT_ALLOWED_PACKAGES, *self.user_modules)

    def _refuse(self, where: str, why: str):
        return LoadError(f"refusing to unpickle global {where!r}: {why}")

    def find_class(self, module: str, name: str):
        where = f"{module}.{name}"
        if (module, name) == ("builtins", "getattr"):
            return _safe_getattr
        if (module, name) in _ALLOWED_STDLIB:
            return super().find_class(module, name)
        if not _within(module, self.packages):
            return self._fail_module(where, module)
        if (module, name) in _DENIED_NAMES or (
            _within(module, _DENIED_MODULES) and not _within(module, self.user_modules)
        ):
            raise self._refuse(where, "it can touch files or run code")
        dunder = any(p.startswith("__") for p in name.split("."))
        if dunder and (module, name) not in _ALLOWED_FUNCTIONS:
            raise self._refuse(where, "private name")
        try:
            obj = super().find_class(module, name)
        except (ImportError, AttributeError) as exc:
            raise LoadError(f"cannot resolve global {where!r}: {exc}") from None
        if isinstance(obj, types.ModuleType):
            raise self._refuse(where, "it is a module")
        if (
            isinstance(obj, type)
            or (module, name) in _ALLOWED_FUNCTIONS
            or _within(module, _GRAPH_SUBPACKAGES)
            or _within(module, self.user_modules)
        ):
            return obj
        raise self._refuse(where, "only classes and known reconstructors are allowed")

    def _fail_module(self, where: str, module: str):
        raise self._refuse(
            where,
            f"module not allowed ({', '.join(self.packages)}); pass --allow-module "
            f"{_root(module)} if you trust this file",
        )


@dataclass
class LoadedGraph:
    fgraph: object  # pytensor.graph.fg.FunctionGraph
    source: str  # a short description: the file name or "<object>"
    digest: str  # sha256 of the pickle bytes (or of the graph's printout)


def _import_allowed(modules: Sequence[str]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise LoadError(f"--allow-module {module}: cannot import it ({exc})") from None


def load_bytes(data: bytes, allowed_modules: Sequence[str] = ()):
    """Unpickle ``data`` with the restricted unpickler."""
    import pytensor  # noqa: F401  (registers the classes the pickle names)

    _import_allowed(allowed_modules)
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 10_000))  # deep graphs pickle deeply
    try:
        return RestrictedUnpickler(io.BytesIO(data), allowed_modules).load()
    except LoadError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError,
            KeyError, AttributeError, ImportError, RecursionError,
            MemoryError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LoadError(f"not a readable graph pickle: {detail}") from None
    finally:
        sys.setrecursionlimit(old_limit)


def load_file(path, allowed_modules: Sequence[str] = ()) -> LoadedGraph:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LoadError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise LoadError(f"is a directory, not a graph pickle: {path}") from None
    except OSError as exc:
        raise LoadError(f"cannot read {path}: {exc.strerror}") from None
    if not data:
        raise LoadError(f"empty file: {path}")
    obj = load_bytes(data, allowed_modules)
    fgraph = to_fgraph(obj)
    return LoadedGraph(fgraph, path.name, graph_digest(fgraph))


def load_object(obj) -> LoadedGraph:
    fgraph = to_fgraph(obj)
    return LoadedGraph(fgraph, "<object>", graph_digest(fgraph))


def graph_digest(fgraph) -> str:
    """A sha256 of the graph itself: its printout (Ops, types, names, inner graphs)
    and the bytes of its constants.  Pickles of one graph differ from run to run
    (timings, file paths, set orders); this does not."""
    from pytensor.graph.basic import Constant
    from pytensor.printing import debugprint

    text = debugprint(fgraph, file="str", print_type=True)
    digest = hashlib.sha256(text.encode())
    for node in fgraph.toposort():
        for var in node.inputs:
            if isinstance(var, Constant):
                data = getattr(var, "data", None)
                digest.update(data.tobytes() if hasattr(data, "tobytes") else
                              repr(data).encode())
    return digest.hexdigest()


def _is_variable(x) -> bool:
    from pytensor.graph.basic import Variable

    return isinstance(x, Variable)


def _variables(seq, what: str) -> list:
    if _is_variable(seq):
        return [seq]
    if not isinstance(seq, (list, tuple)) or not all(_is_variable(v) for v in seq):
        raise LoadError(f"{what} must be PyTensor variables")
    return list(seq)


def to_fgraph(obj):
    """A ``FunctionGraph`` from any of the accepted forms (see docs/usage.md)."""
    from pytensor.compile.function.types import Function
    from pytensor.graph.fg import FunctionGraph

    if isinstance(obj, FunctionGraph):
        fgraph = obj.clone()
    elif isinstance(obj, Function):
        fgraph = obj.maker.fgraph.clone()
    elif _is_variable(obj) or (
        isinstance(obj, (list, tuple)) and obj and all(_is_variable(v) for v in obj)
    ):
        fgraph = _from_pair(None, _variables(obj, "outputs"))
    elif isinstance(obj, (list, tuple)) and len(obj) == 2:
        fgraph = _from_pair(_variables(obj[0], "inputs"), _variables(obj[1], "outputs"))
    elif isinstance(obj, (list, tuple)) and not obj:
        raise GraphError("the graph has no outputs")
    else:
        raise LoadError(
            f"the pickle holds a {type(obj).__name__}, not a graph: expected a "
            "FunctionGraph, a compiled PyTensor Function, a list of output variables "
            "or an (inputs, outputs) pair"
        )
    if not fgraph.outputs:
        raise GraphError("the graph has no outputs")
    return fgraph


def _from_pair(inputs, outputs):
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant

    from .compat import graph_inputs
    from pytensor.graph.fg import FunctionGraph
    from pytensor.graph.replace import clone_replace

    if not outputs:
        raise GraphError("the graph has no outputs")
    free = [v for v in graph_inputs(outputs) if not isinstance(v, Constant)]
    if inputs is None:
        inputs = [v for v in free if not isinstance(v, SharedVariable)]
    missing = [v for v in free if v not in inputs and not isinstance(v, SharedVariable)]
    if missing:
        raise GraphError(
            f"the outputs depend on {missing[0]!s} which is not among the inputs"
        )
    # Shared variables that are not inputs are frozen at their current value.
    shared = {v: v.type.filter(v.get_value()) for v in free
              if isinstance(v, SharedVariable) and v not in inputs}
    if shared:
        from pytensor.graph.basic import Constant as C

        replace = {v: C(v.type, value, name=v.name) for v, value in shared.items()}
        outputs = clone_replace(outputs, replace=replace)
    return FunctionGraph(list(inputs), list(outputs), clone=True)


def dump(inputs, outputs, path) -> None:
    """Write ``(inputs, outputs)`` as a graph pickle that ``transpile`` reads.

    ``inputs`` is a list of PyTensor variables (the generated entry's parameters, in
    order), ``outputs`` a variable or a list of them.
    """
    inputs = _variables(inputs, "inputs")
    outputs = _variables(outputs, "outputs")
    fgraph = _from_pair(inputs, outputs)  # validates before anything is written
    data = pickle.dumps(fgraph, protocol=pickle.HIGHEST_PROTOCOL)
    from .output import write_atomic

    write_atomic(Path(path), data)
