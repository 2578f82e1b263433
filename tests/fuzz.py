"""A seeded generator of small random PyTensor graphs, for the differential test
(tests/test_fuzz.py).

``random_case(seed)`` builds a few inputs (every dtype: bool, signed and unsigned
integers, floats, complex; 0-d to 3-d, some dimensions statically broadcastable) with
values that include integer extremes, 0, -1, nan and inf, then a handful of
expressions over them: elementwise chains of scalar Ops with broadcasting and
PyTensor's upcasting, casts, reductions over random axes, basic, advanced and
boolean indexing, set/inc_subtensor, dot and matmul (integer ones included), and a
small scan.  Every expression is built only from Ops PyTensor accepts for its
dtypes; values that PyTensor's own evaluation rejects (an integer to a negative
power) are avoided, so each expression has a reference value to compare with.
"""

from dataclasses import dataclass, field

import numpy as np
import pytensor
import pytensor.tensor as pt

INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
FLOATS = ("float32", "float64")
COMPLEX = ("complex64", "complex128")
DTYPES = ("bool", *INTS, *FLOATS, *COMPLEX)


@dataclass
class Case:
    """Inputs, their values and the expressions of one random graph group."""

    seed: int
    inputs: list = field(default_factory=list)
    values: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    recipes: list = field(default_factory=list)  # how each output was made, for reports


def kind(dtype: str) -> str:
    return "b" if dtype == "bool" else np.dtype(dtype).kind


def special_values(dtype: str) -> np.ndarray:
    """The values each input draws from besides ordinary ones: extremes, 0, 1, -1,
    nan, inf, -0.0."""
    k = kind(dtype)
    if k == "b":
        return np.array([True, False])
    if k in "iu":
        info = np.iinfo(dtype)
        values = [info.min, info.max, 0, 1, info.max - 1, 2, 3]
        if k == "i":
            values += [-1, info.min + 1, -2]
        return np.array(values, dtype=dtype)
    values = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 0.5, 1e30, -3.25,
              np.finfo(dtype if k == "f" else "float32").tiny]
    if k == "c":
        return np.array([complex(v, w) for v, w in zip(values, values[3:] + values[:3],
                                                       strict=True)], dtype=dtype)
    return np.array(values, dtype=dtype)


def random_values(rng, dtype: str, shape) -> np.ndarray:
    k = kind(dtype)
    if k == "b":
        ordinary = rng.random(shape) < 0.5
    elif k in "iu":
        info = np.iinfo(dtype)
        ordinary = rng.integers(max(info.min, -50), min(info.max, 50), size=shape,
                                endpoint=True).astype(dtype)
    elif k == "f":
        ordinary = rng.normal(scale=3.0, size=shape).astype(dtype)
    else:
        ordinary = (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dtype)
    special = special_values(dtype)
    take = rng.random(shape) < 0.3
    picked = special[rng.integers(0, len(special), size=shape)]
    return np.where(take, picked, ordinary).astype(dtype)


class Builder:
    """Grows expressions from a pool of variables (inputs and earlier results)."""

    def __init__(self, seed: int, n_outputs: int):
        self.rng = np.random.default_rng(seed)
        self.case = Case(seed)
        self.n_outputs = n_outputs
        self.n, self.m, self.p = (int(v) for v in self.rng.integers(2, 5, size=3))
        self.pool: list = []
        self.shapes: dict = {}  # variable -> the shape of its value

    # ---- inputs -----------------------------------------------------------------
    def add_input(self, dtype: str, ndim: int) -> None:
        full = (self.n, self.m, self.p)[3 - ndim:]  # right-aligned: they broadcast
        shape = list(full)
        static = [None] * ndim
        for d in range(ndim):
            if self.rng.random() < 0.2:
                shape[d], static[d] = 1, 1  # broadcastable
        var = pt.tensor(f"x{len(self.case.inputs)}", dtype=dtype, shape=tuple(static))
        value = random_values(self.rng, dtype, tuple(shape))
        if ndim == 0:
            value = value[()]
        self.case.inputs.append(var)
        self.case.values.append(value)
        self.pool.append((var, f"{var.name}:{dtype}{tuple(shape)}"))

    def pick(self, pred=lambda v: True):
        choices = [item for item in self.pool if pred(item[0])]
        return choices[int(self.rng.integers(len(choices)))] if choices else None

    # ---- expressions --------------------------------------------------------------
    def grow(self):
        """One new expression from the pool (None when the chosen one does not apply)."""
        makers = [self.unary, self.binary, self.binary, self.cast, self.reduce,
                  self.index, self.dot, self.switch, self.scan]
        weights = np.array([3, 4, 0, 1, 2, 2, 2, 1, 0.5])
        maker = makers[int(self.rng.choice(len(makers), p=weights / weights.sum()))]
        try:
            made = maker()
        except (TypeError, ValueError, NotImplementedError, IndexError):
            return None  # an Op PyTensor does not define for these types
        if made is None:
            return None
        var, recipe = made
        try:  # PyTensor must evaluate it (no shape mismatch, no invalid power)
            self.shapes[var] = np.shape(self.evaluate(var))
        except Exception:  # noqa: BLE001 - any failure: not a case to compare
            return None
        self.pool.append((var, recipe))
        return var, recipe

    def evaluate(self, var):
        import warnings

        from pytensor.compile.mode import Mode

        fn = pytensor.function(self.case.inputs, var, on_unused_input="ignore",
                               mode=Mode(linker="py", optimizer=None))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*[np.copy(v) for v in self.case.values])

    def unary(self):
        x, rx = self.pick()
        k = kind(x.type.dtype)
        names = ["neg", "abs", "sqr"]
        if k in "fc":
            names += ["exp", "log", "sqrt", "sin", "tanh", "log1p", "expm1", "reciprocal"]
        if k == "f":
            names += ["floor", "ceil", "sign", "isnan", "isinf", "erf", "sigmoid",
                      "round_half_to_even", "trunc", "softplus", "gammaln", "arctan"]
        if k in "iub":
            names += ["invert", "sign"]
        if k == "c":
            names += ["real", "imag", "angle", "conj"]
        name = names[int(self.rng.integers(len(names)))]
        if k == "b" and name in ("neg", "sign"):
            return None
        if k == "u" and name == "neg":
            return None
        func = getattr(pt, name)
        return func(x), f"{name}({rx})"

    def binary(self):
        x, rx = self.pick()
        y, ry = self.pick()
        if x is y:  # x / x, x - x: the rewrites make them 1 and 0, also at 0, inf, nan
            return None
        kx, ky = kind(x.type.dtype), kind(y.type.dtype)
        names = ["add", "sub", "mul", "true_div", "eq", "neq", "maximum", "minimum"]
        if "c" not in kx + ky:
            names += ["lt", "ge", "int_div", "mod", "arctan2_float"]
        if kx in "iub" and ky in "iub":
            names += ["and_", "or_", "xor"]
        if "c" not in kx + ky and ky in "iu":
            names += ["pow_small"]
        if kx in "f" or ky in "f" and "c" not in kx + ky:
            # (complex powers of infinities differ from library to library)
            names += ["pow"]
        name = names[int(self.rng.integers(len(names)))]
        if name == "pow_small":  # an integer exponent PyTensor accepts: 0..3
            e = pt.constant(np.array(int(self.rng.integers(0, 4)), dtype=y.type.dtype))
            return pt.pow(x, e), f"pow({rx}, {e.data})"
        if name == "arctan2_float":
            if kx not in "f" or ky not in "f":
                return None
            return pt.arctan2(x, y), f"arctan2({rx}, {ry})"
        if name in ("int_div", "mod") and ("b" in kx + ky):
            return None
        if name == "sub" and kx == ky == "b":
            return None
        return getattr(pt, name)(x, y), f"{name}({rx}, {ry})"

    def switch(self):
        c, rc = self.pick(lambda v: v.type.dtype == "bool")
        if c is None:
            return None
        x, rx = self.pick()
        y, ry = self.pick()
        return pt.switch(c, x, y), f"switch({rc}, {rx}, {ry})"

    def cast(self):
        x, rx = self.pick()
        dtype = DTYPES[int(self.rng.integers(len(DTYPES)))]
        source = kind(x.type.dtype)
        if source == "c" and kind(dtype) != "c":
            x, rx = pt.real(x), f"real({rx})"
        if source in "fc" and kind(dtype) in "iu":
            # A float out of an integer's range (nan, inf, 1e30) converts to what
            # the platform gives, not NumPy's rule: only values in range are cast.
            x = pt.switch(pt.isnan(x), 0, pt.clip(x, -100, 100))
            rx = f"in_range({rx})"
        return pt.cast(x, dtype), f"cast({rx}, {dtype})"

    def reduce(self):
        x, rx = self.pick(lambda v: v.type.ndim > 0)
        if x is None:
            return None
        k = kind(x.type.dtype)
        names = ["sum", "prod", "all", "any"]
        if k != "c":
            names += ["max", "argmax", "argmin"]
        if k not in "ic":
            # pt.min(x) is -max(-x), which wraps around at a signed integer's minimum;
            # the rewrites make it a Min again (local_max_to_min), which does not:
            # PyTensor itself gives two answers there, so it is left out.
            names += ["min"]
        name = names[int(self.rng.integers(len(names)))]
        ndim = x.type.ndim
        if self.rng.random() < 0.4:
            axis = None
        elif name in ("argmax", "argmin") or self.rng.random() < 0.5:
            axis = int(self.rng.integers(ndim))
        else:
            axis = tuple(sorted(self.rng.choice(ndim, size=int(self.rng.integers(1, ndim + 1)),
                                                replace=False).tolist()))
        return getattr(pt, name)(x, axis=axis), f"{name}({rx}, axis={axis})"

    def index(self):
        x, rx = self.pick(lambda v: v.type.ndim > 0)
        if x is None:
            return None
        length = self._length(x, 0)
        choice = int(self.rng.integers(6))
        if choice == 0:
            return x[1:], f"{rx}[1:]"
        if choice == 1:
            return x[::-1], f"{rx}[::-1]"
        if choice == 2:
            at = int(self.rng.integers(-length, length))
            return x[at], f"{rx}[{at}]"
        if choice == 3:
            picks = self.rng.integers(-length, length, size=int(self.rng.integers(1, 5)))
            return x[pt.constant(picks)], f"{rx}[{picks.tolist()}]"
        if choice == 4:
            mask = self.rng.random(length) < 0.5
            return x[pt.constant(mask)], f"{rx}[mask {mask.tolist()}]"
        y, ry = self.pick(lambda v: v.type.ndim < x.type.ndim)
        at = int(self.rng.integers(-length, length))
        if self.rng.random() < 0.5:
            return pt.set_subtensor(x[at], y), f"set({rx}[{at}], {ry})"
        return pt.inc_subtensor(x[:1], y), f"inc({rx}[:1], {ry})"

    def _length(self, var, d: int) -> int:
        if var not in self.shapes:
            self.shapes[var] = np.shape(self.evaluate(var))
        return int(self.shapes[var][d])

    def dot(self):
        x, rx = self.pick(lambda v: 1 <= v.type.ndim <= 3 and kind(v.type.dtype) != "b")
        if x is None:
            return None
        k = self._length(x, x.type.ndim - 1)
        dtype = x.type.dtype if self.rng.random() < 0.6 else DTYPES[
            int(self.rng.integers(1, len(DTYPES)))]
        ndim = int(self.rng.integers(1, 3))
        shape = (k,) if ndim == 1 else (k, int(self.rng.integers(1, 4)))
        if x.type.ndim == 3 and self.rng.random() < 0.8:  # a batch of products
            ndim, shape = 3, (self._length(x, 0), k, int(self.rng.integers(1, 4)))
        y = pt.tensor(f"x{len(self.case.inputs)}", dtype=dtype, shape=(None,) * ndim)
        self.case.inputs.append(y)
        self.case.values.append(random_values(self.rng, dtype, shape))
        ry = f"{y.name}:{dtype}{shape}"
        if x.type.ndim == 3 or self.rng.random() < 0.4:
            return pt.matmul(x, y), f"matmul({rx}, {ry})"
        return pt.dot(x, y), f"dot({rx}, {ry})"

    def scan(self):
        x, rx = self.pick(lambda v: v.type.ndim >= 1 and kind(v.type.dtype) != "b")
        if x is None:
            return None
        init = pt.zeros_like(x[0])
        dtype = x.type.dtype

        two = pt.constant(np.array(2, dtype=dtype))

        def step(x_t, acc):
            return acc * two + x_t  # of the sequence's dtype

        out, _ = pytensor.scan(step, sequences=[x], outputs_info=[init])
        return out, f"scan(acc*2 + x_t over {rx})"


def random_case(seed: int, n_outputs: int = 8) -> Case:
    """Inputs, values and ``n_outputs`` random expressions (each a graph's output)."""
    builder = Builder(seed, n_outputs)
    rng = builder.rng
    for _ in range(int(rng.integers(2, 5))):
        dtype = DTYPES[int(rng.integers(len(DTYPES)))]
        builder.add_input(dtype, int(rng.choice([0, 1, 2, 2, 3])))
    attempts = 0
    while len(builder.case.outputs) < n_outputs and attempts < 40 * n_outputs:
        attempts += 1
        made = builder.grow()
        if made is None:
            continue
        var, recipe = made
        if var not in builder.case.outputs and var not in builder.case.inputs:
            builder.case.outputs.append(var)
            builder.case.recipes.append(recipe)
    return builder.case
