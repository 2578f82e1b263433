"""PyMC models -> one module with the joint log-density and its gradient.

    import transpile.pymc
    source = transpile.pymc.from_pymc(model, "model_logp.py")

The generated module has two entries over the model's value variables
(``model.value_vars``, in that order, one argument each):

    logp(<value vars>)       -> the joint log-density, ``model.logp()``
    logp_dlogp(<value vars>) -> (logp, dlogp), dlogp = ``model.dlogp()``

``dlogp`` is PyMC's own layout: the gradients with respect to the continuous value
variables, each flattened in C order, concatenated in ``model.value_vars`` order.
The module documents every value variable (name, dtype, shape, transform, the model
variable it stands for, its slice of ``dlogp``) in its docstring and in the
module-level ``VALUE_VARIABLES`` and ``DLOGP_SLICES`` tuples.

PyMC is imported only here, when a model is transpiled; the generated module needs
numba and numpy alone.  ``build_module`` is the assembler's multi-entry form: it
builds several graphs into one ``ModuleBuilder``, so helpers, constants and
exception classes are emitted once.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .errors import GraphError, TranspileError

METADATA_NAMES = ("VALUE_VARIABLES", "DLOGP_SLICES", "MODEL_DATA")


@dataclass(frozen=True)
class ValueVariable:
    """One argument of the generated entries: a PyMC value variable."""

    name: str  # PyMC's name of the value variable: "sigma_log__"
    dtype: str
    shape: tuple  # concrete, from the model's initial point
    transform: str | None  # the transform's name ("log", "interval", ...), None if none
    variable: str  # the model variable it stands for: "sigma"
    description: str  # how the model variable is computed from the value
    gradient: tuple | None  # (start, stop) in dlogp, None for discrete variables

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= int(s)
        return n


# ---- describing transforms --------------------------------------------------------


def _constant(var):
    """The Python number a bound variable holds, or None when it is symbolic."""
    if var is None:
        return None
    if isinstance(var, (int, float)):
        return var
    try:
        from pytensor.tensor.basic import get_underlying_scalar_constant_value

        value = get_underlying_scalar_constant_value(var)
    except Exception:  # noqa: BLE001 - NotScalarConstantError and friends
        return None
    value = value.item() if hasattr(value, "item") else value
    return int(value) if float(value).is_integer() else float(value)


def _describe(transform, rv, value: str, var: str) -> str:
    """How ``var`` (the model variable) follows from ``value`` (the argument)."""
    if transform is None:
        return f"{var} itself (no transform)"
    kind = getattr(transform, "name", type(transform).__name__)
    if kind == "chain":
        steps = [_describe(t, rv, value, var) for t in transform.transform_list]
        return "chained: " + "; then ".join(steps)
    if kind == "log":
        return f"{var} = exp({value})"
    if kind == "logodds":
        return f"{var} = sigmoid({value})"
    if kind == "interval":
        try:
            a, b = transform.args_fn(*rv.owner.inputs)
        except Exception:  # noqa: BLE001 - a user's bounds_fn
            a = b = object()
        lo, hi = (None if x is None else _constant(x) for x in (a, b))
        if a is not None and b is not None and lo is not None and hi is not None:
            return f"{var} = {lo} + ({hi} - {lo}) * sigmoid({value})"
        if a is not None and b is None and lo is not None:
            return f"{var} = {lo} + exp({value})"
        if a is None and b is not None and hi is not None:
            return f"{var} = {hi} - exp({value})"
        return (f"{var} in an interval whose bounds depend on other variables "
                f"(lower + exp / upper - exp / logistic scaling of {value})")
    if kind == "simplex":
        return (f"{var} = softmax(concatenate([{value}, [-sum({value})]])) on the last "
                f"axis, which is one shorter than {var}'s")
    if kind == "ordered":
        return (f"{var} = cumsum(concatenate([{value}[:1], exp({value}[1:])])) "
                "(last axis)")
    if kind == "sumto1":
        return f"{var} = concatenate([{value}, [1 - sum({value})]]) (last axis)"
    if kind == "cholesky-cov-packed":
        return (f"{var} = {value} with exp() applied to the diagonal entries: the "
                "lower-triangular Cholesky factor packed row by row")
    if kind == "zerosum":
        axes = getattr(transform, "zerosum_axes", None)
        return (f"{var} = {value} extended to sum to zero along axes {axes} (each one "
                f"entry longer than {value}'s)")
    if kind == "log_exp_m1":
        return f"{var} = softplus({value}) = log(1 + exp({value}))"
    if kind == "circular":
        return f"{var} = arctan2(sin({value}), cos({value}))"
    qualname = f"{type(transform).__module__}.{type(transform).__qualname__}"
    return f"{var} = {qualname}.backward({value})"


def value_variables(model, point=None) -> list[ValueVariable]:
    """The model's value variables, in ``model.value_vars`` order, described."""
    point = model.initial_point() if point is None else point
    continuous = set(model.continuous_value_vars)
    result, offset = [], 0
    for value_var in model.value_vars:
        rv = model.values_to_rvs[value_var]
        transform = model.rvs_to_transforms.get(rv)
        shape = tuple(int(s) for s in point[value_var.name].shape)
        name = value_var.name
        kind = None if transform is None else getattr(transform, "name",
                                                       type(transform).__name__)
        item = ValueVariable(name, value_var.type.dtype, shape, kind, rv.name,
                             _describe(transform, rv, name, rv.name), None)
        if value_var in continuous:
            item = replace(item, gradient=(offset, offset + item.size))
            offset += item.size
        result.append(item)
    return result


# ---- the graphs -----------------------------------------------------------------


def model_graphs(model):
    """``(inputs, logp, dlogp)``: the value variables (with the concrete shapes of the
    initial point, so the generated loops have static bounds) and the two outputs."""
    from pytensor.graph.replace import graph_replace

    if not model.value_vars:
        raise GraphError("the model has no free variables: there is no density to "
                         "evaluate")
    if not model.continuous_value_vars:
        raise GraphError("the model has no continuous free variables: dlogp is empty")
    point = model.initial_point()
    try:
        logp = model.logp()
        dlogp = model.dlogp()
    except Exception as exc:  # noqa: BLE001 - PyMC's own failure to build the graph
        detail = str(exc).splitlines()[0] if str(exc) else ""
        raise GraphError(f"PyMC cannot build the model's logp: {type(exc).__name__}"
                         f"{': ' + detail if detail else ''}") from None
    inputs = []
    for var in model.value_vars:
        shape = tuple(int(s) for s in point[var.name].shape)
        inputs.append(var.type.clone(shape=shape)(name=var.name))
    replacements = dict(zip(model.value_vars, inputs, strict=True))
    logp, dlogp = graph_replace([logp, dlogp], replacements, strict=False)
    logp.name = "logp"
    dlogp.name = "dlogp"
    return inputs, logp, dlogp


@dataclass(frozen=True)
class DataInput:
    """A model's data as an argument of the entries: observed values or a
    ``pm.Data`` container, with its current value as the default."""

    name: str  # the argument's name and its key in the module's DATA
    variable: object  # the graph input standing for it
    default: object  # numpy array
    kind: str  # "observed y" or "pm.Data"
    original: object = None  # the model's variable it replaces


def model_data_inputs(model, logp, dlogp):
    """``(logp, dlogp, data)``: the graphs with each of the model's data (observed
    values, ``pm.Data`` containers) replaced by an input of the same dtype and rank
    (any lengths), and those inputs, so that a module evaluates the model on new data
    without being generated again."""
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant
    from pytensor.graph.replace import clone_replace
    from pytensor.tensor.type import TensorType

    from .compat import graph_inputs

    reached = {id(v) for v in graph_inputs([logp, dlogp])}
    found = {}
    for var in getattr(model, "data_vars", []):
        found.setdefault(id(var), (var, var.name, "pm.Data"))
    for rv in model.observed_RVs:
        var = model.rvs_to_values[rv]
        found.setdefault(id(var), (var, rv.name, f"observed {rv.name}"))
    data, replacements, taken = [], {}, {v.name for v in model.value_vars}
    for var, name, kind in found.values():
        if id(var) not in reached or not isinstance(var.type, TensorType) \
                or not isinstance(var, (Constant, SharedVariable)):
            continue
        value = var.get_value() if isinstance(var, SharedVariable) else var.data
        name = name or "data"
        while name in taken:
            name += "_data"
        taken.add(name)
        new = TensorType(var.type.dtype, shape=(None,) * var.type.ndim)(name=name)
        replacements[var] = new
        data.append(DataInput(name, new, np.asarray(value), kind, var))
    if replacements:
        # Rebuilt node by node, so that the types downstream lose the data's static
        # lengths too (graph_replace would keep them, putting specify_shape(y, 1000)
        # on the new input).
        logp, dlogp = clone_replace([logp, dlogp], replacements, rebuild_strict=False)
    return logp, dlogp, data


# ---- the multi-entry assembler ----------------------------------------------------


@dataclass(frozen=True)
class Entry:
    name: str  # the function's name
    loaded: object  # a transpile.load.LoadedGraph
    data: tuple = ()  # (key, default) of the graph's last inputs, which are data


def build_module(entries: Sequence[Entry], doc, *, rewrite: bool = True,
                 cache: bool = True, fastmath: bool = False, outputs_meta=None,
                 metadata=(), same_inputs: bool = True, keep_names: bool = False,
                 data_file: str | None = None, extra=(),
                 reserved=()) -> tuple[str, dict]:
    """The formatted source of one module holding an entry per graph, and the data
    arrays it keeps in ``data_file`` (transpile/data.py).

    One ``ModuleBuilder`` (one namespace, helpers and constants emitted once), each
    graph rewritten and lowered into its own entry, assembled by
    ``transpile.assemble.assemble``.  All entries must take the same inputs (unless
    ``same_inputs`` is false); ``INPUTS`` is theirs (the last entry's) and
    ``OUTPUTS`` the last entry's (or ``outputs_meta``).  ``keep_names``: the
    rewritten outputs keep the graph's names (as ``transpile`` keeps them).
    ``metadata`` is ``(NAME, value)`` pairs of plain Python data written after
    ``OUTPUTS``; ``extra`` is libcst statements appended to the module (the names
    they define are reserved), or a function of the built entries
    (``transpile.assemble.BuiltEntry``) and of the data file's name (None when the
    module keeps no data in a file) returning them.  ``doc`` is the docstring,
    or a function of ``INPUTS`` (``(parameter, dtype, shape)`` triples) and of the
    code of the functions (entries and helpers) returning it.
    """
    import libcst as cst

    from . import lower, progress  # noqa: F401  (lower registers the lowerings)
    from .assemble import assemble
    from .context import ModuleBuilder
    from .data import in_file, needs_output_error
    from .format import format_module

    if not entries:
        raise GraphError("no entries to build")
    names = [e.name for e in entries]
    module = ModuleBuilder(names[0], cache=cache, fastmath=fastmath)
    module.rewrite_inner_graphs = rewrite
    _reserve_names(module, names, {key for key, _ in metadata} | set(reserved)
                   | (set() if callable(extra) else _defined_names(extra)))
    # A progress line on a terminal when this takes more than a few seconds.
    with progress.reporting():
        built, inputs_meta = _build_entries(module, entries, rewrite=rewrite,
                                            keep_names=keep_names, same_inputs=same_inputs)
        module.entry_name = names[0]
        if in_file(module.data) and data_file is None:
            raise needs_output_error(len(in_file(module.data)))
        text = doc(inputs_meta, _functions_code(module, built)) if callable(doc) else doc
        values = [(key, cst.parse_expression(repr(value))) for key, value in metadata]
        tree = assemble(module, built, text, inputs_meta, outputs_meta or built[-1].outputs_meta,
                        metadata=values, data_file=data_file)
        extra = extra(built, data_file if in_file(module.data) else None) if callable(extra) \
            else extra
        if extra:
            tree = tree.with_changes(body=[*tree.body, *extra])
        progress.stage("formatting")
        return format_module(tree), dict(module.data)


def _reserve_names(module, names, taken: set) -> None:
    """Reserve the names the module defines besides its entries (``taken``) and the
    entries' own, which must be identifiers, differ, and clash with nothing."""
    from .assemble import check_entry_name

    for key in taken:
        module.namespace.reserve(key)
    for n in names:
        check_entry_name(n, module.runtime.names())
        if n in taken:
            raise TranspileError(f"--name {n!r} clashes with a name the module defines")
        module.namespace.reserve(n)
    if len(set(names)) != len(names):
        raise TranspileError(f"entry names must differ: {names}")


def _build_entries(module, entries, *, rewrite: bool, keep_names: bool,
                   same_inputs: bool) -> tuple[list, list]:
    """Each graph rewritten and lowered into its entry: the built entries and the
    ``INPUTS`` of the module (the last entry's; all the same if ``same_inputs``)."""
    from . import progress
    from .assemble import build_entry, keep_output_names
    from .rewrite import rewrite as rewrite_graph

    built, inputs_meta = [], None
    for entry in entries:
        fgraph = entry.loaded.fgraph
        if not fgraph.outputs:
            raise GraphError("the graph has no outputs")
        if rewrite:
            progress.stage(f"rewriting {entry.name}")
            output_names = [var.name for var in fgraph.outputs]
            rewrite_graph(fgraph)
            if keep_names:
                keep_output_names(fgraph, output_names)
        module.entry_name = entry.name
        one = build_entry(fgraph, module, entry.data)
        if same_inputs and inputs_meta is not None and one.inputs_meta != inputs_meta:
            raise GraphError(f"the entries of one module must take the same inputs: "
                             f"{[i[0] for i in one.inputs_meta]} != "
                             f"{[i[0] for i in inputs_meta]}")
        inputs_meta = inputs_meta if same_inputs and inputs_meta else one.inputs_meta
        built.append(one)
    return built, inputs_meta


def _functions_code(module, built) -> str:
    """The code of the module's functions (bindings, helpers, entries), for a
    docstring made from it."""
    import libcst as cst

    return "\n".join(cst.Module([]).code_for_node(f) for f in
                     [*module.binding_block(), *module.helpers.values(),
                      *(e.function for e in built)])


def _defined_names(statements) -> set[str]:
    """The module-level names ``statements`` bind (functions, classes, assignments)."""
    import libcst as cst

    names = set()
    for stmt in statements:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            names.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    names |= {t.target.value for t in small.targets
                              if isinstance(t.target, cst.Name)}
    return names


def _assigns(stmt, name: str) -> bool:
    import libcst as cst

    return (isinstance(stmt, cst.SimpleStatementLine)
            and isinstance(stmt.body[0], cst.Assign)
            and isinstance(stmt.body[0].targets[0].target, cst.Name)
            and stmt.body[0].targets[0].target.value == name)


def _is_import(stmt, module: str) -> bool:
    import libcst as cst

    if not (isinstance(stmt, cst.SimpleStatementLine)
            and isinstance(stmt.body[0], cst.Import)):
        return False
    return any(cst.Module([]).code_for_node(a.name) == module
               for a in stmt.body[0].names)


def _uses_math(node) -> bool:
    from .walk import count_names

    return count_names(node)["math"] > 0


# ---- the docstring ----------------------------------------------------------------


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return ["    " + "  ".join(c.ljust(w)
                               for c, w in zip(r, widths, strict=True)).rstrip()
            for r in rows]


def _shape_text(shape) -> str:
    inner = ", ".join(str(s) for s in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


# Numba implements these with the BLAS and LAPACK that SciPy ships.
_BLAS_CALLS = ("np.dot(", "np.linalg.", "np.outer(", " @ ", "lapack_routine(")
_NEEDS = ["Needs only numba and numpy at run time.  INPUTS and OUTPUTS give each"]
_NEEDS_BLAS = [
    "Needs only numba and numpy at run time (and SciPy, whose BLAS and",
    "LAPACK Numba's np.dot and np.linalg use).  INPUTS and OUTPUTS give each",
]


def _data_lines(data, name: str) -> list[str]:
    if not data:
        return []
    rows = [["keyword", "dtype", "shape", "what"]]
    rows += [[d.name, d.default.dtype.name, _shape_text(d.default.shape), d.kind]
             for d in data]
    return [
        "The model's data are keyword arguments, their current values the defaults",
        f"(DATA): {name}(..., y=new_y) evaluates the model on other data of the same",
        f"dtype and rank.  {name}_with_data(...) and {name}_dlogp_with_data(...)",
        "take them as positional arguments after the value variables (for @njit",
        "callers).",
        "",
        *_table(rows),
        "",
    ]


def docstring(values: list[ValueVariable], params: list[str], *, name: str,
              dlogp_size: int, source: str, digest: str, options: dict,
              blas: bool = False, data=(), sampler=()) -> str:
    import pymc
    import pytensor

    from . import __version__

    args = ", ".join(params)
    rows = [["argument", "value variable", "dtype", "shape", "dlogp", "transform"]]
    for v, p in zip(values, params, strict=True):
        grad = f"[{v.gradient[0]}:{v.gradient[1]}]" if v.gradient else "-"
        rows.append([p, v.name, v.dtype, _shape_text(v.shape), grad,
                     v.transform or "-"])
    regen = options.get("regenerate") or _regenerate_call(name, options)
    rewrites = ("PyTensor's Numba-mode rewrites, without in-place ones"
                if options["rewrite"] else "none (--no-rewrite)")
    lines = [
        f"Log-density of a PyMC model, generated by transpile {__version__}.",
        "",
        f"    {name}({args}) -> logp",
        f"    {name}_dlogp({args}) -> (logp, dlogp)",
        "",
        "logp is the model's joint log-density, PyMC's model.logp(): every free and",
        "observed variable and potential, with the log-Jacobian of each transform, at",
        f"unconstrained values.  dlogp, shape ({dlogp_size},), is its gradient,",
        "model.dlogp(): the gradients with respect to the continuous value",
        "variables, each flattened in C order, concatenated in argument order.",
        "",
        "Arguments (PyMC's value variables, model.value_vars order):",
        "",
        *_table(rows),
        "",
        *_data_lines(data, name),
        "How each model variable follows from its value variable:",
        "",
        *[f"    {v.name}: {v.description}" for v in values],
        "",
        "A violated parameter check raises ParameterValueError with PyMC's message,",
        "as evaluating model.logp() in PyTensor does (PyMC's compiled functions,",
        "model.compile_logp(), return -inf there instead); values outside a",
        "distribution's support give -inf.",
        "",
        *sampler,
        f"Model:       {source} (sha256 {digest[:16]})",
        f"PyMC:        {pymc.__version__}",
        f"PyTensor:    {pytensor.__version__}",
        f"Rewrites:    {rewrites}",
        f"Regenerate:  {regen}",
        "",
        *(_NEEDS_BLAS if blas else _NEEDS),
        f"argument's and {name}_dlogp's results' name, dtype and static shape;",
        "VALUE_VARIABLES each argument's (PyMC name, dtype, shape, transform, model",
        "variable) and DLOGP_SLICES each continuous one's (PyMC name, start, stop)",
        "in dlogp." + ("  MODEL_DATA lists each data keyword's (name, dtype, current"
                       if data else "  Do not edit: regenerate instead."),
        *(["shape, what) and DATA its current value.  Do not edit: regenerate instead."]
          if data else []),
    ]
    return "\n".join(lines)


def _regenerate_call(name: str, options: dict) -> str:
    kwargs = "".join(f", {k}={v!r}" for k, v, default in (
        ("name", name, "logp"), ("rewrite", options["rewrite"], True),
        ("fastmath", options["fastmath"], False), ("cache", options["cache"], True),
        ("checks", options.get("checks", "neg-inf"), "neg-inf"),
    ) if v != default)
    return f"transpile.pymc.from_pymc(model, <this file>{kwargs})"


def cli_command(source: str, *, name: str = "logp", rewrite: bool = True,
                fastmath: bool = False, cache: bool = True, model_name=None,
                checks: str = "neg-inf") -> str:
    """The ``transpile pymc`` command line that writes this module."""
    flags = [source]
    if model_name is not None:
        flags.append(f"--model-name {model_name}")
    if name != "logp":
        flags.append(f"--name {name}")
    if not rewrite:
        flags.append("--no-rewrite")
    if fastmath:
        flags.append("--fastmath")
    if not cache:
        flags.append("--no-cache")
    if checks != "neg-inf":
        flags.append(f"--checks {checks}")
    return f"transpile pymc {' '.join(flags)} -o <this file>"


# ---- the entry point ----------------------------------------------------------------


def from_pymc(model, path=None, *, name: str = "logp", rewrite: bool = True,
              fastmath: bool = False, cache: bool = True, source: str | None = None,
              regenerate: str | None = None, checks: str = "neg-inf") -> str:
    """The source of a module with ``name(<value vars>) -> logp`` and
    ``name_dlogp(<value vars>) -> (logp, dlogp)`` for the PyMC ``model``, and the
    flat entries for samplers (``transpile.pymc_sampler``: ``logp_dlogp_flat(q)``,
    ``expand(q)``, ``initial_point()``, ``LOGP_CFUNC``), where a violated parameter
    check gives -inf (``checks="neg-inf"``) or raises (``checks="raise"``).

    ``path``, if given, is where the module is written (atomically).  ``source``
    names where the model came from and ``regenerate`` how to write the module again,
    for the docstring (``transpile pymc`` passes the model file and its command).
    """
    import warnings

    from . import pymc_sampler
    from .data import data_file_for, write_module
    from .load import load_object

    _check_options(model, name, checks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs, logp, dlogp = model_graphs(model)
        logp, dlogp, data = model_data_inputs(model, logp, dlogp)
        values = value_variables(model)
        arguments = [*inputs, *(d.variable for d in data)]
        logp_graph = load_object((arguments, [logp]))
        both_graph = load_object((arguments, [logp, dlogp]))
        sampler = pymc_sampler.sampler_parts(model, values, inputs, data)
        if sampler is not None:
            expand_graph = load_object((arguments, list(sampler.outputs)))
    defaults = tuple((d.name, d.default) for d in data)
    dlogp_size = sum(v.size for v in values if v.gradient)
    options = {"rewrite": rewrite, "fastmath": fastmath, "cache": cache,
               "regenerate": regenerate, "checks": checks}

    def doc(inputs_meta, code):
        return docstring(values, [p for p, _, _ in inputs_meta], name=name, data=data,
                         blas=any(call in code for call in _BLAS_CALLS),
                         dlogp_size=dlogp_size, source=source or "<pymc.Model object>",
                         digest=both_graph.digest, options=options,
                         sampler=pymc_sampler.doc_lines(sampler, checks, f"{name}_dlogp",
                                                        data))

    outputs_meta = [("logp", logp.type.dtype, ()), ("dlogp", dlogp.type.dtype, (dlogp_size,))]
    metadata = _metadata(values, data)

    entries = [Entry(name, logp_graph, defaults), Entry(f"{name}_dlogp", both_graph, defaults)]
    extra, reserved = (), ()
    if sampler is not None:
        entries.append(Entry(pymc_sampler.EXPAND_ENTRY, expand_graph, defaults))
        metadata += pymc_sampler.metadata(sampler, checks)
        extra, reserved = _sampler_statements(sampler, values, options), pymc_sampler.RESERVED
    text, arrays = build_module(
        entries, doc, rewrite=rewrite, cache=cache, fastmath=fastmath,
        outputs_meta=outputs_meta, metadata=metadata, data_file=data_file_for(path),
        extra=extra, reserved=reserved)
    if path is not None:
        write_module(path, text, arrays)
    return text


def _sampler_statements(sampler, values, options: dict):
    """The sampler's part of the module (``transpile.pymc_sampler``), made from the
    built entries and the data file's name."""
    from . import pymc_sampler

    def extra(built, file_name):
        return pymc_sampler.statements(sampler, values, built, checks=options["checks"],
                                       cache=options["cache"], fastmath=options["fastmath"],
                                       file_name=file_name)
    return extra


def _check_options(model, name: str, checks: str) -> None:
    try:
        import pymc as pm
    except ImportError:
        raise TranspileError("PyMC is not installed (pip install pymc)") from None
    if not isinstance(model, pm.Model):
        raise TranspileError(f"expected a pymc.Model, got {type(model).__name__}")
    from . import pymc_sampler

    if checks not in pymc_sampler.CHECKS:
        raise TranspileError(f"--checks must be one of {', '.join(pymc_sampler.CHECKS)}, "
                             f"not {checks!r}")
    if name in pymc_sampler.NAMES or f"{name}_dlogp" in pymc_sampler.NAMES:
        raise TranspileError(f"--name {name!r} clashes with a name the module defines")


def _metadata(values, data) -> tuple:
    """The module's description of the model: its value variables, where each one's
    gradient is in ``dlogp``, and the data it was built with."""
    return (
        ("VALUE_VARIABLES", tuple((v.name, v.dtype, v.shape, v.transform, v.variable)
                                  for v in values)),
        ("DLOGP_SLICES", tuple((v.name, *v.gradient) for v in values if v.gradient)),
        *([("MODEL_DATA", tuple((d.name, d.default.dtype.name, d.default.shape, d.kind)
                                for d in data))] if data else []),
    )


__all__ = ["Entry", "ValueVariable", "build_module", "from_pymc", "model_graphs",
           "value_variables"]
