"""Buffer lengths known at transpile time, for the Scan loop's bounds.

PyTensor hands a Scan one buffer per state, of ``n_steps + lookback`` entries as
``pytensor.scan`` builds it, or fewer (a circular buffer: PyTensor's memory-saving
rewrites keep only the last values a graph uses).  The plain loop needs the full
length; when the graph shows that the buffer has it (as ``pytensor.scan`` builds it,
before and after rewriting), no run-time check is emitted.  Integer scalar graphs
are compared as linear forms over opaque terms: ``1 + min(a.shape[0], b.shape[0])``
is ``{1: 1, min(len(a, 0), len(b, 0)): 1}``.  A length here may under-estimate
(``x[:-1]`` of an empty ``x``), never over-estimate: proofs that a buffer is long
enough stay sound.  (``transpile/intforms.py`` has the exact forms that decide
integer arithmetic.)
"""

import numpy as np
from pytensor.scan.op import Scan

from ..intforms import combine, linear


def _form(var, depth: int = 0):
    """``var`` (an integer scalar) as a linear form: a dict from term to
    coefficient, the key ``1`` holding the constant; ``None`` if not integer."""
    from pytensor.graph.basic import Constant
    from pytensor.tensor.basic import ScalarFromTensor, TensorFromScalar
    from pytensor.tensor.elemwise import Elemwise

    dtype = str(getattr(var.type, "dtype", ""))
    if not dtype.startswith(("int", "uint")) or getattr(var.type, "ndim", 0) != 0:
        return None
    if isinstance(var, Constant):
        return {1: int(np.asarray(var.data))}
    node = var.owner
    if node is None or depth > 64:
        return {("var", var): 1}
    op = node.op
    if isinstance(op, (ScalarFromTensor, TensorFromScalar)):
        return _form(node.inputs[0], depth + 1)
    if isinstance(op, Elemwise):
        args = [_form(v, depth + 1) for v in node.inputs]
        return _scalar_form(op.scalar_op, args, node.outputs.index(var), depth)
    length = _length_of_shape(var, depth)
    if length is not None:
        return length
    return {("var", var): 1}


def _scalar_form(scalar_op, args, index: int, depth: int):
    import pytensor.scalar as ps

    if any(a is None for a in args):
        return None
    if isinstance(scalar_op, ps.Composite):
        inner = dict(zip(scalar_op.fgraph.inputs, args, strict=True))
        for node in scalar_op.fgraph.toposort():
            node_args = [inner[v] if v in inner else _const_form(v)
                         for v in node.inputs]
            for k, out in enumerate(node.outputs):
                inner[out] = _scalar_form(node.op, node_args, k, depth + 1)
        out = scalar_op.fgraph.outputs[index]
        return inner.get(out) if out in inner else _const_form(out)
    if isinstance(scalar_op, (ps.Identity, ps.Cast)):
        return args[0]
    if isinstance(scalar_op, (ps.Add, ps.Sub, ps.Neg, ps.Mul)):
        form = linear(scalar_op, args)
        if form is not None:
            return form
    if isinstance(scalar_op, ps.ScalarMinimum):  # nested minima are one
        terms = set()
        for a in args:
            key = _key(a)
            if isinstance(key, tuple) and key[:1] == ("min",):
                terms |= key[1]
            else:
                terms.add(key)
        return {("min", frozenset(terms)): 1}
    return {(type(scalar_op).__name__, str(scalar_op), tuple(_key(a) for a in args)): 1}


def _const_form(var):
    from pytensor.graph.basic import Constant

    if isinstance(var, Constant) and str(var.type.dtype).startswith(("int", "uint")):
        return {1: int(np.asarray(var.data))}
    return None


def _key(form):
    """A hashable stand-in for a form: the term itself when the form is one term."""
    items = {t: k for t, k in form.items() if not (t == 1 and k == 0)}
    if len(items) == 1:
        ((term, k),) = items.items()
        if k == 1 and term != 1:
            return term
    return ("sum", frozenset(items.items()))


def _length_of_shape(var, depth: int):
    """``len(x, axis)`` for ``x.shape[axis]`` spelled as Shape_i or Shape()[axis]."""
    from pytensor.graph.basic import Constant
    from pytensor.tensor.shape import Shape, Shape_i
    from pytensor.tensor.subtensor import Subtensor

    node = var.owner
    if isinstance(node.op, Shape_i):
        return length(node.inputs[0], node.op.i, depth + 1)
    if (isinstance(node.op, Subtensor) and len(node.inputs) == 2
            and node.inputs[0].owner is not None
            and isinstance(node.inputs[0].owner.op, Shape)
            and isinstance(node.inputs[1], Constant)):
        shaped = node.inputs[0].owner.inputs[0]
        return length(shaped, int(node.inputs[1].data), depth + 1)
    return None


def length(x, axis: int, depth: int = 0):
    """The form of ``x.shape[axis]``.  Where slicing clips (``x[:-1]`` of an empty
    ``x``) the true length is larger than the form, never smaller: a proof that a
    buffer is long enough stays sound."""
    from pytensor.raise_op import CheckAndRaise
    from pytensor.tensor.basic import Alloc, AllocEmpty
    from pytensor.tensor.elemwise import DimShuffle, Elemwise
    from pytensor.tensor.subtensor import IncSubtensor, Subtensor

    static = x.type.shape[axis] if axis < x.type.ndim else None
    if static is not None:
        return {1: int(static)}
    opaque = {("len", x, axis): 1}
    node = x.owner
    if node is None or depth > 64:
        return opaque
    op = node.op
    if isinstance(op, AllocEmpty):
        return _form(node.inputs[axis], depth + 1) or opaque
    if isinstance(op, Alloc):
        return _form(node.inputs[1 + axis], depth + 1) or opaque
    if isinstance(op, IncSubtensor | CheckAndRaise):
        return length(node.inputs[0], axis, depth + 1)
    if isinstance(op, DimShuffle):
        source = op.new_order[axis]
        return {1: 1} if source == "x" else length(node.inputs[0], source, depth + 1)
    if isinstance(op, Elemwise):
        for inp in node.inputs:
            if inp.type.ndim == x.type.ndim and inp.type.shape[axis] != 1:
                return length(inp, axis, depth + 1)
        return opaque
    form = None
    if isinstance(op, Scan) and not op.info.as_while:
        form = _scan_length(node, x, axis, depth)
    elif isinstance(op, Subtensor):
        form = _subtensor_length(node, axis, depth)
    return opaque if form is None else form


def _scan_length(node, x, axis: int, depth: int):
    """The form of a Scan result's length (None: not known)."""
    op = node.op
    k = node.outputs.index(x)
    n_traced = op.info.n_mit_mot + op.info.n_mit_sot + op.info.n_sit_sot
    if k < n_traced:  # a state's result is as long as its buffer
        return length(node.inputs[1 + op.info.n_seqs + k], axis, depth + 1)
    if k < n_traced + op.info.n_nit_sot and axis == 0:
        size = node.inputs[1 + op.info.n_seqs + op.info.n_untraced_sit_sot + k]
        return _form(size, depth + 1) or None
    return None


def _subtensor_length(node, axis: int, depth: int):
    """The form of a basic slice's length along ``axis`` (None: not known)."""
    from pytensor.graph.basic import Constant
    from pytensor.tensor.subtensor import get_idx_list

    op = node.op
    idx = get_idx_list(node.inputs, op.idx_list)
    dropped = sum(not isinstance(i, slice) for i in idx[:axis])
    source = node.inputs[0]
    if axis >= len(idx) - dropped and all(isinstance(i, slice) for i in idx):
        return length(source, axis, depth + 1)
    if dropped or axis >= len(idx) or not isinstance(idx[axis], slice):
        return None
    s = idx[axis]

    def const(v):
        return int(v.data) if isinstance(v, Constant) else None

    step = 1 if s.step is None else const(s.step)
    if step == -1 and s.start is None and s.stop is None:  # x[::-1]
        return length(source, axis, depth + 1)
    if step != 1 or (s.start is not None and const(s.start) != 0):
        return None
    if s.stop is None:
        return length(source, axis, depth + 1)
    whole = length(source, axis, depth + 1)
    stop = const(s.stop)
    if stop is not None and stop < 0:
        return combine([whole, {1: stop}], [1, 1])
    stop = _form(s.stop, depth + 1)
    if stop is None:
        return None
    key, whole_key = _key(stop), _key(whole)
    if key == whole_key or (isinstance(key, tuple) and key[:1] == ("min",)
                            and whole_key in key[1]):
        return stop  # x[:n] with n no more than x's length
    return {("min", frozenset({key, whole_key})): 1}


def difference(a, b):
    """``a - b`` (integer scalars, or their forms) as a constant when the graph
    shows it is one, else None."""
    a, b = (x if isinstance(x, dict) else _form(x) for x in (a, b))
    if a is None or b is None:
        return None
    diff = combine([a, b], [1, -1])
    if set(diff) <= {1}:
        return diff.get(1, 0)
    return None


def at_least(a, b, c: int) -> bool:
    """Whether the graph shows ``a - b >= c`` (integer scalars or forms); ``b`` may
    be a minimum, no more than any of its terms."""
    a, b = (x if isinstance(x, dict) else _form(x) for x in (a, b))
    if a is None or b is None:
        return False
    diff = difference(a, b)
    if diff is not None:
        return diff >= c
    key = _key(b)
    if isinstance(key, tuple) and key[:1] == ("min",):
        return any(at_least(a, _unkey(term), c) for term in key[1])
    return False


def _unkey(key) -> dict:
    if isinstance(key, tuple) and key[:1] == ("sum",):
        return dict(key[1])
    return {key: 1}


def covers_steps(seq, n_steps) -> bool:
    """Whether a sequence provably has ``n_steps`` entries or more (as the ones
    ``pytensor.scan`` slices to the shortest's length)."""
    return at_least(length(seq, 0), n_steps, 0)
