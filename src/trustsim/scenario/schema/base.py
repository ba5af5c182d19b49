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


def param(default: Any, unit: str, doc: str, **bounds: Any) -> Any:
    """A scenario parameter: its default, unit, one-line meaning and allowed range."""
    return Field(default, description=doc, json_schema_extra={"unit": unit}, **bounds)


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, assignments are validated, and no
    number may be infinite or NaN (no parameter is meaningfully infinite; a NaN is a typo)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)
