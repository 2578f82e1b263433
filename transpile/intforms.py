"""Integer scalar arithmetic decided at transpile time, from what lengths are.

PyTensor's subtensor rewrites turn ``h[::-1][1:]`` into one slice whose bounds are a
page of ``switch``/``max``/``min`` over the lengths involved, written for any sign of
any of them.  Lengths are never negative; with that one fact most of those switches
are decided, and what is left is ``n - 1`` or ``0``.

A value is a *form*: a dict from term to integer coefficient, the key ``1`` holding
the constant.  Terms are opaque: ``("len", x, axis)`` for ``x.shape[axis]`` (never
negative), ``("steps", scan)`` for the steps a while loop takes (never negative) and
``("var", v)`` for any other integer (any sign).  Forms here are exact
(unlike the proofs of ``lower/scan.py``'s ``_length``, which may under-estimate a
clipped slice): a Switch or a comparison is decided only when it holds for every value
of the terms.
"""

from __future__ import annotations

import numpy as np

MAX_DEPTH = 64


def constant(value: int) -> dict:
    """The form of a number (no zero entries: equal forms are equal dicts)."""
    return {1: int(value)} if value else {}


def combine(forms, coefficients) -> dict:
    out: dict = {}
    for form, c in zip(forms, coefficients, strict=True):
        for term, k in form.items():
            out[term] = out.get(term, 0) + c * k
    return {term: k for term, k in out.items() if k != 0}


def _nonnegative(term) -> bool:
    return isinstance(term, tuple) and term[:1] in (("len",), ("steps",))


def bounds(form) -> tuple[int | None, int | None]:
    """The least and greatest values of ``form`` over every value of its terms
    (None: unbounded)."""
    low = high = form.get(1, 0)
    for term, k in form.items():
        if term == 1 or k == 0:
            continue
        if not _nonnegative(term):
            return None, None
        if k > 0:
            high = None
        else:
            low = None
    return low, high


def sign_at_least_zero(form) -> bool | None:
    """Whether ``form >= 0`` for every value of its terms (True), for none (False),
    or it depends (None)."""
    low, high = bounds(form)
    if low is not None and low >= 0:
        return True
    if high is not None and high < 0:
        return False
    return None


def decide(scalar_op, forms, truths, condition=None):
    """What a scalar Op computes from its inputs' forms (None: unknown) and truth
    values (None: unknown): ``(form, truth, choice)``, where ``choice`` is the
    index of the input the result always equals (a decided Switch, max or min).
    ``condition``: for a Switch, the comparison its condition is, as
    ``(Op class, left form, right form)``: ``switch(a < b, a, b)`` is ``min(a, b)``."""
    import pytensor.scalar as ps

    form = truth = choice = None
    if isinstance(scalar_op, ps.Switch):
        choice = _switch(forms, truths, condition)
    elif isinstance(scalar_op, (ps.ScalarMaximum, ps.ScalarMinimum)):
        choice = _extremum(isinstance(scalar_op, ps.ScalarMaximum), forms)
    elif isinstance(scalar_op, (ps.LT, ps.GT, ps.LE, ps.GE, ps.EQ, ps.NEQ)):
        truth = _compare(type(scalar_op), forms)
    elif isinstance(scalar_op, (ps.AND, ps.OR)) and len(truths) == 2:
        truth = _logic(isinstance(scalar_op, ps.AND), truths)
    elif isinstance(scalar_op, ps.Identity) and forms[0] is not None:
        choice = 0
    elif isinstance(scalar_op, (ps.Add, ps.Sub, ps.Neg, ps.Mul)) and all(
            f is not None for f in forms):
        form = linear(scalar_op, forms)
    if choice is not None:
        form, truth = forms[choice], truths[choice]
    return form, truth, choice


def _at_least(a, b, c: int = 0) -> bool | None:
    """Whether ``a - b >= c`` always (True), never (False), or it depends."""
    return sign_at_least_zero(combine([a, b, constant(c)], [1, -1, -1]))


def in_range(index, length) -> bool:
    """Whether ``-length <= index < length`` for every value of their terms: an
    index of an axis of that length, counted from either end."""
    return (sign_at_least_zero(combine([length, index], [1, 1])) is True
            and _at_least(length, index, 1) is True)


def key(form) -> frozenset:
    """A hashable stand-in for ``form`` (equal forms, equal keys)."""
    return frozenset(form.items())


def _greater_first(a, b) -> bool | None:
    """True when ``a >= b`` always, False when ``b >= a`` always, else None."""
    first = _at_least(a, b)
    if first is None and _at_least(b, a) is True:
        return False
    return first


def _switch(forms, truths, condition) -> int | None:
    import pytensor.scalar as ps

    if truths[0] is not None:
        return 1 if truths[0] else 2
    if forms[1] is None or forms[2] is None:
        return None
    if forms[1] == forms[2]:
        return 1
    if condition is None:
        return None
    # a < b ? a : b is the lesser; a < b ? b : a the greater (ties alike)
    cmp, left, right = condition
    less = cmp in (ps.LT, ps.LE)
    if (forms[1], forms[2]) not in ((left, right), (right, left)) or not (
            less or cmp in (ps.GT, ps.GE)):
        return None
    wants_min = less == (forms[1] == left)
    first = _greater_first(forms[1], forms[2])
    return None if first is None else (1 if first != wants_min else 2)


def _extremum(wants_max: bool, forms) -> int | None:
    if len(forms) != 2 or forms[0] is None or forms[1] is None:
        return None
    first = _greater_first(forms[0], forms[1])
    return None if first is None else (0 if first == wants_max else 1)


def _compare(cmp, forms) -> bool | None:
    import pytensor.scalar as ps

    a, b = forms
    if a is None or b is None:
        return None
    if cmp in (ps.EQ, ps.NEQ):
        difference = combine([a, b], [1, -1])
        if set(difference) <= {1}:
            return (difference.get(1, 0) == 0) == (cmp is ps.EQ)
        above = sign_at_least_zero(combine([difference, constant(1)], [1, -1]))
        below = sign_at_least_zero(combine([difference, constant(1)], [-1, -1]))
        if above is not None and below is not None and (above or below):
            return cmp is ps.NEQ  # never zero: above 0 or below 0
        return None
    left, right, c = {ps.LT: (b, a, 1), ps.GT: (a, b, 1), ps.LE: (b, a, 0),
                      ps.GE: (a, b, 0)}[cmp]
    return _at_least(left, right, c)


def _logic(conjunction: bool, truths) -> bool | None:
    if conjunction:
        return False if False in truths else (True if truths == [True, True] else None)
    return True if True in truths else (False if truths == [False, False] else None)


def linear(scalar_op, forms) -> dict | None:
    """The form of an Add, Sub, Neg or Mul of forms (None: a product of two terms)."""
    import pytensor.scalar as ps

    if isinstance(scalar_op, ps.Add):
        return combine(forms, [1] * len(forms))
    if isinstance(scalar_op, ps.Sub):
        return combine(forms, [1, -1])
    if isinstance(scalar_op, ps.Neg):
        return combine(forms, [-1])
    constants = [f.get(1, 0) for f in forms if set(f) <= {1}]
    others = [f for f in forms if not set(f) <= {1}]
    factor = int(np.prod(constants)) if constants else 1
    if not others:
        return constant(factor)
    return combine(others, [factor]) if len(others) == 1 else None


def _is_wide_int(var) -> bool:
    """An int64 (or narrower signed) 0-d integer: its arithmetic cannot wrap for
    lengths, as uint64's or int8's could."""
    dtype = str(getattr(var.type, "dtype", ""))
    return getattr(var.type, "ndim", 0) == 0 and dtype in ("int64", "int32")


def term_of(var) -> tuple:
    """The term ``var`` stands for: a length for ``x.shape[axis]``, else itself."""
    from pytensor.graph.basic import Constant
    from pytensor.tensor.shape import Shape, Shape_i
    from pytensor.tensor.subtensor import Subtensor

    node = var.owner
    if node is not None and isinstance(node.op, Shape_i):
        return ("len", node.inputs[0], node.op.i)
    if (node is not None and isinstance(node.op, Subtensor) and len(node.inputs) == 2
            and node.inputs[0].owner is not None
            and isinstance(node.inputs[0].owner.op, Shape)
            and isinstance(node.inputs[1], Constant)):
        return ("len", node.inputs[0].owner.inputs[0], int(node.inputs[1].data))
    return ("var", var)


def form_of(var, depth: int = 0, memo: dict | None = None) -> dict | None:
    """``var`` (a 0-d integer of the graph) as an exact form, or None.  ``memo``
    keeps the forms found (each variable is evaluated once: a graph of lengths is a
    DAG, and its paths may be many)."""
    memo = {} if memo is None else memo
    if var not in memo:
        memo[var] = _form_of(var, depth, memo)
    return memo[var]


def _form_of(var, depth: int, memo: dict) -> dict | None:
    from pytensor.graph.basic import Constant
    from pytensor.tensor.basic import ScalarFromTensor, TensorFromScalar
    from pytensor.tensor.elemwise import Elemwise

    if isinstance(var, Constant):
        data = np.asarray(var.data)
        return constant(int(data)) if data.ndim == 0 and data.dtype.kind in "iu" else None
    if not _is_wide_int(var):
        return None
    node = var.owner
    if node is None or depth > MAX_DEPTH:
        return {term_of(var): 1}
    if isinstance(node.op, (ScalarFromTensor, TensorFromScalar)):
        return form_of(node.inputs[0], depth + 1, memo) or {term_of(var): 1}
    if isinstance(node.op, Elemwise) and all(getattr(v.type, "ndim", 0) == 0
                                             for v in node.inputs):
        forms = [form_of(v, depth + 1, memo) for v in node.inputs]
        value = evaluate(node.op.scalar_op, forms, node.outputs.index(var))
        if value is not None:
            return value
    return {term_of(var): 1}


def evaluate(scalar_op, forms, index: int = 0) -> dict | None:
    """The form of output ``index`` of ``scalar_op`` (a Composite: its inner graph)
    applied to inputs of ``forms``."""
    import pytensor.scalar as ps

    if not isinstance(scalar_op, ps.Composite):
        return decide(scalar_op, forms, [None] * len(forms))[0]
    values, truths = run(scalar_op.fgraph, forms)
    return values.get(scalar_op.fgraph.outputs[index])


def run(fgraph, forms) -> tuple[dict, dict]:
    """Forms and truth values of every variable of a scalar inner graph."""
    from pytensor.graph.basic import Constant

    values = dict(zip(fgraph.inputs, forms, strict=True))
    truths: dict = {}
    conditions: dict = {}
    for node in fgraph.toposort():
        if len(node.outputs) != 1:
            continue
        ins = [values.get(v) if v in values else _constant_form(v) for v in node.inputs]
        bools = [truths.get(v) if not isinstance(v, Constant) else _constant_truth(v)
                 for v in node.inputs]
        (out,) = node.outputs
        form, truth, _ = decide(node.op, ins, bools, conditions.get(node.inputs[0]))
        note(node, ins, form, truth, values, truths, conditions)
    return values, truths


COMPARISONS = ("LT", "GT", "LE", "GE")


def note(node, ins, form, truth, values, truths, conditions) -> None:
    """Record what ``decide`` found about a node's one output."""
    (out,) = node.outputs
    if form is not None and str(out.type.dtype) in ("int64", "int32"):
        values[out] = form
    if truth is not None:
        truths[out] = truth
    elif type(node.op).__name__ in COMPARISONS and all(f is not None for f in ins):
        conditions[out] = (type(node.op), ins[0], ins[1])


def _constant_form(var):
    from pytensor.graph.basic import Constant

    if isinstance(var, Constant):
        data = np.asarray(var.data)
        if data.ndim == 0 and data.dtype.kind in "iu":
            return constant(int(data))
    return None


def _constant_truth(var):
    data = np.asarray(var.data)
    return bool(data) if data.dtype == bool else None


# ---- lengths ----------------------------------------------------------------------


class Facts:
    """What a module's graphs show about integers and lengths, found once per
    variable: ``learn`` goes through a graph in order, so every length is found
    from its inputs' (no deep recursion, and the same answer wherever it is asked)."""

    def __init__(self):
        # a Scan body's input -> (the outer array, axis offset) whose lengths it has:
        # a sequence's entry ``seq[t]`` has ``seq``'s trailing ones
        self.within: dict = {}
        self.forms: dict = {}  # variable -> its form (form_of)
        self.lengths: dict = {}  # (variable, axis) -> the form of its length

    def learn(self, fgraph) -> None:
        for node in fgraph.toposort():
            for var in node.outputs:
                for axis in range(getattr(var.type, "ndim", 0) or 0):
                    self.length(var, axis)
                if getattr(var.type, "ndim", None) == 0:
                    self.form(var)

    def form(self, var) -> dict | None:
        return form_of(var, memo=self.forms)

    def length(self, var, axis: int) -> dict:
        """The exact form of ``var.shape[axis]``: through the Ops whose output
        lengths are their inputs' or their own inputs' values; else the opaque
        length itself."""
        key = (var, axis)
        if key not in self.lengths:
            self.lengths[key] = self._length(var, axis)
        return self.lengths[key]

    def same(self, a, axis_a: int, b, axis_b: int) -> bool:
        """Whether ``a.shape[axis_a] == b.shape[axis_b]`` whatever the inputs are."""
        return self.length(a, axis_a) == self.length(b, axis_b)

    def _length(self, var, axis: int) -> dict:
        from pytensor.raise_op import CheckAndRaise
        from pytensor.scan.op import Scan
        from pytensor.tensor.basic import Alloc, AllocEmpty
        from pytensor.tensor.elemwise import DimShuffle, Elemwise
        from pytensor.tensor.subtensor import IncSubtensor, Subtensor, get_idx_list

        if var in self.within:
            outer, offset = self.within[var]
            return self.length(outer, axis + offset)
        static = var.type.shape[axis] if axis < var.type.ndim else None
        if static is not None:
            return constant(static)
        node, found = var.owner, None
        op = node.op if node is not None else None
        if isinstance(op, AllocEmpty):
            found = self.form(node.inputs[axis])
        elif isinstance(op, Alloc):
            found = self.form(node.inputs[1 + axis])
        elif isinstance(op, IncSubtensor | CheckAndRaise):
            found = self.length(node.inputs[0], axis)
        elif isinstance(op, DimShuffle):
            source = op.new_order[axis]
            found = constant(1) if source == "x" else self.length(node.inputs[0], source)
        elif isinstance(op, Elemwise):  # inputs of unknown length agree (it checks so)
            source = next((v for v in node.inputs if v.type.ndim == var.type.ndim
                           and v.type.shape[axis] != 1), None)
            if source is not None:
                found = self.length(source, axis)
        elif isinstance(op, Subtensor):
            found = self.sliced(node.inputs[0], get_idx_list(node.inputs, op.idx_list), axis)
        elif isinstance(op, Scan) and not op.info.as_while:
            k, info = node.outputs.index(var), op.info
            n_traced = info.n_mit_mot + info.n_mit_sot + info.n_sit_sot
            if k < n_traced:  # a state's result is its buffer
                found = self.length(node.inputs[1 + info.n_seqs + k], axis)
            elif k < n_traced + info.n_nit_sot and axis == 0:
                found = self.form(node.inputs[1 + info.n_seqs + info.n_untraced_sit_sot + k])
        elif isinstance(op, Scan) and axis == 0:  # a while loop: its steps are unknown,
            # but a state's trace keeps its initial entries
            k, info = node.outputs.index(var), op.info
            taps = (info.mit_sot_in_slices + info.sit_sot_in_slices)
            if info.n_mit_mot <= k < info.n_mit_mot + len(taps):
                found = {("steps", node): 1, 1: -min(taps[k - info.n_mit_mot])}
        return found if found is not None else {("len", var, axis): 1}

    def sliced(self, x, entries, axis: int) -> dict | None:
        """The exact length of axis ``axis`` of ``x[entries]`` (basic indexing),
        where the slice's bounds decide it; else None."""
        from pytensor.graph.basic import Constant

        slices = [k for k, e in enumerate(entries) if isinstance(e, slice)]
        if axis >= len(slices):  # an axis after the indexed ones
            return self.length(x, axis + len(entries) - len(slices))
        s = entries[slices[axis]]
        whole = self.length(x, slices[axis])

        def const(v):
            if v is None:
                return None
            return int(v.data) if isinstance(v, Constant) else "?"

        start, stop, step = const(s.start), const(s.stop), const(s.step)
        if start is None and stop is None and step in (None, 1, -1):
            return whole
        if step not in (None, 1) or start == "?" or (start or 0) < 0:
            return None
        start = start or 0
        if stop is None or (stop != "?" and stop < 0):
            rest = combine([whole, constant(start - (stop or 0))], [1, -1])
            return rest if sign_at_least_zero(rest) else None
        end = constant(stop) if stop != "?" else self.form(s.stop)
        if end is None or sign_at_least_zero(end) is not True:
            return None
        if sign_at_least_zero(combine([whole, end], [1, -1])) is not True:
            return None  # the stop may be past the end (clipped)
        rest = combine([end, constant(start)], [1, -1])
        return rest if sign_at_least_zero(rest) else None


def length_of(var, axis: int) -> dict:
    """``Facts().length``: for a graph no plan has learnt."""
    return Facts().length(var, axis)


def sliced_length(x, entries, axis: int) -> dict | None:
    return Facts().sliced(x, entries, axis)


def same_length(a, axis_a: int, b, axis_b: int) -> bool:
    return Facts().same(a, axis_a, b, axis_b)
