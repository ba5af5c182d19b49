"""Stage 2, behaviour: the true events of a step.

Writes only ``state.behaviour``. Each event count is a Poisson draw whose mean is the scenario's
base rate (per week, times the step length) scaled by a latent trait normalised to mean 1, so the
population's mean rate is the base rate. Sanctions act back through lost income (more missed
payments, fewer trips), throttled internet (fewer posts) and travel bans (fewer attempts);
responses act through chilling (expressed dissent), compliance (fewer penalised purchases) and
deterrence (less crime where detection is likely).
"""

from __future__ import annotations

import numpy as np

from .. import rng
from ..context import Context
from ..state import EVENT, MEASURE, NOT_APPLIED, BLACKLIST, State


def _under(state: State, measure: str) -> np.ndarray:
    return state.sanctions.cause[MEASURE[measure]] != NOT_APPLIED


def income_kept(ctx: Context, state: State, t: int) -> np.ndarray:
    """Share of normal income a person has this step: shocks, job bans and shaming cut it."""
    behaviour = ctx.scenario.behaviour
    effects = ctx.scenario.sanctions.effects
    kept = _factor(state.behaviour.shock_until > t, behaviour.income_shock_factor)
    kept *= _factor(_under(state, "job_ban"), effects.job_ban_income_factor)
    kept *= _factor((state.sanctions.lists & BLACKLIST) != 0, effects.blacklist_income_factor)
    return kept


def _factor(where: np.ndarray, factor: float) -> np.ndarray:
    """float32 array: factor where the condition holds, 1 elsewhere."""
    return np.where(where, np.float32(factor), np.float32(1.0))


def expressed_dissent(ctx: Context, state: State) -> np.ndarray:
    """Chilling: expressed dissent = latent dissent x (1 - strength x perceived risk)."""
    strength = ctx.scenario.responses.chilling.strength
    return ctx.society.people["dissent"] * (1.0 - strength * state.responses.perceived_risk)


def step(ctx: Context, state: State, t: int) -> None:
    sc = ctx.scenario
    rates = sc.behaviour
    dt = ctx.weeks_per_step
    seed = ctx.seed
    out = state.behaviour
    n = ctx.society.n

    shocked = rng.bernoulli(seed, "behaviour.income_shock", t, np.full(n, rates.income_shock_rate * dt))
    out.shock_until[shocked] = t + max(1, round(rates.income_shock_weeks / dt))
    stress = 1.0 / income_kept(ctx, state, t)

    # Compliance and deterrence only move people who are scored and have something at stake.
    member = state.scoring.member
    points = sc.scoring.points
    weights = sc.scoring.weights
    consumption_scored = weights.consumption > 0
    comply = sc.responses.compliance.strength
    penalised_cut = _factor(member, 1.0 - comply * (consumption_scored and points.alcohol_purchase < 0))
    gaming_cut = _factor(member, 1.0 - comply * (consumption_scored and points.gaming_hours < 0))
    approved_boost = _factor(member, 1.0 + comply * (consumption_scored and points.approved_purchase > 0))
    deterrence = 1.0 - sc.responses.deterrence.strength * ctx.offline_coverage

    throttled = _under(state, "internet_throttle") | _under(state, "id_block")
    online = _factor(throttled, sc.sanctions.effects.throttle_online_factor)
    traits = sc.population.traits
    means = {
        "missed_payment": rates.missed_payment_rate * ctx.unreliability_scale * stress,
        "loan_default": rates.loan_default_rate * ctx.unreliability_scale * stress,
        "minor_violation": rates.minor_violation_rate * ctx.lawlessness_scale * deterrence,
        "judgment_default": rates.judgment_default_rate * ctx.unreliability_scale * ctx.lawlessness_scale * stress,
        "crime": rates.crime_rate * ctx.crime_scale * deterrence,
        "critical_post": rates.posts_per_week * ctx.online_scale * online * expressed_dissent(ctx, state),
        "alcohol_purchase": rates.alcohol_purchases_per_week * traits.drinker_share * ctx.drinking_scale * penalised_cut,
        "gaming_hours": rates.gaming_hours_per_week * traits.gamer_share * ctx.gaming_scale * gaming_cut,
        "approved_purchase": rates.approved_purchases_per_week * approved_boost,
        "volunteering": rates.volunteering_rate * ctx.sociability_scale,
        "blood_donation": rates.blood_donation_rate,
    }
    rows = np.empty((len(EVENT), n), np.float32)
    for kind, mean in means.items():
        np.multiply(mean, dt, out=rows[EVENT[kind]])
    out.events[:] = rng.poisson_rows(seed, [f"behaviour.{kind}" for kind in EVENT], t, rows)

    travel = ctx.income_scale / stress
    banned = rates.banned_attempt_factor
    flight_banned = _under(state, "flight_ban") | _under(state, "id_block")
    flight_mean = rates.flight_attempts_per_week * dt * travel * _factor(flight_banned, banned)
    rail_mean = rates.rail_attempts_per_week * dt * travel * _factor(_under(state, "rail_ban"), banned)
    out.flight_attempts[:] = rng.poisson(seed, "behaviour.flight_attempts", t, flight_mean)
    out.rail_attempts[:] = rng.poisson(seed, "behaviour.rail_attempts", t, rail_mean)

    corruption = ctx.society.firms["corruption"].astype(np.float64)
    out.firm_events[:] = rng.poisson(seed, "behaviour.firm_violation", t, rates.firm_violation_rate * dt * corruption)
