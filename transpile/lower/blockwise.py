"""``Blockwise``: a core Op applied over leading batch dimensions.

Without batch dimensions (``x @ w`` on a matrix and a vector) the node *is* its core
Op and is lowered as such.  With batch dimensions the core Op's lowering runs inside
explicit loops over the batch, writing each core result into a preallocated array.
"""

import libcst as cst
from pytensor.tensor.blockwise import Blockwise

from .. import syntax as sx
from ..dtypes import dtype_attr
from ..errors import UnsupportedOpError
from ..registry import lowering_for, register
from .elemwise import check_shapes, dim_size


def _core_ndims(op):
    inputs_sig, outputs_sig = op.inputs_sig, op.outputs_sig
    return [len(s) for s in inputs_sig], [len(s) for s in outputs_sig]


@register(Blockwise)
def lower_Blockwise(op, node, fn):
    in_core, out_core = _core_ndims(op)
    batch_ndim = node.outputs[0].type.ndim - out_core[0]
    if batch_ndim == 0:
        core_node = op.core_op.make_node(*node.inputs)
        lowering_for(op.core_op, core_node)(op.core_op, core_node, fn)
        for var, core_var in zip(node.outputs, core_node.outputs):
            fn.alias(var, fn.expr(core_var), view_of=fn.view_of.get(core_var))
            if core_var in fn.contiguous:
                fn.contiguous.add(var)
        return
    lower_batched(op, node, fn, batch_ndim, in_core, out_core)


def lower_batched(op, node, fn, batch_ndim, in_core, out_core):
    """Loops over the batch dimensions around the core Op's lowering."""
    from pytensor.tensor.type import TensorType

    from ..assemble import lower_nodes

    # Output batch lengths: from the first input with a non-broadcast batch dim.
    def batch_lens(d):
        lens = []
        for var, core in zip(node.inputs, in_core):
            offset = var.type.ndim - core - batch_ndim
            if var.type.ndim - core > 0 and d + offset >= 0 and var.type.shape[d + offset] != 1:
                lens.append(dim_size(fn, var, d + offset))
        return lens or [sx.literal(1)]

    lens = [batch_lens(d) for d in range(batch_ndim)]
    batch = [first for first, *_ in lens]
    # Every input is read at every batch index, so their batch lengths must agree;
    # the core shapes come from batch element 0, so there must be one.
    check_shapes(fn, [sx.compare("!=", other, first) for first, *others in lens
                      for other in others if fn.code(other) != fn.code(first)],
                 "Blockwise")
    empty = [sx.compare("==", n, sx.literal(0)) for n in batch
             if not (isinstance(n, cst.Integer) and int(n.value) > 0)]
    if empty and fn.code(sx.tuple_(empty)) not in fn.checked:
        fn.checked.add(fn.code(sx.tuple_(empty)))
        test = empty[0]
        for other in empty[1:]:
            test = sx.boolop("or", test, other)
        fn.emit(sx.if_(test, [sx.raise_(
            "ValueError", "Blockwise: empty batch dimensions are not supported")]))
    # Core output shapes are known only from a core result, so the core computation
    # runs once on batch element 0 before the outputs are allocated and the loop runs.
    with fn.indices(batch_ndim) as indices:
        core_inputs = []
        elements = []
        for var, core in zip(node.inputs, in_core):
            own_batch = var.type.ndim - core
            idx = []
            for d in range(own_batch):
                out_d = d + batch_ndim - own_batch
                idx.append(sx.literal(0) if var.type.shape[d] == 1 else sx.name(indices[out_d]))
            core_type = TensorType(var.type.dtype, shape=var.type.shape[own_batch:])
            core_var = core_type()
            core_inputs.append(core_var)
            elements.append(sx.subscript(fn.expr(var), idx) if idx else fn.expr(var))
        try:
            core_node = op.core_op.make_node(*core_inputs)
        except Exception as exc:  # noqa: BLE001
            raise UnsupportedOpError(f"cannot build the core node of {node}: {exc}") from None
        with fn.block() as body:
            for core_var, element in zip(core_inputs, elements):
                fn.bind(core_var, element, hint="item")
            lower_nodes(fn, [core_node])
        # Allocate outputs from the first batch element's core result shape.
        targets = []
        for var, core_var in zip(node.outputs, core_node.outputs):
            core_shape = [sx.subscript(sx.attr(fn.expr(core_var), "shape"), [sx.literal(k)])
                          for k in range(core_var.type.ndim)]
            targets.append((var, core_var, core_shape))
        stores = []
        allocs = []
        for var, core_var, core_shape in targets:
            name = fn.fresh(var.name or "batched")
            fn.values[var] = sx.name(name)
            fn.contiguous.add(var)
            allocs.append((name, var, core_shape))
            stores.append(sx.assign(sx.subscript(sx.name(name), [sx.name(i) for i in indices]),
                                    fn.expr(core_var)))
        # Allocation needs the core shape, known only inside the loop: do the first
        # element before the loop nest.
        zero = {i: sx.literal(0) for i in indices}
        pre = []
        for name, var, core_shape in allocs:
            pre.append(sx.assign(name, sx.call("np.empty", sx.tuple_(
                [*batch, *[_subst(s, zero) for s in core_shape]]),
                dtype=dtype_attr(var.type.dtype))))
        fn.emit(*_first_pass(body, zero), *pre)
        fn.emit(*sx.for_nest(indices, batch, [*body, *stores]))


def _subst(expr, mapping):
    import libcst as cst

    class Sub(cst.CSTTransformer):
        def leave_Name(self, original, updated):
            return mapping.get(updated.value, updated)

    return expr.visit(Sub())


def _first_pass(body, mapping):
    return [_subst(stmt, mapping) for stmt in body]
