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
