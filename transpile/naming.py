"""One namespace per generated module: every identifier is handed out here.

Graph variable names are arbitrary strings (``"x y"``, ``'a"; import os'``,
``"class"``, ``"σ"``); they become valid, distinct ASCII identifiers that shadow
nothing the module uses.  Nothing a user writes in a name reaches the output as code.
"""

import builtins
import contextlib
import contextvars
import keyword
import re
import unicodedata

import numpy as np

# Names the generated module itself defines or imports.
MODULE_NAMES = frozenset({"np", "numba", "math", "INPUTS", "OUTPUTS", "DATA", "DATA_FILE",
                          "load_data", "data_checksum"})
_RESERVED = (
    frozenset(keyword.kwlist)
    | frozenset(keyword.softkwlist)
    | frozenset(dir(builtins))
    | MODULE_NAMES
)


def is_reserved(name: str) -> bool:
    """Whether ``name`` is a keyword, a builtin or a name the module itself defines:
    a generated module never binds one (``def range`` would break its loops)."""
    return name in _RESERVED


_NOT_IDENT = re.compile(r"[^0-9a-zA-Z_]+")
MAX_LENGTH = 48  # a name is a reader's handle, not a copy of a long label


def _ascii(text: str) -> str:
    """ASCII spelling: accents dropped (``é`` -> ``e``), letters of other scripts
    by their Unicode names (``σ`` -> ``sigma``), anything else dropped."""
    out = []
    for ch in unicodedata.normalize("NFKD", text):
        if ch.isascii():
            out.append(ch)
        elif ch.isalpha():
            words = unicodedata.name(ch, "").split(" LETTER ", 1)[1:]
            word = words[0].replace(" ", "_").lower() if words else ""
            if word and "CAPITAL" in unicodedata.name(ch, ""):
                word = word.capitalize()
            out.append(f"_{word}_")
    return "".join(out)


def _clean(text: str) -> str:
    name = _NOT_IDENT.sub("_", _ascii(str(text)))
    return re.sub(r"_+", "_", name).strip("_")[:MAX_LENGTH].rstrip("_")


def sanitize(candidate: str, fallback: str = "v") -> str:
    """Turn any string into a plain ASCII identifier (not yet checked for clashes):
    ``"x y"`` -> ``x_y``, ``"1abc"`` -> ``v_1abc``, ``""`` -> the fallback."""
    prefix = _clean(fallback) or "v"
    if prefix[0].isdigit():
        prefix = f"v_{prefix}"
    name = _clean(candidate)
    if not name:
        return prefix
    return f"{prefix}_{name}" if name[0].isdigit() else name


class Namespace:
    """Hands out unique identifiers: ``exp``, ``exp_1``, ``exp_2`` ...

    A name is never a keyword, a builtin, a module-level name of the generated module,
    nor a name already handed out in this namespace or its parents (for nested
    scopes).  A parent also avoids the names its children handed out, so that a
    module-level name created late never hides behind a function's local.
    """

    def __init__(self, reserved=(), parent: "Namespace | None" = None):
        self._taken: set[str] = set(reserved)
        self._below: set[str] = set()  # names taken in child namespaces
        self._counters: dict[str, int] = {}
        self._parent = parent

    def _is_taken(self, name: str, own: bool = True) -> bool:
        if name in _RESERVED or name in self._taken or (own and name in self._below):
            return True
        return self._parent is not None and self._parent._is_taken(name, own=False)

    def _claim(self, name: str) -> None:
        self._taken.add(name)
        parent = self._parent
        while parent is not None:
            parent._below.add(name)
            parent = parent._parent

    def reserve(self, name: str) -> None:
        self._claim(name)

    def local_names(self) -> set[str]:
        """The names handed out here and in the parents, up to (not including) the
        outermost namespace: a function's locals, not the module's names."""
        names, ns = set(), self
        while ns._parent is not None:
            names |= ns._taken
            ns = ns._parent
        return names

    def child(self) -> "Namespace":
        return Namespace(parent=self)

    def create(self, candidate: str | None, fallback: str = "v") -> str:
        base = sanitize(candidate or fallback, fallback)
        if base in _RESERVED:  # PEP 8's way around a clash: sum -> sum_
            base += "_"
        name = base
        if self._is_taken(name):
            stem = re.sub(r"_\d+$", "", base).rstrip("_") or base
            n = self._counters.get(stem, 0)
            while True:
                n += 1
                name = f"{stem}_{n}"
                if not self._is_taken(name):
                    break
            self._counters[stem] = n
        self._claim(name)
        return name


# ---- constants named after the script's arrays ---------------------------------------

_SCRIPT_ARRAYS: contextvars.ContextVar = contextvars.ContextVar("script_arrays", default=())


@contextlib.contextmanager
def arrays_named_by(namespace: dict):
    """While it lasts, a graph read in this process (``transpile dump``, ``transpile
    pymc``) gives each unnamed array constant equal to one of ``namespace``'s
    module-level NumPy arrays that array's name: ``x_data`` in the module, not
    ``CONST``.  (A constant PyTensor folds later, ``log(sigma)``, equals none of
    them and keeps the generic name.)"""
    arrays = tuple((key, value) for key, value in namespace.items()
                   if isinstance(value, np.ndarray) and value.ndim >= 1
                   and value.dtype.kind in "biufc" and key.isidentifier()
                   and not key.startswith("_"))
    token = _SCRIPT_ARRAYS.set(arrays)
    try:
        yield
    finally:
        _SCRIPT_ARRAYS.reset(token)


def name_constants(variables) -> None:
    """Name the unnamed array constants among ``variables`` after the script's arrays
    they equal (see :func:`arrays_named_by`), inner graphs (a Scan's body) included;
    the first such array, in the script's order, gives its name."""
    arrays = _SCRIPT_ARRAYS.get()
    if not arrays:
        return
    from pytensor.graph.basic import Constant

    for var in _with_inner(variables):
        if not isinstance(var, Constant) or var.name is not None:
            continue
        data = var.data
        if not isinstance(data, np.ndarray) or data.ndim == 0 or data.dtype.kind not in "biufc":
            continue
        for key, value in arrays:
            if value.shape == data.shape and np.array_equal(value, data):
                var.name = key
                break


def _with_inner(variables):
    """``variables`` and the variables of the inner graphs their nodes hold."""
    stack, seen = [list(variables)], set()
    while stack:
        for var in stack.pop():
            yield var
            inner = getattr(getattr(var.owner, "op", None), "fgraph", None)
            if inner is not None and id(inner) not in seen:
                seen.add(id(inner))
                stack.append(list(inner.variables))
