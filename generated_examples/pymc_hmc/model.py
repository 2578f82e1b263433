"""Eight schools, non-centered (Rubin 1981; Gelman et al., BDA3 section 5.5).

    transpile pymc model.py -o eight_schools.py

writes the module that sample.py uses: logp(mu, tau_log, theta_t) and
logp_dlogp(mu, tau_log, theta_t) -> (logp, dlogp), over PyMC's value variables
mu, tau_log__ (tau = exp(tau_log__)) and theta_t.
"""

import numpy as np
import pymc as pm

y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])  # estimated effects
sigma = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])  # their std. errors

with pm.Model() as model:
    mu = pm.Normal("mu", 0.0, 5.0)
    tau = pm.HalfCauchy("tau", 5.0)
    theta_t = pm.Normal("theta_t", 0.0, 1.0, shape=8)
    theta = pm.Deterministic("theta", mu + tau * theta_t)
    pm.Normal("obs", theta, sigma, observed=y)
