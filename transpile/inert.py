"""Unpickling without running anything: a pickle -> a tree of inert records.

A pickle is a program for a small stack machine whose instructions import globals
(``GLOBAL``), call them (``REDUCE``, ``NEWOBJ``) and set attributes (``BUILD``).  The
standard unpickler carries those instructions out, so a graph file could make it import
and run anything it names, and an allowed class's ``__setstate__`` runs on whatever
state the file supplies.

:class:`InertUnpickler` carries out none of them.  A global becomes a :class:`Global`
(its module and name, nothing imported), a call becomes a :class:`Record` (what was
called, with which arguments), and ``BUILD`` stores the state in that record.  Only
plain data is made for real: numbers, strings, bytes, lists, tuples, dicts and sets.
What the records mean is decided afterwards, by :mod:`transpile.rebuild`, which builds
the graph from its own tables and refuses everything else.

Globals of the standard library (but for a few harmless names: ``builtins.slice``,
``copyreg.__newobj__``, exception classes) and of compilers are refused here
already, so that a hostile file is named as such at once.  Any other global is only a
name: one of a user's module (a gradient override in an OpFromGraph) is refused only
if the graph reaches it, and then with a hint about ``--allow-module``.
"""

import builtins
import io
import pickle
import sys
from collections.abc import Iterable

from .errors import LoadError

# Packages whose names a graph pickle may mention.  Mentioning is harmless: a name is
# only a record until rebuild.py finds it in its tables of what a graph is made of.
GRAPH_PACKAGES = ("pytensor", "numpy", "pymc")

# Standard-library globals that pickles of graphs mention (types of plain data, the
# reconstructors protocols 0-2 use, exception classes held by Assert Ops).
_STDLIB_NAMES = frozenset(
    {("builtins", n) for n in (
        "object", "slice", "set", "frozenset", "complex", "range", "tuple", "list", "dict",
        "int", "float", "bool", "str", "bytes", "bytearray", "NotImplemented", "Ellipsis",
        "getattr", "type",
    )}
    | {("builtins", n) for n, v in vars(builtins).items()
       if isinstance(v, type) and issubclass(v, BaseException)}
    | {("collections", "OrderedDict"), ("collections", "defaultdict"),
       ("collections", "deque"), ("_collections", "OrderedDict"), ("_codecs", "encode"),
       ("copyreg", "__newobj__"), ("copyreg", "__newobj_ex__"),
       ("copyreg", "_reconstructor"), ("pathlib", "PosixPath"),
       ("pathlib", "PurePosixPath"), ("pathlib", "WindowsPath"),
       ("pathlib", "PureWindowsPath"), ("functools", "partial")}
)

# Tuples and frozensets are hashed (as dict keys, set members) while unpickling, and
# hashing recurses in C without a depth check: a deeper nesting than this is refused
# before anything hashes it.  Real graphs nest a handful of levels.
MAX_NESTING = 200


class Global:
    """A global a pickle names: ``module.name``, never imported here."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    @property
    def path(self) -> str:
        return f"{self.module}.{self.name}"

    def __repr__(self) -> str:
        return f"<global {self.path}>"


class Record:
    """An object a pickle asks for, described and never made.

    ``func`` is what was called (a :class:`Global`, or another record for a bound
    method), ``args``/``kwargs`` its arguments; ``new`` says it was ``cls.__new__(cls,
    *args)`` (NEWOBJ, INST, OBJ) rather than a plain call (REDUCE).  ``state`` is what
    BUILD supplied, ``items`` and ``mapping`` what APPENDS and SETITEMS added.
    """

    __slots__ = ("func", "args", "kwargs", "new", "state", "items", "mapping")

    def __init__(self, func, args=(), kwargs=None, new=False):
        self.func, self.args, self.kwargs, self.new = func, tuple(args), kwargs or {}, new
        self.state = None
        self.items: list = []
        self.mapping: list = []

    # What the pure-Python unpickler calls on list- and dict-like objects.
    def append(self, item) -> None:
        self.items.append(item)

    def extend(self, items) -> None:
        self.items.extend(items)

    def __setitem__(self, key, value) -> None:
        self.mapping.append((key, value))

    @property
    def target(self):
        """The global this record calls, following bound methods (``getattr``)."""
        func = self.func
        return func if isinstance(func, Global) else None

    def __repr__(self) -> str:
        return f"<record {self.func!r}>"


def is_call_of(obj, module_prefix: str, *names: str) -> bool:
    """Whether ``obj`` is a record calling a global named ``names`` in a module
    starting with ``module_prefix``."""
    return (isinstance(obj, Record) and isinstance(obj.func, Global)
            and obj.func.name in names
            and (obj.func.module == module_prefix
                 or obj.func.module.startswith(module_prefix + ".")))


def _modern(module: str, name: str) -> tuple[str, str]:
    """Python 2 names (protocols 0-2: ``__builtin__.set``) as Python 3 spells them."""
    import _compat_pickle

    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _within(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


# Packages besides the standard library whose names no graph file has a reason to
# mention (compilers, foreign-function interfaces).
_NEVER = frozenset({"numba", "llvmlite", "cffi", "Cython", "setuptools", "distutils", "pip"})


def _refusal(where: str, module: str) -> str:
    return (f"refusing global {where!r}: a graph file has no business naming it "
            "(it could run code on this machine)")


def untrustable(module: str) -> bool:
    """Whether ``--allow-module`` may not name ``module``: the standard library,
    compilers, and the graph packages themselves (whose Ops are rebuilt instead)."""
    root = module.split(".", 1)[0]
    return root in sys.stdlib_module_names or root in _NEVER or root in GRAPH_PACKAGES


def user_module_refusal(where: str, module: str) -> str:
    """What to say about a global of a package outside the graph packages that the
    graph reaches: it may be the user's own Op."""
    root = module.split(".", 1)[0]
    if module == "scipy.sparse" or module.startswith("scipy.sparse."):
        return f"refusing global {where!r}: sparse matrices are not supported yet"
    if root in _NO_HINT:
        return f"refusing global {where!r}: module {root} is not part of a PyTensor graph"
    return (f"refusing global {where!r}: module {root} is not part of a PyTensor graph; "
            f"if it defines your own Ops and you trust this file, pass --allow-module {root}")


# Packages a graph file may mention harmlessly but that --allow-module should not
# be suggested for (they are not a user's Ops, and trusting them trusts too much).
_NO_HINT = frozenset({"scipy", "pandas", "xarray", "jax", "torch", "tensorflow"})


class InertUnpickler(pickle._Unpickler):
    """The pure-Python unpickler with every instruction that would import, call or
    set attributes replaced by one that records it (see the module docstring)."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, max_nodes: int = 20_000):
        super().__init__(file, fix_imports=False)
        self.nodes, self.max_nodes = 0, max_nodes
        self._depths: dict[int, tuple[object, int]] = {}  # id -> (obj kept alive, depth)

    def find_class(self, module: str, name: str) -> Global:
        module, name = _modern(module, name)
        where = f"{module}.{name}"
        if not all(p.isidentifier() for p in (*module.split("."), *name.split("."))):
            raise LoadError(f"not a readable graph pickle: no such global {where!r}")
        root = module.split(".", 1)[0]
        if (module, name) not in _STDLIB_NAMES and (
                root in sys.stdlib_module_names or root in _NEVER):
            raise LoadError(_refusal(where, module))
        # Anything else is only a name: a user's module (a gradient override in an
        # OpFromGraph, an object in a tag) is refused only if the graph reaches it.
        return Global(module, name)

    # ---- instructions that would call something --------------------------------

    def load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if not isinstance(func, (Global, Record)) or not isinstance(args, tuple):
            raise LoadError("not a readable graph pickle: a call of something that is "
                            "not a global")
        if isinstance(func, Global) and func.module == "copyreg" and args \
                and isinstance(args[0], Global):
            # copyreg.__newobj__(cls, *args) and copyreg._reconstructor(cls, base,
            # state) (protocols 0-1): the cls.__new__(cls, ...) they stand for
            if func.name in ("__newobj__", "__newobj_ex__"):
                self._count(args[0])
                self.stack[-1] = Record(args[0], args[1:], new=True)
                return
            if func.name == "_reconstructor":
                self._count(args[0])
                self.stack[-1] = Record(args[0], (), new=True)
                return
        self._count(func)
        self.stack[-1] = Record(func, args)

    dispatch[pickle.REDUCE[0]] = load_reduce

    def _count(self, cls) -> None:
        """Refuse a file with more nodes than a graph may have, early: before the
        time to read all of it is spent."""
        if isinstance(cls, Global) and cls.name in ("Apply", "FrozenApply") \
                and cls.module == "pytensor.graph.basic":
            self.nodes += 1
            if self.nodes > self.max_nodes:
                raise LoadError(f"the graph has more than {self.max_nodes} nodes (the "
                                "limit; see docs/security.md)")

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        self._count(cls)
        self.append(Record(cls, args, new=True))

    dispatch[pickle.NEWOBJ[0]] = load_newobj

    def load_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(Record(cls, args, dict(kwargs), new=True))

    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex

    def load_inst(self):
        module = self.readline()[:-1].decode("ascii")
        name = self.readline()[:-1].decode("ascii")
        cls = self.find_class(module, name)
        args = tuple(self.pop_mark())
        self.append(Record(cls, args, new=True))

    dispatch[pickle.INST[0]] = load_inst

    def load_obj(self):
        args = self.pop_mark()
        cls = args.pop(0)
        self.append(Record(cls, tuple(args), new=True))

    dispatch[pickle.OBJ[0]] = load_obj

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if not isinstance(inst, Record):
            raise LoadError("not a readable graph pickle: it sets attributes of "
                            f"a {type(inst).__name__}")
        if inst.state is not None:
            raise LoadError("not a readable graph pickle: it sets an object's state twice")
        inst.state = state

    dispatch[pickle.BUILD[0]] = load_build

    def _refuse_extension(self):
        raise LoadError("not a readable graph pickle: it uses the copyreg extension registry")

    for _code in (pickle.EXT1, pickle.EXT2, pickle.EXT4):
        dispatch[_code[0]] = _refuse_extension

    def persistent_load(self, pid):
        raise LoadError("not a readable graph pickle: it refers to persistent objects")

    # ---- instructions that hash what they are given ------------------------------

    def _depth(self, obj) -> int:
        kept = self._depths.get(id(obj))
        if kept is not None and kept[0] is obj:
            return kept[1]
        return 1 if isinstance(obj, (tuple, frozenset)) else 0

    def _track(self, obj):
        """Record the nesting depth of a new tuple or frozenset (immutable: its depth
        is final); refuse one nested deeper than MAX_NESTING."""
        depth = 1 + max((self._depth(x) for x in obj), default=0)
        if depth > MAX_NESTING:
            raise LoadError(f"not a readable graph pickle: data nested more than "
                            f"{MAX_NESTING} levels deep")
        if depth > 1:
            self._depths[id(obj)] = (obj, depth)
        return obj

    def load_tuple(self):
        items = self.pop_mark()  # before self.append: pop_mark rebinds it
        self.append(self._track(tuple(items)))

    def load_tuple1(self):
        self.stack[-1] = self._track((self.stack[-1],))

    def load_tuple2(self):
        self.stack[-2:] = [self._track((self.stack[-2], self.stack[-1]))]

    def load_tuple3(self):
        self.stack[-3:] = [self._track((self.stack[-3], self.stack[-2], self.stack[-1]))]

    def load_frozenset(self):
        items = self.pop_mark()
        self._track(items)  # members are hashed: refuse deep ones first
        self.append(self._track(frozenset(self._hashable(x) for x in items)))

    dispatch[pickle.TUPLE[0]] = load_tuple
    dispatch[pickle.TUPLE1[0]] = load_tuple1
    dispatch[pickle.TUPLE2[0]] = load_tuple2
    dispatch[pickle.TUPLE3[0]] = load_tuple3
    dispatch[pickle.FROZENSET[0]] = load_frozenset

    def _hashable(self, key):
        """A key that hashing will not recurse into too deeply, or a refusal."""
        try:
            hash(key)
        except TypeError:
            raise LoadError("not a readable graph pickle: an unhashable dict key or set "
                            "member") from None
        return key

    def load_setitem(self):
        value = self.stack.pop()
        key = self._hashable(self.stack.pop())
        self.stack[-1][key] = value

    def load_setitems(self):
        items = self.pop_mark()
        target = self.stack[-1]
        for k in range(0, len(items), 2):
            target[self._hashable(items[k])] = items[k + 1]

    def load_additems(self):
        items = self.pop_mark()
        target = self.stack[-1]
        if not isinstance(target, (set, Record)):
            raise LoadError("not a readable graph pickle: ADDITEMS on a non-set")
        if isinstance(target, Record):
            target.extend(items)
        else:
            target.update(self._hashable(item) for item in items)

    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.ADDITEMS[0]] = load_additems

    def load_dict(self):
        items = self.pop_mark()
        self.append({self._hashable(items[k]): items[k + 1] for k in range(0, len(items), 2)})

    dispatch[pickle.DICT[0]] = load_dict


def unpickle(data: bytes, max_nodes: int = 20_000):
    """The inert record tree a pickle describes (see :class:`InertUnpickler`)."""
    try:
        return InertUnpickler(io.BytesIO(data), max_nodes).load()
    except LoadError:
        raise
    except RecursionError:
        raise LoadError("not a readable graph pickle: nested too deeply") from None
    except MemoryError:
        raise LoadError("not a readable graph pickle: it asks for more memory than "
                        "this machine has") from None
    except Exception as exc:  # noqa: BLE001 - whatever a damaged pickle raises
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise LoadError(f"not a readable graph pickle: {type(exc).__name__}"
                        f"{': ' + detail if detail else ''}") from None
