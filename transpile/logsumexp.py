"""Log-sum-exp as one node, and shared with the softmax of the same rows.

``pt.logsumexp(x, axis)`` builds ``log(sum(exp(x), axis))``; PyTensor's rewrites make it
stable as ``m + log(sum(switch(isinf(m), exp(m), exp(x - m))))`` with ``m = max(x,
axis)``, which lowers to a pass for the maximum and a pass of ``exp`` over all of
``x``.  A softmax of the same ``x`` over the same axes computes the same maximum and
the same sum of exponentials in its own row passes, so a graph holding both (a
classifier's probabilities and its log-normalizer) paid for every ``exp`` twice.

Two graph passes around PyTensor's rewrites fix that:

- ``collapse_logsumexp`` (before them) replaces ``log(sum(exp(x), axis))``, with or
  without ``keepdims``, by one ``LogSumExp`` node, which its lowering computes in one
  pass over each row after the row's maximum;
- ``pair_with_softmax`` (after them) replaces a ``LogSumExp`` and a ``Softmax`` or
  ``LogSoftmax`` of the same input over the same axes by one ``SoftmaxLogSumExp``
  node with both results.

Both compute what PyTensor's stable form computes: a row whose maximum is infinite
has that maximum as its log-sum-exp.
"""

import numpy as np
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.tensor.type import TensorType

FLOATS = ("float32", "float64")


def _axes(axis, ndim) -> tuple[int, ...]:
    """Sorted, non-negative axes; ``None`` is all of them."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted({int(a) % ndim for a in axes}))


def _reduced(shape, axes) -> tuple:
    """``shape`` without the reduced ``axes``."""
    return tuple(n for d, n in enumerate(shape) if d not in axes)


def _reference_logsumexp(x, axes):
    m = np.max(x, axis=axes, keepdims=True) if x.size else np.full(
        [1 if d in axes else n for d, n in enumerate(x.shape)], -np.inf, dtype=x.dtype)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        terms = np.where(np.isinf(m), np.exp(m), np.exp(x - m))
        out = m + np.log(np.sum(terms, axis=axes, keepdims=True))
    return np.squeeze(out, axis=axes).astype(x.dtype)


class LogSumExp(Op):
    """``m + log(sum(exp(x - m), axes))`` with ``m = max(x, axes)``; the reduced axes
    are dropped."""

    __props__ = ("axes",)

    def __init__(self, axes):
        self.axes = tuple(axes)

    def make_node(self, x):
        lse = TensorType(x.type.dtype, shape=_reduced(x.type.shape, self.axes))
        return Apply(self, [x], [lse()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = np.asarray(_reference_logsumexp(inputs[0], self.axes))

    def infer_shape(self, fgraph, node, shapes):
        return [_reduced(shapes[0], self.axes)]

    def __str__(self):
        return f"LogSumExp{{axes={list(self.axes)}}}"


def scipy_log_softmax(op) -> bool:
    """Whether a ``LogSoftmax`` computes SciPy's ``log_softmax`` (PyTensor 2's does, in
    its reference ``perform``: a row whose maximum is infinite is shifted by 0, so
    ``[inf, 1]`` gives ``[nan, -inf]``); PyTensor 3's is a graph, ``x - max`` first,
    which gives nan there."""
    from pytensor.compile.builders import OpFromGraph

    return type(op).__name__ == "LogSoftmax" and not isinstance(op, OpFromGraph)


class SoftmaxLogSumExp(Op):
    """A softmax (or log-softmax, ``log=True``) over ``axes`` and the log-sum-exp over
    the same axes, from one maximum and one sum of exponentials per row
    (``scipy_shift``: the log-softmax's rule on infinite rows, ``scipy_log_softmax``)."""

    __props__ = ("axes", "log", "scipy_shift")

    def __init__(self, axes, log=False, scipy_shift=False):
        self.axes = tuple(axes)
        self.log = bool(log)
        self.scipy_shift = bool(scipy_shift)

    def make_node(self, x):
        lse = TensorType(x.type.dtype, shape=_reduced(x.type.shape, self.axes))
        return Apply(self, [x], [x.type(), lse()])

    def perform(self, node, inputs, outputs):
        (x,) = inputs
        lse = _reference_logsumexp(x, self.axes)
        keep = np.expand_dims(lse, self.axes) if self.axes else lse
        with np.errstate(invalid="ignore", over="ignore"):
            m = np.max(x, axis=self.axes, keepdims=True) if x.size else keep
            if self.scipy_shift:
                m = np.where(np.isfinite(m), m, 0)
            if self.log:
                out = x - (m + np.log(np.sum(np.exp(x - m), axis=self.axes, keepdims=True)))
            else:
                e = np.exp(x - m)
                out = e / np.sum(e, axis=self.axes, keepdims=True)
        outputs[0][0] = out.astype(x.dtype)
        outputs[1][0] = np.asarray(lse)

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0], _reduced(shapes[0], self.axes)]

    def __str__(self):
        kind = "LogSoftmax" if self.log else "Softmax"
        return f"{kind}LogSumExp{{axes={list(self.axes)}}}"


def _elemwise_of(var, scalar_cls):
    """The input of ``var`` when it is a one-input Elemwise of ``scalar_cls``."""
    from pytensor.tensor.elemwise import Elemwise

    node = var.owner
    if (node is not None and isinstance(node.op, Elemwise)
            and isinstance(node.op.scalar_op, scalar_cls) and len(node.inputs) == 1):
        return node.inputs[0]
    return None


def _expands_only(op, ndim_in) -> bool:
    """Whether a DimShuffle only inserts broadcastable dimensions, in order (what
    ``keepdims=True`` adds after a reduction)."""
    kept = [d for d in op.new_order if d != "x"]
    return kept == list(range(ndim_in))


def collapse_logsumexp(fgraph) -> None:
    """Replace each ``log(sum(exp(x), axis))`` of a float ``x`` (a ``DimShuffle``
    that only inserts dimensions may stand between log and sum) by ``LogSumExp``."""
    from pytensor.scalar.basic import Exp, Log
    from pytensor.tensor.elemwise import DimShuffle
    from pytensor.tensor.math import Sum

    for node in fgraph.toposort():
        if len(node.outputs) != 1:
            continue
        (out,) = node.outputs
        reduced = _elemwise_of(out, Log)
        if reduced is None or reduced.owner is None:
            continue
        expand = None
        if isinstance(reduced.owner.op, DimShuffle):
            expand = reduced.owner.op
            if not _expands_only(expand, reduced.owner.inputs[0].type.ndim):
                continue
            reduced = reduced.owner.inputs[0]
        sum_node = reduced.owner
        if sum_node is None or not isinstance(sum_node.op, Sum):
            continue
        x = _elemwise_of(sum_node.inputs[0], Exp)
        if x is None or x.type.dtype not in FLOATS:
            continue
        if {reduced.type.dtype, sum_node.inputs[0].type.dtype} != {x.type.dtype}:
            continue
        lse = LogSumExp(_axes(sum_node.op.axis, x.type.ndim))(x)
        if expand is not None:
            lse = expand(lse)
        if lse.type.shape != out.type.shape:
            continue
        fgraph.replace(out, lse, reason="collapse_logsumexp")


def _softmax_classes():
    import pytensor.tensor.special as pts

    return {cls: cls is getattr(pts, "LogSoftmax", None)
            for cls in (getattr(pts, "Softmax", None), getattr(pts, "LogSoftmax", None))
            if cls is not None}


def pair_with_softmax(fgraph) -> None:
    """Replace a ``LogSumExp`` and a (log-)softmax of the same input over the same
    axes by one ``SoftmaxLogSumExp``."""
    classes = _softmax_classes()
    for node in fgraph.toposort():
        if not isinstance(node.op, LogSumExp) or node not in fgraph.apply_nodes:
            continue
        (x,) = node.inputs
        for client, _ in list(fgraph.clients.get(x, ())):
            if client == "output" or type(client.op) not in classes:
                continue
            if _axes(client.op.axis, x.type.ndim) != node.op.axes:
                continue
            log = classes[type(client.op)]
            both = SoftmaxLogSumExp(node.op.axes, log=log,
                                    scipy_shift=log and scipy_log_softmax(client.op))(x)
            fgraph.replace_all([(client.outputs[0], both[0]), (node.outputs[0], both[1])],
                               reason="pair_with_softmax")
            break
