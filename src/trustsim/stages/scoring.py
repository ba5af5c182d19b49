"""Stage 4, scoring: the decayed record, the 350..950 score, friends and family, participation.

Writes only ``state.scoring``. Per person and step (inside kernels/person_pass.py):

1. The record decays by 0.5 ** (step / half-life) and gains the weighted points of the events
   observed this step (gaming hours beyond the free allowance only). All dimensions share the
   half-life, so one weighted sum keeps the record; the points owed to false matches and to
   linkage errors are tracked beside it, so the audit can take them out.
2. The individual score maps the raw points onto 350..950 with a logistic curve centred so that a
   clean record gets the baseline score.
3. Friends and family: the published score is pulled toward the weighted mean of one's active
   member contacts' scores of the previous step, and each of them under the threshold costs
   points (scaled by the social weight):
   score = clip((1 - a) * individual + a * contacts_mean - social_weight * penalty * low, 350, 950).
   The responses stage's pass over the network leaves a * contacts_mean - penalty * low in
   ``social`` for this step.
4. Participation: everyone is a member when mandatory; when voluntary, non-members opt in with a
   weekly rate that rises with how far their individual score sits above the lowest reward bar.

``score_cause`` attributes a score under a bar to its cause: without false matches, without any
recording error, and without association, in that order.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..rng import unit_jit
from ..state import CAUSE

STREAMS = ("scoring.opt_in",)
OPT_IN = 0
_TRUE, _FALSE_MATCH = np.uint8(CAUSE["true"]), np.uint8(CAUSE["false_match"])
_LINKAGE, _ASSOCIATION = np.uint8(CAUSE["linkage_error"]), np.uint8(CAUSE["association"])


@numba.njit(cache=True, inline="always")
def to_score(p, raw):
    """Raw points onto 350..950: a clean record (raw 0) gets the baseline score."""
    return 350.0 + 600.0 / (1.0 + math.exp(-(p.logit_baseline + raw / p.spread)))


@numba.njit(cache=True, inline="always")
def _counted(p, count, k):
    """Events that earn points: gaming hours only beyond the free allowance."""
    return max(count - p.free_hours, 0.0) if k == p.gaming_kind else count


@numba.njit(cache=True, inline="always")
def record(p, scoring, i, right, false_match, linkage):
    """Decay person i's record, then add this step's observed events ([kind] counts by cause)."""
    raw = scoring.raw[i] * p.decay
    false_match_points = scoring.error_points[0, i] * p.decay
    linkage_points = scoring.error_points[1, i] * p.decay
    for k in range(right.shape[0]):
        if right[k] == 0 and false_match[k] == 0 and linkage[k] == 0:
            continue
        total = float(right[k] + false_match[k] + linkage[k])
        counted = _counted(p, total, k)
        weighted = p.kind_weight[k] * p.points[k]
        raw += weighted * counted
        false_match_points += weighted * (counted - _counted(p, total - false_match[k], k))
        linkage_points += weighted * (_counted(p, float(right[k] + linkage[k]), k) - _counted(p, float(right[k]), k))
    scoring.raw[i] = raw
    scoring.error_points[0, i] = false_match_points
    scoring.error_points[1, i] = linkage_points


@numba.njit(cache=True, inline="always")
def published(p, individual, social):
    """The published score from the individual one and the contacts' term (NaN: no member contacts)."""
    if math.isnan(social):
        return individual
    return min(max((1.0 - p.association_weight) * individual + social, 350.0), 950.0)


@numba.njit(cache=True, inline="always")
def score_cause(p, scoring, i, individual, bar):
    """Cause of person i's score being under bar: true, or the first error without which it is not."""
    raw = scoring.raw[i]
    without_false_match = raw - scoring.error_points[0, i]
    true_alone = to_score(p, without_false_match - scoring.error_points[1, i])
    if true_alone < bar:
        return _TRUE
    association = scoring.score[i] - individual
    if to_score(p, without_false_match) + association >= bar:
        return _FALSE_MATCH
    if true_alone + association >= bar:
        return _LINKAGE
    return _ASSOCIATION


@numba.njit(cache=True, inline="always")
def strike_errors(scoring, i):
    """A granted appeal strikes the points owed to errors off person i's record."""
    scoring.raw[i] -= scoring.error_points[0, i] + scoring.error_points[1, i]
    scoring.error_points[0, i] = 0.0
    scoring.error_points[1, i] = 0.0


@numba.njit(cache=True, inline="always")
def joins(p, keys, i, individual):
    """Voluntary participation: whether a non-member opts in this step."""
    appeal = 1.0 / (1.0 + math.exp(-p.benefit_sensitivity * (individual - p.reward_floor) / 100.0))
    return unit_jit(keys[OPT_IN], i) < p.opt_in_probability * appeal
