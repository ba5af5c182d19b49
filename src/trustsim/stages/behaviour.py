"""Stage 2, behaviour: how often each person does each thing this step.

Writes only ``state.behaviour`` (income shocks). Each event count is Poisson with a mean equal to
the scenario's base rate (per week, times the step length) scaled by a latent trait normalised to
mean 1, so the population's mean rate is the base rate. Sanctions act back through lost income
(more missed payments, fewer trips), throttled internet (fewer posts) and travel bans (fewer
attempts); responses act through chilling (expressed dissent), compliance (fewer penalised
purchases) and deterrence (less crime where detection is likely).

The counts themselves are drawn by the surveillance stage, split by what happens to each event
(seen and filed right, misfiled, unseen): Poisson thinning makes the parts independent Poisson
draws, so a step's events never need to be stored. These functions give the means, per person,
inside the Numba passes (kernels/person_pass.py).
"""

from __future__ import annotations

import numba
import numpy as np

from ..rng import poisson_inverse, unit_jit
from ..society.codes import dissent_value_jit, income_value_jit, unit_value_jit
from ..state import BLACKLIST, EVENT, MEASURE, NOT_APPLIED

STREAMS = ("behaviour.income_shock", "behaviour.flight_attempts", "behaviour.rail_attempts")
SHOCK, FLIGHT, RAIL = range(3)

_MISSED, _DEFAULT, _MINOR = EVENT["missed_payment"], EVENT["loan_default"], EVENT["minor_violation"]
_JUDGMENT, _CRIME, _POST = EVENT["judgment_default"], EVENT["crime"], EVENT["critical_post"]
_ALCOHOL, _GAMING, _APPROVED = EVENT["alcohol_purchase"], EVENT["gaming_hours"], EVENT["approved_purchase"]
_VOLUNTEER, _BLOOD = EVENT["volunteering"], EVENT["blood_donation"]
_THROTTLE, _FLIGHT_BAN, _RAIL_BAN = MEASURE["internet_throttle"], MEASURE["flight_ban"], MEASURE["rail_ban"]
_JOB_BAN, _ID_BLOCK = MEASURE["job_ban"], MEASURE["id_block"]


@numba.njit(cache=True, inline="always")
def shock_end(p, keys, shock_until, i, t):
    """The step person i's income shock ends (0: none), after this step's draw of a new one."""
    if unit_jit(keys[SHOCK], i) < p.shock_probability:
        return t + p.shock_steps
    return shock_until


@numba.njit(cache=True, inline="always")
def _under(cause, measure, i):
    return cause[measure, i] != NOT_APPLIED


@numba.njit(cache=True, inline="always")
def income_kept(p, s, i, shock_ends, t):
    """Share of normal income person i has this step: shocks, job bans and shaming cut it."""
    kept = 1.0
    if shock_ends > t:
        kept *= p.shock_factor
    if _under(s.cause, _JOB_BAN, i):
        kept *= p.job_ban_income_factor
    if s.lists[i] & BLACKLIST:
        kept *= p.blacklist_income_factor
    return kept


@numba.njit(cache=True, inline="always")
def expressed_dissent(p, dissent, risk):
    """Chilling: expressed dissent = latent dissent x (1 - strength x perceived risk)."""
    return dissent * (1.0 - p.chilling_strength * risk)


@numba.njit(cache=True, inline="always")
def event_means(p, people, s, i, member, risk, kept, means):
    """Fill means[kind] with person i's expected events this step, given their membership, perceived
    risk and the income they keep."""
    stress = 1.0 / kept
    cause = s.cause
    unreliability = (1.0 - unit_value_jit(people.reliability[i])) * p.unreliability_norm
    lawlessness = 1.0 - unit_value_jit(people.law_abidance[i])
    deterrence = 1.0 - p.deterrence * p.offline_coverage[people.urban[i]]
    online = p.throttle_online_factor if (_under(cause, _THROTTLE, i) or _under(cause, _ID_BLOCK, i)) else 1.0
    speech = expressed_dissent(p, dissent_value_jit(people.dissent[i]), risk)
    rate = p.base_rate
    # Compliance moves only people who are scored: they have something at stake.
    means[_MISSED] = rate[_MISSED] * unreliability * stress
    means[_DEFAULT] = rate[_DEFAULT] * unreliability * stress
    means[_MINOR] = rate[_MINOR] * lawlessness * p.lawlessness_norm * deterrence
    means[_JUDGMENT] = rate[_JUDGMENT] * unreliability * lawlessness * p.lawlessness_norm * stress
    means[_CRIME] = rate[_CRIME] * lawlessness * lawlessness * p.crime_norm * deterrence
    means[_POST] = rate[_POST] * unit_value_jit(people.online_activity[i]) * p.online_norm * online * speech
    means[_ALCOHOL] = rate[_ALCOHOL] * unit_value_jit(people.drinking[i]) * p.drinking_norm * (1.0 - p.penalised_cut * member)
    means[_GAMING] = rate[_GAMING] * unit_value_jit(people.gaming[i]) * p.gaming_norm * (1.0 - p.gaming_cut * member)
    means[_APPROVED] = rate[_APPROVED] * (1.0 + p.approved_boost * member)
    means[_VOLUNTEER] = rate[_VOLUNTEER] * unit_value_jit(people.sociability[i]) * p.sociability_norm
    means[_BLOOD] = rate[_BLOOD]


@numba.njit(cache=True, inline="always")
def expected(p, people, b, sc, s, risk, keys, i, t, means):
    """Person i's step: the end of their income shock after this step's draw, the share of income
    they keep, and (into means) their expected events. Both passes that draw events start here."""
    shock = shock_end(p, keys, b.shock_until[i], i, t)
    kept = income_kept(p, s, i, shock, t)
    event_means(p, people, s, i, sc.member[i], risk[i], kept, means)
    return shock, kept


@numba.njit(cache=True, inline="always")
def deterred(s, i):
    """The travel bans person i is under at the step's start, which deter attempts: bit 0 flights, bit 1 rail."""
    cause = s.cause
    flights = _under(cause, _FLIGHT_BAN, i) or _under(cause, _ID_BLOCK, i)
    return np.uint8((1 if flights else 0) | (2 if _under(cause, _RAIL_BAN, i) else 0))


@numba.njit(cache=True, inline="always")
def travel_means(p, people, i, kept, deterred):
    """Expected flight and rail ticket attempts this step, given the share of income kept and the bans
    that deter them (deterred()). Only the banned need them, so only they pay for decoding income."""
    travel = income_value_jit(people.income[i]) * p.income_norm * kept
    flight = p.flight_rate * travel
    if deterred & 1:
        flight *= p.banned_attempt_factor
    rail = p.rail_rate * travel
    if deterred & 2:
        rail *= p.banned_attempt_factor
    return flight, rail


@numba.njit(cache=True, inline="always")
def attempts(keys, stream, i, mean):
    """Ticket attempts of person i on one stream (FLIGHT or RAIL), capped to a byte."""
    return min(poisson_inverse(unit_jit(keys[stream], i), mean), 255)
