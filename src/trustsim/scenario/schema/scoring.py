"""Scenario sections of stage 4, scoring (docs/model.md, section 4), and who takes part.

Use this module for the score's dimension weights, the points per observed event, the pull of
one's contacts' scores (association), and whether membership is voluntary or mandatory.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trustsim.scenario.schema.base import Section, param


class Weights(Section):
    """Weight of each dimension's sub-score in the raw score."""

    financial: float = param(1.0, "relative", "weight of the financial sub-score", ge=0, le=100)
    legal: float = param(1.0, "relative", "weight of the legal sub-score", ge=0, le=100)
    political: float = param(1.0, "relative", "weight of the political sub-score", ge=0, le=100)
    consumption: float = param(1.0, "relative", "weight of the consumption sub-score", ge=0, le=100)
    civic: float = param(1.0, "relative", "weight of the civic sub-score", ge=0, le=100)
    social: float = param(1.0, "relative", "weight of the social sub-score", ge=0, le=100)


class EventPoints(Section):
    """Points each observed event adds to its dimension's sub-score (negative: a penalty)."""

    missed_payment: float = param(-10.0, "points/event", "financial: a missed payment", ge=-1000, le=1000)
    loan_default: float = param(-80.0, "points/event", "financial: a loan default", ge=-1000, le=1000)
    minor_violation: float = param(-5.0, "points/event", "legal: a minor violation", ge=-1000, le=1000)
    judgment_default: float = param(
        -100.0, "points/event", "legal: an unfulfilled court judgment", ge=-1000, le=1000
    )
    crime: float = param(-150.0, "points/event", "legal: a crime", ge=-1000, le=1000)
    critical_post: float = param(-8.0, "points/event", "political: a critical post", ge=-1000, le=1000)
    alcohol_purchase: float = param(-1.0, "points/event", "consumption: an alcohol purchase", ge=-1000, le=1000)
    gaming_hours: float = param(-0.3, "points/hour", "consumption: an hour of video games", ge=-1000, le=1000)
    approved_purchase: float = param(
        0.3, "points/event", "consumption: an approved purchase", ge=-1000, le=1000
    )
    volunteering: float = param(5.0, "points/event", "civic: a volunteering act", ge=-1000, le=1000)
    blood_donation: float = param(20.0, "points/event", "civic: a blood donation", ge=-1000, le=1000)


class Association(Section):
    """Friends and family: the pull toward contacts' scores and the cost of low-score contacts."""

    weight: float = param(
        0.2, "fraction", "pull of the score toward the weighted mean of contacts' scores", ge=0, le=1
    )
    contact_penalty: float = param(
        10.0, "points/contact", "points lost per contact under the threshold", ge=0, le=600
    )
    threshold: float = param(550.0, "score", "score under which a contact costs points", ge=350, le=950)


class Scoring(Section):
    """Sub-scores, their weights, and the mapping onto 350..950."""

    weights: Weights = Field(default_factory=Weights)
    points: EventPoints = Field(default_factory=EventPoints)
    half_life_weeks: float = param(
        52.0, "weeks", "half-life of an observed event's effect on its sub-score", gt=0, le=5200
    )
    gaming_free_hours: float = param(
        10.0, "hours/week", "video-game hours per week that cost nothing; each hour beyond costs points", ge=0, le=168
    )
    baseline: float = param(700.0, "score", "score of a person with a clean record", ge=350, le=950)
    spread: float = param(
        150.0, "points", "raw points that move the score most of the way (logistic scale)", gt=0, le=10000
    )
    association: Association = Field(default_factory=Association)


class Participation(Section):
    """Who is scored: everyone (mandatory) or those who opt in (voluntary)."""

    mode: Literal["voluntary", "mandatory"] = param(
        "mandatory", "-", "mandatory for all, or voluntary opt-in"
    )
    opt_in_rate: float = param(
        0.01, "probability/week", "weekly chance a non-member with everything to gain opts in", ge=0, le=1
    )
    benefit_sensitivity: float = param(
        2.0, "1/points*100", "how strongly opt-in rises with the expected score above the reward bar", ge=0, le=100
    )
