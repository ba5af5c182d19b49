"""The objective: the model's side of each published figure, the loss, and assessing one scenario.

Use `assess` to run a scenario over its own window and see how it fits (a `Fit`), `loss` and
`log_error` to score model values against the published ones, and `calibration_window` for the run
every trial shares.

The loss is the weighted mean of squared log errors over the published points,
``log((model + e) / (published + e))``, where e is half a simulated person (the model's
resolution: one simulated person stands for represents / people real ones); for the band,
the log distance to the nearer edge (0 inside). Points marked as checks are shown, not fitted.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trustsim.engine import simulate
from trustsim.errors import UserError
from trustsim.experiments.calibration.parameters import with_values
from trustsim.experiments.calibration.targets import PUBLISHED, SHARE_RESOLUTION, Target, _fmt
from trustsim.result import Result
from trustsim.scenario.schema import Scenario


DEFAULT_SEED = 0


@dataclass
class ModelSeries:
    """Per-step counts of one run (scaled to the real population) and the dates the steps end."""

    start: dt.date
    step_days: int
    per_step: dict[str, np.ndarray]  # entries, exits, count, flights, rail

    @property
    def steps(self) -> int:
        return len(self.per_step["entries"])

    def ends(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=self.step_days * (t + 1)) for t in range(self.steps)]

    def cumulative(self, name: str, date: dt.date) -> float:
        """Cumulative count up to a date, linear within a step."""
        days = (date - self.start).days
        x = self.step_days * np.arange(self.steps + 1, dtype=np.float64)
        y = np.concatenate([[0.0], np.cumsum(self.per_step[name], dtype=np.float64)])
        return float(np.interp(days, x, y))

    def value(self, target: Target) -> float:
        """The model's value of a published figure."""
        if target.series == "exit_share":
            listings = self.cumulative("entries", target.date)
            return self.cumulative("exits", target.date) / listings if listings > 0 else 0.0
        name = {"listings": "entries", "exits": "exits", "flights": "flights", "rail": "rail"}[target.series]
        value = self.cumulative(name, target.date)
        if target.since is not None:
            value -= self.cumulative(name, target.since - dt.timedelta(days=1))
        return value

    def scaled(self, factors: dict[str, float]) -> "ModelSeries":
        per_step = {k: v * factors.get(k, 1.0) for k, v in self.per_step.items()}
        return ModelSeries(self.start, self.step_days, per_step)


def series_from_result(result: Result) -> ModelSeries:
    """The same per-step counts from a run's audit metrics (group all)."""
    m = result.metrics
    m = m[m["group"] == "all"]
    steps = result.scenario.run.steps
    metric_of = {"entries": "blacklist_entries", "exits": "blacklist_exits", "count": "blacklist_count",
                 "flights": "flight_denials", "rail": "rail_denials"}
    per_step = {}
    for name, metric in metric_of.items():
        rows = m[m["metric"] == metric]
        values = np.zeros(steps)
        values[rows["step"].to_numpy(dtype=np.int64)] = rows["value"].to_numpy(dtype=np.float64)
        per_step[name] = values
    run = result.scenario.run
    return ModelSeries(run.start, run.step_days, per_step)


def resolution(scenario: Scenario) -> float:
    """Half a simulated person, in real people: the smallest count the model can tell from 0."""
    return 0.5 * scenario.population.represents / scenario.population.people


def log_error(target: Target, model: float, floor: float) -> float:
    """Signed log error of the model against one published figure (0 inside a band)."""
    e = SHARE_RESOLUTION if target.series == "exit_share" else floor
    model = max(model, 0.0)
    if target.low is not None:
        if model < target.low:
            return math.log((model + e) / (target.low + e))
        if model > target.high:
            return math.log((model + e) / (target.high + e))
        return 0.0
    return math.log((model + e) / (target.value + e))


def loss(values: Sequence[float], targets: Sequence[Target] = PUBLISHED, floor: float = 0.0) -> float:
    """Weighted mean squared log error of model values (one per target) over the fitted targets."""
    fitted = [(t, v) for t, v in zip(targets, values, strict=True) if t.fitted and t.weight > 0]
    total = sum(t.weight for t, _ in fitted)
    return sum(t.weight * log_error(t, v, floor) ** 2 for t, v in fitted) / total


@dataclass
class Fit:
    """How a scenario's run compares with the published figures."""

    scenario: Scenario
    seed: int
    series: ModelSeries
    values: list[float]  # the model's value of each target
    loss: float
    targets: tuple[Target, ...] = PUBLISHED

    def rows(self) -> list[dict[str, Any]]:
        floor = resolution(self.scenario)
        out = []
        for t, v in zip(self.targets, self.values):
            out.append({
                "figure": t.label, "date": t.date, "published": t.published_text(), "model": _fmt(v, t.series),
                "error": log_error(t, v, floor), "fitted": t.fitted, "source": t.source,
            })
        return out


def calibration_window(scenario: Scenario, targets: Sequence[Target] = PUBLISHED) -> Scenario:
    """The scenario run from its start to the last published date (the trials' window)."""
    last = max(t.date for t in targets)
    start = scenario.run.start
    first = min(t.since or t.date for t in targets)
    if start > first:
        raise UserError(
            f"{scenario.name}: run.start = {start}; allowed: a date on or before {first}, "
            f"the first published figure (the list opened in October 2013)"
        )
    steps = math.ceil(((last - start).days + 1) / scenario.run.step_days)
    return with_values(scenario, {"run.years": steps * scenario.run.step_days / 365.25})


def _check_scenario(scenario: Scenario) -> None:
    if not scenario.sanctions.court_list.enabled:
        raise UserError(f"{scenario.name}: sanctions.court_list.enabled = false; allowed: true (the fit is to the court list)")
    measures = {rule.measure for rule in scenario.sanctions.rules if rule.when.on_list == "court_list"}
    missing = {"flight_ban", "rail_ban"} - measures
    if missing:
        raise UserError(
            f"{scenario.name}: sanctions.rules: no {' or '.join(sorted(missing))} on the court list; "
            "allowed: a scenario whose court list bans flights and rail (like judicial_lists)"
        )


def assess(scenario: Scenario, seed: int = DEFAULT_SEED, progress: bool = False) -> tuple[Fit, Result]:
    """Run a scenario as it is over its own window and compare it with every published figure."""
    _check_scenario(scenario)
    last = max(t.date for t in PUBLISHED)
    end = scenario.run.start + dt.timedelta(days=scenario.run.steps * scenario.run.step_days)
    calibration_window(scenario)  # checks the start
    if end < last:
        raise UserError(f"{scenario.name}: run ends {end}; allowed: a run that reaches {last} (run.years)")
    result = simulate(scenario, seed=seed, progress=progress)
    series = series_from_result(result)
    values = [series.value(t) for t in PUBLISHED]
    return Fit(scenario, seed, series, values, loss(values, PUBLISHED, resolution(scenario))), result
