"""Load: a pickle file (or an in-memory object) -> a ``FunctionGraph``.

Unpickling runs code named by the file, so it is restricted: a pickle may only name
classes from the allowed packages (PyTensor, NumPy and whatever ``--allow-module``
adds), PyTensor's type-inference functions and a short list of reconstructors.
Anything else is refused before it is imported, with an error naming the global.
Nothing a pickle holds is compiled or run at load time: a pickled compiled
``Function`` comes back as its uncompiled graph.
"""

import builtins
import contextlib
import functools
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
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy.ma.core", "_mareconstruct"),  # TensorConstant signatures cache one
        ("numpy", "dtype"),
        ("numpy.random._pickle", "__bit_generator_ctor"),
        ("numpy.random._pickle", "__generator_ctor"),
        ("numpy.random._pickle", "__randomstate_ctor"),
        ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
        ("numpy.random.bit_generator", "__pyx_unpickle_SeedlessSeedSequence"),
    }
)
# Harmless builtin and standard-library types that pickles of graphs contain.
_ALLOWED_STDLIB = frozenset(
    {
        ("builtins", n)
        for n in (
            "object", "slice", "set", "frozenset", "complex", "range", "tuple",
            "list", "dict", "int", "float", "bool", "str", "bytes", "bytearray",
            "NotImplemented", "Ellipsis",
        )
    }
    # Exception classes: CheckAndRaise Ops (Assert) hold the one they raise.
    | {("builtins", n) for n, v in vars(builtins).items()
       if isinstance(v, type) and issubclass(v, BaseException)}
    | {("collections", "OrderedDict"), ("collections", "defaultdict"),
       ("collections", "deque"), ("_collections", "OrderedDict"),
       ("_codecs", "encode"),  # how protocols 0-2 spell bytes
       ("copyreg", "__newobj__"), ("copyreg", "_reconstructor"),
       ("pathlib", "PosixPath"), ("pathlib", "PurePosixPath"),
       ("pathlib", "WindowsPath"), ("pathlib", "PureWindowsPath"),
       # PyTensor 3 pickles a frozen graph's outputs as (apply node, index)
       ("pytensor.graph.basic", "_get_frozen_output")}
)

# Where the plain functions that graph pickles name live: type-inference rules
# (``upcast_out`` as a ScalarOp's output_types_preference) and value comparisons
# (``values_eq_approx_remove_nan`` in a variable's tag).  Elsewhere in PyTensor are
# functions that compile graphs (``gradient.verify_grad``), so they are refused.
_FUNCTION_MODULES = (
    "pytensor.scalar", "pytensor.tensor.type", "pytensor.tensor.random.type",
    "pytensor.sparse.type", "pytensor.xtensor.type", "pytensor.graph.type",
)

# Parts of the allowed packages that touch files, load libraries or run compilers.
_DENIED_MODULES = (
    "numpy.ctypeslib", "numpy.f2py", "numpy.distutils", "numpy.testing",
    "numpy.lib._npyio_impl", "numpy.lib.npyio", "numpy.lib._datasource",
    "numpy._core.memmap", "numpy.core.memmap", "numpy._pytesttester",
    "pytensor.utils", "pytensor.link.c.cmodule", "pytensor.link.c.op",
    "pytensor.link.c.lazylinker_c", "pytensor.link.c.cutils",
    "pytensor.compile.compiledir", "pytensor.compile.compilelock",
    "pytensor.configparser", "pytensor.configdefaults", "pytensor.tensor.io",
    "pytensor.d3viz",
)
_DENIED_NAMES = frozenset({("numpy", "memmap"), ("numpy", "DataSource"),
                           ("numpy", "load"), ("numpy", "fromfile")})


@functools.cache
def _denied_objects() -> tuple:
    """What the denied names are, wherever else they are re-exported."""
    import numpy as np

    from .compat import function_class

    npyio = np.lib.npyio
    found = (getattr(npyio, name, None) for name in ("DataSource", "NpzFile"))
    return (np.memmap, np.load, np.fromfile, function_class(), *filter(None, found))


def _root(module: str) -> str:
    return module.split(".", 1)[0]


def _within(module, packages: Iterable[str]) -> bool:
    return isinstance(module, str) and any(
        module == p or module.startswith(p + ".") for p in packages
    )


def _type_of(*args):
    """``builtins.type`` as pickles use it: ``type(None)``, never to make a class."""
    if len(args) != 1:
        raise LoadError("refusing to unpickle a call of type() that makes a class")
    return type(args[0])


class _PickledFunction:
    """A compiled ``Function`` as loaded here: its maker, never compiled or run."""

    def __init__(self, maker, *_args, **_kwargs):
        self.maker = maker


class _PickledMaker:
    """A ``FunctionMaker`` pickled by its constructor's keywords (older PyTensor)."""

    def __init__(self, kwargs):
        self.__dict__.update(dict(kwargs))


# Stand-ins for what pickles of compiled Functions name (in pytensor.compile.function
# .types, or .executor since PyTensor 3): the real constructors compile the graph (C
# or Numba code, from objects the pickle chose) on load, and a real Function made
# from pickled state could be called.  ``Function`` itself is a maker's
# function_builder.
_FUNCTION_STAND_INS = {
    "_constructor_Function": _PickledFunction,
    "Function": _PickledFunction,
    "_constructor_FunctionMaker": _PickledMaker,
}
_STAND_INS = {("builtins", "type"): _type_of}
# Bound methods pickles name as getattr(obj, name): a Type's filter (in containers).
_ALLOWED_METHODS = frozenset({"filter"})
# Objects whose attributes a pickle must not set (BUILD): they outlive the load.
_SHARED_KINDS = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
                 types.MethodType, functools.partial)


def _modern(module: str, name: str) -> tuple[str, str]:
    """Python 2 names (protocols 0-2: ``__builtin__.set``) as Python 3 spells them."""
    import _compat_pickle

    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class RestrictedUnpickler(pickle._Unpickler):
    """An Unpickler that resolves only allow-listed globals.

    Allowed: classes defined in PyTensor, NumPy and the ``user_modules``; PyTensor's
    type-inference functions; a short list of reconstructor functions; any
    non-module global of a ``user_modules`` package (the user vouched for it);
    ``getattr`` for nested classes and a Type's ``filter``.  Never a module, an
    instance such as ``pytensor.config``, or a path through a module
    (``pytensor.utils.subprocess.Popen``); never setting attributes of a class or
    a function (BUILD), which would outlive the load.

    The pure-Python unpickler is used because the C one offers no hook for BUILD.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, user_modules: Iterable[str] = ()):
        super().__init__(file, fix_imports=False)
        self.user_modules = tuple(user_modules)
        self.packages = (*DEFAULT_ALLOWED_PACKAGES, *self.user_modules)

    def _refuse(self, where: str, why: str):
        return LoadError(f"refusing to unpickle global {where!r}: {why}")

    def find_class(self, module: str, name: str):
        module, name = _modern(module, name)
        where = f"{module}.{name}"
        if not all(p.isidentifier() for p in (*module.split("."), *name.split("."))):
            raise LoadError(f"not a readable graph pickle: no such global {where!r}")
        if (module, name) == ("builtins", "getattr"):
            return self._getattr
        if (module, name) in _STAND_INS:
            return _STAND_INS[(module, name)]
        if name in _FUNCTION_STAND_INS and _within(module, ("pytensor.compile",)):
            return _FUNCTION_STAND_INS[name]
        if (module, name) in _ALLOWED_STDLIB:
            return super().find_class(module, name)
        if not _within(module, self.packages):
            raise self._refuse(
                where,
                f"module not allowed ({', '.join(self.packages)}); pass "
                f"--allow-module {_root(module)} if you trust this file",
            )
        if (module, name) in _DENIED_NAMES or self._denied(module):
            raise self._refuse(where, "it can touch files or run code")
        dunder = any(p.startswith("__") for p in name.split("."))
        if dunder and (module, name) not in _ALLOWED_FUNCTIONS:
            raise self._refuse(where, "private name")
        obj = self._resolve(module, name, where)
        self._check(obj, where, trusted=(module, name) in _ALLOWED_FUNCTIONS
                    or _within(module, self.user_modules))
        return obj

    def _denied(self, module) -> bool:
        return _within(module, _DENIED_MODULES) and not _within(module,
                                                                self.user_modules)

    def _resolve(self, module: str, name: str, where: str):
        """``module.name``, walking a dotted name without passing through a module."""
        try:
            obj = importlib.import_module(module)
            parts = name.split(".")
            for k, part in enumerate(parts):
                obj = getattr(obj, part)
                if isinstance(obj, types.ModuleType):
                    last = k == len(parts) - 1
                    raise self._refuse(where, "it is a module" if last else
                                       f"the name reaches into module {obj.__name__}")
        except (ImportError, AttributeError) as exc:
            raise LoadError(f"cannot resolve global {where!r}: {exc}") from None
        return obj

    def _check(self, obj, where: str, trusted: bool = False) -> None:
        """Refuse ``obj`` unless it is a class from an allowed package or a vetted
        function; ``trusted`` (listed, or from --allow-module) skips the kind check."""
        if any(obj is denied for denied in _denied_objects()):
            raise self._refuse(where, "it can touch files or run code")
        home = getattr(obj, "__module__", None)
        if isinstance(obj, type):
            if not _within(home, self.packages) or self._denied(home):
                raise self._refuse(where, f"the class is defined in {home}, outside "
                                   "the allowed packages")
            return
        if trusted:
            return
        if isinstance(obj, types.FunctionType) and _within(home, _FUNCTION_MODULES):
            return
        raise self._refuse(where, "only classes and known reconstructors are allowed")

    def _getattr(self, obj, attribute):
        """``getattr`` as pickles use it: a nested class or function (protocols 0-3
        spell ``Sign._output_types_preference`` so) or a Type's bound ``filter``;
        anything on an object of an --allow-module package."""
        owner = obj if isinstance(obj, type) else type(obj)
        where = f"getattr({owner.__name__}, {attribute!r})"
        if not isinstance(attribute, str) or attribute.startswith("__"):
            raise LoadError(f"refusing to unpickle {where}: private attribute")
        value = getattr(obj, attribute)
        if isinstance(value, types.ModuleType):
            raise LoadError(f"refusing to unpickle {where}: a module")
        trusted = _within(owner.__module__, self.user_modules)
        if isinstance(value, type) or (
            isinstance(obj, type) and isinstance(value, types.FunctionType)
        ):
            self._check(value, where, trusted)
            return value
        if trusted:
            return value
        from pytensor.graph.type import Type

        if attribute in _ALLOWED_METHODS and isinstance(obj, Type):
            return value
        raise LoadError(f"refusing to unpickle {where}: only nested classes and "
                        "functions and a Type's filter are allowed")

    def load_build(self):
        inst = self.stack[-2]
        if isinstance(inst, _SHARED_KINDS):
            raise LoadError(f"refusing to unpickle: the pickle sets attributes of "
                            f"{getattr(inst, '__qualname__', type(inst).__name__)}")
        super().load_build()

    dispatch[pickle.BUILD[0]] = load_build


@dataclass
class LoadedGraph:
    fgraph: object  # pytensor.graph.fg.FunctionGraph
    source: str  # a short description: the file name or "<object>"
    digest: str  # sha256 of the graph (see graph_digest), not of the pickle bytes


def _import_allowed(modules: Sequence[str]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise LoadError(
                f"--allow-module {module}: cannot import it ({exc})") from None


@contextlib.contextmanager
def _deep_recursion():
    """Room for deep graphs, which pickle (and some unpickle) recursively."""
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 10_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(old_limit)


def load_bytes(data: bytes, allowed_modules: Sequence[str] = ()):
    """Unpickle ``data`` with the restricted unpickler."""
    import pytensor  # noqa: F401  (registers the classes the pickle names)

    _import_allowed(allowed_modules)
    try:
        with _deep_recursion():
            return RestrictedUnpickler(io.BytesIO(data), allowed_modules).load()
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a damaged pickle raises
        detail = str(exc).splitlines()[0] if str(exc) else ""
        raise LoadError(f"not a readable graph pickle: {type(exc).__name__}"
                        f"{': ' + detail if detail else ''}") from None


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


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def to_fgraph(obj):
    """A ``FunctionGraph`` from any of the accepted forms (see docs/usage.md)."""
    from pytensor.graph.fg import FunctionGraph

    from .compat import function_class

    if isinstance(obj, FunctionGraph):
        fgraph = obj.clone()
    elif isinstance(obj, (function_class(), _PickledFunction)):
        fgraph = _from_maker(obj.maker)
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
            f"the pickle holds {_a(type(obj).__name__)}, not a graph: expected a "
            "FunctionGraph, a compiled PyTensor Function, a list of output variables "
            "or an (inputs, outputs) pair"
        )
    if not fgraph.outputs:
        raise GraphError("the graph has no outputs")
    return fgraph


def _from_maker(maker):
    """The graph a compiled ``Function`` runs (as its mode rewrote it).

    Inputs: the Function's own, then each shared variable it updates; outputs: its
    own, then those shared variables' new values.  Other shared variables are
    frozen at their current values, as in an ``(inputs, outputs)`` pair.
    """
    try:
        fgraph = maker.fgraph
        inputs, outputs = list(fgraph.inputs), list(fgraph.outputs)
        specs = list(maker.inputs)
    except (AttributeError, TypeError):
        raise LoadError("the pickled Function holds no graph") from None
    if len(specs) == len(inputs):
        inputs = [var for var, spec in zip(inputs, specs, strict=True)
                  if not getattr(spec, "implicit", False)
                  or getattr(spec, "update", None) is not None]
    return _from_pair(_variables(inputs, "a Function's inputs"),
                      _variables(outputs, "a Function's outputs"))


def _function_graph(inputs, outputs):
    from pytensor.graph.basic import Constant
    from pytensor.graph.fg import FunctionGraph

    if not outputs:
        raise GraphError("the graph has no outputs")
    for var in inputs:
        if isinstance(var, Constant):
            raise GraphError(f"input {var} is a constant")
        if sum(v is var for v in inputs) > 1:
            raise GraphError(f"input {var} is listed twice")
    try:
        return FunctionGraph(list(inputs), list(outputs), clone=True)
    except Exception as exc:  # noqa: BLE001 - PyTensor's own graph checks
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GraphError(f"not a valid graph: {detail}") from None


def _from_pair(inputs, outputs):
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant
    from pytensor.graph.replace import clone_replace

    from .compat import graph_inputs

    if not outputs:
        raise GraphError("the graph has no outputs")
    # An input computed from others cuts the graph there: its ancestors are not needed.
    free = [v for v in graph_inputs(outputs, blockers=inputs)
            if not isinstance(v, Constant)]
    if inputs is None:
        inputs = [v for v in free if not isinstance(v, SharedVariable)]
    missing = [v for v in free
               if not any(v is i for i in inputs) and not isinstance(v, SharedVariable)]
    if missing:
        raise GraphError(
            f"the outputs depend on {missing[0]!s} which is not among the inputs"
        )
    # Shared variables that are not inputs are frozen at their current value.
    shared = [v for v in free
              if isinstance(v, SharedVariable) and not any(v is i for i in inputs)]
    if shared:
        replace = {v: v.type.make_constant(v.get_value(), name=v.name) for v in shared}
        outputs = clone_replace(outputs, replace=replace)
    return _function_graph(inputs, outputs)


def _strip_traces(fgraph) -> None:
    """Drop the creation stack traces PyTensor keeps in each variable's tag: they
    are most of a pickle's size and hold the builder's file paths."""
    for var in fgraph.variables:
        if hasattr(var.tag, "trace"):
            del var.tag.trace


def dump(inputs, outputs, path) -> None:
    """Write ``(inputs, outputs)`` as a graph pickle that ``transpile`` reads.

    ``inputs`` is a list of PyTensor variables (the generated entry's parameters, in
    order), ``outputs`` a variable or a list of them.  Shared variables that are not
    among the inputs are frozen at their current values.
    """
    inputs = _variables(inputs, "inputs")
    outputs = _variables(outputs, "outputs")
    fgraph = _from_pair(inputs, outputs)  # validates before anything is written
    _strip_traces(fgraph)
    with _deep_recursion():
        data = pickle.dumps(fgraph, protocol=pickle.HIGHEST_PROTOCOL)
    from .output import write_atomic

    write_atomic(Path(path), data)
