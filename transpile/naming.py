"""One namespace per generated module: every identifier is handed out here.

Graph variable names are arbitrary strings (``"x y"``, ``'a"; import os'``,
``"class"``, ``"σ"``); they become valid, distinct ASCII identifiers that shadow
nothing the module uses.  Nothing a user writes in a name reaches the output as code.
"""

import builtins
import keyword
import re
import unicodedata

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
