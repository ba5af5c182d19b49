"""The tipping regime: splitting a bimodal outcome, PRIM's box on a planted regime, its mass and its words."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from trustsim.experiments.posterior.tipping import TippingBox, find_box, high_branch, split_point

KEYS = [f"stage.param_{j}" for j in range(5)]
N = 2000


def planted(seed: int = 0, noise: float = 0.05) -> tuple[pd.DataFrame, np.ndarray]:
    """2000 uniform settings in 5 parameters; high iff p0 > 0.7 and p1 < 0.3 (mass 0.09), labels flipped at `noise`."""
    rng = np.random.default_rng(seed)
    u = rng.random((N, 5))
    high = (u[:, 0] > 0.7) & (u[:, 1] < 0.3)
    return pd.DataFrame(u, columns=KEYS), high ^ (rng.random(N) < noise)


@pytest.fixture(scope="module")
def box() -> TippingBox:
    values, high = planted()
    found = find_box(values, high)
    assert found is not None
    return found


def test_find_box_recovers_the_planted_regime(box):
    # Only the two planted parameters, each with its planted side open.
    assert list(box.limits) == KEYS[:2] or list(box.limits) == KEYS[1::-1]
    lo0, hi0 = box.limits[KEYS[0]]
    lo1, hi1 = box.limits[KEYS[1]]
    assert lo0 == pytest.approx(0.7, abs=0.05) and hi0 == math.inf
    assert lo1 == -math.inf and hi1 == pytest.approx(0.3, abs=0.05)
    assert box.prior_mass == pytest.approx(0.09, abs=0.02)
    # 95% of the box's runs keep their label; the noise puts 0.0455 of the bank's high runs
    # outside against 0.0855 inside, so the box holds about 65% of them.
    assert box.density > 0.85
    assert box.coverage == pytest.approx(0.65, abs=0.07)


def test_the_box_is_the_same_in_any_units():
    values, high = planted()
    # Points per critical post in [-20, 0]; a rate spanning decades, sampled in the log.
    scaled = values.assign(**{KEYS[0]: -20 + 20 * values[KEYS[0]], KEYS[1]: 1e-3 * 1e3 ** values[KEYS[1]]})
    found = find_box(scaled, high)
    unit = find_box(values, high)
    assert found is not None and unit is not None
    # PRIM's limits interpolate between neighbouring runs, linearly in whatever units it is given.
    assert found.limits[KEYS[0]][0] == pytest.approx(-20 + 20 * unit.limits[KEYS[0]][0], rel=1e-3)
    assert found.limits[KEYS[1]][1] == pytest.approx(1e-3 * 1e3 ** unit.limits[KEYS[1]][1], rel=1e-3)
    assert found.prior_mass == unit.prior_mass and found.density == unit.density


def test_mass_counts_weighted_draws_inside_even_beyond_the_bank(box):
    values, _ = planted(seed=1)
    deep_inside = (values[KEYS[0]] > 0.85) & (values[KEYS[1]] < 0.15)
    far_outside = values[KEYS[0]] < 0.5
    assert box.mass(values, deep_inside.to_numpy(float)) == 1.0
    assert box.mass(values, far_outside.to_numpy(float)) == 0.0
    # Half the weight deep inside, half far outside, whatever the counts of each.
    weights = deep_inside / deep_inside.sum() + far_outside / far_outside.sum()
    assert box.mass(values, weights.to_numpy()) == pytest.approx(0.5)
    # Unweighted: the share of a fresh prior sample inside, near the box's prior mass.
    assert box.mass(values) == pytest.approx(box.prior_mass, abs=0.02)
    # An open side stays open past the bank's range.
    beyond = pd.DataFrame([[1.5, -0.2, 0.5, 0.5, 0.5]], columns=KEYS)
    assert box.mass(beyond) == 1.0


def test_describe_names_the_parameters_and_their_limits(box):
    lo0 = box.limits[KEYS[0]][0]
    hi1 = box.limits[KEYS[1]][1]
    text = box.describe({KEYS[0]: "points per critical post"}, {KEYS[1]: "contacts"})
    assert f"points per critical post above {lo0:.3g}" in text
    assert f"{KEYS[1]} below {hi1:.3g} contacts" in text
    assert f"{round(100 * box.prior_mass)}% of the prior" in text
    assert KEYS[2] not in text
    both = TippingBox({KEYS[3]: (0.25, 0.5)}, coverage=0.8, density=0.9, prior_mass=0.2)
    assert both.describe().startswith(f"{KEYS[3]} between 0.25 and 0.5: 20% of the prior, where 90%")


def test_no_box_without_enough_high_runs_or_without_a_regime():
    values, high = planted()
    assert find_box(values, np.zeros(N, dtype=bool)) is None
    few = np.zeros(N, dtype=bool)
    few[np.flatnonzero(high)[:19]] = True
    assert find_box(values, few) is None
    # Every run high: nothing sets the high runs apart.
    assert find_box(values, np.ones(N, dtype=bool)) is None
    # High at random, unrelated to the parameters: no box reaches half high runs.
    assert find_box(values, np.random.default_rng(3).random(N) < 0.2) is None


def test_high_branch_splits_a_bimodal_outcome_at_its_gap():
    rng = np.random.default_rng(0)
    low = rng.lognormal(np.log(1e-4), 0.5, 900)
    high = rng.lognormal(np.log(0.2), 0.3, 100)
    values = np.concatenate([low, np.zeros(50), high, [np.nan]])
    cut = split_point(values)
    assert low.max() < cut < high.min()
    marked = high_branch(values)
    assert marked.sum() == 100 and marked[950:1050].all() and not marked[-1]
    assert high_branch(values, threshold=0.25).sum() == (high > 0.25).sum()


def test_split_point_ignores_a_lone_outlier_and_tiny_samples():
    rng = np.random.default_rng(1)
    values = np.append(rng.lognormal(np.log(0.01), 0.3, 500), 50.0)
    # Unimodal: the split is arbitrary, but at least 10 runs lie on either side.
    assert 10 <= high_branch(values).sum() <= 491
    assert split_point(np.array([1e-4] * 5 + [0.3] * 5)) == math.inf
