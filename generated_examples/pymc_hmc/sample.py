"""Hamiltonian Monte Carlo for eight schools, on the generated module alone.

    python sample.py [DRAWS] [SEED]

eight_schools.py was written by ``transpile pymc model.py -o eight_schools.py``; this
script imports it and NumPy and nothing else (no PyMC, no PyTensor, no transpile).
The sampler is the textbook one: leapfrog integration of Hamiltonian dynamics with a
Metropolis correction, a diagonal mass matrix and a fixed step size, both tuned in a
short warm-up (dual averaging of the step size towards an acceptance rate of 0.8, then
the variances of the warm-up draws).  It samples PyMC's unconstrained value variables
(mu, tau_log__, theta_t); the layout of the flat position vector is read from the
module's VALUE_VARIABLES and DLOGP_SLICES, and tau = exp(tau_log__) because
VALUE_VARIABLES says tau_log__ is tau's log transform.
"""

import sys
import time

import numpy as np

import eight_schools as model

NAMES = [name for name, *_ in model.VALUE_VARIABLES]
SHAPES = {name: shape for name, _, shape, _, _ in model.VALUE_VARIABLES}
SLICES = {name: slice(start, stop) for name, start, stop in model.DLOGP_SLICES}
DIM = model.OUTPUTS[1][2][0]  # the length of dlogp: one entry per unconstrained scalar


def unpack(q):
    """The flat position vector as the module's arguments."""
    return [q[SLICES[name]].reshape(SHAPES[name]) for name in NAMES]


def logp_and_grad(q):
    try:
        logp, grad = model.logp_dlogp(*unpack(q))
    except ValueError:  # a violated parameter check (the module's ParameterValueError)
        return -np.inf, np.zeros(DIM)
    return logp, grad


def hmc_step(q, logp, grad, step, n_steps, inv_mass, rng):
    """One HMC transition: (q, logp, grad, acceptance probability)."""
    p0 = rng.normal(size=DIM) / np.sqrt(inv_mass)
    q1, p1, logp1, grad1 = q, p0 + 0.5 * step * grad, logp, grad
    for k in range(n_steps):
        q1 = q1 + step * inv_mass * p1
        logp1, grad1 = logp_and_grad(q1)
        if not np.isfinite(logp1):
            break  # diverged: rejected below
        p1 = p1 + (step if k < n_steps - 1 else 0.5 * step) * grad1
    energy0 = -logp + 0.5 * np.sum(inv_mass * p0**2)
    energy1 = -logp1 + 0.5 * np.sum(inv_mass * p1**2)
    accept = float(np.exp(min(0.0, energy0 - energy1))) if np.isfinite(energy1) else 0.0
    if rng.uniform() < accept:
        return q1, logp1, grad1, accept
    return q, logp, grad, accept


class DualAveraging:
    """Step-size adaptation of Hoffman and Gelman (2014), section 3.2.1."""

    def __init__(self, step, target=0.8, gamma=0.05, t0=10.0, kappa=0.75):
        self.mu = np.log(10 * step)
        self.target, self.gamma, self.t0, self.kappa = target, gamma, t0, kappa
        self.h_bar, self.log_step_bar, self.m = 0.0, 0.0, 0
        self.log_step = np.log(step)

    def update(self, accept):
        self.m += 1
        w = 1.0 / (self.m + self.t0)
        self.h_bar = (1 - w) * self.h_bar + w * (self.target - accept)
        self.log_step = self.mu - np.sqrt(self.m) / self.gamma * self.h_bar
        eta = self.m ** -self.kappa
        self.log_step_bar = eta * self.log_step + (1 - eta) * self.log_step_bar
        return float(np.exp(self.log_step))

    @property
    def final(self):
        return float(np.exp(self.log_step_bar))


def trajectory_steps(step, rng, length=1.5):
    """A jittered number of leapfrog steps for a path of about ``length``."""
    return max(1, int(np.ceil(length / step * rng.uniform(0.5, 1.5))))


def sample(draws=2000, seed=1, warmup=(300, 400, 300)):
    rng = np.random.default_rng(seed)
    q = rng.uniform(-1.0, 1.0, size=DIM)
    logp, grad = logp_and_grad(q)
    inv_mass, step = np.ones(DIM), 0.25
    # Warm-up: step size, then the mass matrix from the draws, then the step size again.
    adapt = DualAveraging(step)
    for _ in range(warmup[0]):
        q, logp, grad, accept = hmc_step(q, logp, grad, step, trajectory_steps(step, rng),
                                         inv_mass, rng)
        step = adapt.update(accept)
    step = adapt.final
    window = np.empty((warmup[1], DIM))
    for k in range(warmup[1]):
        q, logp, grad, _ = hmc_step(q, logp, grad, step, trajectory_steps(step, rng),
                                    inv_mass, rng)
        window[k] = q
    n = len(window)
    inv_mass = (n / (n + 5.0)) * window.var(axis=0) + 1e-3 * (5.0 / (n + 5.0))
    adapt = DualAveraging(step)
    for _ in range(warmup[2]):
        q, logp, grad, accept = hmc_step(q, logp, grad, step, trajectory_steps(step, rng),
                                         inv_mass, rng)
        step = adapt.update(accept)
    step = adapt.final
    # Sampling with the tuned, fixed step size.
    chain, accepts = np.empty((draws, DIM)), np.empty(draws)
    for k in range(draws):
        q, logp, grad, accepts[k] = hmc_step(q, logp, grad, step,
                                             trajectory_steps(step, rng), inv_mass, rng)
        chain[k] = q
    return chain, step, float(accepts.mean())


def main(argv):
    draws = int(argv[1]) if len(argv) > 1 else 2000
    seed = int(argv[2]) if len(argv) > 2 else 1
    start = time.perf_counter()
    chains = [sample(draws, seed + c) for c in range(2)]
    elapsed = time.perf_counter() - start
    draws_all = np.concatenate([chain for chain, _, _ in chains])
    mu = draws_all[:, SLICES["mu"]][:, 0]
    tau = np.exp(draws_all[:, SLICES["tau_log__"]][:, 0])  # the log transform, undone
    theta = mu[:, None] + tau[:, None] * draws_all[:, SLICES["theta_t"]]
    print(f"chains 2 draws {draws} step {chains[0][1]:.3f} {chains[1][1]:.3f} "
          f"accept {chains[0][2]:.2f} {chains[1][2]:.2f} seconds {elapsed:.1f}")
    print(f"mu {mu.mean():.3f}")
    print(f"tau {tau.mean():.3f}")
    for j in range(theta.shape[1]):
        print(f"theta[{j}] {theta[:, j].mean():.3f}")
    # What this process imported: the test checks that PyMC and PyTensor are absent.
    print("modules", " ".join(sorted({m.split(".")[0] for m in sys.modules})))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
