"""Kinds of graphs no lowering can take yet, refused before anything else is done.

Sparse matrices (``pytensor.sparse``) and typed lists (``pytensor.typed_list``) have
no Numba representation in generated code: a graph holding a variable of such a
type, or an Op of those packages, is refused with one line naming the Op (or the
variable), rather than lowered into a module Numba would then reject.
"""

from .errors import UnsupportedOpError

NOT_YET = {
    "pytensor.sparse": "sparse matrices (pytensor.sparse) are not supported yet",
    "pytensor.typed_list": "typed lists (pytensor.typed_list) are not supported yet",
}


def _package_of(path: str) -> str | None:
    """The package of NOT_YET that a module or dotted class path is in, or None."""
    return next((p for p in NOT_YET if path == p or path.startswith(p + ".")), None)


def not_yet(path: str) -> str | None:
    """Why a module or a dotted class path of a package in NOT_YET is refused, or None."""
    package = _package_of(path)
    return None if package is None else NOT_YET[package]


def _package(obj) -> str | None:
    return _package_of(type(obj).__module__)


def _qualname(obj) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _refuse_node(node, package: str):
    raise UnsupportedOpError(
        f"unsupported Op {_qualname(node.op)} in node {node}: {NOT_YET[package]}")


def check_graph(fgraph) -> None:
    """Raise UnsupportedOpError for the first Op or variable of a kind in NOT_YET
    (in inner graphs too: a Scan's, an OpFromGraph's)."""
    _check(fgraph.inputs, fgraph.outputs, fgraph.toposort(), depth=0)


def _check(inputs, outputs, nodes, depth: int) -> None:
    for node in nodes:
        package = _package(node.op)
        if package is None:
            package = next((p for v in (*node.inputs, *node.outputs)
                            if (p := _package(v.type)) is not None), None)
        if package is not None:
            _refuse_node(node, package)
        inner = getattr(node.op, "fgraph", None)
        if inner is not None and depth < 8 and hasattr(inner, "toposort"):
            _check(inner.inputs, inner.outputs, inner.toposort(), depth + 1)
    for var in (*inputs, *outputs):
        package = _package(var.type)
        if package is not None:
            raise UnsupportedOpError(
                f"variable {var.name or var} of type {var.type}: {NOT_YET[package]}")
