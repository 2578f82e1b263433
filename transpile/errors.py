"""Errors the transpiler reports to its users.

Every failure a user can cause (a bad file, a hostile pickle, an unsupported Op, a
graph with no outputs) is a :class:`TranspileError`; the CLI prints its message as one
line and exits non-zero.  Anything else escaping is a bug in transpile itself.
"""


class TranspileError(Exception):
    """Base class of every error meant for the user."""


class LoadError(TranspileError):
    """The graph file cannot be read, is not a graph, or names a forbidden global."""


class UnsupportedOpError(TranspileError):
    """No lowering is registered for an Op (or for one of its parameters)."""


class GraphError(TranspileError):
    """The graph itself is unusable: no outputs, bad names, inconsistent types."""
