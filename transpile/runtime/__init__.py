"""Hand-written Numba helpers that generated modules carry verbatim.

Each file here is plain, importable ``@numba.njit`` code (so its functions are tested
directly against SciPy), written with only ``numba``, ``numpy`` and ``math``.  When a
lowering needs one, :class:`RuntimeLibrary` copies the function's syntax tree, and that
of every helper it calls, into the generated module, once.
"""

import functools
from pathlib import Path

import libcst as cst

RUNTIME_MODULES = ("special", "arrays", "linalg", "scan", "random", "extra_ops", "numeric")


@functools.cache
def _parse_all() -> dict[str, cst.FunctionDef]:
    functions: dict[str, cst.FunctionDef] = {}
    here = Path(__file__).parent
    for module in RUNTIME_MODULES:
        tree = cst.parse_module((here / f"{module}.py").read_text())
        for stmt in tree.body:
            if isinstance(stmt, cst.FunctionDef) and not stmt.name.value.startswith("_"):
                functions[stmt.name.value] = stmt.with_changes(leading_lines=[])
    return functions


class _Names(cst.CSTVisitor):
    def __init__(self):
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


@functools.cache
def _direct_deps(name: str) -> tuple[str, ...]:
    functions = _parse_all()
    visitor = _Names()
    functions[name].body.visit(visitor)
    return tuple(sorted(n for n in visitor.names if n in functions and n != name))


class RuntimeLibrary:
    def names(self) -> list[str]:
        return list(_parse_all())

    def function(self, name: str) -> cst.FunctionDef:
        return _parse_all()[name]

    def closure(self, name: str) -> list[str]:
        """``name`` and every helper it calls, callees first."""
        order: list[str] = []

        def visit(n: str) -> None:
            if n in order:
                return
            for dep in _direct_deps(n):
                visit(dep)
            order.append(n)

        visit(name)
        return order
