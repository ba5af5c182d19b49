"""Stage 3, surveillance: what the system observes, and why.

Writes only ``state.surveillance``. Every observed event carries its cause (index 0 of
``observed``): 0 true (the right person, for an act they did), 1 false_match (a face search pinned
someone else's act on them), 2 linkage_error (record linkage filed an observed event under the
wrong person). Nothing here recognises a face or reads a text: each channel is a coverage
probability and each error a rate, as in docs/model.md.

- Offline acts (minor violations, crimes) are seen with the person's camera coverage times
  (1 - miss rate). Each sighting is a one-to-many face search; each search returns a false match
  with the false-positive identification rate, pinned on a person of the same region and
  urban/rural cell with probability proportional to their group multiplier. The rate grows with
  the gallery searched (the region's real population) as (gallery / reference)^exponent.
- Court judgments, finance, online posts, purchases and civic acts are seen at their coverages;
  court coverage rolls out linearly from court_coverage_start over court_coverage_ramp_years.
- Each observed true event is filed under a uniformly random other person with the linkage
  error rate.
"""

from __future__ import annotations

import numpy as np

from .. import rng
from ..context import Context
from ..scenario.schema import EVENT_KINDS, Scenario
from ..state import EVENT, State

OFFLINE = ("minor_violation", "crime")


def channel_coverage(ctx: Context) -> dict[str, np.ndarray | float]:
    """Probability that one true event of each kind is observed."""
    sur = ctx.scenario.surveillance
    by_channel = {
        "offline": ctx.offline_coverage,
        "court": sur.court_coverage,
        "credit": sur.credit_coverage,
        "online": sur.online_coverage,
        "commerce": sur.commerce_coverage,
        "civic": sur.civic_coverage,
    }
    channel_of = {
        "missed_payment": "credit", "loan_default": "credit", "minor_violation": "offline",
        "judgment_default": "court", "crime": "offline", "critical_post": "online",
        "alcohol_purchase": "commerce", "gaming_hours": "commerce", "approved_purchase": "commerce",
        "volunteering": "civic", "blood_donation": "civic",
    }
    return {kind: by_channel[channel_of[kind]] for kind in EVENT_KINDS}


def court_rollout(scenario: Scenario, t: int) -> float:
    """Share of court_coverage in force in step t (at the step's middle): 0 before
    court_coverage_start, rising linearly over court_coverage_ramp_years, then 1."""
    sur, run = scenario.surveillance, scenario.run
    start = sur.court_coverage_start or run.start
    days = (run.start - start).days + run.step_days * (t + 0.5)
    ramp = sur.court_coverage_ramp_years * 365.25
    if ramp <= 0:
        return float(days >= 0)
    return min(max(days / ramp, 0.0), 1.0)


def step(ctx: Context, state: State, t: int) -> None:
    sur = ctx.scenario.surveillance
    seed = ctx.seed
    n = ctx.society.n
    obs = state.surveillance.observed
    kinds = list(EVENT_KINDS)

    coverage = np.empty((len(kinds), n), np.float32)
    for kind, p in channel_coverage(ctx).items():
        coverage[EVENT[kind]] = p
    rollout = court_rollout(ctx.scenario, t)
    if rollout < 1.0:
        coverage[EVENT["judgment_default"]] *= rollout
    seen = rng.binomial_rows(seed, [f"surveillance.seen.{k}" for k in kinds], t, state.behaviour.events, coverage)

    obs[1] = 0
    if ctx.false_positive_rate.any():
        weight_by_cell = np.bincount(ctx.cell, weights=ctx.false_match_weight, minlength=ctx.n_cells)
        means = np.empty((len(OFFLINE), n), np.float32)
        for row, kind in enumerate(OFFLINE):
            searches = np.bincount(ctx.cell, weights=seen[EVENT[kind]], minlength=ctx.n_cells)
            per_weight = np.divide(
                searches * ctx.false_positive_rate, weight_by_cell,
                out=np.zeros(ctx.n_cells), where=weight_by_cell > 0,
            )
            means[row] = per_weight[ctx.cell] * ctx.false_match_weight
        false_matches = rng.poisson_rows(seed, [f"surveillance.false_match.{k}" for k in OFFLINE], t, means)
        for row, kind in enumerate(OFFLINE):
            obs[1, EVENT[kind]] = false_matches[row]

    linkage = np.broadcast_to(np.float32(sur.linkage_error_rate), seen.shape)
    misfiled = rng.binomial_rows(seed, [f"surveillance.linkage.{k}" for k in kinds], t, seen, linkage)
    obs[0] = seen - misfiled
    for kind in kinds:
        k = EVENT[kind]
        n_misfiled = int(misfiled[k].sum())
        obs[2, k] = 0
        if n_misfiled:
            targets = (rng.uniform(seed, f"surveillance.linkage_target.{kind}", t, n_misfiled) * n).astype(np.int64)
            obs[2, k] = np.minimum(np.bincount(targets, minlength=n), np.iinfo(np.uint16).max)

    state.surveillance.firm_observed[:] = rng.binomial(
        seed, "surveillance.firm", t, state.behaviour.firm_events, sur.credit_coverage
    )
