"""The few PyTensor names that moved between the versions we support (2.38, 3.x)."""

try:
    from pytensor.graph.traversal import graph_inputs, io_toposort
except ImportError:  # pragma: no cover - older layouts
    from pytensor.graph.basic import graph_inputs, io_toposort

__all__ = ["graph_inputs", "io_toposort"]


def function_class():
    """PyTensor's compiled ``Function`` class (moved in PyTensor 3)."""
    try:
        from pytensor.compile.function.types import Function
    except ImportError:
        from pytensor.compile.executor import Function
    return Function
