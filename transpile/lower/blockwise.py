"""``Blockwise``: a core Op applied over leading batch dimensions.

Without batch dimensions (``x @ w`` on a matrix and a vector) the node *is* its core
Op and is lowered as such.  With batch dimensions, each output is allocated whole,
then filled by a loop nest over the batch with the core Op's own lowering inside::

    chol = np.empty((s.shape[0], s.shape[1], s.shape[1]), dtype=np.float64)
    for i in range(s.shape[0]):
        chol[i] = cholesky(s[i], lower=True)

A batch dimension of length 1 gets no loop (it is read and written at index 0), and
an input broadcast along a batch dimension is read at index 0 there (``b[0]``), or
without the dimension where a DimShuffle only added it (``b[None, :]``: ``b``).

Allocating first takes each output's core shape.  PyTensor's Numba rewrites wrap a
batched Blockwise in ``BlockwiseWithCoreShape``, an OpFromGraph whose extra inputs
are those shapes; a plain Blockwise's come from the output type's static shape, the
signature (a core length shared with an input, or a number) and the core Op's
``infer_shape`` on the inputs' core lengths.  Only when none of these can tell is the
first batch element computed before the loop to learn them (an empty batch, with no
first element, then raises as PyTensor's own ``Blockwise.perform`` does).
"""

import libcst as cst
from pytensor.graph.basic import Constant
from pytensor.tensor.basic import MakeVector
from pytensor.tensor.blockwise import Blockwise
from pytensor.tensor.elemwise import DimShuffle

from .. import syntax as sx
from ..compat import op_class
from ..dtypes import dtype_attr
from ..errors import TranspileError, UnsupportedOpError
from ..registry import lowering_for, register
from ..walk import bound_names, count_names, rename
from .elemwise import check_shapes, dim_size
from .inline import inline_single_use
from .shape import vector_elements

# Numba mode's rewrites wrap a batched Blockwise in this OpFromGraph, with the core
# output shapes as extra inputs (None in a PyTensor without it).
BlockwiseWithCoreShape = op_class("BlockwiseWithCoreShape",
                                  ("pytensor.tensor.blockwise",))


@register(Blockwise)
def lower_Blockwise(op, node, fn):
    if _batch_ndim(op, node.outputs) == 0:
        _lower_as_core_op(fn, op, node.inputs, node.outputs)
    else:
        lower_batched(fn, op, node.inputs, node.outputs)


@register(BlockwiseWithCoreShape)
def lower_BlockwiseWithCoreShape(op, node, fn):
    # Not inlined as other OpFromGraphs are: its inner graph is the Blockwise node
    # alone, lowered here with the core shapes the node carries.
    [blockwise_node] = op.fgraph.apply_nodes
    blockwise = blockwise_node.op
    n_inputs = len(blockwise_node.inputs)
    inputs, shape_vectors = node.inputs[:n_inputs], node.inputs[n_inputs:]
    if _batch_ndim(blockwise, node.outputs) == 0:
        _lower_as_core_op(fn, blockwise, inputs, node.outputs)
        return
    core_shapes = [
        _vector_items(fn, vector, len(sig))
        for vector, sig in zip(shape_vectors, blockwise.outputs_sig, strict=True)]
    lower_batched(fn, blockwise, inputs, node.outputs, core_shapes)


def _batch_ndim(op, outputs) -> int:
    return outputs[0].type.ndim - len(op.outputs_sig[0])


def _lower_as_core_op(fn, op, inputs, outputs) -> None:
    """A Blockwise without batch dimensions: its core Op on the same inputs."""
    core_node = op.core_op.make_node(*inputs)
    lowering_for(op.core_op, core_node)(op.core_op, core_node, fn)
    for var, core_var in zip(outputs, core_node.outputs, strict=True):
        fn.alias(var, fn.expr(core_var), view_of=fn.view_of.get(core_var))
        if core_var in fn.contiguous:
            fn.contiguous.add(var)


def _vector_items(fn, vector, length: int) -> list[sx.Expr]:
    """The ``length`` items of a shape vector: MakeVector's scalars, a constant's
    numbers, else ``vector[k]``."""
    if isinstance(vector, Constant) or (vector.owner is not None
                                        and isinstance(vector.owner.op, MakeVector)):
        return vector_elements(fn, vector)
    return [sx.subscript(fn.expr(vector), [sx.literal(k)]) for k in range(length)]


# ---- the batched lowering ---------------------------------------------------------


def lower_batched(fn, op, inputs, outputs, core_shapes=None) -> None:
    """Bind ``outputs`` to arrays filled by a loop nest over the batch dimensions,
    the core Op's lowering computing one batch element per iteration.

    ``core_shapes`` (per output, a list of length expressions) are the outputs' core
    shapes when the caller knows them; otherwise they are inferred, or learnt from
    the first batch element.
    """
    batch_ndim = _batch_ndim(op, outputs)
    operands = [_Operand(var, len(sig), batch_ndim)
                for var, sig in zip(inputs, op.inputs_sig, strict=True)]
    lengths = _batch_lengths(fn, operands, outputs, batch_ndim)
    core_node = _core_node(op, operands)
    core_shapes = _core_shapes(fn, op, operands, outputs, core_node, core_shapes)
    kept = [k for k, var in enumerate(outputs) if fn.needed(var)]
    with fn.indices(sum(not _is_one(n) for n in lengths)) as names:
        loop = _Loop(fn, lengths, names)
        body = _element_body(fn, loop, core_node, operands)
        arrays, body = _name_arrays(
            fn, loop, [(outputs[k], core_node.outputs[k]) for k in kept], body)
        if core_shapes is None:
            _fill_after_first_element(fn, loop, arrays, body)
        else:
            for (array, var, _), k in zip(arrays, kept, strict=True):
                fn.emit(sx.assign(array, _empty([*lengths, *core_shapes[k]], var)))
            body = _store_in_place(body, loop.stores(arrays))
            fn.emit(*loop.nest(inline_single_use(body)))
    for array, var, _ in arrays:
        fn.values[var] = sx.name(array)
        fn.contiguous.add(var)


def _is_one(length: sx.Expr) -> bool:
    return isinstance(length, cst.Integer) and length.value == "1"


def _empty(shape, var) -> sx.Expr:
    """``np.empty((n, m), dtype=...)`` (``np.empty(n, ...)`` for one length)."""
    size = shape[0] if len(shape) == 1 else sx.tuple_(shape)
    return sx.call("np.empty", size, dtype=dtype_attr(var.type.dtype))


class _Operand:
    """One input of a batched Blockwise, read one core element per batch index.

    An input has the output's batch dimensions or fewer (missing ones are leading).
    ``source`` is the array actually read: the input, or what a DimShuffle padded
    with leading broadcast dimensions to make it (``b[None, :]`` for one vector
    solved against a batch of matrices), which is then read without the padding.
    """

    def __init__(self, var, core_ndim: int, batch_ndim: int):
        self.var = var
        self.batch_ndim = var.type.ndim - core_ndim  # its own
        self.offset = batch_ndim - self.batch_ndim  # output batch dims it lacks
        self.source, self.padding = var, 0
        owner = var.owner
        if owner is not None and isinstance(owner.op, DimShuffle):
            ndim = owner.inputs[0].type.ndim
            padding = var.type.ndim - ndim
            padded = ("x",) * padding + tuple(range(ndim))  # ('x', 0, 1): b[None]
            if 0 < padding <= self.batch_ndim and tuple(owner.op.new_order) == padded:
                self.source, self.padding = owner.inputs[0], padding

    def broadcast(self, d: int) -> bool:
        """Whether the output's batch dimension ``d`` is broadcast in this input."""
        own = d - self.offset
        return own < 0 or self.var.type.shape[own] == 1

    def length(self, fn, axis: int) -> sx.Expr:
        """The length of the input's dimension ``axis``, read off ``source``."""
        if axis < self.padding:
            return sx.literal(1)
        return dim_size(fn, self.source, axis - self.padding)

    def batch_length(self, fn, d: int) -> sx.Expr:
        return self.length(fn, d - self.offset)

    def core_length(self, fn, k: int) -> sx.Expr:
        return self.length(fn, self.batch_ndim + k)

    def unbatched_constant(self):
        """The core value, if it is a constant and the same at every batch index."""
        if isinstance(self.source, Constant) and all(
                self.var.type.shape[d] == 1 for d in range(self.batch_ndim)):
            return self.source.data[(0,) * (self.batch_ndim - self.padding)]
        return None

    def index(self, index) -> list[sx.Expr]:
        """Its own index for the batch index ``index`` (an expression per output
        batch dimension): ``[i, 0]`` where it broadcasts the second dimension."""
        return [sx.literal(0) if self.var.type.shape[own] == 1
                else index[own + self.offset]
                for own in range(self.padding, self.batch_ndim)]

    def element(self, fn, index) -> sx.Expr:
        """The core element at the batch index ``index``: ``x[i, 0]``."""
        own_index = self.index(index)
        value = fn.expr(self.source)
        return sx.subscript(value, own_index) if own_index else value

    def hint(self, fn) -> str:
        """What to name its elements after: its local's name (``s`` for ``s_i``)."""
        value = fn.expr(self.source)
        return value.value if isinstance(value, cst.Name) else self.var.name or "item"


def _batch_lengths(fn, operands, outputs, batch_ndim) -> list[sx.Expr]:
    """Each batch dimension's length, checking that the inputs agree on it: every
    input not broadcast along a dimension is read along all of it (and PyTensor
    allows no broadcasting that the types do not declare)."""
    lengths, mismatches = [], {}
    for d in range(batch_ndim):
        candidates = [operand.batch_length(fn, d) for operand in operands
                      if not operand.broadcast(d)]
        static = outputs[0].type.shape[d]
        if static is not None:
            length = sx.literal(static)
        elif candidates:  # a literal if any input's length is static
            length = next((c for c in candidates if isinstance(c, cst.Integer)),
                          candidates[0])
        else:
            length = sx.literal(1)
        lengths.append(length)
        for other in candidates:
            if fn.code(other) != fn.code(length):
                mismatch = sx.compare("!=", other, length)
                mismatches.setdefault(fn.code(mismatch), mismatch)
    check_shapes(fn, list(mismatches.values()), "Blockwise")
    return lengths


def _core_node(op, operands):
    """The core Op applied to one batch element of each input: a dummy variable of
    the core type, or the constant itself when it is the same at every index."""
    import pytensor.tensor as pt
    from pytensor.tensor.type import TensorType

    core_inputs = []
    for operand in operands:
        var = operand.var
        constant = operand.unbatched_constant()
        if constant is not None:
            core_inputs.append(pt.constant(constant, dtype=var.type.dtype))
        else:
            core_inputs.append(TensorType(var.type.dtype,
                                          shape=var.type.shape[operand.batch_ndim:])())
    try:
        return op.core_op.make_node(*core_inputs)
    except Exception as exc:  # noqa: BLE001 - any failure means the same to the user
        raise UnsupportedOpError(
            f"cannot build the core node of {op} on one batch element: {exc}") from None


# ---- core output shapes -------------------------------------------------------------


def _core_shapes(fn, op, operands, outputs, core_node, given=None):
    """Each output's core shape (a list of length expressions), from what is known
    without running the core Op: the output type's static lengths, then ``given``
    (a BlockwiseWithCoreShape's shape inputs), or the signature and the core Op's
    ``infer_shape``.  None when some length is known only from a core result."""
    batch_ndim = _batch_ndim(op, outputs)
    named = _signature_lengths(fn, op, operands)
    inferred = None
    shapes = []
    for o, (var, sig) in enumerate(zip(outputs, op.outputs_sig, strict=True)):
        shape = []
        for k, dim in enumerate(sig):
            static = var.type.shape[batch_ndim + k]
            if static is not None:
                length = sx.literal(static)
            elif given is not None:
                length = given[o][k]
            elif dim in named:
                length = named[dim]
            elif dim.isdigit():
                length = sx.literal(int(dim))
            else:
                if inferred is None:
                    inferred = _inferred_lengths(fn, core_node, operands)
                length = inferred[o][k] if inferred else None
            if length is None:
                return None
            shape.append(length)
        shapes.append(shape)
    return shapes


def _signature_lengths(fn, op, operands) -> dict[str, sx.Expr]:
    """The length of each core dimension the signature names on an input (a literal
    where some input's is static)."""
    lengths = {}
    for operand, sig in zip(operands, op.inputs_sig, strict=True):
        for k, dim in enumerate(sig):
            length = operand.core_length(fn, k)
            if dim not in lengths or (isinstance(length, cst.Integer)
                                      and not isinstance(lengths[dim], cst.Integer)):
                lengths[dim] = length
    return lengths


def _inferred_lengths(fn, core_node, operands):
    """The core outputs' lengths by the core Op's ``infer_shape`` on the inputs' core
    lengths, the arithmetic on them lowered as any graph is (``clip(n - 1, 0, m)``
    for a diagonal).  Per output, a list with None for a length that depends on the
    inputs' values; None if the Op cannot infer shapes at all."""
    import pytensor.tensor as pt
    from pytensor.graph.fg import FunctionGraph

    from ..compat import graph_inputs
    from .ofg import lower_inline

    core_op = core_node.op
    if not hasattr(core_op, "infer_shape"):
        return None
    core_lengths = [tuple(pt.lscalar() for _ in range(operand.var.type.ndim
                                                        - operand.batch_ndim))
                    for operand in operands]
    try:
        fgraph = FunctionGraph(outputs=core_node.outputs, clone=False)
        shapes = [[pt.as_tensor_variable(length) for length in shape]
                  for shape in core_op.infer_shape(fgraph, core_node, core_lengths)]
    except Exception:  # noqa: BLE001 - an Op that cannot tell: learn them from a result
        return None
    for operand, lengths in zip(operands, core_lengths, strict=True):
        for k, length in enumerate(lengths):
            fn.alias(length, operand.core_length(fn, k))
    known = [length for lengths in core_lengths for length in lengths]
    computable = list(dict.fromkeys(
        length for shape in shapes for length in shape
        if length.owner is not None and all(
            v in known or isinstance(v, Constant) for v in graph_inputs([length]))))
    if computable:
        fgraph = FunctionGraph(known, computable, clone=False)
        lower_inline(fn, fgraph, known, computable)

    def spelled(length):
        if isinstance(length, Constant):
            return sx.literal(int(length.data))
        if length in known or length in computable:
            return fn.expr(length)
        return None

    return [[spelled(length) for length in shape] for shape in shapes]


# ---- the loop nest ------------------------------------------------------------------


class _Loop:
    """The loop nest over the batch: a loop per dimension not known to be of length
    1 (such a dimension is read and written at index 0), and the locals holding one
    batch element, named after the loop indices (``s_i``, ``chol_ij``)."""

    def __init__(self, fn, lengths, names):
        self.fn = fn
        self.names = list(names)
        self.batch = list(lengths)  # one per batch dimension
        self.lengths = [n for n in lengths if not _is_one(n)]  # one per loop
        loop_names = iter(self.names)
        self.index = [sx.literal(0) if _is_one(n) else sx.name(next(loop_names))
                      for n in lengths]
        self.locals: dict[str, str] = {}  # local -> the name it was made from

    def local(self, base: str, index=None) -> str:
        """A fresh local for ``base``'s batch element at ``index`` (by default, the
        loops' index): ``s_i``."""
        index = index or self.index
        used = "".join(i.value for i in index if isinstance(i, cst.Name))
        name = self.fn.fresh(f"{base}_{used or 0}")
        self.locals[name] = base
        return name

    def stores(self, arrays) -> list[cst.SimpleStatementLine]:
        """``chol[i] = chol_i``: each core result into its output."""
        return [sx.assign(sx.subscript(sx.name(array), self.index), value)
                for array, _, value in arrays]

    def nest(self, body) -> list[cst.BaseStatement]:
        return sx.for_nest(self.names, self.lengths, body)

    def derived(self, name: str):
        """``(local, rest)`` if ``name`` is a local of the batch element or a name a
        lowering made from one (``x_i_diag``: ``("x_i", "_diag")``), else None."""
        if name in self.locals:
            return name, ""
        for local in sorted(self.locals, key=len, reverse=True):
            if name.startswith(f"{local}_"):
                return local, name[len(local):]
        return None

    def at_first(self, stmts) -> dict[str, sx.Expr]:
        """Renames that make ``stmts`` compute the first batch element: each index
        0, each name of a local of the element (or made from one) with ``_0`` for
        its index (``s_0`` for ``s_i``, ``x_0_diag`` for ``x_i_diag``)."""
        mapping = {name: sx.literal(0) for name in self.names}
        for name in count_names(stmts):
            if (derived := self.derived(name)) is not None:
                local, rest = derived
                mapping[name] = sx.name(self.fn.fresh(f"{self.locals[local]}_0{rest}"))
        return mapping


def _element_body(fn, loop, core_node, operands) -> list[cst.BaseStatement]:
    """The statements computing the core outputs of one batch element: the core
    Op's lowering, each input element read inline where it is used once, outside
    any loop (``cholesky(s[i], lower=True)``), else into a local first
    (``x_i = x[i]``)."""
    reads = {}  # local -> the element it holds
    # (a check in the loop does not run for an empty batch)
    with fn.scoped_checks(), fn.block() as body:
        for operand, core_var in zip(operands, core_node.inputs, strict=True):
            if isinstance(core_var, Constant):
                continue
            element = operand.element(fn, loop.index)
            own_index = operand.index(loop.index)
            if any(isinstance(i, cst.Name) for i in own_index):  # varies along the loop
                local = loop.local(operand.hint(fn), own_index)
                reads[local] = element
                element = sx.name(local)
            fn.alias(core_var, element, view_of=operand.var)
        lowering_for(core_node.op, core_node)(core_node.op, core_node, fn)
    results = [fn.expr(var) for var in core_node.outputs if var in fn.values]
    uses = count_names([*body, *results])
    in_loops = count_names(body, in_loops=True)
    inline = {local: element for local, element in reads.items()
              if uses.get(local, 0) <= 1 and local not in in_loops}
    body = [rename(stmt, inline) for stmt in body]
    for var in core_node.outputs:
        if var in fn.values:
            fn.values[var] = rename(fn.values[var], inline)
    first_reads = [sx.assign(local, element) for local, element in reads.items()
                   if local not in inline]
    return [*first_reads, *body]


def _name_arrays(fn, loop, results, body):
    """Name the output arrays.

    An array takes its output variable's name, else the name the core lowering
    gave its result: the result is then renamed for the batch element (``chol``
    and ``chol_i``), unless its name was made from an element's already (the array
    of the ``x_i_diag`` is ``x_diag``).  Returns ``[(array, output, core result)]``
    and the renamed body.
    """
    assigned = bound_names(body, updated=set())
    renamed = {}
    arrays = []
    for var, core_var in results:
        if core_var not in fn.values:
            raise TranspileError(
                f"lowering of {core_var.owner} did not bind {core_var}")
        value = fn.expr(core_var)
        local = value.value if isinstance(value, cst.Name) else None
        derived = loop.derived(local) if local in assigned else None
        if var.name:
            array = fn.fresh(var.name)
        elif derived is not None:
            element, rest = derived
            array = fn.fresh(f"{loop.locals[element]}{rest}")
        elif local in assigned and local not in renamed:
            array = local
            renamed[local] = loop.local(local)
        else:
            array = fn.fresh(local, "batched")
        if local in renamed:
            value = sx.name(renamed[local])
        arrays.append((array, var, value))
    mapping = {old: sx.name(new) for old, new in renamed.items()}
    return arrays, [rename(stmt, mapping) for stmt in body]


def _store_in_place(body, stores) -> list[cst.BaseStatement]:
    """``body`` then ``stores``, each core result assigned straight into its output
    where the body assigns it once at its top level and reads it nowhere else:
    ``chol[i] = cholesky(s[i], lower=True)``, ``sign[i], logabsdet[i] = slogdet(d[i])``.
    """
    uses = count_names([*body, *stores])
    into = {}  # result -> the element of its output
    for store in stores:
        (small,) = store.body
        if isinstance(small.value, cst.Name) and uses.get(small.value.value) == 2:
            into.setdefault(small.value.value, small.targets[0].target)

    def retarget(target):
        if isinstance(target, cst.Name) and target.value in into:
            done.add(target.value)
            return into[target.value]
        if isinstance(target, cst.Tuple):
            return target.with_changes(elements=[
                element.with_changes(value=retarget(element.value))
                for element in target.elements])
        return target

    done = set()
    out = []
    for stmt in body:
        if (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
                and isinstance(stmt.body[0], cst.Assign)):
            small = stmt.body[0]
            stmt = stmt.with_changes(body=[small.with_changes(targets=[
                t.with_changes(target=retarget(t.target)) for t in small.targets])])
        out.append(stmt)
    out.extend(store for store in stores
               if not (isinstance(store.body[0].value, cst.Name)
                       and store.body[0].value.value in done))
    return out


def _fill_after_first_element(fn, loop, arrays, body) -> None:
    """Fill the outputs when their core shapes are known only from a core result:
    the first batch element is computed before the loop, the outputs allocated
    from its results, and the loop computes the others."""
    may_be_empty = [sx.compare("==", length, sx.literal(0)) for length in loop.lengths
                    if not isinstance(length, cst.Integer)]
    if may_be_empty:
        test = sx.any_of(may_be_empty)
        fn.emit(sx.if_(test, [sx.raise_(
            "NotImplementedError", "Blockwise: the core output shape is known only "
            "from a batch element, and this batch is empty")]))
    stores = loop.stores(arrays)
    first = loop.at_first([*body, *stores])
    fn.emit(*(rename(stmt, first) for stmt in inline_single_use(body)))
    for array, var, value in arrays:
        result = rename(value, first)
        core_shape = [sx.subscript(sx.attr(result, "shape"), [sx.literal(k)])
                      for k in range(var.type.ndim - len(loop.index))]
        fn.emit(sx.assign(array, _empty([*loop.batch, *core_shape], var)))
    fn.emit(*(rename(stmt, first) for stmt in stores))
    if not loop.names:
        return
    rest = inline_single_use(_store_in_place(body, stores))
    if len(loop.names) == 1:
        fn.emit(sx.for_range(loop.names[0], [sx.literal(1), loop.lengths[0]], rest))
        return
    tests = [sx.compare("==", sx.name(name), sx.literal(0)) for name in loop.names]
    at_first = tests[0]
    for test in tests[1:]:
        at_first = sx.boolop("and", at_first, test)
    fn.emit(*loop.nest([sx.if_(at_first, [sx.simple(cst.Continue())]), *rest]))
