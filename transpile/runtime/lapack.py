"""LAPACK routines that Numba's ``np.linalg`` does not wrap, callable from ``@njit`` code.

Numba reaches LAPACK through SciPy: its ``np.linalg`` functions call C helpers that it
registers with LLVM by name when it starts, and those find the routines of
``scipy.linalg.cython_lapack`` at run time.  The routines here are reached the same
way.  ``lapack_routine`` runs when a generated module is imported: it asks SciPy's
``cython_lapack`` for the routine's address in this process, registers that address
with LLVM under a name of its own (``cython_lapack_dgees``) and returns a
``numba.types.ExternalFunction`` of that name.  Compiled code calls the routine by
name and never holds an address, so ``@numba.njit(cache=True)`` code stays valid in
the next process, whose import registers the name again before anything runs.

LAPACK takes every argument by reference: scalars travel as one-element arrays
(``fortran_int``, ``fortran_char``) and matrices as Fortran-ordered arrays
(``fortran_copy``), each passed as its ``.ctypes`` pointer.  Each wrapper below calls
one routine family for the dtype of its arrays (LAPACK's s, d, c or z: chosen by
``double_precision`` and ``np.iscomplexobj``, constants the compiler folds, so that
each specialisation keeps one call), asks for its optimal workspace first where the
routine has one, and returns LAPACK's ``info``.  Tested in ``tests/test_decomp.py``,
through the decompositions of ``decomp.py``.
"""

import numba
import numpy as np


def lapack_routine(name, n_args):
    """The routine ``name`` of SciPy's ``scipy.linalg.cython_lapack`` as a function
    of ``n_args`` pointers, bound by name (see this module's docstring)."""
    symbol = "cython_lapack_" + name
    address = numba.extending.get_cython_function_address(
        "scipy.linalg.cython_lapack", name)
    numba.core.externals._add_missing_symbol(symbol, address)
    return numba.types.ExternalFunction(
        symbol, numba.types.void(*[numba.types.voidptr] * n_args))


# Schur forms (gees) and their reordering (trsen).
sgees = lapack_routine("sgees", 15)
dgees = lapack_routine("dgees", 15)
cgees = lapack_routine("cgees", 15)
zgees = lapack_routine("zgees", 15)
strsen = lapack_routine("strsen", 18)
dtrsen = lapack_routine("dtrsen", 18)
ctrsen = lapack_routine("ctrsen", 15)
ztrsen = lapack_routine("ztrsen", 15)
# Generalized Schur forms (gges) and their reordering (tgsen).
sgges = lapack_routine("sgges", 21)
dgges = lapack_routine("dgges", 21)
cgges = lapack_routine("cgges", 21)
zgges = lapack_routine("zgges", 21)
stgsen = lapack_routine("stgsen", 25)
dtgsen = lapack_routine("dtgsen", 25)
ctgsen = lapack_routine("ctgsen", 24)
ztgsen = lapack_routine("ztgsen", 24)
# Sylvester equations of (quasi-)triangular matrices.
strsyl = lapack_routine("strsyl", 13)
dtrsyl = lapack_routine("dtrsyl", 13)
ctrsyl = lapack_routine("ctrsyl", 13)
ztrsyl = lapack_routine("ztrsyl", 13)
# LU with partial pivoting.
sgetrf = lapack_routine("sgetrf", 6)
dgetrf = lapack_routine("dgetrf", 6)
cgetrf = lapack_routine("cgetrf", 6)
zgetrf = lapack_routine("zgetrf", 6)
# QR: Householder factors (geqrf, with column pivoting geqp3) and the Q they make.
sgeqrf = lapack_routine("sgeqrf", 8)
dgeqrf = lapack_routine("dgeqrf", 8)
cgeqrf = lapack_routine("cgeqrf", 8)
zgeqrf = lapack_routine("zgeqrf", 8)
sgeqp3 = lapack_routine("sgeqp3", 9)
dgeqp3 = lapack_routine("dgeqp3", 9)
cgeqp3 = lapack_routine("cgeqp3", 10)
zgeqp3 = lapack_routine("zgeqp3", 10)
sorgqr = lapack_routine("sorgqr", 9)
dorgqr = lapack_routine("dorgqr", 9)
cungqr = lapack_routine("cungqr", 9)
zungqr = lapack_routine("zungqr", 9)
# Eigenvalues and eigenvectors of general real matrices.
sgeev = lapack_routine("sgeev", 14)
dgeev = lapack_routine("dgeev", 14)
# Symmetric eigenproblems: divide and conquer (syevd), relatively robust (syevr).
ssyevd = lapack_routine("ssyevd", 11)
dsyevd = lapack_routine("dsyevd", 11)
ssyevr = lapack_routine("ssyevr", 21)
dsyevr = lapack_routine("dsyevr", 21)
# Generalized symmetric-definite eigenproblems a v = w b v.
ssygvd = lapack_routine("ssygvd", 14)
dsygvd = lapack_routine("dsygvd", 14)


# ---- arguments by reference ----------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def fortran_int(value):
    """``value`` as LAPACK takes an INTEGER or LOGICAL: a one-element int32 array."""
    return np.full(1, value, dtype=np.int32)


@numba.njit(cache=True, error_model="numpy")
def fortran_char(letter):
    """The one-letter option ``letter`` as LAPACK takes a CHARACTER."""
    return np.full(1, ord(letter), dtype=np.uint8)


@numba.njit(cache=True, error_model="numpy")
def fortran_copy(a):
    """A Fortran-ordered copy of the matrix ``a`` (LAPACK works column by column)."""
    out = np.empty((a.shape[1], a.shape[0]), dtype=a.dtype).T
    out[:] = a
    return out


@numba.njit(cache=True, error_model="numpy")
def double_precision(a):
    """Whether ``a`` is float64 or complex128 (LAPACK's d or z routines), a
    constant of its type that the compiler folds."""
    return np.finfo(a.dtype).bits == 64


@numba.njit(cache=True, error_model="numpy")
def workspace_size(work):
    """The optimal workspace length a workspace query wrote into ``work[0]``."""
    return max(1, int(work[0].real))


# ---- Schur forms ---------------------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def gees_real(t, z, wr, wi):
    """?gees, unsorted: the real Schur form of the Fortran-ordered ``t`` in place,
    its Schur vectors into ``z`` and its eigenvalues into ``wr + 1j * wi``."""
    n = t.shape[0]
    info, sdim = fortran_int(0), fortran_int(0)
    work = np.empty(1, dtype=t.dtype)
    for query in (True, False):
        args = (fortran_char("V").ctypes, fortran_char("N").ctypes, info.ctypes,
                fortran_int(n).ctypes, t.ctypes, fortran_int(max(1, n)).ctypes,
                sdim.ctypes, wr.ctypes, wi.ctypes, z.ctypes,
                fortran_int(max(1, n)).ctypes, work.ctypes,
                fortran_int(-1 if query else work.size).ctypes, info.ctypes, info.ctypes)
        if double_precision(t):
            dgees(*args)
        else:
            sgees(*args)
        if query:
            work = np.empty(workspace_size(work), dtype=t.dtype)
    return info[0]


@numba.njit(cache=True, error_model="numpy")
def gees_complex(t, z, w):
    """?gees, unsorted: the complex Schur form of the Fortran-ordered ``t`` in
    place, its Schur vectors into ``z`` and its eigenvalues into ``w``."""
    n = t.shape[0]
    info, sdim = fortran_int(0), fortran_int(0)
    work = np.empty(1, dtype=t.dtype)
    rwork = np.empty(max(1, n), dtype=w.real.dtype)
    for query in (True, False):
        args = (fortran_char("V").ctypes, fortran_char("N").ctypes, info.ctypes,
                fortran_int(n).ctypes, t.ctypes, fortran_int(max(1, n)).ctypes,
                sdim.ctypes, w.ctypes, z.ctypes, fortran_int(max(1, n)).ctypes,
                work.ctypes, fortran_int(-1 if query else work.size).ctypes,
                rwork.ctypes, info.ctypes, info.ctypes)
        if double_precision(t):
            zgees(*args)
        else:
            cgees(*args)
        if query:
            work = np.empty(workspace_size(work), dtype=t.dtype)
    return info[0]


@numba.njit(cache=True, error_model="numpy")
def trsen_real(select, t, z, wr, wi):
    """?trsen: reorder the real Schur form ``t`` (and its vectors ``z``) so that
    the eigenvalues where ``select`` (int32) is nonzero lead, as ?gees does when it
    sorts; the reordered eigenvalues into ``wr + 1j * wi``."""
    n = t.shape[0]
    info, m = fortran_int(0), fortran_int(0)
    s, sep = np.empty(1, dtype=t.dtype), np.empty(1, dtype=t.dtype)
    work = np.empty(max(1, n), dtype=t.dtype)
    iwork = np.empty(1, dtype=np.int32)
    args = (fortran_char("N").ctypes, fortran_char("V").ctypes, select.ctypes,
            fortran_int(n).ctypes, t.ctypes, fortran_int(max(1, n)).ctypes, z.ctypes,
            fortran_int(max(1, n)).ctypes, wr.ctypes, wi.ctypes, m.ctypes, s.ctypes,
            sep.ctypes, work.ctypes, fortran_int(work.size).ctypes, iwork.ctypes,
            fortran_int(1).ctypes, info.ctypes)
    if double_precision(t):
        dtrsen(*args)
    else:
        strsen(*args)
    return info[0]


@numba.njit(cache=True, error_model="numpy")
def trsen_complex(select, t, z, w):
    """?trsen on a complex Schur form: as ``trsen_real``."""
    n = t.shape[0]
    info, m = fortran_int(0), fortran_int(0)
    s, sep = np.empty(1, dtype=w.real.dtype), np.empty(1, dtype=w.real.dtype)
    work = np.empty(max(1, n), dtype=t.dtype)
    args = (fortran_char("N").ctypes, fortran_char("V").ctypes, select.ctypes,
            fortran_int(n).ctypes, t.ctypes, fortran_int(max(1, n)).ctypes, z.ctypes,
            fortran_int(max(1, n)).ctypes, w.ctypes, m.ctypes, s.ctypes, sep.ctypes,
            work.ctypes, fortran_int(work.size).ctypes, info.ctypes)
    if double_precision(t):
        ztrsen(*args)
    else:
        ctrsen(*args)
    return info[0]


# ---- generalized Schur forms ---------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def gges_real(a, b, q, z, alphar, alphai, beta):
    """?gges, unsorted: the generalized real Schur form of the Fortran-ordered pair
    (``a``, ``b``) in place, ``a = q @ aa @ z.T``, ``b = q @ bb @ z.T``, with the
    generalized eigenvalues ``(alphar + 1j * alphai) / beta``."""
    n = a.shape[0]
    info, sdim = fortran_int(0), fortran_int(0)
    work = np.empty(1, dtype=a.dtype)
    lda = fortran_int(max(1, n))
    for query in (True, False):
        args = (fortran_char("V").ctypes, fortran_char("V").ctypes,
                fortran_char("N").ctypes, info.ctypes, fortran_int(n).ctypes, a.ctypes,
                lda.ctypes, b.ctypes, lda.ctypes, sdim.ctypes, alphar.ctypes,
                alphai.ctypes, beta.ctypes, q.ctypes, lda.ctypes, z.ctypes, lda.ctypes,
                work.ctypes, fortran_int(-1 if query else work.size).ctypes,
                info.ctypes, info.ctypes)
        if double_precision(a):
            dgges(*args)
        else:
            sgges(*args)
        if query:
            work = np.empty(workspace_size(work), dtype=a.dtype)
    return info[0]


@numba.njit(cache=True, error_model="numpy")
def gges_complex(a, b, q, z, alpha, beta):
    """?gges on a complex pair: as ``gges_real``, eigenvalues ``alpha / beta``."""
    n = a.shape[0]
    info, sdim = fortran_int(0), fortran_int(0)
    work = np.empty(1, dtype=a.dtype)
    rwork = np.empty(max(1, 8 * n), dtype=beta.real.dtype)
    lda = fortran_int(max(1, n))
    for query in (True, False):
        args = (fortran_char("V").ctypes, fortran_char("V").ctypes,
                fortran_char("N").ctypes, info.ctypes, fortran_int(n).ctypes, a.ctypes,
                lda.ctypes, b.ctypes, lda.ctypes, sdim.ctypes, alpha.ctypes,
                beta.ctypes, q.ctypes, lda.ctypes, z.ctypes, lda.ctypes, work.ctypes,
                fortran_int(-1 if query else work.size).ctypes, rwork.ctypes,
                info.ctypes, info.ctypes)
        if double_precision(a):
            zgges(*args)
        else:
            cgges(*args)
        if query:
            work = np.empty(workspace_size(work), dtype=a.dtype)
    return info[0]


@numba.njit(cache=True, error_model="numpy")
def tgsen_real(select, a, b, q, z, alphar, alphai, beta):
    """?tgsen (ijob=0): reorder a generalized real Schur form so that the
    eigenvalues where ``select`` is nonzero lead, updating ``q`` and ``z``."""
    n = a.shape[0]
    info, m = fortran_int(0), fortran_int(0)
    pl, pr = np.empty(1, dtype=a.dtype), np.empty(1, dtype=a.dtype)
    dif = np.empty(2, dtype=a.dtype)
    work = np.empty(4 * n + 16, dtype=a.dtype)
    iwork = np.empty(1, dtype=np.int32)
    lda = fortran_int(max(1, n))
    args = (fortran_int(0).ctypes, fortran_int(1).ctypes, fortran_int(1).ctypes,
            select.ctypes, fortran_int(n).ctypes, a.ctypes, lda.ctypes, b.ctypes,
            lda.ctypes, alphar.ctypes, alphai.ctypes, beta.ctypes, q.ctypes, lda.ctypes,
            z.ctypes, lda.ctypes, m.ctypes, pl.ctypes, pr.ctypes, dif.ctypes,
            work.ctypes, fortran_int(work.size).ctypes, iwork.ctypes,
            fortran_int(1).ctypes, info.ctypes)
    if double_precision(a):
        dtgsen(*args)
    else:
        stgsen(*args)
    return info[0]


@numba.njit(cache=True, error_model="numpy")
def tgsen_complex(select, a, b, q, z, alpha, beta):
    """?tgsen (ijob=0) on a complex pair: as ``tgsen_real``."""
    n = a.shape[0]
    info, m = fortran_int(0), fortran_int(0)
    pl, pr = np.empty(1, dtype=beta.real.dtype), np.empty(1, dtype=beta.real.dtype)
    dif = np.empty(2, dtype=beta.real.dtype)
    work = np.empty(1, dtype=a.dtype)
    iwork = np.empty(1, dtype=np.int32)
    lda = fortran_int(max(1, n))
    args = (fortran_int(0).ctypes, fortran_int(1).ctypes, fortran_int(1).ctypes,
            select.ctypes, fortran_int(n).ctypes, a.ctypes, lda.ctypes, b.ctypes,
            lda.ctypes, alpha.ctypes, beta.ctypes, q.ctypes, lda.ctypes, z.ctypes,
            lda.ctypes, m.ctypes, pl.ctypes, pr.ctypes, dif.ctypes, work.ctypes,
            fortran_int(1).ctypes, iwork.ctypes, fortran_int(1).ctypes, info.ctypes)
    if double_precision(a):
        ztgsen(*args)
    else:
        ctgsen(*args)
    return info[0]


# ---- Sylvester equations, LU, QR -----------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def trsyl(a, b, c):
    """?trsyl: overwrite the Fortran-ordered ``c`` with ``x`` solving
    ``a @ x + x @ b = scale * c``, ``a`` and ``b`` in (real or complex) Schur form.
    Returns ``(scale, info)``."""
    m, n = c.shape
    info = fortran_int(0)
    scale = np.ones(1, dtype=c.real.dtype)
    args = (fortran_char("N").ctypes, fortran_char("N").ctypes, fortran_int(1).ctypes,
            fortran_int(m).ctypes, fortran_int(n).ctypes, a.ctypes,
            fortran_int(max(1, m)).ctypes, b.ctypes, fortran_int(max(1, n)).ctypes,
            c.ctypes, fortran_int(max(1, m)).ctypes, scale.ctypes, info.ctypes)
    if double_precision(c) and np.iscomplexobj(c):
        ztrsyl(*args)
    elif np.iscomplexobj(c):
        ctrsyl(*args)
    elif double_precision(c):
        dtrsyl(*args)
    else:
        strsyl(*args)
    return scale[0], info[0]


@numba.njit(cache=True, error_model="numpy")
def getrf(a, pivots):
    """?getrf: the LU factors of the Fortran-ordered ``a`` in place (unit lower
    ``L`` below the diagonal, ``U`` on and above) and the 1-based row interchanges
    into ``pivots`` (int32, ``min(m, n)`` of them)."""
    m, n = a.shape
    info = fortran_int(0)
    args = (fortran_int(m).ctypes, fortran_int(n).ctypes, a.ctypes,
            fortran_int(max(1, m)).ctypes, pivots.ctypes, info.ctypes)
    if double_precision(a) and np.iscomplexobj(a):
        zgetrf(*args)
    elif np.iscomplexobj(a):
        cgetrf(*args)
    elif double_precision(a):
        dgetrf(*args)
    else:
        sgetrf(*args)
    return info[0]


@numba.njit(cache=True, error_model="numpy")
def geqrf(a, tau):
    """?geqrf: the Householder QR factors of the Fortran-ordered ``a`` in place
    (``R`` on and above the diagonal, the reflectors below, their scales in
    ``tau``)."""
    m, n = a.shape
    info = fortran_int(0)
    work = np.empty(1, dtype=a.dtype)
    for query in (True, False):
        args = (fortran_int(m).ctypes, fortran_int(n).ctypes, a.ctypes,
                fortran_int(max(1, m)).ctypes, tau.ctypes, work.ctypes,
                fortran_int(-1 if query else work.size).ctypes, info.ctypes)
        if double_precision(a) and np.iscomplexobj(a):
            zgeqrf(*args)
        elif np.iscomplexobj(a):
            cgeqrf(*args)
        elif double_precision(a):
            dgeqrf(*args)
        else:
            sgeqrf(*args)
        if query:
            work = np.empty(workspace_size(work), dtype=a.dtype)
    return info[0]


@numba.njit(cache=True, error_model="numpy")
def geqp3(a, pivots, tau):
    """?geqp3: as ``geqrf`` with column pivoting, the 1-based column permutation
    into ``pivots`` (int32, zero on entry: every column free)."""
    m, n = a.shape
    info = fortran_int(0)
    work = np.empty(1, dtype=a.dtype)
    rwork = np.empty(max(1, 2 * n), dtype=tau.real.dtype)  # complex routines only
    for query in (True, False):
        lwork = fortran_int(-1 if query else work.size)
        head = (fortran_int(m).ctypes, fortran_int(n).ctypes, a.ctypes,
                fortran_int(max(1, m)).ctypes, pivots.ctypes, tau.ctypes, work.ctypes,
                lwork.ctypes)
        if double_precision(a) and np.iscomplexobj(a):
            zgeqp3(*head, rwork.ctypes, info.ctypes)
        elif np.iscomplexobj(a):
            cgeqp3(*head, rwork.ctypes, info.ctypes)
        elif double_precision(a):
            dgeqp3(*head, info.ctypes)
        else:
            sgeqp3(*head, info.ctypes)
        if query:
            work = np.empty(workspace_size(work), dtype=a.dtype)
    return info[0]


@numba.njit(cache=True, error_model="numpy")
def orgqr(q, tau):
    """?orgqr (?ungqr for complex): overwrite the Fortran-ordered ``q``, whose
    first ``tau.size`` columns hold Householder reflectors, with the orthonormal
    columns they make."""
    m, n = q.shape
    info = fortran_int(0)
    work = np.empty(1, dtype=q.dtype)
    for query in (True, False):
        args = (fortran_int(m).ctypes, fortran_int(n).ctypes,
                fortran_int(tau.size).ctypes, q.ctypes, fortran_int(max(1, m)).ctypes,
                tau.ctypes, work.ctypes, fortran_int(-1 if query else work.size).ctypes,
                info.ctypes)
        if double_precision(q) and np.iscomplexobj(q):
            zungqr(*args)
        elif np.iscomplexobj(q):
            cungqr(*args)
        elif double_precision(q):
            dorgqr(*args)
        else:
            sorgqr(*args)
        if query:
            work = np.empty(workspace_size(work), dtype=q.dtype)
    return info[0]


# ---- eigenproblems -------------------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def geev_real(a, wr, wi, vr):
    """?geev: the eigenvalues ``wr + 1j * wi`` of the real Fortran-ordered ``a``
    (overwritten) and its right eigenvectors into ``vr``, LAPACK's packing: a
    complex pair's vectors are ``vr[:, j] +- 1j * vr[:, j + 1]``."""
    n = a.shape[0]
    info = fortran_int(0)
    work = np.empty(1, dtype=a.dtype)
    lda = fortran_int(max(1, n))
    for query in (True, False):
        args = (fortran_char("N").ctypes, fortran_char("V").ctypes,
                fortran_int(n).ctypes, a.ctypes, lda.ctypes, wr.ctypes, wi.ctypes,
                vr.ctypes, lda.ctypes, vr.ctypes, lda.ctypes, work.ctypes,
                fortran_int(-1 if query else work.size).ctypes, info.ctypes)
        if double_precision(a):
            dgeev(*args)
        else:
            sgeev(*args)
        if query:
            work = np.empty(workspace_size(work), dtype=a.dtype)
    return info[0]


@numba.njit(cache=True, error_model="numpy")
def syevd(a, w, lower):
    """?syevd: the eigenvalues (ascending) of the symmetric matrix given by the
    ``lower`` (else upper) triangle of the Fortran-ordered ``a`` into ``w``, ``a``
    overwritten with the eigenvectors (divide and conquer: NumPy's ``eigh``)."""
    n = a.shape[0]
    info = fortran_int(0)
    work = np.empty(1, dtype=a.dtype)
    iwork = np.empty(1, dtype=np.int32)
    for query in (True, False):
        args = (fortran_char("V").ctypes, fortran_char("L" if lower else "U").ctypes,
                fortran_int(n).ctypes, a.ctypes, fortran_int(max(1, n)).ctypes,
                w.ctypes, work.ctypes, fortran_int(-1 if query else work.size).ctypes,
                iwork.ctypes, fortran_int(-1 if query else iwork.size).ctypes,
                info.ctypes)
        if double_precision(a):
            dsyevd(*args)
        else:
            ssyevd(*args)
        if query:
            work = np.empty(workspace_size(work), dtype=a.dtype)
            iwork = np.empty(max(1, iwork[0]), dtype=np.int32)
    return info[0]


@numba.njit(cache=True, error_model="numpy")
def syevr(a, w, z, lower, compute_vectors):
    """?syevr, every eigenvalue: as ``syevd``, the eigenvectors (if
    ``compute_vectors``) into ``z`` (``a`` is destroyed), by relatively robust
    representations (SciPy's default ``eigh`` driver)."""
    n = a.shape[0]
    info, found = fortran_int(0), fortran_int(0)
    bounds = np.zeros(3, dtype=a.dtype)  # vl, vu, abstol: unused for range "A"
    support = np.empty(max(1, 2 * n), dtype=np.int32)
    work = np.empty(1, dtype=a.dtype)
    iwork = np.empty(1, dtype=np.int32)
    ld = fortran_int(max(1, n))
    for query in (True, False):
        args = (fortran_char("V" if compute_vectors else "N").ctypes,
                fortran_char("A").ctypes, fortran_char("L" if lower else "U").ctypes,
                fortran_int(n).ctypes, a.ctypes, ld.ctypes, bounds[0:].ctypes,
                bounds[1:].ctypes, fortran_int(1).ctypes, fortran_int(n).ctypes,
                bounds[2:].ctypes, found.ctypes, w.ctypes, z.ctypes, ld.ctypes,
                support.ctypes, work.ctypes,
                fortran_int(-1 if query else work.size).ctypes, iwork.ctypes,
                fortran_int(-1 if query else iwork.size).ctypes, info.ctypes)
        if double_precision(a):
            dsyevr(*args)
        else:
            ssyevr(*args)
        if query:
            work = np.empty(workspace_size(work), dtype=a.dtype)
            iwork = np.empty(max(1, iwork[0]), dtype=np.int32)
    return info[0]


@numba.njit(cache=True, error_model="numpy")
def sygvd(a, b, w, lower, compute_vectors):
    """?sygvd (itype 1): the eigenvalues of ``a v = w b v`` into ``w``, ``a`` and
    ``b`` symmetric (``b`` positive definite) given by their ``lower`` (else upper)
    triangles, Fortran-ordered; ``a`` overwritten with the eigenvectors (if
    ``compute_vectors``, scaled so that ``v.T @ b @ v = I``), ``b`` with its
    Cholesky factor.  Divide and conquer: SciPy's default for a matrix pair."""
    n = a.shape[0]
    info = fortran_int(0)
    work = np.empty(1, dtype=a.dtype)
    iwork = np.empty(1, dtype=np.int32)
    ld = fortran_int(max(1, n))
    for query in (True, False):
        args = (fortran_int(1).ctypes, fortran_char("V" if compute_vectors else "N").ctypes,
                fortran_char("L" if lower else "U").ctypes, fortran_int(n).ctypes,
                a.ctypes, ld.ctypes, b.ctypes, ld.ctypes, w.ctypes, work.ctypes,
                fortran_int(-1 if query else work.size).ctypes, iwork.ctypes,
                fortran_int(-1 if query else iwork.size).ctypes, info.ctypes)
        if double_precision(a):
            dsygvd(*args)
        else:
            ssygvd(*args)
        if query:
            work = np.empty(workspace_size(work), dtype=a.dtype)
            iwork = np.empty(max(1, iwork[0]), dtype=np.int32)
    return info[0]
