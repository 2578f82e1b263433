"""Array helpers for lowerings that read better as a call than as inline loops.

Plain ``@numba.njit`` code; generated modules copy what they use.
"""

import math

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def softmax_logsumexp_rows(x, log=False, scipy_shift=False):
    """Softmax (log-softmax when ``log``) and log-sum-exp of each row of a
    C-contiguous 2-d array, from one maximum and one sum of exponentials per row.
    A row whose maximum is infinite has that maximum as its log-sum-exp, and a
    softmax and log-softmax of nan; with ``scipy_shift`` its log-softmax is shifted
    by 0 instead of the maximum (SciPy's rule, PyTensor 2's ``LogSoftmax``: ``[inf,
    1]`` gives ``[nan, -inf]``)."""
    out = np.empty(x.shape, dtype=x.dtype)
    lse = np.empty(x.shape[0], dtype=x.dtype)
    for i in range(x.shape[0]):
        # (Numba's row max propagates nan as np.maximum does, at twice its speed)
        m = x[i].max() if x.shape[1] else -np.inf
        shift = 0.0 if scipy_shift and not np.isfinite(m) else m
        total = 0.0
        for j in range(x.shape[1]):
            e = math.exp(x[i, j] - shift)
            out[i, j] = e
            total += e
        log_total = shift + math.log(total)
        if log:
            for j in range(x.shape[1]):
                out[i, j] = x[i, j] - log_total
        else:
            for j in range(x.shape[1]):
                out[i, j] /= total
        lse[i] = m if np.isinf(m) else log_total
    return out, lse


@numba.njit(cache=True, error_model="numpy")
def softmax_rows(x):
    """Softmax of each row of a C-contiguous 2-d array."""
    return softmax_logsumexp_rows(x)[0]


@numba.njit(cache=True, error_model="numpy")
def log_softmax_rows(x, scipy_shift=False):
    """Log-softmax of each row of a C-contiguous 2-d array (``scipy_shift``: see
    ``softmax_logsumexp_rows``)."""
    return softmax_logsumexp_rows(x, True, scipy_shift)[0]


@numba.njit(cache=True, error_model="numpy")
def logsumexp_rows(x):
    """Log-sum-exp of each row of a C-contiguous 2-d array, one pass for the row's
    maximum and one for its exponentials.  A row whose maximum is infinite has that
    maximum as its log-sum-exp (PyTensor's stable form computes the same)."""
    lse = np.empty(x.shape[0], dtype=x.dtype)
    for i in range(x.shape[0]):
        # (Numba's row max propagates nan as np.maximum does, at twice its speed)
        m = x[i].max() if x.shape[1] else -np.inf
        total = 0.0
        for j in range(x.shape[1]):
            total += math.exp(x[i, j] - m)
        lse[i] = m if np.isinf(m) else m + math.log(total)
    return lse


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
