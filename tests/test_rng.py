"""Counter-based random numbers: pure functions of (seed, stream, step, index)."""

import numpy as np
import pytest
from trustsim import rng


def test_a_draw_depends_only_on_its_coordinates():
    whole = rng.uniform(7, "behaviour.crime", 3, 10_000)
    index = np.array([9_999, 5, 4_242], dtype=np.uint64)
    assert np.array_equal(rng.uniform(7, "behaviour.crime", 3, index), whole[index])


@pytest.mark.parametrize("other", [(8, "behaviour.crime", 3), (7, "behaviour.posts", 3), (7, "behaviour.crime", 4)])
def test_seed_stream_and_step_each_change_the_draws(other):
    base = rng.uniform(7, "behaviour.crime", 3, 1_000)
    assert np.mean(base == rng.uniform(*other, 1_000)) < 0.01


def test_uniform_normal_poisson_have_their_moments():
    n = 400_000
    u = rng.uniform(1, "u", 0, n)
    assert 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.003 and abs(u.var() - 1 / 12) < 0.002
    z = rng.normal(1, "z", 0, n)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    p = rng.poisson(1, "p", 0, np.full(n, 3.5))
    assert abs(p.mean() - 3.5) < 0.02 and abs(p.var() - 3.5) < 0.05


def test_jitted_draw_matches_the_vectorised_one():
    import numba

    k = rng.key(3, "s", 2)

    @numba.njit
    def draw(k, i):
        return rng.unit_jit(k, i)

    assert draw(k, 17) == rng.uniform(3, "s", 2, np.array([17], dtype=np.uint64))[0]
