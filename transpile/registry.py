"""The dispatch registry: Op class -> lowering function.

A lowering is a small function ``lower_<OpName>(op, node, fn)`` that emits statements
into a :class:`~transpile.context.FunctionBuilder` and binds every output of ``node``.
Lookup walks the Op class's MRO, so a subclass (PyMC's ``CheckParameterValue`` is a
``CheckAndRaise``) is lowered by its base class's lowering unless it has its own.

Scalar Ops (the element-level operations inside ``Elemwise`` and ``Composite``) have a
registry of their own: ``scalar_<OpName>(op, args, node, fn) -> expression``.
"""

from collections.abc import Callable

from .errors import UnsupportedOpError

_LOWERINGS: dict[type, Callable] = {}
_SCALAR_LOWERINGS: dict[type, Callable] = {}
_DESTINATIONS: set[type] = set()  # Op classes whose lowering honours destinations


def _registrar(table: dict, op_classes: tuple[type | None, ...]):
    def decorator(fn):
        for cls in op_classes:
            if cls is not None:  # an Op this PyTensor version lacks (compat.op_class)
                table[cls] = fn
        return fn

    return decorator


def register(*op_classes: type, destinations: bool = False):
    """Register a graph-level lowering for one or more Op classes.

    ``destinations=True`` declares that the lowering honours a destination: when
    ``fn.destinations`` holds an entry for its (single, array) result, it writes the
    result there (``fn.into_destination``) instead of into an array of its own.  The
    plan then gives such a result of a Scan step its buffer's row (``h[t + 1]``)."""
    if destinations:
        _DESTINATIONS.update(cls for cls in op_classes if cls is not None)
    return _registrar(_LOWERINGS, op_classes)


def writes_destinations(op) -> bool:
    """Whether the lowering of ``op`` honours destinations (see :func:`register`)."""
    for cls in type(op).__mro__:
        if cls in _LOWERINGS:
            return cls in _DESTINATIONS
    return False


def register_scalar(*op_classes: type):
    """Register an element-level lowering for one or more scalar Op classes."""
    return _registrar(_SCALAR_LOWERINGS, op_classes)


def _lookup(table: dict, op) -> Callable | None:
    for cls in type(op).__mro__:
        if cls in table:
            return table[cls]
    return None


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def lowering_for(op, node) -> Callable:
    fn = _lookup(_LOWERINGS, op)
    if fn is None:
        raise UnsupportedOpError(
            f"unsupported Op {_qualname(type(op))} in node {node}; register a lowering "
            f"with @transpile.register({type(op).__name__}) in a module loaded by "
            "--plugin MODULE (see docs/design.md)"
        )
    return fn


def scalar_lowering_for(op, node=None) -> Callable:
    fn = _lookup(_SCALAR_LOWERINGS, op)
    if fn is None:
        where = f" in node {node}" if node is not None else ""
        raise UnsupportedOpError(
            f"unsupported scalar Op {_qualname(type(op))}{where}; register a lowering "
            f"with @transpile.register_scalar({type(op).__name__}) in a module loaded "
            "by --plugin MODULE (see docs/design.md)"
        )
    return fn


def registered_ops() -> dict[str, list[tuple[type, Callable]]]:
    """Every registered Op class with its lowering, by kind ("graph" / "scalar")."""
    return {
        "graph": sorted(_LOWERINGS.items(), key=lambda kv: _qualname(kv[0])),
        "scalar": sorted(_SCALAR_LOWERINGS.items(), key=lambda kv: _qualname(kv[0])),
    }
