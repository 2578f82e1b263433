import numpy as np
import pytensor
import pytensor.tensor as pt
from oracle import compare


def test_logistic_regression_loss_and_gradient(rng):
    X = pt.matrix("X")
    y = pt.vector("y")
    w = pt.vector("w")
    b = pt.scalar("b")
    p = pt.sigmoid(X @ w + b)
    loss = -pt.mean(y * pt.log(p) + (1 - y) * pt.log(1 - p))
    gw, gb = pytensor.grad(loss, [w, b])
    values = [rng.normal(size=(40, 5)), (rng.random(40) > 0.5).astype("float64"),
              rng.normal(size=5), np.float64(0.3)]
    for rewrite in (True, False):
        compare([X, y, w, b], [loss, gw, gb], values, rewrite=rewrite)
