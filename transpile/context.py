"""The state a lowering works against: the module being built and one function in it.

``ModuleBuilder`` owns what is module-wide: the namespace, the helper functions (each
emitted once), module-level constant arrays and the ``@numba.njit`` decorator.
``FunctionBuilder`` owns one function: its local namespace, the statements emitted so
far (a stack of blocks, so loop bodies nest), and the expression bound to each graph
variable.
"""

import contextlib
import hashlib

import libcst as cst
import numpy as np

from . import syntax as sx
from .data import is_data
from .dtypes import typed_literal
from .naming import Namespace
from .plan import Plan
from .printer import expression_code
from .runtime import RuntimeLibrary
from .walk import bound_names, read_names

LOOP_INDICES = ("i", "j", "k", "l")


# ``parallel=True`` would also let Numba turn the function's whole-array expressions
# and NumPy calls into parallel loops of its own (with size checks of its own, which
# fail on some broadcasts, and threads started for tiny arrays inside a Scan's
# loop); the module asks for its ``numba.prange`` loops only.
PRANGE_ONLY = ('{"prange": True, "comprehension": False, "reduction": False, '
               '"inplace_binop": False, "setitem": False, "numpy": False, '
               '"stencil": False, "fusion": False}')


class ModuleBuilder:
    def __init__(self, entry_name: str = "kernel", cache: bool = True, fastmath: bool = False,
                 parallel: bool = False):
        self.entry_name = entry_name
        self.cache = cache
        self.fastmath = fastmath
        self.parallel = parallel  # large loops over numba.prange (lower/parallel.py)
        self.runtime = RuntimeLibrary()
        # Helper names are reserved up front: a graph variable never takes one.
        self.namespace = Namespace(reserved={entry_name, *self.runtime.names()})
        self.helpers: dict[str, cst.FunctionDef] = {}
        self.bindings: dict[str, cst.CSTNode] = {}  # runtime module-level statements
        self.constants: list[cst.SimpleStatementLine] = []
        self.classes: dict[type, cst.ClassDef] = {}
        self._constant_names: dict[tuple, str] = {}
        self.data: dict[str, np.ndarray] = {}  # arrays kept out of the source (data.py)
        self._data_names: dict[tuple, str] = {}
        self.entry_graph = None  # the graph of the entry being lowered (progress)
        self.rewrite_inner_graphs = True  # rewrite Scan bodies as the outer graph
        self.outline = True  # repeated code in the entry as one helper (outline.py)
        # parameter -> the bit generator state of a shared generator it stands for
        self.generator_states: dict[str, dict] = {}
        self.plan = Plan()  # decisions about the whole graph (plan.py)

    def decorator(self, parallel: bool = False) -> cst.Decorator:
        """``@numba.njit(...)``; ``parallel``: the function has ``numba.prange`` loops."""
        kwargs = {}
        if self.cache:
            kwargs["cache"] = sx.literal(True)
        kwargs["error_model"] = sx.string("numpy")
        if self.fastmath:
            kwargs["fastmath"] = sx.literal(True)
        if parallel:
            kwargs["parallel"] = cst.parse_expression(PRANGE_ONLY)
        return cst.Decorator(sx.call("numba.njit", **kwargs))

    def runtime_helper(self, name: str) -> cst.Name:
        """Use a hand-written helper from ``transpile.runtime`` (and its dependencies)."""
        for dep in self.runtime.closure(name):
            if self.runtime.is_binding(dep):
                self.bindings.setdefault(dep, self.runtime.binding(dep))
            elif dep not in self.helpers:
                self.helpers[dep] = self.runtime.function(dep).with_changes(
                    decorators=[self.decorator()]
                )
        return sx.name(name)

    def lapack_routines(self) -> list[str]:
        """The LAPACK routines the module binds (``runtime/lapack.py``'s bindings
        named after them, ``dgees``), for its docstring."""
        return [name for name in self.runtime.in_source_order(self.bindings)
                if self.runtime.module_of(name) == "lapack"
                and not isinstance(self.bindings[name], cst.FunctionDef)]

    def binding_block(self) -> list[cst.CSTNode]:
        """The module-level statements of the bindings used, in source order."""
        return [self.bindings[name] for name in self.runtime.in_source_order(self.bindings)]

    def add_helper(self, hint: str, build) -> cst.Name:
        """Add a generated helper: ``build(name) -> FunctionDef``."""
        helper_name = self.namespace.create(hint, "helper")
        self.helpers[helper_name] = None  # keep definition order = first use
        self.helpers[helper_name] = build(helper_name)
        return sx.name(helper_name)

    def exception_class(self, exc_type: type) -> str:
        """The name to raise ``exc_type`` by: a builtin's own, else a module-level
        class of the same name deriving from its nearest builtin base."""
        import builtins

        if getattr(builtins, exc_type.__name__, None) is exc_type:
            return exc_type.__name__
        if exc_type not in self.classes:
            base = next(c for c in exc_type.__mro__
                        if getattr(builtins, c.__name__, None) is c)
            class_name = self.namespace.create(exc_type.__name__, "Error")
            doc = f"Raised where {exc_type.__module__}.{exc_type.__qualname__} would be."
            self.classes[exc_type] = cst.ClassDef(
                name=cst.Name(class_name),
                bases=[cst.Arg(cst.Name(base.__name__))],
                body=sx.block([sx.expr_stmt(sx.string(doc))]),
            )
        return self.classes[exc_type].name.value

    def data_key(self, value: np.ndarray, hint: str | None, create) -> str:
        """The name under which ``value`` is kept in the module's data (one per
        distinct array): ``x_data`` for a constant named ``x``, made by ``create`` (the
        first function to take it names it, so its parameter has the same name)."""
        key = (value.dtype.str, value.shape, hashlib.sha256(value.tobytes()).hexdigest())
        if key not in self._data_names:
            name = self.unique_data_key(create(f"{hint}_data" if hint else "data", "data"))
            self._data_names[key] = name
            self.data[name] = value
        return self._data_names[key]

    def unique_data_key(self, name: str) -> str:
        """``name``, or ``name_2``, ... : a key not yet in the module's DATA."""
        key, n = name, 1
        while key in self.data:
            n += 1
            key = f"{name}_{n}"
        return key

    def add_data(self, key: str, value: np.ndarray) -> None:
        """Record ``value`` as the module's data ``key`` (a model's observed values),
        whatever its size: small ones are written as literals (data.py)."""
        value = np.asarray(value)
        known = self.data.get(key)
        if known is not None and not (known.shape == value.shape
                                      and np.array_equal(known, value, equal_nan=True)):
            raise ValueError(f"two different arrays for the module's data {key!r}")
        self.data[key] = value

    def data_owner(self, key: str, fn) -> bool:
        """Whether ``fn`` named data array ``key`` (it then holds that name)."""
        return key in fn.ns._taken

    def constant_array(self, value: np.ndarray, hint: str | None) -> cst.Name:
        key = (value.dtype.str, value.shape, hashlib.sha256(value.tobytes()).hexdigest())
        if key not in self._constant_names:
            const_name = self.namespace.create((hint or "const").upper(), "CONST")
            self._constant_names[key] = const_name
            self.constants.append(sx.assign(const_name, array_literal(value)))
        return sx.name(self._constant_names[key])


def array_literal(value: np.ndarray) -> sx.Expr:
    """``np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float64)``."""
    from .dtypes import dtype_attr

    def nested(v):
        if v.ndim == 0:
            return typed_literal(v, "float64" if v.dtype.kind == "f" else
                                 "int64" if v.dtype.kind in "iu" else v.dtype.name)
        return sx.list_(nested(row) for row in v)

    if value.size == 0:
        return sx.call("np.empty", sx.tuple_(sx.literal(s) for s in value.shape),
                       dtype=dtype_attr(value.dtype.name))
    return sx.call("np.array", nested(value), dtype=dtype_attr(value.dtype.name))


class _OutputClient:
    op = None


_Output = _OutputClient()


class _Loop:
    """A loop being lowered: where its body starts on the block stack, the names
    bound before it that it assigns again, and the statements hoisted before it."""

    def __init__(self, depth: int, rebound: set, preheader: list):
        self.depth, self.rebound, self.preheader = depth, rebound, preheader
        self.checks: list = []  # (test, exception, message) the same in every step


STEP_INDICES = ("t", "t1", "t2", "t3")  # a Scan step's index, by nesting depth


class FunctionBuilder:
    """Statements and variable bindings of one generated function."""

    def __init__(self, module: ModuleBuilder, namespace: Namespace | None = None):
        self.module = module
        self.ns = namespace or module.namespace.child()
        for index in (*LOOP_INDICES, *STEP_INDICES):
            self.ns.reserve(index)
        self.values: dict = {}
        self.view_of: dict = {}  # variable -> the input/constant whose memory it may share
        self.contiguous: set = set()  # variables known to be fresh C-contiguous arrays
        self.scratch: set = set()  # arrays allocated once before a loop (allocate)
        # run-time checks already emitted: their code, or a key of their condition
        self.checked: set = set()
        self.broadcast_scalars: dict = {}  # all-broadcastable variable -> its scalar
        self.broadcast_constants: dict = {}  # ... -> the 0-d constant it broadcasts
        self.branches: dict = {}  # IfElse node -> the nodes of each branch (lower/ifelse.py)
        # variable -> (the array entry its node should write into, a name for it):
        # a Scan buffer's ``h[t + 1]``; and the variables whose node did so
        self.destinations: dict = {}
        self.written: set = set()
        # Elemwise result -> the reduction nodes accumulated in the Elemwise's loop
        # (the result itself is stored only if something else reads it)
        self.fused: dict = {}
        # a loop member's result -> its value in the loop body, for later members
        self.loop_values: dict = {}
        self._loops: list[_Loop] = []  # the Scan loops being lowered, innermost last
        # variable -> its lengths as expressions that hold in every step of a loop
        # (``buf.shape[1]`` for ``buf[t]``): allocations sized by them can be hoisted
        self.dims: dict = {}
        # a view ``root[index]`` of a plain name, index = COLON, NEWAXIS and integer
        # expressions, one per dimension of root: a view of it is written against
        # root (index_view), so ``xs[:, :, None][t][:, 0]`` reads ``xs[t]``
        self.reindexed: dict = {}
        # whether the scalar code being lowered does int64 arithmetic wrapping around
        # on overflow (lower/scalar.py, int64_wrapping): it reads data, not lengths
        self.wrapping = False
        self.graph = None  # the FunctionGraph being lowered (for clients)
        self.depth = 0  # how many inner graphs (Scan or OpFromGraph bodies) deep
        # (parameter, data key) of each data array this function takes (data.py)
        self.data_params: list[tuple[str, str]] = []
        self._blocks: list[list[cst.BaseStatement]] = [[]]
        self._active_indices: list[str] = []

    # ---- statements ----------------------------------------------------------
    @property
    def body(self) -> list[cst.BaseStatement]:
        return self._blocks[0]

    def emit(self, *stmts: cst.BaseStatement) -> None:
        self._blocks[-1].extend(stmts)

    @contextlib.contextmanager
    def block(self):
        """Collect the statements emitted inside ``with`` into a new list."""
        stmts: list[cst.BaseStatement] = []
        self._blocks.append(stmts)
        try:
            yield stmts
        finally:
            self._blocks.pop()

    @contextlib.contextmanager
    def indices(self, n: int, preferred=LOOP_INDICES):
        """``n`` loop index names not used by any enclosing loop."""
        names: list[str] = []
        pool = [*preferred, *(f"i{d}" for d in range(len(LOOP_INDICES), 64))]
        for candidate in pool:
            if len(names) == n:
                break
            if candidate not in self._active_indices:
                if candidate not in preferred and candidate not in ("t",):
                    self.ns.reserve(candidate)
                names.append(candidate)
        self._active_indices.extend(names)
        try:
            yield names
        finally:
            del self._active_indices[len(self._active_indices) - n:]

    def clients(self, var) -> list:
        """The ``(node, input index)`` pairs consuming ``var`` (outputs included, as
        ``Output`` nodes)."""
        if self.graph is None:
            return [(_Output, -1)]
        return [(c, i) if hasattr(c, "op") else (_Output, i)
                for c, i in self.graph.clients.get(var, ())]

    @staticmethod
    def code(node) -> str:
        """The source text of an expression (for comparing two expressions)."""
        return expression_code(node)

    # ---- names and values ----------------------------------------------------
    def fresh(self, hint: str | None, fallback: str = "tmp") -> str:
        return self.ns.create(hint, fallback)

    def hint_for(self, var, fallback: str) -> str:
        return var.name if var.name else fallback

    def name_base(self, var) -> str | None:
        """What to name a result after: ``var``'s name, else that of its local."""
        if var.name:
            return var.name
        value = self.values.get(var)
        return value.value if isinstance(value, cst.Name) else None

    def hint_after(self, var, suffix: str) -> str:
        """``<var's name>_<suffix>`` (``x_taken``), or ``suffix`` alone."""
        base = self.name_base(var)
        return f"{base}_{suffix}" if base else suffix

    def expr(self, var) -> sx.Expr:
        """The expression that holds ``var``'s value in this function."""
        if var in self.values:
            return self.values[var]
        from pytensor.graph.basic import Constant

        if isinstance(var, Constant):
            return self.constant(var)
        raise KeyError(f"no value for {var} (lowered out of order?)")

    def constant(self, var) -> sx.Expr:
        from pytensor.graph.type import Type

        data = var.data
        dtype = getattr(var.type, "dtype", None)
        if data is None:
            return sx.name("None")
        if dtype is None:
            if isinstance(var.type, Type) and type(var.type).__name__ == "SliceType":
                return sx.call("slice", *(sx.name("None") if p is None else sx.literal(p)
                                          for p in (data.start, data.stop, data.step)))
            raise TypeError(f"cannot spell constant {var} of type {var.type}")
        value = np.asarray(data)
        if value.ndim == 0:
            return typed_literal(value, dtype)
        self.view_of[var] = var
        if is_data(value):
            return self.data_argument(value.astype(dtype), var.name)
        return self.module.constant_array(value.astype(dtype), var.name or "const")

    def data_argument(self, value: np.ndarray, hint: str | None) -> cst.Name:
        """The parameter through which this function takes data array ``value``."""
        key = self.module.data_key(value, hint, self.fresh)
        for param, known in self.data_params:
            if known == key:
                return sx.name(param)
        param = key if self.module.data_owner(key, self) else self.fresh(key, "data")
        self.data_params.append((param, key))
        return sx.name(param)

    def bind(self, var, value: sx.Expr, hint: str | None = None, view_of=None,
             comment: str | None = None) -> cst.Name:
        """Emit ``name = value`` and make ``name`` the value of ``var``."""
        target = self.fresh(var.name or hint, hint or "v")
        self.emit(sx.assign(target, value, comment))
        self.values[var] = sx.name(target)
        self.set_view(var, view_of)
        return sx.name(target)

    def bind_name(self, target: str, value: sx.Expr) -> cst.Name:
        """Emit ``target = value`` for a name that is no graph variable's."""
        self.emit(sx.assign(target, value))
        return sx.name(target)

    def rename(self, old: str, new: str) -> cst.Name:
        """Rename a local everywhere it was emitted (``new`` must be fresh)."""

        from .walk import rename

        for block in self._blocks:
            block[:] = [rename(stmt, {old: new}) for stmt in block]
        for var, value in list(self.values.items()):
            if isinstance(value, cst.Name) and value.value == old:
                self.values[var] = sx.name(new)
        return sx.name(new)

    def store(self, slot: sx.Expr, value: sx.Expr, var, ndim: int, dtype: str,
              what: str, exact: bool = False) -> None:
        """Emit ``slot = value``: the array ``var`` (``value``) into ``slot``, a view of
        ``ndim`` dimensions of a ``dtype`` array whose memory ``var`` does not share.

        An array of the slot's dtype is copied by a loop nest.  Numba's slice
        assignment from an array compiles the string formatting of its error
        message (``raise_with_shape_context``), about 2-3 s of a module's first call
        (docs/performance.md, "First call").  ``value`` is broadcast as NumPy does:
        at index 0 along a dimension of static length 1, through ``np.broadcast_to``
        where a length is not known to match; with ``exact``, the lengths must match
        (a check raises ``ValueError: <what>: ...`` otherwise)."""
        vnd = var.type.ndim
        if not vnd or vnd > ndim or var.type.dtype != dtype:
            self.emit(sx.assign(slot, value))
            return
        if not isinstance(value, cst.Name):  # read once, not once per element
            value = self.bind_name(self.fresh("value"), value)
        base, kept = _integer_subscript(slot)
        if base is None:  # a view with slices: bound to a name, indexed by the loops
            base, kept = self.bind_name(self.fresh("window"), slot), []
        dims = [sx.subscript(sx.attr(base, "shape"), [sx.literal(len(kept) + d)])
                for d in range(ndim)]
        value_dims = self.dims.get(var) or [
            sx.subscript(sx.attr(value, "shape"), [sx.literal(d)]) for d in range(vnd)]
        lead = ndim - vnd
        unknown = [d for d in range(vnd) if var.type.shape[d] != 1]
        if exact and unknown:
            tests = [sx.compare("!=", value_dims[d], dims[lead + d]) for d in unknown]
            self.check(tests, "ValueError",
                       f"{what}: the value does not have the shape it is stored in")
        elif unknown:  # (leading dimensions broadcast by the loops alone)
            target_shape = sx.tuple_(dims) if kept else sx.attr(base, "shape")
            value = self.bind_name(self.fresh(f"{value.value}_full"), sx.call(
                "np.broadcast_to", value, target_shape))
            vnd, lead, unknown = ndim, 0, list(range(ndim))
        with self.indices(ndim) as names:
            reads = [sx.name(names[lead + d]) if d in unknown else sx.literal(0)
                     for d in range(vnd)]
            body = [sx.assign(sx.subscript(base, [*kept, *map(sx.name, names)]),
                              sx.subscript(value, reads))]
            self.emit(*sx.for_nest(names, dims, body))

    def needed(self, var) -> bool:
        """Whether the graph being lowered reads ``var`` (or returns it)."""
        graph = self.graph
        return graph is None or bool(graph.clients.get(var)) or var in graph.outputs

    @contextlib.contextmanager
    def inner(self, fgraph):
        """Lower an inner graph (a Scan's body, an OpFromGraph's) within the block:
        its clients are the ones asked about (``needed``, ``can_donate``)."""
        outer, self.graph = self.graph, fgraph
        self.depth += 1
        try:
            yield
        finally:
            self.graph, self.depth = outer, self.depth - 1

    def only_returned(self, var) -> bool:
        """Whether ``var`` is a result of the entry that nothing in the graph reads."""
        graph = self.graph
        return graph is not None and self.depth == 0 and var in graph.outputs and all(
            type(getattr(client, "op", None)).__name__ in ("Output", "NoneType")
            for client, _ in graph.clients.get(var, ()))

    def owns(self, var) -> bool:
        """Whether ``var`` is an array this function allocated (not a view)."""
        return var in self.contiguous and var not in self.view_of

    def can_donate(self, var) -> bool:
        """Whether the node being lowered may write into ``var``: a fresh array of
        ours with no other consumer and not returned to the caller."""
        if not self.owns(var) or self.graph is None:
            return False
        clients = self.graph.clients.get(var, ())
        return len(clients) == 1 and var not in self.graph.outputs and hasattr(
            clients[0][0], "op") and type(clients[0][0].op).__name__ != "Output"

    def alias(self, var, value: sx.Expr, view_of=None) -> None:
        """Make ``var``'s value an existing expression (no statement)."""
        self.values[var] = value
        self.set_view(var, view_of)

    def index_view(self, out, x, index: list, hint: str, view_of=None) -> None:
        """Make ``out`` the view ``x[index]``: ``index`` holds COLON, NEWAXIS and
        integer (scalar) expressions and covers every dimension of ``x``.  When ``x``
        is itself such a view of an array, ``out`` is spelled as one view of that
        array; the local holding ``x`` is then dropped if nothing else reads it."""
        view_of = x if view_of is None else view_of
        root, index = self.composed(x, index)
        trimmed = list(index)
        while trimmed and trimmed[-1] is sx.COLON:
            trimmed.pop()
        if not trimmed:
            self.alias(out, root, view_of=view_of)
            if isinstance(root, cst.Name):
                self.reindexed[out] = (root, index)
            return
        value = sx.subscript(root, trimmed)
        if out.type.ndim == 0:
            self.bind(out, value, hint="item")
            return
        step = trimmed[0] if len(trimmed) == 1 else None
        if (isinstance(root, cst.Name) and isinstance(step, cst.Name)
                and step.value in STEP_INDICES and not out.name):
            hint = f"{root.value}_{step.value}"  # a sequence's entry: xs_t
        self.bind(out, value, hint=hint, view_of=view_of)
        if isinstance(root, cst.Name):
            self.reindexed[out] = (root, index)

    def view_length(self, x, d: int) -> sx.Expr:
        """The length of dimension ``d`` of ``x``, read off the array it views when
        it is an :meth:`index_view` (``xs.shape[1]``, or 1 for a new axis)."""
        known = self.reindexed.get(x)
        if known is not None:
            root, index = known
            axes = [k for k, e in enumerate(index) if e is sx.COLON or e is sx.NEWAXIS]
            element = index[axes[d]]
            if element is sx.NEWAXIS:
                return sx.literal(1)
            axis = sum(1 for e in index[:axes[d]] if e is not sx.NEWAXIS)
            return sx.subscript(sx.attr(root, "shape"), [sx.literal(axis)])
        return sx.subscript(sx.attr(self.expr(x), "shape"), [sx.literal(d)])

    def composed(self, x, index: list) -> tuple:
        """``(root, index)`` such that ``root[index]`` is ``x[index]``: ``root`` the
        array that ``x`` is an :meth:`index_view` of, else ``x``'s own value.  An
        integer on one of ``x``'s new axes is taken to be 0, its one valid value: the
        callers (a squeeze, a loop's element read) index within ``x``'s lengths."""
        known = self.reindexed.get(x)
        if known is None or any(known[0].value in frame.rebound for frame in self._loops):
            return self.expr(x), index
        root, first = known
        composed, rest = [], list(index)
        for element in first:
            if element is not sx.COLON and element is not sx.NEWAXIS:
                composed.append(element)  # an integer: that dimension is gone
                continue
            while rest and rest[0] is sx.NEWAXIS:
                composed.append(rest.pop(0))
            then = rest.pop(0) if rest else sx.COLON
            if element is sx.COLON:
                composed.append(then)
            elif then is sx.COLON:
                composed.append(sx.NEWAXIS)
            # else: an integer on a new axis, which is 0 (callers index in bounds)
        return root, composed + rest

    def set_view(self, var, view_of) -> None:
        if view_of is not None:
            self.view_of[var] = self.view_of.get(view_of, view_of)

    # ---- scratch arrays of a loop ---------------------------------------------
    @contextlib.contextmanager
    def loop(self, rebound=()):
        """Lowering a loop body (inside ``with fn.block()``): allocations whose shape
        is the same in every step may be made once, before the loop.  ``rebound``:
        names bound before the loop that its body assigns again (untraced states).
        Yields the frame: ``preheader``, the statements to emit just before the loop,
        and ``checks``, those of its checks to make before it (``loop_checks``)."""
        frame = _Loop(len(self._blocks), set(rebound), [])
        self._loops.append(frame)
        # a check in the loop (or hoisted before it, made when it runs) does not run
        # for zero steps
        try:
            with self.scoped_checks():
                yield frame
        finally:
            self._loops.pop()

    @contextlib.contextmanager
    def scoped_checks(self):
        """Lowering code that may not run (a loop body, a branch): the checks made
        in it vouch for nothing after it (``checked`` is as it was before)."""
        before = set(self.checked)
        try:
            yield
        finally:
            self.checked.intersection_update(before)

    @property
    def in_loop(self) -> bool:
        return bool(self._loops)

    def invariant(self, expr: sx.Expr) -> bool:
        """Whether ``expr`` has the same value in every step of the innermost loop:
        it reads no name the loop body assigns (an array updated in place, ``a +=
        b``, keeps its shape: ``a.shape`` is the same in every step)."""
        if not self._loops:
            return False
        frame = self._loops[-1]
        assigned = set(frame.rebound) | set(self._active_indices)
        updated: set[str] = set()
        for block in self._blocks[frame.depth - 1:]:
            assigned |= bound_names(block, updated)
        plain: set[str] = set()
        used = read_names(expr, plain)
        return not used & assigned and not plain & updated

    def check(self, tests, exc: str, message: str) -> None:
        """``if test or ...: raise exc(message)``, without the tests that compare a
        length with itself.  In a loop, a check whose every test reads only what the
        loop does not assign is made once, before the loop (``loop_checks``)."""
        tests = [t for t in tests if not _same_sides(self, t)]
        if not tests:
            return
        test = sx.any_of(tests)
        if self._loops and self.invariant(test):
            self._loops[-1].checks.append((test, exc, message))
            return
        self.emit(sx.if_(test, [sx.raise_(exc, message)]))

    def loop_checks(self, frame_checks, runs: sx.Expr) -> list:
        """The checks hoisted out of a loop, each made when the loop runs (``runs``:
        its step count is positive), as it would have been in its first step."""
        out = []
        for test, exc, message in frame_checks:
            if not (isinstance(runs, cst.Integer) and int(runs.value) > 0):
                test = sx.boolop("and", sx.compare(">", runs, sx.literal(0)), sx.paren(test)
                                 if isinstance(test, cst.BooleanOperation) else test)
            out.append(sx.if_(test, [sx.raise_(exc, message)]))
        return out

    def into_destination(self, var, dims) -> cst.Name:
        """Bind ``var`` to the array entry it is to be stored in (``h_t = h[t + 1]``,
        see ``destinations``) after checking that the result's shape ``dims`` fits."""
        entry, hint = self.destinations[var]
        target = self.bind(var, entry, hint=hint, view_of=var)
        self.written.add(var)
        base, kept = _integer_subscript(entry)
        if base is None:
            base, kept = target, []
        tests = [sx.compare("!=", sx.subscript(sx.attr(base, "shape"),
                                               [sx.literal(len(kept) + d)]), dim)
                 for d, dim in enumerate(dims)]
        self.check(tests, "ValueError", "Scan: a step's result does not have the shape "
                   "of its state")
        return target

    def allocate(self, var, shape: sx.Expr, dtype: str, hint: str) -> cst.Name:
        """``name = np.empty(shape, dtype)`` for ``var``.  Inside a loop, when the
        shape is the same in every step, the array is allocated once before the loop
        and every step writes into it; such an array is never passed on without a
        copy (it is not ``owns``-ed), since the next step overwrites it."""
        from .dtypes import dtype_attr

        value = sx.call("np.empty", shape, dtype=dtype_attr(dtype))
        if self.invariant(shape):
            name = self.fresh(var.name or hint, hint)
            self._loops[-1].preheader.append(sx.assign(name, value))
            self.values[var] = sx.name(name)
            self.view_of[var] = var
            self.scratch.add(var)
            if isinstance(shape, cst.Tuple):  # its lengths, the same in every step
                self.dims[var] = [element.value for element in shape.elements]
            return sx.name(name)
        target = self.bind(var, value, hint=hint)
        self.contiguous.add(var)
        return target

    def helper(self, name: str) -> cst.Name:
        return self.module.runtime_helper(name)


def _same_sides(fn, test) -> bool:
    """Whether ``test`` is ``a != a``: a check that cannot fail."""
    return (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, cst.NotEqual)
            and fn.code(test.left) == fn.code(test.comparisons[0].comparator))


def _integer_subscript(slot):
    """``(base, indices)`` of ``name[i, j]`` (a row of a buffer: the loop indices
    extend it), else ``(None, None)``; a plain name is ``(name, [])``.  Stores index
    with integers and slices only (basic indexing), so an index that is not a slice
    is an integer."""
    if isinstance(slot, cst.Name):
        return slot, []
    if not isinstance(slot, cst.Subscript) or not isinstance(slot.value, cst.Name):
        return None, None
    kept = []
    for element in slot.slice:
        index = element.slice
        if not isinstance(index, cst.Index) or (isinstance(index.value, cst.Name)
                                                and index.value.value == "None"):
            return None, None
        kept.append(index.value)
    return slot.value, kept

