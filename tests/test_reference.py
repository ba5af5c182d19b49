"""The parameter reference: every parameter documented, and docs/parameters.md up to date."""

from pathlib import Path

from trustsim.scenario import reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "parameters.md"


def test_every_parameter_has_a_unit_and_a_meaning():
    missing = [key for key, _, unit, _, doc in reference.rows() if not unit or not doc]
    assert missing == []


def test_the_committed_reference_matches_the_schema():
    assert DOC.read_text() == reference.markdown(), "regenerate: python -m trustsim.scenario.reference > docs/parameters.md"
