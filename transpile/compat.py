"""The few PyTensor names that moved between the versions we support (2.38, 3.x)."""

try:
    from pytensor.graph.traversal import graph_inputs, io_toposort
except ImportError:  # pragma: no cover - older layouts
    from pytensor.graph.basic import graph_inputs, io_toposort

__all__ = ["graph_inputs", "io_toposort", "op_class"]

# Where the linear-algebra Ops live: PyTensor 3 gathers them in pytensor.tensor.linalg,
# 2.38 keeps them in slinalg / nlinalg (and the tridiagonal ones in a private module).
LINALG_MODULES = (
    "pytensor.tensor.linalg",
    "pytensor.tensor.slinalg",
    "pytensor.tensor.nlinalg",
    "pytensor.tensor._linalg.solve.tridiagonal",
)


def function_class():
    """PyTensor's compiled ``Function`` class (moved in PyTensor 3)."""
    try:
        from pytensor.compile.function.types import Function
    except ImportError:
        from pytensor.compile.executor import Function
    return Function


def op_class(name: str, modules=LINALG_MODULES):
    """The class ``name`` from the first of ``modules`` that defines it, or None when
    this PyTensor version has none (its lowering is then simply not registered)."""
    import importlib
    import warnings

    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        with warnings.catch_warnings():  # PyTensor 3's deprecated re-exports
            warnings.simplefilter("ignore", DeprecationWarning)
            cls = getattr(module, name, None)
        if isinstance(cls, type):
            return cls
    return None
