"""The sampler interface of a PyMC logp module: one flat vector in, as samplers want it.

``transpile.pymc.from_pymc`` lowers the model's log-density over its value variables,
one argument each.  Samplers (nutpie and nuts-rs, BridgeStan's clients, littlemcmc,
bayes-kit) agree on another shape: one float64 vector ``q`` of unconstrained values,
``(logp, grad)`` back, a non-finite logp meaning "reject".  This module builds what
the generated module needs for that, as libcst statements appended to it:

    logp_dlogp_flat(q, grad=None) -> (logp, grad)   q laid out as DLOGP_SLICES
    expand(q)          -> the free variables (constrained) and the Deterministics
    initial_point()    -> PyMC's initial point, model.initial_point(), flattened
    LOGP_CFUNC         -> a numba.cfunc with nuts-rs's logp signature (lazily built)
    EXPAND_CFUNC       -> a numba.cfunc writing expand(q) into one float64 buffer

with the metadata ``NDIM``, ``NEXPANDED``, ``EXPANDED`` (name, dtype, shape, dims of
each expanded variable), ``COORDS``, ``INITIAL_POINT`` and ``CHECKS``.  ``expand``
wraps one more lowered entry, ``expand_values(<value vars>)``, whose graph
(``expand_graph``) is the model's free variables and Deterministics in terms of its
value variables.  Nothing here touches the lowering: the flat entries call the
lowered ones.

Checks (``checks``): PyMC's compiled functions and samplers turn a violated
parameter check into ``logp = -inf``; ``model.logp()`` evaluated as built raises.
``"neg-inf"`` (the default) gives the former in the flat entries, ``"raise"`` the
latter; the per-variable entries always raise, as ``model.logp()`` does.
"""

import textwrap
from dataclasses import dataclass

import libcst as cst
from libcst.helpers import parse_template_statement

from . import syntax as sx

CHECKS = ("neg-inf", "raise")
EXPAND_ENTRY = "expand_values"
FLAT_NAMES = ("logp_dlogp_flat", "expand", "initial_point", "LOGP_CFUNC",
              "EXPAND_CFUNC", "LOGP_CFUNC_SIGNATURE", "EXPAND_CFUNC_SIGNATURE",
              "_logp_c", "_expand_c", "logp_dlogp_flat_with_data", "expand_with_data",
              "__getattr__", "COMPILED_CFUNCS")
METADATA_NAMES = ("NDIM", "NEXPANDED", "EXPANDED", "COORDS", "INITIAL_POINT", "CHECKS")
# Every module-level name this module adds (reserved before anything is lowered).
NAMES = (EXPAND_ENTRY, *FLAT_NAMES, *METADATA_NAMES)
# What the lowered entries must leave free (expand_values is one of them).
RESERVED = (*FLAT_NAMES, *METADATA_NAMES)

# nuts-rs's callbacks: logp(dim, x, grad_out, logp_out, user_data) and
# expand(dim, n_expanded, x, expanded_out, user_data), int64 status codes.
LOGP_SIGNATURE = ("int64(uint64, CPointer(float64), CPointer(float64), "
                  "CPointer(float64), voidptr)")
EXPAND_SIGNATURE = "int64(uint64, uint64, CPointer(float64), CPointer(float64), voidptr)"


@dataclass(frozen=True)
class Expanded:
    """One variable ``expand(q)`` returns."""

    name: str
    dtype: str
    shape: tuple
    dims: tuple  # the model's dims (None for an unnamed axis), () if it has none
    kind: str  # "free" or "deterministic"

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= int(s)
        return n


@dataclass(frozen=True)
class SamplerParts:
    """What the flat entries are generated from."""

    expanded: tuple  # Expanded, free variables then deterministics
    coords: dict  # dim -> tuple of plain Python values
    initial: tuple  # floats: model.initial_point() flattened in DLOGP_SLICES order
    outputs: tuple  # the expand graph's outputs (over the logp graphs' inputs)
    ndim: int

    @property
    def nexpanded(self) -> int:
        return sum(e.size for e in self.expanded)


# ---- from the model ----------------------------------------------------------------


def sampler_parts(model, values, inputs, data=()) -> "SamplerParts | None":
    """The flat entries' description for ``model``, None when a free variable is
    discrete (a flat float64 vector cannot hold it; the module then has only the
    per-variable entries).  ``values`` are ``transpile.pymc.value_variables(model)``,
    ``inputs`` the logp graphs' inputs (``transpile.pymc.model_graphs``), ``data``
    the model's data as inputs (``transpile.pymc.model_data_inputs``): the expand
    graph takes them as the logp graphs do."""
    from pytensor.graph.replace import graph_replace

    if any(v.gradient is None for v in values):
        return None
    point = model.initial_point()
    outputs = expand_graph(model, inputs)
    shapes = _shapes(inputs, outputs, [point[v.name] for v in values])
    if data:
        names = [out.name for out in outputs]
        outputs = graph_replace(outputs, {d.original: d.variable for d in data},
                                strict=False)
        for out, name in zip(outputs, names, strict=True):
            out.name = name
    dims = model.named_vars_to_dims
    expanded = []
    for var, out, shape in zip([*model.free_RVs, *model.deterministics], outputs, shapes,
                               strict=True):
        kind = "free" if var in model.free_RVs else "deterministic"
        expanded.append(Expanded(var.name, out.type.dtype, shape,
                                 tuple(dims.get(var.name) or ()), kind))
    initial = tuple(float(x) for v in values for x in point[v.name].ravel())
    return SamplerParts(tuple(expanded), _coords(model), initial, tuple(outputs),
                        len(initial))


def expand_graph(model, inputs) -> list:
    """The model's free variables (on their constrained scale) and Deterministics,
    as graphs of ``inputs`` (which stand for ``model.value_vars``)."""
    from pytensor.graph.replace import graph_replace

    outputs = model.replace_rvs_by_values([*model.free_RVs, *model.deterministics])
    replacements = dict(zip(model.value_vars, inputs, strict=True))
    outputs = graph_replace(outputs, replacements, strict=False)
    for var, out in zip([*model.free_RVs, *model.deterministics], outputs, strict=True):
        out.name = var.name
    return outputs


def _shapes(inputs, outputs, point) -> list[tuple]:
    """The outputs' concrete shapes at ``point`` (PyTensor's shape graph, run by its
    Python linker)."""
    import pytensor
    from pytensor.compile.mode import Mode

    fn = pytensor.function(inputs, [out.shape for out in outputs], on_unused_input="ignore",
                           mode=Mode(linker="py", optimizer="fast_run"))
    return [tuple(int(s) for s in shape) for shape in fn(*point)]


def _coords(model) -> dict:
    coords = {}
    for dim, values in model.coords.items():
        if values is None:
            values = range(int(model.dim_lengths[dim].eval()))
        coords[dim] = tuple(_plain(v) for v in values)
    return coords


def _plain(value):
    """A coordinate as plain Python data (what a module can spell as a literal)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def metadata(parts: SamplerParts, checks: str) -> tuple:
    """``(NAME, value)`` pairs of plain data, written with the module's metadata."""
    return (
        ("NDIM", parts.ndim),
        ("NEXPANDED", parts.nexpanded),
        ("EXPANDED", tuple((e.name, e.dtype, e.shape, e.dims) for e in parts.expanded)),
        ("COORDS", parts.coords),
        ("INITIAL_POINT", parts.initial),
        ("CHECKS", checks),
    )


# ---- the statements ------------------------------------------------------------------


def statements(parts: SamplerParts, values, built, *, checks: str, cache: bool = True,
               fastmath: bool = False, file_name: str | None = None) -> list:
    """The flat entries, to append to the module after the lowered ones.  ``built``
    are the module's entries (``transpile.assemble.BuiltEntry``): logp, logp_dlogp and
    expand_values, whose ``@njit`` functions the flat entries call.

    A model with data (``DATA``) gets, as its lowered entries do, ``@njit``
    ``logp_dlogp_flat_with_data(q, grad, <data>)`` and ``expand_with_data(q, <data>)``
    and the Python ``logp_dlogp_flat(q, grad=None, *, <data>=DATA[...])`` and
    ``expand(q, *, ...)`` that pass the recorded data; the cfuncs, which a C caller
    cannot hand arrays to, evaluate the model on the recorded data.  ``file_name`` is
    the module's data file, if its data are kept in one."""
    from .data import python_entry

    if checks not in CHECKS:
        raise ValueError(f"checks must be one of {CHECKS}, not {checks!r}")
    dlogp_entry, expand_entry = built[1], built[2]
    # Each entry takes the data its graph reads (model data, large constants).
    logp_data = _data_names(dlogp_entry.data_params)
    expand_data = _data_names(expand_entry.data_params)
    decorator = _njit(cache, fastmath)
    args = _unpacked(values)
    logp_name = "logp_dlogp_flat_with_data" if logp_data else "logp_dlogp_flat"
    expand_name = "expand_with_data" if expand_data else "expand"
    out = [
        _flat_logp(logp_name, args, dlogp_entry.jitted, logp_data, checks, decorator),
        _flat_expand(expand_name, args, expand_entry.jitted, expand_data, decorator),
    ]
    if logp_data:
        wrapper = python_entry("logp_dlogp_flat", logp_name, ["q", "grad"], logp_data,
                               file_name)
        out.append(_with_default(wrapper, "grad", cst.Name("None")))
    if expand_data:
        out.append(python_entry("expand", expand_name, ["q"], expand_data, file_name))
    return [
        *out,
        _initial_point(),
        sx.assign("LOGP_CFUNC_SIGNATURE", sx.string(LOGP_SIGNATURE)),
        sx.assign("EXPAND_CFUNC_SIGNATURE", sx.string(EXPAND_SIGNATURE)),
        _logp_callback(checks, logp_name, logp_data),
        _expand_callback(parts, expand_name, expand_data),
        sx.assign("COMPILED_CFUNCS", cst.Dict([])),
        _lazy_cfuncs(cache, logp_data, expand_data),
    ]


# Names the flat entries' own parameters and locals take; data is renamed around them.
_FLAT_LOCALS = {"q", "grad", "logp", "dlogp", "dim", "x", "grad_out", "logp_out",
                "user_data", "n_expanded", "out", "values", "parts", "i", "name", "cfunc"}


def _data_names(data_params) -> list[tuple[str, str]]:
    """``(parameter, DATA key)`` of each data array, as the flat entries name them:
    as the lowered entries do, unless that is one of the flat entries' own names."""
    result, taken = [], set(_FLAT_LOCALS)
    for param, key in data_params:
        while param in taken:
            param += "_data"
        taken.add(param)
        result.append((param, key))
    return result


def _with_default(fn: cst.FunctionDef, param: str, default) -> cst.FunctionDef:
    params = [p.with_changes(default=default) if p.name.value == param else p
              for p in fn.params.params]
    return fn.with_changes(params=fn.params.with_changes(params=params))


def _set_params(fn: cst.FunctionDef, names, defaults=None) -> cst.FunctionDef:
    defaults = defaults or {}
    params = [cst.Param(cst.Name(n), default=defaults.get(n)) for n in names]
    return fn.with_changes(params=fn.params.with_changes(params=params))


def _njit(cache: bool, fastmath: bool) -> cst.Decorator:
    """The decorator the lowered entries have (see ``ModuleBuilder.decorator``)."""
    kwargs = {"cache": sx.literal(True)} if cache else {}
    kwargs["error_model"] = sx.string("numpy")
    if fastmath:
        kwargs["fastmath"] = sx.literal(True)
    return cst.Decorator(sx.call("numba.njit", **kwargs))


def _unpacked(values) -> list:
    """``q[0], q[1], q[2:10], q[10:16].reshape((2, 3))``: each value variable's view
    of the flat vector ``q``."""
    args = []
    for v in values:
        start, stop = v.gradient
        if v.shape == ():
            args.append(sx.subscript(sx.name("q"), [sx.literal(start)]))
            continue
        view = sx.subscript(sx.name("q"), [sx.slice_(sx.literal(start), sx.literal(stop))])
        if len(v.shape) > 1:
            view = sx.method(view, "reshape", sx.tuple_(sx.literal(s) for s in v.shape))
        args.append(view)
    return args


_FLAT_DOC = {
    "neg-inf": (
        "A violated parameter check gives logp = -inf and a NaN gradient, as PyMC's\n"
        "    compiled functions and samplers see it (transpiled with --checks neg-inf)."),
    "raise": (
        "A violated parameter check raises ParameterValueError, as model.logp()\n"
        "    does (transpiled with --checks raise)."),
}

_FLAT_LOGP = '''
def logp_dlogp_flat(q, grad=None):
    """(logp, grad) at q, one float64 vector of NDIM unconstrained values laid out
    as DLOGP_SLICES: what a gradient-based sampler calls.  q is not modified.

    grad is written into grad (and returned) if it is given, else it is a new
    array.  {checks_doc}
    """
    if q.shape[0] != NDIM:
        raise ValueError("q must have NDIM entries")
    {evaluate}
    if grad is None:
        return logp, dlogp
    grad[:] = dlogp
    return logp, grad
'''

_EVALUATE = {
    "neg-inf": '''
try:
    logp, dlogp = {call}
except Exception:  # a violated parameter check: the point is rejected
    logp, dlogp = -np.inf, np.full(NDIM, np.nan)
''',
    "raise": "logp, dlogp = {call}\n",
}


def _flat_logp(name, args, dlogp_entry: str, data, checks: str, decorator):
    call = sx.call(dlogp_entry, *args, *(sx.name(p) for p, _ in data))
    evaluate = parse_template_statement(_EVALUATE[checks], call=call)
    evaluate = evaluate.with_changes(leading_lines=[])
    doc = _FLAT_DOC[checks]
    fn = parse_template_statement(_FLAT_LOGP.replace("{checks_doc}", doc), evaluate=evaluate)
    if data:  # grad is positional here: the Python wrapper gives the default
        fn = _set_params(fn, ["q", "grad", *(p for p, _ in data)])
    return fn.with_changes(name=cst.Name(name), decorators=[decorator])


_FLAT_EXPAND = '''
def expand(q):
    """The model's free variables, on their constrained scale, and its
    Deterministics at q, a tuple in EXPANDED order: what a sampler stores per draw."""
    if q.shape[0] != NDIM:
        raise ValueError("q must have NDIM entries")
    return {call}
'''


def _flat_expand(name, args, expand_entry: str, data, decorator) -> cst.FunctionDef:
    call = sx.call(expand_entry, *args, *(sx.name(p) for p, _ in data))
    fn = parse_template_statement(_FLAT_EXPAND, call=call)
    if data:
        fn = _set_params(fn, ["q", *(p for p, _ in data)])
    return fn.with_changes(name=cst.Name(name), decorators=[decorator])


_INITIAL_POINT = '''
def initial_point():
    """PyMC's initial point, model.initial_point(), as a flat vector (the layout of
    DLOGP_SLICES).  Samplers usually jitter it, e.g. by U(-1, 1) per entry."""
    return np.array(INITIAL_POINT, dtype=np.float64)
'''


def _initial_point() -> cst.FunctionDef:
    return parse_template_statement(_INITIAL_POINT)


_LOGP_CALLBACK = '''
def _logp_c():
    """LOGP_CFUNC's body{over}.

    nuts-rs's logp callback: writes logp and its gradient at x (dim doubles) into
    *logp_out and grad_out; returns 0 if both are finite, a positive code for a
    point to reject (1: {raised}, 2: logp is not finite, 3: the gradient is not
    finite) and -1 (fatal) if dim is not NDIM.  user_data is unused."""

    def logp_c(dim, x, grad_out, logp_out, user_data):
        if dim != NDIM:
            return -1
        q = numba.carray(x, (NDIM,))
        grad = numba.carray(grad_out, (NDIM,))
        try:
            logp, _ = {call}
        except Exception:  # never let an exception reach the C caller
            return 1
        logp_out[0] = logp
        if not np.isfinite(logp):
            return 2
        for i in range(NDIM):
            if not np.isfinite(grad[i]):
                return 3
        return 0

    return logp_c
'''

_RAISED = {"neg-inf": "an exception", "raise": "a violated parameter check"}
_OVER = ", a closure over the data\n    (Numba freezes them into the compiled cfunc)"


def _logp_callback(checks: str, flat: str, data) -> cst.FunctionDef:
    text = _LOGP_CALLBACK.replace("{raised}", _RAISED[checks])
    text = text.replace("{over}", _OVER if data else "")
    call = sx.call(flat, sx.name("q"), sx.name("grad"), *(sx.name(p) for p, _ in data))
    fn = parse_template_statement(text, call=call)
    return _set_params(fn, [p for p, _ in data])


_EXPAND_CALLBACK = '''
def _expand_c():
    """EXPAND_CFUNC's body{over}.

    nuts-rs's expand callback: writes expand(x) into out (n_expanded doubles, the
    EXPANDED variables flattened in C order, one after the other); returns 0, -1 if
    dim or n_expanded is not NDIM or NEXPANDED, -2 if expand raised.  user_data is
    unused."""

    def expand_c(dim, n_expanded, x, out, user_data):
        if dim != NDIM or n_expanded != NEXPANDED:
            return -1
        q = numba.carray(x, (NDIM,))
        values = numba.carray(out, (NEXPANDED,))
        try:
            parts = {call}
        except Exception:  # never let an exception reach the C caller
            return -2
        {body}
        return 0

    return expand_c
'''


def _expand_callback(parts: SamplerParts, flat: str, data) -> cst.FunctionDef:
    call = sx.call(flat, sx.name("q"), *(sx.name(p) for p, _ in data))
    text = _EXPAND_CALLBACK.replace("{over}", _OVER if data else "")
    fn = parse_template_statement(text, call=call, body=sx.simple(cst.Pass()))
    stores, offset = [], 0
    for k, e in enumerate(parts.expanded):
        part = sx.subscript(sx.name("parts"), [sx.literal(k)])
        if e.shape == ():
            target = sx.subscript(sx.name("values"), [sx.literal(offset)])
            stores.append(sx.assign(target, part, comment=e.name))
        else:
            window = sx.slice_(sx.literal(offset), sx.literal(offset + e.size))
            target = sx.subscript(sx.name("values"), [window])
            stores.append(sx.assign(target, sx.call("np.ravel", part), comment=e.name))
        offset += e.size
    inner = next(s for s in fn.body.body if isinstance(s, cst.FunctionDef))
    body = list(inner.body.body)
    at = next(k for k, s in enumerate(body) if isinstance(s, cst.SimpleStatementLine)
              and isinstance(s.body[0], cst.Pass))
    body[at:at + 1] = stores
    new_inner = inner.with_changes(body=inner.body.with_changes(body=body))
    outer = [new_inner if s is inner else s for s in fn.body.body]
    return _set_params(fn.with_changes(body=fn.body.with_changes(body=outer)),
                       [p for p, _ in data])


_LAZY = '''
def __getattr__(name):
    """LOGP_CFUNC and EXPAND_CFUNC are compiled on first use, not at import
    (numba.cfunc compiles as soon as it is applied){over}, once."""
    if name in COMPILED_CFUNCS:
        return COMPILED_CFUNCS[name]
    if name == "LOGP_CFUNC":
        cfunc = numba.cfunc(LOGP_CFUNC_SIGNATURE{cache})(_logp_c({data}))
    elif name == "EXPAND_CFUNC":
        cfunc = numba.cfunc(EXPAND_CFUNC_SIGNATURE{cache})(_expand_c({data}))
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    COMPILED_CFUNCS[name] = cfunc
    return cfunc
'''


def _lazy_cfuncs(cache: bool, logp_data, expand_data) -> cst.FunctionDef:
    text = _LAZY.replace("{cache}", ", cache=True" if cache else "")
    over = ", on the data recorded in DATA" if logp_data or expand_data else ""
    fn = parse_template_statement(text.replace("{over}", over).replace("{data}", ""))
    data = {"_logp_c": logp_data, "_expand_c": expand_data}

    class Fill(cst.CSTTransformer):
        def leave_Call(self, original, updated):
            if isinstance(updated.func, cst.Name) and updated.func.value in data:
                return updated.with_changes(args=[
                    cst.Arg(sx.subscript(sx.name("DATA"), [sx.string(key)]))
                    for _, key in data[updated.func.value]])
            return updated

    return fn.visit(Fill())


# ---- the docstring ---------------------------------------------------------------------


def doc_lines(parts: "SamplerParts | None", checks: str, dlogp_entry: str,
              data=()) -> list[str]:
    """The module docstring's paragraph on the flat entries."""
    if parts is None:
        return ["A free variable is discrete: the module has no flat entries",
                "(logp_dlogp_flat, expand, LOGP_CFUNC), which take continuous values only.",
                ""]
    check = ("a violated parameter check gives logp = -inf there, as in PyMC's "
             "compiled functions and samplers (--checks neg-inf; --checks raise raises)"
             if checks == "neg-inf" else
             "a violated parameter check raises ParameterValueError there too "
             "(--checks raise; the default, --checks neg-inf, gives logp = -inf)")
    names = ", ".join(e.name for e in parts.expanded)
    with_data = ("  logp_dlogp_flat and expand take the data as keywords, as logp "
                 "does (the @njit logp_dlogp_flat_with_data(q, grad, <data>) and "
                 "expand_with_data(q, <data>) positionally); the cfuncs evaluate the "
                 "model on the data recorded in DATA, frozen into them when they compile."
                 if data else "")
    return [
        f"For samplers, over one float64 vector q of NDIM = {parts.ndim} unconstrained",
        "values laid out as DLOGP_SLICES:",
        "",
        "    logp_dlogp_flat(q, grad=None) -> (logp, grad)",
        f"    expand(q) -> ({names})",
        "    initial_point() -> PyMC's initial point as such a vector",
        "    LOGP_CFUNC, EXPAND_CFUNC: numba.cfuncs with nuts-rs's signatures",
        "",
        *textwrap.wrap(
            f"logp_dlogp_flat is {dlogp_entry} on q's slices; {check}.  expand gives the "
            "free variables on their constrained scale and the Deterministics; EXPANDED "
            "lists each one's (name, dtype, shape, dims) and COORDS the dims' "
            "coordinates.  LOGP_CFUNC.address is a C function int64(uint64 dim, "
            "double *x, double *grad_out, double *logp_out, void *user_data) returning "
            "0 (ok), a positive code (reject the point) or -1 (dim != NDIM); the cfuncs "
            "compile on first access." + with_data, 78, break_on_hyphens=False),
        "",
    ]
