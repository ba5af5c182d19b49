"""Scenario section of stage 6, responses (docs/model.md, section 6): how people react.

Use this module for chilling (self-censorship), social distancing from the listed, compliance, and
deterrence.
"""

from __future__ import annotations

from pydantic import Field

from trustsim.scenario.schema.base import Section, param


class Chilling(Section):
    """Expressed dissent = latent dissent x (1 - perceived risk)."""

    strength: float = param(0.8, "0..1", "largest share of dissent that fear can silence", ge=0, le=1)
    surveillance_weight: float = param(
        0.5, "0..1", "how much observation coverage feeds perceived risk", ge=0, le=1
    )
    neighbourhood_weight: float = param(
        3.0, "per sanctioned-contact share", "how much sanctions among contacts feed perceived risk", ge=0, le=100
    )
    memory_weeks: float = param(12.0, "weeks", "time scale over which perceived risk adapts", gt=0, le=520)


class Distancing(Section):
    """People drop ties to low scorers when association costs points."""

    strength: float = param(
        0.05, "probability/week", "weekly chance of dropping a tie to a contact under the threshold", ge=0, le=1
    )
    family_factor: float = param(
        0.1, "fraction", "family ties are dropped at this fraction of the rate", ge=0, le=1
    )


class Compliance(Section):
    strength: float = param(
        0.5, "0..1", "largest cut in penalised purchases when they cost points", ge=0, le=1
    )


class Deterrence(Section):
    strength: float = param(
        0.5, "0..1", "cut in crime and violations per unit of detection probability", ge=0, le=1
    )


class Responses(Section):
    chilling: Chilling = Field(default_factory=Chilling)
    distancing: Distancing = Field(default_factory=Distancing)
    compliance: Compliance = Field(default_factory=Compliance)
    deterrence: Deterrence = Field(default_factory=Deterrence)
