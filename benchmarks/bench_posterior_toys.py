"""Benchmark of the posterior's estimators (experiments/posterior/inference.py) on toys with exact answers.

Run `python benchmarks/bench_posterior_toys.py` (about 10 minutes on 2 cores; `--quick` runs tiny
sizes and writes nothing, `--no-write` prints only). It measures
- linear-Gaussian, 30 parameters and 8 outputs (a standard normal prior on z = Phi^-1(u), so the
  posterior is exactly Gaussian): C2ST of the NPE ensemble's draws against exact ones at a few
  observed points (target <= 0.6), and the empirical coverage of its central 90% intervals over
  held-out test points (target 0.86-0.94);
- two branches (a tipping toy: u0 past a threshold that moves with u1 lifts the first output): the
  posterior mass on the high branch from NPE and from likelihood weighting against the exact mass
  from numeric integration (target within 0.05).
It rewrites only the posterior-toys section of benchmarks/RESULTS.md. No run fails on a figure.
"""

from __future__ import annotations

import argparse
import datetime
import time

import numpy as np
from common import machine, use_source_tree, versions, write_section

use_source_tree()

D, K, NOISE = 30, 8, 0.3  # linear-Gaussian
SD = np.array([0.1, 0.1])  # two branches: measurement sd, and the observation that leaves both plausible
X_OBS = np.array([0.55, 0.6])


def linear_toy(sims: int, members: int, points: int, tests: int, draws: int) -> dict[str, float]:
    from scipy.special import ndtr, ndtri

    from trustsim.experiments.posterior import inference

    rng = np.random.default_rng(0)
    a = rng.normal(size=(K, D)) * 2 / np.sqrt(D)  # each output's signal sd about 2, its noise 0.3
    cov = np.linalg.inv(np.eye(D) + a.T @ a / NOISE**2)
    u = rng.random((sims + tests, D))
    x = ndtri(u) @ a.T
    estimator = inference.fit_npe(u[:sims], x[:sims], seeds=tuple(range(members)), noise_sd=np.full(K, NOISE))
    scores = []
    for i in range(points):
        x_obs = a @ rng.normal(size=D) + NOISE * rng.normal(size=K)
        exact = ndtr(rng.multivariate_normal(cov @ a.T @ x_obs / NOISE**2, cov, size=draws))
        scores.append(inference.c2st(estimator.sample(x_obs, draws, seed=i), exact, seed=i))
    cov90 = inference.coverage(estimator, u[sims:], x[sims:], level=0.9, n_draws=500, seed=0)
    per = cov90["per_parameter"]
    return {"c2st": scores, "coverage": cov90["overall"], "coverage_min": min(per), "coverage_max": max(per),
            "train_s": estimator.train_seconds, "epochs": estimator.epochs}


def high(u: np.ndarray) -> np.ndarray:
    return u[:, 0] > 0.4 + 0.2 * u[:, 1]


def branches(u: np.ndarray) -> np.ndarray:
    return np.column_stack([u[:, 2] + 0.5 * high(u), u[:, 1] + 0.3 * u[:, 0]])


def reference_high_mass(grid: int = 2000) -> float:
    """u2 integrated out in closed form (it only shifts the first output), (u0, u1) on a midpoint grid."""
    from scipy.special import ndtr
    from scipy.stats import norm

    g = (np.arange(grid) + 0.5) / grid
    u0, u1 = (c.ravel() for c in np.meshgrid(g, g, indexing="ij"))
    up = u0 > 0.4 + 0.2 * u1
    shift = 0.5 * up
    first = ndtr((X_OBS[0] - shift) / SD[0]) - ndtr((X_OBS[0] - shift - 1) / SD[0])
    like = first * norm.pdf(X_OBS[1], u1 + 0.3 * u0, SD[1])
    return float(like[up].sum() / like.sum())


def branch_toy(sims: int, members: int, weighted_sims: int) -> dict[str, float]:
    from trustsim.experiments.posterior import inference

    u = np.random.default_rng(1).random((max(sims, weighted_sims), 3))
    x = branches(u)
    estimator = inference.fit_npe(u[:sims], x[:sims], seeds=tuple(range(members)), noise_sd=SD)
    w_small, ess_small = inference.likelihood_weights(x[:sims], X_OBS, SD)
    w_big, ess_big = inference.likelihood_weights(x[:weighted_sims], X_OBS, SD)
    return {"reference": reference_high_mass(), "npe": float(high(estimator.sample(X_OBS, 10_000, seed=0)).mean()),
            "weighted": float(w_small[high(u[:sims])].sum()), "ess": ess_small,
            "weighted_big": float(w_big[high(u[:weighted_sims])].sum()), "ess_big": ess_big,
            "train_s": estimator.train_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, print only (a smoke test)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md as it is")
    args = parser.parse_args()
    if args.quick:
        sims, members, points, tests, draws, branch_sims, weighted_sims = 300, 1, 1, 30, 200, 300, 2000
    else:
        sims, members, points, tests, draws, branch_sims, weighted_sims = 5000, 5, 3, 200, 2000, 4000, 20_000
    start = time.perf_counter()
    lin = linear_toy(sims, members, points, tests, draws)
    two = branch_toy(branch_sims, members, weighted_sims)
    wall = time.perf_counter() - start
    c2st = ", ".join(f"{s:.3f}" for s in lin["c2st"])
    text = f"""## Posterior estimators on toys with exact answers (bench_posterior_toys.py)

{datetime.date.today()}; {machine()}; {versions("numpy", "torch", "sbi", "scikit-learn")}.
An ensemble of {members} NPE member{"s" if members > 1 else ""} (masked autoregressive flows, fit_npe's defaults) per toy;
{wall / 60:.1f} minutes in all.

| toy | measure | value | target |
| --- | --- | --- | --- |
| linear-Gaussian, {D} parameters, {K} outputs, {sims:,} runs | C2ST (MLP) against exact draws, {points} observed points, {draws:,} draws each | {c2st} | <= 0.6 |
| | coverage of central 90% intervals, {tests} test points (all parameters) | {lin["coverage"]:.3f} | 0.86-0.94 |
| | same, lowest and highest parameter | {lin["coverage_min"]:.3f}, {lin["coverage_max"]:.3f} | |
| | training, all members (epochs {", ".join(map(str, lin["epochs"]))}) | {lin["train_s"]:.0f} s | |
| two branches, 3 parameters, 2 outputs | exact mass on the high branch (numeric integration) | {two["reference"]:.3f} | |
| | NPE, {branch_sims:,} runs | {two["npe"]:.3f} | within 0.05 |
| | likelihood weighting, the same {branch_sims:,} runs (ESS {two["ess"]:.0f}) | {two["weighted"]:.3f} | within 0.05 |
| | likelihood weighting, {weighted_sims:,} runs (ESS {two["ess_big"]:.0f}) | {two["weighted_big"]:.3f} | within 0.05 |
| | training, all members | {two["train_s"]:.0f} s | |

The linear toy's prior is a standard normal on z = Phi^-1(u) (uniform on the cube), its outputs
A z plus N(0, {NOISE}^2) noise, so the posterior is Gaussian and exact draws cost nothing; coverage
uses held-out runs with that noise added as pretend observations. In the two-branch toy the high
branch (u0 > 0.4 + 0.2 u1) adds 0.5 to the first output (u2 plus the branch); the second is
u1 + 0.3 u0; both are observed with sd 0.1 at {X_OBS[0]}, {X_OBS[1]}, which the high branch reaches only
with u2 near the cube's face.
"""
    print(text)
    if not (args.quick or args.no_write):
        write_section("posterior-toys", text)


if __name__ == "__main__":
    main()
