"""Random draws that are more than one call of a NumPy ``Generator`` method.

Plain ``@numba.njit`` code; generated modules copy what they use.  Every function
takes the ``numpy.random.Generator`` it draws from as its first argument and
advances it.  Where PyTensor's Numba mode draws a distribution from other draws
(the von Mises rejection sampler, the Gumbel and categorical inverse-CDF draws, the
Dirichlet from gammas, the multinomial from conditional binomials, the multivariate
normal from standard normals), the same draws are made in the same order, so one
seed gives the same numbers; choice without replacement draws as NumPy's
``Generator.choice`` does (PyTensor's Python mode), which PyTensor's Numba mode does
not.  The hypergeometric follows the distribution, not a particular stream.

``*_into`` functions write one draw of a multivariate distribution into ``out``.
"""

import math

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def random_gumbel(rng, loc, scale):
    """A Gumbel draw by inverting its CDF at a uniform in (0, 1]."""
    u = 1.0 - rng.random()
    while u >= 1.0:  # random() gave 0.0: log(-log(1.0)) is infinite, draw again
        u = 1.0 - rng.random()
    return loc - scale * math.log(-math.log(u))


@numba.njit(cache=True, error_model="numpy")
def random_vonmises(rng, mu, kappa):
    """A von Mises draw on [-pi, pi): Best and Fisher's (1979) rejection sampler,
    a uniform angle for tiny ``kappa`` and a wrapped normal for huge ones."""
    if np.isnan(kappa):
        return np.nan
    if kappa < 1e-8:
        return math.pi * (2.0 * rng.random() - 1.0)
    if kappa < 1e-5:
        s = 1.0 / kappa + kappa  # the series of the expression below, near 0
    elif kappa <= 1e6:
        r = 1.0 + math.sqrt(1.0 + 4.0 * kappa * kappa)
        rho = (r - math.sqrt(2.0 * r)) / (2.0 * kappa)
        s = (1.0 + rho * rho) / (2.0 * rho)
    else:
        angle = mu + math.sqrt(1.0 / kappa) * rng.standard_normal()
        if angle < -math.pi:
            angle += 2.0 * math.pi
        if angle > math.pi:
            angle -= 2.0 * math.pi
        return angle
    while True:
        z = math.cos(math.pi * rng.random())
        w = (1.0 + s * z) / (s + z)
        y = kappa * (s - w)
        v = rng.random()
        # (v == 0 is fine: y >= 0 accepts by the first test, y < 0 fails both)
        if y * (2.0 - y) - v >= 0.0 or math.log(y / v) + 1.0 - y >= 0.0:
            break
    flip = rng.random() < 0.5
    angle = -math.acos(w) if flip else math.acos(w)
    angle += mu
    # Into [-pi, pi), symmetrically about 0.
    wrapped = np.mod(abs(angle) + math.pi, 2.0 * math.pi) - math.pi
    return -wrapped if angle < 0.0 else wrapped


@numba.njit(cache=True, error_model="numpy")
def random_hypergeometric(rng, ngood, nbad, nsample):
    """The number of good items among ``nsample`` drawn without replacement from
    ``ngood`` good and ``nbad`` bad ones, by drawing the items one at a time (the
    smaller of the sample and its complement, so at most half the population)."""
    total = ngood + nbad
    if ngood < 0 or nbad < 0 or nsample < 0 or nsample > total:
        raise ValueError("hypergeometric: need ngood >= 0, nbad >= 0 and "
                         "0 <= nsample <= ngood + nbad")
    count = min(nsample, total - nsample)
    good_left, left, good_drawn = ngood, total, 0
    for _ in range(count):
        if rng.integers(0, left) < good_left:
            good_drawn += 1
            good_left -= 1
        left -= 1
    return good_drawn if count == nsample else ngood - good_drawn


@numba.njit(cache=True, error_model="numpy")
def random_categorical(rng, p):
    """The first index at which the running sum of ``p`` reaches a uniform draw (the
    last index if rounding leaves the sum short of it)."""
    u = rng.uniform(0.0, 1.0)
    total = 0.0
    for k in range(p.shape[0]):
        total += p[k]
        if u <= total:
            return k
    return p.shape[0] - 1


@numba.njit(cache=True, error_model="numpy")
def random_dirichlet_into(rng, alpha, out):
    """Independent Gamma(alpha_k, 1) draws, divided by their sum."""
    for k in range(alpha.shape[0]):
        out[k] = rng.gamma(alpha[k], 1.0)
    inverse = 1.0 / out.sum()  # NumPy's rounding: times the reciprocal of the sum
    for k in range(alpha.shape[0]):
        out[k] *= inverse


@numba.njit(cache=True, error_model="numpy")
def random_multinomial_into(rng, n, p, out):
    """``n`` trials over ``len(p)`` categories: each count a binomial draw of the
    trials left, with the category's share of the probability left; the last
    category takes what remains."""
    last = p.shape[0] - 1
    for k in range(p.shape[0]):
        out[k] = 0
    remaining = n
    mass = 1.0
    for k in range(last):
        out[k] = rng.binomial(remaining, p[k] / mass)
        remaining -= out[k]
        if remaining <= 0:
            break
        mass -= p[k]
    if remaining > 0:
        out[last] = remaining


@numba.njit(cache=True, error_model="numpy")
def random_mvnormal_into(rng, mean, factor, out):
    """``mean + factor @ z`` for standard normal ``z``, where ``factor @ factor.T``
    is the covariance."""
    z = np.empty(factor.shape[1])
    for k in range(z.shape[0]):
        z[k] = rng.standard_normal()
    y = np.dot(factor, z)
    for k in range(y.shape[0]):
        out[k] = y[k] + mean[k]


@numba.njit(cache=True, error_model="numpy")
def covariance_factor_cholesky(cov):
    """``L`` with ``L @ L.T == cov``: the Cholesky factor."""
    return np.linalg.cholesky(cov)


@numba.njit(cache=True, error_model="numpy")
def covariance_factor_svd(cov):
    """``U * sqrt(s)`` from the SVD ``cov = U diag(s) V.T``."""
    u, s, _ = np.linalg.svd(cov)
    u *= np.sqrt(s)  # in place: the factor keeps LAPACK's layout
    return u


@numba.njit(cache=True, error_model="numpy")
def covariance_factor_eigh(cov):
    """``V * sqrt(w)`` from the eigendecomposition ``cov = V diag(w) V.T``."""
    w, v = np.linalg.eigh(cov)
    v *= np.sqrt(w)  # in place: the factor keeps LAPACK's layout
    return v


@numba.njit(cache=True, error_model="numpy")
def random_interval(rng, high):
    """A uniform integer in [0, high], as NumPy's shuffles draw one: the low bits of
    raw 32-bit (else 64-bit) outputs of the bit generator, rejected above ``high``.
    ``integers`` over a whole unsigned range returns such a raw output."""
    mask = high
    shift = 1
    while shift < 64:
        mask |= mask >> shift
        shift *= 2
    if high <= 0xFFFFFFFF:
        value = rng.integers(0, 0xFFFFFFFF, dtype=np.uint32, endpoint=True) & mask
        while value > high:
            value = rng.integers(0, 0xFFFFFFFF, dtype=np.uint32, endpoint=True) & mask
        return value
    value = rng.integers(0, 0xFFFFFFFFFFFFFFFF, dtype=np.uint64, endpoint=True) & mask
    while value > high:
        value = rng.integers(0, 0xFFFFFFFFFFFFFFFF, dtype=np.uint64, endpoint=True) & mask
    return value


@numba.njit(cache=True, error_model="numpy")
def random_shuffle(rng, out):
    """Shuffle the C-contiguous ``out`` along its first axis in place, as
    ``Generator.shuffle`` does: swap each row, last first, with a uniform one at or
    before it."""
    rows = out.reshape((out.shape[0], -1))
    for i in range(rows.shape[0] - 1, 0, -1):
        j = random_interval(rng, np.uint64(i))
        if j != i:
            for k in range(rows.shape[1]):
                rows[i, k], rows[j, k] = rows[j, k], rows[i, k]


@numba.njit(cache=True, error_model="numpy")
def random_sample_indices(rng, population, out):
    """``len(out)`` distinct indices of ``range(population)``, drawn as NumPy's
    ``Generator.choice(population, len(out), replace=False)`` draws them: the tail
    of a partial Fisher-Yates shuffle when the sample is a large share of a large
    population, else Floyd's algorithm (step ``j`` takes a uniform index at or
    below ``j``, or ``j`` itself if that one is taken) and a shuffle of the sample."""
    count = out.shape[0]
    if count > population:
        raise ValueError("Cannot take a larger sample than population without "
                         "replacement")
    if population > 10000 and count > population // 50:
        pool = np.arange(population)
        for i in range(population - 1, max(population - count, 1) - 1, -1):
            j = rng.integers(0, i + 1)
            pool[i], pool[j] = pool[j], pool[i]
        out[:] = pool[population - count:]
        return
    taken = set()
    for j in range(population - count, population):
        index = rng.integers(0, j + 1)
        if index in taken:
            index = j
        taken.add(index)
        out[j - population + count] = index
    for i in range(count - 1, 0, -1):
        j = rng.integers(0, i + 1)
        out[i], out[j] = out[j], out[i]


@numba.njit(cache=True, error_model="numpy")
def random_weighted_sample_indices(rng, p, out):
    """``len(out)`` distinct indices drawn with probabilities ``p``, as NumPy's
    ``Generator.choice(len(p), len(out), replace=False, p=p)`` draws them: rounds of
    categorical draws by the CDF of the weights not taken yet, each keeping the
    first occurrence of every new index, until there are enough."""
    count = out.shape[0]
    weights = p.astype(np.float64)
    if count > weights.shape[0]:
        raise ValueError("Cannot take a larger sample than population without "
                         "replacement")
    if np.any(weights < 0.0):
        raise ValueError("probabilities are not non-negative")
    # NumPy's tolerance: the square root of the machine epsilon of p's dtype, taken in
    # that dtype (np.sqrt(np.finfo(np.float32).eps) is float32's 3.4526698e-04)
    tolerance = 1.4901161193847656e-08 if p.itemsize == 8 else 3.452669770922512e-04
    if abs(weights.sum() - 1.0) > tolerance:
        raise ValueError("probabilities do not sum to 1")
    if np.count_nonzero(weights > 0.0) < count:
        raise ValueError("Fewer non-zero entries in p than size")
    found = 0
    while found < count:
        u = rng.random(count - found)
        cdf = np.cumsum(weights)
        cdf /= cdf[-1]
        for pick in np.searchsorted(cdf, u, side="right"):
            if weights[pick] > 0.0:  # not taken in this round or before
                weights[pick] = 0.0
                out[found] = pick
                found += 1
