"""Matrix decompositions and the linear-control building blocks: ``SVD``, ``QR``,
``LU``, ``Eig``, ``Eigvalsh``, ``Schur``, ``QZ``, ``TRSYL`` and ``BlockDiagonal``.

Each decomposition is one call of a helper from ``transpile/runtime/decomp.py``, its
options as keywords (``schur_real(A, sort=LEFT_HALF_PLANE)``), unpacked into one name
per result (``q, r, pivots = qr_full(A, pivoting=False)``).  The helpers call the
LAPACK routines PyTensor's ``perform`` reaches (through NumPy or SciPy), in the
precision it uses: NumPy computes ``SVD`` and ``Eig`` in double precision and casts
back, SciPy calls the single-precision routines for float32.  Inputs are cast to that
working dtype first, results to the output types where they differ.  ``pt.linalg``
wraps these Ops in a ``Blockwise``, lowered to the same calls inside batch loops.

The solvers of ``linear_control`` (``SolveSylvester``,
``SolveBilinearDiscreteLyapunov``, ``SolveDiscreteARE``) are OpFromGraphs, inlined:
what they need is lowered here.
"""

import libcst as cst
import numpy as np

from .. import syntax as sx
from ..compat import op_class
from ..dtypes import dtype_attr, is_complex
from ..errors import UnsupportedOpError
from ..registry import register
from .elemwise import dim_size

SVD = op_class("SVD")
QR = op_class("QR")
LU = op_class("LU")
Eig = op_class("Eig")
Eigvalsh = op_class("Eigvalsh")
Schur = op_class("Schur")
QZ = op_class("QZ")
BlockDiagonal = op_class("BlockDiagonal")
TRSYL = op_class("TRSYL", ("pytensor.tensor.linalg.solvers.linear_control",
                           "pytensor.tensor._linalg.solve.linear_control"))

LAPACK_DTYPES = ("float32", "float64", "complex64", "complex128")
SORTS = {None: "UNSORTED", "lhp": "LEFT_HALF_PLANE", "rhp": "RIGHT_HALF_PLANE",
         "iuc": "INSIDE_UNIT_CIRCLE", "ouc": "OUTSIDE_UNIT_CIRCLE"}  # runtime constants


def real_dtype(dtype: str) -> str:
    """float64 for complex128, float32 for complex64; a real dtype itself."""
    return np.finfo(np.dtype(dtype)).dtype.name


def double_dtype(dtype: str) -> str:
    """The dtype NumPy's ``linalg`` computes in: complex128 or float64."""
    return "complex128" if is_complex(dtype) else "float64"


def check_lapack_dtype(node, dtype: str, real: bool = False) -> None:
    """Refuse what LAPACK cannot compute in (an integer-typed result, a real-typed
    result of complex inputs unless the result is ``real`` by nature: singular
    values)."""
    inputs_complex = any(is_complex(v.type.dtype) for v in node.inputs)
    if dtype not in LAPACK_DTYPES or (inputs_complex and not real
                                      and not is_complex(dtype)):
        raise UnsupportedOpError(
            f"{node.op} with inputs {[v.type.dtype for v in node.inputs]} has results "
            f"of dtype {dtype}, which LAPACK does not compute in (node {node})")


def operand(fn, var, dtype: str) -> sx.Expr:
    """``var``, cast to ``dtype`` if it is of another."""
    value = fn.expr(var)
    if var.type.dtype != dtype:
        value = sx.method(value, "astype", dtype_attr(dtype))
    return value


def option(value) -> sx.Expr:
    """An option as a literal: a bool, a string or None."""
    if value is None:
        return sx.name("None")
    return sx.string(value) if isinstance(value, str) else sx.literal(value)


def helper_call(fn, helper: str, *args, **options) -> cst.Call:
    return sx.call(fn.helper(helper), *args,
                   **{key: option(value) for key, value in options.items()})


def sort_option(fn, node) -> sx.Expr:
    """PyTensor's ``sort`` as the runtime's constant (``LEFT_HALF_PLANE``)."""
    sort = node.op.sort
    if sort not in SORTS:
        raise UnsupportedOpError(f"{node.op} with sort={sort!r} is not supported "
                                 f"(node {node})")
    return fn.helper(SORTS[sort])


def bind_results(fn, value, results, cast: bool = True) -> list[str]:
    """``a, b, c = value`` (``a = value`` for one); ``results`` gives, per value
    returned, ``(var, hint, dtype)``: the output it is (None for one the node does
    not return), a name hint and the dtype the helper returns it in.  An output of
    another dtype is bound to a cast.  Returns the names."""
    names = [fn.fresh(var.name if var is not None and var.name else hint, hint)
             for var, hint, _ in results]
    if len(names) == 1:
        fn.emit(sx.assign(names[0], value))
    else:
        fn.emit(sx.assign_many(names, value))
    for name, (var, hint, dtype) in zip(names, results, strict=True):
        if var is None:
            continue
        if var.type.dtype == dtype or not cast:
            fn.values[var] = sx.name(name)
        else:
            fn.bind(var, sx.method(sx.name(name), "astype", dtype_attr(var.type.dtype)),
                    hint=hint)
        if var.type.ndim:
            fn.contiguous.add(var)
    return names


# ---- NumPy's: SVD and Eig (computed in double precision) ------------------------


@register(SVD)
def lower_SVD(op, node, fn):
    (x,) = node.inputs
    check_lapack_dtype(node, node.outputs[0].type.dtype, real=not op.compute_uv)
    work = double_dtype(x.type.dtype)
    a = operand(fn, x, work)
    if not op.compute_uv:
        (s,) = node.outputs
        bind_results(fn, helper_call(fn, "svdvals", a),
                     [(s, "singular_values", real_dtype(work))])
        return
    u, s, vt = node.outputs
    bind_results(fn, helper_call(fn, "svd", a, full_matrices=op.full_matrices),
                 [(u, "u", work), (s, "s", real_dtype(work)), (vt, "vt", work)])


@register(Eig)
def lower_Eig(op, node, fn):
    (x,) = node.inputs
    w, v = node.outputs
    work = double_dtype(x.type.dtype)
    helper = "eig_complex" if is_complex(work) else "eig_real"
    value = helper_call(fn, helper, operand(fn, x, work))
    bind_results(fn, value, [(w, "eigenvalues", "complex128"),
                             (v, "eigenvectors", "complex128")])


# ---- SciPy's: Eigvalsh, QR, LU, Schur, QZ, TRSYL (in the input's precision) ----


@register(Eigvalsh)
def lower_Eigvalsh(op, node, fn):
    """SciPy's ``eigvalsh(a, lower=...)`` (syevr), or ``eigvalsh(a, b)`` (sygvd)."""
    (w,) = node.outputs
    dtype = w.type.dtype
    if dtype not in ("float32", "float64") or any(
            is_complex(var.type.dtype) for var in node.inputs):
        raise UnsupportedOpError(f"{node.op} of {[v.type.dtype for v in node.inputs]} "
                                 f"with results of dtype {dtype} is not supported "
                                 f"(node {node})")
    args = [operand(fn, var, dtype) for var in node.inputs]
    helper = "eigvalsh_generalized" if len(args) == 2 else "eigvalsh"
    fn.bind(w, helper_call(fn, helper, *args, lower=op.lower), hint="eigenvalues")
    fn.contiguous.add(w)


def _qr_dtype(node, fn) -> str:
    """The dtype QR's factors are computed and returned in.  PyTensor 2.38 types the
    factors of a complex matrix real (3.0 types them complex), while every mode of
    its returns the complex values: these are returned as they are when the entry
    returns them and nothing reads them.  A graph that computes on them is refused:
    PyTensor's C backend would compute on real numbers, its Python and Numba modes on
    complex ones."""
    dtype = node.outputs[0].type.dtype
    x_dtype = node.inputs[0].type.dtype
    factors = node.outputs[:-1] if node.op.pivoting else node.outputs
    if not is_complex(x_dtype) or is_complex(dtype):
        return dtype
    if all(fn.only_returned(var) for var in factors):
        return x_dtype
    raise UnsupportedOpError(
        f"{node.op} of a {x_dtype} matrix: PyTensor types its factors {dtype}, but "
        "computes them complex; transpile returns them as PyTensor does when the entry "
        f"returns them, and cannot compute on them (node {node})")


_QR_RESULTS = {  # mode -> the helper and its results but the pivots
    "full": ("qr_full", ["q", "r"]),
    "economic": ("qr_economic", ["q", "r"]),
    "r": ("qr_r", ["r"]),
    "raw": ("qr_raw", ["h", "tau", "r"]),
}


@register(QR)
def lower_QR(op, node, fn):
    (x,) = node.inputs
    dtype = _qr_dtype(node, fn)
    check_lapack_dtype(node, dtype)
    if op.mode not in _QR_RESULTS:
        raise UnsupportedOpError(f"QR with mode={op.mode!r} is not supported (node {node})")
    helper, hints = _QR_RESULTS[op.mode]
    outputs = list(node.outputs)
    pivots = outputs.pop() if op.pivoting else None
    results = [(var, hint, dtype) for var, hint in zip(outputs, hints, strict=True)]
    results.append((pivots, "pivots", "int32"))
    value = helper_call(fn, helper, operand(fn, x, dtype), pivoting=op.pivoting)
    bind_results(fn, value, results, cast=dtype == node.outputs[0].type.dtype)


@register(LU)
def lower_LU(op, node, fn):
    """``p, l, u = lu_decomposition(a)`` (``a = l[p] @ u``), then ``P @ L`` or ``P``
    if asked."""
    (x,) = node.inputs
    dtype = node.outputs[-1].type.dtype  # U's
    check_lapack_dtype(node, dtype)
    value = helper_call(fn, "lu_decomposition", operand(fn, x, dtype))
    if op.permute_l:
        permuted, upper = node.outputs
        rows, lower, _ = bind_results(fn, value, [(None, "p", "int32"), (None, "l", dtype),
                                                  (upper, "u", dtype)])
        fn.bind(permuted, helper_call(fn, "permuted_rows", sx.name(lower), sx.name(rows)),
                hint="pl")
        fn.contiguous.add(permuted)
        return
    perm, lower, upper = node.outputs
    rows = perm if op.p_indices else None
    names = bind_results(fn, value, [(rows, "p", "int32"), (lower, "l", dtype),
                                     (upper, "u", dtype)])
    if not op.p_indices:
        value = helper_call(fn, "permutation_matrix", sx.name(names[0]),
                            dtype_attr(perm.type.dtype))
        fn.bind(perm, value, hint="perm")
        fn.contiguous.add(perm)


@register(Schur)
def lower_Schur(op, node, fn):
    (x,) = node.inputs
    t, z = node.outputs
    dtype = t.type.dtype
    check_lapack_dtype(node, dtype)
    helper = "schur_complex" if is_complex(dtype) else "schur_real"
    value = sx.call(fn.helper(helper), operand(fn, x, dtype), sort=sort_option(fn, node))
    bind_results(fn, value, [(t, "schur_form", dtype), (z, "schur_vectors", dtype)])


@register(QZ)
def lower_QZ(op, node, fn):
    a, b = node.inputs
    dtype = node.outputs[0].type.dtype
    check_lapack_dtype(node, dtype)
    outputs = list(node.outputs)
    if op.return_eigenvalues:
        aa, bb, alpha, beta, q, z = outputs
    else:
        (aa, bb, q, z), alpha, beta = outputs, None, None
    complex_dtype = dtype if is_complex(dtype) else (
        "complex64" if dtype == "float32" else "complex128")
    helper = "qz_complex" if is_complex(dtype) else "qz_real"
    value = sx.call(fn.helper(helper), operand(fn, a, dtype), operand(fn, b, dtype),
                    sort=sort_option(fn, node))
    bind_results(fn, value, [(aa, "aa", dtype), (bb, "bb", dtype),
                             (alpha, "alpha", complex_dtype), (beta, "beta", dtype),
                             (q, "q", dtype), (z, "z", dtype)])


@register(TRSYL)
def lower_TRSYL(op, node, fn):
    (out,) = node.outputs
    dtype = out.type.dtype
    check_lapack_dtype(node, dtype)
    args = [operand(fn, var, dtype) for var in node.inputs]
    value = helper_call(fn, "solve_quasi_triangular_sylvester", *args)
    fn.bind(out, value, hint="solved")
    fn.contiguous.add(out)


# ---- BlockDiagonal: written out -----------------------------------------------------


@register(BlockDiagonal)
def lower_BlockDiagonal(op, node, fn):
    """``out = np.zeros(...)``, then one slice assignment per block."""
    (out,) = node.outputs
    lengths = [[dim_size(fn, var, d) for var in node.inputs] for d in (0, 1)]
    totals = [_sum(column) for column in lengths]
    target = fn.bind(out, sx.call("np.zeros", sx.tuple_(totals),
                                  dtype=dtype_attr(out.type.dtype)), hint="block_diag")
    fn.contiguous.add(out)
    for k, var in enumerate(node.inputs):
        starts = [_sum(column[:k]) for column in lengths]
        stops = [_sum(column[:k + 1]) if k + 1 < len(node.inputs) else None
                 for column in lengths]
        index = [sx.slice_(None if k == 0 else start, stop)
                 for start, stop in zip(starts, stops, strict=True)]
        fn.store(sx.subscript(target, index), fn.expr(var), var, 2, out.type.dtype,
                 "BlockDiagonal")


def _sum(lengths) -> sx.Expr:
    """``a + b + 3``, static lengths folded into one number; 0 for none."""
    static = sum(int(n.value) for n in lengths if isinstance(n, cst.Integer))
    dynamic = [n for n in lengths if not isinstance(n, cst.Integer)]
    terms = dynamic + ([sx.literal(static)] if static or not dynamic else [])
    return sx.chain("+", terms)
