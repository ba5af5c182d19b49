"""Tests of trustsim.society.codes: income and the traits stored in 16 bits, read back in natural
units within half a code step of what was drawn, and what that saves per person; and of the word
contacts see of a person (state.shown), score and flags in 32 bits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

import trustsim
from trustsim import rng
from trustsim.context import Context
from trustsim.society import build_society, codes
from trustsim.society.layout import build_layout
from trustsim.society.people import draw_people
from trustsim.society.traits import _STREAMS, TRAITS, _mean_loc
from trustsim.state import LOW_FLAG, MEMBER_FLAG, SANCTIONED_FLAG, SHOWN_FLAGS, State, shown, shown_jit, shown_score

N = 30_000
SEED = 7
HALF = 0.5 / 65535 + 1e-12  # half a code step, and the rounding of erfc against ndtr


@pytest.fixture(scope="module")
def scenario():
    return trustsim.load_scenario("national_2020", {"population.people": N})


@pytest.fixture(scope="module")
def society(scenario):
    return build_society(scenario, seed=SEED)


def _unit(k, n: int) -> np.ndarray:
    return (rng.bits(k, np.arange(n, dtype=np.uint64)) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _normal(k, n: int) -> np.ndarray:
    """The society kernels' Box-Muller normal, in NumPy."""
    u1, u2 = _unit(k, n), _unit(rng.mix64(np.array([k], dtype=np.uint64))[0], n)
    return np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * math.pi * u2)


def drawn(scenario, n: int) -> dict[str, np.ndarray]:
    """Income and the traits as drawn, in float64, before they are stored."""
    pop, tr = scenario.population, scenario.population.traits
    people, model = draw_people(pop, build_layout(pop, SEED), SEED)
    k = dict(zip(_STREAMS, (rng.key(SEED, s) for s in _STREAMS)))
    z_inc = (np.log(people["income"].astype(np.float64)) - model.log_mean) / model.log_sd
    z_rel = tr.reliability_income_corr * z_inc + math.sqrt(1 - tr.reliability_income_corr**2) * _normal(
        k["society.reliability"], n
    )
    law = _mean_loc(tr.law_abidance_mean) + tr.law_reliability_corr * z_rel + math.sqrt(
        1 - tr.law_reliability_corr**2
    ) * _normal(k["society.law_abidance"], n)
    u = _unit(k["society.dissent"], n)
    activist = _unit(k["society.activist"], n) < tr.activist_share
    floor = tr.activist_floor
    dissent = np.where(
        activist,
        1.0 - (1.0 - floor) * (1.0 - u) ** (1.0 / tr.dissent_tail_index),
        floor * (1.0 - (1.0 - u) ** (tr.dissent_baseline_scale / floor)),
    )
    locs = {
        "online_activity": _mean_loc(tr.online_activity_mean), "gaming": float(ndtri(tr.gamer_share)),
        "drinking": float(ndtri(tr.drinker_share)), "sociability": _mean_loc(tr.sociability_mean),
    }
    out = {"income": people["income"].astype(np.float64), "reliability": ndtr(z_rel), "law_abidance": ndtr(law),
           "dissent": dissent}
    out.update({name: ndtr(loc + _normal(k[f"society.{name}"], n)) for name, loc in locs.items()})
    return out


def test_income_and_traits_are_16_bit_codes(society):
    for name in ("income", *TRAITS):
        assert society.people[name].dtype == np.uint16, name
        assert society.value(name).dtype == np.float64, name
    assert set(codes.CODED) == {"income", *TRAITS}


def test_stored_values_are_the_draws_within_half_a_code_step(scenario, society):
    x = drawn(scenario, N)
    for name in codes.UNIT_TRAITS:
        # the kernel takes the log of a float32 income in float32, which moves these two by < 1e-6
        slack = 1e-6 if name in ("reliability", "law_abidance") else 0.0
        assert np.abs(society.value(name) - x[name]).max() <= HALF + slack, name
    # dissent's code is its square root in fixed point; income's its log in steps of 1/1024
    root = np.sqrt(society.value("dissent"))
    assert np.abs(root - np.sqrt(x["dissent"])).max() <= HALF
    assert np.abs(np.log(society.value("income")) - np.log(x["income"])).max() <= codes.INCOME_LOG_STEP / 2 + 1e-9
    # relative precision where most dissent lies, near 0, and at the top of the activists' tail
    small = (x["dissent"] > 1e-4) & (x["dissent"] < 1e-2)
    assert small.sum() > 100
    assert np.abs(society.value("dissent")[small] / x["dissent"][small] - 1).max() < 2e-3
    assert np.abs(society.value("dissent") - x["dissent"]).max() < 1.6e-5


def test_codes_clip_income_at_the_ends_of_their_span():
    incomes = np.array([1e-30, math.exp(codes.INCOME_LOG_MIN), 32_000.0, 1e30])
    stored = codes.income_code(incomes)
    assert stored.tolist()[0] == 0 and stored.tolist()[1] == 0 and stored.tolist()[3] == 65535
    assert abs(codes.income_value(stored[2]) / 32_000 - 1) < 5e-4
    assert codes.unit_code(np.array([0.0, 1.0])).tolist() == [0, 65535]
    assert codes.dissent_code(np.array([0.0, 0.25])).tolist() == [0, 32768]


def test_arrays_take_under_150_bytes_per_person_at_the_default_network(scenario, society):
    ctx = Context.build(scenario, society, SEED)
    state = State.initial(society.n, society.network.indices.shape[0], society.firms["owner"].shape[0],
                          ctx.n_cells, ctx.step_dtype)
    degree = society.network.degree().mean()
    assert 11 < degree < 14  # about the default mean degree, 12.5
    assert (society.nbytes + state.nbytes + ctx.people.decile.nbytes) / society.n < 150


def test_contacts_see_the_score_within_half_of_1_8192_point_and_every_flag():
    scores = np.linspace(350, 950, 100_001, dtype=np.float32)
    flags = np.arange(scores.shape[0]) % (SHOWN_FLAGS + 1)
    words = shown(scores, flags)
    assert words.dtype == np.uint32
    assert np.array_equal(words & SHOWN_FLAGS, flags)
    seen = np.array([shown_score(w) for w in words[::97]])
    assert np.abs(seen - scores[::97]).max() <= 0.5 / 8192
    everything = MEMBER_FLAG | LOW_FLAG | SANCTIONED_FLAG
    assert shown_jit(np.float32(950.0), everything) == shown(np.float32(950.0), everything)  # the passes' copy
