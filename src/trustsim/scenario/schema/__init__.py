"""The scenario schema: every parameter of the model, with its unit, range and meaning.

Use this package to see what a scenario may say; import any name from here
(`from trustsim.scenario.schema import Scenario, MEASURES`). `Scenario` and `Run` live in this file;
each section mirrors a stage of the pipeline in docs/model.md and has its own module:

- base.py: `param()`, the `Section` base, and the vocabularies (occupations, dimensions, measures,
  rewards, event kinds);
- society.py: population, traits, firms and the network layers (section 1), with the province tables;
- behaviour.py, surveillance.py, scoring.py, sanctions.py, responses.py: stages 2 to 6.

A field's `description` is its one-line meaning, its `json_schema_extra["unit"]` its unit, and its
`ge`/`le` bounds its allowed range. Models forbid unknown keys, so a typo is an error rather than a
silently ignored setting.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from trustsim.scenario.schema.base import (
    AUDIT_METRICS, DIMENSIONS, EVENT_KINDS, MEASURES, OCCUPATIONS, REWARDS, EventKind, Measure, Occupation, Reward, Section, param,
)
from trustsim.scenario.schema.behaviour import Behaviour
from trustsim.scenario.schema.observations import Observations
from trustsim.scenario.schema.ranges import PlausibleRange
from trustsim.scenario.schema.responses import Chilling, Compliance, Deterrence, Distancing, Responses
from trustsim.scenario.schema.sanctions import (
    Appeals, Condition, CourtList, Effects, RewardRule, Rewards, Rule, Sanctions,
)
from trustsim.scenario.schema.scoring import Association, EventPoints, Participation, Scoring, Weights
from trustsim.scenario.schema.society import (
    CENSUS_2020_PROVINCES, MINORITY_WEIGHT_2020, FamilyLayer, Firms, FriendsLayer, Network, Population, Traits,
    WorkLayer,
)
from trustsim.scenario.schema.surveillance import FaceRecognition, GroupMultiplier, Surveillance


class Run(Section):
    start: dt.date = param(dt.date(2020, 1, 1), "date", "calendar date of step 0")
    step_days: int = param(7, "days", "length of a step", ge=1, le=366)
    years: float = param(1.0, "years", "simulated time", gt=0, le=200)
    snapshot: bool = param(False, "-", "write person-level Parquet snapshots at the end")
    trace: int = param(0, "people", "people followed event by event (case files); 0: none", ge=0, le=100_000)

    @property
    def steps(self) -> int:
        return max(1, round(self.years * 365.25 / self.step_days))


class Scenario(Section):
    """A whole scenario: a society, a system acting on it, and how long to run."""

    name: str = param("custom", "-", "short name of the scenario")
    description: str = param("", "-", "what the scenario is, in one or two sentences")
    population: Population = Field(default_factory=Population)
    network: Network = Field(default_factory=Network)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    surveillance: Surveillance = Field(default_factory=Surveillance)
    scoring: Scoring = Field(default_factory=Scoring)
    participation: Participation = Field(default_factory=Participation)
    sanctions: Sanctions = Field(default_factory=Sanctions)
    rewards: Rewards = Field(default_factory=Rewards)
    responses: Responses = Field(default_factory=Responses)
    run: Run = Field(default_factory=Run)
    uncertainty: dict[str, PlausibleRange] = param(
        {}, "-", "plausible range [lo, hi] and reason of each assumed parameter, by dotted key (docs/ensembles.md)"
    )
    observations: Observations = Field(
        default_factory=Observations,
        description="published figures and design premises to condition on, with their uncertainty (docs/posterior.md)")


__all__ = [
    "AUDIT_METRICS", "CENSUS_2020_PROVINCES", "DIMENSIONS", "EVENT_KINDS", "MEASURES", "MINORITY_WEIGHT_2020", "OCCUPATIONS",
    "REWARDS", "Appeals", "Association", "Behaviour", "Chilling", "Compliance", "Condition", "CourtList",
    "Deterrence", "Distancing", "Effects", "EventKind", "EventPoints", "FaceRecognition", "FamilyLayer", "Firms",
    "FriendsLayer", "GroupMultiplier", "Measure", "Network", "Occupation", "Participation", "Population",
    "Responses", "Reward", "RewardRule", "Rewards", "Rule", "Run", "Sanctions", "Scenario", "Scoring", "Section",
    "Surveillance", "Traits", "Weights", "WorkLayer", "param",
]
