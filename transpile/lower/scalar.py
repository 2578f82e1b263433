"""Scalar Ops: the element-level expressions inside ``Elemwise`` and ``Composite``.

Each lowering maps ``(op, args, node, fn)`` to one expression (a list of them for
multi-output Ops), where ``args`` are the expressions of the inputs' element values and
``node`` carries the dtypes.  Most are rows of a table; the few with real logic
(``Composite``, ``Clip``, casts, the special functions) have functions of their own.
"""

import contextlib

import libcst as cst
import numpy as np
import pytensor.scalar.basic as ps
import pytensor.scalar.math as psm
from pytensor.scalar.loop import ScalarLoop
from pytensor.tensor.math import MulWithoutZeros

try:
    from pytensor.tensor.xlogx import XlogX, XlogY0
except ImportError:  # PyTensor 3: xlogy is a symbolic Op that rewrites expand
    XlogX = XlogY0 = None

from .. import intforms
from .. import syntax as sx
from ..dtypes import (
    NATURAL,
    cast,
    convert,
    converts_exactly,
    is_complex,
    is_float,
    is_int,
    typed_literal,
)
from ..errors import UnsupportedOpError
from ..registry import register, register_scalar, scalar_lowering_for


def scalar_apply(op, args, node, fn) -> list[sx.Expr]:
    """Lower one scalar Op application; always returns a list of expressions."""
    lowering = scalar_lowering_for(op, node)
    if lowering.__module__.startswith("transpile."):  # a plugin's Ops are its own
        check_complex(op, node)
        args = plain_constants(op, args, node)
        args = upcast_args(op, args, node)
    result = lowering(op, list(args), node, fn)
    return list(result) if isinstance(result, (list, tuple)) else [result]


# The scalar Ops whose lowerings Numba compiles for complex numbers (checked one by
# one, tests/test_scalar.py): the arithmetic, the elementary functions of np.*, the
# parts of a complex number, equality, NumPy's maximum/minimum, and the structural
# Ops.  Any other with a complex input or output is refused at transpile time.
COMPLEX_OPS = (
    ps.Add, ps.Sub, ps.Mul, ps.TrueDiv, ps.Neg, ps.Pow, ps.Sqr, ps.Reciprocal, ps.Abs,
    ps.Exp, ps.Exp2, ps.Expm1, ps.Log, ps.Log2, ps.Log10, ps.Log1p, ps.Sqrt,
    ps.Cos, ps.Sin, ps.Tan, ps.ArcCos, ps.ArcSin, ps.ArcTan, ps.Cosh, ps.Sinh, ps.Tanh,
    ps.ArcCosh, ps.ArcSinh, ps.ArcTanh, ps.Conj, ps.Angle, ps.Real, ps.Imag, ps.Complex,
    ps.EQ, ps.NEQ, ps.IsNan, ps.IsInf, ps.ScalarMaximum, ps.ScalarMinimum,
    ps.Identity, ps.Second, ps.Switch, ps.Cast, ps.Composite, ScalarLoop, psm.Softplus,
    psm.Erf,
)


ARITHMETIC = (ps.Add, ps.Sub, ps.Mul, ps.TrueDiv, ps.IntDiv, ps.Mod, ps.Pow,
               ps.ScalarMaximum, ps.ScalarMinimum)


def upcast_args(op, args, node) -> list:
    """The integer and bool operands of arithmetic with a float or complex result,
    cast to the result's dtype first, as NumPy computes it: Numba multiplies a uint64
    by an int64 in int64 (PyTensor: float64), and an int8 by a float32 in float64."""
    dtype = out_dtype(node)
    if not isinstance(op, ARITHMETIC) or not (is_float(dtype) or is_complex(dtype)):
        return list(args)
    upcast = []
    for k, arg in enumerate(args):
        if is_float(in_dtype(node, k)) or is_complex(in_dtype(node, k)):
            upcast.append(arg)
        elif (value := _literal_int(arg)) is not None:
            upcast.append(typed_literal(value, dtype))  # ``2.0``, not ``np.float64(2)``
        else:
            upcast.append(cast(arg, dtype))
    return upcast


_PLAIN_CONSUMERS = (ps.Add, ps.Sub, ps.Mul, ps.ScalarMaximum, ps.ScalarMinimum, ps.Switch,
                    ps.Second, ps.LT, ps.GT, ps.LE, ps.GE, ps.EQ, ps.NEQ)


def _typed_constant(expr):
    """``(value, dtype)`` of a constant spelled in its own dtype (``np.int8(0)``,
    ``np.float32(0.5)``), else None."""
    if not (isinstance(expr, cst.Call) and len(expr.args) == 1
            and isinstance(expr.func, cst.Attribute) and isinstance(expr.func.value, cst.Name)
            and expr.func.value.value == "np"):
        return None
    dtype, inner = expr.func.attr.value, expr.args[0].value
    negative = isinstance(inner, cst.UnaryOperation) and isinstance(inner.operator, cst.Minus)
    number = inner.expression if negative else inner
    if isinstance(number, cst.Integer):
        value = int(number.value)
    elif isinstance(number, cst.Float):
        value = float(number.value)
    else:
        return None
    return (-value if negative else value), dtype


def plain_constants(op, args, node) -> list:
    """Constants written as the expression they appear in computes: ``0``, not
    ``np.int8(0)``, where the result is int64 (or a comparison of integers), and
    ``0.5``, not ``np.float32(0.5)``, where it is float64 (or compares float64s), when
    the plain literal is the same number (Numba's int64 and float64 literals)."""
    if not isinstance(op, _PLAIN_CONSUMERS):
        return list(args)
    dtypes = [in_dtype(node, k) for k in range(len(args))]
    comparison = isinstance(op, (ps.LT, ps.GT, ps.LE, ps.GE, ps.EQ, ps.NEQ))
    out = out_dtype(node)
    plain = list(args)
    for k, arg in enumerate(args):
        typed = _typed_constant(arg)
        if typed is None or (isinstance(op, ps.Switch) and k == 0):
            continue
        value, dtype = typed
        others = [d for j, d in enumerate(dtypes) if j != k
                  and not (isinstance(op, ps.Switch) and j == 0)]
        if isinstance(value, int) and is_int(dtype):
            # an int64 literal changes no integer result but uint64's (Numba: float64)
            fits = all(is_int(d) and d != "uint64" for d in others)
            if fits and (out == "int64" or (comparison and out == "bool")):
                plain[k] = sx.literal(value)
        elif isinstance(value, float) and dtype == "float32" and float(
                np.float32(value)) == value:  # 0.5, not 0.1 (a float32 0.1 is not 0.1)
            if out == "float64" or (comparison and all(d == "float64" for d in others)):
                plain[k] = sx.literal(value)
    return plain


def check_complex(op, node) -> None:
    """Refuse a scalar Op Numba cannot compute for the complex numbers it is given."""
    dtypes = [v.type.dtype for v in (*node.inputs, *node.outputs)]
    complex_dtype = next((d for d in dtypes if is_complex(d)), None)
    if complex_dtype is not None and not isinstance(op, COMPLEX_OPS):
        raise UnsupportedOpError(
            f"{type(op).__name__} of {complex_dtype} values is not supported: Numba has "
            "no complex implementation of it")


def out_dtype(node, i: int = 0) -> str:
    return node.outputs[i].type.dtype


def in_dtype(node, i: int) -> str:
    return node.inputs[i].type.dtype


# ---- operators ----------------------------------------------------------------

# On bools PyTensor's add is "or" and its mul "and"; Python's + and * would count.
_CHAINS = {ps.Add: ("+", "|"), ps.Mul: ("*", "&")}
_BINARY = {ps.Sub: "-", ps.Mod: "%"}
_COMPARISONS = {ps.LT: "<", ps.GT: ">", ps.LE: "<=", ps.GE: ">=", ps.EQ: "==", ps.NEQ: "!="}
_BITWISE = {ps.AND: "&", ps.OR: "|", ps.XOR: "^"}


# Python's compiler recurses over nested expressions and gives up (RecursionError,
# at import) a few hundred levels down: longer sums are split into partial sums of
# this many terms, and an inlined expression deeper than MAX_INLINE_DEPTH gets a local.
CHAIN_CHUNK = 32
MAX_INLINE_DEPTH = 32


# int64 operators through the helpers that wrap around on overflow as NumPy's (for
# scalar code that reads data: int64_wrapping)
_WRAPPING = {"+": "wrapping_add", "-": "wrapping_sub", "*": "wrapping_mul"}


def _wrapped(fn, node) -> bool:
    return fn.wrapping and out_dtype(node) == "int64"


def _wrapping_call(fn, symbol, args) -> sx.Expr:
    """``a + b + c`` as ``wrapping_add(wrapping_add(a, b), c)``."""
    value = args[0]
    for arg in args[1:]:
        value = sx.call(fn.helper(_WRAPPING[symbol]), value, arg)
    return value


def _a_length(fn, var) -> bool:
    """Whether the integer ``var`` is a length, an index or a sum of them (its form is
    lengths and numbers only), which no array makes large enough to overflow."""
    if getattr(var.type, "ndim", 0):
        return False
    form = fn.module.plan.facts.form(var)
    return form is not None and all(key == 1 or key[0] == "len" for key in form)


@contextlib.contextmanager
def int64_wrapping(fn, node):
    """Within the block, the scalar code of ``node`` does its int64 arithmetic
    wrapping around on overflow (``wrapping_add``, ...) if it reads integers other
    than lengths: Numba's signed ``+``, ``-`` and ``*`` tell LLVM they never
    overflow, which then simplifies ``(x * x) % x`` to 0, where NumPy's result is
    ``x * x`` wrapped around, mod ``x``."""
    before = fn.wrapping
    fn.wrapping = any(is_int(v.type.dtype) and not _a_length(fn, v) for v in node.inputs)
    try:
        yield
    finally:
        fn.wrapping = before


def _chain_lowering(symbol):
    def lower(op, args, node, fn):
        if len(args) == 1:
            return args[0]
        if symbol in _WRAPPING and _wrapped(fn, node):
            def combine(parts):
                return _wrapping_call(fn, symbol, parts)
        else:
            def combine(parts):
                return sx.chain(symbol, parts)
        args = list(args)
        while len(args) > CHAIN_CHUNK:
            partial = fn.fresh("partial")
            fn.emit(sx.assign(partial, combine(args[:CHAIN_CHUNK])))
            args = [sx.name(partial), *args[CHAIN_CHUNK:]]
        return combine(args)

    return lower


def _arithmetic_chain_lowering(symbols):
    arithmetic, logical = (_chain_lowering(s) for s in symbols)

    def lower(op, args, node, fn):
        return (logical if out_dtype(node) == "bool" else arithmetic)(op, args, node, fn)

    return lower


def _binary_lowering(symbol):
    def lower(op, args, node, fn):
        if symbol in _WRAPPING and _wrapped(fn, node):
            return _wrapping_call(fn, symbol, args)
        return sx.binop(symbol, args[0], args[1])

    return lower


def _comparison_lowering(symbol):
    def lower(op, args, node, fn):
        return sx.compare(symbol, args[0], args[1])

    return lower


for _table, _factory in (
    (_CHAINS, _arithmetic_chain_lowering),
    (_BINARY, _binary_lowering),
    (_COMPARISONS, _comparison_lowering),
    (_BITWISE, _chain_lowering),
):
    for _cls, _symbol in _table.items():
        register_scalar(_cls)(_factory(_symbol))


@register_scalar(ps.Pow)
def scalar_Pow(op, args, node, fn):
    if is_complex(out_dtype(node)):  # Numba's complex power of zero is NaN
        return sx.call(fn.helper("complex_power"), *args)
    return sx.binop("**", *args)


def _literal_int(expr) -> int | None:
    """The value of an integer literal (``3``, ``-1``, ``np.int8(2)``), else None."""
    if isinstance(expr, cst.Call) and len(expr.args) == 1:
        expr = expr.args[0].value
    if isinstance(expr, cst.Integer):
        return int(expr.value)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus) \
            and isinstance(expr.expression, cst.Integer):
        return -int(expr.expression.value)
    return None


@register_scalar(ps.IntDiv)
def scalar_IntDiv(op, args, node, fn):
    # Numba's int64 floor division gives 0 for INT64_MIN // -1 (NumPy: INT64_MIN);
    # narrower integers are divided in int64 and wrap around when cast back.
    if out_dtype(node) == "int64" and _literal_int(args[1]) in (None, -1):
        return sx.call(fn.helper("int64_floor_divide"), *args)
    return sx.binop("//", *args)


@register_scalar(ps.TrueDiv)
def scalar_TrueDiv(op, args, node, fn):
    if is_complex(out_dtype(node)):  # Numba's raises ZeroDivisionError for 0j
        return sx.call(fn.helper("complex_divide"), *args)
    return sx.binop("/", *args)


@register_scalar(ps.Neg)
def scalar_Neg(op, args, node, fn):
    if _wrapped(fn, node):
        return _wrapping_call(fn, "-", [sx.literal(0), args[0]])
    return sx.unary("-", args[0])


@register_scalar(ps.Invert)
def scalar_Invert(op, args, node, fn):
    return sx.unary("not" if in_dtype(node, 0) == "bool" else "~", args[0])


@register_scalar(ps.Sqr)
def scalar_Sqr(op, args, node, fn):
    if out_dtype(node) == "bool":
        return args[0]  # p and p
    if _wrapped(fn, node):
        return _wrapping_call(fn, "*", [args[0], args[0]])
    return sx.binop("*", args[0], args[0])


@register_scalar(ps.Reciprocal)
def scalar_Reciprocal(op, args, node, fn):
    if is_complex(out_dtype(node)):
        return sx.call(fn.helper("complex_divide"), typed_literal(1, out_dtype(node)),
                       args[0])
    return sx.binop("/", typed_literal(1, out_dtype(node)), args[0])


@register_scalar(ps.Abs)
def scalar_Abs(op, args, node, fn):
    if in_dtype(node, 0) == "bool":
        return args[0]  # abs(True) would be the integer 1
    return sx.call("abs", args[0])


@register_scalar(ps.Identity)
def scalar_Identity(op, args, node, fn):
    return args[0]


@register_scalar(ps.Second)
def scalar_Second(op, args, node, fn):
    return args[1]


@register_scalar(ps.Cast)
def scalar_Cast(op, args, node, fn):
    return convert(args[0], in_dtype(node, 0), out_dtype(node))


@register_scalar(ps.Switch)
def scalar_Switch(op, args, node, fn):
    return sx.ifexp(args[0], args[1], args[2])


@register_scalar(ps.Clip)
def scalar_Clip(op, args, node, fn):
    # As PyTensor's C code: NaN in x propagates, the bounds are tested in order.
    x, low, high = args
    return sx.ifexp(sx.compare("<", x, low), low,
                    sx.ifexp(sx.compare(">", x, high), high, x))


def _extremum(np_name, py_name):
    def lower(op, args, node, fn):
        # np.maximum propagates NaN as PyTensor does; integers read better with max.
        dtype = out_dtype(node)
        if is_float(dtype) or is_complex(dtype):
            return sx.call(f"np.{np_name}", *args)
        if dtype == "bool":  # the larger of two truth values is either of them
            return sx.boolop("or" if py_name == "max" else "and", *args)
        # Numba's max has no (bool, int) signature: a bool is read as the integer
        args = [cast(a, dtype) if in_dtype(node, k) == "bool" else a
                for k, a in enumerate(args)]
        return sx.call(py_name, *args)

    return lower


@register_scalar(MulWithoutZeros)
def scalar_MulWithoutZeros(op, args, node, fn):
    """The product, a zero operand standing for "nothing yet" (the identity of
    ``ProdWithoutZeros``, whose reduction starts at 0)."""
    x, y = args
    zero = sx.literal(0)
    return sx.ifexp(sx.compare("==", x, zero), y,
                    sx.ifexp(sx.compare("==", y, zero), x, sx.binop("*", x, y)))


register_scalar(ps.ScalarMaximum)(_extremum("maximum", "max"))
register_scalar(ps.ScalarMinimum)(_extremum("minimum", "min"))


# ---- functions ------------------------------------------------------------------

# Op -> (math spelling for real arguments, numpy spelling otherwise).  Numba keeps
# float32 arguments float32 through both; math reads more like hand-written code.
_FUNCTIONS = {
    ps.Exp: ("math.exp", "np.exp"),
    ps.Exp2: (None, "np.exp2"),
    ps.Expm1: ("math.expm1", "np.expm1"),
    ps.Log: ("math.log", "np.log"),
    ps.Log2: ("math.log2", "np.log2"),
    ps.Log10: ("math.log10", "np.log10"),
    ps.Log1p: ("math.log1p", "np.log1p"),
    ps.Sqrt: ("math.sqrt", "np.sqrt"),
    ps.Cos: ("math.cos", "np.cos"),
    ps.Sin: ("math.sin", "np.sin"),
    ps.Tan: ("math.tan", "np.tan"),
    ps.ArcCos: ("math.acos", "np.arccos"),
    ps.ArcSin: ("math.asin", "np.arcsin"),
    ps.ArcTan: ("math.atan", "np.arctan"),
    ps.Cosh: ("math.cosh", "np.cosh"),
    ps.Sinh: ("math.sinh", "np.sinh"),
    ps.Tanh: ("math.tanh", "np.tanh"),
    ps.ArcCosh: ("math.acosh", "np.arccosh"),
    ps.ArcSinh: ("math.asinh", "np.arcsinh"),
    ps.ArcTanh: ("math.atanh", "np.arctanh"),
    ps.ArcTan2: ("math.atan2", "np.arctan2"),
    ps.Deg2Rad: (None, "np.deg2rad"),
    ps.Rad2Deg: (None, "np.rad2deg"),
    ps.Ceil: (None, "np.ceil"),  # math.ceil/floor return ints
    ps.Floor: (None, "np.floor"),
    ps.Trunc: (None, "np.trunc"),
    ps.RoundHalfToEven: (None, "np.rint"),
    ps.Sign: (None, "np.sign"),
    ps.IsNan: (None, "np.isnan"),
    ps.IsInf: (None, "np.isinf"),
    ps.Conj: (None, "np.conj"),
    ps.Angle: (None, "np.angle"),
    psm.Erfc: ("math.erfc", None),
    psm.Gamma: ("math.gamma", None),
    psm.GammaLn: ("math.lgamma", None),
}


def _function_lowering(math_name, np_name):
    def lower(op, args, node, fn):
        real = not any(is_complex(in_dtype(node, i)) for i in range(len(args)))
        if math_name and (real or np_name is None):
            return sx.call(math_name, *args)
        return sx.call(np_name, *args)

    return lower


for _cls, (_math, _np) in _FUNCTIONS.items():
    register_scalar(_cls)(_function_lowering(_math, _np))


@register_scalar(psm.Erf)
def scalar_Erf(op, args, node, fn):
    if is_complex(in_dtype(node, 0)):  # Numba's math.erf is real only
        return sx.call(fn.helper("erf_complex"), args[0])
    return sx.call("math.erf", args[0])


@register_scalar(ps.Sign)
def scalar_Sign(op, args, node, fn):
    # Numba's np.sign reads an unsigned integer as signed (sign(65535) is -1 for
    # uint16): an unsigned number's sign is whether it is positive.
    if in_dtype(node, 0).startswith("uint"):
        return cast(sx.compare(">", args[0], sx.literal(0)), out_dtype(node))
    return sx.call("np.sign", args[0])


@register_scalar(ps.Exp)
def scalar_Exp(op, args, node, fn):
    if is_complex(in_dtype(node, 0)):  # Numba's exp(inf + 0j) is inf + nanj
        return sx.call(fn.helper("complex_exp"), args[0])
    return sx.call("math.exp", args[0])


@register_scalar(psm.Softplus)
def scalar_Softplus(op, args, node, fn):
    # The rewrites make log1p(exp(z)) a softplus, complex z included.
    if is_complex(in_dtype(node, 0)):
        return sx.call("np.log1p", sx.call(fn.helper("complex_exp"), args[0]))
    return sx.call(fn.helper("softplus"), args[0])


@register_scalar(ps.Tanh)
def scalar_Tanh(op, args, node, fn):
    if is_complex(in_dtype(node, 0)):  # Numba's overflows to NaN for a large real part
        return sx.call(fn.helper("complex_tanh"), args[0])
    return sx.call("math.tanh", args[0])


@register_scalar(ps.RoundHalfAwayFromZero)
def scalar_RoundHalfAwayFromZero(op, args, node, fn):
    return sx.call(fn.helper("round_half_away_from_zero"), args[0])


@register_scalar(ps.Real)
def scalar_Real(op, args, node, fn):
    return sx.attr(args[0], "real")


@register_scalar(ps.Imag)
def scalar_Imag(op, args, node, fn):
    return sx.attr(args[0], "imag")


@register_scalar(ps.Complex)
def scalar_Complex(op, args, node, fn):
    return sx.call("complex", *args)


# Special functions that Numba's math lacks: plain-numba helpers from
# transpile/runtime/special.py, copied into the generated module when used.
_HELPERS = {
    psm.Sigmoid: "sigmoid",
    psm.Log1mexp: "log1mexp",
    psm.Erfcx: "erfcx",
    psm.Erfinv: "erfinv",
    psm.Erfcinv: "erfcinv",
    psm.Psi: "digamma",
    psm.TriGamma: "trigamma",
    XlogX: "xlogx",
    XlogY0: "xlogy0",
    psm.GammaInc: "gammainc",
    psm.GammaIncC: "gammaincc",
    psm.GammaU: "gammau",
    psm.GammaL: "gammal",
    psm.BetaInc: "betainc",
    psm.I0: "i0",
    psm.I1: "i1",
    psm.Log1pmx if hasattr(psm, "Log1pmx") else None: "log1pmx",
}


def _helper_lowering(helper_name):
    def lower(op, args, node, fn):
        return sx.call(fn.helper(helper_name), *args)

    return lower


def register_helpers(table: dict) -> None:
    """Register scalar Ops lowered to runtime helpers that exist."""
    from ..runtime import RuntimeLibrary

    available = set(RuntimeLibrary().names())
    for cls, helper_name in table.items():
        if cls is not None and helper_name in available:
            register_scalar(cls)(_helper_lowering(helper_name))


register_helpers(_HELPERS)


# ---- inner graphs -------------------------------------------------------------


def is_atomic(expr: sx.Expr) -> bool:
    return isinstance(expr, (cst.Name, cst.Integer, cst.Float, cst.Attribute)) or (
        isinstance(expr, cst.Subscript)
    )


def _hint(var) -> str:
    name = var.name or ""
    # Composite's auto-generated names (t10, o0, i1) say nothing: use the Op's name.
    if not name or (name[0] in "toi" and name[1:].isdigit()):
        name = getattr(var.owner.op, "name", None) or type(var.owner.op).__name__.lower()
    return name


# Numba computes narrow-integer arithmetic in int64 where NumPy wraps around in the
# narrow dtype: an intermediate result of these Ops is cast back to its dtype.
_MAY_OVERFLOW = (ps.Add, ps.Sub, ps.Mul, ps.Neg, ps.Sqr, ps.Pow, ps.IntDiv, ps.Abs,
                 ps.Composite)


def _wraps_around(op, dtype: str) -> bool:
    return isinstance(op, _MAY_OVERFLOW) and is_int(dtype) and dtype not in NATURAL


_SOFTPLUS_KINDS = ("softplus", "softplus_neg", "sigmoid")


def _softplus_groups(nodes) -> dict:
    """``softplus(x)``, ``softplus(-x)`` and ``sigmoid(x)`` of one float ``x`` (a
    logistic loss and its gradient): when two or more of them are computed, one call
    of the ``softplus_sigmoid`` helper gives all three from one ``exp`` and one
    ``log1p``, where separately they take up to three of each.  Maps each of their
    results to ``(x, {kind: result})``."""
    groups: dict = {}
    for node in nodes:
        if len(node.inputs) != 1:
            continue
        (u,) = node.inputs
        if u.type.dtype not in ("float32", "float64") \
                or node.outputs[0].type.dtype != u.type.dtype:
            continue
        if isinstance(node.op, psm.Softplus):
            neg = u.owner is not None and isinstance(u.owner.op, ps.Neg)
            base, kind = (u.owner.inputs[0], "softplus_neg") if neg else (u, "softplus")
        elif isinstance(node.op, psm.Sigmoid):
            base, kind = u, "sigmoid"
        else:
            continue
        if base.type.dtype == u.type.dtype:
            groups.setdefault(base, {}).setdefault(kind, node.outputs[0])
    return {var: (base, members) for base, members in groups.items() if len(members) > 1
            for var in members.values()}


# Ops spelled as operators or cheap builtins; every other scalar Op is a function call
# (math.exp, a helper) whose result gets a local when an inner graph makes several.
_OPERATORS = (ps.Add, ps.Sub, ps.Mul, ps.TrueDiv, ps.IntDiv, ps.Mod, ps.Neg, ps.Sqr,
              ps.Abs, ps.Pow, ps.Reciprocal, ps.Sign, ps.Identity, ps.Cast, ps.Second,
              ps.Switch, ps.Clip, ps.Maximum, ps.Minimum, ps.LogicalComparison,
              ps.BinaryBitOp, ps.Invert, ps.Real, ps.Imag, ps.Complex, ps.Composite)


def _is_call(op, expr) -> bool:
    return not isinstance(op, _OPERATORS) and isinstance(expr, cst.Call)


def scalar_graph(inputs, outputs, args, fn, forms=None) -> list[sx.Expr]:
    """Lower a scalar inner graph.  Values used once are inlined into their consumer;
    values used more than once get a local name in the current block.

    ``forms``: the inputs' values as integer forms (``transpile/intforms.py``), for a
    graph of lengths: a Switch, max or min the forms decide is its branch, a decided
    comparison its truth, and a value they show to be linear in the inputs is written
    as such (``n - 1``), however PyTensor spelled it.

    Where the graph calls more than one function, each call's result gets a local, so
    the calls are made in the graph's topological order, the order PyTensor's Numba
    mode makes them: the speed of a loop of libm calls depends on their order and on
    the data (docs/performance.md), and in this order it is PyTensor's."""
    from pytensor.graph.basic import Constant

    from ..compat import io_toposort

    values = dict(zip(inputs, args, strict=True))
    depths: dict = {}  # how deep each inlined value's expression nests, roughly
    nodes = io_toposort(inputs, outputs)
    uses, consumed = _uses(nodes, outputs)

    def value(var):
        if var in values:
            return values[var]
        if isinstance(var, Constant):
            return typed_literal(var.data, var.type.dtype)
        raise KeyError(var)

    shared = _softplus_groups(nodes)
    ordered = sum(not isinstance(node.op, _OPERATORS) for node in nodes) > 1
    decided = _Decided(inputs, forms, args) if forms is not None else None
    for node in nodes:
        group = shared.get(node.outputs[0])
        if group is not None:  # softplus(x), softplus(-x), sigmoid(x) from one call
            if node.outputs[0] not in values:
                values.update(_softplus_call(fn, *group, value))
            continue
        exprs = decided and decided.value(node, value)
        if exprs is None:
            args = [value(v) if not isinstance(v, Constant)
                    else in_context(v, node.op, node.inputs) for v in node.inputs]
            exprs = scalar_apply(node.op, args, node, fn)
        depth = min(CHAIN_CHUNK, len(node.inputs)) + max(
            (depths.get(v, 0) for v in node.inputs), default=0)
        for var, expr in zip(node.outputs, exprs, strict=True):
            if var in consumed and _wraps_around(node.op, var.type.dtype):
                expr = cast(expr, var.type.dtype)
            deep = depth > MAX_INLINE_DEPTH
            call = ordered and _is_call(node.op, expr)
            if (uses.get(var, 0) > 1 or deep or call) and not is_atomic(expr):
                local = fn.fresh(_hint(var))
                fn.emit(sx.assign(local, expr))
                expr = sx.name(local)
            depths[var] = 0 if is_atomic(expr) else depth
            values[var] = expr
    return [value(v) for v in outputs]


# Operations whose constant operands can be spelled in the dtype they compute in:
# the result is the same (the constant converts exactly, the operation upcasts to it).
_UPCASTING = (ps.Add, ps.Sub, ps.Mul, ps.TrueDiv, ps.Maximum, ps.Minimum, ps.LT, ps.GT,
              ps.LE, ps.GE, ps.EQ, ps.NEQ, ps.Switch)


def in_context(var, op, inputs) -> sx.Expr:
    """The 0-d (or all-broadcast) constant ``var``, one of the ``inputs`` of the
    scalar operation ``op``, spelled in the dtype ``op`` computes in when that is
    float64 or int64 and the value converts exactly: ``x > 0.0`` for an int8 zero,
    ``-np.inf`` for a float32 one in a float64 switch, not ``np.int8(0)``,
    ``np.float32(-np.inf)``."""
    dtype = var.type.dtype
    operands = inputs[1:] if isinstance(op, ps.Switch) else inputs
    if isinstance(op, _UPCASTING) and var in operands and dtype != "bool":
        target = ps.upcast(*(v.type.dtype for v in operands))
        if target != dtype and (target == "float64" or (target == "int64" and is_int(dtype))) \
                and converts_exactly(var.data, target):
            return typed_literal(np.asarray(var.data).astype(target), target)
    return typed_literal(var.data, dtype)


def _uses(nodes, outputs) -> tuple[dict, set]:
    """How often each variable is read (a returned one once more), and the variables
    another inner node reads."""
    uses: dict = {}
    for node in nodes:
        for var in node.inputs:
            uses[var] = uses.get(var, 0) + 1
    consumed = set(uses)
    for var in outputs:
        uses[var] = uses.get(var, 0) + 1
    return uses, consumed


def _softplus_call(fn, base, members, value) -> dict:
    """``softplus(x), softplus(-x), sigmoid(x)`` (those of them the graph uses) from one
    call of the runtime helper: their values, as locals."""
    names = [fn.fresh(kind) if kind in members else "_" for kind in _SOFTPLUS_KINDS]
    fn.emit(sx.assign_many(names, sx.call(fn.helper("softplus_sigmoid"), value(base))))
    return {members[kind]: sx.name(name)
            for kind, name in zip(_SOFTPLUS_KINDS, names, strict=True) if kind in members}


class _Decided:
    """The integer forms of a scalar graph's values, as ``scalar_graph`` lowers it."""

    def __init__(self, inputs, forms, args):
        self.forms = {v: f for v, f in zip(inputs, forms, strict=True) if f is not None}
        self.truths: dict = {}
        self.conditions: dict = {}
        self.atoms: dict = {}  # term -> (an input's expression, the form's constant)
        for form, arg in zip(forms, args, strict=True):
            terms = [t for t in (form or {}) if t != 1]
            if len(terms) == 1 and form[terms[0]] == 1:
                offset = form.get(1, 0)
                best = self.atoms.get(terms[0])
                if best is None or abs(offset) < abs(best[1]):
                    self.atoms[terms[0]] = (arg, offset)

    def value(self, node, value) -> list | None:
        """The node's value when its inputs' forms decide it, else None."""
        if len(node.outputs) != 1:
            return None
        (out,) = node.outputs
        dtype = out.type.dtype
        ins = [self.forms.get(v) if v in self.forms else intforms._constant_form(v)
               for v in node.inputs]
        bools = [self.truths.get(v) if v in self.truths else
                 (intforms._constant_truth(v) if hasattr(v, "data") else None)
                 for v in node.inputs]
        form, truth, choice = intforms.decide(node.op, ins, bools,
                                              self.conditions.get(node.inputs[0]))
        intforms.note(node, ins, form, truth, self.forms, self.truths, self.conditions)
        if choice is not None:
            chosen = node.inputs[choice]
            if hasattr(chosen, "data"):
                return [typed_literal(chosen.data, dtype)]
            expr = value(chosen)
            return [expr if chosen.type.dtype == dtype else cast(expr, dtype)]
        if truth is not None and dtype == "bool":
            return [sx.literal(truth)]
        if form is not None and dtype == "int64":
            expr = self.linear(form)
            return None if expr is None else [expr]
        return None

    def linear(self, form) -> sx.Expr | None:
        """``form`` written over the inputs (``n - 1``), if its terms are theirs."""
        const, parts = form.get(1, 0), []
        for term, k in form.items():
            if term == 1 or k == 0:
                continue
            if term not in self.atoms:
                return None
            expr, offset = self.atoms[term]
            const -= k * offset
            parts.append((k, expr))
        result = None
        for k, expr in parts:
            piece = expr if abs(k) == 1 else sx.binop("*", sx.literal(abs(k)), expr)
            if result is None:
                result = piece if k > 0 else sx.unary("-", piece)
            else:
                result = sx.binop("+" if k > 0 else "-", result, piece)
        if result is None:
            return sx.literal(const)
        if const:
            result = sx.binop("+" if const > 0 else "-", result, sx.literal(abs(const)))
        return result


@register_scalar(ps.Composite)
def scalar_Composite(op, args, node, fn):
    forms = None
    if all(getattr(v.type, "ndim", None) == 0 for v in node.inputs):  # 0-d tensors
        forms = [fn.module.plan.facts.form(v) for v in node.inputs]
        if not any(forms):
            forms = None
    return scalar_graph(op.fgraph.inputs, op.fgraph.outputs, args, fn, forms)


# ---- scalar Ops applied directly in the graph (ScalarType variables) ---------------


def scalar_result(expr: sx.Expr, dtype: str, input_dtypes) -> sx.Expr:
    """A scalar result cast to its dtype where Numba's arithmetic may give another:
    a dtype it never computes in (int8, float32 from a mix), or one no input has
    (float64 from int8 * uint64, which Numba computes as int64)."""
    if dtype in NATURAL and (dtype == "bool" or dtype in input_dtypes):
        return expr
    return cast(expr, dtype)


@register(ps.ScalarOp)
def lower_ScalarOp(op, node, fn):
    with int64_wrapping(fn, node):
        exprs = scalar_apply(op, [fn.expr(v) for v in node.inputs], node, fn)
    dtypes = [v.type.dtype for v in node.inputs]
    for var, expr in zip(node.outputs, exprs, strict=True):
        fn.bind(var, scalar_result(expr, var.type.dtype, dtypes), hint=_hint(var))
