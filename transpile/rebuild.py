"""Rebuild: the inert records of a graph pickle -> a PyTensor graph we built ourselves.

:mod:`transpile.inert` turns a pickle into records of what it asks for, running
nothing.  This module reads those records as a description of a graph and builds the
graph from scratch with PyTensor's own constructors, refusing anything that is not
part of a graph:

- a variable is rebuilt from its type and name, a constant from a NumPy array we make
  from the pickled bytes (plain numeric dtypes only, sizes checked), a node by calling
  ``op.make_node(*inputs)`` on the rebuilt inputs, so every type in the result is the
  one PyTensor itself infers;
- an Op is rebuilt by its own class from its ``__props__`` (the values PyTensor itself
  compares Ops by), and whatever else the pickled Op carries must be what that class
  builds, or a known cache, or the load is refused, naming the node and the attribute.
  Nothing PyTensor acts on (``nfunc_spec``, ``c_func_file``, C code, inner modes) is
  ever taken from the file;
- only the classes a graph is made of are rebuilt: graph and type classes, Ops that
  have a lowering (or that the rewrites remove), NumPy's array, dtype and generator
  reconstructors.  A record of anything else is refused by name.

Records the graph does not reach (tags, features, compiled thunks, caches) are never
looked at.  The walk over the graph is iterative, so deep graphs cost no recursion,
and it refuses cycles, too many nodes, over-long names and over-large constants
(:class:`Limits`, documented in docs/security.md).
"""

import functools
import importlib
import importlib.util
import inspect
import sys
import types
import unicodedata
from dataclasses import dataclass

import numpy as np

from .errors import GraphError, LoadError, UnsupportedOpError
from .inert import Global, Record

# ---- limits -----------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """What a graph file may ask for (docs/security.md)."""

    max_nodes: int = 20_000  # Apply nodes, inner graphs included
    max_name: int = 256  # characters in a variable's name
    max_text: int = 20_000  # characters in any other string (an Op name, a message)
    max_constant_bytes: int = 1 << 30  # all constants together
    max_nesting: int = 64  # containers inside containers in an Op's parameters
    max_depth: int = 100  # Ops inside Ops, inner graphs inside inner graphs
    max_ndim: int = 32  # NumPy's own limit is 64


DEFAULT_LIMITS = Limits()

# Dtypes a graph's variables and constants may have.
DTYPES = frozenset({
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",
})
_DTYPE_CODES = {np.dtype(d).str[1:]: d for d in DTYPES} | {"b1": "bool", "?": "bool"}

# Attributes Ops cache after they are built; rebuilding drops them, so a pickled value
# is never used (and whatever it holds is never looked at).
KNOWN_CACHES = frozenset({
    "_ufunc", "ufunc", "nfunc", "_fn", "fn", "_fgraph", "_c_code", "_py_perform_fn",
    "prepare_node_called", "_cmodule_key", "_hash_inner_graph", "_lop_op", "_rop_op",
    "_lop_op_cache", "_rop_op_cache", "_grad_op", "_op_cache", "_props_dict", "_cache",
    "__doc__", "__module__", "__epydoc_asRoutine", "_numba_fn", "_jax_fn", "fn_cache",
    "_fn_cache", "__signature__", "_gufunc", "_core_shape_fn", "_c_op", "_name",
    "nodenames",
})

# Attributes that one of the PyTensor versions we support derives from an Op's props
# and the other does not keep: dropped when the pickle comes from that other version.
DERIVED_ELSEWHERE = frozenset({
    "n_outs", "transposition",  # 2.38's Scan, DimShuffle
    "n_index_vars", "_transposition", "is_matrix_transpose",  # PyTensor 3's
    "is_left_expanded_matrix_transpose",
})

# What in-place rewrites set on an Op: transpile never writes into an input, whatever
# an Op says it may destroy, so these are ignored.
IN_PLACE = frozenset({"destroy_map", "view_map"})

PLAIN = (type(None), bool, int, float, complex, str, bytes)


def _short(value, width: int = 60) -> str:
    """A bounded description of a value for an error message."""
    if isinstance(value, (Global, Record)):
        text = repr(value)
    elif isinstance(value, (str, bytes, int, float, complex, bool, type(None))):
        text = repr(value)
    elif isinstance(value, (tuple, list)) and len(value) <= 8:
        text = "(" + ", ".join(_short(v, 20) for v in value) + ")"
    else:
        text = f"a {type(value).__name__}"
    return text if len(text) <= width else text[: width - 3] + "..."


def _path(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


# ---- what a graph is made of ------------------------------------------------------


def _subclasses(base: type) -> set[type]:
    found, todo = set(), [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def _within(module: str, packages) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


# Ops without a lowering that PyTensor's rewrites remove from every graph: they may be
# loaded, and are refused later, with --no-rewrite, as unsupported.
REWRITTEN_AWAY = frozenset({
    "pytensor.graph.fg.Output",
    "pytensor.compile.ops.OutputGuard",
    "pytensor.tensor.basic.Default",
    "pytensor.tensor.extra_ops.CpuContiguous",
    "pytensor.tensor.reshape.JoinDims",
    "pytensor.tensor.reshape.SplitDims",
    "pytensor.tensor.nlinalg.TensorInv",
    "pytensor.tensor.nlinalg.TensorSolve",
    "pytensor.tensor.slinalg.EigvalshGrad",
})
# Packages whose Ops PyTensor's rewrites always lower to tensor Ops (xtensor's
# named-dimension Ops become tensor Ops in the "lower_xtensor" rewrites).
REWRITTEN_AWAY_PACKAGES = ("pytensor.xtensor",)

# PyTensor's sparse and typed-list Ops: named as such when refused.


class ClassIndex:
    """The classes a pickle may name, by the path pickle names them with.

    Built from classes already imported (PyTensor, transpile's lowerings and plugins,
    the ``--allow-module`` packages), never by importing what a file names; PyMC is
    imported (as a whole, a fixed action) the first time a file names a PyMC class.
    """

    def __init__(self, packages=()):
        self.packages = ("pytensor", "pymc", *packages)
        self._classes: dict[str, type] | None = None
        self._pymc_tried = False

    def _scan(self) -> dict[str, type]:
        from pytensor.graph.basic import Variable
        from pytensor.graph.op import Op
        from pytensor.graph.type import Type

        classes = {}
        for base in (Op, Type, Variable, BaseException):
            for cls in (base, *_subclasses(base)):
                if _within(cls.__module__, self.packages):
                    classes.setdefault(_path(cls), cls)
        return classes

    def get(self, path: str) -> type | None:
        if self._classes is None:
            self._classes = self._scan()
        cls = self._classes.get(path)
        if cls is None and path.startswith("pymc.") and not self._pymc_tried:
            self._pymc_tried = True
            try:
                importlib.import_module("pymc")
            except ImportError:
                return None
            self._classes = self._scan()
            cls = self._classes.get(path)
        return cls


@functools.cache
def _scalar_singletons() -> dict:
    """PyTensor's own scalar Op objects (``ps.exp``, ``ps.add``), by (class, type
    rule): a pickled scalar Op equal to one of them becomes that very object."""
    import pytensor.scalar.basic as psb
    import pytensor.scalar.math as psm

    found = {}
    for module in (psb, psm):
        for value in vars(module).values():
            if isinstance(value, psb.ScalarOp) and not isinstance(value, psb.Composite):
                key = (type(value), getattr(value, "output_types_preference", None))
                found.setdefault(key, value)
    return found


@functools.cache
def _type_rules() -> dict[str, object]:
    """The type-inference rules scalar Ops use (``upcast_out``, ...), by path: the
    only functions a pickle may name."""
    import pytensor.scalar.basic as psb

    rules = {}
    for op in _scalar_singletons().values():
        rule = getattr(op, "output_types_preference", None)
        if isinstance(rule, types.FunctionType):
            rules[_path(rule)] = rule
    for module in (psb,):
        for name, value in vars(module).items():
            if isinstance(value, types.FunctionType) and value.__module__ == module.__name__ \
                    and (name.endswith("_out") or name.startswith("upgrade_to")
                         or name.startswith("upcast")):
                rules[_path(value)] = value
    return rules


# ---- the rebuilder ----------------------------------------------------------------


def _is_text_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return not any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in text)


class Rebuilder:
    """Builds the graph a record tree describes (see the module docstring)."""

    def __init__(self, packages=(), limits: Limits = DEFAULT_LIMITS):
        self.packages = tuple(packages)  # --allow-module: the user vouches for these
        self.limits = limits
        self.index = ClassIndex(packages)
        self.built: dict[int, object] = {}  # id(record) -> what it became
        self.keep: list = []  # records whose id() is a key above stay alive
        self.nodes = 0
        self.constant_bytes = 0
        self.pending: list = []  # check_extras calls, run by finish()
        self.depth = 0  # records being rebuilt inside one another

    # ---- errors and plain values ------------------------------------------------

    def refuse(self, where: str, why: str):
        return LoadError(f"{where}: {why}" if where else why)

    def text(self, value, where: str, limit: int | None = None) -> str:
        if not isinstance(value, str):
            raise self.refuse(where, f"expected a string, got {_short(value)}")
        limit = self.limits.max_text if limit is None else limit
        if len(value) > limit:
            raise self.refuse(where, f"a string of {len(value)} characters (limit {limit})")
        if not _is_text_ok(value):
            raise self.refuse(where, "a string with control characters or lone surrogates")
        return value

    def name(self, value, where: str) -> str | None:
        if value is None:
            return None
        name = self.text(value, where, self.limits.max_name)
        if any(unicodedata.category(c) == "Cc" for c in name):
            raise self.refuse(where, "a name with control characters")
        return name

    def integer(self, value, where: str, low: int = -(1 << 63), high: int = (1 << 63) - 1):
        if isinstance(value, np.integer):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.refuse(where, f"expected an integer in [{low}, {high}], got "
                              f"{_short(value)}")
        return value

    def data(self, value, where: str, depth: int = 0):
        """Plain data, Types, Ops and the few allowed globals, rebuilt; anything else
        refused."""
        if depth > self.limits.max_nesting:
            raise self.refuse(where, f"nested more than {self.limits.max_nesting} levels")
        if isinstance(value, str):
            return self.text(value, where)
        if isinstance(value, PLAIN):
            return value
        if isinstance(value, (list, tuple, set, frozenset)):
            items = [self.data(v, where, depth + 1) for v in value]
            return items if isinstance(value, list) else type(value)(items)
        if isinstance(value, dict):
            return {self.data(k, where, depth + 1): self.data(v, where, depth + 1)
                    for k, v in value.items()}
        if isinstance(value, Global):
            return self.global_value(value, where)
        if isinstance(value, Record):
            return self.record(value, where)
        raise self.refuse(where, f"unexpected {type(value).__name__} in the pickle")

    # ---- globals and records -------------------------------------------------------

    def global_value(self, ref: Global, where: str):
        """A global used as a value: an exception class, a scalar type rule, a NumPy
        scalar type or ufunc, or (from an --allow-module package) anything."""
        path = ref.path
        exception = _exception_class(ref)
        if exception is not None:
            return exception
        if path in _type_rules():
            return _type_rules()[path]
        if ref.module == "numpy" and isinstance(getattr(np, ref.name, None), type) \
                and issubclass(getattr(np, ref.name), np.generic):
            return getattr(np, ref.name)
        if _within(ref.module, self.packages):
            return self.trusted_global(ref, where)
        raise self.not_graph(ref, where)

    def not_graph(self, ref: Global, where: str):
        from .inert import GRAPH_PACKAGES, user_module_refusal

        if not _within(ref.module, GRAPH_PACKAGES):
            return self.refuse(where, user_module_refusal(ref.path, ref.module))
        if _within(ref.module, ("pymc",)) and importlib.util.find_spec("pymc") is None:
            return self.refuse(where, f"{ref.path!r} is PyMC's, and PyMC is not installed "
                               "here (pip install pymc)")
        module = sys.modules.get(ref.module)
        if _within(ref.module, ("pytensor",)) and module is not None \
                and inspect.getattr_static(module, ref.name.split(".")[0], None) is None:
            import pytensor

            return self.refuse(where, f"refusing global {ref.path!r}: PyTensor "
                               f"{pytensor.__version__} has no such name (was the graph "
                               "pickled by another PyTensor version?)")
        return self.refuse(where, f"refusing global {ref.path!r}: not something a graph "
                           "is made of")

    def trusted_global(self, ref: Global, where: str):
        try:
            obj = importlib.import_module(ref.module)
            for part in ref.name.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise self.refuse(where, f"cannot resolve global {ref.path!r}: {exc}") from None
        return obj

    def record(self, rec: Record, where: str):
        key = id(rec)
        if key in self.built:
            return self.built[key]
        if self.depth >= self.limits.max_depth:
            raise self.refuse(where, f"objects nested more than {self.limits.max_depth} "
                              "deep (Ops inside Ops, inner graphs inside inner graphs)")
        self.depth += 1
        try:
            value = self._record(rec, where)
        finally:
            self.depth -= 1
        self.built[key] = value
        self.keep.append(rec)
        return value

    def _record(self, rec: Record, where: str):
        rec = _normalized(rec)
        func = rec.func
        if not isinstance(func, Global):
            raise self.refuse(where, "a call of something that is not a global")
        handler = _HANDLERS.get(func.path)
        if handler is not None:
            return handler(self, rec, where)
        cls = self.index.get(func.path)
        if cls is None:
            if _within(func.module, self.packages):
                return self.trusted_record(rec, where)
            raise self.not_graph(func, where)
        from pytensor.graph.op import Op
        from pytensor.graph.type import Type

        if issubclass(cls, Type):
            return self.type_(cls, rec, where)
        if issubclass(cls, Op):
            return self.op(cls, rec, where)
        raise self.refuse(where, f"a {cls.__name__} where a graph has none")

    def trusted_record(self, rec: Record, where: str):
        """An object of an --allow-module package, unpickled as pickle would (the
        user vouched for the package); its arguments and state are rebuilt as usual."""
        cls = self.trusted_global(rec.func, where)
        args = [self.data(a, where) for a in rec.args]
        kwargs = {k: self.data(v, where) for k, v in rec.kwargs.items()}
        obj = cls.__new__(cls, *args, **kwargs) if rec.new else cls(*args, **kwargs)
        if rec.state is not None:
            state = self.data(rec.state, where)
            setstate = getattr(obj, "__setstate__", None)
            if setstate is not None and not isinstance(state, tuple):
                setstate(state)
            else:
                slots = None
                if isinstance(state, tuple) and len(state) == 2:
                    state, slots = state
                if state:
                    obj.__dict__.update(state)
                for k, v in (slots or {}).items():
                    setattr(obj, k, v)
        return obj

    def state(self, rec: Record, where: str) -> dict:
        """A record's BUILD state as a dict of attribute -> raw record value."""
        state = rec.state
        if state is None:
            return {}
        if isinstance(state, tuple) and len(state) == 2 and (state[0] is None
                                                             or isinstance(state[0], dict)):
            merged = dict(state[0] or {})
            merged.update(state[1] or {})
            state = merged
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise self.refuse(where, "an object state that is not a dict of attributes")
        return state

    # ---- types --------------------------------------------------------------------

    def type_(self, cls, rec: Record, where: str):
        from .unsupported import not_yet

        if (why := not_yet(cls.__module__)) is not None:
            raise UnsupportedOpError(f"{where}: a variable of type {_path(cls)}: {why}")
        state = self.state(rec, where)
        props = getattr(cls, "__props__", ())
        if not props and cls.__name__ in ("TensorType", "ScalarType"):
            props = ("dtype",)
        kwargs = {}
        for prop in props:
            if prop not in state:
                raise self.refuse(where, f"{cls.__name__} without its {prop!r}")
            raw = state[prop]
            if prop == "dtype":
                kwargs[prop] = self.dtype_name(raw, where)
            elif prop == "shape":
                kwargs[prop] = self.static_shape(raw, where)
            else:
                kwargs[prop] = self.data(raw, f"{where}: {cls.__name__}.{prop}")
        try:
            return cls(**kwargs)
        except Exception as exc:  # noqa: BLE001 - the class's own validation
            raise self.refuse(where, f"not a valid {cls.__name__}: {_first_line(exc)}") \
                from None

    def dtype_name(self, raw, where: str) -> str:
        if not isinstance(raw, str) or raw not in DTYPES:
            if raw == "float16":
                raise UnsupportedOpError(f"{where}: dtype float16 is not supported")
            raise self.refuse(where, f"dtype {_short(raw)} is not a plain numeric dtype "
                              f"({', '.join(sorted(DTYPES))})")
        return raw

    def static_shape(self, raw, where: str) -> tuple:
        if not isinstance(raw, (tuple, list)) or len(raw) > self.limits.max_ndim:
            raise self.refuse(where, f"a static shape that is not a tuple of at most "
                              f"{self.limits.max_ndim} lengths")
        return tuple(None if s is None else self.integer(s, where, 0, 1 << 62) for s in raw)

    # ---- Ops ---------------------------------------------------------------------

    def op(self, cls, rec: Record, where: str):
        where = f"{where} ({cls.__name__})" if where else cls.__name__
        self.check_op_allowed(cls, where)
        handler = _op_handler(cls)
        if handler is not None:
            return handler(self, cls, rec, where)
        return self.op_from_props(cls, rec, where)

    def check_op_allowed(self, cls, where: str) -> None:
        from .registry import _LOWERINGS, _SCALAR_LOWERINGS

        if any(k in _LOWERINGS or k in _SCALAR_LOWERINGS for k in cls.__mro__):
            return
        if _path(cls) in REWRITTEN_AWAY or _within(cls.__module__, self.packages) \
                or _within(cls.__module__, REWRITTEN_AWAY_PACKAGES):
            return
        from .unsupported import not_yet

        if (why := not_yet(cls.__module__)) is not None:
            raise UnsupportedOpError(f"{where}: unsupported Op {_path(cls)}: {why}")
        raise UnsupportedOpError(
            f"{where}: unsupported Op {_path(cls)}; register a lowering with "
            f"@transpile.register({cls.__name__}) in a module loaded by --plugin MODULE "
            "(see docs/design.md)")

    def props(self, cls, state: dict, where: str, names=None) -> dict:
        names = getattr(cls, "__props__", ()) if names is None else names
        values = {}
        for prop in names:
            if prop not in state:
                import pytensor

                raise self.refuse(where, f"the Op has no {prop!r}, which PyTensor "
                                  f"{pytensor.__version__}'s {cls.__name__} takes (was the "
                                  "graph pickled by another PyTensor version?)")
            values[prop] = self.data(state[prop], f"{where}: {prop}")
        return values

    def build(self, cls, where: str, *args, **kwargs):
        try:
            return cls(*args, **kwargs)
        except (LoadError, UnsupportedOpError):
            raise
        except Exception as exc:  # noqa: BLE001 - the class's own validation
            raise self.refuse(where, f"{cls.__name__} cannot be built from these "
                              f"parameters: {_first_line(exc)}") from None

    def op_from_props(self, cls, rec: Record, where: str):
        state = self.state(rec, where)
        if _within(cls.__module__, self.packages) and not getattr(cls, "__props__", ()):
            return self.trusted_record(rec, where)
        values = self.props(cls, state, where)
        params = init_params(cls)
        if "kwargs" in params or not params:
            accepted = values
        else:  # a subclass fixing some of its base's props (Sum of CAReduce's scalar_op)
            accepted = {k: v for k, v in values.items() if k in params}
        op = self.build(cls, where, **accepted)
        for prop, value in values.items():
            if not _same(getattr(op, prop, None), value):
                raise self.refuse(where, f"{prop} is {_short(value)}, but {cls.__name__} "
                                  f"built from its parameters has "
                                  f"{_short(getattr(op, prop, None))}")
        self.check_extras(op, state, where, used=values)
        return op

    def check_extras(self, op, state: dict, where: str, used=()) -> None:
        """Every other attribute the pickled Op carries must be one the rebuilt Op
        has, or a known cache; where it holds text (a function's or a file's name,
        code), with the value the rebuilt Op has.  Numeric flags derived from the
        props are not compared: PyTensor itself derives some of them differently
        depending on how the Op was made (a DimShuffle's ``new_order`` given as a
        list or a tuple), and the rebuilt Op's own are the ones used."""
        self.in_place(op, state, where)
        self.pending.append((op, state, where, set(used)))

    def in_place(self, op, state: dict, where: str) -> None:
        """Carry over what an in-place rewrite set (``destroy_map``), checked to be
        plain ``{output: [input, ...]}``: it keeps the Op's printout (and the graph's
        digest) as it was; transpile itself never writes into an input."""
        for key in IN_PLACE:
            if key not in state or state[key] == getattr(op, key, None):
                continue
            value = self.data(state[key], f"{where}: {key}")
            if not isinstance(value, dict) or len(value) > 64 or not all(
                    isinstance(k, int) and isinstance(v, (list, tuple)) and len(v) <= 64
                    and all(isinstance(i, int) and 0 <= i < 4096 for i in v)
                    for k, v in value.items()):
                raise self.refuse(where, f"a malformed {key}")
            setattr(op, key, {k: list(v) for k, v in value.items()})

    def finish(self) -> None:
        """Run the checks ``check_extras`` deferred until every node was made: some
        Ops set attributes in ``make_node`` (a Scan's ``vector_seqs``)."""
        while self.pending:
            op, state, where, used = self.pending.pop()
            self._check_extras(op, state, where, used)

    def _check_extras(self, op, state: dict, where: str, used) -> None:
        built = vars(op)
        for key, raw in state.items():
            if key in used or key in KNOWN_CACHES or key in IN_PLACE or key.startswith("__"):
                continue  # dunder keys are documentation PyTensor attaches (__doc__)
            if key not in built:
                if key in DERIVED_ELSEWHERE and _is_plain(raw) and not _has_text(raw):
                    continue  # this PyTensor's class neither keeps nor reads it
                raise self.refuse(where, f"the Op carries attribute {key!r}, which "
                                  f"{type(op).__name__} does not have")
            if _is_plain(raw) and _has_text(raw):
                value = self.data(raw, f"{where}: {key}")
                if not _same(value, built[key]):
                    raise self.refuse(where, f"attribute {key!r} is {_short(value)}, but "
                                      f"{type(op).__name__} built from its parameters "
                                      f"has {_short(built[key])}")

    # ---- graphs ------------------------------------------------------------------

    def graph(self, outputs, inputs=None, where: str = "the graph"):
        """Rebuilt ``(inputs, outputs)`` for records of output variables (and of the
        inputs, when the pickle lists them)."""
        return GraphWalk(self, where).run(outputs, inputs)


def _exception_class(ref: Global):
    """The exception class ``ref`` names, if it is one, looked up in modules already
    imported (the builtins, NumPy, PyTensor, PyMC), never importing one."""
    if ref.module != "builtins" and not _within(ref.module, ("numpy", "pytensor", "pymc")):
        return None
    module = sys.modules.get(ref.module)
    value = inspect.getattr_static(module, ref.name, None) if module is not None else None
    if isinstance(value, type) and issubclass(value, BaseException):
        return value
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0][:200] if text else type(exc).__name__)


def _is_plain(raw, depth: int = 0) -> bool:
    if depth > 8:
        return False
    if isinstance(raw, PLAIN):
        return True
    if isinstance(raw, (list, tuple)):
        return all(_is_plain(v, depth + 1) for v in raw)
    if isinstance(raw, dict):
        return all(_is_plain(k, depth + 1) and _is_plain(v, depth + 1)
                   for k, v in raw.items())
    return False


def _has_text(raw, depth: int = 0) -> bool:
    if isinstance(raw, (str, bytes)):
        return True
    if depth > 8:
        return False
    if isinstance(raw, (list, tuple)):
        return any(_has_text(v, depth + 1) for v in raw)
    if isinstance(raw, dict):
        return any(_has_text(k, depth + 1) or _has_text(v, depth + 1) for k, v in raw.items())
    return False


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(b, np.ndarray) or isinstance(a, np.ndarray):
        return False
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def _normalized(rec: Record) -> Record:
    """A record as it stands (protocols 0-1 spellings are normalized when read, in
    transpile.inert)."""
    return rec


# ---- the graph walk ---------------------------------------------------------------


class GraphWalk:
    """Variables and nodes of one graph (an outer graph or an inner one), visited
    without recursion: records of output variables back to the roots, then nodes
    rebuilt in topological order.

    Two spellings of a graph are read: a node as ``Apply`` with ``op``, ``inputs``
    and ``outputs`` in its state, each variable naming its ``owner`` and ``index``;
    and PyTensor 3's frozen inner graphs, a node as ``FrozenApply(op, inputs,
    output_types)`` and a variable as ``_get_frozen_output(node, index)``.
    """

    def __init__(self, rb: Rebuilder, where: str):
        self.rb, self.where = rb, where
        self.vars: dict = {}  # variable key (see key()) -> rebuilt variable

    # ---- reading records ---------------------------------------------------------

    def variable_class(self, rec, where: str):
        from pytensor.graph.basic import Variable

        norm = _normalized(rec) if isinstance(rec, Record) else rec
        if not isinstance(norm, Record) or not isinstance(norm.func, Global):
            raise self.rb.refuse(where, f"expected a variable, got {_short(rec)}")
        cls = self.rb.index.get(norm.func.path)
        if cls is None or not issubclass(cls, Variable):
            from .unsupported import not_yet

            if (why := not_yet(norm.func.path)) is not None:  # never imported: named
                raise UnsupportedOpError(f"{where}: a variable of class "
                                         f"{norm.func.path}: {why}")
            raise self.rb.refuse(where, f"expected a variable, got {norm.func.path}")
        return cls, norm

    def owner(self, rec, where: str):
        """``(node record, index)`` of the node that made variable ``rec``, or None."""
        if _is_frozen_output(rec):
            if len(rec.args) != 2 or not _is_frozen_apply(rec.args[0]):
                raise self.rb.refuse(where, "a malformed frozen graph output")
            app, index = rec.args
            if not isinstance(index, int) or not 0 <= index < len(self.outputs_of(app)):
                raise self.rb.refuse(where, "a frozen graph output out of range")
            return app, index
        _cls, norm = self.variable_class(rec, where)
        state = self.rb.state(norm, where) if norm.state is not None else {}
        app = state.get("owner")
        if app is None:
            return None
        if not isinstance(app, Record) or not isinstance(app.func, Global) \
                or app.func.path != "pytensor.graph.basic.Apply":
            raise self.rb.refuse(where, "a variable whose owner is not a node")
        outs = self.outputs_of(app)
        index = state.get("index")
        if not isinstance(index, int) or not 0 <= index < len(outs) or outs[index] is not rec:
            raise self.rb.refuse(where, "a variable that is not among its node's outputs")
        return app, index

    def parts(self, app):
        """A node record's ``(op, inputs)`` records."""
        if _is_frozen_apply(app):
            op, inputs = app.args[0], app.args[1]
        else:
            state = self.rb.state(app, self.where)
            op, inputs = state.get("op"), state.get("inputs")
        if not isinstance(inputs, (list, tuple)):
            raise self.rb.refuse(self.where, "a node without a list of inputs")
        return op, list(inputs)

    def outputs_of(self, app) -> list:
        """A node record's outputs: variable records, or (frozen) their types."""
        if _is_frozen_apply(app):
            if len(app.args) != 3 or not isinstance(app.args[2], (list, tuple)):
                raise self.rb.refuse(self.where, "a malformed frozen node")
            return list(app.args[2])
        outs = self.rb.state(app, self.where).get("outputs")
        if not isinstance(outs, list):
            raise self.rb.refuse(self.where, "a node without a list of outputs")
        return outs

    @staticmethod
    def key(rec, owner):
        return ("out", id(owner[0]), owner[1]) if owner is not None and \
            _is_frozen_output(rec) else id(rec)

    # ---- the walk --------------------------------------------------------------

    def order(self, targets: list) -> tuple[list, list]:
        """Node records in topological order, and the root variable records."""
        colour: dict[int, int] = {}  # id(node record) -> 1 while open, 2 when done
        order, roots, seen_roots = [], [], set()
        stack: list[tuple[Record, list, int]] = []

        def visit(var, where):
            made_by = self.owner(var, where)
            if made_by is None:
                if id(var) not in seen_roots:
                    seen_roots.add(id(var))
                    roots.append(var)
                return
            app = made_by[0]
            state = colour.get(id(app))
            if state == 1:
                raise self.rb.refuse(self.where, "the graph has a cycle: a node is "
                                     "among its own inputs' ancestors")
            if state is None:
                colour[id(app)] = 1
                self.rb.nodes += 1
                if self.rb.nodes > self.rb.limits.max_nodes:
                    raise self.rb.refuse("", f"the graph has more than "
                                         f"{self.rb.limits.max_nodes} nodes (the limit; "
                                         "see docs/security.md)")
                stack.append((app, self.parts(app)[1], 0))

        for k, target in enumerate(targets):
            visit(target, f"{self.where}: output {k}")
            while stack:
                app, inputs, i = stack[-1]
                if i < len(inputs):
                    stack[-1] = (app, inputs, i + 1)
                    visit(inputs[i], f"{self.where}: node {len(order)} input {i}")
                else:
                    stack.pop()
                    colour[id(app)] = 2
                    order.append(app)
        return order, roots

    def run(self, outputs, inputs=None):
        if not isinstance(outputs, (list, tuple)):
            raise self.rb.refuse(self.where, "outputs that are not a list of variables")
        if inputs is not None and not isinstance(inputs, (list, tuple)):
            raise self.rb.refuse(self.where, "inputs that are not a list of variables")
        listed = list(inputs) if inputs is not None else []
        # Listed inputs are walked too: one computed by a node cuts the graph there
        # (load._from_pair), and one nothing reads is still an input.
        order, roots = self.order([*outputs, *listed])
        for rec in roots:
            self.vars[id(rec)] = self.root(rec)
        for k, app in enumerate(order):
            self.node(app, f"{self.where}: node {k}")
        return ([self.lookup(r) for r in listed] if inputs is not None else None,
                [self.lookup(r) for r in outputs])

    def lookup(self, rec):
        return self.vars[self.key(rec, self.owner(rec, self.where))]

    # ---- rebuilding ------------------------------------------------------------

    def root(self, rec):
        """A variable no node makes: an input, a constant or a shared variable."""
        from pytensor.compile.sharedvalue import SharedVariable
        from pytensor.graph.basic import Constant, NominalVariable

        where = f"{self.where}: a variable"
        cls, norm = self.variable_class(rec, where)
        key = id(norm)
        if key in self.rb.built:
            return self.rb.built[key]
        if issubclass(cls, NominalVariable):
            var = self.nominal(cls, norm, where)
        else:
            state = self.rb.state(norm, where)
            name = self.rb.name(state.get("name"), f"{where}'s name")
            if name is not None:
                where = f"{self.where}: variable {name!r}"
            rtype = self.rb.data(state.get("type"), where)
            _check_type(self.rb, rtype, where)
            if issubclass(cls, Constant):
                value = constant_value(self.rb, state.get("data"), rtype, where)
                var = self._make(lambda: rtype.make_constant(value, name=name), where)
            elif issubclass(cls, SharedVariable):
                var = self.shared(rtype, state, name, where)
            else:
                var = rtype.make_variable(name=name)
        self.rb.built[key] = var
        self.rb.keep.append(norm)
        return var

    def _make(self, build, where):
        try:
            return build()
        except (LoadError, UnsupportedOpError):
            raise
        except Exception as exc:  # noqa: BLE001 - PyTensor's own validation
            raise self.rb.refuse(where, f"not a valid constant: {_first_line(exc)}") from None

    def nominal(self, cls, rec: Record, where: str):
        args = rec.args
        state = self.rb.state(rec, where) if rec.state is not None else {}
        if rec.new or len(args) != 2:
            args = (state.get("id"), state.get("type"))
        ident = self.rb.integer(args[0], where, 0, 1 << 31)
        rtype = self.rb.data(args[1], where)
        _check_type(self.rb, rtype, where)
        name = self.rb.name(state.get("name"), where)
        return cls(ident, rtype, name=name)

    def shared(self, rtype, state: dict, name, where: str):
        import pytensor

        container = state.get("container")
        cstate = self.rb.state(container, where) if isinstance(container, Record) else {}
        storage = cstate.get("storage")
        if not isinstance(storage, list) or len(storage) != 1:
            raise self.rb.refuse(where, "a shared variable without a value")
        value = shared_value(self.rb, storage[0], rtype, where)
        options = {"shape": rtype.shape} if hasattr(rtype, "shape") else {}
        try:
            var = pytensor.shared(value, name=name, borrow=True, **options)
        except Exception as exc:  # noqa: BLE001
            raise self.rb.refuse(where, f"not a valid shared variable: {_first_line(exc)}") \
                from None
        if var.type != rtype:
            raise self.rb.refuse(where, f"a shared variable of type {var.type} where the "
                                 f"pickle says {rtype}")
        return var

    def node(self, app: Record, where: str):
        from pytensor.graph.op import Op

        op_rec, input_recs = self.parts(app)
        op = self.rb.data(op_rec, where)
        if not isinstance(op, Op):
            raise self.rb.refuse(where, f"a node whose Op is {_short(op)}")
        where = f"{where} ({one_line_text(str(op), 80)})"
        inputs = [self.lookup(r) for r in input_recs]
        try:
            node = _make_node(op, inputs)
        except (LoadError, UnsupportedOpError):
            raise
        except Exception as exc:  # noqa: BLE001 - PyTensor's own checks
            raise GraphError(f"{where}: the Op does not accept its inputs: "
                             f"{_first_line(exc)}") from None
        if len(node.inputs) != len(inputs):
            raise self.rb.refuse(where, f"the node has {len(inputs)} inputs, its Op "
                                 f"takes {len(node.inputs)}")
        outputs = self.outputs_of(app)
        if len(node.outputs) != len(outputs):
            raise self.rb.refuse(where, f"the node has {len(outputs)} outputs, its Op "
                                 f"makes {len(node.outputs)}")
        frozen = _is_frozen_apply(app)
        for k, (rec, var) in enumerate(zip(outputs, node.outputs, strict=True)):
            if frozen:
                claimed, name = self.rb.data(rec, f"{where} output {k}"), None
            else:
                vstate = self.rb.state(_normalized(rec), where)
                claimed = self.rb.data(vstate.get("type"), f"{where} output {k}")
                name = self.rb.name(vstate.get("name"), f"{where} output {k} name")
            _check_type(self.rb, claimed, where)
            if not _compatible(claimed, var.type):
                raise self.rb.refuse(where, f"output {k} is said to be {claimed}, but the "
                                     f"Op makes {var.type}")
            var.name = name
            self.vars[("out", id(app), k) if frozen else id(rec)] = var


def _make_node(op, inputs):
    """``op.make_node(*inputs)``; where the Op dropped optional inputs that were
    ``None`` when it was built (``Eigvalsh(a, None)`` has one input, its
    ``make_node`` two parameters), ``None`` fills the parameters it misses."""
    import inspect

    from pytensor.tensor.type_other import NoneConst

    try:
        params = inspect.signature(op.make_node).parameters.values()
    except (TypeError, ValueError):
        params = ()
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in params) or len(positional) <= len(inputs):
        return op.make_node(*inputs)
    missing = positional[len(inputs):]
    if any(p.default is not p.empty for p in missing):
        return op.make_node(*inputs)
    return op.make_node(*inputs, *[NoneConst] * len(missing))


def one_line_text(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _is_frozen_output(rec) -> bool:
    return isinstance(rec, Record) and isinstance(rec.func, Global) \
        and rec.func.path == "pytensor.graph.basic._get_frozen_output"


def _is_frozen_apply(rec) -> bool:
    return isinstance(rec, Record) and isinstance(rec.func, Global) \
        and rec.func.path == "pytensor.graph.basic.FrozenApply" and not rec.new \
        and len(rec.args) == 3


def _compatible(claimed, made) -> bool:
    if claimed == made:
        return True
    try:
        return bool(claimed.is_super(made) or made.is_super(claimed))
    except Exception:  # noqa: BLE001
        return False


def _check_type(rb: Rebuilder, rtype, where: str) -> None:
    from pytensor.graph.type import Type

    if not isinstance(rtype, Type):
        raise rb.refuse(where, f"a variable whose type is {_short(rtype)}")


# ---- NumPy values -----------------------------------------------------------------


def dtype_from(rb: Rebuilder, rec, where: str) -> np.dtype:
    """A plain numeric dtype from ``numpy.dtype(code, align, copy)`` + its state."""
    if isinstance(rec, np.dtype):
        return rec
    if not isinstance(rec, Record) or not rec.args or not isinstance(rec.args[0], str):
        raise rb.refuse(where, f"expected a dtype, got {_short(rec)}")
    code = rec.args[0]
    if code not in _DTYPE_CODES:
        raise rb.refuse(where, f"dtype {code!r} is not a plain numeric dtype")
    dtype = np.dtype(_DTYPE_CODES[code])
    state = rec.state
    if state is not None:
        if not isinstance(state, tuple) or len(state) < 5 or state[2:5] != (None, None, None):
            raise rb.refuse(where, f"dtype {code!r} with fields or a sub-array")
        order = state[1]
        if order not in ("<", ">", "|", "="):
            raise rb.refuse(where, f"dtype byte order {_short(order)}")
        if order in "<>":
            dtype = dtype.newbyteorder(order)
    return dtype


def _array(rb: Rebuilder, raw: bytes, dtype: np.dtype, shape: tuple, fortran: bool,
           where: str) -> np.ndarray:
    size = 1
    for n in shape:
        size *= n
    if size * dtype.itemsize != len(raw):
        raise rb.refuse(where, f"an array of shape {shape} and dtype {dtype} whose data is "
                        f"{len(raw)} bytes")
    rb.constant_bytes += len(raw)
    if rb.constant_bytes > rb.limits.max_constant_bytes:
        raise rb.refuse(where, f"constants larger than {rb.limits.max_constant_bytes} "
                        "bytes in all (the limit; see docs/security.md)")
    array = np.frombuffer(bytes(raw), dtype=dtype).reshape(shape, order="F" if fortran
                                                           else "C")
    return np.array(array, dtype=dtype.newbyteorder("="), order="C")  # owned, native


def _reconstruct(rb: Rebuilder, rec: Record, where: str):
    """``_reconstruct(ndarray, (0,), b'b')`` + state ``(version, shape, dtype,
    is_fortran, bytes)``: an array, made by us from its bytes."""
    if len(rec.args) != 3 or not isinstance(rec.args[0], Global) \
            or rec.args[0].path not in ("numpy.ndarray",):
        raise rb.refuse(where, "an array of a class other than numpy.ndarray")
    state = rec.state
    if not isinstance(state, tuple) or len(state) != 5:
        raise rb.refuse(where, "an array without its data")
    _version, shape, dtype_rec, fortran, raw = state
    shape = rb.static_shape(shape, where)
    dtype = dtype_from(rb, dtype_rec, where)
    if isinstance(raw, Record):  # protocols 0-2 spell bytes as _codecs.encode(text)
        raw = rb.data(raw, where)
    if isinstance(raw, str):  # and protocol 0 as latin-1 text
        raw = raw.encode("latin-1")
    if not isinstance(raw, (bytes, bytearray)):
        raise rb.refuse(where, "an array whose data is not bytes (object arrays are "
                        "not graph data)")
    return _array(rb, raw, dtype, shape, bool(fortran), where)


def _frombuffer(rb: Rebuilder, rec: Record, where: str):
    """Protocol 5's ``_frombuffer(buffer, dtype, shape, order)``."""
    if len(rec.args) != 4:
        raise rb.refuse(where, "an array without its data")
    raw, dtype_rec, shape, order = rec.args
    if isinstance(raw, Record) or not isinstance(raw, (bytes, bytearray)):
        raise rb.refuse(where, "an array whose data is not in the file")
    dtype = dtype_from(rb, dtype_rec, where)
    return _array(rb, raw, dtype, rb.static_shape(shape, where), order == "F", where)


def _scalar(rb: Rebuilder, rec: Record, where: str):
    """``numpy.core.multiarray.scalar(dtype, bytes)``: a NumPy scalar."""
    if len(rec.args) != 2:
        raise rb.refuse(where, "a NumPy scalar without its data")
    dtype = dtype_from(rb, rec.args[0], where)
    raw = rec.args[1]
    if isinstance(raw, Record):
        raw = rb.data(raw, where)
    if isinstance(raw, str):
        raw = raw.encode("latin-1")
    if not isinstance(raw, bytes) or len(raw) != dtype.itemsize:
        raise rb.refuse(where, "a NumPy scalar whose data is not its size")
    return np.frombuffer(raw, dtype=dtype)[0].astype(dtype.newbyteorder("="))


BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def _bit_generator(rb: Rebuilder, rec, where: str):
    """``__bit_generator_ctor(PCG64)`` + its state (checked by NumPy itself); the
    seed sequence it carries only matters for spawning and is not rebuilt."""
    if not isinstance(rec, Record) or not isinstance(rec.func, Global) \
            or not rec.func.path.startswith("numpy.random._pickle."):
        raise rb.refuse(where, "a random generator without a bit generator")
    name = rec.args[0] if rec.args else None
    if isinstance(name, Global):
        name = name.name
    if name not in BIT_GENERATORS:
        raise rb.refuse(where, f"bit generator {_short(name)} is not one of NumPy's")
    bitgen = getattr(np.random, name)()
    state = rec.state
    if isinstance(state, tuple) and state:
        state = state[0]
    if state is not None:
        if not isinstance(state, dict) or not _is_plain(state):
            raise rb.refuse(where, f"not a valid {name} state")
        try:
            bitgen.state = rb.data(state, where)
        except Exception as exc:  # noqa: BLE001 - NumPy validates the state
            raise rb.refuse(where, f"not a valid {name} state: {_first_line(exc)}") from None
    return bitgen


def _generator(rb: Rebuilder, rec: Record, where: str):
    if not rec.args:
        raise rb.refuse(where, "a random generator without a bit generator")
    return np.random.Generator(_bit_generator(rb, rec.args[0], where))


def constant_value(rb: Rebuilder, raw, rtype, where: str):
    value = rb.data(raw, where)
    return _checked_value(rb, value, rtype, where)


def shared_value(rb: Rebuilder, raw, rtype, where: str):
    value = rb.data(raw, where)
    return _checked_value(rb, value, rtype, where)


def _checked_value(rb, value, rtype, where):
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype.name not in DTYPES:
            raise rb.refuse(where, f"a constant of dtype {value.dtype}")
    elif isinstance(value, np.random.Generator):
        pass
    elif isinstance(value, (bool, int, float, complex, slice, type(None))):
        pass
    else:
        raise rb.refuse(where, f"a constant holding {_short(value)}")
    return value


# ---- handlers of specific globals ---------------------------------------------------


def _slice(rb: Rebuilder, rec: Record, where: str):
    args = [rb.data(a, where) for a in rec.args]
    if len(args) > 3 or not all(a is None or isinstance(a, (int, np.integer)) or
                                hasattr(a, "type") or isinstance(a, object) for a in args):
        raise rb.refuse(where, "a malformed slice")
    return slice(*args)


def _builtin(kind):
    def handler(rb: Rebuilder, rec: Record, where: str):
        args = [rb.data(a, where) for a in rec.args]
        if rec.items:
            args = [rb.data(rec.items, where)]
        if len(args) > 2 or any(isinstance(a, (Record, Global)) for a in args):
            raise rb.refuse(where, f"a malformed {kind.__name__}")
        try:
            return kind(*args)
        except Exception as exc:  # noqa: BLE001
            raise rb.refuse(where, f"a malformed {kind.__name__}: {_first_line(exc)}") \
                from None

    return handler


def _encode(rb: Rebuilder, rec: Record, where: str):
    """``_codecs.encode(text, 'latin1')``: how protocols 0-2 spell bytes."""
    if len(rec.args) != 2 or not isinstance(rec.args[0], str) \
            or rec.args[1] not in ("latin1", "latin-1"):
        raise rb.refuse(where, "a malformed bytes value")
    return rec.args[0].encode("latin-1")


def _ordered_dict(rb: Rebuilder, rec: Record, where: str):
    out = {}
    for args in rec.args[:1]:
        for pair in rb.data(args, where):
            key, value = pair
            out[key] = value
    for key, value in rec.mapping:
        out[rb.data(key, where)] = rb.data(value, where)
    return out


def _frozendict(rb: Rebuilder, rec: Record, where: str):
    from pytensor.misc.frozendict import frozendict

    state = rb.state(rec, where)
    raw = state.get("_dict", {})
    mapping = rb.data(raw, where)
    if not isinstance(mapping, dict):
        raise rb.refuse(where, "a malformed frozendict")
    mapping.update({rb.data(k, where): rb.data(v, where) for k, v in rec.mapping})
    return frozendict(mapping)


def _scan_info(rb: Rebuilder, rec: Record, where: str):
    from pytensor.scan.op import ScanInfo

    state = rb.state(rec, where)
    fields = [f for f in ScanInfo.__dataclass_fields__]
    values = {}
    for field in fields:
        if field not in state:
            raise rb.refuse(where, f"Scan information without {field!r}")
        values[field] = rb.data(state[field], f"{where}: {field}")
    extra = set(state) - set(fields)
    if extra:
        raise rb.refuse(where, f"Scan information with unknown field {sorted(extra)[0]!r}")
    return rb.build(ScanInfo, where, **values)


def _type_rule_object(rb: Rebuilder, rec: Record, where: str):
    """Type rules that are objects (``transfer_type(0)``, ``specific_out(bool)``)."""
    import pytensor.scalar.basic as psb

    cls = getattr(psb, rec.func.name)
    state = rb.state(rec, where)
    (prop,) = cls.__props__
    values = rb.data(state.get(prop), f"{where}: {prop}")
    if not isinstance(values, tuple):
        raise rb.refuse(where, f"a malformed {cls.__name__}")
    for v in values:
        if not (isinstance(v, (int, type(None))) or hasattr(v, "dtype")):
            raise rb.refuse(where, f"a malformed {cls.__name__}")
    rule = rb.build(cls, where, *values)
    rb.check_extras(rule, state, where, used={prop})
    return rule


def _getattr(rb: Rebuilder, rec: Record, where: str):
    """``getattr(cls, name)``, as protocols 2-3 spell a class's nested function: only
    a scalar Op class's own type rule (``Sign._output_types_preference``), looked up
    without running any descriptor."""
    from pytensor.scalar.basic import ScalarOp

    if len(rec.args) == 2 and isinstance(rec.args[0], Global) and isinstance(rec.args[1], str):
        cls = rb.index.get(rec.args[0].path)
        name = rec.args[1]
        if cls is not None and issubclass(cls, ScalarOp) and not name.startswith("__"):
            value = inspect.getattr_static(cls, name, None)
            value = value.__func__ if isinstance(value, staticmethod) else value
            if isinstance(value, types.FunctionType) and \
                    value.__module__.startswith("pytensor.scalar"):
                return value
    raise rb.refuse(where, "refusing global 'builtins.getattr': only a scalar Op's own "
                    "type rule may be named so")


_HANDLERS = {
    "builtins.getattr": _getattr,
    "builtins.slice": _slice,
    "builtins.set": _builtin(set),
    "builtins.frozenset": _builtin(frozenset),
    "builtins.complex": _builtin(complex),
    "builtins.bytearray": _builtin(bytearray),
    "_codecs.encode": _encode,
    "collections.OrderedDict": _ordered_dict,
    "_collections.OrderedDict": _ordered_dict,
    "pytensor.misc.frozendict.frozendict": _frozendict,
    "pytensor.scan.op.ScanInfo": _scan_info,
    "pytensor.scalar.basic.transfer_type": _type_rule_object,
    "pytensor.scalar.basic.specific_out": _type_rule_object,
    "numpy.random._pickle.__generator_ctor": _generator,
}
for _core in ("numpy.core", "numpy._core"):
    _HANDLERS[f"{_core}.multiarray._reconstruct"] = _reconstruct
    _HANDLERS[f"{_core}.multiarray.scalar"] = _scalar
    _HANDLERS[f"{_core}.numeric._frombuffer"] = _frombuffer
_HANDLERS["numpy.dtype"] = lambda rb, rec, where: dtype_from(rb, rec, where)


# ---- Ops that are more than their props -------------------------------------------

_OP_HANDLERS: dict[type, object] = {}


def op_handler(*class_paths: str):
    """Register a rebuild rule for Op classes (and their subclasses)."""

    def decorator(fn):
        for path in class_paths:
            _OP_HANDLER_PATHS[path] = fn
        return fn

    return decorator


_OP_HANDLER_PATHS: dict[str, object] = {}


def _op_handler(cls):
    for klass in cls.__mro__:
        fn = _OP_HANDLER_PATHS.get(_path(klass))
        if fn is not None:
            return fn
    return None




def init_params(cls) -> list[str]:
    """The names ``cls.__init__`` takes (``kwargs`` if it takes any keyword)."""
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return []
    names = []
    for name, param in params.items():
        if param.kind == param.VAR_KEYWORD:
            names.append("kwargs")
        elif name != "self" and param.kind in (param.POSITIONAL_OR_KEYWORD,
                                               param.KEYWORD_ONLY):
            names.append(name)
    return names


from . import rebuild_ops  # noqa: E402,F401  (registers the Op rules)
