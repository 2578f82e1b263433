"""``ScalarLoop`` (``pytensor.scalar.loop``): a scalar recurrence run ``n_steps``
times, or until its condition holds: what the gradients of ``gammainc``, ``betainc``
and ``hyp2f1`` are made of.  Lowered where it is applied (an Elemwise loop body, a
Composite), as a ``for`` loop, or a ``while`` loop when it has an ``until``::

    k = np.float64(0.0)
    term = x
    until = False
    step = 0
    while step < n_steps and not until:
        step += 1
        term_next = term * x / (k + 1.0)
        k, term, until = k + 1.0, term_next, abs(term_next) < 1e-15

The state keeps its dtype from step to step (a float32 state is cast back to
float32), as PyTensor's loop does.
"""

import libcst as cst
from pytensor.scalar.loop import ScalarLoop

from .. import syntax as sx
from ..dtypes import cast_if_unnatural
from ..registry import register_scalar
from .scalar import scalar_graph


def _state_name(fn, var, k: int) -> str:
    return fn.fresh(var.name if var.name and not var.name[1:].isdigit() else f"state{k}")


@register_scalar(ScalarLoop)
def scalar_ScalarLoop(op, args, node, fn):
    n_steps, *values = args
    inputs, outputs = op.fgraph.inputs, op.fgraph.outputs
    n_update = len(outputs) - (1 if op.is_while else 0)
    states = []
    given = [v.type.dtype for v in node.inputs[1:]]
    for k, (var, value) in enumerate(zip(inputs[:n_update], values, strict=False)):
        name = _state_name(fn, var, k)
        if given[k] != var.type.dtype:
            value = cast_if_unnatural(value, var.type.dtype)
        fn.emit(sx.assign(name, value))
        states.append(sx.name(name))
    constants = list(values[n_update:])
    if not isinstance(n_steps, (cst.Name, cst.Integer)):
        n_steps = fn.bind_name(fn.fresh("n_steps"), n_steps)
    with fn.block() as body:
        new = scalar_graph(inputs, outputs, [*states, *constants], fn)
        new = [cast_if_unnatural(e, v.type.dtype) for e, v in zip(new, outputs, strict=True)]
    if op.is_while:
        until = fn.fresh("until")
        step = fn.fresh("step")
        fn.emit(sx.assign(until, sx.literal(False)), sx.assign(step, sx.literal(0)))
        targets = [*(s.value for s in states), until]
        loop = sx.while_(
            sx.boolop("and", sx.compare("<", sx.name(step), n_steps),
                      sx.unary("not", sx.name(until))),
            [sx.augassign(sx.name(step), "+", sx.literal(1)), *body,
             _assign_all(targets, new)])
        fn.emit(loop)
        return [*states, sx.name(until)]
    fn.emit(sx.if_(sx.compare("<", n_steps, sx.literal(0)), [sx.raise_(
        "ValueError", "ScalarLoop does not have a termination condition.")]))
    fn.emit(sx.for_range("_", [n_steps], [*body, _assign_all([s.value for s in states],
                                                               new)]))
    return states


def _assign_all(targets, values):
    """``a, b = new_a, new_b`` (``a = new_a`` for one): every state from the step's
    values, none overwritten before the others have read it."""
    if len(targets) == 1:
        return sx.assign(targets[0], values[0])
    return sx.assign(sx.tuple_(sx.name(t) for t in targets), sx.tuple_(values))

