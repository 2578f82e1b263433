"""PyMC models -> one module that draws their prior and posterior predictive.

    import transpile.pymc_predictive
    source = transpile.pymc_predictive.from_pymc_predictive(model, "model_draws.py")

The generated module has two entries (``numba.njit``, numba and numpy only):

    prior_predictive(rng, draws)                -> (<free>, <deterministic>, <observed>)
    posterior_predictive(rng, <free variables>) -> (<observed>)

``prior_predictive`` draws ``draws`` times every free variable, deterministic and
observed variable forward from the prior, as ``pm.sample_prior_predictive`` does;
each result has a leading axis of length ``draws``.  ``posterior_predictive`` takes
posterior draws of the free variables (PyMC's constrained values, each with a
leading axis over the draws, chains flattened into it) and draws every observed
variable once for each, as ``pm.sample_posterior_predictive`` does.  ``rng`` is a
``numpy.random.Generator``, advanced in place.

How: every random variable of the model draws from one generator, threaded through
the model's random variables in topological order (PyMC gives each its own shared
generator); one draw of the model is a ``pytensor.scan`` step, so the loop over
draws is a ``for`` loop in the module.  For the posterior, each free variable is
replaced by its value at the step.  Observed data and ``pm.Data`` are frozen into
the module at their current values, as for ``transpile pymc``.
"""

from dataclasses import dataclass

from .errors import GraphError, TranspileError

ENTRY_NAMES = ("prior_predictive", "posterior_predictive")
METADATA_NAMES = ("PRIOR_VARIABLES", "POSTERIOR_ARGUMENTS", "POSTERIOR_VARIABLES")


@dataclass(frozen=True)
class Drawn:
    """One variable a predictive entry returns (or, for the posterior, takes)."""

    name: str  # the model's name of the variable
    kind: str  # "free", "deterministic" or "observed"
    dtype: str
    shape: tuple  # of one draw

    def row(self) -> tuple:
        return (self.name, self.kind, self.dtype, self.shape)


# ---- the graphs ------------------------------------------------------------------------


def thread_generators(outputs, rng):
    """``outputs`` with every random variable they depend on drawing from ``rng`` in
    turn (topological order), and the generator's final state."""
    from pytensor.graph.fg import FunctionGraph
    from pytensor.graph.replace import clone_replace

    # A copy of the nodes (the model's own graph is not changed), on the same roots.
    fgraph = FunctionGraph(outputs=clone_replace(list(outputs), replace={}), clone=False)
    state = rng
    for node in fgraph.toposort():
        update = getattr(node.op, "update", None)
        if update is None:
            continue
        for old, new in update(node).items():  # the node's generators, next states
            # This node's input only: PyMC may give two nodes one generator (a
            # resized copy of a distribution), and each is to draw afresh.
            fgraph.change_node_input(node, node.inputs.index(old), state,
                                     import_missing=True, reason="thread_generators")
            state = new
    return list(fgraph.outputs), state


def _describe(model, point) -> list[Drawn]:
    rows = []
    for kind, variables in (("free", model.free_RVs),
                            ("deterministic", model.deterministics),
                            ("observed", model.observed_RVs)):
        for var in variables:
            shape = _shape_of(model, var, point)
            rows.append(Drawn(var.name, kind, var.type.dtype, shape))
    return rows


def _shape_of(model, var, point) -> tuple:
    """The shape of one draw of ``var``: the initial point's for a free variable's
    value, else evaluated (it depends on data only)."""
    import numpy as np

    if var in model.rvs_to_values and model.rvs_to_values[var].name in point \
            and model.rvs_to_transforms.get(var) is None:
        return tuple(int(s) for s in np.shape(point[model.rvs_to_values[var].name]))
    from pytensor.compile.mode import Mode

    # Python thunks: no C compiler run for a handful of shape computations.
    shape = var.shape.eval(mode=Mode(linker="py", optimizer="fast_compile"))
    return tuple(int(s) for s in shape)


def prior_graph(model):
    """``(inputs, outputs)``: ``[rng, draws]`` and the stacked prior draws of every
    free, deterministic and observed variable."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.graph.replace import clone_replace
    from pytensor.tensor.random.type import random_generator_type

    variables = [*model.free_RVs, *model.deterministics, *model.observed_RVs]
    if not variables:
        raise GraphError("the model has no random variables to draw")
    rng = random_generator_type("rng")
    draws = pt.lscalar("draws")
    one, state = thread_generators(variables, rng)  # one draw of the model

    def step(r):
        return clone_replace([*one, state], replace={rng: r})

    *stacked, _ = pytensor.scan(step, outputs_info=[*[None] * len(one), rng],
                                n_steps=draws, return_updates=False)
    for out, var in zip(stacked, variables, strict=True):
        out.name = var.name
    return [rng, draws], stacked


def posterior_graph(model, point):
    """``(inputs, outputs)``: ``[rng, <free variables>]`` (each with a leading draws
    axis) and one draw of every observed variable per posterior draw."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.graph.replace import clone_replace
    from pytensor.tensor.random.type import random_generator_type

    observed = list(model.observed_RVs)
    rng = random_generator_type("rng")
    free = list(model.free_RVs)
    values = [pt.tensor(dtype=v.type.dtype, shape=_shape_of(model, v, point),
                        name=f"{v.name}_value") for v in free]
    given = clone_replace(observed, replace=dict(zip(free, values, strict=True)))
    one, state = thread_generators(given, rng)
    stacked_inputs = [pt.tensor(dtype=v.type.dtype, shape=(None, *v.type.shape),
                                name=f.name) for v, f in zip(values, free, strict=True)]

    def step(*args):
        *values_t, r = args
        return clone_replace([*one, state], replace={
            **dict(zip(values, values_t, strict=True)), rng: r})

    *drawn, _ = pytensor.scan(step, sequences=stacked_inputs, outputs_info=[
        *[None] * len(one), rng], return_updates=False)
    for out, var in zip(drawn, observed, strict=True):
        out.name = var.name
    return [rng, *stacked_inputs], drawn


# ---- the docstring ---------------------------------------------------------------------


def _shape_text(shape) -> str:
    inner = ", ".join(str(s) for s in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def docstring(rows: list[Drawn], *, source: str, digest: str, regenerate: str,
              options: dict, blas: bool) -> str:
    import pymc
    import pytensor

    from . import __version__
    from .pymc import _table

    free = [r.name for r in rows if r.kind == "free"]
    observed = [r.name for r in rows if r.kind == "observed"]
    prior_out = ", ".join(r.name for r in rows)
    post_out = ", ".join(observed)
    table = [["variable", "kind", "dtype", "shape of one draw"],
             *[[r.name, r.kind, r.dtype, _shape_text(r.shape)] for r in rows]]
    rewrites = ("PyTensor's Numba-mode rewrites, without in-place ones"
                if options["rewrite"] else "none (--no-rewrite)")
    lines = [
        f"Prior and posterior predictive draws of a PyMC model, generated by transpile "
        f"{__version__}.",
        "",
        *_usage(free, observed, prior_out, post_out),
        "",
        "Variables (PRIOR_VARIABLES; POSTERIOR_ARGUMENTS and POSTERIOR_VARIABLES are",
        "the free and the observed ones):",
        "",
        *_table(table),
        "",
        "The draws are PyMC's distributions, not its random streams: the same seed",
        "gives other numbers than PyMC does.  Observed data and pm.Data are frozen",
        "at the values they had.",
        "",
        f"Model:       {source} (sha256 {digest[:16]})",
        f"PyMC:        {pymc.__version__}",
        f"PyTensor:    {pytensor.__version__}",
        f"Rewrites:    {rewrites}",
        f"Regenerate:  {regenerate}",
        "",
        "Needs only numba and numpy at run time" + (
            " (and SciPy, whose BLAS and LAPACK Numba's np.dot and np.linalg use)."
            if blas else "."),
        "Do not edit: regenerate instead.",
    ]
    return "\n".join(lines)


def _usage(free, observed, prior_out: str, post_out: str) -> list[str]:
    lines = [f"    prior_predictive(rng, draws) -> ({prior_out})"]
    if observed:
        lines.append(f"    posterior_predictive(rng, {', '.join(free)}) -> "
                     f"{post_out if len(observed) == 1 else f'({post_out})'}")
    lines += [
        "",
        "rng is a numpy.random.Generator: every draw comes from it and advances it in",
        "place (the one argument the module changes); seed it for reproducible draws.",
        "",
        "prior_predictive draws `draws` times every free, deterministic and observed",
        "variable forward from the prior, as pm.sample_prior_predictive does; each",
        "result has a leading axis of length draws.",
    ]
    if observed:
        lines += [
            "",
            "posterior_predictive takes posterior draws of the free variables in",
            "PyMC's own (constrained) space, each with a leading axis over the draws",
            "(flatten chains into it: idata.posterior[name].values.reshape(-1, *shape)),",
            "and draws every observed variable once for each, as",
            "pm.sample_posterior_predictive does; its results have that leading axis.",
        ]
    return lines


# ---- the entry point -------------------------------------------------------------------


def from_pymc_predictive(model, path=None, *, rewrite: bool = True, fastmath: bool = False,
                         cache: bool = True, source: str | None = None,
                         regenerate: str | None = None) -> str:
    """The source of a module with ``prior_predictive(rng, draws)`` and
    ``posterior_predictive(rng, <free variables>)`` for the PyMC ``model``; written
    to ``path`` (atomically) if given."""
    try:
        import pymc as pm
    except ImportError:
        raise TranspileError("PyMC is not installed (pip install pymc)") from None
    if not isinstance(model, pm.Model):
        raise TranspileError(f"expected a pymc.Model, got {type(model).__name__}")
    import warnings

    from .load import load_object
    from .pymc import _BLAS_CALLS, Entry, build_module

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        point = model.initial_point()
        rows = _describe(model, point)
        prior = load_object(prior_graph(model))
        entries = [Entry(ENTRY_NAMES[0], prior)]
        if model.observed_RVs:
            entries.append(Entry(ENTRY_NAMES[1], load_object(posterior_graph(model, point))))
    regenerate = regenerate or _regenerate_call(rewrite, fastmath, cache)

    def doc(inputs_meta, code):
        return docstring(rows, source=source or "<pymc.Model object>",
                         digest=prior.digest, regenerate=regenerate,
                         options={"rewrite": rewrite},
                         blas=any(call in code for call in _BLAS_CALLS))

    observed = [r for r in rows if r.kind == "observed"]
    last = observed if len(entries) > 1 else rows
    outputs_meta = [(r.name, r.dtype, (None, *r.shape)) for r in last]
    metadata = (
        ("PRIOR_VARIABLES", tuple(r.row() for r in rows)),
        ("POSTERIOR_ARGUMENTS", tuple(r.row() for r in rows if r.kind == "free")),
        ("POSTERIOR_VARIABLES", tuple(r.row() for r in observed)),
    )
    from .data import data_file_for, write_module

    text, data = build_module(entries, doc, rewrite=rewrite, cache=cache,
                              fastmath=fastmath, outputs_meta=outputs_meta,
                              metadata=metadata, same_inputs=False, keep_names=True,
                              data_file=data_file_for(path))
    if path is not None:
        write_module(path, text, data)
    return text


def _regenerate_call(rewrite: bool, fastmath: bool, cache: bool) -> str:
    kwargs = "".join(f", {k}={v!r}" for k, v, default in (
        ("rewrite", rewrite, True), ("fastmath", fastmath, False), ("cache", cache, True),
    ) if v != default)
    return f"transpile.pymc_predictive.from_pymc_predictive(model, <this file>{kwargs})"


__all__ = ["from_pymc_predictive", "posterior_graph", "prior_graph", "thread_generators"]
