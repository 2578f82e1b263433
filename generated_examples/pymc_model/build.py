"""A small PyMC model: the joint log-density and its gradient (value variables in)."""

import numpy as np
import pymc as pm
import pytensor

rng = np.random.default_rng(42)
x_data = rng.normal(size=50)
y_data = 1.5 * x_data - 0.5 + rng.normal(scale=0.7, size=50)

with pm.Model() as model:
    alpha = pm.Normal("alpha", 0.0, 10.0)
    beta = pm.Normal("beta", 0.0, 10.0)
    sigma = pm.HalfNormal("sigma", 1.0)
    pm.Normal("y", alpha + beta * x_data, sigma, observed=y_data)

logp = model.logp()
logp.name = "logp"
dlogp = model.dlogp()
dlogp.name = "dlogp"

inputs = model.value_vars
outputs = [logp, dlogp]
