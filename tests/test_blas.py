"""Matrix products: ``Dot`` on every 1-d/2-d combination, ``matmul`` (batched through
Blockwise), the BLAS Ops PyTensor's rewrites make of them (Gemv, Ger, Dot22,
Dot22Scalar) or a compiled graph holds (Gemm, BatchedDot), float32 and integer products.
"""

from pathlib import Path

import numpy as np
import pytensor.tensor as pt
import pytest
from oracle import compare, transpile_module
from pytensor.tensor import blas


@pytest.mark.parametrize("dtype, rewrite", [("float64", True), ("float64", False),
                                            ("float32", True)])
def test_dot_of_every_1d_2d_combination(rng, dtype, rewrite):
    u, v = pt.vector("u", dtype=dtype), pt.vector("v", dtype=dtype)
    a, b = pt.matrix("a", dtype=dtype), pt.matrix("b", dtype=dtype)
    outs = [pt.dot(u, v), pt.dot(a, v), pt.dot(u, b), pt.dot(a, b),
            a @ b, a @ v, u @ b, u @ v,
            pt.dot(b.T, u), pt.dot(b, a), pt.dot(a.T, a)]  # transposed operands
    values = [rng.normal(size=4), rng.normal(size=4), rng.normal(size=(3, 4)),
              rng.normal(size=(4, 3))]
    compare([u, v, a, b], outs, [x.astype(dtype) for x in values], rewrite=rewrite)


def test_blas_rewrites(rng):
    """Gemv, Ger, Dot22 and Dot22Scalar, as the rewrites produce them."""
    dtype = "float64"
    a, b, z = (pt.matrix(n, dtype=dtype) for n in "abz")
    x, y = pt.vector("x", dtype=dtype), pt.vector("y", dtype=dtype)
    alpha = pt.scalar("alpha", dtype=dtype)
    outs = [
        y + pt.dot(a, x),  # Gemv, beta = 1
        2 * y + alpha * pt.dot(a, x),  # Gemv with scalings
        pt.dot(a, x),  # Gemv on a fresh buffer (beta = 0)
        pt.dot(x, b),  # Gemv of the transpose
        z + pt.dot(a, b),  # Gemm
        0.5 * z - alpha * pt.dot(a, b),
        a + pt.outer(x, y),  # Ger
        a - alpha * pt.outer(x, y),
        pt.dot(a, b),  # Dot22
        alpha * pt.dot(a, b),  # Dot22Scalar
        pt.dot(a, b).sum(),
    ]
    values = [rng.normal(size=(4, 4)).astype(dtype) for _ in range(3)]
    values += [rng.normal(size=4).astype(dtype), rng.normal(size=4).astype(dtype),
               np.asarray(1.5, dtype=dtype)]
    module = compare([a, b, z, x, y, alpha], outs, values, rewrite=True)
    source = Path(module.__file__).read_text()
    for op in ("Gemv", "Ger", "Dot22", "Dot22Scalar"):  # (the rewrites make no Gemm)
        assert f"# {op}" in source, f"no {op} in the rewritten graph"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_blas_ops_built_directly(rng, dtype):
    """Every BLAS Op, with constant and symbolic scalings, as compiled graphs hold."""
    a, b, z = (pt.matrix(n, dtype=dtype) for n in "abz")
    x, y = pt.vector("x", dtype=dtype), pt.vector("y", dtype=dtype)
    alpha, beta = pt.scalar("alpha", dtype=dtype), pt.scalar("beta", dtype=dtype)
    t3, u3 = pt.tensor3("t3", dtype=dtype), pt.tensor3("u3", dtype=dtype)
    one = np.asarray(1.0, dtype=dtype)
    zero = np.asarray(0.0, dtype=dtype)
    outs = [
        blas.gemm_no_inplace(z, alpha, a, b, beta),
        blas.gemm_no_inplace(z, one, a, b, one),
        blas.gemm_no_inplace(z, alpha, a, b, zero),
        blas.gemv_no_inplace(y, alpha, a, x, beta),
        blas.gemv_no_inplace(y, one, a.T, x, zero),
        blas.ger(a, alpha, x, y), blas.ger(a, one, x, y),
        blas._dot22(a, b), blas._dot22scalar(a, b, alpha),
        blas.BatchedDot()(t3, u3),
    ]
    values = [rng.normal(size=(4, 4)) for _ in range(3)]
    values += [rng.normal(size=4), rng.normal(size=4), 1.5, -0.5,
               rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 3, 5))]
    values = [np.asarray(v, dtype=dtype) for v in values]
    compare([a, b, z, x, y, alpha, beta, t3, u3], outs, values, rewrite=False)


def test_integer_and_mixed_dtype_products(rng):
    # Numba's np.dot is BLAS-only: integer products must still be exact integers.
    i, j = pt.lmatrix("i"), pt.imatrix("j")
    w = pt.lvector("w")
    b8 = pt.bmatrix("b8")
    f, d = pt.fmatrix("f"), pt.dmatrix("d")
    outs = [pt.dot(i, j), pt.dot(i, w), pt.dot(w, w), pt.dot(b8, b8), i @ j,
            pt.dot(f, d), pt.dot(i, d), pt.dot(f, j)]
    values = [rng.integers(-50, 50, (3, 3)),
              rng.integers(-50, 50, (3, 3)).astype("int32"),
              rng.integers(-50, 50, 3), rng.integers(-5, 5, (3, 3)).astype("int8"),
              rng.normal(size=(3, 3)).astype("float32"), rng.normal(size=(3, 3))]
    compare([i, j, w, b8, f, d], outs, values, rewrite=True)


@pytest.mark.parametrize("rewrite", [True, False])
def test_batched_matmul(rng, rewrite):
    """Matmul over batch dimensions, broadcast both ways, and over empty batches:
    without rewrites, loops around Dot (Blockwise); the rewrites make BatchedDot
    and Dot of reshaped operands of most."""
    x = pt.tensor3("x")
    y = pt.tensor3("y")
    m = pt.matrix("m")
    v = pt.vector("v")
    b = pt.tensor("b", shape=(1, None, None))
    p = pt.tensor("p", shape=(None, 1, None, None))  # broadcast along batch dim 1
    q = pt.tensor("q", shape=(1, None, None, None))  # along batch dim 0
    inputs = [x, y, m, v, b, p, q]
    outs = [x @ y, x @ m, m @ x, x @ v, b @ y, pt.matmul(x, y).sum(axis=0),
            p @ q, p @ y, q @ m, b @ b]
    values = [rng.normal(size=(2, 3, 3)), rng.normal(size=(2, 3, 3)),
              rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=(1, 3, 3)),
              rng.normal(size=(4, 1, 3, 3)), rng.normal(size=(1, 2, 3, 3))]
    compare(inputs, outs, values, rewrite=rewrite)
    empty = [np.zeros((0, 3, 3)), np.zeros((0, 3, 3)), *values[2:5],
             np.zeros((0, 1, 3, 3)), np.zeros((1, 0, 3, 3))]
    compare(inputs, outs, empty, rewrite=rewrite)


def test_batched_matmul_checks_batch_lengths(rng):
    x, y = pt.tensor3("x"), pt.tensor3("y")
    module = transpile_module([x, y], [x @ y], rewrite=False)
    with pytest.raises(ValueError):
        module.kernel(rng.normal(size=(3, 2, 2)), rng.normal(size=(2, 2, 2)))
    with pytest.raises(ValueError):  # a length of 1 broadcast only where declared
        module.kernel(rng.normal(size=(1, 2, 2)), rng.normal(size=(2, 2, 2)))
