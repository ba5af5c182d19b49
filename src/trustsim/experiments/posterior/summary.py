"""The posterior's tables: headline intervals, the fit of each figure, parameters, leave-one-out, checks.

Use these from `posterior()` (this package's __init__): each takes the bank, the estimator's draws
and the likelihood weights already computed and returns a plain table (or dict) that the page
prints and the store keeps. Intervals are always the 5%, 50% and 95% points, so a "90% interval"
means the same thing on every page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from trustsim.experiments.ensembles.analysis import INTERVAL
from trustsim.experiments.posterior import inference, tipping
from trustsim.experiments.posterior.bank import Bank
from trustsim.scenario.schema.observations import Observations
from trustsim.scenario.schema.ranges import PlausibleRange

QUANTILES = (INTERVAL[0], 0.5, INTERVAL[1])  # the 90% interval of every other page, and its median
MIN_ESS = 50  # fewer effective runs: the weighted bank is too rough to agree or disagree with anything
DISAGREE = 0.25  # NPE and the weighted bank disagree: a 5/50/95% point apart by this share of the prior's 90% width
LOO_MEMBERS = 1  # one training seed per left-out figure: a comparison, not the headline estimate
COVERAGE_DRAWS = 500
TIPPING_METRIC = "blacklist_share"
TIPPING_LEVEL = 0.1  # a tipping regime lists many: its branch's median final share is at least this


def quantiles(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The 5/50/95% points of the finite values (weighted when weights are given)."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if weights is not None:
        finite &= np.asarray(weights) > 0
    if not finite.any():
        return np.full(len(QUANTILES), np.nan)
    if weights is None:
        return np.quantile(values[finite], QUANTILES)
    return np.asarray(inference.weighted_quantiles(values[finite], np.asarray(weights)[finite], QUANTILES))


def bands(traj: pd.DataFrame, kind: str, metrics: Sequence[str], weights: pd.Series | None = None) -> pd.DataFrame:
    """Per metric and step, the q05, q50 and q95 across runs (weighted by sample when weights are given)."""
    part = traj[traj["metric"].isin(metrics)]
    rows = []
    for (metric, step, date), g in part.groupby(["metric", "step", "date"]):
        w = None if weights is None else weights.reindex(g["sample"]).fillna(0.0).to_numpy()
        q = quantiles(g["value"].to_numpy(dtype=float), w)
        rows.append({"kind": kind, "metric": metric, "grp": "all", "step": int(step), "date": date,
                     "q05": q[0], "q50": q[1], "q95": q[2]})
    return pd.DataFrame(rows, columns=["kind", "metric", "grp", "step", "date", "q05", "q50", "q95"])


def density_weights(estimator: Any, theta: np.ndarray, x_obs: np.ndarray) -> tuple[np.ndarray, float]:
    """The bank reweighted to an estimator's posterior, q(theta | x) over the uniform prior; and its ESS."""
    logq = np.asarray(estimator.log_prob(theta, x_obs), dtype=float)
    logq = np.where(np.isfinite(logq), logq, -np.inf)
    w = np.exp(logq - logq.max())
    w /= w.sum()
    return w, float(1.0 / np.sum(w ** 2))


def headline(bank: Bank, predictive: Bank, weights: np.ndarray, ess: float, metrics: Sequence[str]) -> pd.DataFrame:
    """Each headline metric's final value: prior, NPE posterior-predictive and weighted-bank intervals.

    `comparable` says whether the weighted bank rests on enough effective runs (MIN_ESS) for its
    disagreement with the neural estimate to mean anything.
    """
    rows = []
    for metric in metrics:  # no headline metric (a toy model): an empty table of the same columns
        prior = quantiles(bank.finals[metric].to_numpy())
        npe = quantiles(predictive.finals[metric].to_numpy()) if metric in predictive.finals else \
            np.full(3, np.nan)
        weighted = quantiles(bank.finals[metric].to_numpy(), weights)
        width = prior[2] - prior[0]
        both = np.isfinite(npe) & np.isfinite(weighted)
        agree = bool(width <= 0 or not both.any() or np.all(np.abs(npe - weighted)[both] <= DISAGREE * width))
        rows.append({"metric": metric, **{f"prior_{k}": v for k, v in zip(("q05", "q50", "q95"), prior)},
                     **{f"npe_{k}": v for k, v in zip(("q05", "q50", "q95"), npe)},
                     **{f"weighted_{k}": v for k, v in zip(("q05", "q50", "q95"), weighted)}, "agree": agree,
                     "comparable": ess >= MIN_ESS})
    columns = ["metric", *(f"{e}_{q}" for e in ("prior", "npe", "weighted") for q in ("q05", "q50", "q95")), "agree",
               "comparable"]
    return pd.DataFrame(rows, columns=columns)


def p_value(replicated: np.ndarray, observed_value: float) -> float:
    """Two-sided posterior-predictive p-value: how far into a tail of the replicates the figure lies."""
    replicated = replicated[np.isfinite(replicated)]
    if not len(replicated):
        return float("nan")
    return min(1.0, 2.0 * min(float(np.mean(replicated <= observed_value)),
                              float(np.mean(replicated >= observed_value))))


def fit(obs: Observations, x: np.ndarray, x_replicated: np.ndarray, x_obs: np.ndarray, ok: np.ndarray,
        weights: np.ndarray, ruled_out: np.ndarray) -> pd.DataFrame:
    """Per figure (on its own scale, logs back to values): observed, prior and posterior-predictive bands.

    x_replicated are the reruns' reported values with the figure's stated error added, so the
    p-value asks whether the published figure looks like one more report of the fitted model.
    """
    rows = []
    for j, (name, o) in enumerate(obs.figures.items()):
        back = np.exp if o.scale == "log" else (lambda v: v)
        prior = back(quantiles(x[ok, j]))
        post = back(quantiles(x_replicated[:, j]))
        weighted = back(quantiles(x[ok, j], weights[ok]))
        rows.append({"figure": name, "kind": o.kind, "label": o.label, "metric": o.metric, "over": o.over,
                     "observed": o.value,
                     "sd": o.sd, "scale": o.scale, "prior_q05": prior[0], "prior_q50": prior[1],
                     "prior_q95": prior[2], "posterior_q05": post[0], "posterior_q50": post[1],
                     "posterior_q95": post[2], "weighted_q50": weighted[1],
                     "p_value": p_value(x_replicated[:, j], x_obs[j]), "ruled_out": float(ruled_out[j]),
                     "source": o.source, "reason": o.reason})
    return pd.DataFrame(rows)


def parameters(names: Sequence[str], ranges: Mapping[str, PlausibleRange], obs: Observations, prior_u: np.ndarray,
               posterior_u: np.ndarray, weighted: np.ndarray, contraction: np.ndarray) -> pd.DataFrame:
    """Per parameter, in its own units: the prior's and the posterior's 90% intervals, and the contraction."""
    every = {**ranges, **{f"nuisance.{k}": r for k, r in obs.nuisance.items()}}
    rows = []
    for j, name in enumerate(names):
        r = every[name]
        prior = r.from_unit(quantiles(prior_u[:, j]))
        post = r.from_unit(quantiles(posterior_u[:, j]))
        w = r.from_unit(quantiles(prior_u[:, j], weighted))
        rows.append({"parameter": name, "lo": r.lo, "hi": r.hi, "log": r.log, "reason": r.reason,
                     "prior_q05": prior[0], "prior_q50": prior[1], "prior_q95": prior[2],
                     "posterior_q05": post[0], "posterior_q50": post[1], "posterior_q95": post[2],
                     "weighted_q50": w[1], "contraction": float(contraction[j])})
    return pd.DataFrame(rows)


def leave_one_out(obs: Observations, theta: np.ndarray, x: np.ndarray, x_obs: np.ndarray, sd: np.ndarray,
                  train: np.ndarray, ok: np.ndarray, bank: Bank, metrics: Sequence[str]) -> pd.DataFrame:
    """Each headline interval with one figure left out, by both estimates, with no new runs.

    Neural: an estimator retrained without the figure, the bank reweighted to its posterior (q over
    the uniform prior). Weighted: the bank weighted by the likelihood of the other figures. `ess`
    says how many runs each rests on.
    """
    rows = []
    names = list(obs.figures)
    columns = ["left_out", "metric", "estimate", "q05", "q50", "q95", "ess"]
    if len(names) < 2:
        return pd.DataFrame(columns=columns)
    for j, name in enumerate(names):
        keep = [i for i in range(len(names)) if i != j]
        estimator = inference.fit_npe(theta[train], x[train][:, keep], seeds=tuple(range(LOO_MEMBERS)),
                                      noise_sd=sd[keep])
        by = {"neural": density_weights(estimator, theta[ok], x_obs[keep]),
              "weighted": inference.likelihood_weights(x[ok][:, keep], x_obs[keep], sd[keep])}
        for metric in metrics:
            for estimate, (w, ess) in by.items():
                q = quantiles(bank.finals[metric].to_numpy()[ok], w)
                rows.append({"left_out": name, "metric": metric, "estimate": estimate, "q05": q[0], "q50": q[1],
                             "q95": q[2], "ess": ess})
    return pd.DataFrame(rows, columns=columns)


def tipping_box(bank: Bank, values: pd.DataFrame, posterior_values: pd.DataFrame,
                weights: np.ndarray) -> dict[str, Any] | None:
    """PRIM's box of the high-blacklist branch on the bank, with its prior and posterior mass."""
    if TIPPING_METRIC not in bank.finals:
        return None
    final = bank.finals[TIPPING_METRIC].to_numpy(dtype=float)
    cut = tipping.split_point(final)
    high = tipping.high_branch(final, cut)
    finite = np.isfinite(final)
    if not high.any() or high[finite].all() or np.median(final[high]) < TIPPING_LEVEL:
        # one branch, or a split among small shares (few listed either way): no regime to name
        return {"threshold": float("nan"), "high_runs": 0, "box": None}
    box = tipping.find_box(values, high)
    if box is None:
        return {"threshold": cut, "high_runs": int(high.sum()), "box": None}
    return {"threshold": cut, "high_runs": int(high.sum()), "box": box, "description": box.describe(),
            "posterior_mass": box.mass(posterior_values), "weighted_mass": box.mass(values, weights)
            if weights.sum() > 0 else float("nan")}


def self_consistency(estimator: Any, theta: np.ndarray, x: np.ndarray, sd: np.ndarray, held: np.ndarray,
                     ok: np.ndarray, bank: Bank, metrics: Sequence[str], seed: int) -> dict[str, float]:
    """Held-out bank runs as pretend observations: coverage of 90% intervals, SBC and TARP.

    Parameters: the estimator's marginal intervals at each held-out run's figures. Headline
    metrics: the training bank reweighted to that posterior, its 90% interval against the run's
    own final value. A pretend observation carries the figures' stated error, as a real one does
    (inference.py's checks add it the same way).
    """
    out: dict[str, float] = {"held_out": float(held.sum())}
    if held.sum() < 10:
        return out
    cov = inference.coverage(estimator, theta[held], x[held], level=0.9, n_draws=COVERAGE_DRAWS, seed=seed)
    out.update({f"coverage.{k}": float(v) for k, v in cov.items() if np.isscalar(v)})
    pool = ok & ~held
    hits = {m: [] for m in metrics}
    noise = np.random.default_rng([seed, 0x6E6F]).standard_normal(x.shape) * sd
    for i in np.flatnonzero(held):
        w, _ = density_weights(estimator, theta[pool], x[i] + noise[i])
        for metric in metrics:
            truth = bank.finals[metric].to_numpy()[i]
            if not np.isfinite(truth):
                continue
            q = quantiles(bank.finals[metric].to_numpy()[pool], w)
            hits[metric].append(q[0] <= truth <= q[2])
    for metric, h in hits.items():
        if h:
            out[f"coverage.metric.{metric}"] = float(np.mean(h))
    out.update({f"sbc.{k}": float(v) for k, v in inference.sbc(estimator, theta[held], x[held], seed=seed).items()
                if np.isscalar(v)})
    out.update({f"tarp.{k}": float(v) for k, v in inference.tarp(estimator, theta[held], x[held], seed=seed).items()
                if np.isscalar(v)})
    return out
