"""Dense linear algebra (``pytensor.tensor.slinalg`` and ``nlinalg``): ``Cholesky``,
``SolveTriangular``, ``Solve``, ``CholeskySolve``, ``LUFactor``,
``PivotToPermutations``, ``LUFactorTridiagonal``, ``SolveLUFactorTridiagonal``,
``Det``, ``SLogDet``, ``MatrixInverse``, ``MatrixPinv``, ``Eigh``, ``EighGrad`` and
``Expm`` (the decompositions are ``decomp.py``'s).

Each node is one call of a helper from ``transpile/runtime/linalg.py``, with its
options spelled as keywords (``cholesky(K, lower=True)``).  The helpers work in one
float dtype, so operands of another dtype (integers, a float32 ``b`` against a
float64 ``A``) are cast to the output's dtype first, as PyTensor's ``perform`` does
through SciPy.  ``pt.linalg`` wraps most of these Ops in a ``Blockwise``, which
lowers to these same calls (inside batch loops when there are batch dimensions).
Complex matrices are taken by all but the Hermitian ``MatrixPinv``, ``Eigh`` and
``EighGrad`` (refused with a message saying so).
"""

from .. import syntax as sx
from ..compat import op_class
from ..dtypes import cast, dtype_attr, is_complex
from ..errors import UnsupportedOpError
from ..registry import register
from .decomp import bind_results

# None where this PyTensor version has no such Op (EighGrad is gone in PyTensor 3).
Cholesky = op_class("Cholesky")
CholeskySolve = op_class("CholeskySolve")
Det = op_class("Det")
Eigh = op_class("Eigh")
EighGrad = op_class("EighGrad")
Expm = op_class("Expm")
LUFactor = op_class("LUFactor")
LUFactorTridiagonal = op_class("LUFactorTridiagonal")
MatrixInverse = op_class("MatrixInverse")
MatrixPinv = op_class("MatrixPinv")
PivotToPermutations = op_class("PivotToPermutations")
SLogDet = op_class("SLogDet")
Solve = op_class("Solve")
SolveLUFactorTridiagonal = op_class("SolveLUFactorTridiagonal")
SolveTriangular = op_class("SolveTriangular")

_SOLVERS = {  # Solve's assume_a -> helper (and whether it reads one triangle)
    "gen": ("solve_general", False),
    "banded": ("solve_general", False),
    "sym": ("solve_symmetric", True),
    "her": ("solve_hermitian", True),
    "pos": ("solve_positive_definite", True),
    "tridiagonal": ("solve_tridiagonal", False),
}


def _check_real(node):
    if any(is_complex(v.type.dtype) for v in (*node.inputs, *node.outputs)):
        raise UnsupportedOpError(
            f"complex {type(node.op).__name__} is not supported yet (node {node}); its "
            "runtime helper in transpile/runtime/linalg.py is written for real matrices")


def _operand(fn, var, dtype: str) -> sx.Expr:
    """``var``, cast to ``dtype`` if it is of another."""
    value = fn.expr(var)
    if var.type.dtype != dtype:
        value = sx.method(value, "astype", dtype_attr(dtype))
    return value


def _call(fn, node, helper: str, *, inputs=None, uncast=(), complex_ok=False,
          **options) -> sx.Expr:
    """``helper(*inputs, **options)``, the inputs (``node``'s by default) cast to
    the first output's dtype, but those at the positions in ``uncast`` (pivots).
    ``complex_ok``: the helper is written for complex matrices too."""
    if not complex_ok:
        _check_real(node)
    dtype = node.outputs[0].type.dtype
    inputs = node.inputs if inputs is None else inputs
    args = [fn.expr(var) if k in uncast else _operand(fn, var, dtype)
            for k, var in enumerate(inputs)]
    kwargs = {k: sx.literal(v) for k, v in options.items()}
    return sx.call(fn.helper(helper), *args, **kwargs)


def _bind_array(fn, node, value, hint):
    (out,) = node.outputs
    fn.bind(out, value, hint=hint)
    fn.contiguous.add(out)  # every helper returns a fresh C-contiguous array


def _bind_all(fn, node, value, hints):
    """``a, b = value`` for a helper returning one value per output."""
    names = [fn.fresh(out.name or hint, hint)
             for out, hint in zip(node.outputs, hints, strict=True)]
    fn.emit(sx.assign_many(names, value))
    for out, name in zip(node.outputs, names, strict=True):
        fn.values[out] = sx.name(name)
        if out.type.ndim:
            fn.contiguous.add(out)


@register(Cholesky)
def lower_Cholesky(op, node, fn):
    _bind_array(fn, node, _call(fn, node, "cholesky", lower=op.lower, complex_ok=True),
                "chol")


@register(SolveTriangular)
def lower_SolveTriangular(op, node, fn):
    value = _call(fn, node, "solve_triangular", lower=op.lower, complex_ok=True,
                  unit_diagonal=op.unit_diagonal)
    _bind_array(fn, node, value, "solved")


@register(Solve)
def lower_Solve(op, node, fn):
    if op.assume_a not in _SOLVERS:
        raise UnsupportedOpError(
            f"Solve with assume_a={op.assume_a!r} is not supported (node {node})")
    helper, reads_triangle = _SOLVERS[op.assume_a]
    options = {"lower": op.lower} if reads_triangle else {}
    _bind_array(fn, node, _call(fn, node, helper, complex_ok=True, **options), "solved")


@register(CholeskySolve)
def lower_CholeskySolve(op, node, fn):
    _bind_array(fn, node, _call(fn, node, "cho_solve", lower=op.lower, complex_ok=True),
                "solved")


@register(LUFactor)
def lower_LUFactor(op, node, fn):
    _bind_all(fn, node, _call(fn, node, "lu_factor", complex_ok=True), ["lu", "pivots"])


@register(PivotToPermutations)
def lower_PivotToPermutations(op, node, fn):
    (pivots,) = node.inputs
    value = sx.call(fn.helper("permutation_from_pivots"), fn.expr(pivots),
                    inverse=sx.literal(op.inverse))
    _bind_array(fn, node, value, "permutation")


@register(LUFactorTridiagonal)
def lower_LUFactorTridiagonal(op, node, fn):
    _bind_all(fn, node, _call(fn, node, "tridiagonal_lu_factor", complex_ok=True),
              ["lu_dl", "lu_d", "lu_du", "lu_du2", "pivots"])


@register(SolveLUFactorTridiagonal)
def lower_SolveLUFactorTridiagonal(op, node, fn):
    value = _call(fn, node, "tridiagonal_lu_solve", uncast=(4,), complex_ok=True,
                  transposed=op.transposed)
    _bind_array(fn, node, value, "solved")


@register(MatrixInverse)
def lower_MatrixInverse(op, node, fn):
    _bind_array(fn, node, _call(fn, node, "inv", complex_ok=True), "inverse")


@register(MatrixPinv)
def lower_MatrixPinv(op, node, fn):
    helper = "pinv_hermitian" if op.hermitian else "pinv"
    _bind_array(fn, node, _call(fn, node, helper, complex_ok=not op.hermitian),
                "pseudo_inverse")


def _narrowed(value: sx.Expr, computed: str, dtype: str) -> sx.Expr:
    """``value``, which a helper computed in ``computed``, as the result's ``dtype``."""
    return value if dtype == computed else cast(value, dtype)


@register(Det)
def lower_Det(op, node, fn):
    (out,) = node.outputs
    # The helpers compute in float64 or complex128; a narrower result is cast back.
    helper, computed = (("det_complex", "complex128") if is_complex(out.type.dtype)
                        else ("det", "float64"))
    value = _call(fn, node, helper, complex_ok=True)
    fn.bind(out, _narrowed(value, computed, out.type.dtype), hint="determinant")


@register(SLogDet)
def lower_SLogDet(op, node, fn):
    """The sign and log |det|, computed as (float64, float64), or for a complex
    matrix as (complex128, float64), and cast to the outputs' dtypes (PyTensor
    2.38 types a complex matrix's log |det| complex, 3.0 real)."""
    complex_input = is_complex(node.outputs[0].type.dtype)
    helper = "slogdet_complex" if complex_input else "slogdet"
    computed = ("complex128" if complex_input else "float64", "float64")
    value = _call(fn, node, helper, complex_ok=True)
    dtypes = tuple(out.type.dtype for out in node.outputs)
    if dtypes == computed:
        _bind_all(fn, node, value, ["sign", "logabsdet"])
        return
    names = [fn.fresh(hint) for hint in ("sign64", "logabsdet64")]
    fn.emit(sx.assign_many(names, value))
    for out, name, hint, was in zip(node.outputs, names, ("sign", "logabsdet"), computed,
                                    strict=True):
        fn.bind(out, _narrowed(sx.name(name), was, out.type.dtype), hint=hint)


def _lower_triangle(op) -> bool:
    """Which triangle Eigh reads: ``UPLO`` in PyTensor 2.38, ``lower`` in 3."""
    uplo = getattr(op, "UPLO", None)
    return uplo == "L" if uplo is not None else bool(getattr(op, "lower", True))


@register(Eigh)
def lower_Eigh(op, node, fn):
    """Eigenvector signs are LAPACK's choice, and each routine and each triangle
    chooses its own: the call must be the one PyTensor's ``perform`` makes.  In
    2.38 that is NumPy's ``eigh(a, UPLO)``, syevd in double precision (Numba's
    ``np.linalg.eigh`` for the lower triangle, the same routine bound from LAPACK
    for the upper); in 3, SciPy's ``eigh(a, lower=..., driver=...)``, syevr (or
    syevd) in the input's precision, and sygvd for a matrix pair ``eigh(a, b)``."""
    _check_real(node)
    lower = _lower_triangle(op)
    w, v = node.outputs
    driver = getattr(op, "driver", None)  # PyTensor 3's, SciPy's
    work = w.type.dtype if driver is not None else "float64"
    a, *b = (_operand(fn, var, work) for var in node.inputs)
    if b:  # a v = w b v (PyTensor 3): SciPy's eigh(a, b), LAPACK's sygvd
        value = sx.call(fn.helper("eigh_generalized"), a, *b, lower=sx.literal(lower))
    elif driver is None and lower:
        value = sx.call(fn.helper("eigh"), a, lower=sx.literal(True))
    else:
        value = sx.call(fn.helper("eigh_lapack"), a, lower=sx.literal(lower),
                        relatively_robust=sx.literal(driver == "evr"))
    # (NumPy's float32 results are cast from float64.)
    bind_results(fn, value, [(w, "eigenvalues", work), (v, "eigenvectors", work)])


@register(EighGrad)
def lower_EighGrad(op, node, fn):
    # The gradient depends on the matrix only through its eigenvalues and vectors.
    value = _call(fn, node, "eigh_grad", inputs=node.inputs[1:],
                  lower=_lower_triangle(op))
    _bind_array(fn, node, value, "eigh_grad")


@register(Expm)
def lower_Expm(op, node, fn):
    (out,) = node.outputs
    dtype = out.type.dtype
    if dtype not in ("float32", "float64", "complex64", "complex128"):
        raise UnsupportedOpError(f"Expm with results of dtype {dtype} is not supported "
                                 f"(node {node})")
    value = sx.call(fn.helper("expm"), _operand(fn, node.inputs[0], dtype))
    _bind_array(fn, node, value, "exponential")
