"""Random variables: PyTensor's ``RandomVariable`` Ops as draws from the NumPy
``Generator`` the entry is given.

A ``RandomVariable`` node takes a generator, a ``size`` and the distribution's
parameters, and gives the generator's next state and the draws.  In a generated
module the generator is an argument (a ``numpy.random.Generator``, which Numba
accepts): every draw advances it in place, and the "next state" is that same
object.  The draws fill an array over the batch shape (``size``, else the
parameters' broadcast batch shape) in C order, one draw per element, each reading
its parameters at that element (index 0 along a broadcast dimension)::

    mu_draws = np.empty((3, mu.shape[0]), dtype=np.float64)
    for i in range(3):
        for j in range(mu.shape[0]):
            mu_draws[i, j] = rng.normal(mu[j], sigma)

Draws with scalar parameters are one call, ``rng.normal(0.0, 1.0, size=(3, 2))``.
A multivariate draw (Dirichlet, multinomial, multivariate normal, permutation,
choice without replacement) fills ``out[i, j]``, the core dimensions of one batch
element, through a helper in ``transpile/runtime/random.py``.

PyTensor's Numba mode draws each element with the same Generator methods in the
same order, so a generator in the same state gives the same numbers, except for
the distributions in ``DISTRIBUTION_ONLY`` (see there).

A generator variable may feed one random variable only: PyTensor would draw both
from the same state (the same numbers twice), which an argument advanced in place
cannot do, so such graphs are refused (chain the second draw on the first one's
next-state output instead).  Shared generators that are not graph inputs (the loader
freezes them as constants) become trailing arguments of the entry; the module
records their states (``GENERATOR_STATES``) and ``shared_generator(name)`` makes a
generator in that state.
"""

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst
import pytensor.tensor.random.basic as ptr
from pytensor.graph.basic import Constant
from pytensor.tensor.random.op import RandomVariable, RandomVariableWithCoreShape
from pytensor.tensor.random.type import RandomGeneratorType

from .. import syntax as sx
from ..dtypes import cast_if_unnatural, typed_literal
from ..errors import UnsupportedOpError
from ..registry import register
from .elemwise import check_shapes, dim_size
from .shape import vector_elements


def is_generator(var) -> bool:
    return isinstance(var.type, RandomGeneratorType)


# ---- one draw of a distribution with scalar support -----------------------------


def _method(name: str) -> Callable:
    """``rng.<name>(*params)``: a Generator method Numba implements."""
    return lambda fn, rng, args: sx.method(rng, name, *args)


def _b(op: str, left, right):
    return sx.binop(op, left, right)


def _shifted(draw: Callable) -> Callable:
    """``loc + scale * <draw>`` for parameters ``(*rest, loc, scale)``."""
    def build(fn, rng, args):
        *rest, loc, scale = args
        return _b("+", loc, _b("*", scale, draw(rng, rest)))
    return build


def _bernoulli(fn, rng, args):
    (p,) = args
    return sx.ifexp(sx.compare("<=", sx.method(rng, "random"), p), sx.literal(1),
                    sx.literal(0))


def _pareto(fn, rng, args):
    b, scale = args
    u = sx.method(rng, "random")
    return _b("*", _b("**", _b("-", sx.literal(1.0), u), sx.unary("-", _b(
        "/", sx.literal(1.0), b))), scale)


def _invgamma(fn, rng, args):
    shape, scale = args
    gamma = sx.method(rng, "gamma", shape, _b("/", sx.literal(1.0), scale))
    return _b("/", sx.literal(1.0), gamma)


def _gengamma(fn, rng, args):
    alpha, p, lambd = args
    gamma = sx.method(rng, "standard_gamma", _b("/", alpha, p))
    return _b("*", lambd, _b("**", gamma, _b("/", sx.literal(1.0), p)))


def _truncexpon(fn, rng, args):
    b, loc, scale = args
    u = sx.method(rng, "random")
    tail = sx.call("math.log1p", _b("*", u, sx.call("math.expm1", sx.unary("-", b))))
    return _b("-", loc, _b("*", scale, tail))


def _betabinomial(fn, rng, args):
    n, a, b = args
    return sx.method(rng, "binomial", n, sx.method(rng, "beta", a, b))


def _helper(name: str) -> Callable:
    """``<helper>(rng, *params)``, a function of ``transpile/runtime/random.py``."""
    return lambda fn, rng, args: sx.call(fn.helper(name), rng, *args)


def _pymc_wald(fn, rng, args):
    mu, lam, alpha = args
    return _b("+", sx.method(rng, "wald", mu, lam), alpha)


def _pymc_discrete_uniform(fn, rng, args):
    lower, upper = args
    return sx.method(rng, "integers", lower, _b("+", upper, sx.literal(1)))


# PyMC's own random variables with a Python sampler, by qualified class name (so that
# PyMC need not be imported to lower PyTensor's): drawn as their ``rng_fn`` defines
# them, by distribution (its NumPy or SciPy calls run in object mode in PyTensor's
# Numba mode).
PYMC_SCALAR_DRAWS: dict[str, Callable] = {
    "pymc.distributions.continuous.WaldRV": _pymc_wald,
    "pymc.distributions.discrete.DiscreteUniformRV": _pymc_discrete_uniform,
}


# Draws that are one Generator call on the parameters as they are, and the dtype of
# its result: with scalar parameters a whole batch is one call,
# ``rng.<method>(*params, size=shape)``.
VECTORISED: dict[type, tuple[str, str]] = {
    ptr.UniformRV: ("uniform", "float64"),
    ptr.TriangularRV: ("triangular", "float64"),
    ptr.BetaRV: ("beta", "float64"),
    ptr.NormalRV: ("normal", "float64"),
    ptr.LogNormalRV: ("lognormal", "float64"),
    ptr.GammaRV: ("gamma", "float64"),
    ptr.ExponentialRV: ("exponential", "float64"),
    ptr.WeibullRV: ("weibull", "float64"),
    ptr.LogisticRV: ("logistic", "float64"),
    ptr.LaplaceRV: ("laplace", "float64"),
    ptr.WaldRV: ("wald", "float64"),
    ptr.PoissonRV: ("poisson", "int64"),
    ptr.GeometricRV: ("geometric", "int64"),
    ptr.BinomialRV: ("binomial", "int64"),
    ptr.NegBinomialRV: ("negative_binomial", "int64"),
    ptr.IntegersRV: ("integers", "int64"),
}

# RandomVariable class -> (fn, rng, parameter expressions) -> one draw.
SCALAR_DRAWS: dict[type, Callable] = {
    **{cls: _method(name) for cls, (name, _) in VECTORISED.items()},
    ptr.BernoulliRV: _bernoulli,
    ptr.StudentTRV: _shifted(lambda rng, rest: sx.method(rng, "standard_t", *rest)),
    ptr.HalfNormalRV: _shifted(lambda rng, _: sx.call("abs", sx.method(
        rng, "standard_normal"))),
    ptr.CauchyRV: _shifted(lambda rng, _: sx.method(rng, "standard_cauchy")),
    ptr.HalfCauchyRV: _shifted(lambda rng, _: sx.call("abs", sx.method(
        rng, "standard_cauchy"))),
    ptr.ParetoRV: _pareto,
    ptr.InvGammaRV: _invgamma,
    ptr.GenGammaRV: _gengamma,
    ptr.TruncExponentialRV: _truncexpon,
    ptr.BetaBinomialRV: _betabinomial,
    ptr.GumbelRV: _helper("random_gumbel"),
    ptr.VonMisesRV: _helper("random_vonmises"),
    ptr.HyperGeometricRV: _helper("random_hypergeometric"),
    ptr.CategoricalRV: _helper("random_categorical"),
}

# Where PyTensor's Numba mode has no sampler of its own (it calls NumPy or SciPy in
# object mode), or where its sampler is not the distribution PyTensor defines, the
# generated draws follow the distribution without reproducing PyTensor's numbers:
# HalfCauchy, GenGamma, TruncExponential and BetaBinomial are drawn from their
# definitions, the hypergeometric by drawing items one at a time; Cauchy is
# ``loc + scale * standard_cauchy()`` (PyTensor 2.38's Numba mode draws
# ``(loc + standard_cauchy()) / scale``, the same only for scale 1).  Choice without
# replacement draws as NumPy's ``Generator.choice`` does (PyTensor's Numba mode uses
# an algorithm of its own), so it is compared exactly, with PyTensor's Python mode.
DISTRIBUTION_ONLY = frozenset({
    ptr.HalfCauchyRV, ptr.GenGammaRV, ptr.TruncExponentialRV, ptr.BetaBinomialRV,
    ptr.HyperGeometricRV, ptr.CauchyRV,
})


# ---- the batch loop -----------------------------------------------------------------


@dataclass
class Batch:
    """The batch dimensions of a random variable's draws: their lengths and how
    each parameter is read at a batch position."""

    ndim: int
    dims: list

    def element(self, fn, param, core_ndim: int, indices) -> sx.Expr:
        """``param`` at the batch position ``indices`` (its core dimensions whole)."""
        batch_ndim = param.type.ndim - core_ndim
        if core_ndim == 0 and param in fn.broadcast_scalars:
            return fn.broadcast_scalars[param]
        if batch_ndim == 0:
            return fn.expr(param)
        shape = param.type.shape[:batch_ndim]
        if core_ndim == 0 and isinstance(param, Constant) and all(s == 1 for s in shape):
            return typed_literal(param.data, param.type.dtype)  # ``2.0``, not ``C[0, 0]``
        offset = self.ndim - batch_ndim
        index = [sx.literal(0) if s == 1 else sx.name(indices[offset + d])
                 for d, s in enumerate(shape)]
        return sx.subscript(fn.expr(param), index + [sx.COLON] * core_ndim)


def batch(fn, op, node, out) -> Batch:
    """The batch lengths of the draws ``out`` (from ``size``, else the parameters),
    checking at run time that every parameter's batch dimensions fit them."""
    ndim = op.batch_ndim(node)
    size = op.size_param(node)
    sized = not _is_none(size)
    size_dims = vector_elements(fn, size) if sized else None
    dims, mismatches = [], []
    for d in range(ndim):
        sources = [(p, pd) for p, core in zip(op.dist_params(node), op.ndims_params,
                                              strict=True)
                   if (pd := d - ndim + p.type.ndim - core) >= 0 and p.type.shape[pd] != 1]
        static = out.type.shape[d]
        if static is not None:
            length = sx.literal(static)
        elif sized:
            length = size_dims[d]
        elif sources:
            length = dim_size(fn, *sources[0])
        else:
            length = sx.literal(1)
        dims.append(length)
        for p, pd in sources:
            other = dim_size(fn, p, pd)
            if fn.code(other) != fn.code(length):
                mismatches.append(sx.compare("!=", other, length))
    check_shapes(fn, mismatches, op.name)
    return Batch(ndim, dims)


def _is_none(var) -> bool:
    return type(var.type).__name__ == "NoneTypeT"


def _scalar_params(op, node) -> bool:
    """Whether every parameter is one number for the whole batch."""
    return all(core == 0 and all(s == 1 for s in p.type.shape)
               for p, core in zip(op.dist_params(node), op.ndims_params, strict=True))


# ---- the generator -------------------------------------------------------------------


def _users(fn, var) -> list:
    return [client for client, _ in fn.clients(var) if client.op is not None]


def generator(fn, node, next_rng) -> sx.Expr:
    """The generator a random variable draws from; its next state ``next_rng`` is
    the same object, advanced."""
    rng = node.inputs[0]
    if len(_users(fn, rng)) > 1:
        raise UnsupportedOpError(_shared_state_message(rng))
    value = fn.expr(rng)
    fn.alias(next_rng, value)
    return value


def _shared_state_message(var) -> str:
    return (f"the random generator {var.name or var} feeds several random variables: "
            "PyTensor draws each from the same state (the same numbers), which a "
            "generator advanced in place cannot do; chain the draws through each "
            "random variable's next-generator output")


def frozen_generators(fgraph) -> list:
    """The generator constants of ``fgraph`` (shared generators the loader froze),
    in order of first use; checks that no generator feeds two nodes.

    A ``DeepCopyOp`` of a generator (how a compiled Function returns a shared
    generator as another's update) is replaced by the generator itself: Numba cannot
    copy one, and the module's contract returns generators as they are."""
    from pytensor.compile.ops import DeepCopyOp

    for node in fgraph.toposort():
        if isinstance(node.op, DeepCopyOp) and is_generator(node.inputs[0]):
            fgraph.replace(node.outputs[0], node.inputs[0], reason="generator_copy")
    found = []
    for var in [v for node in fgraph.toposort() for v in node.inputs] + fgraph.outputs:
        if is_generator(var) and isinstance(var, Constant) and not any(
                var is f for f in found):
            found.append(var)
    for var in fgraph.variables:
        if is_generator(var):
            users = [c for c, _ in fgraph.clients.get(var, ()) if hasattr(c, "op")
                     and type(c.op).__name__ != "Output"]
            if len(users) > 1:
                raise UnsupportedOpError(_shared_state_message(var))
    return found


# ---- lowering ---------------------------------------------------------------------------


def _draws_hint(op, out) -> str:
    return f"{out.name}_draws" if out.name else f"{op.name}_draws"


@register(RandomVariable)
def lower_RandomVariable(op, node, fn):
    lower_draws(fn, op, node, node.outputs)


@register(RandomVariableWithCoreShape)
def lower_RandomVariableWithCoreShape(op, node, fn):
    # Numba mode's rewrites wrap each random variable in this OpFromGraph, with the
    # draws' core shape as an extra first input.  The random variable is lowered on
    # the outer inputs themselves (its constants stay constants, a MakeVector size
    # stays its lengths); the core shape follows from the parameters.
    [inner] = op.fgraph.apply_nodes
    lower_draws(fn, inner.op, inner.clone_with_new_inputs(node.inputs[1:]), node.outputs)


def lower_draws(fn, op, node, outs) -> None:
    """Lower the random variable ``node`` (the Op's queries read its inputs), binding
    ``outs``, the next generator and the draws."""
    kind = type(op)
    draw = SCALAR_DRAWS.get(kind) or PYMC_SCALAR_DRAWS.get(
        f"{kind.__module__}.{kind.__qualname__}")
    if draw is not None:
        rng = generator(fn, node, outs[0])
        _lower_scalar_support(fn, op, node, outs[1], rng, draw)
    elif kind in VECTOR_DRAWS:
        rng = generator(fn, node, outs[0])
        _lower_vector_support(fn, op, node, outs[1], rng, VECTOR_DRAWS[kind])
    else:
        raise UnsupportedOpError(
            f"unsupported random variable {kind.__module__}.{kind.__qualname__} in "
            f"node {node}: no sampler for it yet (register a lowering with "
            f"@transpile.register({kind.__name__}), see docs/design.md)")


def _emit_draws(fn, out, value: sx.Expr, hint: str) -> None:
    """Bind ``out`` to ``value``; a draw nothing reads is still made (it advances
    the generator)."""
    if fn.needed(out):
        fn.bind(out, value, hint=hint)
    else:
        fn.emit(sx.expr_stmt(value))
        fn.alias(out, sx.name("None"))


# Samplers whose parameters Numba takes as integers only (``Generator.integers``):
# a float parameter (PyMC's DiscreteUniform bounds) is converted, as NumPy does.
INTEGER_PARAMETERS = frozenset({"IntegersRV", "HyperGeometricRV", "DiscreteUniformRV"})


def _integer_args(op, params, args) -> list:
    if type(op).__name__ not in INTEGER_PARAMETERS:
        return args
    return [sx.call("np.int64", a) if p.type.dtype.startswith("float") else a
            for p, a in zip(params, args, strict=True)]


def _lower_scalar_support(fn, op, node, out, rng, draw) -> None:
    dtype = out.type.dtype
    params = op.dist_params(node)
    if out.type.ndim == 0:
        args = _integer_args(op, params, [fn.expr(p) for p in params])
        _emit_draws(fn, out, cast_if_unnatural(draw(fn, rng, args), dtype),
                    _draws_hint(op, out))
        return
    loop = batch(fn, op, node, out)
    shape = sx.tuple_(loop.dims)
    method, method_dtype = VECTORISED.get(type(op), (None, None))
    if method_dtype == dtype and _scalar_params(op, node):
        args = _integer_args(op, params, [loop.element(fn, p, 0, ()) for p in params])
        _emit_draws(fn, out, sx.method(rng, method, *args, size=shape),
                    _draws_hint(op, out))
        fn.contiguous.add(out)
        return
    target = fn.allocate(out, shape, dtype, _draws_hint(op, out))
    with fn.indices(loop.ndim) as indices:
        with fn.block() as body:
            args = _integer_args(op, params, [
                loop.element(fn, p, core, indices)
                for p, core in zip(params, op.ndims_params, strict=True)])
            fn.emit(sx.assign(sx.subscript(target, [sx.name(i) for i in indices]),
                              draw(fn, rng, args)))
        fn.emit(*sx.for_nest(indices, loop.dims, body))


# ---- distributions with vector support ------------------------------------------------


@dataclass(frozen=True)
class VectorDraw:
    """A distribution whose draws are arrays: the lengths of one draw's core
    dimensions, and the statements that write one draw into ``target`` (``out`` or
    ``out[i, j]``).  ``prepare`` computes, before the batch loop, what every draw
    may reuse; ``whole`` is the draw as one expression, used when there is no batch."""

    core_dims: Callable  # (fn, op, node) -> [length expressions]
    fill: Callable  # (fn, op, node, rng, args, target, prepared) -> [statements]
    prepare: Callable | None = None  # (fn, op, node, loop) -> expression or None
    whole: Callable | None = None  # (fn, op, node, rng, args, dtype) -> expr or None


def _store(target, value) -> cst.BaseStatement:
    """``out[i, j] = value``, or ``out[:] = value`` for the whole of ``out``."""
    if not isinstance(target, cst.Subscript):
        target = sx.subscript(target, [sx.COLON])
    return sx.assign(target, value)


def _last_dim(index: int) -> Callable:
    def core_dims(fn, op, node):
        param = op.dist_params(node)[index]
        return [dim_size(fn, param, param.type.ndim - 1)]
    return core_dims


def _into(helper: str) -> Callable:
    def fill(fn, op, node, rng, args, target, prepared):
        return [sx.expr_stmt(sx.call(fn.helper(helper), rng, *args, target))]
    return fill


def _mvnormal_prepare(fn, op, node, loop):
    """The covariance's factor, computed once when the covariance is not batched."""
    cov = op.dist_params(node)[1]
    if any(s != 1 for s in cov.type.shape[:-2]):
        return None
    factor = sx.call(fn.helper(f"covariance_factor_{op.method}"),
                     loop.element(fn, cov, 2, ()))
    return fn.bind_name(fn.fresh("factor"), factor)


def _mvnormal_fill(fn, op, node, rng, args, target, prepared):
    mean, cov = args
    factor = prepared if prepared is not None else sx.call(
        fn.helper(f"covariance_factor_{op.method}"), cov)
    return [sx.expr_stmt(sx.call(fn.helper("random_mvnormal_into"), rng, mean, factor,
                                 target))]


def _mvnormal_dims(fn, op, node):
    mean, cov = op.dist_params(node)
    if mean.type.shape[-1] not in (None, 1):
        return [sx.literal(mean.type.shape[-1])]
    return [dim_size(fn, cov, cov.type.ndim - 1)]


def _permutation_dims(fn, op, node):
    (x,) = op.dist_params(node)
    if op.ndims_params[0] == 0:  # a permutation of range(x), x the same everywhere
        first = fn.expr(x) if x.type.ndim == 0 else sx.subscript(
            fn.expr(x), [sx.literal(0)] * x.type.ndim)
        return [first]
    batch_ndim = x.type.ndim - op.ndims_params[0]
    return [dim_size(fn, x, d) for d in range(batch_ndim, x.type.ndim)]


def _permutation_fill(fn, op, node, rng, args, target, prepared):
    # ``rng.permutation`` is ``rng.shuffle`` of a copy, but Numba's shuffle takes
    # tens of seconds to compile; random_shuffle draws the same swaps.
    (x,) = args
    items = sx.call("np.arange", x) if op.ndims_params[0] == 0 else x
    return [_store(target, items),
            sx.expr_stmt(sx.call(fn.helper("random_shuffle"), rng, target))]


def _choice_core(fn, op, node):
    """The draws' core lengths: the sample's shape, then ``a``'s own beyond axis 0."""
    a, *_, core_shape = op.dist_params(node)
    if core_shape.type.ndim == 1:
        sample = vector_elements(fn, core_shape)
    else:  # batched, but the same in every batch entry (as PyTensor reads it)
        first = [0] * (core_shape.type.ndim - 1)
        if isinstance(core_shape, Constant):
            sample = [sx.literal(int(k)) for k in core_shape.data[tuple(first)]]
        else:
            sample = [sx.subscript(fn.expr(core_shape), [*map(sx.literal, first),
                                                         sx.literal(k)])
                      for k in range(core_shape.type.shape[-1])]
    batch_ndim = a.type.ndim - op.ndims_params[0]
    return sample, [dim_size(fn, a, d) for d in range(batch_ndim + 1, a.type.ndim)]


def _choice_fill(fn, op, node, rng, args, target, prepared):
    a, *p, _ = args
    sample, rest = _choice_core(fn, op, node)
    count = sx.chain("*", sample) if sample else sx.literal(1)
    picked = fn.fresh("picked")
    implicit = op.ndims_params[0] == 0
    population = a if implicit else sx.subscript(sx.attr(a, "shape"), [sx.literal(0)])
    if p:
        pick = sx.call(fn.helper("random_weighted_sample_indices"), rng, p[0],
                       sx.name(picked))
    else:
        pick = sx.call(fn.helper("random_sample_indices"), rng, population,
                       sx.name(picked))
    chosen = sx.name(picked) if implicit else sx.subscript(a, [sx.name(picked)])
    shape = sample + [sx.subscript(sx.attr(a, "shape"), [sx.literal(d + 1)])
                      for d in range(len(rest))]
    return [sx.assign(picked, sx.call("np.empty", count, dtype=sx.dotted("np.int64"))),
            sx.expr_stmt(pick),
            _store(target, sx.method(chosen, "reshape", sx.tuple_(shape)))]


VECTOR_DRAWS: dict[type, VectorDraw] = {
    ptr.DirichletRV: VectorDraw(_last_dim(0), _into("random_dirichlet_into")),
    ptr.MultinomialRV: VectorDraw(_last_dim(1), _into("random_multinomial_into")),
    ptr.MvNormalRV: VectorDraw(_mvnormal_dims, _mvnormal_fill, _mvnormal_prepare),
    ptr.PermutationRV: VectorDraw(_permutation_dims, _permutation_fill),
    ptr.ChoiceWithoutReplacement: VectorDraw(
        lambda fn, op, node: [d for part in _choice_core(fn, op, node) for d in part],
        _choice_fill),
}


def _lower_vector_support(fn, op, node, out, rng, kind: VectorDraw) -> None:
    params = op.dist_params(node)
    loop = batch(fn, op, node, out)
    if out.type.ndim == 0:
        raise UnsupportedOpError(f"{op} with a 0-d draw: {node}")
    whole = None
    if loop.ndim == 0 and kind.whole is not None:
        args = [fn.expr(p) for p in params]
        whole = kind.whole(fn, op, node, rng, args, out.type.dtype)
    if whole is not None:
        _emit_draws(fn, out, whole, _draws_hint(op, out))
        fn.contiguous.add(out)
        return
    core = [sx.literal(s) if s is not None else d for s, d in zip(
        out.type.shape[loop.ndim:], kind.core_dims(fn, op, node), strict=True)]
    target = fn.allocate(out, sx.tuple_([*loop.dims, *core]), out.type.dtype,
                         _draws_hint(op, out))
    prepared = kind.prepare(fn, op, node, loop) if kind.prepare else None
    with fn.indices(loop.ndim) as indices:
        with fn.block() as body:
            args = [loop.element(fn, p, c, indices)
                    for p, c in zip(params, op.ndims_params, strict=True)]
            where = sx.subscript(target, [sx.name(i) for i in indices]) if indices \
                else target
            fn.emit(*kind.fill(fn, op, node, rng, args, where, prepared))
        fn.emit(*sx.for_nest(indices, loop.dims, body))


# ---- what the module says and defines about its generators ------------------------

STATES_NAME, SHARED_GENERATOR_NAME = "GENERATOR_STATES", "shared_generator"

_SHARED_GENERATOR = '''
def shared_generator(name):
    """A new numpy.random.Generator in the state GENERATOR_STATES[name] records."""
    state = GENERATOR_STATES[name]
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)
'''


def generator_note(inputs_meta, outputs_meta, states: dict) -> list[str]:
    """The docstring's paragraph on the generator arguments (none without any)."""
    names = [p for p, dtype, _ in inputs_meta if dtype == "Generator"]
    if not names:
        return []
    listed = ", ".join(names)
    lines = [
        f"Random draws come from {listed} (numpy.random.Generator), advanced in place:",
        "the one kind of argument the module changes.  Where the graph returns a",
        "generator's next state, the same Generator object is returned.",
    ]
    if states:
        frozen = ", ".join(states)
        lines += [
            f"{frozen}: the graph's shared generator(s), not graph inputs;",
            "shared_generator(name) makes a new Generator in the state each had when",
            "the module was generated (GENERATOR_STATES), to draw what PyTensor would.",
        ]
    return [*lines, ""]


def generator_definitions(states: dict) -> list:
    """``GENERATOR_STATES = {...}`` and ``shared_generator(name)``, when needed."""
    if not states:
        return []
    entries = [cst.DictElement(sx.string(name), _literal(state))
               for name, state in states.items()]
    table = sx.assign(STATES_NAME, cst.Dict(entries))
    return [table, *cst.parse_module(_SHARED_GENERATOR).body]


def _literal(value) -> sx.Expr:
    """A bit generator's state (dicts of strings, integers and arrays) as source."""
    import numpy as np

    from ..context import array_literal

    if isinstance(value, dict):
        return cst.Dict([cst.DictElement(sx.string(k), _literal(v))
                         for k, v in value.items()])
    if isinstance(value, str):
        return sx.string(value)
    if isinstance(value, np.ndarray):
        return array_literal(value)
    return sx.literal(value)


def reserve_module_names(module) -> None:
    """Keep graph names off the names ``generator_definitions`` defines."""
    from ..errors import TranspileError

    if module.entry_name in (STATES_NAME, SHARED_GENERATOR_NAME):
        raise TranspileError(f"--name {module.entry_name!r} clashes with a name the "
                             "module defines")
    module.namespace.reserve(STATES_NAME)
    module.namespace.reserve(SHARED_GENERATOR_NAME)


__all__ = ["DISTRIBUTION_ONLY", "SCALAR_DRAWS", "VECTOR_DRAWS", "frozen_generators",
           "generator_definitions", "generator_note", "is_generator",
           "lower_RandomVariable"]
