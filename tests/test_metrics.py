"""The audit metrics per group against the same quantities counted person by person from the final state.

The passes add each person into the sums of their six groups (metrics.py); these tests recount a
few metrics of every group directly from the people, so a person added to the wrong group, a
missing group or a wrong split inside one shows.
"""

import numpy as np
import pytest

import trustsim
from trustsim.engine import run_steps
from trustsim.state import BLACKLIST, COURT_LIST

SCENARIO = {"population.people": 20_000, "run.years": 1}
SEED = 5


@pytest.fixture(scope="module")
def counted():
    """(the run's metrics at its last step as {(metric, group): value}, the people's final values by group)."""
    scenario = trustsim.load_scenario("national_2020", SCENARIO)
    metrics = trustsim.simulate(scenario, seed=SEED).metrics
    last = metrics[metrics.step == metrics.step.max()]
    *_, (t, ctx, state) = run_steps(scenario, SEED)
    people, soc = ctx.people, ctx.society
    net = soc.network
    owner = np.repeat(np.arange(soc.n), net.degree())
    kept = np.bincount(owner[state.responses.active_ties(net.indices.shape[0])], minlength=soc.n)
    groups = {
        "all": np.zeros(soc.n, int),
        "region": people.region, "urban": people.urban, "occupation": people.occupation,
        "minority": people.minority, "dissent_decile": people.decile,
    }
    labels = {"region": list(soc.region_names), "occupation": list(soc.occupation_names),
              "dissent_decile": [str(d + 1) for d in range(10)]}
    person = {
        "listed": (state.sanctions.lists & (COURT_LIST | BLACKLIST)) != 0,
        "sanctioned": state.sanctions.sanctioned(),
        "minority": people.minority == 1,
        "member": state.scoring.member,
        "score": state.scoring.score.astype(np.float64),
        "top": people.decile == 9,
        "kept": kept, "degree": net.degree(),
    }
    values = dict(zip(zip(last.metric, last.group), last.value))
    return values, groups, labels, person


def each_group(groups, labels):
    for dimension, codes in groups.items():
        for code in np.unique(codes):
            name = "all" if dimension == "all" else f"{dimension}={labels.get(dimension, ['0', '1'])[code]}"
            yield name, codes == code


def test_shares_of_every_group_match_a_count_of_its_people(counted):
    values, groups, labels, p = counted
    checked = 0
    for name, inside in each_group(groups, labels):
        assert values[("blacklist_share", name)] == pytest.approx(p["listed"][inside].mean(), abs=1e-12)
        assert values[("sanctioned_any_share", name)] == pytest.approx(p["sanctioned"][inside].mean(), abs=1e-12)
        members = inside & p["member"]
        assert values[("score_mean", name)] == pytest.approx(p["score"][members].mean(), abs=1e-3)
        checked += 1
    assert checked == 1 + len(labels["region"]) + 2 + len(labels["occupation"]) + 2 + 10
    assert values[("blacklist_share", "all")] > 0  # the run lists people, so the counts compare something


def test_splits_inside_a_group_match_a_count_of_its_people(counted):
    """The disparate-impact ratio (minority against majority within each group) and the dissident
    degree ratio (the top dissent decile within each group) need a split inside the group."""
    values, groups, labels, p = counted
    compared = 0
    for name, inside in each_group(groups, labels):
        minority, majority = inside & p["minority"], inside & ~p["minority"]
        if minority.any() and majority.any() and p["sanctioned"][majority].any():
            expected = p["sanctioned"][minority].mean() / p["sanctioned"][majority].mean()
            assert values[("disparate_impact_ratio", name)] == pytest.approx(expected, rel=1e-12)
            compared += 1
        top = inside & p["top"]
        if top.any():
            expected = p["kept"][top].sum() / p["degree"][top].sum()
            assert values[("dissident_degree_ratio", name)] == pytest.approx(expected, rel=1e-12)
            compared += 1
    assert compared > 40
