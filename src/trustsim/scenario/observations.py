"""Observations: the public record a scenario can be conditioned on (`trustsim posterior`).

A scenario's `observations:` section holds published figures and design premises, each with the
audit metric expression that reproduces it, its date or window, its uncertainty with a one-line
reason and its source. Its `nuisance:` part holds the plausible ranges of the observation model's
own parameters: where what was reported is not exactly what the model counts, a figure names a
`factor` (reported = factor x the model's quantity) whose range says how far the two may differ.

Use `Observations` (the section), `Observation` (one entry), `check_observations` to refuse
entries no run can reproduce (an unknown metric or factor; load_scenario calls it), `check_dates`
for a figure dated outside the run (when conditioning: a shorter run of a preset stays fine); an
observation file given on the command line (`--observations FILE`, the same structure as the
section) is read by scenario/loading.py. experiments/posterior/ turns a run's metrics into each
figure's model value (`reduce`, `over`, `since`) and compares them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trustsim.errors import UserError
from trustsim.scenario.uncertainty import PlausibleRange

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


def run_window(run) -> tuple[dt.date, dt.date]:
    """The first and last day a run covers (its last step's end)."""
    return run.start, run.start + dt.timedelta(days=run.step_days * run.steps)


def check_observations(observations: Observations, metrics: tuple[str, ...], where: str) -> None:
    """Refuse a figure no run can reproduce: a metric not in `metrics`, a factor with no nuisance range."""
    for name, o in observations.figures.items():
        label = f"{where}: observations.figures.{name}"
        for field, metric in (("metric", o.metric), ("over", o.over)):
            if metric is not None and metric not in metrics:
                raise UserError(f"{label}.{field}: unknown metric {metric!r}; allowed: an audit metric "
                                f"(docs/model.md), e.g. blacklist_share, flight_denials")
        if o.factor is not None and o.factor not in observations.nuisance:
            raise UserError(f"{label}.factor: no nuisance range named {o.factor!r}; allowed: "
                            f"{', '.join(observations.nuisance) or 'none (add it under observations.nuisance)'}")


def check_dates(observations: Observations, run, where: str) -> None:
    """Refuse a figure dated outside the run (checked when conditioning: a shorter run of the preset is fine)."""
    first, last = run_window(run)
    for name, o in observations.figures.items():
        for field, day in (("date", o.date), ("since", o.since)):
            if day is not None and not first <= day <= last:
                raise UserError(f"{where}: observations.figures.{name}.{field}: {day} is outside the run; "
                                f"allowed: {first} .. {last}")
