"""The `observations:` section of a scenario: published figures and design premises, each with the
audit metric that reproduces it, its date or window, its uncertainty and source, and the
observation model's nuisance ranges. scenario/observations.py checks them against a run.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trustsim.scenario.schema.ranges import PlausibleRange

Kind = Literal["published", "premise"]
KINDS = ("published", "premise")


class Observation(BaseModel):
    """One published figure or design premise, and the model quantity that reproduces it."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Kind = Field(description="published: a count or estimate in the record; premise: what the system is "
                                   "built to do where no count exists")
    label: str = Field(description="the figure in plain words")
    metric: str = Field(description="the audit metric (group all) that reproduces it")
    reduce: Literal["at", "total", "mean"] = Field(
        "at", description="at: the metric's value at `date`; total: its per-step values summed from `since` (or "
                          "the start) to `date`, linear within a step; mean: its mean over the steps in that window")
    over: str | None = Field(None, description="divide by the same reduction of this metric (a share of it)")
    date: dt.date = Field(description="when the figure holds (its window's end)")
    since: dt.date | None = Field(None, description="the window's start, for total and mean; default the run's start")
    value: float = Field(description="the figure, in the metric's unit")
    sd: float = Field(gt=0, description="its standard uncertainty, on `scale`")
    scale: Literal["log", "linear"] = Field("log", description="log: sd is on log(value) (a factor); linear: on value")
    reason: str = Field(description="one line: why this uncertainty")
    source: str = Field(description="where the figure comes from (docs/sources.md)")
    factor: str | None = Field(None, description="a nuisance factor of the observation model: reported = factor x model")

    @model_validator(mode="after")
    def _positive_on_log(self) -> Observation:
        if self.scale == "log" and not self.value > 0:
            raise ValueError(f"value {self.value:g} on a log scale must be > 0")
        if self.since is not None and not self.since < self.date:
            raise ValueError(f"since {self.since} must be before date {self.date}")
        if self.since is not None and self.reduce == "at":
            raise ValueError("since needs reduce: total or mean")
        return self


class Observations(BaseModel):
    """The `observations:` section: figures by name, and the observation model's nuisance ranges."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    figures: dict[str, Observation] = Field(default_factory=dict, description="the figures, by a short name",
                                            json_schema_extra={"unit": "-"})
    nuisance: dict[str, PlausibleRange] = Field(
        default_factory=dict, description="plausible range of each observation-model factor, by name",
        json_schema_extra={"unit": "-"})

    def of_kind(self, kind: Kind) -> dict[str, Observation]:
        return {name: o for name, o in self.figures.items() if o.kind == kind}
