"""Scenario section of stage 3, surveillance (docs/model.md, section 3): what the system sees.

Use this module for the cameras, the coverage of online, commerce, credit, civic and court records,
face recognition and its errors, and how false matches differ by group.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, field_validator

from trustsim.scenario.schema.base import Section, param


class GroupMultiplier(Section):
    """False-match multipliers by group (NIST IR 8280: 10-100x for some groups, 2-5x for women)."""

    minority: float = param(10.0, "x", "false-match multiplier for the minority group", ge=0, le=1000)
    female: float = param(2.0, "x", "false-match multiplier for women", ge=0, le=1000)


class FaceRecognition(Section):
    """One-to-many face search, modelled by its error rates only."""

    miss_rate: float = param(
        0.002, "probability", "share of searches that miss a person in the gallery (NIST 2018)", ge=0, le=1
    )
    false_positive_rate: float = param(
        0.003, "per search", "false-positive identification rate (NIST 2018, 12M gallery)", ge=0, le=1
    )
    group_multiplier: GroupMultiplier = Field(default_factory=GroupMultiplier)
    reference_gallery: float = param(
        12e6, "people", "gallery size at which false_positive_rate was measured (NIST 2018: 12 million)", gt=0
    )
    gallery_exponent: float = param(
        1.0,
        "-",
        "false positives grow as (gallery / reference_gallery)^this; the gallery is the region's real population "
        "(1: proportional, as for a fixed match threshold; 0: no growth with scale)",
        ge=0, le=2,
    )

    @field_validator("group_multiplier", mode="before")
    @classmethod
    def _scalar_is_minority(cls, value: Any) -> Any:
        """A bare number sets the minority multiplier, the differential users ask about most."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"minority": value}
        return value


class Surveillance(Section):
    """What the system observes: coverage and error rates, never a recognition model."""

    cameras: float = param(626e6, "cameras", "surveillance cameras in the country (IHS Markit)", ge=0)
    real_population: float = param(
        1411.78e6, "people", "real population the camera count is spread over (2020 census)", gt=0
    )
    cameras_per_person_63: float = param(
        0.5,
        "cameras/person",
        "camera density at which 63% of offline acts happen in view (coverage = 1 - exp(-density/this))",
        gt=0,
    )
    urban_camera_share: float = param(
        0.8, "fraction", "share of cameras in urban areas", ge=0, le=1
    )
    face_recognition: FaceRecognition = Field(default_factory=FaceRecognition)
    online_coverage: float = param(
        0.9, "fraction", "share of online acts tied to a real name and monitored", ge=0, le=1
    )
    commerce_coverage: float = param(
        0.6, "fraction", "share of purchases reported by the platforms", ge=0, le=1
    )
    credit_coverage: float = param(
        0.8, "fraction", "share of finance events reported to the credit system", ge=0, le=1
    )
    civic_coverage: float = param(
        0.5, "fraction", "share of civic acts (volunteering, blood donation) that are recorded", ge=0, le=1
    )
    court_coverage: float = param(
        1.0, "fraction", "share of unfulfilled court judgments that reach the record", ge=0, le=1
    )
    court_coverage_start: dt.date | None = param(
        None, "date", "date the court record opens (roll-out of the court list); none: the run's start"
    )
    court_coverage_ramp_years: float = param(
        0.0,
        "years",
        "roll-out: court coverage rises linearly from 0 at court_coverage_start to court_coverage over this time "
        "(0: in full at once)",
        ge=0, le=50,
    )
    linkage_error_rate: float = param(
        0.001, "probability", "chance an observed event is linked to the wrong person", ge=0, le=1
    )
