"""Logistic regression: the mean negative log-likelihood and its gradient."""

import pytensor
import pytensor.tensor as pt

X = pt.matrix("X")
y = pt.vector("y")
w = pt.vector("w")
b = pt.scalar("b")
p = pt.sigmoid(X @ w + b)
loss = -pt.mean(y * pt.log(p) + (1 - y) * pt.log(1 - p))
loss.name = "loss"
grad_w, grad_b = pytensor.grad(loss, [w, b])
grad_w.name = "grad_w"
grad_b.name = "grad_b"

inputs = [X, y, w, b]
outputs = [loss, grad_w, grad_b]
