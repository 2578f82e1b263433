"""Rebuild rules for the Ops that are more than their ``__props__``.

Most Ops are rebuilt by :meth:`transpile.rebuild.Rebuilder.op_from_props`: their class
called with their props.  The ones here hold inner graphs (Scan, OpFromGraph and its
subclasses, Composite, ScalarLoop), take their props positionally, or carry an
attribute outside their props that PyTensor sets at construction (an Elemwise's name).
Each rule takes only the parameters its class's constructor takes, rebuilds inner
graphs with the same graph walk as the outer one, and leaves the rest to
``check_extras``: whatever else the pickled Op holds must match what the class built.
"""

from .inert import Global, Record
from .rebuild import _scalar_singletons, init_params, op_handler


def _is_frozen_graph(rec) -> bool:
    return isinstance(rec, Record) and isinstance(rec.func, Global) \
        and rec.func.path == "pytensor.graph.fg.FrozenFunctionGraph" and not rec.new \
        and len(rec.args) == 2

_SCALAR_OWN = {"output_types_preference", "name"}


def _name(rb, state, where):
    name = state.get("name")
    return None if name is None else rb.text(name, f"{where}: name")


@op_handler("pytensor.scalar.basic.ScalarOp")
def rebuild_ScalarOp(rb, cls, rec, where):
    """A scalar Op: PyTensor's own object where the pickle's equals one (``ps.exp``),
    else its class called with its type rule and name."""
    state = rb.state(rec, where)
    rule = rb.data(state["output_types_preference"], f"{where}: output_types_preference") \
        if "output_types_preference" in state else None
    name = _name(rb, state, where)
    single = _scalar_singletons().get((cls, rule))
    if single is not None and name in (None, getattr(single, "name", None)):
        op = single
    else:
        op = rb.build(cls, where, output_types_preference=rule, name=name)
    rb.check_extras(op, state, where, used=_SCALAR_OWN)
    return op


@op_handler("pytensor.scalar.basic.Cast")
def rebuild_Cast(rb, cls, rec, where):
    state = rb.state(rec, where)
    o_type = rb.data(state.get("o_type"), f"{where}: o_type")
    op = rb.build(cls, where, o_type, name=_name(rb, state, where))
    rb.check_extras(op, state, where, used={"o_type", *_SCALAR_OWN})
    return op


def _inner(rb, state, where, inputs_key="inputs", outputs_key="outputs"):
    """The inner graph of an Op: its inputs and outputs, rebuilt (from a pickled
    inner ``FunctionGraph`` where the Op keeps one)."""
    fgraph = state.get("fgraph")
    if fgraph is not None and inputs_key not in state:
        if _is_frozen_graph(fgraph):  # PyTensor 3: FrozenFunctionGraph(inputs, outputs)
            ins, outs = (list(part) if isinstance(part, tuple) else part
                         for part in fgraph.args)
        else:
            fstate = rb.state(fgraph, where)
            ins, outs = fstate.get("inputs"), fstate.get("outputs")
    else:
        ins, outs = state.get(inputs_key), state.get(outputs_key)
    if not isinstance(ins, (list, tuple)) or not isinstance(outs, (list, tuple)):
        raise rb.refuse(where, "an inner graph without inputs and outputs")
    inputs, outputs = rb.graph(list(outs), list(ins), f"{where} inner graph")
    _inputs_only(rb, inputs, outputs, where)
    return inputs, outputs


def _inputs_only(rb, inputs, outputs, where):
    """An inner graph may depend on its inputs and on constants, nothing else."""
    from pytensor.graph.basic import Constant

    from .compat import graph_inputs

    listed = set(map(id, inputs))
    for var in graph_inputs(outputs):
        if id(var) not in listed and not isinstance(var, Constant):
            raise rb.refuse(where, f"the inner graph depends on {var}, which is not among "
                            "its inputs")


@op_handler("pytensor.scalar.basic.Composite")
def rebuild_Composite(rb, cls, rec, where):
    state = rb.state(rec, where)
    inputs, outputs = _inner(rb, state, where)
    op = rb.build(cls, where, inputs, outputs, name=_name(rb, state, where))
    rb.check_extras(op, state, where, used={"inputs", "outputs", "fgraph", *_SCALAR_OWN})
    return op


@op_handler("pytensor.scalar.loop.ScalarLoop")
def rebuild_ScalarLoop(rb, cls, rec, where):
    state = rb.state(rec, where)
    inputs, outputs = _inner(rb, state, where)
    is_while = state.get("is_while") is True
    n_update = len(outputs) - is_while
    op = rb.build(cls, where, init=inputs[:n_update], update=outputs[:n_update],
                  constant=inputs[n_update:], until=outputs[-1] if is_while else None,
                  name=_name(rb, state, where) or "ScalarLoop")
    rb.check_extras(op, state, where, used={"inputs", "outputs", "fgraph", *_SCALAR_OWN})
    return op


@op_handler("pytensor.tensor.elemwise.Elemwise")
def rebuild_Elemwise(rb, cls, rec, where):
    state = rb.state(rec, where)
    props = rb.props(cls, state, where)
    op = rb.build(cls, where, props["scalar_op"], dict(props["inplace_pattern"]),
                  name=_name(rb, state, where))
    rb.check_extras(op, state, where, used={*props, "name"})
    return op


@op_handler("pytensor.tensor.blockwise.Blockwise")
def rebuild_Blockwise(rb, cls, rec, where):
    state = rb.state(rec, where)
    props = rb.props(cls, state, where)
    op = rb.build(cls, where, props["core_op"], signature=props["signature"],
                  name=_name(rb, state, where))
    rb.check_extras(op, state, where, used={*props, "name"})
    return op


@op_handler("pytensor.scan.op.Scan")
def rebuild_Scan(rb, cls, rec, where):
    state = rb.state(rec, where)
    inputs, outputs = _inner(rb, state, where)
    info = rb.data(state.get("info"), f"{where}: info")
    options = {}
    for key, kind in (("truncate_gradient", int), ("allow_gc", bool), ("strict", bool)):
        if key in state:
            value = rb.data(state[key], f"{where}: {key}")
            if not isinstance(value, kind):
                raise rb.refuse(where, f"{key} is {value!r}")
            options[key] = value
    op = rb.build(cls, where, inputs, outputs, info, name=_name(rb, state, where),
                  **options)
    rb.check_extras(op, state, where, used={"fgraph", "inputs", "outputs", "info", "mode",
                                            "profile", "typeConstructor", "name", *options})
    return op


# OpFromGraph's own constructor parameters (beyond inputs/outputs); the overrides are
# gradient rules and the rest compile options: transpile uses neither.
_OFG_OWN = {"inline", "lop_overrides", "grad_overrides", "rop_overrides", "strict",
            "name", "destroy_map", "connection_pattern", "kwargs"}
_OFG_DROPPED = {"lop_overrides", "grad_overrides", "rop_overrides", "_lop_op_interface",
                "_rop_op_interface", "_lop_type", "_rop_type", "_lop_op_stypes_l",
                "set_lop_overrides", "kwargs", "is_inline", "fgraph", "inner_inputs",
                "inner_outputs", "input_types", "output_types", "shared_inputs",
                "_connection_pattern", "mode"}
_OFG_COMPILE_OPTIONS = {"on_unused_input"}


@op_handler("pytensor.compile.builders.OpFromGraph")
def rebuild_OpFromGraph(rb, cls, rec, where):
    state = rb.state(rec, where)
    inputs, outputs = _inner(rb, state, where, "inner_inputs", "inner_outputs")
    kwargs = {"inline": rb.data(state.get("is_inline", False), f"{where}: is_inline") is True,
              "name": _name(rb, state, where)}
    if state.get("_connection_pattern") is not None:
        kwargs["connection_pattern"] = rb.data(state["_connection_pattern"], where)
    compile_options = rb.data(state.get("kwargs") or {}, f"{where}: kwargs")
    if not isinstance(compile_options, dict) or set(compile_options) - _OFG_COMPILE_OPTIONS:
        raise rb.refuse(where, f"compile options {sorted(compile_options)!r}; only "
                        f"{sorted(_OFG_COMPILE_OPTIONS)} are accepted")
    own = set(init_params(cls)) - _OFG_OWN - {"inputs", "outputs"}
    for param in sorted(own):
        if param in state:
            kwargs[param] = rb.data(state[param], f"{where}: {param}")
        elif param in compile_options:
            kwargs[param] = compile_options[param]
    if "kwargs" in init_params(cls) or own & _OFG_COMPILE_OPTIONS == set():
        for key, value in compile_options.items():
            if key not in kwargs and key not in own:
                kwargs[key] = value
    op = rb.build(cls, where, inputs, outputs, **kwargs)
    rb.check_extras(op, state, where, used={*_OFG_DROPPED, *kwargs})
    return op


@op_handler("pytensor.compile.builders.SymbolicOp")
def rebuild_SymbolicOp(rb, cls, rec, where):
    """PyTensor 3's ``SymbolicOp`` subclasses (its ``Softmax``, ...) build their inner
    graph themselves, from their props and their input types.  They are rebuilt that
    way: the pickled inner graph gives only the input types, and what the node
    computes is the class's own graph."""
    state = rb.state(rec, where)
    inputs, _ = _inner(rb, state, where, "inner_inputs", "inner_outputs")
    values = rb.props(cls, state, where)
    op = rb.build(cls, where, input_types=[var.type for var in inputs], **values)
    rb.check_extras(op, state, where, used={*_OFG_DROPPED, *values, "_init_kwargs",
                                            "name", "destroy_map"})
    return op


@op_handler("pytensor.tensor.subtensor.Subtensor", "pytensor.tensor.subtensor.IncSubtensor")
def rebuild_Subtensor(rb, cls, rec, where):
    """A basic index.  PyTensor 2.38 spells each index input of ``idx_list`` by its
    scalar type (``(ScalarType(int64), slice(ScalarType(int64), None, None))``), PyTensor
    3 by its position among the index inputs (``(0, slice(1, None, None))``); a graph
    pickled in 2.38's spelling is read in 3's when that is the one this PyTensor takes.
    Props a newer PyTensor added (IncSubtensor's ``destroyhandler_tolerate_aliased``)
    take their defaults when the pickle has none."""
    state = rb.state(rec, where)
    params = init_params(cls)
    names = [p for p in cls.__props__ if p in state or p not in _DEFAULTED]
    values = rb.props(cls, state, where, names)
    if not isinstance(values["idx_list"], (tuple, list)):
        raise rb.refuse(where, "idx_list is not a sequence")
    values["idx_list"] = _idx_list_spelling(rb, values["idx_list"], where)
    accepted = values if "kwargs" in params else {k: v for k, v in values.items()
                                                   if k in params}
    op = rb.build(cls, where, **accepted)
    rb.check_extras(op, state, where, used={*values, "n_index_vars"})
    return op


# Props a later PyTensor added, whose constructor default is what older graphs meant.
_DEFAULTED = {"destroyhandler_tolerate_aliased"}


def _idx_list_spelling(rb, idx_list, where):
    """``idx_list`` in the spelling this PyTensor's Subtensor takes (see above)."""
    import pytensor
    from pytensor.graph.type import Type
    from pytensor.tensor import subtensor

    if hasattr(subtensor, "index_vars_to_types"):  # 2.38: types are its spelling
        parts = [p for e in idx_list for p in ((e.start, e.stop, e.step)
                                               if isinstance(e, slice) else (e,))]
        if any(isinstance(p, int) for p in parts):
            raise rb.refuse(where, f"an idx_list in PyTensor 3's spelling, which PyTensor "
                            f"{pytensor.__version__} cannot read: pickle the graph with "
                            "the PyTensor that will read it")
        return idx_list
    counter = iter(range(len(idx_list) * 3))

    def position(entry):
        return next(counter) if isinstance(entry, Type) else entry

    return tuple(slice(position(e.start), position(e.stop), position(e.step))
                 if isinstance(e, slice) else position(e) for e in idx_list)
