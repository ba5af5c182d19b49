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
- Court judgments, finance, online posts, purchases and civic acts are seen at their coverages.
- Each observed true event is filed under a uniformly random other person with the linkage
  error rate.
"""

from __future__ import annotations

import numpy as np

from .. import rng
from ..context import Context
from ..scenario.schema import EVENT_KINDS
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


def step(ctx: Context, state: State, t: int) -> None:
    sur = ctx.scenario.surveillance
    seed = ctx.seed
    n = ctx.society.n
    obs = state.surveillance.observed
    coverage = channel_coverage(ctx)
    weight_by_cell = np.bincount(ctx.cell, weights=ctx.false_match_weight, minlength=ctx.n_cells)

    for kind in EVENT_KINDS:
        k = EVENT[kind]
        seen = rng.binomial(seed, f"surveillance.seen.{kind}", t, state.behaviour.events[k], coverage[kind])

        if kind in OFFLINE and ctx.false_positive_rate.any():
            searches = np.bincount(ctx.cell, weights=seen, minlength=ctx.n_cells)
            false_matches = searches * ctx.false_positive_rate
            per_weight = np.divide(false_matches, weight_by_cell, out=np.zeros(ctx.n_cells), where=weight_by_cell > 0)
            mean = per_weight[ctx.cell] * ctx.false_match_weight
            obs[1, k] = rng.poisson(seed, f"surveillance.false_match.{kind}", t, mean)
        else:
            obs[1, k] = 0

        misfiled = rng.binomial(seed, f"surveillance.linkage.{kind}", t, seen, sur.linkage_error_rate)
        obs[0, k] = seen - misfiled
        n_misfiled = int(misfiled.sum())
        if n_misfiled:
            targets = (rng.uniform(seed, f"surveillance.linkage_target.{kind}", t, n_misfiled) * n).astype(np.int64)
            obs[2, k] = np.minimum(np.bincount(targets, minlength=n), np.iinfo(np.uint16).max)
        else:
            obs[2, k] = 0

    state.surveillance.firm_observed[:] = rng.binomial(
        seed, "surveillance.firm", t, state.behaviour.firm_events, sur.credit_coverage
    )
