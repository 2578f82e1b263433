"""Matrix decompositions for generated modules: PyTensor's ``SVD``, ``QR``, ``LU``,
``Eig``, ``Schur``, ``QZ`` and ``TRSYL``, with the results PyTensor's ``perform``
gives (the same LAPACK routines, called the same way, so that outputs that are not
unique, such as signs of singular or Schur vectors, are the same too).

``np.linalg`` computes what it can (``svd``, complex ``eig``, ``eigh`` of the lower
triangle); the rest calls the LAPACK wrappers of ``lapack.py``.  Inputs are already
of the working dtype (float32, float64, complex64 or complex128: the lowering casts
them) and are never written to; every result is a fresh C-contiguous array.
"""

import numba
import numpy as np

from .lapack import (
    fortran_copy,
    gees_complex,
    gees_real,
    geev_real,
    geqp3,
    geqrf,
    getrf,
    gges_complex,
    gges_real,
    orgqr,
    syevd,
    syevr,
    sygvd,
    tgsen_complex,
    tgsen_real,
    trsen_complex,
    trsen_real,
    trsyl,
)

# How Schur and QZ forms are sorted, PyTensor's ``sort`` (None, "lhp", "rhp", "iuc",
# "ouc"): which eigenvalues lead.  Numbers, not strings: comparing strings in compiled
# code costs seconds of compilation per function.
UNSORTED = 0
LEFT_HALF_PLANE = 1
RIGHT_HALF_PLANE = 2
INSIDE_UNIT_CIRCLE = 3
OUTSIDE_UNIT_CIRCLE = 4


# ---- SVD and eigendecompositions -----------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def check_finite(a):
    """Raise as SciPy's ``check_finite`` does (its default) where ``a`` holds nan
    or inf."""
    if not np.all(np.isfinite(a)):
        raise ValueError("array must not contain infs or NaNs")


@numba.njit(cache=True, error_model="numpy")
def svd(a, full_matrices):
    """``u, s, vt`` with ``a = u @ diag(s) @ vt`` (LAPACK's gesdd, as NumPy)."""
    m, n = a.shape
    if m == 0 or n == 0:  # np.linalg.svd refuses empty matrices
        u = np.zeros((m, m if full_matrices else 0), dtype=a.dtype)
        vt = np.zeros((n if full_matrices else 0, n), dtype=a.dtype)
        for i in range(min(u.shape)):
            u[i, i] = 1
        for i in range(min(vt.shape)):
            vt[i, i] = 1
        return u, np.empty(0, dtype=a.real.dtype), vt
    u, s, vt = np.linalg.svd(a, full_matrices=full_matrices)
    return np.ascontiguousarray(u), s, np.ascontiguousarray(vt)


@numba.njit(cache=True, error_model="numpy")
def svdvals(a):
    """The singular values of ``a``, in descending order (NumPy's ``svdvals``)."""
    if a.size == 0:
        return np.empty(0, dtype=a.real.dtype)
    return np.linalg.svd(a, full_matrices=False)[1]


@numba.njit(cache=True, error_model="numpy")
def eig_real(a):
    """Eigenvalues and right eigenvectors (unit columns) of the real matrix ``a``,
    complex, as NumPy's ``eig`` gives them (LAPACK's geev)."""
    n = a.shape[0]
    if a.shape[1] != n:
        raise ValueError("expected a square matrix")
    wr, wi = np.empty(n, dtype=a.dtype), np.empty(n, dtype=a.dtype)
    vr = np.empty((n, n), dtype=a.dtype).T
    info = geev_real(fortran_copy(a), wr, wi, vr) if n > 0 else 0
    # complex64 for float32, complex128 for float64
    w = wr + np.complex64(1j) * wi
    v = np.empty((n, n), dtype=w.dtype)
    if info != 0:
        w[:] = np.nan
        v[:] = np.nan
        return w, v
    j = 0
    while j < n:
        if wi[j] == 0:  # a real eigenvalue and vector
            for i in range(n):
                v[i, j] = vr[i, j]
            j += 1
        else:  # a conjugate pair, whose real and imaginary parts LAPACK packs
            for i in range(n):
                v[i, j] = vr[i, j] + 1j * vr[i, j + 1]
                v[i, j + 1] = vr[i, j] - 1j * vr[i, j + 1]
            j += 2
    return w, v


@numba.njit(cache=True, error_model="numpy")
def eig_complex(a):
    """Eigenvalues and right eigenvectors of the complex matrix ``a`` (zgeev)."""
    if a.shape[0] != a.shape[1]:
        raise ValueError("expected a square matrix")
    if a.size == 0:
        return np.empty(0, dtype=a.dtype), np.empty((0, 0), dtype=a.dtype)
    w, v = np.linalg.eig(a)
    return w, np.ascontiguousarray(v)


@numba.njit(cache=True, error_model="numpy")
def eigh_lapack(a, lower, relatively_robust):
    """Eigenvalues (ascending) and eigenvectors (columns) of the symmetric matrix
    given by the ``lower`` (else upper) triangle of ``a``, by LAPACK's syevr
    (``relatively_robust``: SciPy's default) or syevd (NumPy's).  Each triangle and
    each routine choose their own eigenvector signs: the same as SciPy's and
    NumPy's only if the same triangle goes to the same routine.  A matrix that is
    not finite raises, as SciPy's ``eigh`` (NumPy's returns what LAPACK makes of
    it)."""
    n = a.shape[0]
    if a.shape[1] != n:
        raise ValueError("expected a square matrix")
    check_finite(a)
    w = np.empty(n, dtype=a.dtype)
    work = fortran_copy(a)
    if n == 0:
        return w, np.empty((0, 0), dtype=a.dtype)
    if relatively_robust:
        v = np.empty((n, n), dtype=a.dtype).T
        info = syevr(work, w, v, lower, True)
    else:
        v = work
        info = syevd(work, w, lower)
    if info != 0:
        raise np.linalg.LinAlgError("eigh: the eigenvalues did not converge")
    return w, np.ascontiguousarray(v)


@numba.njit(cache=True, error_model="numpy")
def eigh_generalized(a, b, lower):
    """Eigenvalues (ascending) and eigenvectors of ``a v = w b v``, ``a`` and ``b``
    symmetric (``b`` positive definite) given by one triangle each: LAPACK's sygvd,
    as SciPy's ``eigh(a, b)``; the eigenvectors scaled so that ``v.T @ b @ v = I``."""
    n = a.shape[0]
    if a.shape[1] != n or b.shape[0] != n or b.shape[1] != n:
        raise ValueError("expected two square matrices of one shape")
    check_finite(a)
    check_finite(b)
    w, v = np.empty(n, dtype=a.dtype), fortran_copy(a)
    if n > 0 and sygvd(v, fortran_copy(b), w, lower, True) != 0:
        raise np.linalg.LinAlgError("eigh: b is not positive definite, or the "
                                    "eigenvalues did not converge")
    return w, np.ascontiguousarray(v)


@numba.njit(cache=True, error_model="numpy")
def eigvalsh(a, lower):
    """The eigenvalues (ascending) of the symmetric matrix given by one triangle
    of ``a``: LAPACK's syevr without vectors, as SciPy's ``eigvalsh``."""
    n = a.shape[0]
    if a.shape[1] != n:
        raise ValueError("expected a square matrix")
    check_finite(a)
    w = np.empty(n, dtype=a.dtype)
    unused = np.empty((1, 1), dtype=a.dtype).T  # (Fortran-ordered, as eigh's)
    if n > 0 and syevr(fortran_copy(a), w, unused, lower, False) != 0:
        raise np.linalg.LinAlgError("eigvalsh: the eigenvalues did not converge")
    return w


@numba.njit(cache=True, error_model="numpy")
def eigvalsh_generalized(a, b, lower):
    """The eigenvalues (ascending) of ``a v = w b v`` (LAPACK's sygvd without
    vectors, as SciPy's ``eigvalsh(a, b)``)."""
    n = a.shape[0]
    if a.shape[1] != n or b.shape[0] != n or b.shape[1] != n:
        raise ValueError("expected two square matrices of one shape")
    check_finite(a)
    check_finite(b)
    w = np.empty(n, dtype=a.dtype)
    if n > 0 and sygvd(fortran_copy(a), fortran_copy(b), w, lower, False) != 0:
        raise np.linalg.LinAlgError("eigvalsh: b is not positive definite, or the "
                                    "eigenvalues did not converge")
    return w


# ---- QR ------------------------------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def householder_qr(a, pivoting):
    """LAPACK's geqrf (geqp3 if ``pivoting``) on a copy of ``a``: the Fortran-ordered
    factors (``R`` on and above the diagonal, reflectors below), the reflectors'
    scales and the 0-based column permutation (the identity without pivoting)."""
    m, n = a.shape
    h = fortran_copy(a)
    tau = np.empty(min(m, n), dtype=a.dtype)
    pivots = np.zeros(n, dtype=np.int32)
    if a.size == 0:
        return h, tau, np.arange(n).astype(np.int32)
    if pivoting:
        geqp3(h, pivots, tau)
        pivots -= 1
    else:
        geqrf(h, tau)
        pivots[:] = np.arange(n)
    return h, tau, pivots


@numba.njit(cache=True, error_model="numpy")
def upper_triangle(h, rows):
    """The upper triangle of the first ``rows`` rows of ``h``, C-contiguous."""
    r = np.zeros((rows, h.shape[1]), dtype=h.dtype)
    for i in range(rows):
        for j in range(i, h.shape[1]):
            r[i, j] = h[i, j]
    return r


@numba.njit(cache=True, error_model="numpy")
def q_from_reflectors(h, tau, columns):
    """The first ``columns`` columns of the orthogonal (unitary) ``Q`` whose
    Householder reflectors are the columns of ``h`` below its diagonal."""
    m = h.shape[0]
    q = np.zeros((columns, m), dtype=h.dtype).T
    k = tau.size  # min(m, n) reflectors: at most ``columns`` (m, or k itself)
    q[:, :k] = h[:, :k]
    if m > 0 and columns > 0:
        orgqr(q, tau)
    return np.ascontiguousarray(q)


@numba.njit(cache=True, error_model="numpy")
def qr_full(a, pivoting):
    """``q`` (m, m), ``r`` (m, n) and the column permutation ``p``, with
    ``a[:, p] = q @ r`` (SciPy's ``qr(mode="full")``)."""
    m, n = a.shape
    h, tau, pivots = householder_qr(a, pivoting)
    return q_from_reflectors(h, tau, m), upper_triangle(h, m), pivots


@numba.njit(cache=True, error_model="numpy")
def qr_economic(a, pivoting):
    """``q`` (m, k), ``r`` (k, n), ``k = min(m, n)``, and the column permutation
    (SciPy's ``qr(mode="economic")``)."""
    m, n = a.shape
    h, tau, pivots = householder_qr(a, pivoting)
    k = min(m, n)
    return q_from_reflectors(h, tau, k), upper_triangle(h, k), pivots


@numba.njit(cache=True, error_model="numpy")
def qr_r(a, pivoting):
    """``r`` (m, n) alone, and the column permutation (SciPy's ``qr(mode="r")``)."""
    h, tau, pivots = householder_qr(a, pivoting)
    return upper_triangle(h, a.shape[0]), pivots


@numba.njit(cache=True, error_model="numpy")
def qr_raw(a, pivoting):
    """LAPACK's own QR factors ``h`` (m, n) and scales ``tau``, ``r`` as in economic
    mode (m, n if m < n) and the column permutation (PyTensor's ``mode="raw"``)."""
    m, n = a.shape
    h, tau, pivots = householder_qr(a, pivoting)
    return np.ascontiguousarray(h), tau, upper_triangle(h, min(m, n)), pivots


# ---- LU ------------------------------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def lu_decomposition(a):
    """``p, l, u`` with ``a = l[p] @ u`` (SciPy's ``lu(a, p_indices=True)``): ``l``
    (m, k) unit lower triangular, ``u`` (k, n) upper triangular, ``k = min(m, n)``,
    by LAPACK's getrf (partial pivoting; a singular ``a`` gives a zero pivot).  A
    matrix that is not finite raises, as SciPy's ``lu``."""
    check_finite(a)
    m, n = a.shape
    k = min(m, n)
    factors = fortran_copy(a)
    pivots = np.empty(k, dtype=np.int32)
    if k > 0:
        getrf(factors, pivots)
    rows = np.arange(m).astype(np.int32)  # the row order getrf's interchanges make
    for i in range(k):
        j = pivots[i] - 1
        rows[i], rows[j] = rows[j], rows[i]
    p = np.empty(m, dtype=np.int32)
    for i in range(m):
        p[rows[i]] = i
    lower = np.zeros((m, k), dtype=a.dtype)
    upper = np.zeros((k, n), dtype=a.dtype)
    for i in range(m):
        for j in range(min(i, k)):
            lower[i, j] = factors[i, j]
        if i < k:
            lower[i, i] = 1
            for j in range(i, n):
                upper[i, j] = factors[i, j]
    return p, lower, upper


@numba.njit(cache=True, error_model="numpy")
def permutation_matrix(p, dtype):
    """The matrix ``P`` (of ``dtype``) with ``P[i, p[i]] = 1``."""
    m = p.shape[0]
    out = np.zeros((m, m), dtype=dtype)
    for i in range(m):
        out[i, p[i]] = 1
    return out


@numba.njit(cache=True, error_model="numpy")
def permuted_rows(x, p):
    """``x[p]``, C-contiguous."""
    out = np.empty((p.shape[0], x.shape[1]), dtype=x.dtype)
    for i in range(p.shape[0]):
        out[i] = x[p[i]]
    return out


# ---- Schur forms ---------------------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def schur_selects(w, sort):
    """Whether each eigenvalue ``w`` (complex) belongs in the leading block, as
    SciPy's ``schur`` sorts: Re < 0, Re >= 0, |w| <= 1 or |w| > 1."""
    if sort == LEFT_HALF_PLANE:
        return w.real < 0
    if sort == RIGHT_HALF_PLANE:
        return w.real >= 0
    if sort == INSIDE_UNIT_CIRCLE:
        return np.abs(w) <= 1
    assert sort == OUTSIDE_UNIT_CIRCLE
    return np.abs(w) > 1


@numba.njit(cache=True, error_model="numpy")
def sorted_schur_failed(wr, wi, sort):
    """?gees's final check after sorting a real Schur form: rounding moved a
    selected eigenvalue (or half of a pair) behind one that is not selected."""
    selected = schur_selects(wr + 1j * wi, sort)
    last, before_last, first_of_pair = True, True, False
    for i in range(wr.shape[0]):
        current = selected[i]
        if wi[i] == 0:
            if current and not last:
                return True
            first_of_pair = False
        elif first_of_pair:  # the second eigenvalue of a conjugate pair
            current = current or last
            if current and not before_last:
                return True
            first_of_pair = False
        else:
            first_of_pair = True
        before_last, last = last, current
    return False


@numba.njit(cache=True, error_model="numpy")
def schur_real(a, sort):
    """``t, z`` with ``a = z @ t @ z.T``, ``t`` in real Schur form (quasi upper
    triangular): LAPACK's gees, then, unless ``sort`` is UNSORTED, trsen to bring
    the eigenvalues it selects to the top, as gees does when it sorts.  Nan if ``a``
    is not finite or LAPACK fails, as PyTensor's ``Schur``."""
    n = a.shape[0]
    if a.shape[1] != n:
        raise ValueError("expected a square matrix")
    t, z = fortran_copy(a), np.empty((n, n), dtype=a.dtype).T
    wr, wi = np.empty(n, dtype=a.dtype), np.empty(n, dtype=a.dtype)
    if n == 0:
        return np.ascontiguousarray(t), np.ascontiguousarray(z)
    failed = not np.all(np.isfinite(a)) or gees_real(t, z, wr, wi) != 0
    if sort != UNSORTED:
        if not failed:
            select = schur_selects(wr + 1j * wi, sort).astype(np.int32)
            failed = (trsen_real(select, t, z, wr, wi) != 0
                      or sorted_schur_failed(wr, wi, sort))
    if failed:
        t[:] = np.nan
        z[:] = np.nan
    return np.ascontiguousarray(t), np.ascontiguousarray(z)


@numba.njit(cache=True, error_model="numpy")
def schur_complex(a, sort):
    """``t, z`` with ``a = z @ t @ z.conj().T``, ``t`` upper triangular (complex
    Schur form): as ``schur_real``."""
    n = a.shape[0]
    if a.shape[1] != n:
        raise ValueError("expected a square matrix")
    t, z = fortran_copy(a), np.empty((n, n), dtype=a.dtype).T
    w = np.empty(n, dtype=a.dtype)
    if n == 0:
        return np.ascontiguousarray(t), np.ascontiguousarray(z)
    failed = not np.all(np.isfinite(a)) or gees_complex(t, z, w) != 0
    if sort != UNSORTED:
        if not failed:
            select = schur_selects(w, sort).astype(np.int32)
            failed = trsen_complex(select, t, z, w) != 0
    if failed:
        t[:] = np.nan
        z[:] = np.nan
    return np.ascontiguousarray(t), np.ascontiguousarray(z)


# ---- generalized Schur forms (QZ) ----------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def qz_selects(alpha, beta, sort):
    """Whether each generalized eigenvalue ``alpha / beta`` belongs in the leading
    block, as PyTensor's ``QZ`` sorts (after SciPy's ``ordqz``): Re < 0, Re > 0,
    |.| < 1 or |.| > 1 (infinite ones included); an eigenvalue with ``beta == 0``
    is in no half plane nor inside the circle."""
    n = alpha.shape[0]
    select = np.zeros(n, dtype=np.int32)
    for i in range(n):
        if beta[i] == 0:
            select[i] = sort == OUTSIDE_UNIT_CIRCLE and alpha[i] != 0
            continue
        value = alpha[i] / beta[i]
        if sort == LEFT_HALF_PLANE:
            select[i] = value.real < 0
        elif sort == RIGHT_HALF_PLANE:
            select[i] = value.real > 0
        elif sort == INSIDE_UNIT_CIRCLE:
            select[i] = abs(value) < 1
        else:
            select[i] = abs(value) > 1
    return select


@numba.njit(cache=True, error_model="numpy")
def qz_real(a, b, sort):
    """``aa, bb, alpha, beta, q, z`` with ``a = q @ aa @ z.T``, ``b = q @ bb @ z.T``
    (generalized real Schur form) and generalized eigenvalues ``alpha / beta``:
    LAPACK's gges, then tgsen unless ``sort`` is UNSORTED (PyTensor's ``QZ``,
    SciPy's ``ordqz``).  Everything nan if LAPACK fails."""
    n = a.shape[0]
    aa, bb = fortran_copy(a), fortran_copy(b)
    q, z = np.empty((n, n), dtype=a.dtype).T, np.empty((n, n), dtype=a.dtype).T
    alphar, alphai = np.empty(n, dtype=a.dtype), np.empty(n, dtype=a.dtype)
    beta = np.empty(n, dtype=a.dtype)
    info = gges_real(aa, bb, q, z, alphar, alphai, beta) if n > 0 else 0
    if sort != UNSORTED:
        if info == 0 and n > 0:
            select = qz_selects(alphar + np.complex64(1j) * alphai, beta, sort)
            info = tgsen_real(select, aa, bb, q, z, alphar, alphai, beta)
    alpha = alphar + np.complex64(1j) * alphai  # complex64 for float32
    return qz_outputs(info, aa, bb, alpha, beta, q, z)


@numba.njit(cache=True, error_model="numpy")
def qz_outputs(info, aa, bb, alpha, beta, q, z):
    """A QZ decomposition's results in PyTensor's order, C-contiguous; all nan when
    LAPACK reported a failure (``info != 0``)."""
    if info != 0:
        for array in (aa, bb, q, z):
            array[:] = np.nan
        alpha[:] = np.nan
        beta[:] = np.nan
    return (np.ascontiguousarray(aa), np.ascontiguousarray(bb), alpha, beta,
            np.ascontiguousarray(q), np.ascontiguousarray(z))


@numba.njit(cache=True, error_model="numpy")
def qz_complex(a, b, sort):
    """``aa, bb, alpha, beta, q, z`` of a complex pair, ``a = q @ aa @ z.conj().T``:
    as ``qz_real``."""
    n = a.shape[0]
    aa, bb = fortran_copy(a), fortran_copy(b)
    q, z = np.empty((n, n), dtype=a.dtype).T, np.empty((n, n), dtype=a.dtype).T
    alpha, beta = np.empty(n, dtype=a.dtype), np.empty(n, dtype=a.dtype)
    info = gges_complex(aa, bb, q, z, alpha, beta) if n > 0 else 0
    if sort != UNSORTED:
        if info == 0 and n > 0:
            select = qz_selects(alpha, beta, sort)
            info = tgsen_complex(select, aa, bb, q, z, alpha, beta)
    return qz_outputs(info, aa, bb, alpha, beta, q, z)


# ---- Sylvester equations -------------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def solve_quasi_triangular_sylvester(a, b, c):
    """``x`` with ``a @ x + x @ b = c``, ``a`` and ``b`` in Schur form (LAPACK's
    trsyl), as PyTensor's ``TRSYL`` returns it: multiplied by trsyl's ``scale``
    (1 unless the solution would overflow); nan if an argument is illegal."""
    x = fortran_copy(c)
    if a.size == 0 or b.size == 0:
        return np.ascontiguousarray(x)
    scale, info = trsyl(fortran_copy(a), fortran_copy(b), x)
    if info < 0:
        x[:] = np.nan
    else:
        x *= scale
    return np.ascontiguousarray(x)
