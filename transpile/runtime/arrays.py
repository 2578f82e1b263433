"""Array helpers for lowerings that read better as a call than as inline loops.

Plain ``@numba.njit`` code; generated modules copy what they use.
"""

import math

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def softmax_rows(x):
    """Softmax of each row of a C-contiguous 2-d array."""
    out = np.empty(x.shape, dtype=x.dtype)
    for i in range(x.shape[0]):
        m = -np.inf
        for j in range(x.shape[1]):
            m = max(m, x[i, j])
        total = 0.0
        for j in range(x.shape[1]):
            e = math.exp(x[i, j] - m)
            out[i, j] = e
            total += e
        for j in range(x.shape[1]):
            out[i, j] /= total
    return out


@numba.njit(cache=True, error_model="numpy")
def log_softmax_rows(x):
    """Log-softmax of each row of a C-contiguous 2-d array."""
    out = np.empty(x.shape, dtype=x.dtype)
    for i in range(x.shape[0]):
        m = -np.inf
        for j in range(x.shape[1]):
            m = max(m, x[i, j])
        total = 0.0
        for j in range(x.shape[1]):
            total += math.exp(x[i, j] - m)
        log_total = math.log(total) + m
        for j in range(x.shape[1]):
            out[i, j] = x[i, j] - log_total
    return out


@numba.njit(cache=True, error_model="numpy")
def softmax_grad_rows(dy, sm):
    """Gradient of softmax per row: (dy - sum(dy * sm)) * sm."""
    out = np.empty(sm.shape, dtype=sm.dtype)
    for i in range(sm.shape[0]):
        dot = 0.0
        for j in range(sm.shape[1]):
            dot += dy[i, j] * sm[i, j]
        for j in range(sm.shape[1]):
            out[i, j] = (dy[i, j] - dot) * sm[i, j]
    return out


@numba.njit(cache=True, error_model="numpy")
def round_half_away_from_zero(x):
    """Round to the nearest integer, halves away from zero (C's round)."""
    if x >= 0:
        return np.floor(x + 0.5)
    return -np.floor(-x + 0.5)
