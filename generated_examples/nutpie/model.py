"""Eight schools, non-centered (Rubin 1981; Gelman et al., BDA3 section 5.5), with
named schools.

    transpile pymc model.py -o eight_schools.py

writes the module that sample.py hands to nutpie: logp_dlogp_flat(q) over PyMC's
value variables mu, tau_log__ (tau = exp(tau_log__)) and theta_t, and expand(q) ->
(mu, tau, theta_t, theta), theta and theta_t along the "school" dimension.
"""

import numpy as np
import pymc as pm

schools = ["Choate", "Deerfield", "Phillips Andover", "Phillips Exeter", "Hotchkiss",
           "Lawrenceville", "St. Paul's", "Mt. Hermon"]
y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])  # estimated effects
sigma = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])  # their std. errors

with pm.Model(coords={"school": schools}) as model:
    mu = pm.Normal("mu", 0.0, 5.0)
    tau = pm.HalfCauchy("tau", 5.0)
    theta_t = pm.Normal("theta_t", 0.0, 1.0, dims="school")
    theta = pm.Deterministic("theta", mu + tau * theta_t, dims="school")
    pm.Normal("obs", theta, sigma, observed=y, dims="school")
