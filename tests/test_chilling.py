"""Chilling follows one's own risk (docs/model.md, section 6): the evidence targets, stakes, punished
contacts, the committed few, and the exact absence of chilling when it is switched off.

One national_2020 run of five years is shared by the tests that read its end state; the other
scenarios run small and short, since their ratios settle within weeks (memory_weeks).
"""

import numpy as np
import pytest
import trustsim
from trustsim.engine import run_steps
from trustsim.scenario.schema import OCCUPATIONS
from trustsim.stages.responses import target_risk

PEOPLE = 20_000
BARS = np.array([400.0, 450.0, 500.0])  # national_2020's score_below bars
STATE_JOBS = [OCCUPATIONS.index("civil_servant"), OCCUPATIONS.index("state_manager")]
BUSINESS = OCCUPATIONS.index("business_owner")
MONITORING_ONLY = {"scoring.points.critical_post": 0.0, "sanctions.rules": []}


def simulate(preset, people, years, **overrides):
    scenario = trustsim.load_scenario(preset, {"population.people": people, "run.years": years, **overrides})
    return trustsim.simulate(scenario, seed=0)


def final(result, metric, group="all"):
    m = result.metrics
    rows = m[(m.metric == metric) & (m.group == group)].sort_values("step")
    return rows["value"].iloc[-1]


@pytest.fixture(scope="module")
def national():
    return simulate("national_2020", PEOPLE, 5, **{"run.snapshot": True})


@pytest.fixture(scope="module")
def people(national):
    """Scored people who are not committed, with their share of dissent expressed and their stake."""
    s = national.snapshot
    s = s[s["member"] & ~s["committed"]].copy()
    s["ratio"] = s["expressed_dissent"] / s["dissent"]
    above = s["score"].to_numpy()[:, None] - BARS[None, :]
    s["gap"] = np.where(above >= 0, above, np.inf).min(axis=1)
    s.loc[s["score"] < BARS[0], "gap"] = 0.0  # under every bar
    s["decile"] = np.searchsorted(np.quantile(national.snapshot["dissent"], np.linspace(0.1, 0.9, 9)), s["dissent"])
    s["contacts"] = s["punished_contacts"].clip(upper=3)
    s["state_job"] = s["occupation"].isin(STATE_JOBS)
    s["plain"] = ~s["state_job"] & (s["occupation"] != BUSINESS)  # no stake from a job or a business
    return s


def matched_difference(people, a, b, strata=("decile", "contacts")):
    """Expressed share of group a minus that of group b, compared within strata (equal dissent decile,
    and by default equal punished contacts) and averaged over a's members."""
    strata = list(strata)
    mean_a = people[a].groupby(strata)["ratio"].mean()
    mean_b = people[b].groupby(strata)["ratio"].mean()
    size_a = people[a].groupby(strata).size()
    gap = (mean_a - mean_b).dropna()
    return float((gap * size_a[gap.index]).sum() / size_a[gap.index].sum())


def test_the_most_dissenting_tenth_voices_a_fifth_to_two_fifths_of_its_dissent(national):
    deciles = np.array([final(national, "expressed_dissent_ratio", f"dissent_decile={d}") for d in range(1, 11)])
    assert 0.2 <= deciles[-1] <= 0.4
    assert np.all(np.diff(deciles) < 0), f"the ratio falls from the least to the most dissenting decile: {deciles}"
    assert deciles[0] - deciles[-1] >= 0.3


def test_at_equal_dissent_more_at_stake_means_less_said(people):
    plain = (people.gap > 150) & people.plain
    assert matched_difference(people, (people.gap > 150) & people.state_job, plain) < -0.1
    near_bar = people.plain & (people.gap < 50)
    assert near_bar.sum() > 50
    assert matched_difference(people, near_bar, plain) < -0.05


def test_punished_contacts_chill_and_the_first_matters_most(people):
    plain = (people.gap > 150) & people.plain
    k = people.punished_contacts
    one, two = (matched_difference(people, plain & (k == n), plain & (k == 0), ["decile"]) for n in (1, 2))
    assert one < -0.1, "one punished contact chills"
    assert two < one - 0.03, "a second chills more"
    assert two - one > one, "but adds less than the first"


def test_the_risk_target_is_concave_in_punished_contacts():
    scenario = trustsim.load_scenario("national_2020", {"population.people": 2000, "run.years": 0.02})
    _, ctx, _ = next(run_steps(scenario, seed=0))
    p = ctx.params
    risk = [target_risk(p, 0.01, True, False, k, 1.0) for k in range(4)]
    steps = np.diff(risk)
    assert np.all(steps > 0) and np.all(np.diff(steps) < 0)
    emboldened = [target_risk(p, 0.01, True, True, k, 1.0) for k in range(3)]
    assert emboldened[0] == 0.0 and emboldened[2] < emboldened[1] < 0.0


def test_the_committed_are_not_chilled(national):
    s = national.snapshot
    committed = s[s["committed"]]
    assert 0.05 < len(committed) / (len(s) / 10) < 0.15  # about committed.share of the top tenth
    assert np.all(committed["perceived_risk"] <= 0)
    assert np.all(committed["expressed_dissent"] >= committed["dissent"])
    assert final(national, "expressed_dissent_ratio", "stake=committed") >= 1.0
    assert final(national, "expressed_dissent_ratio", "stake=other") < 0.6


def test_watching_alone_chills_at_the_margin_and_a_credit_bureau_not_at_all():
    watched = simulate("national_2020", 5_000, 0.5, **MONITORING_ONLY)
    assert 0.8 <= final(watched, "expressed_dissent_ratio") <= 0.95
    bureau = simulate("financial_only", 3_000, 0.25)
    assert final(bureau, "expressed_dissent_ratio") == pytest.approx(1.0, abs=1e-9)


def test_without_chilling_expressed_equals_latent_exactly():
    free = simulate("national_2020", 3_000, 0.5, **{"responses.chilling.strength": 0.0})
    m = free.metrics
    assert np.all(m[m.metric == "expressed_dissent_ratio"]["value"] == 1.0)


def test_the_sanctioned_lose_a_plausible_share_of_ties_and_ties_sort_by_score(national):
    assert 0.05 <= final(national, "sanctioned_tie_loss") <= 0.25
    m = national.metrics
    corr = m[(m.metric == "score_tie_correlation") & (m.group == "all")].sort_values("step")["value"].to_numpy()
    assert np.all(np.abs(corr) <= 1)
    assert corr[-1] > corr[0] + 0.02, "ties come to join people of like scores"
