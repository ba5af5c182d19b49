"""Scenario section of stage 6, responses (docs/model.md, section 6): how people react.

Use this module for chilling (self-censorship), social distancing from the listed, compliance, and
deterrence.
"""

from __future__ import annotations

from pydantic import Field

from trustsim.scenario.schema.base import Section, param


class Stake(Section):
    """What one stands to lose by speaking: multipliers on the perceived cost of one's own dissent."""

    state_job: float = param(
        1.0, "x", "extra stake of civil servants and state managers, where some rule imposes a job ban",
        ge=0, le=20,
    )
    business: float = param(
        0.5, "x", "extra stake of business owners, where firms are listed or some rule imposes the blacklist",
        ge=0, le=20,
    )
    relatives: float = param(
        0.5, "x", "extra stake of people with household members, where some rule applies to relatives", ge=0, le=20
    )
    near_bar: float = param(
        2.0, "x", "extra stake of a score right at a sanction bar (score_below of a rule); fades with the gap",
        ge=0, le=20,
    )
    bar_scale: float = param(
        50.0, "points", "score gap above a sanction bar over which the near-bar stake falls by a factor e", gt=0, le=600
    )


class Committed(Section):
    """A committed few among the most dissenting: not chilled, emboldened by punishments."""

    share: float = param(
        0.1, "fraction", "share of the most dissenting tenth who do not hold back", ge=0, le=1
    )
    emboldening: float = param(
        0.2, "risk units", "how far punished contacts raise a committed person's speech (negative risk at saturation)",
        ge=0, le=1,
    )


class Chilling(Section):
    """Expressed dissent = latent dissent x (1 - strength x perceived risk); risk is personal."""

    strength: float = param(0.9, "0..1", "largest share of dissent that fear can silence", ge=0, le=1)
    surveillance_weight: float = param(
        0.12, "0..1", "perceived risk from being watched alone, per unit of online monitoring coverage", ge=0, le=1
    )
    intensity_scale: float = param(
        0.2, "dissent", "latent dissent at which 63% of what one would say risks points or a sanction", gt=0, le=10
    )
    contacts_weight: float = param(
        0.5, "0..1", "perceived chance of a cost that many punished contacts bring (saturation)", ge=0, le=1
    )
    first_contact: float = param(
        0.6, "fraction", "share of contacts_weight that the first punished contact brings; each next one that share "
        "of the rest", ge=0, le=1,
    )
    memory_weeks: float = param(12.0, "weeks", "time scale over which perceived risk adapts", gt=0, le=520)
    stake: Stake = Field(default_factory=Stake)
    committed: Committed = Field(default_factory=Committed)


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
