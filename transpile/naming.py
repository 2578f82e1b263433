"""One namespace per generated module: every identifier is handed out here.

Graph variable names are arbitrary strings (``"x y"``, ``'a"; import os'``, ``"class"``);
they become valid, distinct identifiers that shadow nothing the module uses.  Nothing a
user writes in a name ever reaches the output as code.
"""

import builtins
import keyword
import re

# Names the generated module itself defines or imports.
MODULE_NAMES = frozenset({"np", "numba", "math", "INPUTS", "OUTPUTS"})
_RESERVED = (
    frozenset(keyword.kwlist)
    | frozenset(keyword.softkwlist)
    | frozenset(dir(builtins))
    | MODULE_NAMES
)
_NOT_IDENT = re.compile(r"[^0-9a-zA-Z_]+")


def sanitize(candidate: str, fallback: str = "v") -> str:
    """Turn any string into a plain identifier (not yet checked for clashes)."""
    name = _NOT_IDENT.sub("_", candidate.encode("ascii", "ignore").decode()).strip("_")
    name = re.sub(r"_+", "_", name)
    if not name:
        name = fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    return name


class Namespace:
    """Hands out unique identifiers: ``exp``, ``exp_1``, ``exp_2`` ...

    A name is never a keyword, a builtin, a module-level name of the generated module,
    nor a name already handed out in this namespace (or its parent, for nested scopes).
    """

    def __init__(self, reserved=(), parent: "Namespace | None" = None):
        self._taken: set[str] = set(reserved)
        self._counters: dict[str, int] = {}
        self._parent = parent

    def _is_taken(self, name: str) -> bool:
        if name in _RESERVED or name in self._taken:
            return True
        return self._parent is not None and self._parent._is_taken(name)

    def reserve(self, name: str) -> None:
        self._taken.add(name)

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
        self._taken.add(name)
        return name
