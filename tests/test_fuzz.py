"""Differential test of random graphs: seeded random expressions (tests/fuzz.py) over
every dtype, with integer extremes, nan and inf in the inputs, transpiled, compiled
and compared with PyTensor's own evaluation (its Python mode, tests/oracle.py).

Eight expressions share one module.  By default 40 expressions run (5 modules, about
a minute); ``TRANSPILE_FUZZ_GRAPHS=<n>`` runs ``n`` (``TRANSPILE_FUZZ_GRAPHS=400
pytest tests/test_fuzz.py``), ``TRANSPILE_FUZZ_SEED=<s>`` starts from another seed.

PyTensor's rewrites are not exact at the edges (``x - x`` is 0 also for inf, ``-x``
wraps around at an integer's minimum where a rewritten ``Min`` does not), so an
output may instead agree with PyTensor's evaluation of the graph rewritten as
transpile rewrites it: either way the value is one PyTensor computes.
"""

import os
import warnings

import numpy as np
import pytest
from fuzz import random_case
from oracle import REFERENCE_MODE, check_output, reference, transpile_module

PER_MODULE = 8
GRAPHS = int(os.environ.get("TRANSPILE_FUZZ_GRAPHS") or 40)
FIRST_SEED = int(os.environ.get("TRANSPILE_FUZZ_SEED") or 0)
SEEDS = range(FIRST_SEED, FIRST_SEED + max(1, -(-GRAPHS // PER_MODULE)))


def rewritten_reference(inputs, outputs, values):
    """PyTensor's evaluation (Python mode) of the graph after transpile's rewrites."""
    import pytensor
    from pytensor.graph.fg import FunctionGraph

    from transpile.rewrite import rewrite

    fgraph = FunctionGraph(list(inputs), list(outputs), clone=True)
    rewrite(fgraph)
    fn = pytensor.function(fgraph.inputs, fgraph.outputs, mode=REFERENCE_MODE,
                           on_unused_input="ignore")
    return fn(*[np.copy(v) if isinstance(v, np.ndarray) else v for v in values])


def _agrees(got, want, var, label) -> AssertionError | None:
    try:
        check_output(got, want, var, label, _tolerance(var))
    except AssertionError as error:
        return error
    return None


def _single_precision(var) -> bool:
    """Whether ``var`` is computed from float32 or complex64 values somewhere."""
    seen, stack = set(), [var]
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if getattr(v.type, "dtype", None) in ("float32", "complex64"):
            return True
        if v.owner is not None:
            stack.extend(v.owner.inputs)
    return False


def _tolerance(var):
    # float32 arithmetic (NumPy's SIMD loops, Numba's libm) differs by a few ulps,
    # more after a subtraction, also when the result is then cast to float64.
    if _single_precision(var):
        return {"rtol": 1e-4, "atol": 1e-5}
    return {"rtol": 1e-9, "atol": 1e-12}


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graphs(seed):
    case = random_case(seed, PER_MODULE)
    assert case.outputs, f"seed {seed}: no expression could be built"
    check_case(case, transpile_module(case.inputs, case.outputs))


def check_case(case, module) -> None:
    """``module``'s results for ``case`` against PyTensor's; inputs left unchanged
    and never aliased by an output."""
    seed = case.seed
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = reference(case.inputs, case.outputs, case.values)
        originals = [np.copy(v) for v in case.values]
        got = module.kernel(*case.values)
    got = list(got) if len(case.outputs) > 1 else [got]
    rewritten = None
    for k, (g, w, var, recipe) in enumerate(zip(got, want, case.outputs, case.recipes,
                                                strict=True)):
        label = f"seed {seed}, output {k}: {recipe}"
        error = _agrees(g, w, var, label)
        if error is None:
            continue
        if rewritten is None:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                rewritten = rewritten_reference(case.inputs, case.outputs, case.values)
        if _agrees(g, rewritten[k], var, label) is not None:
            raise error
    for k, (v, o) in enumerate(zip(case.values, originals, strict=True)):
        np.testing.assert_array_equal(np.asarray(v), o, err_msg=f"input {k} was modified")
        for j, g in enumerate(got):
            if isinstance(g, np.ndarray) and isinstance(v, np.ndarray):
                assert not np.shares_memory(g, v), f"output {j} aliases input {k}"


def test_generator_is_deterministic():
    """The same seed builds the same graphs and values (a failure can be replayed)."""
    first, second = random_case(3, 4), random_case(3, 4)
    assert first.recipes == second.recipes
    for a, b in zip(first.values, second.values, strict=True):
        np.testing.assert_array_equal(a, b)
