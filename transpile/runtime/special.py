"""Scalar special functions that Numba's ``math`` module lacks.

Plain ``@numba.njit`` code, importable and tested against SciPy in
``tests/test_runtime_special.py``.  Generated modules copy what they use.
"""

import math

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def log1mexp(x):
    """log(1 - exp(x)) for x <= 0, accurate on both sides of -log(2)."""
    if x < -0.6931471805599453:
        return math.log1p(-math.exp(x))
    return math.log(-math.expm1(x))


@numba.njit(cache=True, error_model="numpy")
def softplus(x):
    """log(1 + exp(x)) without overflow, with PyTensor's thresholds."""
    if x < -37.0:
        return math.exp(x)
    if x < 18.0:
        return math.log1p(math.exp(x))
    if x < 33.3:
        return x + math.exp(-x)
    return x


@numba.njit(cache=True, error_model="numpy")
def sigmoid(x):
    """1 / (1 + exp(-x)) without overflow for large |x|."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@numba.njit(cache=True, error_model="numpy")
def softplus_sigmoid(x):
    """(softplus(x), softplus(-x), sigmoid(x)) from one exp and one log1p:
    softplus(+-x) = max(+-x, 0) + log1p(exp(-|x|)), without overflow."""
    e = math.exp(-abs(x))
    tail = math.log1p(e)
    s = 1.0 / (1.0 + e)
    if x >= 0.0:
        return x + tail, tail, s
    if x < 0.0:
        return tail, tail - x, e * s
    return x, x, x  # nan


@numba.njit(cache=True, error_model="numpy")
def xlogx(x):
    """x * log(x), with 0 * log(0) = 0."""
    if x == 0.0:
        return 0.0
    return x * math.log(x)


@numba.njit(cache=True, error_model="numpy")
def xlogy0(x, y):
    """x * log(y), with 0 * log(y) = 0 for every y."""
    if x == 0.0:
        return 0.0
    return x * math.log(y)


# ---- small building blocks ---------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def log1pmx(x):
    """log(1 + x) - x, accurate near 0."""
    t = np.float64(x)
    if math.isnan(t) or t == math.inf:
        return math.nan
    if t < -0.5 or t > 0.5:
        return math.log1p(t) - t
    # log(1 + t) = 2 atanh(u) with u = t / (2 + t), and 2u - t = -t u.
    u = t / (2.0 + t)
    u2 = u * u
    s = 0.0
    k = 20
    while k >= 1:
        s = s * u2 + 1.0 / (2 * k + 1)
        k -= 1
    return -t * u + 2.0 * u * u2 * s


@numba.njit(cache=True, error_model="numpy")
def expx2(x):
    """exp(x * x) without the rounding error of x * x (for |x| < 27)."""
    t = np.float64(x)
    c = 134217729.0 * t
    hi = c - (c - t)
    lo = t - hi
    return math.exp(hi * hi) * math.exp(lo * (2.0 * hi + lo))


@numba.njit(cache=True, error_model="numpy")
def lgamma_stirling_tail(a):
    """lgamma(a) - ((a - 1/2) log(a) - a + log(2 pi) / 2), for a >= 10.

    Stirling's series sum_k B_2k / (2k (2k - 1) a^(2k - 1)), k = 1..8.
    """
    coefs = (
        -3617.0 / 122400.0,
        1.0 / 156.0,
        -691.0 / 360360.0,
        1.0 / 1188.0,
        -1.0 / 1680.0,
        1.0 / 1260.0,
        -1.0 / 360.0,
        1.0 / 12.0,
    )
    z = 1.0 / (a * a)
    s = 0.0
    for c in coefs:
        s = s * z + c
    return s / a


# ---- error function family ---------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def erfcx(x):
    """Scaled complementary error function exp(x**2) * erfc(x)."""
    t = np.float64(x)
    if math.isnan(t):
        return math.nan
    if t < -26.7:
        return math.inf
    a = abs(t)
    if a < 26.0:
        r = expx2(a) * math.erfc(a)
    elif a == math.inf:
        r = 0.0
    else:
        # Asymptotic series: 1/(a sqrt(pi)) * sum (-1)^k (2k-1)!! / (2a^2)^k.
        w = 0.5 / (a * a)
        term = 1.0
        s = 1.0
        k = 1
        while k < 30:
            term *= -(2 * k - 1) * w
            s += term
            if abs(term) < 1e-17:
                break
            k += 1
        r = s / (a * 1.7724538509055160273)
    if t < 0.0:
        return 2.0 * expx2(t) - r
    return r


@numba.njit(cache=True, error_model="numpy")
def erf_complex(z):
    """erf of a complex number, as SciPy's ``erf`` gives it.  erf is odd, so
    ``Re z >= 0``.  Near the origin and the imaginary axis, its Taylor series (its
    terms cancel little there: ``-z**2`` points right); elsewhere ``1 - erfc(z)``, erfc
    from Laplace's continued fraction (it converges for ``Re z > 0``, in fewer steps
    the farther ``z`` is from the axis).  Within 2e-13 of SciPy's where the result is
    finite, about what ``exp(-z**2)`` is good for (tests/test_runtime_special.py)."""
    z = np.complex128(z)
    sign = 1.0
    if z.real < 0.0:
        z, sign = -z, -1.0
    r = abs(z)
    if r < 2.0 or z.real == 0.0 or (z.real < 0.25 * abs(z.imag) and r < 8.0):
        minus_z2 = -z * z
        term = z
        total = z
        n = 0
        while True:
            n += 1
            term = term * minus_z2 / n
            part = term / (2 * n + 1)
            total += part
            if abs(part) <= 1e-17 * abs(total) and n > abs(minus_z2):
                break
            if n > 100_000 or not math.isfinite(abs(total)):
                break
        return sign * 1.1283791670955126 * total
    # erfc(z) = exp(-z**2) / sqrt(pi) / (z + (1/2) / (z + 1 / (z + (3/2) / (z + ...))))
    tiny = 1e-300
    f = z
    c = z
    d = np.complex128(0.0)
    for k in range(1, 100_000):
        a = 0.5 * k
        d = z + a * d
        if d == 0:
            d = np.complex128(tiny)
        c = z + a / c
        if c == 0:
            c = np.complex128(tiny)
        d = 1.0 / d
        delta = c * d
        f *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return sign * (1.0 - np.exp(-z * z) / (1.7724538509055160273 * f))


@numba.njit(cache=True, error_model="numpy")
def erfinv_guess(log_one_minus_p2):
    """Winitzki's closed-form approximation to erfinv, from log(1 - p**2) (< 0)."""
    c = 4.330746750799873  # 2 / (pi * 0.147)
    h = c + 0.5 * log_one_minus_p2
    return math.sqrt(math.sqrt(h * h - log_one_minus_p2 / 0.147) - h)


@numba.njit(cache=True, error_model="numpy")
def erfinv_central(p):
    """t >= 0 with erf(t) = p, for 0 <= p <= 0.5 (Halley iteration)."""
    if p < 1e-8:
        return 0.88622692545275801365 * p
    t = erfinv_guess(math.log((1.0 - p) * (1.0 + p)))
    for _ in range(12):
        u = (math.erf(t) - p) / (1.1283791670955125739 * math.exp(-t * t))
        dt = -u / (1.0 + t * u)
        t += dt
        if abs(dt) < 1e-9 * t:
            break
    return t


@numba.njit(cache=True, error_model="numpy")
def erfcinv_tail(q):
    """t >= 0 with erfc(t) = q, for 0 < q <= 0.5 (Halley iteration on log erfc)."""
    lq = math.log(q)
    t = erfinv_guess(lq + math.log(2.0 - q))
    for _ in range(40):
        ex = erfcx(t)
        r = 1.1283791670955125739 / ex
        g = math.log(ex) - t * t - lq
        u = -g / r
        den = 1.0 + 0.5 * u * (2.0 * t - r)
        if den < 0.5:
            dt = -u
        else:
            dt = -u / den
        t += dt
        if abs(dt) < 1e-9 * t:
            break
    return t


@numba.njit(cache=True, error_model="numpy")
def erfinv(x):
    """Inverse error function on [-1, 1]."""
    t = np.float64(x)
    if math.isnan(t) or t < -1.0 or t > 1.0:
        return math.nan
    a = abs(t)
    if a == 1.0:
        r = math.inf
    elif a <= 0.5:
        r = erfinv_central(a)
    else:
        r = erfcinv_tail(1.0 - a)
    if t < 0.0:
        return -r
    return r


@numba.njit(cache=True, error_model="numpy")
def erfcinv(x):
    """Inverse complementary error function on [0, 2]."""
    y = np.float64(x)
    if math.isnan(y) or y < 0.0 or y > 2.0:
        return math.nan
    if 0.5 * y == 0.0:  # the smallest subnormal: SciPy returns inf there too
        return math.inf
    if y == 2.0:
        return -math.inf
    if y <= 0.5:
        return erfcinv_tail(y)
    if y < 1.0:
        return erfinv_central(1.0 - y)
    if y <= 1.5:
        return -erfinv_central(y - 1.0)
    return -erfcinv_tail(2.0 - y)


# ---- polygamma ---------------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def digamma_positive(x):
    """psi(x) for finite x > 0."""
    # Near the positive root x0 = 1.46163214496836234126..., the Taylor series
    # sum_k (-1)^(k+1) zeta(k + 1, x0) d^k (x0 split into two doubles).
    d = (x - 1.4616321449683622) - 9.549995429965697e-17
    if abs(d) < 0.1:
        taylor = (
            0.002305126326734928,
            -0.003369801655439328,
            0.004926781395729853,
            -0.007204534386356869,
            0.010538791616612175,
            -0.01542476590494896,
            0.022597648232218104,
            -0.03316112647484736,
            0.04880428816414311,
            -0.07219956125645471,
            0.10782405069126237,
            -0.16394270544240652,
            0.258499760955651,
            -0.4427631689835921,
            0.9676722454476212,
        )
        p = 0.0
        for c in taylor:
            p = p * d + c
        return p * d
    # Recurrence up to x >= 10, then the asymptotic series
    # log x - 1/(2x) - sum_k B_2k / (2k x^2k), k = 1..8.
    s = 0.0
    while x < 10.0:
        s += 1.0 / x
        x += 1.0
    coefs = (
        -3617.0 / 8160.0,
        1.0 / 12.0,
        -691.0 / 32760.0,
        1.0 / 132.0,
        -1.0 / 240.0,
        1.0 / 252.0,
        -1.0 / 120.0,
        1.0 / 12.0,
    )
    z = 1.0 / (x * x)
    tail = 0.0
    for c in coefs:
        tail = tail * z + c
    return math.log(x) - 0.5 / x - tail * z - s


@numba.njit(cache=True, error_model="numpy")
def digamma(x):
    """psi(x), the logarithmic derivative of the gamma function."""
    t = np.float64(x)
    if math.isnan(t) or t == -math.inf:
        return math.nan
    if t == math.inf:
        return math.inf
    if t == 0.0:
        return -1.0 / t
    if t > 0.0:
        return digamma_positive(t)
    if t > -1e-8:
        return digamma_positive(1.0 + t) - 1.0 / t
    r = t - np.round(t)  # exact, in [-1/2, 1/2]
    if r == 0.0:
        return math.nan
    # Reflection: psi(t) = psi(1 - t) - pi cot(pi t).
    return digamma_positive(1.0 - t) - math.pi / math.tan(math.pi * r)


@numba.njit(cache=True, error_model="numpy")
def trigamma_positive(x):
    """psi'(x) for finite x > 0."""
    # Recurrence up to x >= 10, then the asymptotic series
    # 1/x + 1/(2x^2) + sum_k B_2k / x^(2k+1), k = 1..8.
    s = 0.0
    while x < 10.0:
        inv = 1.0 / x
        s += inv * inv
        x += 1.0
    coefs = (
        -3617.0 / 510.0,
        7.0 / 6.0,
        -691.0 / 2730.0,
        5.0 / 66.0,
        -1.0 / 30.0,
        1.0 / 42.0,
        -1.0 / 30.0,
        1.0 / 6.0,
    )
    z = 1.0 / (x * x)
    tail = 0.0
    for c in coefs:
        tail = tail * z + c
    return (1.0 + 0.5 / x + tail * z) / x + s


@numba.njit(cache=True, error_model="numpy")
def trigamma(x):
    """psi'(x) = polygamma(1, x); +inf at the poles 0, -1, -2, ..."""
    t = np.float64(x)
    if math.isnan(t):
        return math.nan
    if t == math.inf:
        return 0.0
    if t == -math.inf:
        return math.inf
    if t > 0.0:
        return trigamma_positive(t)
    if t > -1e-8:
        inv = 1.0 / t
        return inv * inv + trigamma_positive(1.0 + t)
    r = t - np.round(t)  # exact, in [-1/2, 1/2]
    if r == 0.0:
        return math.inf
    # Reflection: psi'(t) + psi'(1 - t) = pi^2 / sin^2(pi t).
    s = math.sin(math.pi * r)
    return 9.869604401089358 / (s * s) - trigamma_positive(1.0 - t)


# ---- incomplete gamma --------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def lgamma1p(a):
    """lgamma(1 + a) without the rounding of 1 + a, for a > -1."""
    if abs(a) < 0.01:
        # -euler_gamma a + sum_k (-1)^k zeta(k) a^k / k, k = 2..9
        coefs = (
            -1.0020083928260822 / 9.0,
            1.0040773561979443 / 8.0,
            -1.0083492773819228 / 7.0,
            1.0173430619844491 / 6.0,
            -1.0369277551433699 / 5.0,
            1.0823232337111382 / 4.0,
            -1.2020569031595943 / 3.0,
            1.6449340668482264 / 2.0,
            -0.5772156649015329,
        )
        p = 0.0
        for c in coefs:
            p = p * a + c
        return p * a
    return math.lgamma(1.0 + a)


@numba.njit(cache=True, error_model="numpy")
def gamma_power_factor(a, x):
    """x**a * exp(-x) / gamma(a) for finite a > 0, x > 0."""
    if a >= 10.0:
        if x < 0.5 * a:
            e = a * math.log(x / a) + (a - x)
        else:
            e = a * log1pmx((x - a) / a)
        return math.sqrt(a / 6.283185307179586) * math.exp(e - lgamma_stirling_tail(a))
    return math.exp(a * math.log(x) - x - math.lgamma(a))


@numba.njit(cache=True, error_model="numpy")
def gammainc_core(a, x, upper):
    """Regularized P(a, x) (upper=False) or Q(a, x) (upper=True), finite a, x > 0."""
    if x < a + 1.0:
        if upper and a < 1.0:
            # Q = 1 - x^a/gamma(a+1) (1 + a sum_{n>=1} (-x)^n / (n! (a + n))).
            s = 0.0
            term = 1.0
            n = 1
            while n < 200:
                term *= -x / n
                c = term / (a + n)
                s += c
                if abs(c) < 1e-17 * abs(s):
                    break
                n += 1
            u = a * math.log(x) - lgamma1p(a)
            return -math.expm1(u) - math.exp(u) * a * s
        # P = x^a e^-x / gamma(a + 1) * sum_{n>=0} x^n / ((a+1)...(a+n)).
        s = 1.0
        term = 1.0
        n = 1
        while n < 10000000:
            term *= x / (a + n)
            s += term
            if term < 1e-17 * s:
                break
            n += 1
        p = gamma_power_factor(a, x) * s / a
        if upper:
            return 1.0 - p
        return p
    # Q from Legendre's continued fraction, evaluated by the modified Lentz method.
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    i = 1
    while i < 10000000:
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 4e-16:
            break
        i += 1
    q = gamma_power_factor(a, x) * h
    if upper:
        return q
    return 1.0 - q


@numba.njit(cache=True, error_model="numpy")
def gammainc(a, x):
    """Regularized lower incomplete gamma function P(a, x)."""
    af = np.float64(a)
    xf = np.float64(x)
    if math.isnan(af) or math.isnan(xf) or af < 0.0 or xf < 0.0:
        return math.nan
    if af == 0.0:
        if xf > 0.0:
            return 1.0
        return math.nan
    if xf == 0.0:
        return 0.0
    if af == math.inf:
        if xf == math.inf:
            return math.nan
        return 0.0
    if xf == math.inf:
        return 1.0
    return gammainc_core(af, xf, False)


@numba.njit(cache=True, error_model="numpy")
def gammaincc(a, x):
    """Regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    af = np.float64(a)
    xf = np.float64(x)
    if math.isnan(af) or math.isnan(xf) or af < 0.0 or xf < 0.0:
        return math.nan
    if af == 0.0:
        if xf > 0.0:
            return 0.0
        return math.nan
    if xf == 0.0:
        return 1.0
    if af == math.inf:
        if xf == math.inf:
            return math.nan
        return 1.0
    if xf == math.inf:
        return 0.0
    return gammainc_core(af, xf, True)


@numba.njit(cache=True, error_model="numpy")
def gammau(a, x):
    """Upper incomplete gamma function, gammaincc(a, x) * gamma(a)."""
    return gammaincc(a, x) * math.gamma(np.float64(a))


@numba.njit(cache=True, error_model="numpy")
def gammal(a, x):
    """Lower incomplete gamma function, gammainc(a, x) * gamma(a)."""
    return gammainc(a, x) * math.gamma(np.float64(a))


# ---- incomplete beta ---------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def betainc_log_front(a, b, x, y):
    """log(x**a * y**b / B(a, b)) for finite a, b > 0, 0 < x < 1, y = 1 - x."""
    if a < 10.0 and b < 10.0:
        lbeta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
        return a * math.log(x) + b * math.log(y) - lbeta
    # Relative to the mode x0 = a / (a + b): with ta = x / x0 - 1 and tb = y / y0 - 1,
    # a ta + b tb = 0, so a log(x / x0) + b log(y / y0) = a log1pmx(ta) + b log1pmx(tb).
    ab = a + b
    ta = (b * x - a * y) / a
    tb = (a * y - b * x) / b
    if ta >= -0.5:
        e = a * log1pmx(ta)
    else:
        e = a * math.log(x * ab / a) - (b * x - a * y)
    if tb >= -0.5:
        e += b * log1pmx(tb)
    else:
        e += b * math.log(y * ab / b) - (a * y - b * x)
    e += lgamma_stirling_tail(ab)
    if a >= 10.0 and b >= 10.0:
        e += 0.5 * math.log(a * b / (6.283185307179586 * ab))
        return e - lgamma_stirling_tail(a) - lgamma_stirling_tail(b)
    if a >= 10.0:
        return (
            e
            + b * math.log(b)
            - b
            - math.lgamma(b)
            - 0.5 * math.log1p(b / a)
            - lgamma_stirling_tail(a)
        )
    return (
        e
        + a * math.log(a)
        - a
        - math.lgamma(a)
        - 0.5 * math.log1p(a / b)
        - lgamma_stirling_tail(b)
    )


@numba.njit(cache=True, error_model="numpy")
def betainc_cf(a, b, x, y):
    """I_x(a, b) by its continued fraction; finite a, b > 0, 0 < x < 1, y = 1 - x."""
    front = math.exp(betainc_log_front(a, b, x, y))
    tiny = 1e-300
    qab = a + b
    c = 1.0
    d = 1.0 - qab * x / (a + 1.0)
    if abs(d) < tiny:
        d = tiny
    d = 1.0 / d
    h = d
    m = 1
    while m < 10000000:
        m2 = 2.0 * m
        aa = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < tiny:
            d = tiny
        c = 1.0 + aa / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (a + 1.0 + m2))
        d = 1.0 + aa * d
        if abs(d) < tiny:
            d = tiny
        c = 1.0 + aa / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 4e-16:
            break
        m += 1
    return front * h / a


@numba.njit(cache=True, error_model="numpy")
def betainc(a, b, x):
    """Regularized incomplete beta function I_x(a, b)."""
    af = np.float64(a)
    bf = np.float64(b)
    xf = np.float64(x)
    if math.isnan(af) or math.isnan(bf) or math.isnan(xf):
        return math.nan
    if af < 0.0 or bf < 0.0 or xf < 0.0 or xf > 1.0:
        return math.nan
    if (af == 0.0 and bf == 0.0) or (af == math.inf and bf == math.inf):
        return math.nan
    if xf == 0.0:
        return 0.0
    if xf == 1.0:
        return 1.0
    if af == 0.0 or bf == math.inf:
        return 1.0
    if bf == 0.0 or af == math.inf:
        return 0.0
    yf = 1.0 - xf
    if xf > (af + 1.0) / (af + bf + 2.0):
        return 1.0 - betainc_cf(bf, af, yf, xf)
    return betainc_cf(af, bf, xf, yf)


# ---- modified Bessel functions -----------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def i0(x):
    """Modified Bessel function of the first kind, order 0."""
    t = abs(np.float64(x))
    if math.isnan(t) or t == math.inf:
        return math.nan
    if t <= 25.0:
        q = 0.25 * t * t
        term = 1.0
        s = 1.0
        k = 1
        while k < 500:
            term *= q / (k * k)
            s += term
            if term < 1e-17 * s:
                break
            k += 1
        return s
    # e^t / sqrt(2 pi t) * sum_k ((2k-1)!!)^2 / (k! (8t)^k)
    w = 0.125 / t
    term = 1.0
    s = 1.0
    k = 1
    while k < 60:
        term *= (2 * k - 1) * (2 * k - 1) * w / k
        s += term
        if term < 1e-17 * s:
            break
        k += 1
    # Like SciPy, overflow once exp(t) does (|x| > 709.78), although I0 itself
    # is finite up to 713.98.
    return math.exp(t) * (s / math.sqrt(6.283185307179586 * t))


@numba.njit(cache=True, error_model="numpy")
def i1(x):
    """Modified Bessel function of the first kind, order 1."""
    xf = np.float64(x)
    t = abs(xf)
    if math.isnan(t) or t == math.inf:
        return math.nan
    if t <= 25.0:
        q = 0.25 * t * t
        term = 1.0
        s = 1.0
        k = 1
        while k < 500:
            term *= q / (k * (k + 1))
            s += term
            if term < 1e-17 * s:
                break
            k += 1
        r = 0.5 * t * s
    else:
        # e^t / sqrt(2 pi t) * sum_k prod_{j<=k} ((2j-1)^2 - 4) / (k! (8t)^k)
        w = 0.125 / t
        term = 1.0
        s = 1.0
        k = 1
        while k < 60:
            term *= ((2 * k - 1) * (2 * k - 1) - 4) * w / k
            s += term
            if abs(term) < 1e-17 * s:
                break
            k += 1
        r = math.exp(t) * (s / math.sqrt(6.283185307179586 * t))
    if xf < 0.0:
        return -r
    return r
