"""The seed example: the linear recurrence x_t = x_{t-1} * a_t + b_t as a Scan."""

import pytensor
import pytensor.tensor as pt

x0 = pt.scalar("x0")
a = pt.vector("a")
b = pt.vector("b")
xs, _ = pytensor.scan(
    lambda a_t, b_t, x_tm1: x_tm1 * a_t + b_t, sequences=[a, b], outputs_info=[x0]
)
xs.name = "x"

inputs = [x0, a, b]
outputs = [xs]
