"""Helpers for ``pytensor.tensor.extra_ops`` and ``pytensor.tensor.signal``: binary
search, unique values (of a flat array, or of the rows of a matrix), the Bartlett
window and one-dimensional convolution.

Plain ``@numba.njit`` code; generated modules copy what they use.  Orderings follow
NumPy's sort: NaN after every number.
"""

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def sorts_before(a, b):
    """``a < b`` in NumPy's sort order, where NaN comes after every number."""
    return a < b or (b != b and a == a)


@numba.njit(cache=True, error_model="numpy")
def searchsorted(x, keys, right):
    """``np.searchsorted(x, keys, side="right" if right else "left")``, by NumPy's own
    search: each key's bounds start from the previous key's result (one bound kept
    when the keys ascend), so that on an ``x`` that is not sorted the positions are
    still NumPy's."""
    flat = np.ascontiguousarray(keys).reshape(keys.size)
    out = np.empty(flat.shape[0], dtype=np.int64)
    n = x.shape[0]
    lo, hi = 0, n
    for k in range(flat.shape[0]):
        key = flat[k]
        if k > 0 and sorts_before(flat[k - 1], key):
            hi = n
        else:
            lo = 0
            hi = hi + 1 if hi < n else n
        while lo < hi:
            mid = lo + (hi - lo) // 2
            if not sorts_before(key, x[mid]) if right else sorts_before(x[mid], key):
                lo = mid + 1
            else:
                hi = mid
        out[k] = lo
    return out.reshape(keys.shape)


@numba.njit(cache=True, error_model="numpy")
def same_value(a, b):
    """Whether two sorted neighbours are one unique value (NaNs are one value)."""
    return a == b or (a != a and b != b)


@numba.njit(cache=True, error_model="numpy")
def unique_flat(x):
    """``np.unique(x, return_index=True, return_inverse=True, return_counts=True)``
    of a 1-d array: the sorted unique values, the first position of each, the
    unique value's number at each position, and how often each occurs."""
    n = x.shape[0]
    order = np.argsort(x, kind="mergesort")  # stable: first occurrences first
    inverse = np.empty(n, dtype=np.int64)
    starts = np.empty(n, dtype=np.int64)
    k = -1
    for i in range(n):
        if i == 0 or not same_value(x[order[i]], x[order[i - 1]]):
            k += 1
            starts[k] = i
        inverse[order[i]] = k
    n_unique = k + 1
    values = np.empty(n_unique, dtype=x.dtype)
    index = np.empty(n_unique, dtype=np.int64)
    counts = np.empty(n_unique, dtype=np.int64)
    for k in range(n_unique):
        end = starts[k + 1] if k + 1 < n_unique else n
        values[k] = x[order[starts[k]]]
        index[k] = order[starts[k]]
        counts[k] = end - starts[k]
    return values, index, inverse, counts


@numba.njit(cache=True, error_model="numpy")
def rows_differ(rows, a, b):
    """Whether rows ``a`` and ``b`` of a matrix differ in some entry (NaN differs
    from itself, as NumPy compares the rows of ``np.unique(..., axis=...)``)."""
    for j in range(rows.shape[1]):
        if rows[a, j] != rows[b, j]:
            return True
    return False


@numba.njit(cache=True, error_model="numpy")
def unique_rows(rows):
    """``np.unique`` of the rows of a matrix, ordered lexicographically: the first
    position of each unique row, the unique row's number at each position, and how
    often each occurs (the unique rows are ``rows[index]``)."""
    n = rows.shape[0]
    order = np.arange(n)
    column = np.empty(n, dtype=rows.dtype)
    # Stable sorts by the last column, then the one before...: lexicographic order.
    for j in range(rows.shape[1] - 1, -1, -1):
        for i in range(n):
            column[i] = rows[order[i], j]
        order = order[np.argsort(column, kind="mergesort")]
    inverse = np.empty(n, dtype=np.int64)
    starts = np.empty(n, dtype=np.int64)
    k = -1
    for i in range(n):
        if i == 0 or rows_differ(rows, order[i], order[i - 1]):
            k += 1
            starts[k] = i
        inverse[order[i]] = k
    n_unique = k + 1
    index = np.empty(n_unique, dtype=np.int64)
    counts = np.empty(n_unique, dtype=np.int64)
    for k in range(n_unique):
        end = starts[k + 1] if k + 1 < n_unique else n
        index[k] = order[starts[k]]
        counts[k] = end - starts[k]
    return index, inverse, counts


@numba.njit(cache=True, error_model="numpy")
def bartlett_window(m):
    """``np.bartlett(m)``: the triangular window of ``m`` points, zero at both ends."""
    window = np.empty(max(m, 0), dtype=np.float64)
    if m == 1:
        window[0] = 1.0
        return window
    for i in range(m):
        window[i] = 1.0 - abs(2 * i - (m - 1)) / (m - 1)
    return window


@numba.njit(cache=True, error_model="numpy")
def convolve(a, v, full):
    """``np.convolve(a, v, "full" if full else "valid")`` of two 1-d arrays of one
    dtype, accumulated in that dtype."""
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError("convolve: the inputs may not be empty")
    if v.shape[0] > a.shape[0]:
        a, v = v, a
    n, m = a.shape[0], v.shape[0]
    if full:
        out = np.zeros(n + m - 1, dtype=a.dtype)
        for k in range(n + m - 1):
            for j in range(max(0, k - n + 1), min(m, k + 1)):
                out[k] += a[k - j] * v[j]
    else:
        out = np.zeros(n - m + 1, dtype=a.dtype)
        for k in range(n - m + 1):
            for j in range(m):
                out[k] += a[k + m - 1 - j] * v[j]
    return out
