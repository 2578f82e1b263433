"""Load: a pickle file (or an in-memory object) -> a ``FunctionGraph``.

A graph file is untrusted.  It is never unpickled the usual way (which would run
whatever it names): :mod:`transpile.inert` reads it into inert records without
importing or calling anything, and :mod:`transpile.rebuild` builds the graph those
records describe from our own tables, refusing anything a graph is not made of.  See
docs/security.md for the threat model.  In-memory objects (the Python API) are the
caller's own and are used as they are.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from .errors import GraphError, LoadError


@dataclass
class LoadedGraph:
    fgraph: object  # pytensor.graph.fg.FunctionGraph
    source: str  # a short description: the file name or "<object>"
    digest: str  # sha256 of the graph (see graph_digest), not of the pickle bytes


def _import_allowed(modules: Sequence[str]) -> None:
    import importlib

    from .inert import untrustable

    for module in modules:
        if untrustable(module):
            raise LoadError(f"--allow-module {module}: refusing to trust it; it is for "
                            "your own Ops' packages, not the standard library, compilers "
                            "or PyTensor/NumPy/PyMC (whose Ops load without it)")
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - the user's own package failed
            raise LoadError(
                f"--allow-module {module}: cannot import it ({exc})") from None


class _PickledFunction:
    """A compiled ``Function`` as loaded here: its graph and input specs, never
    compiled or run."""

    def __init__(self, maker):
        self.maker = maker


def read_records(data: bytes):
    """The inert record tree of a pickle's bytes (:mod:`transpile.inert`): no
    PyTensor is imported yet, so a file refused here costs no more than reading it."""
    from .inert import unpickle
    from .rebuild import DEFAULT_LIMITS

    return unpickle(data, DEFAULT_LIMITS.max_nodes)


def load_bytes(data: bytes, allowed_modules: Sequence[str] = ()):
    """The graph a pickle describes, rebuilt (see the module docstring): a
    ``FunctionGraph``, a list of output variables, an ``(inputs, outputs)`` pair or
    a compiled Function's graph, as the pickle holds it."""
    return load_records(read_records(data), allowed_modules)


def load_records(records, allowed_modules: Sequence[str] = ()):
    """:func:`load_bytes` for a record tree :func:`read_records` has read."""
    from . import lower  # noqa: F401  (the lowerings say which Ops a graph may hold)
    from .rebuild import Rebuilder

    _import_allowed(allowed_modules)
    rebuilder = Rebuilder(allowed_modules)
    graph = _rebuild_top(rebuilder, records)
    rebuilder.finish()
    return graph


def _rebuild_top(rb, obj):
    """What the top of a pickle holds, rebuilt as the forms ``to_fgraph`` takes."""
    from pytensor.graph.fg import FunctionGraph

    from .inert import Global, Record
    from .rebuild import _normalized

    if isinstance(obj, Record):
        obj = _normalized(obj)
    if isinstance(obj, Record) and _record_path(obj) == "pytensor.graph.fg.FunctionGraph":
        state = rb.state(obj, "the FunctionGraph")
        inputs, outputs = rb.graph(state.get("outputs"), state.get("inputs"))
        return FunctionGraph(inputs, outputs, clone=False)
    maker = _maker_record(obj)
    if maker is not None:
        return _rebuild_function(rb, maker)
    if _is_variable_record(rb, obj):
        return rb.graph([obj])[1][0]
    if isinstance(obj, (list, tuple)) and obj and all(_is_variable_record(rb, v) for v in obj):
        return rb.graph(list(obj))[1]
    if isinstance(obj, (list, tuple)) and len(obj) == 2 and all(
            isinstance(part, (list, tuple)) and all(_is_variable_record(rb, v) for v in part)
            for part in obj):
        inputs, outputs = rb.graph(list(obj[1]), list(obj[0]))
        return inputs, outputs
    if isinstance(obj, (list, tuple)) and len(obj) == 2 and _is_variable_record(rb, obj[1]):
        inputs, outputs = rb.graph([obj[1]], list(obj[0]) if isinstance(obj[0], (list, tuple))
                                   else [obj[0]])
        return inputs, outputs
    if isinstance(obj, (Record, Global)):
        what = (f"the global {obj.path!r}" if isinstance(obj, Global) else
                f"{'an object' if obj.new else 'a call'} of {_record_path(obj)!r}")
        raise LoadError(f"the pickle holds {what}, not a graph: expected a "
                        "FunctionGraph, a compiled PyTensor Function, a list of output "
                        "variables or an (inputs, outputs) pair")
    return obj  # plain data: to_fgraph says what it is and why it is not a graph


def _record_path(rec) -> str:
    from .inert import Global

    return rec.func.path if isinstance(rec.func, Global) else "object"


def _is_variable_record(rb, obj) -> bool:
    from pytensor.graph.basic import Variable

    from .inert import Global, Record

    if not isinstance(obj, Record):
        return False
    func = obj.func
    if isinstance(func, Global) and func.module == "copyreg" and obj.args:
        func = obj.args[0]
    cls = rb.index.get(func.path) if isinstance(func, Global) else None
    return cls is not None and issubclass(cls, Variable)


def _maker_record(obj):
    """The FunctionMaker record of a pickled compiled Function, if ``obj`` is one."""
    from .inert import Global, Record

    if not isinstance(obj, Record) or not isinstance(obj.func, Global):
        return None
    func = obj.func
    if not func.module.startswith("pytensor.compile"):
        return None
    if func.name == "_constructor_Function" and obj.args:
        maker = obj.args[0]
    elif func.name == "Function" and obj.new is False and obj.args:
        maker = obj.args[0]
    else:
        return None
    if isinstance(maker, Record) and isinstance(maker.func, Global) \
            and maker.func.name == "_constructor_FunctionMaker" and maker.args:
        kwargs = maker.args[0]
        return kwargs if isinstance(kwargs, dict) else None
    if isinstance(maker, Record):
        return maker
    return None


def _rebuild_function(rb, maker):
    """A pickled compiled Function: its graph (as its mode rewrote it) and which of
    its inputs are implicit (shared variables) and updated."""
    from pytensor.graph.fg import FunctionGraph

    from .inert import Record

    state = maker if isinstance(maker, dict) else rb.state(maker, "the Function")
    fgraph = state.get("fgraph")
    specs = state.get("inputs")
    if not isinstance(fgraph, Record) or not isinstance(specs, list):
        raise LoadError("the pickled Function holds no graph")
    fstate = rb.state(fgraph, "the Function's graph")
    inputs, outputs = rb.graph(fstate.get("outputs"), fstate.get("inputs"))
    flags = []
    for spec in specs:
        sstate = rb.state(spec, "a Function input") if isinstance(spec, Record) else {}
        flags.append(SimpleNamespace(implicit=sstate.get("implicit") is True,
                                     update=None if sstate.get("update") is None else True))
    return _PickledFunction(SimpleNamespace(fgraph=FunctionGraph(inputs, outputs, clone=False),
                                            inputs=flags))


def read_file(path) -> bytes:
    """A graph file's bytes, or a one-line :class:`LoadError`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LoadError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise LoadError(f"is a directory, not a graph pickle: {path}") from None
    except OSError as exc:
        raise LoadError(f"cannot read {path}: {exc.strerror}") from None
    if not data:
        raise LoadError(f"empty file: {path}")
    return data


def load_file(path, allowed_modules: Sequence[str] = (), records=None) -> LoadedGraph:
    """The graph in the pickle at ``path``; ``records``, if given, is what
    :func:`read_records` already read from it."""
    if records is None:
        records = read_records(read_file(path))
    fgraph = to_fgraph(load_records(records, allowed_modules))
    return LoadedGraph(fgraph, Path(path).name, graph_digest(fgraph))


def load_object(obj) -> LoadedGraph:
    from .naming import name_constants

    fgraph = to_fgraph(obj)
    name_constants(fgraph.variables)
    return LoadedGraph(fgraph, "<object>", graph_digest(fgraph))


def graph_digest(fgraph) -> str:
    """A sha256 of the graph itself: each node's Op, wiring and output types, the
    inputs' types and names, the constants' names and bytes, inner graphs included.  Pickles of
    one graph differ from run to run (timings, file paths, set orders); this does
    not.  Iterative, so deep graphs cost no recursion."""
    digest = hashlib.sha256()
    _digest_graph(digest, fgraph.inputs, fgraph.outputs)
    return digest.hexdigest()


def _digest_graph(digest, inputs, outputs, names: bool = True) -> None:
    from pytensor.graph.basic import Constant

    from .compat import io_toposort

    ids: dict = {}

    def ref(var) -> int:
        if var not in ids:
            ids[var] = len(ids)
            if isinstance(var, Constant):
                data = getattr(var, "data", None)
                # (named: the module names its array after the constant)
                digest.update(f"C{var.type}:{var.name if names else ''}".encode())
                digest.update(data.tobytes() if hasattr(data, "tobytes") else
                              repr(data).encode())
            else:
                digest.update(f"I{var.type}:{var.name if names else ''}".encode())
        return ids[var]

    for var in inputs:
        ref(var)
    for node in io_toposort(list(inputs), list(outputs)):
        wiring = [ref(var) for var in node.inputs]
        digest.update(repr((type(node.op).__qualname__, str(node.op), wiring,
                            [(str(o.type), o.name if names else None)
                             for o in node.outputs])).encode())
        for out in node.outputs:
            ids[out] = len(ids)
        # Scalar inner graphs (Composite) name their variables themselves (t0, t1, ...)
        # in an order of their own: only their structure counts.
        for op, own_names in ((node.op, names), (getattr(node.op, "scalar_op", None), False)):
            inner = (getattr(op, "inner_inputs", None), getattr(op, "inner_outputs", None))
            if inner[0] is not None and inner[1] is not None:
                _digest_graph(digest, inner[0], inner[1], own_names)
    digest.update(repr([ref(var) for var in outputs]).encode())


def _is_variable(x) -> bool:
    from pytensor.graph.basic import Variable

    return isinstance(x, Variable)


def _variables(seq, what: str) -> list:
    if _is_variable(seq):
        return [seq]
    if not isinstance(seq, (list, tuple)) or not all(_is_variable(v) for v in seq):
        raise LoadError(f"{what} must be PyTensor variables")
    return list(seq)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def to_fgraph(obj):
    """A ``FunctionGraph`` from any of the accepted forms (see docs/usage.md)."""
    from pytensor.graph.fg import FunctionGraph

    from .compat import function_class

    if isinstance(obj, FunctionGraph):
        fgraph = obj.clone()
    elif isinstance(obj, (function_class(), _PickledFunction)):
        fgraph = _from_maker(obj.maker)
    elif _is_variable(obj) or (
        isinstance(obj, (list, tuple)) and obj and all(_is_variable(v) for v in obj)
    ):
        fgraph = _from_pair(None, _variables(obj, "outputs"))
    elif isinstance(obj, (list, tuple)) and len(obj) == 2:
        fgraph = _from_pair(_variables(obj[0], "inputs"), _variables(obj[1], "outputs"))
    elif isinstance(obj, (list, tuple)) and not obj:
        raise GraphError("the graph has no outputs")
    else:
        raise LoadError(
            f"the pickle holds {_a(type(obj).__name__)}, not a graph: expected a "
            "FunctionGraph, a compiled PyTensor Function, a list of output variables "
            "or an (inputs, outputs) pair"
        )
    if not fgraph.outputs:
        raise GraphError("the graph has no outputs")
    return fgraph


def _from_maker(maker):
    """The graph a compiled ``Function`` runs (as its mode rewrote it).

    Inputs: the Function's own, then each shared variable it updates; outputs: its
    own, then those shared variables' new values.  Other shared variables are
    frozen at their current values, as in an ``(inputs, outputs)`` pair.
    """
    try:
        fgraph = maker.fgraph
        inputs, outputs = list(fgraph.inputs), list(fgraph.outputs)
        specs = list(maker.inputs)
    except (AttributeError, TypeError):
        raise LoadError("the pickled Function holds no graph") from None
    if len(specs) == len(inputs):
        inputs = [var for var, spec in zip(inputs, specs, strict=True)
                  if not getattr(spec, "implicit", False)
                  or getattr(spec, "update", None) is not None]
    return _from_pair(_variables(inputs, "a Function's inputs"),
                      _variables(outputs, "a Function's outputs"))


def _function_graph(inputs, outputs):
    from pytensor.graph.basic import Constant
    from pytensor.graph.fg import FunctionGraph

    if not outputs:
        raise GraphError("the graph has no outputs")
    for var in inputs:
        if isinstance(var, Constant):
            raise GraphError(f"input {var} is a constant")
        if sum(v is var for v in inputs) > 1:
            raise GraphError(f"input {var} is listed twice")
    try:
        return FunctionGraph(list(inputs), list(outputs), clone=True)
    except Exception as exc:  # noqa: BLE001 - PyTensor's own graph checks
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GraphError(f"not a valid graph: {detail}") from None


def _from_pair(inputs, outputs):
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant
    from pytensor.graph.replace import clone_replace

    from .compat import graph_inputs

    if not outputs:
        raise GraphError("the graph has no outputs")
    # An input computed from others cuts the graph there: its ancestors are not needed.
    free = [v for v in graph_inputs(outputs, blockers=inputs)
            if not isinstance(v, Constant)]
    if inputs is None:
        inputs = [v for v in free if not isinstance(v, SharedVariable)]
    missing = [v for v in free
               if not any(v is i for i in inputs) and not isinstance(v, SharedVariable)]
    if missing:
        raise GraphError(
            f"the outputs depend on {missing[0]!s} which is not among the inputs"
        )
    # Shared variables that are not inputs are frozen at their current value.
    shared = [v for v in free
              if isinstance(v, SharedVariable) and not any(v is i for i in inputs)]
    if shared:
        replace = {v: v.type.make_constant(v.get_value(), name=v.name) for v in shared}
        outputs = clone_replace(outputs, replace=replace)
    return _function_graph(inputs, outputs)


def _strip_traces(fgraph) -> None:
    """Drop the creation stack traces PyTensor keeps in each variable's tag: they
    are most of a pickle's size and hold the builder's file paths."""
    for var in fgraph.variables:
        if hasattr(var.tag, "trace"):
            del var.tag.trace


def dump(inputs, outputs, path) -> None:
    """Write ``(inputs, outputs)`` as a graph pickle that ``transpile`` reads.

    ``inputs`` is a list of PyTensor variables (the generated entry's parameters, in
    order), ``outputs`` a variable or a list of them.  Shared variables that are not
    among the inputs are frozen at their current values.
    """
    from .naming import name_constants

    inputs = _variables(inputs, "inputs")
    outputs = _variables(outputs, "outputs")
    fgraph = _from_pair(inputs, outputs)  # validates before anything is written
    name_constants(fgraph.variables)
    _strip_traces(fgraph)
    data = _dumps_deep(fgraph)
    from .output import write_atomic

    write_atomic(Path(path), data)


# What PyTensor caches on Ops that cannot be pickled (an OpFromGraph's gradient
# Ops, built on demand as closures) or need not be: dump leaves them out.
_UNPICKLED_CACHES = ("_lop_op_cache", "_rop_op_cache", "_fn", "fn")


def _dumps_deep(obj) -> bytes:
    """``pickle.dumps`` with room for deep graphs (pickle recurses per level), and
    without the Op caches that would make an OpFromGraph unpicklable."""
    import copyreg
    import io
    import pickle
    import sys

    from pytensor.graph.op import Op

    class GraphPickler(pickle.Pickler):
        def reducer_override(self, value):
            if isinstance(value, Op) and any(k in vars(value) for k in _UNPICKLED_CACHES):
                state = value.__getstate__() if hasattr(value, "__getstate__") \
                    else vars(value)
                state = {k: v for k, v in dict(state).items() if k not in _UNPICKLED_CACHES}
                return copyreg.__newobj__, (type(value),), state
            return NotImplemented

    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 20_000))
    try:
        buffer = io.BytesIO()
        GraphPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
        return buffer.getvalue()
    finally:
        sys.setrecursionlimit(old_limit)
