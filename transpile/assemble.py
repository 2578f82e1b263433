"""Lower, assemble, format: a ``FunctionGraph`` -> the text of a generated module.

``generate`` drives the pipeline after loading: rewrite (unless asked not to), lower
every node in topological order into the entry function, then assemble the module
(docstring, imports, metadata, constants, helpers, entry) and format it with black.
"""

import keyword
import textwrap
from collections import Counter
from dataclasses import dataclass

import libcst as cst

from . import __version__, progress
from . import syntax as sx
from .context import FunctionBuilder, ModuleBuilder
from .data import in_file, needs_output_error
from .dtypes import dtype_attr
from .errors import GraphError, TranspileError, UnsupportedOpError
from .format import format_module
from .naming import MODULE_NAMES, is_reserved
from .outline import outline_repeats
from .registry import lowering_for
from .walk import count_names, prune_dead_assignments


@dataclass(frozen=True)
class Options:
    name: str = "kernel"
    rewrite: bool = True
    cache: bool = True
    fastmath: bool = False
    parallel: bool = False  # numba.prange over large loops (lower/parallel.py)
    allow_modules: tuple = ()  # recorded in the module's "Regenerate:" line
    data_file: str | None = None  # where large arrays go (data.py); None: nowhere
    outline: bool = True  # repeated code as one helper (outline.py)


@dataclass
class BuiltEntry:
    """One entry of a module: the ``@numba.njit`` function, and what the module says
    about it.  An entry that takes data arrays (data.py) is ``<name>_with_data``, and
    the module adds the Python ``<name>`` that passes them.  An entry with slice
    outputs returns each as its ``(start, stop, step)`` (Numba cannot return a slice
    object): it is ``<name>_parts``, and the Python ``<name>`` makes them slices."""

    name: str
    function: cst.FunctionDef
    params: list[str]
    data_params: list[tuple[str, str]]  # (parameter, key in the module's DATA)
    inputs_meta: list
    outputs_meta: list
    slice_outputs: tuple[int, ...] = ()  # positions of the outputs that are slices

    @property
    def wrapped(self) -> bool:
        """Whether the entry is a Python function around the ``@njit`` one."""
        return bool(self.data_params or self.slice_outputs)

    @property
    def jitted(self) -> str:
        return self.function.name.value


def check_entry_name(name: str, runtime_names=()) -> None:
    if not name.isidentifier() or keyword.iskeyword(name) or not name.isascii():
        raise TranspileError(f"--name {name!r} is not a valid Python identifier")
    if name in MODULE_NAMES or name in runtime_names:
        raise TranspileError(f"--name {name!r} clashes with a name the module defines")
    if is_reserved(name):
        raise TranspileError(f"--name {name!r} is a Python builtin or soft keyword; "
                             "the module would shadow it")


def generate(loaded, options: Options = Options()) -> str:
    """The formatted source of the module for ``loaded`` (a :class:`LoadedGraph`),
    for a graph whose arrays all fit in the source (else see generate_module)."""
    source, data = generate_module(loaded, options)
    if in_file(data) and options.data_file is None:
        raise needs_output_error(len(in_file(data)))
    return source


def generate_module(loaded, options: Options = Options()) -> tuple[str, dict]:
    """The formatted source of the module for ``loaded`` and the data arrays it keeps
    in ``options.data_file`` (name -> array; empty for most graphs)."""
    with progress.reporting():
        return _generate_module(loaded, options)


def _generate_module(loaded, options: Options) -> tuple[str, dict]:
    from . import lower  # noqa: F401  (registers the lowerings)
    from .rewrite import rewrite
    from .unsupported import check_graph

    module = ModuleBuilder(options.name, cache=options.cache, fastmath=options.fastmath,
                           parallel=options.parallel)
    module.rewrite_inner_graphs = options.rewrite
    module.outline = options.outline
    check_entry_name(options.name, module.runtime.names())
    fgraph = loaded.fgraph
    if not fgraph.outputs:
        raise GraphError("the graph has no outputs")
    check_graph(fgraph)
    if options.rewrite:
        names = [var.name for var in fgraph.outputs]
        progress.stage("rewriting")
        rewrite(fgraph)
        keep_output_names(fgraph, names)
    entry = build_entry(fgraph, module)
    if in_file(module.data) and options.data_file is None:
        raise needs_output_error(len(in_file(module.data)))
    doc = header(loaded, options, entry, module)
    tree = assemble(module, [entry], doc, entry.inputs_meta, entry.outputs_meta,
                    data_file=options.data_file)
    progress.stage("formatting")
    return format_module(tree), dict(module.data)


# ---- the entry function -----------------------------------------------------------


def _data_shape_check(param: str, shape: tuple) -> cst.If:
    return sx.if_(sx.compare("!=", sx.attr(sx.name(param), "shape"),
                             sx.tuple_([sx.literal(int(n)) for n in shape])),
                  [sx.raise_("ValueError", f"{param} must have shape {shape}, the shape "
                             "the graph was transpiled with")])


def _is_scalar(var) -> bool:
    return hasattr(var.type, "dtype") and getattr(var.type, "ndim", 0) == 0


def _type_label(var) -> str:
    """A variable's dtype, ``"Generator"`` for a random generator, ``"slice"``."""
    from .lower.random import is_generator

    if is_generator(var):
        return "Generator"
    return var.type.dtype if hasattr(var.type, "dtype") else "slice"


def _slice_parts(var, value) -> sx.Expr | None:
    """``(start, stop, step)`` of a slice-typed output whose value is ``slice(...)``
    (a ``MakeSlice`` or a constant slice), else None."""
    from pytensor.tensor.type_other import SliceType

    if not isinstance(var.type, SliceType) or not isinstance(value, cst.Call) \
            or not (isinstance(value.func, cst.Name) and value.func.value == "slice"):
        return None
    parts = [arg.value for arg in value.args]
    return sx.tuple_(parts) if len(parts) == 3 else None


def _static_shape(var) -> tuple:
    return tuple(getattr(var.type, "shape", ()) or ())


def lower_nodes(fn: FunctionBuilder, nodes) -> None:
    """Lower ``nodes`` in order into ``fn``, each under a comment naming its Op (but
    those only one branch of an IfElse needs: that IfElse lowers them in its branch)."""
    from .lower.ifelse import branch_nodes

    in_branches = branch_nodes(fn, nodes)
    outer = fn.graph is not None and fn.module.entry_graph is fn.graph
    plan = fn.module.plan
    for done, node in enumerate(plan.order(nodes)):
        if outer:
            progress.stage("lowering", done, len(nodes))
        if node in in_branches or node in plan.taken:
            continue  # lowered by its IfElse, or by the node the plan gives it to
        lowering = lowering_for(node.op, node)
        block = fn._blocks[-1]
        start = len(block)
        lowering(node.op, node, fn)
        loop = plan.loops.get(node)
        members = loop.members if loop is not None else [node]
        if len(block) > start:
            fused = [str(r.op) for m in members for v in m.outputs
                     for r in fn.fused.get(v, ())]
            block[start] = sx.with_comment(block[start], *_node_comment(members, fused))
        for var in node.outputs:
            if var not in fn.values and var not in fn.fused and not plan.is_loop_local(
                    var) and fn.needed(var):
                raise TranspileError(f"lowering of {node} did not bind output {var}")


def _node_comment(members, fused: list[str]) -> list[str]:
    """The comment over a node's code: ``Op``; for Elemwise nodes computed in one
    loop with reductions accumulated in it, ``Op, Op and Sum{axes=None} x3,
    Max{axes=None}, in one loop``, wrapped over as many lines as it takes
    (continued lines indented)."""
    if not fused and len(members) == 1:
        return [str(members[0].op)]
    ops, reductions = ([f"{name} x{n}" if n > 1 else name for name, n in Counter(
        names).items()] for names in ([sx.one_line(str(m.op)) for m in members], fused))
    if not reductions:
        ops, reductions = ops[:-1], ops[-1:]
    keep = "\N{NO-BREAK SPACE}"  # textwrap breaks at ASCII spaces only
    text = f"{', '.join(ops)} and {', '.join(reductions)}, in one loop"
    text = text.replace(" in one loop", keep.join(["", "in", "one", "loop"]))
    return [line.replace(keep, " ") for line in textwrap.wrap(
        text, sx.COMMENT_WIDTH, subsequent_indent=" " * 4, break_long_words=False,
        break_on_hyphens=False)]


def normalize_scalar_input(fn: FunctionBuilder, var, param: str) -> None:
    """0-d inputs may arrive as Python numbers, NumPy scalars or 0-d arrays.  Numba
    gives all three an ``item()``; ``np.asarray(x)`` would allocate an array for a
    number on every call."""
    dtype = var.type.dtype
    value = sx.method(sx.name(param), "item")
    fn.emit(sx.assign(param, sx.call(dtype_attr(dtype), value)))


def keep_output_names(fgraph, names) -> None:
    """Give the rewritten outputs the names the graph's outputs had (``loss``, not
    the ``neg`` of the node a rewrite put in its place), the first name where one
    variable now gives several outputs; inputs and constants keep theirs."""
    from pytensor.graph.basic import Constant

    named = set()
    for var, name in zip(fgraph.outputs, names, strict=True):
        if name and var not in named and var not in fgraph.inputs \
                and not isinstance(var, Constant):
            var.name = name
            named.add(var)


def build_entry(fgraph, module: ModuleBuilder, data_inputs=()) -> BuiltEntry:
    """Lower ``fgraph`` into an entry of ``module``.  ``data_inputs``, ``(key,
    default array)`` pairs, say that the graph's last inputs are data (a PyMC model's
    observed values and ``pm.Data``): the entry takes them after the others, and the
    module records their defaults under ``key`` in ``DATA`` (data.py)."""
    module.plan.add_graph(fgraph)
    fn = FunctionBuilder(module)
    fn.graph = module.entry_graph = fgraph
    params, inputs_meta = _parameters(fn, fgraph, data_inputs)
    n_data_inputs = len(fn.data_params)
    lower_nodes(fn, fgraph.toposort())
    # A graph's constants were the graph's when PyTensor rewrote it (shapes taken
    # from them are literals in the code): other data must have their shapes.
    fn.body[:0] = [_data_shape_check(param, module.data[key].shape)
                   for param, key in fn.data_params[n_data_inputs:]]
    returned, outputs_meta, slices = _returned(fn, fgraph)
    result = returned[0] if len(returned) == 1 else sx.tuple_(returned)
    fn.emit(sx.return_(result))
    body = prune_dead_assignments(fn.body)
    if module.outline:
        body = outline_repeats(body, [*params, *(p for p, _ in fn.data_params)], module)
    name = module.entry_name
    jitted = (module.namespace.create(f"{name}_with_data") if fn.data_params
              else module.namespace.create(f"{name}_parts") if slices else name)
    function = cst.FunctionDef(
        name=cst.Name(jitted),
        params=cst.Parameters([cst.Param(cst.Name(p))
                               for p in [*params, *(p for p, _ in fn.data_params)]]),
        body=sx.block(body),
        decorators=[module.decorator()],  # prange loops are helpers of their own
    )
    return BuiltEntry(name, function, params, list(fn.data_params), inputs_meta,
                      outputs_meta, tuple(slices))


def _parameters(fn, fgraph, data_inputs) -> tuple[list[str], list]:
    """Name the entry's parameters (the graph's inputs, the generators the loader
    froze, then the data inputs) and normalize its 0-d ones: the parameters (data
    ones in ``fn.data_params``) and ``INPUTS``."""
    from .lower.random import frozen_generators, is_generator, reserve_module_names

    module = fn.module
    # Shared generators the loader froze into constants are drawn from, so they
    # become arguments too, after the graph's inputs (see lower/random.py).
    frozen = frozen_generators(fgraph)
    if frozen:
        reserve_module_names(module)
    n_plain = len(fgraph.inputs) - len(data_inputs)
    plain, data = list(fgraph.inputs[:n_plain]), list(fgraph.inputs[n_plain:])
    params, inputs_meta, named = [], [], []
    for var in [*plain, *frozen]:
        param = fn.fresh(var.name, "rng" if is_generator(var) else "x")
        params.append(param)
        named.append((var, param))
        fn.values[var] = sx.name(param)
        inputs_meta.append((param, _type_label(var), _static_shape(var)))
        if any(var is f for f in frozen):
            module.generator_states[param] = var.data.bit_generator.state
    for var, (key, default) in zip(data, data_inputs, strict=True):
        module.add_data(key, default)
        param = fn.fresh(key, "data")
        fn.data_params.append((param, key))
        named.append((var, param))
        fn.values[var] = sx.name(param)
    scalar_inputs = [(v, p) for v, p in named if v in fgraph.inputs and _is_scalar(v)]
    for var, param in scalar_inputs:
        normalize_scalar_input(fn, var, param)
    if scalar_inputs:
        fn.body[0] = sx.with_comment(
            fn.body[0], "0-d inputs may be Python numbers, NumPy scalars or 0-d arrays")
    return params, inputs_meta


def _returned(fn, fgraph) -> tuple[list, list, list[int]]:
    """What the entry returns for each output (a copy where it would share an
    input's, a constant's or another output's memory), ``OUTPUTS``, and which
    outputs are slices."""
    from pytensor.graph.basic import Constant

    from .lower.random import is_generator

    returned, outputs_meta, bases, slices = [], [], set(), []
    for k, var in enumerate(fgraph.outputs):
        value = fn.expr(var)
        if not hasattr(var.type, "dtype") and not is_generator(var):
            value = _slice_parts(var, value)
            if value is None:
                raise UnsupportedOpError(
                    f"a graph output of type {var.type} is not supported: a module returns "
                    "arrays, scalars, slices and generators")
            slices.append(k)
        elif not _is_scalar(var) and not is_generator(var):  # a generator: itself
            base = fn.view_of.get(var, var)
            if base in fgraph.inputs or isinstance(base, Constant) or base in bases:
                value = sx.method(value, "copy")  # never hand back the caller's memory
            bases.add(base)
        returned.append(value)
        label = value.value if isinstance(value, cst.Name) else (var.name or f"out{k}")
        outputs_meta.append((label, _type_label(var), _static_shape(var)))
    return returned, outputs_meta, slices


# ---- the module -------------------------------------------------------------------


def _metadata(name: str, entries) -> cst.SimpleStatementLine:
    rows = []
    for label, dtype, shape in entries:
        dims = sx.tuple_(sx.name("None") if s is None else sx.literal(int(s)) for s in shape)
        rows.append(sx.tuple_([sx.string(label), sx.string(dtype), dims]))
    value = sx.tuple_(rows) if rows else cst.Tuple([])
    return sx.assign(name, value)


def _docstring(text: str) -> cst.SimpleStatementLine:
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return sx.expr_stmt(cst.SimpleString(f'"""{body}\n"""'))


def header(loaded, options: Options, entry: BuiltEntry, module) -> str:
    import pytensor

    from .lower.random import generator_note

    inputs_meta, outputs_meta = entry.inputs_meta, entry.outputs_meta
    flags = []
    if options.name != "kernel":
        flags.append(f"--name {options.name}")
    if not options.rewrite:
        flags.append("--no-rewrite")
    if not options.cache:
        flags.append("--no-cache")
    if options.fastmath:
        flags.append("--fastmath")
    if options.parallel:
        flags.append("--parallel")
    if not options.outline:
        flags.append("--no-outline")
    flags += [f"--allow-module {m}" for m in options.allow_modules]
    source = sx.one_line(loaded.source, 60)
    args = ", ".join(p for p, _, _ in inputs_meta)
    outs = ", ".join(p for p, _, _ in outputs_meta)
    if len(outputs_meta) > 1:
        outs = f"({outs})"
    rewrites = "PyTensor's Numba-mode rewrites, without in-place ones"
    return "\n".join([
        f"Numba kernels generated by transpile {__version__} from a PyTensor graph.",
        "",
        f"    {options.name}({args}) -> {outs}",
        "",
        f"Graph:       {source} (sha256 {loaded.digest[:16]})",
        f"PyTensor:    {pytensor.__version__}",
        f"Rewrites:    {rewrites if options.rewrite else 'none (--no-rewrite)'}",
        f"Regenerate:  transpile {' '.join([source, *flags])} -o <this file>",
        "",
        *generator_note(inputs_meta, outputs_meta, module.generator_states),
        *data_note(entry, module.data, options.data_file),
        "Needs only numba and numpy at run time (and SciPy where it calls np.dot:",
        "Numba's BLAS comes from it).  INPUTS and OUTPUTS give each",
        "argument's and result's name, dtype and static shape (None: any length).",
        *_lapack_note(module.lapack_routines()),
        "Do not edit: regenerate instead.",
    ])


def _lapack_note(routines) -> list[str]:
    """The docstring's lines on the LAPACK routines the module binds itself."""
    if not routines:
        return []
    text = ("LAPACK routines that Numba's np.linalg does not wrap are bound by name, "
            "as Numba binds its own, from SciPy's scipy.linalg.cython_lapack when "
            f"the module is imported (so SciPy is needed): {', '.join(routines)}.")
    return textwrap.wrap(text, 76, break_on_hyphens=False)


def data_note(entry: BuiltEntry, data: dict, data_file) -> list[str]:
    """The docstring's paragraph on the data arrays kept beside the module."""
    if not entry.data_params:
        return []
    rows = [f"    {param:<16} {data[key].dtype.name:<8} {data[key].shape}"
            for param, key in entry.data_params]
    where = (f"in {data_file} beside this module, loaded and checked (dtype, shape,"
             " checksum) when it is imported" if in_file(data) else "in DATA")
    return [
        f"Data: {len(rows)} array(s), arguments of {entry.jitted}(), kept {where}:",
        *rows,
        f"{entry.name}() passes them (each may be given anew, as a keyword);",
        f"{entry.jitted}() takes them after the other arguments (for @njit callers).",
        "",
    ]


def assemble(module: ModuleBuilder, entries: list[BuiltEntry], doc: str, inputs_meta,
             outputs_meta, *, metadata=(), data_file: str | None = None) -> cst.Module:
    """The module: docstring, imports (only those used), ``INPUTS``, ``OUTPUTS`` and
    other ``metadata`` (``(NAME, expression)`` pairs), constants, generator states,
    the data block, exception classes, helpers, then the entries (each ``@njit``
    function, then the Python function of an entry with data)."""
    from .data import module_statements, python_entry
    from .lower.random import generator_definitions

    functions = [e.function for e in entries]
    file_name = data_file if in_file(module.data) else None
    wrappers = [python_entry(e.name, e.jitted, e.params, e.data_params, file_name,
                             e.slice_outputs, len(e.outputs_meta))
                for e in entries if e.wrapped]
    data_block = module_statements(module.data, data_file) if module.data else []
    definitions = [*module.binding_block(), *module.classes.values(),
                   *module.helpers.values(), *functions, *wrappers]
    extra = [sx.assign(key, value) for key, value in metadata]
    used = count_names([*module.constants, *extra, *definitions])
    imports = []
    if used["math"]:
        imports.append(cst.parse_statement("import math"))
    imports.append(cst.parse_statement("import numba"))
    imports.append(cst.parse_statement("import numpy as np"))  # metadata dtypes, arrays
    body = [
        _docstring(doc),
        *imports,
        _metadata("INPUTS", inputs_meta),
        _metadata("OUTPUTS", outputs_meta),
        *extra,
        *module.constants,
        *generator_definitions(module.generator_states),
        *data_block,
        *definitions,
    ]
    return cst.Module(body=body)
