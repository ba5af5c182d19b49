"""Latent traits: what people are, which the system never sees directly.

Use `draw_traits` after `draw_people` (reliability leans on income). Every trait is in [0, 1]:
the normal CDF of a latent normal whose location sets the mean (E[Phi(mu + Z)] =
Phi(mu / sqrt 2)) or the share above one half (gaming, drinking: P = Phi(mu)), except dissent,
which is heavy-tailed: an activist share sits in a Pareto tail above activist_floor, everyone else
in an exponential squeezed under it. Reliability correlates with standardised log income,
law-abidance with reliability; sociability's latent normal also drives the number of friends.
Each trait is stored as a uint16 code; read it with trustsim.society.codes.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from trustsim import rng
from trustsim.kernels.threads import in_blocks
from trustsim.society.codes import CODE_DTYPE
from trustsim.scenario.schema import Traits
from trustsim.society.kernels import people as sk
from trustsim.society.people import IncomeModel

TRAITS = ("reliability", "law_abidance", "dissent", "online_activity", "gaming", "drinking", "sociability")
SOCIABILITY_STREAM = "society.sociability"
_STREAMS = (
    "society.reliability", "society.law_abidance", "society.activist", "society.dissent",
    "society.online_activity", "society.gaming", "society.drinking", SOCIABILITY_STREAM,
)


def _mean_loc(mean: float) -> float:
    """Location mu with E[Phi(mu + Z)] = mean."""
    return math.sqrt(2.0) * float(ndtri(mean))


def draw_traits(traits: Traits, income: np.ndarray, income_model: IncomeModel, seed: int) -> dict[str, np.ndarray]:
    """Each trait's codes, given each person's income as drawn (float32 yuan/year)."""
    n = income.shape[0]
    out = {name: np.empty(n, dtype=CODE_DTYPE) for name in TRAITS}
    keys = np.array([rng.key(seed, s) for s in _STREAMS], dtype=np.uint64)
    in_blocks(
        sk.latent_traits, n,
        keys, income, income_model.log_mean, income_model.log_sd, traits.reliability_income_corr,
        _mean_loc(traits.law_abidance_mean), traits.law_reliability_corr, traits.activist_share,
        traits.activist_floor, traits.dissent_tail_index, traits.dissent_baseline_scale,
        _mean_loc(traits.online_activity_mean), float(ndtri(traits.gamer_share)),
        float(ndtri(traits.drinker_share)), _mean_loc(traits.sociability_mean),
        *(out[name] for name in TRAITS),
    )
    return out
