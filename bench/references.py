"""Hand-written @njit references: what a careful engineer writes by hand."""

import math

import numba
import numpy as np


@numba.njit(cache=True)
def ref_seed(x0, a, b):
    n = min(a.shape[0], b.shape[0])
    x = np.empty(n + 1)
    x[0] = x0
    for t in range(n):
        x[t + 1] = x[t] * a[t] + b[t]
    return x[1:].copy()


@numba.njit(cache=True)
def ref_chain(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        v = x[i]
        out[i] = math.exp(-v * v) * math.sin(v) + math.log1p(abs(v))
    return out


@numba.njit(cache=True)
def ref_logreg(X, y, w, b):
    z = X @ w + b
    n = y.shape[0]
    loss = 0.0
    r = np.empty(n)
    for i in range(n):
        p = 1.0 / (1.0 + math.exp(-z[i]))
        loss -= y[i] * math.log(p) + (1.0 - y[i]) * math.log(1.0 - p)
        r[i] = (p - y[i]) / n
    return loss / n, r @ X, r.sum()


@numba.njit(cache=True)
def ref_softmax(x):
    out = np.empty_like(x)
    lse = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        m = x[i].max()
        s = 0.0
        for j in range(x.shape[1]):
            e = math.exp(x[i, j] - m)
            out[i, j] = e
            s += e
        out[i] /= s
        lse[i] = m + math.log(s)
    return out, lse


@numba.njit(cache=True)
def ref_add(a, b):
    return a + b




@numba.njit(cache=True)
def ref_rnn(W, U, xs, h0):
    h = h0.copy()
    pre = np.empty_like(h0)
    for t in range(xs.shape[0]):
        pre[:] = W @ h + U @ xs[t]
        for i in range(h.shape[0]):
            h[i] = math.tanh(pre[i])
    return h


@numba.njit(cache=True)
def ref_rnn_grad(W, U, xs, h0):
    """h_T and d sum(h_T) / dW by backpropagation through time."""
    n, k = xs.shape[0], h0.shape[0]
    hs = np.empty((n + 1, k))
    hs[0] = h0
    for t in range(n):
        hs[t + 1] = np.tanh(W @ hs[t] + U @ xs[t])
    grad = np.zeros_like(W)
    dh = np.ones(k)
    for t in range(n - 1, -1, -1):
        dpre = dh * (1.0 - hs[t + 1] ** 2)
        grad += np.outer(dpre, hs[t])
        dh = W.T @ dpre
    return hs[n].copy(), grad
