"""Softmax, LogSoftmax and SoftmaxGrad along every axis of 1-d, 2-d and 3-d inputs
(axis=None included), and the row logsumexp built from Max, Exp, Sum and Log.
"""

from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytensor.tensor.special as pts
import pytest
from chunked import compare_chunked
from oracle import compare
from pytensor.tensor.special import log_softmax, softmax

AXES = {1: [None, 0, -1], 2: [None, 0, 1, -1], 3: [None, 0, 1, -1]}
SoftmaxGrad = getattr(pts, "SoftmaxGrad", None)  # PyTensor 3 has none


@pytest.mark.parametrize("ndim, rewrite",
                         [(1, False), (2, True), (2, False), (3, True)])
def test_softmax_log_softmax_and_gradients(rng, ndim, rewrite):
    x = pt.tensor("x", shape=(None,) * ndim)
    w = pt.tensor("w", shape=(None,) * ndim)
    outs = []
    for axis in AXES[ndim]:
        sm = softmax(x, axis=axis)
        lsm = log_softmax(x, axis=axis)
        outs += [sm, lsm]
        if SoftmaxGrad is not None:
            outs.append(SoftmaxGrad(axis=axis)(w, sm))
        if rewrite and axis in (None, -1):
            # Gradients as pytensor.grad writes them (without the rewrites, the same
            # SoftmaxGrad under a page of elementwise plumbing).
            outs += [pytensor.grad(pt.sum(sm * w), x),
                     pytensor.grad(pt.sum(lsm * w), x)]
    shape = (5, 4, 3)[:ndim]
    values = [rng.normal(scale=3.0, size=shape), rng.normal(size=shape)]
    values[0].flat[0] = 40.0  # large logits: the max is subtracted first
    compare_chunked([x, w], outs, values, rewrite=rewrite)


def test_float32_and_transposed_inputs(rng):
    f = pt.fmatrix("f")
    x = pt.tensor3("x")
    outs = [softmax(f, axis=1), log_softmax(f, axis=0), softmax(f.T, axis=-1),
            log_softmax(x.transpose(2, 0, 1), axis=1), softmax(x[:, ::2], axis=-1)]
    values = [rng.normal(size=(3, 5)).astype("float32"), rng.normal(size=(3, 4, 2))]
    compare([f, x], outs, values, rewrite=False)


def test_logsumexp(rng):
    # With the rewrites, as compiled: the max is subtracted before exp.
    x = pt.matrix("x")
    f = pt.fmatrix("f")
    outs = [pt.logsumexp(x, axis=1), pt.logsumexp(x, axis=0, keepdims=True),
            pt.logsumexp(x), pt.logsumexp(f, axis=1),
            x - pt.logsumexp(x, axis=1, keepdims=True)]
    xv = rng.normal(scale=3.0, size=(4, 5))
    xv[0] = [80.0, 79.0, -5.0, 0.0, 1.0]  # large: the rewritten form subtracts the max
    compare([x, f], outs, [xv, rng.normal(size=(4, 5)).astype("float32")], rewrite=True)


def test_several_axes_at_once(rng):
    # PyTensor 3 normalizes the axis to a tuple and allows several; 2.x takes one.
    x = pt.tensor3("x")
    try:
        outs = [softmax(x, axis=(0, 2)), log_softmax(x, axis=(1, 2)),
                softmax(x, axis=(-1, 0, 1))]
    except (TypeError, ValueError):
        pytest.skip("this PyTensor takes one softmax axis")
    compare([x], outs, [rng.normal(scale=3.0, size=(3, 4, 2))], rewrite=False)


def _rows_with_extremes(rng, shape, dtype="float64"):
    """Logits with a row of +inf, one of -inf only, one with a nan and one large."""
    value = rng.normal(scale=3.0, size=shape).astype(dtype)
    rows = value.reshape(-1, shape[-1])
    rows[0, 1] = np.inf
    rows[1, :] = -np.inf
    rows[2, 2] = np.nan
    rows[3, :2] = [80.0, 79.0]  # exp overflows neither dtype; the naive form is exact
    return value


@pytest.mark.parametrize("ndim", [2, 3])
def test_softmax_and_logsumexp_of_the_same_rows_share_one_pass(rng, ndim):
    # A classifier's probabilities and log-normalizer: one maximum and one sum of
    # exponentials per row for both, with PyTensor's results on infinite rows.
    x = pt.tensor("x", shape=(None,) * ndim)
    f = pt.tensor("f", shape=(None,) * ndim, dtype="float32")
    outs = [softmax(x, axis=-1), pt.logsumexp(x, axis=-1),
            log_softmax(f, axis=0), pt.logsumexp(f, axis=0, keepdims=True),
            softmax(x, axis=None), pt.logsumexp(x),
            pt.logsumexp(x, axis=0)]  # alone: no softmax over axis 0 of x
    shape = (6, 5, 4)[:ndim]
    values = [_rows_with_extremes(rng, shape), _rows_with_extremes(rng, shape, "float32")]
    module = compare([x, f], outs, values, rewrite=True)
    kernel = Path(module.__file__).read_text().split("def kernel")[1]
    assert kernel.count("= softmax_logsumexp_rows(") == 3
    assert kernel.count(" logsumexp_rows(") == 1
    assert "math.exp" not in kernel and "np.exp" not in kernel  # no second exp pass
