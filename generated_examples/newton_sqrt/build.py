"""A while-loop: Newton's method for sqrt(c), stopping once the step is below 1e-12."""

import pytensor
import pytensor.tensor as pt
from pytensor.scan.utils import until

c = pt.scalar("c")


def newton_step(x_tm1, c):
    x_t = 0.5 * (x_tm1 + c / x_tm1)
    return x_t, until(pt.abs(x_t - x_tm1) < 1e-12)


xs, _ = pytensor.scan(newton_step, outputs_info=[c], non_sequences=[c], n_steps=100)
xs.name = "x"
root = xs[-1]
root.name = "root"

inputs = [c]
outputs = [root, xs.shape[0]]
