"""The outcome of one run: its scenario, seed, audit metrics over time, and how those numbers read.

Use `Result` for what `trustsim.simulate` returns and `trustsim.open_results` reads back. Its
`metrics` are a long table (step, date, metric, group, value): group "all" is the whole
population, other groups read "dimension=value" (e.g. "minority=1"). A metric name's family is the
part before its first dot ("sanctioned_share.flight_ban" belongs to "sanctioned_share").
`format_value` is the one place that decides how a metric's value is written for people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from trustsim.scenario.schema import Scenario

METRIC_COLUMNS = ("step", "date", "metric", "group", "value")
HEADLINE_METRICS = ("score_mean", "blacklist_share", "wrongful_sanction_share", "expressed_dissent_ratio")


@dataclass
class Result:
    """One run. `run_id` is set once the run is in a results database."""

    scenario: Scenario
    seed: int
    metrics: pd.DataFrame
    started_at: dt.datetime
    finished_at: dt.datetime
    snapshot: pd.DataFrame | None = None
    run_id: int | None = None
    trace: pd.DataFrame | None = None  # trace(person, step, date, event, cause, value), see trace.py
    traced_people: pd.DataFrame | None = None  # who the traced people are, one row each

    def __post_init__(self) -> None:
        if tuple(self.metrics.columns) != METRIC_COLUMNS:
            raise ValueError(f"metrics columns must be {METRIC_COLUMNS}, got {tuple(self.metrics.columns)}")

    @property
    def people(self) -> int:
        return self.scenario.population.people

    @property
    def steps(self) -> int:
        return self.scenario.run.steps

    @property
    def elapsed_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def final(self, group: str = "all") -> dict[str, float]:
        """Each metric's value at the last step it was recorded, for one group."""
        rows = self.metrics[self.metrics["group"] == group]
        last = rows.sort_values("step").groupby("metric", sort=True).tail(1)
        return dict(zip(last["metric"], last["value"].astype(float)))

    def headline(self) -> dict[str, float]:
        """The final values of the headline metrics this run has, in HEADLINE_METRICS order."""
        final = self.final()
        return {m: final[m] for m in HEADLINE_METRICS if m in final}


def family(metric: str) -> str:
    """The family of a metric: its name up to the first dot."""
    return metric.split(".", 1)[0]


def format_value(metric: str, value: float) -> str:
    """A metric's value as people read it: shares in percent, large counts with separators."""
    if pd.isna(value):
        return "n/a"
    if family(metric).endswith("_share"):
        return f"{100 * value:.2f}%"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"
