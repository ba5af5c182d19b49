"""Tests of trustsim.society's network: CSR invariants, layer order, degrees, clustering, homophily, locality."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from trustsim.errors import UserError
from trustsim.scenario.schema import Scenario
from trustsim.society import Society, build_society
from trustsim.society.memory import expected_degrees

N = 1_000_000
SMALL = 200_000


def scenario(people: int, **friends) -> Scenario:
    s = Scenario()
    s.population.people = people
    for k, v in friends.items():
        setattr(s.network.friends, k, v)
    return s


@pytest.fixture(scope="module")
def society() -> Society:
    return build_society(scenario(N), seed=2)


def friend_pairs(soc: Society) -> tuple[np.ndarray, np.ndarray]:
    m = soc.network.layer("friends").tocoo()
    return m.row, m.col


def test_csr_dtypes_and_shape(society):
    net = society.network
    assert net.indptr.dtype == np.int64 and net.indptr.shape == (N + 1,)
    assert net.indices.dtype == np.int32 and net.indices.shape == (net.indptr[-1],)
    assert net.layer_start.dtype == np.uint8 and net.layer_start.shape == (2, N)
    assert net.edge_layers().dtype == np.uint8 and net.edge_layers().shape == net.indices.shape
    assert net.LAYERS == ("family", "work", "friends")
    assert net.degree().dtype == np.int32
    assert not net.indices.flags.writeable and not net.layer_start.flags.writeable
    assert net.nbytes == net.indptr.nbytes + net.indices.nbytes + 2 * N


def test_symmetric_with_layers_no_self_loops_no_duplicates(society):
    net = society.network
    coded = sp.csr_matrix((net.edge_layers().astype(np.int16) + 1, net.indices, net.indptr), shape=(N, N))
    assert (coded != coded.T).nnz == 0
    row = np.repeat(np.arange(N), np.diff(net.indptr))
    assert not np.any(net.indices == row)
    pair = row * N + net.indices
    assert np.unique(pair).size == pair.size


def test_rows_ordered_by_layer_then_neighbour_and_layer_start_agrees(society):
    net = society.network
    layers = net.edge_layers()
    row = np.repeat(np.arange(N), np.diff(net.indptr))
    key = layers.astype(np.int64) * N + net.indices
    same_row = row[1:] == row[:-1]
    # Strictly increasing (layer, neighbour): layers never fall, neighbours rise within a layer.
    assert np.all(np.diff(key)[same_row] > 0)
    family = np.bincount(row[layers == 0], minlength=N)
    family_work = family + np.bincount(row[layers == 1], minlength=N)
    assert np.array_equal(net.layer_start[0], family)
    assert np.array_equal(net.layer_start[1], family_work)
    assert np.array_equal(net.degree("friends"), np.diff(net.indptr) - family_work)


def test_layer_mean_degrees(society):
    s = society.scenario
    expected = expected_degrees(s.population, s.network)
    net = society.network
    family = net.degree("family").mean()
    assert abs(family / (expected["household"] + expected["kin"]) - 1) < 0.1
    work = net.degree("work")[society.workplace_member()].mean()
    assert abs(work / s.network.work.mean_degree - 1) < 0.1
    friends = net.degree("friends").mean()
    assert abs(friends / s.network.friends.mean_degree - 1) < 0.1
    assert net.degree("friends").max() > 8 * s.network.friends.mean_degree  # heavy tail
    assert 10 <= net.degree().mean() <= 14


def test_layer_and_combined_matrices(society):
    net = society.network
    friends = net.layer("friends")
    assert isinstance(friends, sp.csr_matrix) and friends.shape == (N, N)
    assert friends.nnz == int((net.edge_layers() == 2).sum()) and friends.has_sorted_indices
    w = net.combined({"work": 0.5, "friends": 2.0})
    assert w.nnz == net.indices.shape[0] and w.has_sorted_indices
    assert w.sum() == pytest.approx(
        net.degree("family").sum() + 0.5 * net.degree("work").sum() + 2.0 * net.degree("friends").sum()
    )
    assert set(np.unique(w.data)) == {0.5, 1.0, 2.0}
    with pytest.raises(ValueError):
        net.layer("enemies")


def test_friends_clustering_is_realistic_and_comes_from_closure(society):
    c = society.network.clustering("friends")
    assert 0.1 <= c <= 0.35
    without = build_society(scenario(SMALL, triadic_closure=0.0), seed=2).network.clustering("friends")
    with_closure = build_society(scenario(SMALL), seed=2).network.clustering("friends")
    assert with_closure > 2 * without


def test_friends_homophily(society):
    s, p = society.scenario.network.friends, society.people
    a, b = friend_pairs(society)
    assert abs(np.mean(p["region"][a] == p["region"][b]) - s.same_region) < 0.03
    assert abs(np.mean(p["urban"][a] == p["urban"][b]) - s.same_urban) < 0.03
    assert np.corrcoef(p["age"][a].astype(float), p["age"][b].astype(float))[0, 1] > 0.2
    floor = society.scenario.population.traits.activist_floor
    activist = society.value("dissent") >= floor
    # an activist's friends are activists far more often than the population share
    assert activist[b][activist[a]].mean() > 10 * activist.mean()


def test_homophily_strength_matters():
    weak = build_society(scenario(SMALL, age_homophily=0.0, dissent_homophily=0.0), seed=2)
    a, b = friend_pairs(weak)
    age = weak.people["age"].astype(float)
    assert abs(np.corrcoef(age[a], age[b])[0, 1]) < 0.1
    activist = weak.value("dissent") >= weak.scenario.population.traits.activist_floor
    assert activist[b][activist[a]].mean() < 3 * activist.mean()


def test_locality(society):
    net = society.network
    assert net.locality(4096) > 0.6
    assert net.median_distance() < 4096


def test_more_than_255_family_and_work_ties_is_refused():
    s = scenario(20_000)
    s.network.work.mean_degree = 500
    s.network.work.state_unit_size = s.network.work.farm_team_size = 1000
    s.population.firms.employees_mean = 1000
    with pytest.raises(UserError, match="family and work ties proposed; allowed: at most 255"):
        build_society(s, seed=0)
