"""An RNN h_t = tanh(W @ h_{t-1} + U @ x_t) and the gradient of sum(h_T) wrt W."""

import pytensor
import pytensor.tensor as pt

W = pt.matrix("W")
U = pt.matrix("U")
xs = pt.matrix("xs")
h0 = pt.vector("h0")
hs, _ = pytensor.scan(
    lambda x_t, h_tm1: pt.tanh(W @ h_tm1 + U @ x_t), sequences=[xs], outputs_info=[h0]
)
hs.name = "h"
h_last = hs[-1]
h_last.name = "h_last"
grad_W = pytensor.grad(h_last.sum(), W)
grad_W.name = "grad_W"

inputs = [W, U, xs, h0]
outputs = [h_last, grad_W]
