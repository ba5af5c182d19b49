"""The schema's common ground: the base of every section, `param()`, and the shared vocabularies.

Use this module for the names every section and stage agrees on: occupations, score dimensions,
measures, rewards and event kinds, each a tuple in the order arrays use (the Literal types beside
them name the same values for fields), and for `param()`, which gives a field its default, unit,
one-line meaning and allowed range.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


OCCUPATIONS = (
    "civil_servant",
    "state_manager",
    "business_owner",
    "employee",
    "farmer",
    "student",
    "retired",
    "unemployed",
)
Occupation = Literal[OCCUPATIONS]  # the same names, as a type
DIMENSIONS = ("financial", "legal", "political", "consumption", "civic", "social")
MEASURES = (
    "internet_throttle",
    "flight_ban",
    "rail_ban",
    "job_ban",
    "id_block",
    "blacklist",
)
Measure = Literal[MEASURES]
WRONGFUL_CAUSES = ("false_match", "linkage_error", "association")  # why a sanction was wrongful (docs/model.md)
REWARDS = ("easy_loans", "visa_facilitation", "deposit_waiver")
Reward = Literal[REWARDS]
EVENT_KINDS = (
    "missed_payment",
    "loan_default",
    "minor_violation",
    "judgment_default",
    "crime",
    "critical_post",
    "alcohol_purchase",
    "gaming_hours",
    "approved_purchase",
    "volunteering",
    "blood_donation",
)
EventKind = Literal[EVENT_KINDS]
# The audit metrics a run records (docs/model.md, metrics.py), by name: what observations may name.
AUDIT_METRICS = (
    "score_mean", "score_p10", "score_p50", "score_p90", "score_gini",
    "blacklist_share", "blacklist_count", "blacklist_entries", "blacklist_exits",
    *(f"sanctioned_share.{m}" for m in MEASURES), "sanctioned_any_share", "flight_denials", "rail_denials",
    "wrongful_sanction_share", *(f"wrongful_by_cause.{c}" for c in WRONGFUL_CAUSES),
    "association_only_penalty_share", "disparate_impact_ratio", "expressed_dissent_ratio", "dissident_degree_ratio",
    "isolated_share", "sanctioned_tie_loss", "score_tie_correlation", "crime_rate", "detected_crime_share",
    "reward_share", "opt_in_share",
)


def param(default: Any, unit: str, doc: str, **bounds: Any) -> Any:
    """A scenario parameter: its default, unit, one-line meaning and allowed range."""
    return Field(default, description=doc, json_schema_extra={"unit": unit}, **bounds)


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, assignments are validated, and no
    number may be infinite or NaN (no parameter is meaningfully infinite; a NaN is a typo)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)
