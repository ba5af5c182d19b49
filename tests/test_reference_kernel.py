"""The reference-workload kernel against a straightforward NumPy implementation with the same draws."""

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from trustsim import rng
from trustsim.kernels import reference as ref

N = 10_000


def random_graph(n, mean_degree, seed):
    """Symmetric CSR without self loops or duplicates; at a low mean degree some people are isolated."""
    gen = np.random.default_rng(seed)
    a = gen.integers(0, n, n * mean_degree // 2)
    b = gen.integers(0, n, n * mean_degree // 2)
    keep = a != b
    m = sp.coo_array((np.ones(keep.sum()), (a[keep], b[keep])), shape=(n, n)).tocsr()
    m = ((m + m.T) > 0).astype(np.float64).tocsr()
    m.sort_indices()
    return m.indptr.astype(np.int64), m.indices.astype(np.int32)


def numpy_step(indptr, indices, propensity, prev, seed, step):
    n = prev.shape[0]
    violated = rng.uniform(seed, ref.STREAM, step, n) < 0.01 * propensity.astype(np.float64)
    own = prev.astype(np.float64) + np.where(violated, -30.0, 1.0)
    adjacency = sp.csr_array((np.ones(indices.shape[0]), indices, indptr), shape=(n, n))
    neighbour_sum = adjacency @ prev.astype(np.float64)
    degree = np.diff(indptr)
    with np.errstate(divide="ignore", invalid="ignore"):
        pulled = 0.8 * own + 0.2 * (neighbour_sum / degree)
    new = np.clip(np.where(degree > 0, pulled, own).astype(np.float32), 350, 950)
    return new, int(np.count_nonzero(new < 550))


@pytest.fixture(scope="module")
def graph():
    indptr, indices = random_graph(N, 3, seed=5)
    assert (np.diff(indptr) == 0).sum() > 100  # isolated people are exercised
    return indptr, indices


def test_a_step_matches_numpy_bit_for_bit(graph):
    indptr, indices = graph
    gen = np.random.default_rng(1)
    propensity = gen.random(N).astype(np.float32)
    # Scores across the whole range, and propensities high enough for many violations, so the
    # clip, the count and both branches of the draw are all exercised.
    prev = gen.uniform(340, 960, N).astype(np.float32)
    k = rng.key(9, ref.STREAM, 4)
    out = np.empty_like(prev)
    low = ref.step_reference(indptr, indices, propensity * 50, prev, out, k)
    expected, expected_low = numpy_step(indptr, indices, propensity * 50, prev, 9, 4)
    assert np.array_equal(out, expected)
    assert low == expected_low > 0


def test_a_run_matches_numpy_step_by_step(graph):
    indptr, indices = graph
    propensity = rng.uniform(3, "test.propensity", 0, N).astype(np.float32)
    scores, counts = ref.run_reference(indptr, indices, propensity, 20, seed=3)
    expected = np.full(N, 650.0, np.float32)
    for t in range(20):
        expected, low = numpy_step(indptr, indices, propensity, expected, 3, t)
        assert counts[t] == low
    assert np.array_equal(scores, expected)
    assert not np.array_equal(scores, np.full(N, 650.0 + 20, np.float32))


def test_results_do_not_depend_on_the_thread_count(graph):
    indptr, indices = graph
    propensity = np.full(N, 0.9, np.float32)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = ref.run_reference(indptr, indices, propensity, 10, seed=2)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = ref.run_reference(indptr, indices, propensity, 10, seed=2)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one[0], many[0]) and np.array_equal(one[1], many[1])
