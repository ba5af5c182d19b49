"""What the record constrains: contraction, the share each figure rules out, the open assumptions, the statement."""

from __future__ import annotations

import numpy as np
import pytest

from trustsim.experiments.posterior.constraints import (
    constraint_statement,
    contraction,
    open_assumptions,
    ruled_out_share,
)

KEYS = ["scoring.points.critical_post", "surveillance.face_match_rate", "responses.drop_ties"]
LABELS = {"scoring.points.critical_post": "how many points a critical post costs"}


def bank(n: int = 4000, d: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, d))


def test_the_prior_itself_contracts_nothing_and_a_point_mass_everything():
    prior = bank()
    assert contraction(prior, prior) == pytest.approx(np.zeros(3), abs=1e-12)
    assert contraction(prior, np.full((50, 3), 0.4)) == pytest.approx(np.ones(3))
    # Another prior sample of the same size: only sampling noise (about 2% at n = 4000).
    assert np.abs(contraction(prior, bank(seed=1))).max() < 0.06


def test_weights_narrow_only_the_parameter_they_depend_on():
    prior = bank()
    # Likelihood weights of a figure that pins the first parameter to 0.3 +- 0.05.
    weights = np.exp(-0.5 * ((prior[:, 0] - 0.3) / 0.05) ** 2)
    c = contraction(prior, prior, weights)
    # Posterior sd 0.05 against the prior's 1/sqrt(12): 1 - 0.0025 * 12 = 0.97.
    assert c[0] == pytest.approx(0.97, abs=0.01)
    assert np.abs(c[1:]).max() < 0.06
    # A weight on one draw alone is a point mass.
    one = np.zeros(len(prior))
    one[7] = 2.0
    assert contraction(prior, prior, one) == pytest.approx(np.ones(3))


def test_contraction_refuses_mismatched_shapes_and_bad_weights():
    prior = bank(100)
    with pytest.raises(ValueError):
        contraction(prior, prior[:, :2])
    with pytest.raises(ValueError):
        contraction(prior, prior, np.zeros(100))
    with pytest.raises(ValueError):
        contraction(prior, prior, np.ones(99))


def test_ruled_out_share_per_figure_and_together():
    implausibility = np.array([
        [0.0, 4.0, 1.0],
        [5.0, 0.0, 0.0],
        [4.0, 4.0, np.nan],  # the third figure unknown for this run: it rules nothing out
        [1.0, 1.0, 1.0],
        [3.0, 2.9, 3.5],  # exactly at the cut-off is not beyond it
    ])
    shares = ruled_out_share(implausibility)
    assert shares == pytest.approx([2 / 5, 2 / 5, 1 / 5, 4 / 5])
    assert ruled_out_share(implausibility, threshold=0.5) == pytest.approx([4 / 5, 4 / 5, 3 / 5, 1.0])


def test_open_assumptions_lists_the_barely_narrowed_least_first_in_plain_words():
    c = np.array([0.03, 0.6, -0.01])
    reasons = {"scoring.points.critical_post": "an assumption, no source"}
    lines = open_assumptions(KEYS, reasons, c, LABELS)
    assert lines == [
        "responses.drop_ties: the record does not narrow it",
        "how many points a critical post costs (scoring.points.critical_post): the record narrows it by 3%; "
        "its range: an assumption, no source",
    ]
    assert open_assumptions(KEYS, reasons, c, threshold=0.7)[-1].startswith("surveillance.face_match_rate: "
                                                                            "the record narrows it by 60%")
    assert open_assumptions(KEYS, {}, np.array([0.5, 0.6, 0.7])) == []


def test_constraint_statement_names_the_most_narrowed_the_open_and_the_strongest_figure():
    c = np.array([0.03, 0.6, 0.25])
    shares = np.array([0.1, 0.55, 0.2, 0.7])
    text = constraint_statement(KEYS, c, ["the 2019 court list", "the flight bans to 2018", "the pilot cities"],
                                shares, labels=LABELS)
    assert text == (
        "The record narrows most: surveillance.face_match_rate (by 60%) and responses.drop_ties (by 25%). "
        "It leaves open 1 of the 3 assumptions, each narrowed by less than 10%: how many points a critical post costs. "
        "Of the observations, the flight bans to 2018 rules out the most by itself: 55% of the plausible "
        "settings; together they rule out 70%."
    )
    # Many left open: a few named, the rest counted.
    text = constraint_statement(KEYS, np.zeros(3), [], np.array([0.0]), labels=LABELS, most=1)
    assert "It leaves open 3 of the 3 assumptions, each narrowed by less than 10%: " in text and "and 2 more." in text
    # Nothing narrowed and no figures: says so, and no sentence about figures.
    text = constraint_statement(KEYS, np.zeros(3), [], np.array([0.0]))
    assert text.startswith("The record narrows none of the 3 assumptions by 10% or more.")
    assert "observations" not in text
    # `most` caps the list of the narrowed.
    assert "responses.drop_ties" not in constraint_statement(KEYS, c, [], np.array([0.0]), most=1).split(".")[0]
