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
from pathlib import Path

from .errors import GraphError, TranspileError

METADATA_NAMES = ("VALUE_VARIABLES", "DLOGP_SLICES")


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


# ---- the multi-entry assembler ----------------------------------------------------


@dataclass(frozen=True)
class Entry:
    name: str  # the function's name
    loaded: object  # a transpile.load.LoadedGraph


def build_module(entries: Sequence[Entry], doc, *, rewrite: bool = True,
                 cache: bool = True, fastmath: bool = False, outputs_meta=None,
                 metadata=(), same_inputs: bool = True, keep_names: bool = False,
                 extra=()) -> str:
    """The formatted source of one module holding an entry per graph.

    Mirrors ``transpile.assemble.generate`` for several graphs: one
    ``ModuleBuilder`` (one namespace, helpers and constants emitted once), each
    graph rewritten and lowered into its own entry.  All entries must take the same
    inputs (unless ``same_inputs`` is false); ``INPUTS`` is theirs (the last
    entry's) and ``OUTPUTS`` the last entry's (or ``outputs_meta``).  ``keep_names``:
    the rewritten outputs keep the graph's names (as ``transpile`` keeps them).
    ``metadata`` is ``(NAME, value)`` pairs of plain Python data written after
    ``OUTPUTS``; ``extra`` is libcst statements appended to the module (the names
    they define are reserved).  ``doc`` is the docstring, or a function of
    ``INPUTS`` (``(parameter, dtype, shape)`` triples) and of the code of the
    functions (entries and helpers) returning it.
    """
    import black
    import libcst as cst

    from . import lower  # noqa: F401  (registers the lowerings)
    from .assemble import BLACK_MODE, assemble, build_entry, check_entry_name, keep_output_names
    from .context import ModuleBuilder
    from .rewrite import rewrite as rewrite_graph

    if not entries:
        raise GraphError("no entries to build")
    names = [e.name for e in entries]
    module = ModuleBuilder(names[0], cache=cache, fastmath=fastmath)
    module.rewrite_inner_graphs = rewrite
    taken = {key for key, _ in metadata} | _defined_names(extra)
    for key in taken:
        module.namespace.reserve(key)
    for n in names:
        check_entry_name(n, module.runtime.names())
        if n in taken:
            raise TranspileError(f"--name {n!r} clashes with a name the module defines")
        module.namespace.reserve(n)
    if len(set(names)) != len(names):
        raise TranspileError(f"entry names must differ: {names}")
    functions, inputs_meta, last_outputs = [], None, None
    for entry in entries:
        fgraph = entry.loaded.fgraph
        if not fgraph.outputs:
            raise GraphError("the graph has no outputs")
        if rewrite:
            output_names = [var.name for var in fgraph.outputs]
            rewrite_graph(fgraph)
            if keep_names:
                keep_output_names(fgraph, output_names)
        module.entry_name = entry.name
        function, ins, outs = build_entry(fgraph, module)
        if same_inputs and inputs_meta is not None and ins != inputs_meta:
            raise GraphError(f"the entries of one module must take the same inputs: "
                             f"{[i[0] for i in ins]} != {[i[0] for i in inputs_meta]}")
        inputs_meta = inputs_meta if same_inputs and inputs_meta else ins
        functions.append(function)
        last_outputs = outs
    module.entry_name = names[0]
    if callable(doc):
        code = "\n".join(cst.Module([]).code_for_node(f) for f in
                         [*module.helpers.values(), *functions])
        text = doc(inputs_meta, code)
    else:
        text = doc
    tree = assemble(module, functions[-1], inputs_meta, outputs_meta or last_outputs,
                    text)
    body = list(tree.body)
    # The other entries go right before the last one, in order.
    at = next(k for k, s in enumerate(body)
              if isinstance(s, cst.FunctionDef) and s.name.value == names[-1])
    body[at:at] = functions[:-1]
    # Extra metadata after OUTPUTS.
    at = next(k for k, s in enumerate(body) if _assigns(s, "OUTPUTS")) + 1
    body[at:at] = [cst.parse_statement(f"{key} = {value!r}\n")
                   for key, value in metadata]
    body += list(extra)
    # assemble imported math for what it saw; the other entries may need it too.
    has_math = any(_is_import(s, "math") for s in body)
    if not has_math and any(_uses_math(f) for f in functions[:-1]):
        first = next(k for k, s in enumerate(body) if _is_import(s, "numba"))
        body.insert(first, cst.parse_statement("import math\n"))
    return black.format_str(tree.with_changes(body=body).code, mode=BLACK_MODE)


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
    import libcst as cst

    class Finder(cst.CSTVisitor):
        found = False

        def visit_Name(self, n):
            if n.value == "math":
                self.found = True

        def visit_Attribute(self, n):
            n.value.visit(self)
            return False

    finder = Finder()
    node.visit(finder)
    return finder.found


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
_BLAS_CALLS = ("np.dot(", "np.linalg.", "np.outer(", " @ ")
_NEEDS = ["Needs only numba and numpy at run time.  INPUTS and OUTPUTS give each"]
_NEEDS_BLAS = [
    "Needs only numba and numpy at run time (and SciPy, whose BLAS and",
    "LAPACK Numba's np.dot and np.linalg use).  INPUTS and OUTPUTS give each",
]


def docstring(values: list[ValueVariable], params: list[str], *, name: str,
              dlogp_size: int, source: str, digest: str, options: dict,
              blas: bool = False, sampler=()) -> str:
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
        "variable) and DLOGP_SLICES each continuous one's (PyMC name, start, stop,",
        "shape) in dlogp.  Do not edit: regenerate instead.",
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
    try:
        import pymc as pm
    except ImportError:
        raise TranspileError("PyMC is not installed (pip install pymc)") from None
    if not isinstance(model, pm.Model):
        raise TranspileError(f"expected a pymc.Model, got {type(model).__name__}")
    import warnings

    from . import pymc_sampler
    from .load import load_object

    if checks not in pymc_sampler.CHECKS:
        raise TranspileError(f"--checks must be one of {', '.join(pymc_sampler.CHECKS)}, "
                             f"not {checks!r}")
    if name in pymc_sampler.NAMES or f"{name}_dlogp" in pymc_sampler.NAMES:
        raise TranspileError(f"--name {name!r} clashes with a name the module defines")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs, logp, dlogp = model_graphs(model)
        values = value_variables(model)
        logp_graph = load_object((inputs, [logp]))
        both_graph = load_object((inputs, [logp, dlogp]))
        sampler = pymc_sampler.sampler_parts(model, values, inputs)
        if sampler is not None:
            expand_graph = load_object((inputs, list(sampler.outputs)))
    dlogp_size = sum(v.size for v in values if v.gradient)

    def doc(inputs_meta, code):
        return docstring(values, [p for p, _, _ in inputs_meta], name=name,
                         blas=any(call in code for call in _BLAS_CALLS),
                         dlogp_size=dlogp_size, source=source or "<pymc.Model object>",
                         digest=both_graph.digest,
                         options={"rewrite": rewrite, "fastmath": fastmath,
                                  "cache": cache, "regenerate": regenerate,
                                  "checks": checks},
                         sampler=pymc_sampler.doc_lines(sampler, checks, f"{name}_dlogp"))

    outputs_meta = [("logp", logp.type.dtype, ()), ("dlogp", dlogp.type.dtype,
                                                   (dlogp_size,))]
    metadata = (
        ("VALUE_VARIABLES", tuple((v.name, v.dtype, v.shape, v.transform, v.variable)
                                  for v in values)),
        ("DLOGP_SLICES", tuple((v.name, *v.gradient, v.shape) for v in values
                               if v.gradient)),
    )
    entries = [Entry(name, logp_graph), Entry(f"{name}_dlogp", both_graph)]
    extra = ()
    if sampler is not None:
        entries.append(Entry(pymc_sampler.EXPAND_ENTRY, expand_graph))
        metadata += pymc_sampler.metadata(sampler, checks)
        extra = pymc_sampler.statements(sampler, values, dlogp_entry=f"{name}_dlogp",
                                        checks=checks, cache=cache, fastmath=fastmath)
    text = build_module(entries, doc, rewrite=rewrite, cache=cache, fastmath=fastmath,
                        outputs_meta=outputs_meta, metadata=metadata, extra=extra)
    if path is not None:
        from .output import write_atomic

        write_atomic(Path(path), text)
    return text


__all__ = ["Entry", "ValueVariable", "build_module", "from_pymc", "model_graphs",
           "value_variables"]
