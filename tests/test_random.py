"""Random variables: generated draws against PyTensor's.

A generated module takes the generator as an argument and advances it in place, so
the oracle runs PyTensor on a generator in the same state and compares the draws
exactly, and the generator states after the call:

- against PyTensor's reference implementation (Python mode: ``RandomVariable``'s
  ``rng_fn``, NumPy's Generator methods) for the distributions whose draws are
  NumPy's own calls, which Numba reproduces bit for bit;
- against PyTensor's Numba mode (``numba__fastmath`` off, so that its arithmetic
  is IEEE like ours) for those it draws by its own formula (Bernoulli, Gumbel,
  Wald, Cauchy with scale 1);
- by distribution (a Kolmogorov-Smirnov or chi-square test at a fixed seed,
  moments) for those PyTensor's Numba mode samples in object mode or differently
  (``DISTRIBUTION_ONLY``).

Each group is one module, so Numba compiles it once.  PyTensor's Numba mode takes
seconds per random variable to compile, so the default run compares a few of them
with it; ``TRANSPILE_RANDOM_FULL=1`` compares every supported random variable with
both PyTensor modes (several minutes on a cold cache).
"""

import os
import pickle

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytensor.tensor.random.basic as ptr
import pytest
import scipy.stats as stats
from oracle import REFERENCE_MODE, import_source, transpile_module
from pytensor.compile.mode import Mode
from pytensor.tensor.random.type import random_generator_type

import transpile
from transpile.errors import UnsupportedOpError
from transpile.lower.random import DISTRIBUTION_ONLY, SCALAR_DRAWS, VECTOR_DRAWS

FULL = bool(os.environ.get("TRANSPILE_RANDOM_FULL"))
SEED = 20261125

V = pt.dvector("v")  # length 2
M = pt.dmatrix("m")  # (3, 2)
N = pt.lvector("n")  # length 2
COV = pt.dmatrix("cov")  # (2, 2)
DATA = {
    V: np.array([0.5, 1.5]),
    M: np.arange(6.0).reshape(3, 2) / 3,
    N: np.array([5, 7]),
    COV: np.array([[2.0, 0.5], [0.5, 1.0]]),
}

def _batched_choice(rng, rows, p=None):
    """Two distinct items of each row of ``rows`` (with weights the rows of ``p``):
    ``choice`` has no batch dimensions of its own, a vectorized graph has them."""
    if p is None:
        op = ptr.ChoiceWithoutReplacement(signature="(a0),(1)->(s0)", dtype="int64")
        return op(rows, (2,), rng=rng)
    op = ptr.ChoiceWithoutReplacement(signature="(a0),(a0),(1)->(s0)", dtype="int64")
    return op(rows, p, (2,), rng=rng)


# name -> the random variable drawn from generator r.  Each reads its parameters
# in another way: scalar parameters with a size (one call), batched parameters
# broadcast against each other or against a size, integer parameters, ...
REFERENCE_CASES = {
    "uniform": lambda r: ptr.uniform(-1.0, 2.0, size=(3, 2), rng=r),
    "normal": lambda r: ptr.normal(M, V, rng=r),
    "normal_size": lambda r: ptr.normal(V, 2.0, size=(4, 2), rng=r),
    "poisson": lambda r: ptr.poisson(V * 3.0, size=(5, 2), rng=r),
    "binomial": lambda r: ptr.binomial(N, 0.4, rng=r),
    "halfnormal": lambda r: ptr.halfnormal(V, 2.0, rng=r),
    "vonmises": lambda r: ptr.vonmises(V, 2.0, size=(20, 2), rng=r),
    "categorical": lambda r: ptr.categorical(pt.special.softmax(M, axis=-1), rng=r),
    "multinomial": lambda r: ptr.multinomial(N, [0.2, 0.3, 0.5], rng=r),
    "dirichlet": lambda r: ptr.dirichlet(M + 1.0, rng=r),
    "mvnormal": lambda r: ptr.multivariate_normal(M, COV, rng=r),
    "permutation": lambda r: ptr.permutation(V, size=(3,), rng=r),
    "permutation_range": lambda r: ptr.permutation(5, rng=r),
    # choice without replacement: NumPy's Floyd algorithm and shuffle, its tail
    # shuffle (a large share of a large population), its rounds of weighted draws
    "choice_rows": lambda r: _batched_choice(r, np.tile(np.arange(6), (40, 1))),
    "choice_range": lambda r: ptr.choice(6, size=(2, 2), replace=False, rng=r),
    "choice_matrix": lambda r: ptr.choice(M, size=(2,), replace=False, rng=r),
    "choice_large": lambda r: ptr.choice(20000, size=(500,), replace=False, rng=r),
    "choice_p": lambda r: ptr.choice(np.arange(10.0, 15.0), size=(3,), replace=False,
                                     p=np.array([0.1, 0.2, 0.3, 0.15, 0.25]), rng=r),
    "choice_rows_p": lambda r: _batched_choice(
        r, np.tile(np.arange(5), (30, 1)),
        np.tile([[0.05, 0.05, 0.3, 0.0, 0.6], [0.2, 0.2, 0.2, 0.2, 0.2]], (15, 1))),
}
REFERENCE_FULL = {
    "beta": lambda r: ptr.beta(V + 1.0, 2.0, rng=r),
    "gamma": lambda r: ptr.gamma(V + 0.5, scale=2.0, size=(3, 2), rng=r),
    "integers": lambda r: ptr.integers(0, N + 3, rng=r),
    "t": lambda r: ptr.t(3.0, V, 2.0, rng=r),
    "invgamma": lambda r: ptr.invgamma(V + 1.0, 2.0, rng=r),
    "triangular": lambda r: ptr.triangular(-5.0, V, 5.0, rng=r),
    "lognormal": lambda r: ptr.lognormal(V, 1.0, size=(3, 2), rng=r),
    "exponential": lambda r: ptr.exponential(V, rng=r),
    "weibull": lambda r: ptr.weibull(V + 1.0, rng=r),
    "logistic": lambda r: ptr.logistic(V, 1.0, size=(3, 2), rng=r),
    "laplace": lambda r: ptr.laplace(M, 1.0, rng=r),
    "geometric": lambda r: ptr.geometric(0.3, size=(4,), rng=r),
    "negative_binomial": lambda r: ptr.negative_binomial(N, 0.3, rng=r),
    "pareto": lambda r: ptr.pareto(V + 1.0, 2.0, rng=r),
    "mvnormal_svd": lambda r: ptr.MvNormalRV(method="svd")(V, COV, size=(2,), rng=r),
    "mvnormal_eigh": lambda r: ptr.MvNormalRV(method="eigh")(V, COV, rng=r),
    "permutation_matrix": lambda r: ptr.permutation(M, rng=r),
}
# Drawn by PyTensor's Numba mode with its own formula: compared with that mode.
NUMBA_CASES = {
    "bernoulli": lambda r: ptr.bernoulli(V / 3.0, size=(3, 2), rng=r),
    "gumbel": lambda r: ptr.gumbel(V, 2.0, size=(3, 2), rng=r),
    "wald": lambda r: ptr.wald(V + 1.0, 1.0, rng=r),
}
# Every other case where PyTensor's Numba mode draws NumPy's numbers too: not choice
# without replacement, which that mode draws by an algorithm of its own (docs/usage.md)
# and the module as NumPy does (compared with the Python mode above).
NUMBA_FULL = {
    "cauchy": lambda r: ptr.cauchy(V, 1.0, rng=r),
    **{name: case for name, case in {**REFERENCE_CASES, **REFERENCE_FULL}.items()
       if not name.startswith("choice")},
}


def _chain(cases):
    """One graph drawing every case in turn from one generator argument: the inputs,
    the draws, then the generator's final state."""
    rng = random_generator_type("rng")
    draws, state = [], rng
    for name, build in cases.items():
        x = build(state)
        x.name = name
        draws.append(x)
        state = x.owner.outputs[0]
    used = list(pytensor.graph.graph_inputs(draws))
    data = [var for var in DATA if any(var is u for u in used)]
    return [rng, *data], [*draws, state]


def _module(inputs, outputs, **options):
    # written with -o as a user would (large parameter arrays go to its data file)
    return transpile_module(inputs, outputs, **options)


def _run_both(cases, mode, seed=SEED):
    """Draw ``cases`` with the generated module and with PyTensor in ``mode``."""
    inputs, outputs = _chain(cases)
    module = _module(inputs, outputs)
    values = [DATA[var] for var in inputs[1:]]
    rng = np.random.default_rng(seed)
    got = module.kernel(rng, *values)
    with pytensor.config.change_flags(numba__fastmath=False):
        fn = pytensor.function(inputs, outputs, mode=mode)
    want = fn(np.random.default_rng(seed), *values)
    return rng, outputs, got, want


# The Dirichlet's draws are divided by their sum as NumPy divides them, times its
# reciprocal (what PyTensor's Numba mode does too under its default fastmath flags,
# which allow that); with fastmath off, PyTensor's Numba mode divides: 1 ulp apart.
ULP = {"dirichlet": 1}


def _check_exact(cases, mode):
    rng, outputs, got, want = _run_both(cases, mode)
    for name, var, g, w in zip(cases, outputs, got, want, strict=False):
        g = np.asarray(g)
        assert g.dtype == np.dtype(var.type.dtype), f"{name}: dtype {g.dtype}"
        assert g.shape == np.shape(w), f"{name}: shape {g.shape} != {np.shape(w)}"
        if mode == "NUMBA" and name in ULP:
            np.testing.assert_array_max_ulp(g, w, maxulp=ULP[name])
        else:
            np.testing.assert_array_equal(g, w, err_msg=name)
    assert got[-1] is rng, "the generator's next state is the generator passed in"
    assert rng.bit_generator.state == want[-1].bit_generator.state


def test_same_draws_as_pytensor_reference():
    _check_exact({**REFERENCE_CASES, **(REFERENCE_FULL if FULL else {})}, REFERENCE_MODE)


def test_same_draws_as_pytensor_numba_mode():
    _check_exact({**NUMBA_CASES, **(NUMBA_FULL if FULL else {})}, "NUMBA")


def test_every_random_variable_has_a_case():
    """Each supported class is compared exactly somewhere, or by distribution."""
    exact = {**REFERENCE_CASES, **REFERENCE_FULL, **NUMBA_CASES, **NUMBA_FULL}
    inputs, outputs = _chain(exact)
    covered = {type(out.owner.op) for out in outputs[:-1]}
    supported = set(SCALAR_DRAWS) | set(VECTOR_DRAWS)
    assert supported - covered - DISTRIBUTION_ONLY == set()
    assert DISTRIBUTION_ONLY - {type(build(random_generator_type()).owner.op)
                                for build in DISTRIBUTION_CASES.values()} == set()


# ---- distributions ------------------------------------------------------------------

DRAWS = 3000


DISTRIBUTION_CASES = {
    "cauchy": lambda r: ptr.cauchy(1.5, 2.0, size=(DRAWS,), rng=r),
    "halfcauchy": lambda r: ptr.halfcauchy(1.0, 2.0, size=(DRAWS,), rng=r),
    "gengamma": lambda r: ptr.gengamma(2.0, 1.5, 3.0, size=(DRAWS,), rng=r),
    "truncexpon": lambda r: ptr.truncexpon(2.0, 1.0, 0.5, size=(DRAWS,), rng=r),
    "betabinom": lambda r: ptr.betabinom(10, 2.0, 3.0, size=(DRAWS,), rng=r),
    "hypergeometric": lambda r: ptr.hypergeometric(7, 9, 12, size=(DRAWS,), rng=r),
}
SCIPY = {
    "cauchy": stats.cauchy(1.5, 2.0),
    "halfcauchy": stats.halfcauchy(1.0, 2.0),
    "gengamma": stats.gengamma(2.0 / 1.5, 1.5, scale=3.0),
    "truncexpon": stats.truncexpon(2.0, 1.0, 0.5),
    "betabinom": stats.betabinom(10, 2.0, 3.0),
    "hypergeom": stats.hypergeom(16, 7, 12),
}


@pytest.fixture(scope="module")
def distribution_draws():
    rng = random_generator_type("rng")
    outputs, state = [], rng
    for name, build in DISTRIBUTION_CASES.items():
        x = build(state)
        x.name = name
        outputs.append(x)
        state = x.owner.outputs[0]
    module = _module([rng], outputs)
    first = module.kernel(np.random.default_rng(SEED))
    return dict(zip(DISTRIBUTION_CASES, first, strict=True)), module


@pytest.mark.parametrize("name", ["cauchy", "halfcauchy", "gengamma", "truncexpon"])
def test_continuous_distribution(distribution_draws, name):
    draws = distribution_draws[0][name]
    assert draws.shape == (DRAWS,) and draws.dtype == np.float64
    assert stats.kstest(draws, SCIPY[name].cdf).pvalue > 1e-3


@pytest.mark.parametrize("name, dist", [("betabinom", "betabinom"),
                                        ("hypergeometric", "hypergeom")])
def test_discrete_distribution(distribution_draws, name, dist):
    draws = distribution_draws[0][name]
    assert draws.dtype == np.int64
    support = np.arange(draws.min(), draws.max() + 1)
    expected = SCIPY[dist].pmf(support)
    assert SCIPY[dist].pmf(support).sum() > 0.999  # nothing drawn off the support
    observed = np.array([(draws == k).sum() for k in support])
    keep = expected * DRAWS >= 5  # chi-square needs populated cells: pool the tails
    obs, exp = observed[keep], expected[keep] * DRAWS
    if (~keep).any():
        obs, exp = np.append(obs, observed[~keep].sum()), np.append(
            exp, max(expected[~keep].sum() * DRAWS, 1e-9))
    exp *= obs.sum() / exp.sum()
    assert stats.chisquare(obs, exp).pvalue > 1e-3
    dist_mean, dist_var = SCIPY[dist].stats()
    assert abs(draws.mean() - dist_mean) < 4 * np.sqrt(dist_var / DRAWS)


# ---- semantics: dtypes, sizes, broadcasting, the generator ---------------------------


@pytest.fixture(scope="module")
def semantics():
    """One module: a float32 draw, a size given at run time, an unread draw, a draw
    with more batch dimensions than its parameters, integer parameters."""
    rng = random_generator_type("rng")
    size = pt.lvector("size", shape=(2,))
    mu = pt.dvector("mu")
    r1, x32 = ptr.normal(mu, 1.0, dtype="float32", rng=rng).owner.outputs
    r2, xs = ptr.normal(0.0, mu, size=size, rng=r1).owner.outputs
    r3, _unused = ptr.exponential(mu, rng=r2).owner.outputs
    r4, ints = ptr.poisson(3, size=(2, 2), rng=r3).owner.outputs
    r5, i32 = ptr.binomial(10, 0.5, size=(3,), dtype="int32", rng=r4).owner.outputs
    inputs, outputs = [rng, size, mu], [x32, xs, ints, i32, r5]
    return inputs, outputs


@pytest.mark.parametrize("rewrite", [True, False])
def test_semantics(semantics, rewrite):
    inputs, outputs = semantics
    module = _module(inputs, outputs, rewrite=rewrite)
    values = [np.array([4, 3]), np.array([0.0, 1.0, 2.0])]
    rng = np.random.default_rng(SEED)
    got = module.kernel(rng, *values)
    # Rewritten, as PyTensor compiles it: PyTensor 3's rewrites skip the unread draw
    # (``sidestep_unused_rng_consumer``), and so does the module.
    mode = Mode(linker="py", optimizer="fast_run") if rewrite else REFERENCE_MODE
    fn = pytensor.function(inputs, outputs, mode=mode)
    want = fn(np.random.default_rng(SEED), *values)
    for g, w, var in zip(got[:-1], want[:-1], outputs[:-1], strict=True):
        assert g.dtype == np.dtype(var.type.dtype) and g.shape == w.shape
        np.testing.assert_array_equal(g, w)
    assert got[-1] is rng and rng.bit_generator.state == want[-1].bit_generator.state
    with pytest.raises(ValueError, match="input shapes do not match"):
        module.kernel(rng, np.array([4, 2]), *values[1:])


def test_generator_advances_in_place():
    """Two calls with one generator draw different numbers, as a compiled Function
    with the generator's update does; the module's docstring says so."""
    rng = random_generator_type("rng")
    next_rng, x = ptr.normal(0.0, 1.0, size=(3,), rng=rng).owner.outputs
    source = transpile.transpile(([rng], [x, next_rng]))
    assert "advanced in place" in source and '("rng", "Generator", ())' in source
    module = import_source(source, "random")
    shared = pytensor.shared(np.random.default_rng(SEED))
    y = ptr.normal(0.0, 1.0, size=(3,), rng=shared)
    fn = pytensor.function([], y, updates={shared: y.owner.outputs[0]})
    gen = np.random.default_rng(SEED)
    for _ in range(2):
        draws, returned = module.kernel(gen)
        assert returned is gen
        np.testing.assert_array_equal(draws, fn())


def test_shared_generator_becomes_an_argument(tmp_path):
    """A shared generator that is no input of the graph is an argument after the
    graph's inputs; ``shared_generator(name)`` gives one in its recorded state.
    Through a graph pickle too, and a pickled Function with the generator's update
    takes it as an input and returns it."""
    shared = pytensor.shared(np.random.default_rng(SEED), name="rng")
    mu = pt.dvector("mu")
    next_rng, x = ptr.normal(mu, 1.0, size=(2, 3), rng=shared).owner.outputs
    path = tmp_path / "graph.pkl"
    transpile.dump([mu], [x], path)
    module = import_source(transpile.transpile(path), "random")
    assert [name for name, _, _ in module.INPUTS] == ["mu", "rng"]
    values = np.array([0.0, 10.0, 20.0])
    want = pytensor.function([mu], x)(values)  # no update: the same draws each call
    for _ in range(2):
        np.testing.assert_array_equal(module.kernel(values, module.shared_generator("rng")),
                                      want)

    fn = pytensor.function([mu], x, updates={shared: next_rng})
    (tmp_path / "fn.pkl").write_bytes(pickle.dumps(fn))
    compiled = import_source(transpile.transpile(tmp_path / "fn.pkl"), "random")
    gen = np.random.default_rng(SEED)
    draws, returned = compiled.kernel(values, gen)
    assert returned is gen
    np.testing.assert_array_equal(draws, fn(values))


def test_update_to_another_shared_generator(tmp_path):
    """``updates={rng: rng_new}``: both generators are arguments, and the module
    returns rng_new as the next state of rng (PyTensor's next call draws from it)."""
    rng = pytensor.shared(np.random.default_rng(1), name="rng")
    rng_new = pytensor.shared(np.random.default_rng(2), name="rng_new")
    x = ptr.normal(size=(4,), rng=rng)
    fn = pytensor.function([], x, updates={rng: rng_new})
    (tmp_path / "fn.pkl").write_bytes(pickle.dumps(fn))
    module = import_source(transpile.transpile(tmp_path / "fn.pkl"), "random")
    # rng_new's name is lost when the rewrites fold the Function's copy of it
    (_, kind, _), (frozen, _, _) = module.INPUTS
    assert kind == "Generator" and list(module.GENERATOR_STATES) == [frozen]
    first, second = np.random.default_rng(1), module.shared_generator(frozen)
    draws, state = module.kernel(first, second)
    np.testing.assert_array_equal(draws, fn())
    assert state is second
    np.testing.assert_array_equal(module.kernel(state, second)[0], fn())


def test_scan_with_a_generator_state():
    """A generator threaded through a Scan as its updated state (how random walks
    are sampled): the same draws as PyTensor's reference."""
    rng = random_generator_type("rng")

    def step(x_tm1, r):
        r_next, eps = ptr.normal(0.0, 1.0, size=x_tm1.shape, rng=r).owner.outputs
        return [x_tm1 + eps, r_next]

    x0 = pt.dvector("x0")
    xs, last = pytensor.scan(step, outputs_info=[x0, rng], n_steps=5,
                             return_updates=False)
    module = _module([rng, x0], [xs, last])
    gen = np.random.default_rng(SEED)
    got, returned = module.kernel(gen, np.zeros(2))
    fn = pytensor.function([rng, x0], [xs, last], mode=REFERENCE_MODE)
    want, want_rng = fn(np.random.default_rng(SEED), np.zeros(2))
    np.testing.assert_array_equal(got, want)
    assert returned is gen and gen.bit_generator.state == want_rng.bit_generator.state


def test_generator_feeding_two_draws_is_refused():
    rng = random_generator_type("rng")
    x = ptr.normal(0.0, 1.0, rng=rng)
    y = ptr.normal(5.0, 1.0, rng=rng)  # PyTensor: x + 5, from the same state
    with pytest.raises(UnsupportedOpError, match="feeds several random variables"):
        transpile.transpile(([rng], [x, y]))


def test_unsupported_random_variable_is_refused():
    class CustomRV(ptr.RandomVariable):
        name = "custom"
        signature = "()->()"
        dtype = "float64"

        def rng_fn(self, rng, value, size=None):
            return value + rng.standard_normal(size=size)

    rng = random_generator_type("rng")
    x = CustomRV()(1.0, rng=rng)
    with pytest.raises(UnsupportedOpError, match="unsupported random variable .*CustomRV"):
        transpile.transpile(([rng], [x]))


def test_pymc_random_variables():
    """PyMC's Wald (with its shift) and DiscreteUniform, by distribution."""
    pm = pytest.importorskip("pymc")
    rng = random_generator_type("rng")
    r1, wald = pm.Wald.dist(mu=2.0, lam=3.0, alpha=1.0, size=(DRAWS,),
                            rng=rng).owner.outputs
    _, uniform = pm.DiscreteUniform.dist(-2, 3, size=(DRAWS,), rng=r1).owner.outputs
    module = _module([rng], [wald, uniform])
    got_wald, got_uniform = module.kernel(np.random.default_rng(SEED))
    assert stats.kstest(got_wald, stats.invgauss(2.0 / 3.0, loc=1.0, scale=3.0).cdf
                        ).pvalue > 1e-3
    assert got_uniform.dtype == np.int64 and set(got_uniform) == set(range(-2, 4))
    counts = np.array([(got_uniform == k).sum() for k in range(-2, 4)])
    assert stats.chisquare(counts).pvalue > 1e-3
