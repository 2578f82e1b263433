"""Reductions: the ``CAReduce`` family (Sum, Prod, Max, Min, All, Any) and ``Argmax``.

A reduction is a loop nest over the input with an accumulator.  When the reduced axes
are the trailing ones (a full reduction, a row sum) the accumulator is a local scalar::

    for i in range(x.shape[0]):
        acc = 0.0
        for j in range(x.shape[1]):
            acc = acc + x[i, j]
        sum_[i] = acc

otherwise it is the output array itself, updated in place in input order.
"""

import numpy as np
from pytensor.tensor.elemwise import CAReduce
from pytensor.tensor.math import Argmax

from .. import syntax as sx
from ..dtypes import cast_if_unnatural, convert, convert_array, dtype_attr, typed_literal
from ..errors import UnsupportedOpError
from ..registry import register
from .elemwise import dim_size, read_at, shape_tuple
from .parallel import independent_loops, reduction_loops
from .scalar import scalar_apply


def reduced_axes(op, ndim: int) -> list[int]:
    axis = op.axis
    if axis is None:
        return list(range(ndim))
    return sorted(a % ndim for a in (axis if isinstance(axis, (tuple, list)) else [axis]))


def identity(op, dtype: str) -> sx.Expr:
    value = getattr(op.scalar_op, "identity", None)
    if value is None:
        raise UnsupportedOpError(
            f"reduction {op} has no identity: only reductions with one are supported"
        )
    value = np.asarray(value)
    if value.dtype.kind == "f" and np.isinf(value) and np.dtype(dtype).kind in "iub":
        info = np.iinfo(dtype) if dtype != "bool" else None
        value = (value > 0) if info is None else (info.max if value > 0 else info.min)
    return typed_literal(value, dtype)


_HINTS = {"Sum": "sum", "Prod": "prod", "Max": "max", "Min": "min", "All": "all",
          "Any": "any"}


class _ScalarNode:
    """The dtypes a scalar lowering sees for ``acc <op> element``."""

    def __init__(self, acc_dtype: str, in_dtype: str):
        from types import SimpleNamespace as NS

        self.inputs = [NS(type=NS(dtype=acc_dtype)), NS(type=NS(dtype=in_dtype))]
        self.outputs = [NS(type=NS(dtype=acc_dtype))]


class Accumulator:
    """A reduction over trailing axes with a scalar accumulator: ``total = 0.0``
    before the reduced loops, ``total = total + <element>`` in them, and for a
    partial reduction ``out[i] = total`` after them.  ``dims`` are the lengths of the
    loops over the reduced array (an Elemwise's own loop nest, when fused)."""

    def __init__(self, fn, node, dims):
        self.fn, self.node = fn, node
        op = node.op
        (var,) = node.inputs
        (self.out,) = node.outputs
        out_dtype = self.out.type.dtype
        self.acc_dtype = getattr(op, "acc_dtype", None) or out_dtype
        self.hint = _HINTS.get(type(op).__name__, "reduced")
        self.kept = len(dims) - len(reduced_axes(op, len(dims)))
        kept_dims = dims[:self.kept]
        self.scalar_node = _ScalarNode(self.acc_dtype, var.type.dtype)
        if self.kept:
            self.target = fn.allocate(self.out, shape_tuple(kept_dims), out_dtype,
                                      self.hint)
            self.name = fn.fresh("acc")
        else:
            self.target = None
            same = self.acc_dtype == out_dtype
            self.name = fn.fresh(self.out.name or self.hint if same else "acc")

    def init(self):
        return sx.assign(self.name, identity(self.node.op, self.acc_dtype))

    def update(self, element):
        (expr,) = scalar_apply(self.node.op.scalar_op, [sx.name(self.name), element],
                               self.scalar_node, self.fn)
        return sx.assign(self.name, expr)

    def store(self, indices) -> list:
        """After the reduced loops: ``out[i] = total`` (nothing for a full one)."""
        if not self.kept:
            return []
        value = sx.name(self.name)
        value = convert(value, self.acc_dtype, self.out.type.dtype)
        return [sx.assign(sx.subscript(self.target, [sx.name(i) for i in indices]),
                          value)]

    def finish(self):
        if self.kept:
            return
        if self.acc_dtype == self.out.type.dtype:
            self.fn.alias(self.out, sx.name(self.name))
        else:
            self.fn.bind(self.out, convert(sx.name(self.name), self.acc_dtype,
                                           self.out.type.dtype), hint=self.hint)


@register(CAReduce)
def lower_CAReduce(op, node, fn):
    (x,) = node.inputs
    (out,) = node.outputs
    hint = _HINTS.get(type(op).__name__, "reduced")
    out_dtype = out.type.dtype
    acc_dtype = getattr(op, "acc_dtype", None) or out_dtype
    axes = reduced_axes(op, x.type.ndim)
    kept = [d for d in range(x.type.ndim) if d not in axes]
    scalar_node = _ScalarNode(acc_dtype, x.type.dtype)

    if x.type.ndim == 0 or not axes:  # nothing to reduce
        value = fn.expr(x)
        if x.type.ndim == 0:
            fn.bind(out, cast_if_unnatural(value, out_dtype), hint=hint)
        else:
            fn.bind(out, sx.method(value, "astype", dtype_attr(out_dtype)), hint=hint)
            fn.contiguous.add(out)
        return

    def combine(acc, elem):
        (expr,) = scalar_apply(op.scalar_op, [acc, elem], scalar_node, fn)
        return expr

    with fn.indices(x.type.ndim) as indices:
        elem = read_at(fn, x, [sx.name(i) for i in indices])
        dims = [dim_size(fn, x, d) for d in range(x.type.ndim)]
        kept_idx = [indices[d] for d in kept]
        if axes == list(range(len(kept), x.type.ndim)):  # trailing axes: scalar accumulator
            acc = Accumulator(fn, node, dims)
            with fn.block() as inner:
                fn.emit(acc.update(elem))
            if not kept:
                fn.emit(*reduction_loops(fn, [acc], indices, dims, inner))
                acc.finish()
                return
            loops = sx.for_nest([indices[d] for d in axes], [dims[d] for d in axes], inner)
            fn.emit(*independent_loops(fn, dims, sx.for_nest(
                kept_idx, [dims[d] for d in kept], [acc.init(), *loops, *acc.store(kept_idx)])))
            acc.finish()
            return

        # General axes: accumulate into the output, visiting the input in memory order.
        acc_name = fn.fresh(hint if acc_dtype == out_dtype else "acc")
        fn.emit(sx.assign(acc_name, sx.call(
            "np.full", shape_tuple([dims[d] for d in kept]), identity(op, acc_dtype),
            dtype=dtype_attr(acc_dtype))))
        slot = sx.subscript(sx.name(acc_name), [sx.name(i) for i in kept_idx])
        update = sx.assign(slot, combine(slot, elem))
        loops = sx.for_nest(indices, dims, [update])
        # Rows of the outer dimension update their own slots when it is kept.
        fn.emit(*(independent_loops(fn, dims, loops) if kept[:1] == [0] else loops))
    if acc_dtype == out_dtype:
        fn.alias(out, sx.name(acc_name))
    else:
        fn.bind(out, convert_array(sx.name(acc_name), acc_dtype, out_dtype), hint=hint)
    fn.contiguous.add(out)


@register(Argmax)
def lower_Argmax(op, node, fn):
    (x,) = node.inputs[:1]
    (out,) = node.outputs
    axes = reduced_axes(op, x.type.ndim)
    kept = [d for d in range(x.type.ndim) if d not in axes]
    value = fn.expr(x)
    if x.type.ndim == 0:  # a scalar is its own maximum, at position 0
        fn.alias(out, sx.literal(0))
        return
    if not kept:
        fn.bind(out, sx.call("np.argmax", value), hint="argmax")
        return
    # Move the reduced axes last, flatten them, and take np.argmax of each row.
    perm = kept + axes
    if perm != list(range(x.type.ndim)):
        value = sx.transpose(value, perm)
    dims = [dim_size(fn, x, d) for d in kept]
    rows = fn.fresh("rows")
    fn.emit(sx.assign(rows, sx.method(sx.call("np.ascontiguousarray", value), "reshape",
                                      shape_tuple([*dims, sx.literal(-1)]))))
    target = fn.bind(out, sx.call("np.empty", shape_tuple(dims), dtype=dtype_attr("int64")),
                     hint="argmax")
    with fn.indices(len(kept)) as indices:
        idx = [sx.name(i) for i in indices]
        store = sx.assign(sx.subscript(target, idx),
                          sx.call("np.argmax", sx.subscript(sx.name(rows), idx)))
        fn.emit(*sx.for_nest(indices, dims, [store]))
    fn.contiguous.add(out)
