"""Scenario sections of stage 5, sanctions and rewards (docs/model.md, section 5).

Use this module for the rules that put people under a measure or grant them a reward, the court
list, appeals, and what each measure does to the people under it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from trustsim.scenario.schema.base import EventKind, Measure, Reward, Section, param


class Condition(Section):
    """When a rule applies: all given parts must hold."""

    score_below: float | None = param(None, "score", "score strictly under this", ge=350, le=950)
    on_list: Literal["blacklist", "court_list"] | None = param(
        None, "-", "person is on this list"
    )
    event: EventKind | None = param(None, "-", "an observed event of this kind this step")

    @model_validator(mode="after")
    def _something(self) -> "Condition":
        if self.score_below is None and self.on_list is None and self.event is None:
            raise ValueError("a condition needs score_below, on_list or event")
        return self


class Rule(Section):
    """A sanction rule: a condition triggers a measure for at least min_weeks."""

    measure: Measure = param(..., "-", "the measure applied")
    when: Condition = param(..., "-", "the condition that triggers it")
    min_weeks: int = param(26, "weeks", "minimum duration once applied", ge=1, le=5200)
    exit_score_above: float | None = param(
        None, "score", "after min_weeks, lifted once the score is at or above this (else when the condition ends)",
        ge=350, le=950,
    )
    relatives: bool = param(False, "-", "apply the measure to the person's household too")


class Appeals(Section):
    """Due process for listed people."""

    rate: float = param(0.02, "probability/week", "weekly chance a sanctioned or listed person appeals", ge=0, le=1)
    success_rate: float = param(
        0.3, "probability", "chance an appeal against an erroneous entry clears it", ge=0, le=1
    )


class CourtList(Section):
    """The court list of dishonest judgment debtors."""

    enabled: bool = param(True, "-", "people with an observed unfulfilled judgment are listed")
    fulfil_rate: float = param(
        0.01, "probability/week", "weekly chance a listed debtor pays or complies and leaves the list", ge=0, le=1
    )
    term_weeks: int = param(
        104, "weeks", "fixed term after which an entry expires", ge=1, le=5200
    )


class Effects(Section):
    """How measures act back on behaviour."""

    throttle_online_factor: float = param(
        0.3, "fraction", "online activity kept under internet throttling", ge=0, le=1
    )
    job_ban_income_factor: float = param(
        0.7, "fraction", "income kept under a job ban", ge=0, le=1
    )
    blacklist_income_factor: float = param(
        0.85, "fraction", "income kept while on the public blacklist (lost business)", ge=0, le=1
    )


class Sanctions(Section):
    """Rules that map conditions to measures, the lists, appeals and effects."""

    rules: list[Rule] = param([], "-", "sanction rules, applied in order")
    court_list: CourtList = Field(default_factory=CourtList)
    blacklist_term_weeks: int = param(
        156, "weeks", "term after which a blacklist entry expires", ge=1, le=5200
    )
    appeals: Appeals = Field(default_factory=Appeals)
    effects: Effects = Field(default_factory=Effects)
    firm_listing: bool = param(
        True, "-", "firms with observed corruption are listed and their owners barred from management"
    )


class RewardRule(Section):
    """A reward for scores at or above a bar."""

    reward: Reward = param(..., "-", "the reward granted")
    score_at_least: float = param(..., "score", "score needed", ge=350, le=950)


class Rewards(Section):
    rules: list[RewardRule] = param([], "-", "reward rules")
