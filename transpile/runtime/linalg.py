"""Dense linear algebra for generated modules: PyTensor's ``slinalg``/``nlinalg`` Ops.

Plain ``@numba.njit`` code, tested in ``tests/test_linalg.py``; generated modules
copy what they use.  Factorisations and general solves go through Numba's own
``np.linalg`` (LAPACK); what it lacks (triangular and Cholesky solves, LU factors
with their pivots, tridiagonal solves, the eigh gradient) is written out here.

Failure is reported as PyTensor's ``perform`` reports it, not as Numba's
``np.linalg`` does: a matrix that cannot be factorised or solved gives a result
full of nan (``potrf``/``trtrs``/``getrf`` ``info != 0``), and only a wrong shape
raises.  Numba's ``np.linalg`` also refuses nan and inf entries, which NumPy
propagates, so ``det``, ``slogdet`` and ``inv`` return nan for them instead.
Matrices are real or complex (the eigendecompositions, ``slogdet`` and the Hermitian
pseudo-inverse take real ones); inputs are never written to.
"""

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def cholesky(a, lower):
    """The Cholesky factor of ``a`` read from one triangle: ``L @ L^H == a``
    (lower) or ``U^H @ U == a`` (upper), the other triangle zero (``^H``: the
    conjugate transpose, the transpose of a real matrix).  A matrix that is not
    positive definite gives a factor full of nan."""
    if a.shape[0] != a.shape[1]:
        raise ValueError("expected a square matrix")
    try:
        if lower:
            return np.linalg.cholesky(a)
        # The upper triangle of a is the lower triangle of a^H.
        return np.ascontiguousarray(np.conj(np.linalg.cholesky(np.conj(a.T)).T))
    except Exception:  # LinAlgError: not positive definite
        return np.full(a.shape, np.nan, dtype=a.dtype)


@numba.njit(cache=True, error_model="numpy")
def triangular_substitution(a, x, lower, adjoint, unit_diagonal):
    """Overwrite the C-contiguous matrix ``x`` with the solution of ``t @ y = x``,
    where ``t`` is the ``lower`` (else upper) triangle of ``a``, conjugate-transposed
    if ``adjoint``, with ones on its diagonal if ``unit_diagonal``."""
    n, k = x.shape
    forward = lower != adjoint  # t is lower triangular: solve top down
    for step in range(n):
        i = step if forward else n - 1 - step
        start, stop = (0, i) if forward else (i + 1, n)
        for j in range(start, stop):
            t_ij = np.conj(a[j, i]) if adjoint else a[i, j]
            for c in range(k):
                x[i, c] -= t_ij * x[j, c]
        if not unit_diagonal:
            t_ii = np.conj(a[i, i]) if adjoint else a[i, i]
            for c in range(k):
                x[i, c] /= t_ii


@numba.njit(cache=True, error_model="numpy")
def solve_triangular(a, b, lower, unit_diagonal):
    """``x`` with ``t @ x = b``, ``t`` the ``lower`` (else upper) triangle of ``a``;
    ``b`` is a vector or a matrix of columns.  A zero on the diagonal gives nan."""
    if a.shape[0] != a.shape[1] or b.shape[0] != a.shape[0]:
        raise ValueError("expected a square matrix a and b with as many rows")
    x = b.copy()
    if x.size == 0:
        return x
    if not unit_diagonal:
        for i in range(a.shape[0]):
            if a[i, i] == 0:
                x.fill(np.nan)
                return x
    columns = x.reshape((x.shape[0], x.size // x.shape[0]))  # a view of x
    triangular_substitution(a, columns, lower, False, unit_diagonal)
    return x


@numba.njit(cache=True, error_model="numpy")
def cho_solve(c, b, lower):
    """``x`` with ``a @ x = b`` given the Cholesky factor ``c`` of ``a``
    (``a = c @ c^H`` if ``lower``, else ``a = c^H @ c``)."""
    if c.shape[0] != c.shape[1] or b.shape[0] != c.shape[0]:
        raise ValueError("expected a square matrix c and b with as many rows")
    x = b.copy()
    if x.size == 0:
        return x
    columns = x.reshape((x.shape[0], x.size // x.shape[0]))  # a view of x
    triangular_substitution(c, columns, lower, not lower, False)
    triangular_substitution(c, columns, lower, lower, False)
    return x


@numba.njit(cache=True, error_model="numpy")
def solve_general(a, b):
    """``x`` with ``a @ x = b`` by LU with partial pivoting; nan if ``a`` is
    singular (or holds nan or inf)."""
    if a.shape[0] != a.shape[1] or b.shape[0] != a.shape[0]:
        raise ValueError("expected a square matrix a and b with as many rows")
    x = b.copy()
    if x.size == 0:
        return x
    # b as a matrix of columns: one specialisation of np.linalg.solve, not two.
    columns = x.reshape((x.shape[0], x.size // x.shape[0]))
    try:
        return np.ascontiguousarray(np.linalg.solve(a, columns)).reshape(b.shape)
    except Exception:  # LinAlgError: singular, or not finite
        x.fill(np.nan)
        return x


@numba.njit(cache=True, error_model="numpy")
def symmetric_from_triangle(a, lower):
    """The symmetric matrix whose ``lower`` (else upper) triangle is that of ``a``."""
    n = a.shape[0]
    s = np.empty((n, n), dtype=a.dtype)
    for i in range(n):
        for j in range(i + 1):
            value = a[i, j] if lower else a[j, i]
            s[i, j] = value
            s[j, i] = value
    return s


@numba.njit(cache=True, error_model="numpy")
def hermitian_from_triangle(a, lower):
    """The Hermitian matrix whose ``lower`` (else upper) triangle is that of ``a``
    (its diagonal's imaginary part dropped, as LAPACK's hesv drops it)."""
    n = a.shape[0]
    s = np.empty((n, n), dtype=a.dtype)
    for i in range(n):
        s[i, i] = a[i, i].real
        for j in range(i):
            value = a[i, j] if lower else np.conj(a[j, i])
            s[i, j] = value
            s[j, i] = np.conj(value)
    return s


@numba.njit(cache=True, error_model="numpy")
def solve_hermitian(a, b, lower):
    """``x`` with ``s @ x = b``, ``s`` the Hermitian matrix given by one triangle
    of ``a``; nan if it is singular."""
    if a.shape[0] != a.shape[1] or b.shape[0] != a.shape[0]:
        raise ValueError("expected a square matrix a and b with as many rows")
    return solve_general(hermitian_from_triangle(a, lower), b)


@numba.njit(cache=True, error_model="numpy")
def solve_symmetric(a, b, lower):
    """``x`` with ``s @ x = b``, ``s`` the symmetric matrix given by one triangle
    of ``a``; nan if it is singular."""
    if a.shape[0] != a.shape[1] or b.shape[0] != a.shape[0]:
        raise ValueError("expected a square matrix a and b with as many rows")
    return solve_general(symmetric_from_triangle(a, lower), b)


@numba.njit(cache=True, error_model="numpy")
def solve_positive_definite(a, b, lower):
    """``x`` with ``s @ x = b`` by Cholesky, ``s`` the symmetric (Hermitian) matrix
    given by one triangle of ``a``; nan if it is not positive definite."""
    if a.shape[0] != a.shape[1] or b.shape[0] != a.shape[0]:
        raise ValueError("expected a square matrix a and b with as many rows")
    return cho_solve(cholesky(a, lower), b, lower)


@numba.njit(cache=True, error_model="numpy")
def tridiagonal_lu_factor(dl, d, du):
    """LAPACK's gttrf: the LU factors of the tridiagonal matrix with diagonals
    ``dl``, ``d``, ``du``, with row interchanges: L's multipliers, U's three
    diagonals and the pivots (1-based, as LAPACK's).  Real or complex: pivots are
    chosen by ``|re| + |im|``, as zgttrf chooses them."""
    n = d.shape[0]
    dl, d, du = dl.copy(), d.copy(), du.copy()
    du2 = np.zeros(max(n - 2, 0), dtype=d.dtype)  # U's second superdiagonal
    pivots = np.arange(1, n + 1).astype(np.int32)
    for i in range(n - 1):
        if (abs(d[i].real) + abs(d[i].imag)
                >= abs(dl[i].real) + abs(dl[i].imag)):  # keep row i as the pivot row
            if d[i] != 0:
                factor = dl[i] / d[i]
                dl[i] = factor
                d[i + 1] -= factor * du[i]
        else:  # swap rows i and i + 1
            factor = d[i] / dl[i]
            d[i] = dl[i]
            dl[i] = factor
            below = du[i]
            du[i] = d[i + 1]
            d[i + 1] = below - factor * d[i + 1]
            if i + 2 < n:
                du2[i] = du[i + 1]
                du[i + 1] = -factor * du[i + 1]
            pivots[i] = i + 2
    return dl, d, du, du2, pivots


@numba.njit(cache=True, error_model="numpy")
def tridiagonal_lu_solve(dl, d, du, du2, pivots, b, transposed):
    """LAPACK's gttrs: ``x`` with ``t @ x = b`` (or ``t.T @ x = b``, the transpose,
    not the conjugate one) from the factors of ``tridiagonal_lu_factor``."""
    x = b.copy()
    n = d.shape[0]
    if x.size == 0:
        return x
    rhs = x.reshape((n, x.size // n))  # a view of x
    for c in range(rhs.shape[1]):
        y = rhs[:, c]
        if not transposed:
            for i in range(n - 1):  # L, with its row interchanges
                p = pivots[i] - 1
                other = y[2 * i + 1 - p] - dl[i] * y[p]
                y[i] = y[p]
                y[i + 1] = other
            for i in range(n - 1, -1, -1):  # U
                value = y[i]
                if i + 1 < n:
                    value -= du[i] * y[i + 1]
                if i + 2 < n:
                    value -= du2[i] * y[i + 2]
                y[i] = value / d[i]
        else:
            for i in range(n):  # U.T
                value = y[i]
                if i >= 1:
                    value -= du[i - 1] * y[i - 1]
                if i >= 2:
                    value -= du2[i - 2] * y[i - 2]
                y[i] = value / d[i]
            for i in range(n - 2, -1, -1):  # L.T, undoing the interchanges
                p = pivots[i] - 1
                value = y[i] - dl[i] * y[i + 1]
                y[i] = y[p]
                y[p] = value
    return x


@numba.njit(cache=True, error_model="numpy")
def solve_tridiagonal(a, b):
    """``x`` with ``t @ x = b``, ``t`` the three central diagonals of ``a``, by
    Gaussian elimination with partial pivoting (LAPACK's gtsv); nan if singular."""
    if a.shape[0] != a.shape[1] or b.shape[0] != a.shape[0]:
        raise ValueError("expected a square matrix a and b with as many rows")
    if b.size == 0:
        return b.copy()
    dl, d, du, du2, pivots = tridiagonal_lu_factor(np.diag(a, -1), np.diag(a),
                                                   np.diag(a, 1))
    if np.any(d == 0):
        x = b.copy()
        x.fill(np.nan)
        return x
    return tridiagonal_lu_solve(dl, d, du, du2, pivots, b, False)


@numba.njit(cache=True, error_model="numpy")
def lu_factor(a):
    """LAPACK's getrf: the packed ``L`` (unit diagonal, below) and ``U`` factors of
    ``a[perm] = L @ U`` and the pivots (row ``i`` was swapped with row
    ``pivots[i]``, 0-based).  A zero pivot gives factors full of nan."""
    if a.shape[0] != a.shape[1]:
        raise ValueError("expected a square matrix")
    n = a.shape[0]
    lu = a.copy()
    pivots = np.empty(n, dtype=np.int32)
    singular = False
    for j in range(n):
        p = j
        # pivots by |re| + |im| (|x| for a real x), as LAPACK's i?amax chooses them
        largest = abs(lu[j, j].real) + abs(lu[j, j].imag)
        for i in range(j + 1, n):
            size = abs(lu[i, j].real) + abs(lu[i, j].imag)
            if size > largest:
                p = i
                largest = size
        pivots[j] = p
        if lu[p, j] == 0:
            singular = True
            continue
        if p != j:
            for c in range(n):
                lu[j, c], lu[p, c] = lu[p, c], lu[j, c]
        for i in range(j + 1, n):
            lu[i, j] /= lu[j, j]
            l_ij = lu[i, j]
            for c in range(j + 1, n):
                lu[i, c] -= l_ij * lu[j, c]
    if singular:
        lu.fill(np.nan)
    return lu, pivots


@numba.njit(cache=True, error_model="numpy")
def permutation_from_pivots(pivots, inverse):
    """The row permutation the pivots of ``lu_factor`` apply (``inverse``), or its
    inverse."""
    n = pivots.shape[0]
    p_inv = np.arange(n)
    for i in range(n):
        j = pivots[i]
        p_inv[i], p_inv[j] = p_inv[j], p_inv[i]
    if inverse:
        return p_inv
    perm = np.empty(n, dtype=np.int64)
    for i in range(n):
        perm[p_inv[i]] = i
    return perm


@numba.njit(cache=True, error_model="numpy")
def det(a):
    """The determinant of ``a`` (float64); nan if ``a`` holds nan or inf."""
    if a.shape[0] != a.shape[1]:
        raise ValueError("expected a square matrix")
    if not np.all(np.isfinite(a)):
        return np.nan
    return np.linalg.det(a)


@numba.njit(cache=True, error_model="numpy")
def slogdet(a):
    """(sign, log|det|) of ``a`` (float64); both nan if ``a`` holds nan or inf."""
    if a.shape[0] != a.shape[1]:
        raise ValueError("expected a square matrix")
    if not np.all(np.isfinite(a)):
        return np.nan, np.nan
    sign, logabsdet = np.linalg.slogdet(a)
    return float(sign), float(logabsdet)


@numba.njit(cache=True, error_model="numpy")
def det_complex(a):
    """The determinant of the complex ``a`` (complex128); nan + nan j if ``a`` holds
    nan or inf, as NumPy's."""
    if a.shape[0] != a.shape[1]:
        raise ValueError("expected a square matrix")
    if not np.all(np.isfinite(a)):
        return complex(np.nan, np.nan)
    return complex(np.linalg.det(a))


@numba.njit(cache=True, error_model="numpy")
def slogdet_complex(a):
    """(sign, log|det|) of the complex ``a``: a complex128 sign of modulus 1 (0 for
    a singular ``a``) and a float64 logarithm; nan + nan j and nan if ``a`` holds nan
    or inf, as NumPy's."""
    if a.shape[0] != a.shape[1]:
        raise ValueError("expected a square matrix")
    if not np.all(np.isfinite(a)):
        return complex(np.nan, np.nan), np.nan
    sign, logabsdet = np.linalg.slogdet(a)
    return complex(sign), float(logabsdet)


@numba.njit(cache=True, error_model="numpy")
def inv(a):
    """The inverse of ``a``, C-contiguous; nan if ``a`` holds nan or inf.  A
    singular ``a`` raises ``LinAlgError``, as NumPy's ``inv`` does."""
    if a.shape[0] != a.shape[1]:
        raise ValueError("expected a square matrix")
    if not np.all(np.isfinite(a)):
        return np.full(a.shape, np.nan, dtype=a.dtype)
    return np.ascontiguousarray(np.linalg.inv(a))


@numba.njit(cache=True, error_model="numpy")
def pinv(a):
    """The Moore-Penrose pseudo-inverse by SVD, singular values below 1e-15 of the
    largest discarded (NumPy's default)."""
    return np.ascontiguousarray(np.linalg.pinv(a))


@numba.njit(cache=True, error_model="numpy")
def pinv_hermitian(a):
    """The pseudo-inverse of the symmetric matrix given by the lower triangle of
    ``a``, by its eigendecomposition (NumPy's ``pinv(a, hermitian=True)``)."""
    w, v = np.linalg.eigh(a)
    n = w.shape[0]
    if n == 0:
        return np.zeros((n, n), dtype=a.dtype)
    cutoff = 1e-15 * np.max(np.abs(w))
    scaled = np.empty((n, n), dtype=a.dtype)  # v @ diag(1 / w), small w dropped
    for j in range(n):
        scale = 1 / w[j] if abs(w[j]) > cutoff else 0
        for i in range(n):
            scaled[i, j] = v[i, j] * scale
    return np.dot(scaled, np.ascontiguousarray(v.T))


@numba.njit(cache=True, error_model="numpy")
def eigh(a, lower):
    """Eigenvalues (ascending) and eigenvectors (columns, C-contiguous) of the
    symmetric matrix given by the ``lower`` (else upper) triangle of ``a``."""
    if a.shape[0] != a.shape[1]:
        raise ValueError("expected a square matrix")
    if lower:
        w, v = np.linalg.eigh(a)
    else:  # the upper triangle of a is the lower triangle of a.T
        w, v = np.linalg.eigh(a.T)
    return w, np.ascontiguousarray(v)


@numba.njit(cache=True, error_model="numpy")
def eigh_grad(w, v, gw, gv, lower):
    """The gradient of ``eigh`` with respect to the triangle it reads, given the
    gradients ``gw`` and ``gv`` of its outputs ``w`` and ``v`` (PyTensor's
    ``EighGrad``, from first-order perturbation theory)."""
    n = w.shape[0]
    g = np.zeros((n, n), dtype=w.dtype)
    coupled = np.empty(n, dtype=w.dtype)
    for k in range(n):
        # g += outer(v[:, k], coupled), where eigenvector k couples to every
        # other eigenvector m through gv[:, k] . v[:, m] / (w[k] - w[m])
        for j in range(n):
            coupled[j] = v[j, k] * gw[k]
        for m in range(n):
            if m != k:
                overlap = 0.0
                for r in range(n):
                    overlap += gv[r, k] * v[r, m]
                factor = overlap / (w[k] - w[m])
                for j in range(n):
                    coupled[j] += v[j, m] * factor
        for i in range(n):
            for j in range(n):
                g[i, j] += v[i, k] * coupled[j]
    # eigh reads one triangle: an off-diagonal entry there stands for two of g's.
    out = np.zeros((n, n), dtype=w.dtype)
    for i in range(n):
        for j in range(i + 1):
            if lower:
                out[i, j] = g[i, j] + g[j, i] if i != j else g[i, i]
            else:
                out[j, i] = g[j, i] + g[i, j] if i != j else g[i, i]
    return out


@numba.njit(cache=True, error_model="numpy")
def pade_coefficients(m, dtype):
    """The coefficients ``c`` of the degree ``m`` Padé approximant of ``exp``:
    ``exp(x) ~ p(x) / p(-x)`` with ``p(x) = sum(c[k] * x**k)`` and ``c[0] = 1``."""
    c = np.empty(m + 1, dtype=dtype)
    c[0] = 1
    for k in range(m):
        c[k + 1] = c[k] * (m - k) / ((2 * m - k) * (k + 1))
    return c


@numba.njit(cache=True, error_model="numpy")
def weighted_sum(weights, matrices):
    """``sum(w * x for w, x in zip(weights, matrices))``, written out: an array
    expression per term would compile as a function of its own."""
    first = matrices[0]
    out = np.zeros(first.shape, dtype=first.dtype)
    for k in range(len(matrices)):
        x, w = matrices[k], weights[k]
        for i in range(first.shape[0]):
            for j in range(first.shape[1]):
                out[i, j] += w * x[i, j]
    return out


@numba.njit(cache=True, error_model="numpy")
def pade_exp(a, m):
    """The degree ``m`` Padé approximant of ``exp(a)`` (m = 3, 5, 7, 9 or 13):
    ``(V - U)^-1 (V + U)``, ``V`` the even terms, ``U = a @ (odd terms / a)``; for
    degree 13 in Higham's six matrix products."""
    c = pade_coefficients(m, a.dtype)
    powers = [np.eye(a.shape[0], dtype=a.dtype), np.dot(a, a)]  # a**0, a**2, ...
    if m == 13:
        powers.append(np.dot(powers[1], powers[1]))
        powers.append(np.dot(powers[2], powers[1]))
        # odd = c1 + c3 a2 + c5 a4 + c7 a6 + 1 * a6 (c9 a2 + c11 a4 + c13 a6), even alike
        high_odd = np.dot(powers[3], weighted_sum(c[9::2], powers[1:]))
        high_even = np.dot(powers[3], weighted_sum(c[8:13:2], powers[1:]))
        odd = weighted_sum(np.append(c[1:8:2], c[0]), powers + [high_odd])
        even = weighted_sum(np.append(c[0:7:2], c[0]), powers + [high_even])
    else:
        while len(powers) < (m + 1) // 2:
            powers.append(np.dot(powers[-1], powers[1]))
        odd = weighted_sum(c[1::2], powers)
        even = weighted_sum(c[0::2], powers)
    u = np.dot(a, odd)
    signs = np.ones(2, dtype=a.dtype)
    numerator = weighted_sum(signs, [even, u])
    signs[1] = -1
    denominator = weighted_sum(signs, [even, u])
    return np.ascontiguousarray(np.linalg.solve(denominator, numerator))


@numba.njit(cache=True, error_model="numpy")
def one_norm(a):
    """The largest column sum of ``abs(a)``."""
    norm = 0.0
    for j in range(a.shape[1]):
        column = 0.0
        for i in range(a.shape[0]):
            column += abs(a[i, j])
        norm = max(norm, column)
    return norm


@numba.njit(cache=True, error_model="numpy")
def expm(a):
    """The matrix exponential of ``a``, by scaling and squaring (Higham, "The
    scaling and squaring method for the matrix exponential revisited", 2005): the
    lowest Padé degree accurate to double precision for ``a``'s 1-norm, else
    degree 13 on ``a / 2**s`` and ``s`` squarings.  Nan if ``a`` is not finite."""
    n = a.shape[0]
    if a.shape[1] != n:
        raise ValueError("expected a square matrix")
    if n <= 1:
        return np.exp(a)
    norm = one_norm(a)
    if not np.isfinite(norm):
        return np.full(a.shape, np.nan, dtype=a.dtype)
    # The largest 1-norm each degree approximates exp at to double precision.
    degree = 13
    for m, theta in ((3, 1.495585217958292e-2), (5, 2.539398330063230e-1),
                     (7, 9.504178996162932e-1), (9, 2.097847961257068)):
        if norm <= theta:
            degree = m
            break
    squarings = 0
    if degree == 13:
        squarings = max(0, int(np.ceil(np.log2(norm / 5.371920351148152))))
    scaled = np.empty((n, n), dtype=a.dtype)
    factor = 0.5**squarings  # a power of two: exact
    for i in range(n):
        for j in range(n):
            scaled[i, j] = a[i, j] * factor
    x = pade_exp(scaled, degree)
    for _ in range(squarings):
        x = np.dot(x, x)
    return x
