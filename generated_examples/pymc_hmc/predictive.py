"""Prior and posterior predictive draws for eight schools, on generated modules alone.

    python predictive.py [DRAWS] [SEED]

eight_schools_draws.py was written by ``transpile pymc --predictive model.py -o
eight_schools_draws.py``.  This script imports it, NumPy and sample.py (whose sampler
runs on eight_schools.py) and nothing else: no PyMC, no PyTensor, no transpile.  It
draws from the prior predictive, samples the posterior with sample.py's HMC, and draws
the observed effects again for every posterior draw (the posterior predictive), then
prints summaries of both, and what the process imported.
"""

import sys

import numpy as np

import eight_schools_draws as draws_module
from sample import SLICES, sample


def main(argv):
    draws = int(argv[1]) if len(argv) > 1 else 1000
    seed = int(argv[2]) if len(argv) > 2 else 1
    rng = np.random.default_rng(seed)
    mu, tau, theta_t, theta, obs = draws_module.prior_predictive(rng, draws)
    print(f"prior mu mean {mu.mean():.3f} sd {mu.std():.3f}")
    print(f"prior tau median {np.median(tau):.3f}")
    print(f"prior obs[0] sd {obs[:, 0].std():.3f}")
    chain, _, _ = sample(draws, seed)
    post_mu = chain[:, SLICES["mu"]][:, 0]
    post_tau = np.exp(chain[:, SLICES["tau_log__"]][:, 0])  # PyMC's constrained space
    post_theta_t = chain[:, SLICES["theta_t"]]
    replicated = draws_module.posterior_predictive(rng, post_mu, post_tau, post_theta_t)
    post_theta = post_mu[:, None] + post_tau[:, None] * post_theta_t
    print(f"posterior draws {len(chain)}")
    for j in range(replicated.shape[1]):
        print(f"obs[{j}] mean {replicated[:, j].mean():.3f} "
              f"theta[{j}] {post_theta[:, j].mean():.3f}")
    print("modules", " ".join(sorted({m.split(".")[0] for m in sys.modules})))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
