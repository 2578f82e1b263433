"""Lower, assemble, format: a ``FunctionGraph`` -> the text of a generated module.

``generate`` drives the pipeline after loading: rewrite (unless asked not to), lower
every node in topological order into the entry function, then assemble the module
(docstring, imports, metadata, constants, helpers, entry) and format it with black.
"""

import keyword
import textwrap
from collections import Counter
from dataclasses import dataclass

import black
import libcst as cst

from . import __version__
from . import syntax as sx
from .context import FunctionBuilder, ModuleBuilder
from .dtypes import dtype_attr
from .errors import GraphError, TranspileError
from .naming import MODULE_NAMES, is_reserved
from .registry import lowering_for

BLACK_MODE = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=88)


@dataclass(frozen=True)
class Options:
    name: str = "kernel"
    rewrite: bool = True
    cache: bool = True
    fastmath: bool = False
    allow_modules: tuple = ()  # recorded in the module's "Regenerate:" line


def check_entry_name(name: str, runtime_names=()) -> None:
    if not name.isidentifier() or keyword.iskeyword(name) or not name.isascii():
        raise TranspileError(f"--name {name!r} is not a valid Python identifier")
    if name in MODULE_NAMES or name in runtime_names:
        raise TranspileError(f"--name {name!r} clashes with a name the module defines")
    if is_reserved(name):
        raise TranspileError(f"--name {name!r} is a Python builtin or soft keyword; "
                             "the module would shadow it")


def generate(loaded, options: Options = Options()) -> str:
    """The formatted source of the module for ``loaded`` (a :class:`LoadedGraph`)."""
    from . import lower  # noqa: F401  (registers the lowerings)
    from .rewrite import rewrite

    module = ModuleBuilder(options.name, cache=options.cache, fastmath=options.fastmath)
    module.rewrite_inner_graphs = options.rewrite
    check_entry_name(options.name, module.runtime.names())
    fgraph = loaded.fgraph
    if not fgraph.outputs:
        raise GraphError("the graph has no outputs")
    if options.rewrite:
        names = [var.name for var in fgraph.outputs]
        rewrite(fgraph)
        keep_output_names(fgraph, names)
    entry, inputs_meta, outputs_meta = build_entry(fgraph, module)
    tree = assemble(module, entry, inputs_meta, outputs_meta,
                    header(loaded, options, inputs_meta, outputs_meta,
                           lapack=module.lapack_routines()))
    return black.format_str(tree.code, mode=BLACK_MODE)


# ---- the entry function -----------------------------------------------------------


def _is_scalar(var) -> bool:
    return getattr(var.type, "ndim", 0) == 0


def _static_shape(var) -> tuple:
    return tuple(getattr(var.type, "shape", ()) or ())


def lower_nodes(fn: FunctionBuilder, nodes) -> None:
    """Lower ``nodes`` in order into ``fn``, each under a comment naming its Op."""
    for node in nodes:
        lowering = lowering_for(node.op, node)
        block = fn._blocks[-1]
        start = len(block)
        lowering(node.op, node, fn)
        if len(block) > start:
            fused = [str(r.op) for v in node.outputs for r in fn.fused.get(v, ())]
            block[start] = sx.with_comment(block[start], *_node_comment(node, fused))
        for var in node.outputs:
            if var not in fn.values and var not in fn.fused and fn.needed(var):
                raise TranspileError(f"lowering of {node} did not bind output {var}")


def _node_comment(node, fused: list[str]) -> list[str]:
    """The comment over a node's code: ``Op``; for an Elemwise with reductions
    accumulated in its loop, ``Op and Sum{axes=None} x3, Max{axes=None}, in one
    loop``, wrapped over as many lines as it takes (continued lines indented)."""
    if not fused:
        return [str(node.op)]
    counts = Counter(fused)
    parts = [f"{name} x{counts[name]}" if counts[name] > 1 else name for name in counts]
    keep = "\N{NO-BREAK SPACE}"  # textwrap breaks at ASCII spaces only
    text = f"{sx.one_line(str(node.op))} and {', '.join(parts)}, in one loop"
    text = text.replace(" in one loop", keep.join(["", "in", "one", "loop"]))
    return [line.replace(keep, " ") for line in textwrap.wrap(
        text, sx.COMMENT_WIDTH, subsequent_indent=" " * 4, break_long_words=False,
        break_on_hyphens=False)]


def normalize_scalar_input(fn: FunctionBuilder, var, param: str) -> None:
    """0-d inputs may arrive as Python numbers, NumPy scalars or 0-d arrays."""
    dtype = var.type.dtype
    value = sx.method(sx.call("np.asarray", sx.name(param)), "item")
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


def build_entry(fgraph, module: ModuleBuilder):
    from pytensor.graph.basic import Constant

    fn = FunctionBuilder(module)
    fn.graph = fgraph
    fn.needed = lambda var: bool(fgraph.clients.get(var)) or var in fgraph.outputs
    params, inputs_meta = [], []
    for var in fgraph.inputs:
        param = fn.fresh(var.name, "x")
        params.append(param)
        fn.values[var] = sx.name(param)
        inputs_meta.append((param, var.type.dtype, _static_shape(var)))
    scalar_inputs = [(v, p) for v, p in zip(fgraph.inputs, params, strict=True) if _is_scalar(v)]
    for var, param in scalar_inputs:
        normalize_scalar_input(fn, var, param)
    if scalar_inputs:
        fn.body[0] = sx.with_comment(
            fn.body[0], "0-d inputs may be Python numbers, NumPy scalars or 0-d arrays")

    lower_nodes(fn, fgraph.toposort())

    returned, outputs_meta, bases = [], [], set()
    for k, var in enumerate(fgraph.outputs):
        value = fn.expr(var)
        if not _is_scalar(var):
            base = fn.view_of.get(var, var)
            if base in fgraph.inputs or isinstance(base, Constant) or base in bases:
                value = sx.method(value, "copy")  # never hand back the caller's memory
            bases.add(base)
        returned.append(value)
        label = value.value if isinstance(value, cst.Name) else (var.name or f"out{k}")
        outputs_meta.append((label, var.type.dtype, _static_shape(var)))
    result = returned[0] if len(returned) == 1 else sx.tuple_(returned)
    fn.emit(sx.return_(result))
    body = prune_dead_assignments(fn.body)

    entry = cst.FunctionDef(
        name=cst.Name(module.entry_name),
        params=cst.Parameters([cst.Param(cst.Name(p)) for p in params]),
        body=sx.block(body),
        decorators=[module.decorator()],
    )
    return entry, inputs_meta, outputs_meta


def _assigned_name(stmt) -> str | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if (isinstance(small, cst.Assign) and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)):
            return small.targets[0].target.value
    return None


def prune_dead_assignments(body: list) -> list:
    """Drop ``name = value`` statements (at any depth) whose name is never read.

    Lowerings bind every output (a Gemv's scratch buffer, a shape only a dropped
    term needed); what nothing reads is removed here.  Every bound value is a pure
    expression, so removing one changes no behaviour.
    """

    class Prune(cst.CSTTransformer):
        def __init__(self, dead):
            self.dead = dead

        def leave_SimpleStatementLine(self, original, updated):
            if _assigned_name(updated) in self.dead:
                return cst.RemoveFromParent()
            return updated

    while True:
        tree = cst.Module(body=list(body))
        used = _UsedNames(count=True)
        tree.visit(used)
        targets = _AssignTargets()
        tree.visit(targets)
        dead = {n for n, k in targets.counts.items() if used.counts.get(n, 0) <= k}
        if not dead:
            return body
        body = list(tree.visit(Prune(dead)).body)


class _AssignTargets(cst.CSTVisitor):
    """How many simple ``name = ...`` statements assign each name."""

    def __init__(self):
        self.counts: dict[str, int] = {}

    def visit_SimpleStatementLine(self, node) -> None:
        target = _assigned_name(node)
        if target is not None:
            self.counts[target] = self.counts.get(target, 0) + 1


# ---- the module -------------------------------------------------------------------


class _UsedNames(cst.CSTVisitor):
    def __init__(self, count: bool = False):
        self.names: set[str] = set()
        self.counts: dict[str, int] = {}

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # in np.empty, only np is a name
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)
        self.counts[node.value] = self.counts.get(node.value, 0) + 1


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


def header(loaded, options: Options, inputs_meta, outputs_meta, lapack=()) -> str:
    import pytensor

    flags = []
    if options.name != "kernel":
        flags.append(f"--name {options.name}")
    if not options.rewrite:
        flags.append("--no-rewrite")
    if not options.cache:
        flags.append("--no-cache")
    if options.fastmath:
        flags.append("--fastmath")
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
        "Needs only numba and numpy at run time (and SciPy where it calls np.dot:",
        "Numba's BLAS comes from it).  INPUTS and OUTPUTS give each",
        "argument's and result's name, dtype and static shape (None: any length).",
        *_lapack_note(lapack),
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


def assemble(module: ModuleBuilder, entry, inputs_meta, outputs_meta, doc: str) -> cst.Module:
    definitions = [*module.binding_block(), *module.classes.values(),
                   *module.helpers.values(), entry]
    used = _UsedNames()
    for node in [*module.constants, *definitions]:
        node.visit(used)
    imports = []
    if "math" in used.names:
        imports.append(cst.parse_statement("import math"))
    imports.append(cst.parse_statement("import numba"))
    imports.append(cst.parse_statement("import numpy as np"))  # metadata dtypes, arrays
    body = [
        _docstring(doc),
        *imports,
        _metadata("INPUTS", inputs_meta),
        _metadata("OUTPUTS", outputs_meta),
        *module.constants,
        *definitions,
    ]
    return cst.Module(body=body)
