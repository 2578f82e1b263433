"""Rewrite: apply the graph rewrites PyTensor's own Numba mode applies.

The query is Numba mode's (``fast_run`` + ``numba``) minus every rewrite tagged
``inplace``: in-place Ops are how PyTensor reuses buffers, and in a vendored module
they would write into the caller's arrays.  (The lowerings never honour an Op's
``destroy_map`` either, so a graph that already holds in-place Ops, as a compiled
``Function``'s does, is still lowered without mutation.)
"""

import contextlib
import importlib
import io
import logging
import warnings
from collections.abc import MutableSet

import numpy as np

from .errors import TranspileError
from .logsumexp import collapse_logsumexp, pair_with_softmax
from .plan import canonical_scan_reads
from .seeds import direct_seeds
from .syntax import one_line

INCLUDE = ("fast_run", "numba")
# PyTensor 3.0's psd_solve_to_chol_solve turns a positive definite solve into
# triangular solves with cholesky(A), which reads A's lower triangle whatever the
# solve's `lower` says (where only the upper triangle holds the matrix, that solves
# another system); the solve's own lowering is that Cholesky solve already.
EXCLUDE = ("inplace", "local_subtensor_merge", "psd_solve_to_chol_solve")
# Scan's memory-saving rewrites shrink a state's buffer to a circular one of a few
# entries when only the last values are used.  A generated loop then needs a modulo
# per access and the outer graph a page of index arithmetic.  The plan (plan.py)
# makes the same saving its own way: a state read only at its last entries is
# carried in a ring of ``lookback + 1`` rows with rotating row names, and outputs
# nothing reads are removed.  (PyTensor 3 splits the rewrite: its trace-shrinking
# parts are skipped, the others, which drop unused outputs and steps, are kept.)
SKIPPED = frozenset({"scan_save_mem_prealloc", "scan_save_mem_no_prealloc",  # 2.x
                     "scan_reduce_trace_prealloc", "scan_reduce_trace_no_prealloc"})  # 3.x


# Modules whose rewrites iterate over a ``set()`` of variables.  A variable hashes by
# its address, so that order changes from process to process, and with it the graph
# that comes out: ``broadcast_shape_iter`` picks the first of a set of equal run-time
# lengths to keep and asserts the others against it (``X_0 == y_0`` in one run,
# ``y_0 == X_0`` in the next).  While rewriting, ``set()`` in these modules makes an
# insertion-ordered set instead.
ORDERED_SET_MODULES = ("pytensor.tensor.extra_ops",)


class InsertionOrderedSet(MutableSet):
    """A ``set`` that iterates in insertion order (a dict's keys underneath)."""

    __slots__ = ("_items",)
    __hash__ = None

    def __init__(self, iterable=()):
        self._items = dict.fromkeys(iterable)

    @classmethod
    def _from_iterable(cls, iterable):
        return cls(iterable)

    def __contains__(self, item):
        return item in self._items

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def __repr__(self):
        return f"{type(self).__name__}({list(self._items)!r})"

    def add(self, item):
        self._items[item] = None

    def discard(self, item):
        self._items.pop(item, None)

    def copy(self):
        return type(self)(self._items)

    def update(self, *others):
        for other in others:
            self._items.update(dict.fromkeys(other))

    def union(self, *others):
        result = self.copy()
        result.update(*others)
        return result

    def intersection(self, *others):
        keep = [set(other) for other in others]
        return type(self)(x for x in self if all(x in k for k in keep))

    def difference(self, *others):
        drop = set().union(*others)
        return type(self)(x for x in self if x not in drop)

    def difference_update(self, *others):
        for other in others:
            for item in other:
                self.discard(item)

    def intersection_update(self, *others):
        self._items = self.intersection(*others)._items

    def symmetric_difference(self, other):
        other = type(self)(other)
        return type(self)([*(x for x in self if x not in other),
                           *(x for x in other if x not in self)])

    def symmetric_difference_update(self, other):
        self._items = self.symmetric_difference(other)._items

    def __and__(self, other):  # in this set's order, whichever side it is on
        return self.intersection(other)

    __rand__ = __and__

    def issubset(self, other):
        return all(x in other for x in self)

    def issuperset(self, other):
        return all(x in self for x in other)


@contextlib.contextmanager
def ordered_sets(module_names=ORDERED_SET_MODULES):
    """Within the block, ``set()`` in ``module_names`` builds an InsertionOrderedSet."""
    patched = []
    try:
        for name in module_names:
            module = importlib.import_module(name)
            patched.append((module, module.__dict__.get("set")))
            module.set = InsertionOrderedSet
        yield
    finally:
        for module, previous in reversed(patched):
            if previous is None:
                del module.set
            else:
                module.set = previous


def query():
    from pytensor.graph.rewriting.db import RewriteDatabaseQuery

    return RewriteDatabaseQuery(include=list(INCLUDE), exclude=list(EXCLUDE))


# Constant folding runs an Op's Python implementation on constant inputs at transpile
# time.  A graph file could ask it for gigabytes (``alloc(0, 10**5, 10**5)``,
# ``arange(3e8)``) or for long computations on large inputs, so a node is folded only
# when every input and every output has at most this many elements; anything larger
# is computed by the generated module at run time instead (docs/security.md).
MAX_FOLDED_ELEMENTS = 1 << 20

_log = logging.getLogger("transpile")


def _size(shape) -> int | None:
    total = 1
    for n in shape:
        if n is None:
            return None
        total *= int(n)
    return total


def _inferred_sizes(fgraph, node) -> list[int | None]:
    """The sizes of a node's outputs, from its Op's shape rule applied to the
    shapes of its (constant) inputs; None where that is not a known number."""
    import pytensor.tensor as pt
    from pytensor.tensor.basic import get_underlying_scalar_constant_value

    shapes = [tuple(pt.constant(n, dtype="int64") for n in np.shape(inp.data))
              if hasattr(inp.type, "ndim") else None for inp in node.inputs]
    sizes = []
    for out_shape in node.op.infer_shape(fgraph, node, shapes):
        try:
            sizes.append(_size(int(get_underlying_scalar_constant_value(n)) for n in out_shape))
        except Exception:  # noqa: BLE001 - not a number known without running the node
            sizes.append(None)
    return sizes


def fold_is_small(fgraph, node) -> bool:
    """Whether constant-folding ``node`` stays within MAX_FOLDED_ELEMENTS."""
    limit = MAX_FOLDED_ELEMENTS
    if any(np.size(getattr(inp, "data", 0)) > limit for inp in node.inputs):
        return False
    static = [_size(getattr(out.type, "shape", ())) for out in node.outputs]
    if None in static:
        try:
            inferred = _inferred_sizes(fgraph, node)
        except Exception:  # noqa: BLE001 - no shape rule: do not fold
            return False
        static = [s if s is not None else i for s, i in zip(static, inferred, strict=True)]
    return all(size is not None and size <= limit for size in static)


def _name_folded(node, folded) -> None:
    """A constant folded from one named array constant is named after it:
    ``log(sigma)`` is ``log_sigma``, ``sigma[None]`` stays ``sigma``."""
    from pytensor.tensor.elemwise import DimShuffle, Elemwise

    named = [inp.name for inp in node.inputs
             if inp.name and getattr(inp.type, "ndim", 0) >= 1]
    if len(named) != 1 or len(folded) != 1 or folded[0].name is not None:
        return
    if isinstance(node.op, DimShuffle):
        folded[0].name = named[0]
    elif isinstance(node.op, Elemwise):
        scalar = node.op.scalar_op
        if getattr(scalar, "fgraph", None) is None:  # not a Composite: one operation
            operation = getattr(scalar, "name", None) or type(scalar).__name__.lower()
            folded[0].name = f"{operation}_{named[0]}"


@contextlib.contextmanager
def bounded_constant_folding():
    """Within the block, PyTensor's constant folding skips nodes ``fold_is_small``
    refuses."""
    from pytensor.tensor.rewriting.basic import unconditional_constant_folding as folding

    original = folding.fn

    def bounded(fgraph, node):
        if not all(hasattr(inp, "data") for inp in node.inputs):
            return False
        if not fold_is_small(fgraph, node):
            return False
        folded = original(fgraph, node)
        if folded:
            _name_folded(node, folded)
        return folded

    folding.fn = bounded
    try:
        yield
    finally:
        folding.fn = original


class _FailureNotes(logging.Handler):
    """Collects PyTensor's "Rewrite failure" reports (a rewrite that raised is
    skipped, as PyTensor itself does) as one line each, without their tracebacks."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.notes: list[list] = []  # [rewriter, [nodes]]

    def emit(self, record) -> None:
        text = record.getMessage()
        if text.startswith("Rewrite failure due to:"):
            self.notes.append([text.split(":", 1)[1].strip(), []])
        elif text.startswith("node:") and self.notes:
            self.notes[-1][1].append(text.split(":", 1)[1].strip())

    def lines(self) -> list[str]:
        """One line per rewrite that failed, naming a node it failed on."""
        nodes: dict[str, list[str]] = {}
        for rewriter, where in self.notes:
            nodes.setdefault(rewriter, []).extend(where)
        lines = []
        for rewriter, where in nodes.items():
            first = f" on {where[0]}" if where else ""
            more = f" and {len(where) - 1} other node(s)" if len(where) > 1 else ""
            lines.append(" ".join(f"{rewriter}{first}{more}".split())[:300])
        return lines


@contextlib.contextmanager
def failures_as_notes():
    logger = logging.getLogger("pytensor.graph.rewriting.basic")
    handler = _FailureNotes()
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate, logger.level = False, logging.ERROR
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = saved
        for line in handler.lines():
            _log.warning("a PyTensor rewrite failed and was skipped: %s", line)


def rewrite(fgraph):
    """Rewrite ``fgraph`` in place and return it."""
    import pytensor
    from pytensor.compile.mode import optdb
    from pytensor.graph.rewriting.basic import SequentialGraphRewriter

    rewriters = [r for r in optdb.query(query()).data
                 if getattr(r, "name", None) not in SKIPPED]
    # The same graph must give the same module on every machine: without cxx="",
    # whether a C++ compiler is configured changes which fusions PyTensor makes (and
    # constant folding could compile C). A rewrite that raises is skipped with a note
    # whatever the user's on_opt_error says ("raise" would dump its traceback); what
    # PyTensor prints of it itself (3.0: "<<!! BUG IN FGRAPH.REPLACE ...>>" lines on
    # stderr) is dropped, the note says it.
    with (warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()),
          pytensor.config.change_flags(cxx="", on_opt_error="warn"),
          ordered_sets(), bounded_constant_folding(), failures_as_notes()):
        warnings.simplefilter("ignore")
        canonical_scan_reads(fgraph)
        collapse_logsumexp(fgraph)
        try:
            SequentialGraphRewriter(*rewriters).rewrite(fgraph)
        except (MemoryError, RecursionError, AssertionError) as exc:
            raise TranspileError(f"PyTensor's rewrites failed on this graph: "
                                 f"{type(exc).__name__}: {one_line(str(exc), 200)}; "
                                 "try --no-rewrite") from None
        lift_late_dimshuffles(fgraph)
        scalar_unit_arrays(fgraph)
        checks_before_elementwise(fgraph)
        direct_seeds(fgraph)
    unwrap_random_variables(fgraph)
    pair_with_softmax(fgraph)
    return fgraph


def lift_late_dimshuffles(fgraph) -> None:
    """PyTensor's ``local_dimshuffle_lift`` once more, after the BLAS rewrites: those
    run last and spell an outer product ``a[:, None] * b[None, :]`` (or a matrix-
    vector product) through new ``ExpandDims``/``Squeeze`` nodes around an
    elementwise node, which no later pass lifts; ``Squeeze(ExpandDims(a) *
    ExpandDims(b))`` is ``a * b``."""
    from pytensor.graph.rewriting.basic import WalkingGraphRewriter
    from pytensor.tensor.rewriting.elemwise import local_dimshuffle_lift

    WalkingGraphRewriter(local_dimshuffle_lift, order="out_to_in").rewrite(fgraph)


def scalar_unit_arrays(fgraph) -> None:
    """Elementwise work on arrays of one element done on scalars, and a ``Join`` of
    one-element vectors made one ``MakeVector``: PyMC's gradient joins one
    ``(1,)``-shaped ``Composite`` per value variable, which would otherwise be four
    one-element arrays, each filled by a loop, then ``np.concatenate``d, where a
    person writes ``np.array([d_alpha, d_beta, d_sigma])`` (and where other parts
    are joined too, ``np.concatenate((np.array([d_mu, d_tau]), d_theta))``).  An ``Elemwise`` whose
    inputs and outputs all have static length 1 in every dimension runs on their
    scalars, and its results are given their dimensions back (``ExpandDims``, which
    a consumer that broadcasts reads as the scalar itself); an entry read from the
    joined vector is then the scalar (PyTensor's ``local_subtensor_make_vector``).
    Runs after ``lift_late_dimshuffles``, which would move the ``ExpandDims`` back."""
    from pytensor.graph.rewriting.basic import WalkingGraphRewriter
    from pytensor.tensor.basic import Join
    from pytensor.tensor.elemwise import Elemwise
    from pytensor.tensor.rewriting.subtensor_lift import local_subtensor_make_vector

    joined = False
    for node in fgraph.toposort():
        if node not in fgraph.apply_nodes:
            continue
        if isinstance(node.op, Elemwise) and _all_unit(node.inputs + node.outputs):
            results = node.op(*map(_unit_scalar, node.inputs), return_list=True)
            new = [r.dimshuffle(("x",) * o.type.ndim) for r, o in zip(
                results, node.outputs, strict=True)]
        elif isinstance(node.op, Join) and node.outputs[0].type.ndim == 1:
            parts = _joined_parts(node)
            if parts is None:
                continue
            axis = [] if hasattr(node.op, "axis") else node.inputs[:1]
            new = parts if len(parts) == 1 else [node.op(*axis, *parts)]
            joined = True
        else:
            continue
        for old_var, new_var in zip(node.outputs, new, strict=True):
            new_var.name = new_var.name or old_var.name  # ``dlogp`` stays ``dlogp``
        fgraph.replace_all(list(zip(node.outputs, new, strict=True)),
                           reason="scalar_unit_arrays")
    if joined:
        WalkingGraphRewriter(local_subtensor_make_vector).rewrite(fgraph)


def checks_before_elementwise(fgraph) -> None:
    """``check(f(x, sigma), sigma > 0)`` becomes ``f(x, check(sigma, sigma > 0))``
    where the conditions do not depend on the elementwise node's results: PyMC wraps
    each term of a log-density in its parameter checks, and a check between the
    elementwise terms and what reads them (their sum, the gradient's products)
    would keep the terms as an array, filled by one loop and read by another,
    where a person checks the parameter first and accumulates the sum in the loop.
    The check now guards one of the node's inputs (a 0-d one, or the scalar an
    ``ExpandDims`` broadcasts, if there is one), and every result of the node is
    read after it: the same conditions, raised before the elementwise work, as
    PyTensor raises them.  Not in a graph with an ``IfElse``, whose branches raise
    only the checks of the branch taken."""
    from pytensor.graph.basic import ancestors
    from pytensor.ifelse import IfElse
    from pytensor.raise_op import CheckAndRaise
    from pytensor.tensor.elemwise import Elemwise

    if any(isinstance(node.op, IfElse) for node in fgraph.apply_nodes):
        return
    for node in fgraph.toposort():
        if not isinstance(node.op, CheckAndRaise) or node not in fgraph.apply_nodes:
            continue
        value, *conditions = node.inputs
        producer = value.owner
        if producer is None or not isinstance(producer.op, Elemwise) \
                or set(producer.outputs) & set(ancestors(conditions)):
            continue
        inputs = _one_guarded(producer.inputs,
                              lambda var, op=node.op, conds=conditions: op(var, *conds))
        new = producer.op(*inputs, return_list=True)
        if any(a.type != b.type for a, b in zip(new, producer.outputs, strict=True)):
            continue
        (checked,) = node.outputs
        i = producer.outputs.index(value)
        pairs = [(checked, new[i])] + [  # and what else reads the node's results
            (old, var) for old, var in zip(producer.outputs, new, strict=True)
            if any(client is not node for client, _ in fgraph.clients.get(old, ()))]
        for old, var in pairs:
            var.name = var.name or old.name
        new[i].name = checked.name or value.name
        fgraph.replace_all(pairs, reason="checks_before_elementwise")


def _one_guarded(inputs, check) -> list:
    """``inputs`` of an elementwise node with ``check`` applied to one of them: a 0-d
    input, or the scalar under an ``ExpandDims`` of one (a consumer that broadcasts
    reads it as the scalar itself), else the first input."""
    from pytensor.tensor.elemwise import DimShuffle

    inputs = list(inputs)
    for k, var in enumerate(inputs):
        owner = var.owner
        if var.type.ndim == 0:
            inputs[k] = check(var)
            return inputs
        if owner is not None and isinstance(owner.op, DimShuffle) \
                and owner.inputs[0].type.ndim == 0:
            inputs[k] = owner.op(check(owner.inputs[0]))
            return inputs
    inputs[0] = check(inputs[0])
    return inputs


def _all_unit(variables) -> bool:
    """Every variable an array (``ndim > 0``) of static length 1 in every dimension."""
    return all(getattr(v.type, "ndim", 0) > 0 and all(s == 1 for s in v.type.shape)
               for v in variables)


def _unit_scalar(var):
    """The 0-d value of a one-element array: what an ``ExpandDims`` expanded, a
    constant's element, else the array with its dimensions dropped."""
    from pytensor.graph.basic import Constant
    from pytensor.tensor import constant
    from pytensor.tensor.elemwise import DimShuffle

    owner = var.owner
    if owner is not None and isinstance(owner.op, DimShuffle) and (
            owner.inputs[0].type.ndim == 0):
        return owner.inputs[0]
    if isinstance(var, Constant):
        return constant(np.asarray(var.data).reshape(()), dtype=var.type.dtype)
    return var.dimshuffle(())


def _joined_parts(node):
    """The parts of a 1-d ``Join`` with each run of one-element parts (static length
    1, or ``MakeVector``) made one ``MakeVector`` of their scalars (``[d_mu, d_tau]``
    then ``d_theta``), or None when that changes nothing."""
    from pytensor.tensor.basic import MakeVector

    dtype = node.outputs[0].type.dtype
    tensors = node.inputs if hasattr(node.op, "axis") else node.inputs[1:]
    parts, run, changed = [], [], False

    def close_run():
        if run:
            parts.append(MakeVector(dtype)(*(i if i.type.dtype == dtype else i.astype(dtype)
                                             for i in run)))
            run.clear()

    for t in tensors:
        if t.owner is not None and isinstance(t.owner.op, MakeVector):
            changed |= bool(run)
            run.extend(t.owner.inputs)
        elif _all_unit([t]):
            changed = True
            run.append(_unit_scalar(t))
        else:
            close_run()
            parts.append(t)
    close_run()
    return parts if changed else None


def unwrap_random_variables(fgraph) -> None:
    """Put each random variable back in place of the ``RandomVariableWithCoreShape``
    that Numba mode's last rewrites wrap it in.  The wrapper's extra input, the
    draws' core shape, is often computed from a parameter PyTensor has not
    simplified (the whole ``a + 1`` just for its length); the lowering reads the
    core shape off the parameters instead, so that work disappears.  Two wrappers of
    one draw that differ only in how they spell its core shape (a rewrite cloned
    the draw) become one node again."""
    from pytensor.graph.rewriting.basic import MergeOptimizer
    from pytensor.tensor.random.op import RandomVariableWithCoreShape

    unwrapped = False
    for node in fgraph.toposort():
        if isinstance(node.op, RandomVariableWithCoreShape):
            [inner] = node.op.fgraph.apply_nodes
            bare = inner.clone_with_new_inputs(node.inputs[1:])
            fgraph.replace_all(list(zip(node.outputs, bare.outputs, strict=True)),
                               reason="unwrap_random_variables")
            unwrapped = True
    if unwrapped:
        MergeOptimizer().rewrite(fgraph)


def rewrite_inner(inputs, outputs):
    """Rewrite an inner graph (a Scan body): returns new ``(inputs, outputs)``."""
    from pytensor.graph.fg import FunctionGraph

    fgraph = FunctionGraph(list(inputs), list(outputs), clone=True)
    rewrite(fgraph)
    return fgraph.inputs, fgraph.outputs
