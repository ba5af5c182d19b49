"""Tests of trustsim.society's people, traits and firms: marginals, coherence, determinism."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from trustsim.scenario.schema import OCCUPATIONS, Scenario
from trustsim.society import Society, build_society, estimate_bytes

N = 1_000_000
SEED = 1
PEOPLE_DTYPES = {
    "age": np.uint8, "female": np.uint8, "region": np.uint8, "urban": np.uint8, "occupation": np.uint8,
    "minority": np.uint8, "household": np.int32, "firm": np.int32, "income": np.uint16,
    "reliability": np.uint16, "law_abidance": np.uint16, "dissent": np.uint16,
    "online_activity": np.uint16, "gaming": np.uint16, "drinking": np.uint16, "sociability": np.uint16,
}
TRAITS = ("reliability", "law_abidance", "dissent", "online_activity", "gaming", "drinking", "sociability")


def scenario(people: int, **population) -> Scenario:
    s = Scenario()
    s.population.people = people
    for k, v in population.items():
        setattr(s.population, k, v)
    return s


@pytest.fixture(scope="module")
def society() -> Society:
    return build_society(scenario(N), seed=SEED)


def occ(name: str) -> int:
    return OCCUPATIONS.index(name)


def test_people_arrays_are_compact_and_read_only(society):
    assert set(society.people) == set(PEOPLE_DTYPES)
    for name, dtype in PEOPLE_DTYPES.items():
        a = society.people[name]
        assert a.dtype == dtype and a.shape == (N,), name
        assert not a.flags.writeable, name
    assert society.occupation_names == OCCUPATIONS
    assert society.nbytes / N <= 150


def test_each_province_share(society):
    pop = society.scenario.population
    total = sum(pop.regions.values())
    counts = np.bincount(society.people["region"], minlength=len(society.region_names))
    assert society.region_names == list(pop.regions)
    for name, count in zip(society.region_names, counts):
        assert abs(count / N - pop.regions[name] / total) < 0.005, name


def test_census_marginals(society):
    p, pop = society.people, society.scenario.population
    assert abs(p["urban"].mean() - pop.urban_share) < 0.01
    assert abs(p["minority"].mean() - pop.minority_share) < 0.01
    assert abs(p["female"].mean() - pop.female_share) < 0.01
    assert abs((p["age"] >= 60).mean() - pop.share_60_plus) < 0.01
    assert p["age"].min() >= pop.age_min and p["age"].max() <= pop.age_max
    assert abs(N / (int(p["household"].max()) + 1) - pop.household_size) < 0.05


def test_households_are_contiguous_and_share_region_and_urban(society):
    p = society.people
    step = np.diff(p["household"])
    assert p["household"][0] == 0 and set(np.unique(step)) <= {0, 1}
    same = step == 0
    assert np.all(p["region"][1:][same] == p["region"][:-1][same])
    assert np.all(p["urban"][1:][same] == p["urban"][:-1][same])
    # people are ordered by region
    assert np.all(np.diff(p["region"].astype(int)) >= 0)


def test_minority_is_regionally_concentrated(society):
    p = society.people
    tibet = society.region_names.index("Tibet")
    guangdong = society.region_names.index("Guangdong")
    assert p["minority"][p["region"] == tibet].mean() > 0.5
    assert p["minority"][p["region"] == guangdong].mean() < 0.05


def test_occupations_match_shares_and_are_coherent(society):
    p, pop = society.people, society.scenario.population
    counts = np.bincount(p["occupation"], minlength=len(OCCUPATIONS)) / N
    for o, name in enumerate(OCCUPATIONS):
        assert abs(counts[o] - pop.occupation_shares[name]) < 0.01, name
    age, o = p["age"], p["occupation"]
    assert np.all(age[o == occ("retired")] >= min(pop.retirement_age_female, pop.retirement_age_male))
    assert np.all(age[o == occ("student")] <= pop.student_age_max)
    assert (o[age >= 65] == occ("retired")).mean() > 0.6
    assert (p["urban"][o == occ("farmer")] == 0).mean() > 0.8


def test_income_median_and_urban_ratio(society):
    p, pop = society.people, society.scenario.population
    income = society.value("income")
    assert abs(np.median(income) / pop.income_median - 1) < 0.03
    ratio = np.median(income[p["urban"] == 1]) / np.median(income[p["urban"] == 0])
    assert abs(ratio / pop.urban_income_ratio - 1) < 0.05


def test_traits_in_range_with_their_means(society):
    p, tr = {name: society.value(name) for name in ("income", *TRAITS)}, society.scenario.population.traits
    for name in TRAITS:
        assert p[name].min() >= 0 and p[name].max() <= 1, name
    assert abs(p["online_activity"].mean() - tr.online_activity_mean) < 0.01
    assert abs(p["law_abidance"].mean() - tr.law_abidance_mean) < 0.01
    assert abs((p["gaming"] >= 0.5).mean() - tr.gamer_share) < 0.01
    assert abs((p["drinking"] >= 0.5).mean() - tr.drinker_share) < 0.01
    corr = np.corrcoef(p["reliability"], np.log(p["income"]))[0, 1]
    assert abs(corr - tr.reliability_income_corr) < 0.06


def test_dissent_has_a_pareto_activist_tail(society):
    d, tr = society.value("dissent"), society.scenario.population.traits
    activist = d >= tr.activist_floor
    assert abs(activist.mean() - tr.activist_share) < 0.002
    assert np.median(d) < 0.1
    # Pareto tail X = (1 - floor) / (1 - d) >= 1: P(X > 1 / x) = x ** alpha among activists
    x = 0.2
    tail = (1 - d[activist] < (1 - tr.activist_floor) * x).mean()
    assert abs(tail - x**tr.dissent_tail_index) < 0.02


def test_firms_are_owned_and_staffed(society):
    p, f = society.people, society.firms
    n_firms = f["owner"].shape[0]
    assert f["owner"].dtype == np.int32 and f["region"].dtype == np.uint8
    assert f["size"].dtype == np.int32 and f["corruption"].dtype == np.float32
    employee = p["occupation"] == occ("employee")
    assert np.all((p["firm"][employee] >= 0) & (p["firm"][employee] < n_firms))
    assert np.all(p["occupation"][f["owner"]] == occ("business_owner"))
    assert np.unique(f["owner"]).shape[0] == n_firms
    assert np.all(p["firm"][f["owner"]] == np.arange(n_firms))
    assert np.all(f["region"][p["firm"][employee]] == p["region"][employee])
    assert np.all(np.bincount(p["firm"][employee], minlength=n_firms) == f["size"])
    pop = society.scenario.population
    assert abs(f["size"].mean() / pop.firms.employees_mean - 1) < 0.1
    assert f["size"].max() > 20 * pop.firms.employees_mean  # heavy tail
    assert f["corruption"].min() >= 0 and f["corruption"].max() <= 1
    assert abs(f["corruption"].mean() - pop.firms.corruption_mean) < 0.01
    # only employees and owners have firms
    assert np.all(np.isin(p["occupation"][p["firm"] >= 0], [occ("employee"), occ("business_owner")]))


def test_summary_lists_every_marginal(society):
    df = society.summary()
    assert list(df.columns) == ["marginal", "target", "value"]
    names = set(df["marginal"])
    assert {f"region_share.{r}" for r in society.region_names} <= names
    assert {f"occupation_share.{o}" for o in OCCUPATIONS} <= names
    for m in ("urban_share", "minority_share", "female_share", "share_60_plus", "mean_household_size",
              "mean_degree.family", "mean_degree.work", "mean_degree.friends", "clustering.friends"):
        assert m in names
    row = df.set_index("marginal").loc["mean_household_size"]
    assert abs(row["value"] - row["target"]) < 0.05


def test_to_networkx_sample(society):
    g = society.to_networkx(sample=500)
    assert isinstance(g, nx.Graph) and 100 <= g.number_of_nodes() <= 500
    node, attrs = next(iter(g.nodes(data=True)))
    assert set(attrs) == set(PEOPLE_DTYPES)
    assert attrs["region"] == int(society.people["region"][node])
    assert g.number_of_edges() > 0
    assert {d["layer"] for _, _, d in g.edges(data=True)} <= {"family", "work", "friends"}


def test_same_seed_same_society_other_seed_other():
    s = scenario(20_000)
    a, b, c = build_society(s, seed=3), build_society(s, seed=3), build_society(s, seed=4)
    for name in PEOPLE_DTYPES:
        assert np.array_equal(a.people[name], b.people[name]), name
    for name in a.firms:
        assert np.array_equal(a.firms[name], b.firms[name]), name
    for name in ("indptr", "indices", "layer_start"):
        assert np.array_equal(getattr(a.network, name), getattr(b.network, name)), name
    assert not np.array_equal(a.people["age"], c.people["age"])
    assert not np.array_equal(a.people["dissent"], c.people["dissent"])
    assert not np.array_equal(a.network.indptr, c.network.indptr)


def test_society_does_not_depend_on_thread_count():
    import numba

    s = scenario(20_000)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = build_society(s, seed=5)
    finally:
        numba.set_num_threads(threads)
    many = build_society(s, seed=5)
    for name in PEOPLE_DTYPES:
        assert np.array_equal(one.people[name], many.people[name]), name
    assert np.array_equal(one.network.indices, many.network.indices)
    assert np.array_equal(one.network.indptr, many.network.indptr)
    assert np.array_equal(one.network.layer_start, many.network.layer_start)


def test_tiny_and_odd_populations_build():
    for people in (1, 7, 500):
        soc = build_society(scenario(people), seed=0)
        assert soc.n == people and soc.network.indptr.shape == (people + 1,)
    soc = build_society(scenario(2_000, regions={"A": 1.0, "B": 3.0}, urban_share=1.0), seed=0)
    assert soc.region_names == ["A", "B"] and soc.people["urban"].all()


def test_estimate_bytes_fits_1e8_in_24_gib_and_covers_the_arrays(society):
    s = scenario(100_000_000)
    assert estimate_bytes(s.population, s.network) <= 24 * 2**30
    small = society.scenario
    assert estimate_bytes(small.population, small.network) > society.nbytes
