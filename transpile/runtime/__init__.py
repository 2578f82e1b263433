"""Hand-written Numba helpers that generated modules carry verbatim.

Each file here is plain, importable ``@numba.njit`` code (so its functions are tested
directly against SciPy), written with only ``numba``, ``numpy`` and ``math``.  When a
lowering needs one, :class:`RuntimeLibrary` copies the function's syntax tree, and that
of every helper it calls, into the generated module, once.

A few helpers need module-level *bindings*: a public ``name = ...`` assignment or an
undecorated ``def`` at the top level of a runtime file (``lapack.py`` binds LAPACK
routines this way).  A binding is carried like a helper, once and only when something
uses it, but verbatim and as a module-level statement: the assembler puts the bindings
in one block before the helpers, in dependency order.
"""

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from ..walk import count_names

RUNTIME_MODULES = ("special", "arrays", "linalg", "lapack", "decomp", "scan", "random",
                   "extra_ops", "numeric")


@dataclass(frozen=True)
class _Definition:
    node: cst.CSTNode  # a FunctionDef, or a SimpleStatementLine (an assignment)
    module: str
    jitted: bool  # an @numba.njit function (its decorator is the module's own)


def _assigned_name(stmt: cst.CSTNode) -> str | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if (isinstance(small, cst.Assign) and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)):
            return small.targets[0].target.value
    return None


def _definitions(module: str, tree: cst.Module):
    """``(name, definition)`` for each public top-level function and binding."""
    for stmt in tree.body:
        if isinstance(stmt, cst.FunctionDef):
            name, jitted = stmt.name.value, bool(stmt.decorators)
        else:
            name, jitted = _assigned_name(stmt), False
        if name is not None and not name.startswith("_"):
            yield name, _Definition(stmt.with_changes(leading_lines=[]), module, jitted)


@functools.cache
def _index() -> dict[str, str]:
    """Every public function and binding, in source order, with its runtime file.

    Read with :mod:`ast`, which is fast; a file's libcst tree is only built when one of
    its definitions is copied (:func:`_parsed`)."""
    index: dict[str, str] = {}
    for module in RUNTIME_MODULES:
        for stmt in ast.parse(_source(module)).body:
            if isinstance(stmt, (ast.FunctionDef, ast.Assign)):
                name = _ast_name(stmt)
                if name is None or name.startswith("_"):
                    continue
                if name in index:
                    raise RuntimeError(f"runtime/{module}.py redefines {name!r}")
                index[name] = module
    return index


def _ast_name(stmt) -> str | None:
    if isinstance(stmt, ast.FunctionDef):
        return stmt.name
    if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    return None


def _source(module: str) -> str:
    return (Path(__file__).parent / f"{module}.py").read_text()


@functools.cache
def _parsed(module: str) -> dict[str, _Definition]:
    return dict(_definitions(module, cst.parse_module(_source(module))))


def _definition(name: str) -> _Definition:
    return _parsed(_index()[name])[name]


@functools.cache
def _direct_deps(name: str) -> tuple[str, ...]:
    node = _definition(name).node
    names = count_names(node.body if isinstance(node, cst.FunctionDef) else node)
    index = _index()
    return tuple(sorted(n for n in names if n in index and n != name))


class RuntimeLibrary:
    def names(self) -> list[str]:
        return list(_index())

    def function(self, name: str) -> cst.FunctionDef:
        return _definition(name).node

    def is_binding(self, name: str) -> bool:
        """Whether ``name`` is a module-level binding (copied verbatim), not an
        ``@numba.njit`` helper."""
        return not _definition(name).jitted

    def binding(self, name: str) -> cst.CSTNode:
        return _definition(name).node

    def in_source_order(self, names) -> list[str]:
        """``names`` in the order the runtime files define them (a binding's
        dependencies come first there)."""
        position = {name: k for k, name in enumerate(_index())}
        return sorted(names, key=position.__getitem__)

    def module_of(self, name: str) -> str:
        """The runtime file (``"lapack"``) that defines ``name``."""
        return _index()[name]

    def closure(self, name: str) -> list[str]:
        """``name`` and every helper or binding it uses, dependencies first."""
        order: list[str] = []

        def visit(n: str) -> None:
            if n in order:
                return
            for dep in _direct_deps(n):
                visit(dep)
            order.append(n)

        visit(name)
        return order
