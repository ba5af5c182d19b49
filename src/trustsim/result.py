"""The outcome of one run: its scenario, seed, audit metrics over time, and how those numbers read.

Use `Result` for what `trustsim.simulate` returns and `trustsim.open_results` reads back. Its
`metrics` are a long table (step, date, metric, group, value): group "all" is the whole
population, other groups read "dimension=value" (e.g. "minority=1"). A metric name's family is the
part before its first dot ("sanctioned_share.flight_ban" belongs to "sanctioned_share").
`format_value` is the one place that decides how a metric's value is written for people, and
`meaning` what it is (a share of whom, a ratio of what, a count of what) and when it holds.
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



def family(metric: str) -> str:
    """The family of a metric: its name up to the first dot."""
    return metric.split(".", 1)[0]


# When a metric's value at a step holds: on the step's date (the state then), during the step (a
# count or rate of that step alone), or on the step's date against the run's start.
NOW, STEP, SINCE_START = "now", "step", "since the start"
# Per metric family: what its value is, and when it holds (docs/model.md, "Audit metrics"). "{}"
# stands for the member ("sanctioned_share.flight_ban": the flight ban). The simulated people are
# adults, standing for the real adult population; "at national scale" multiplies a count by that ratio.
MEANINGS: dict[str, tuple[str, str]] = {
    "score_mean": ("mean score of the people scored, 350 to 950", NOW),
    "score_p10": ("score under which a tenth of the people scored fall", NOW),
    "score_p50": ("median score of the people scored", NOW),
    "score_p90": ("score under which nine tenths of the people scored fall", NOW),
    "score_gini": ("Gini index of the scores of the people scored, 0 (equal) to 1", NOW),
    "blacklist_share": ("share of adults on the court list or the public blacklist", NOW),
    "blacklist_count": ("adults on the court list or the public blacklist, at national scale", NOW),
    "blacklist_entries": ("adults put on a list who were on none, at national scale", STEP),
    "blacklist_exits": ("adults taken off the last list they were on, at national scale", STEP),
    "sanctioned_share": ("share of adults under this measure: {}", NOW),
    "sanctioned_any_share": ("share of adults under any measure or on any list", NOW),
    "flight_denials": ("flight tickets refused to people under a travel ban, at national scale", STEP),
    "rail_denials": ("train tickets refused to people under a travel ban, at national scale", STEP),
    "wrongful_sanction_share": ("share of the sanctioned (under any measure or on any list) whose own true "
                                "behaviour would not have put them there", NOW),
    "wrongful_by_cause": ("share of the sanctioned who are there wrongly, by this cause: {}", NOW),
    "association_only_penalty_share": ("share of the people scored who are under the association threshold "
                                       "only because of their contacts", NOW),
    "disparate_impact_ratio": ("share of the minority sanctioned over the share of the majority (1: the same)", NOW),
    "expressed_dissent_ratio": ("dissent expressed over dissent held, summed over people (1: nobody holds back)", NOW),
    "dissident_degree_ratio": ("ties the most dissenting tenth have, over the ties they had at the start", SINCE_START),
    "sanctioned_tie_loss": ("fraction of the ties they started with that the sanctioned have lost, 0 to 1", SINCE_START),
    "score_tie_correlation": ("correlation of the scores at the two ends of a tie, -1 to 1", NOW),
    "isolated_share": ("share of adults with no ties left", NOW),
    "crime_rate": ("true crimes per 1,000 adults per year, at the step's pace", STEP),
    "detected_crime_share": ("share of true crimes observed and filed under their author", STEP),
    "reward_share": ("share of adults holding any reward", NOW),
    "opt_in_share": ("share of adults the system scores", NOW),
}


def meaning(metric: str, member: str | None = None) -> tuple[str, str]:
    """(what the value is, when it holds: NOW, STEP or SINCE_START) of a metric; ("", NOW) for one
    the table does not know. `member` names the part after the family's dot in plain words."""
    what, when = MEANINGS.get(family(metric), ("", NOW))
    if "{}" in what:
        what = what.format(member or metric.split(".", 1)[-1].replace("_", " "))
    return what, when


def format_value(metric: str, value: float) -> str:
    """A metric's value as people read it: shares in percent, large counts with separators."""
    if pd.isna(value):
        return "n/a"
    if family(metric).endswith("_share"):
        return f"{100 * value:.2f}%"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"
