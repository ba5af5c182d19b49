"""Stage 4, scoring: decayed sub-scores, the 350..950 score, friends and family, participation.

Writes only ``state.scoring``. Per step:

1. Each dimension's sub-score decays by 0.5 ** (step / half-life) and gains the points of the
   events observed this step (gaming hours beyond the free allowance only). The points owed to
   false matches and to linkage errors are tracked beside them, so the audit can take them out.
2. The individual score maps the weighted raw points onto 350..950 with a logistic curve centred
   so that a clean record gets the baseline score.
3. Friends and family: the published score is pulled toward the weighted mean of one's active
   contacts' scores of the previous step, and each contact under the threshold costs points
   (scaled by the social weight):
   score = clip((1 - a) * individual + a * contacts_mean - social_weight * penalty * low, 350, 950).
4. Participation: everyone is a member when mandatory; when voluntary, non-members opt in with a
   weekly rate that rises with how far their expected score sits above the lowest reward bar.

``counterfactual_scores`` gives what the score would be without false matches, without any
recording errors, and without association: the sanctions stage uses it to attribute each
sanction to its cause.
"""

from __future__ import annotations

import numpy as np

from .. import rng
from ..context import Context
from ..kernels.graph import contact_stats
from ..kernels.scoring import accumulate_record
from ..state import DIMENSION, EVENT, State

SOCIAL = DIMENSION["social"]
GAMING = EVENT["gaming_hours"]


def raw_points(ctx: Context, state: State) -> np.ndarray:
    """Weighted raw points of the individual record (social dimension excluded: it acts directly)."""
    weights = ctx.dimension_weights.astype(np.float32)
    weights[SOCIAL] = 0.0
    return np.tensordot(weights, state.scoring.subscores, axes=1) + state.scoring.corrections


def counterfactual_scores(ctx: Context, state: State) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores (without false matches, without any recording error, and from true behaviour alone)."""
    sc = state.scoring
    raw = raw_points(ctx, state)
    association = sc.score - sc.individual
    without_false_match = ctx.to_score(raw - sc.error_points[0]) + association
    true_raw = raw - sc.error_points[0] - sc.error_points[1]
    true_alone = ctx.to_score(true_raw)
    return without_false_match, true_alone + association, true_alone


def step(ctx: Context, state: State, t: int) -> None:
    sc = state.scoring
    scoring = ctx.scenario.scoring

    # Appeals granted last step strike the error points off the record.
    cleared = state.sanctions.cleared
    if cleared.any():
        sc.corrections[cleared] += sc.error_points[0, cleared] + sc.error_points[1, cleared]
        sc.error_points[:, cleared] = 0.0

    accumulate_record(
        state.surveillance.observed, ctx.points, ctx.event_dimension,
        ctx.dimension_weights[ctx.event_dimension], GAMING,
        ctx.scenario.scoring.gaming_free_hours * ctx.weeks_per_step, np.float32(ctx.decay),
        sc.subscores, sc.error_points, sc.corrections,
    )

    sc.individual[:] = ctx.to_score(raw_points(ctx, state))

    net = ctx.society.network
    association = scoring.association
    contacts_mean, low = contact_stats(
        net.indptr, net.indices, net.edge_layer, state.responses.edge_active, ctx.layer_weights,
        sc.score, sc.member, np.float32(association.threshold),
    )
    contacts_mean = np.where(np.isnan(contacts_mean), sc.individual, contacts_mean)
    penalty = scoring.weights.social * association.contact_penalty
    sc.low_contacts[:] = low
    sc.subscores[SOCIAL] = -association.contact_penalty * low.astype(np.float32)
    pulled = (1 - association.weight) * sc.individual + association.weight * contacts_mean - penalty * low
    sc.score[:] = np.clip(pulled, 350.0, 950.0)

    _participation(ctx, state, t)


def _participation(ctx: Context, state: State, t: int) -> None:
    sc = state.scoring
    part = ctx.scenario.participation
    if part.mode == "mandatory":
        sc.member[:] = True
        return
    bars = [r.score_at_least for r in ctx.scenario.rewards.rules]
    bar = min(bars) if bars else ctx.scenario.scoring.baseline
    appeal = 1.0 / (1.0 + np.exp(-part.benefit_sensitivity * (sc.individual - bar) / 100.0))
    joins = rng.bernoulli(ctx.seed, "scoring.opt_in", t, part.opt_in_rate * ctx.weeks_per_step * appeal)
    sc.member |= joins

