"""Calibration: fit the court-list preset to the published counts of shared/facts.md.

Use `calibrate` (or `trustsim calibrate judicial_lists`) to fit a scenario with a court list to
the public time series of the court list of dishonest judgment debtors, 2014 to 2018-05, and
`assess` to see how any scenario fits them without searching. `write_report` writes the fit
report, `fitted_yaml` the fitted preset. docs/calibration.md is the how-to.

What is compared (every count scaled to the real adult population, represents / people):

- people listed: cumulative listings, the sum of ``blacklist_entries`` over steps. The published
  figures count listings, not people on the list now: 20% of the 2014-03 figure had already paid
  and left, and by 2018 15-27% of all listings were paid or complied. ``blacklist_count`` (on a
  list now) is drawn in the report beside it.
- listings ended (paid or complied): cumulative ``blacklist_exits``; by 2018-05 as a share of
  listings, a band of 15-27%. In the model an entry also ends at its term or on a successful
  appeal; the band is applied to all exits, so it bounds the term from below.
- flight and high-speed-rail attempts blocked: cumulative sums of ``flight_denials`` and
  ``rail_denials`` (per step).

The loss is the weighted mean of squared log errors over the published points,
``log((model + e) / (published + e))``, where e is half a simulated person (the model's
resolution: one simulated person stands for represents / people real ones); for the band,
the log distance to the nearer edge (0 inside). Points marked as checks are shown, not fitted.

The search: Optuna's TPE sampler (seeded) over the listing parameters (judgment default rate, the
list's roll-out start and ramp, fulfilment rate, term), starting from a fixed point (the schema's
defaults, whatever the preset now holds, so a calibration of the fitted preset reproduces it).
The flight and rail attempt rates are profiled out in closed form: nothing else in the model
reads a ticket attempt, so a run's blocked attempts scale in proportion to the attempt rate, and
the best rate for the log loss is the geometric mean of published over modelled counts (clipped
to its range). ``banned_attempt_factor`` is not fitted: the counts identify only its product with
the attempt rates. Every trial runs the same society and random numbers (one seed), and the
result is deterministic given the seed and the number of trials.

Scope: this fits the model to aggregate public figures; it never searches for a policy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import itertools
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trustsim.engine import check_memory, simulate
from trustsim.errors import UserError
from trustsim.result import Result
from trustsim.scenario.loading import load_scenario, source_label
from trustsim.scenario.schema import Scenario

DEFAULT_TRIALS = 60
DEFAULT_SEED = 0
FITTED_YAML = "fitted_{name}.yaml"
REPORT = "calibration.html"
SIGNIFICANT = 3  # fitted values are written with this many significant digits


# --- the published record ----------------------------------------------------------------------

SERIES = {
    "listings": ("people listed (cumulative listings)", "sum of blacklist_entries"),
    "exits": ("listings ended: paid or complied (cumulative)", "sum of blacklist_exits"),
    "exit_share": ("share of listings ended", "sum of blacklist_exits / sum of blacklist_entries"),
    "flights": ("flight attempts blocked (cumulative)", "sum of flight_denials"),
    "rail": ("high-speed-rail attempts blocked (cumulative)", "sum of rail_denials"),
}


@dataclass(frozen=True)
class Target:
    """One published figure: a series' value at a date (or over [since, date]), or a band."""

    series: str
    date: dt.date
    value: float
    source: str
    low: float | None = None  # a band: any model value in [low, high] fits exactly
    high: float | None = None
    since: dt.date | None = None  # a count over a window rather than since the start
    fitted: bool = True
    weight: float = 1.0

    @property
    def label(self) -> str:
        when = f"{self.since:%Y-%m}..{self.date:%Y-%m}" if self.since else f"{self.date:%Y-%m}"
        return f"{SERIES[self.series][0]}, {when}"

    def published_text(self) -> str:
        if self.low is not None:
            return f"{_fmt(self.low, self.series)} - {_fmt(self.high, self.series)}"
        return _fmt(self.value, self.series)


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


M = 1e6
PUBLISHED: tuple[Target, ...] = (
    Target("listings", _month_end(2014, 3), 0.0755 * M, "facts.md: 0.0755 M listed by 2014-03"),
    Target("listings", _month_end(2015, 12), 3.08 * M, "facts.md"),
    Target("listings", _month_end(2017, 2), 6.73 * M, "facts.md"),
    Target("listings", _month_end(2018, 5), 10.89 * M, "facts.md"),
    Target("exits", _month_end(2014, 3), 0.2 * 0.0755 * M,
           "facts.md: about 20% of the 2014-03 listings removed after paying; under a simulated person at the "
           "default size", fitted=False),
    Target("exits", _month_end(2017, 2), 1.0 * M, "facts.md: about 1 million paid or complied by early 2017"),
    Target("exit_share", _month_end(2018, 5), 0.21, "facts.md: 15-27% of all listings paid or complied by 2018",
           low=0.15, high=0.27),
    Target("flights", _month_end(2015, 12), 3.76 * M, "facts.md"),
    Target("flights", _month_end(2017, 2), 6.15 * M, "facts.md"),
    Target("flights", _month_end(2017, 12), 9.36 * M, "facts.md"),
    Target("flights", _month_end(2018, 5), 11.60 * M, "facts.md"),
    Target("rail", _month_end(2015, 12), 0.60 * M, "facts.md"),
    Target("rail", _month_end(2017, 2), 2.22 * M, "facts.md"),
    Target("rail", _month_end(2017, 12), 3.67 * M, "facts.md"),
    Target("rail", _month_end(2018, 5), 4.41 * M, "facts.md"),
    Target("flights", _month_end(2014, 8), 108_000, "facts.md: 108,000 blocked flight attempts in July-August 2014",
           since=dt.date(2014, 7, 1), fitted=False),
)

COUNT_SERIES = ("listings", "exits", "flights", "rail")
SHARE_RESOLUTION = 0.01  # the floor e for a share, in place of half a person


# --- what is fitted ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """A fitted scenario key: its search range, how it is fitted, and the search's starting value.

    kind: "float", "int", or "date" (searched as weeks after run.start, written as a date).
    how: "searched" (by the optimiser) or "profiled" (in closed form within each trial).
    """

    key: str
    low: float
    high: float
    start: float
    why: str
    log: bool = False
    kind: str = "float"
    how: str = "searched"
    step: int | None = None

    @property
    def name(self) -> str:
        return self.key.rsplit(".", 1)[-1]


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("behaviour.judgment_default_rate", 1e-5, 3e-4, 2e-4, "level of the listings", log=True),
    Parameter("surveillance.court_coverage_start", 0, 20, 0, "when listing began (weeks after run.start)",
              kind="date"),
    Parameter("surveillance.court_coverage_ramp_years", 0.0, 6.0, 0.0, "slow start of the listings (roll-out)"),
    Parameter("sanctions.court_list.fulfil_rate", 2e-4, 2e-2, 1e-2, "listings ended by paying", log=True),
    Parameter("sanctions.court_list.term_weeks", 52, 520, 104, "listings ended by expiry", kind="int", step=4),
    Parameter("behaviour.flight_attempts_per_week", 1e-3, 1.0, 1e-2, "blocked flight attempts", log=True,
              how="profiled"),
    Parameter("behaviour.rail_attempts_per_week", 1e-3, 1.0, 5e-2, "blocked rail attempts", log=True,
              how="profiled"),
)
PROFILED_SERIES = {"behaviour.flight_attempts_per_week": "flights", "behaviour.rail_attempts_per_week": "rail"}
# Trials run the profiled rates at this reference value (many counts, little noise), then rescale.
PROFILE_REFERENCE = 0.2


# --- the model's series ------------------------------------------------------------------------


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


# --- the loss ----------------------------------------------------------------------------------


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


# --- a scenario with new values ----------------------------------------------------------------


def with_values(scenario: Scenario, values: dict[str, Any]) -> Scenario:
    """The scenario with dotted keys set (validated by the schema)."""
    data = scenario.model_dump(exclude_unset=True)  # keeps track of what the scenario's file sets
    for key, value in values.items():
        _set_default(data, key, value)
    return Scenario.model_validate(data)


def to_value(parameter: Parameter, x: float, scenario: Scenario) -> Any:
    """The scenario value of a search coordinate (rounded as it will be written)."""
    if parameter.kind == "date":
        return scenario.run.start + dt.timedelta(days=round(7 * x))
    if parameter.kind == "int":
        return int(round(x))
    return float(f"{x:.{SIGNIFICANT}g}")


# --- assessing one scenario --------------------------------------------------------------------


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


# --- the search --------------------------------------------------------------------------------


@dataclass
class Trial:
    number: int
    values: dict[str, Any]  # scenario key -> value, profiled rates included
    loss: float


@dataclass
class Calibration:
    """A finished calibration: the fitted scenario, its fit, and the search that found it."""

    fit: Fit
    result: Result
    trials: list[Trial]
    start_loss: float
    seed: int
    n_trials: int
    people: int
    seconds: float
    parameters: tuple[Parameter, ...] = PARAMETERS
    fitted: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def scenario(self) -> Scenario:
        return self.fit.scenario


def _profile(series: ModelSeries, scenario: Scenario) -> tuple[dict[str, float], ModelSeries]:
    """Best attempt rates in closed form, from a run at the reference rates; the rescaled series."""
    rates, factors = {}, {}
    floor = resolution(scenario)
    for parameter in PARAMETERS:
        if parameter.how != "profiled":
            continue
        name = PROFILED_SERIES[parameter.key]
        points = [t for t in PUBLISHED if t.series == name and t.fitted]
        logs = [math.log(t.value / max(series.value(t), floor)) for t in points]
        rate = PROFILE_REFERENCE * math.exp(sum(logs) / len(logs))
        rate = to_value(parameter, min(max(rate, parameter.low), parameter.high), scenario)
        rates[parameter.key] = rate
        factors[name] = rate / PROFILE_REFERENCE
    return rates, series.scaled(factors)


def _evaluate(window: Scenario, values: dict[str, Any], seed: int) -> tuple[float, dict[str, Any]]:
    """Loss of one trial: a run at these listing values, attempt rates profiled."""
    reference = {p.key: PROFILE_REFERENCE for p in PARAMETERS if p.how == "profiled"}
    scenario = with_values(window, {**values, **reference})
    rates, series = _profile(series_from_result(simulate(scenario, seed)), scenario)
    model = [series.value(t) for t in PUBLISHED]
    return loss(model, PUBLISHED, resolution(scenario)), {**values, **rates}


def search(
    window: Scenario, trials: int, seed: int, advance: Callable[[], None] = lambda: None
) -> list[Trial]:
    """TPE over the searched parameters, from the fixed starting point; every trial, in order."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    searched = [p for p in PARAMETERS if p.how == "searched"]
    sampler = optuna.samplers.TPESampler(
        seed=seed, multivariate=True, n_startup_trials=max(1, min(10, trials // 4)),
    )
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.enqueue_trial({p.key: p.start for p in searched})
    out: list[Trial] = []

    def objective(trial: Any) -> float:
        values = {}
        for p in searched:
            if p.kind == "int":
                x = trial.suggest_int(p.key, int(p.low), int(p.high), step=p.step or 1)
            else:
                x = trial.suggest_float(p.key, p.low, p.high, log=p.log)
            values[p.key] = to_value(p, x, window)
        value, all_values = _evaluate(window, values, seed)
        out.append(Trial(trial.number, all_values, value))
        advance()
        return value

    study.optimize(objective, n_trials=trials)
    return out


def _check_trials(trials: int) -> None:
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 2:
        raise UserError(f"--trials: {trials!r}; allowed: a whole number >= 2 (the starting point and at least one search)")


def calibrate(
    scenario: str | Path | Scenario = "judicial_lists",
    trials: int = DEFAULT_TRIALS,
    people: int | None = None,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    threads: int | None = 1,
) -> Calibration:
    """Fit a court-list scenario to the published figures; the fitted scenario runs its own window.

    The returned Calibration holds the fitted scenario (its run window and size as given, fitted
    values rounded to SIGNIFICANT digits), its fit, the run of it, and every trial. `threads`: Numba
    threads for the runs (None: Numba's default). The trials are small runs back to back, where one
    thread is fastest on a small or shared machine; results do not depend on it.
    """
    _check_trials(trials)
    source = scenario if isinstance(scenario, str) else getattr(scenario, "name", str(scenario))
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if people is not None:
        if people < 100:
            raise UserError(f"--people: {people}; allowed: a whole number >= 100")
        base = with_values(base, {"population.people": people})
    check_memory(base, base.name if isinstance(scenario, Scenario) else source_label(scenario))
    _check_scenario(base)
    window = calibration_window(base)
    began = time.perf_counter()
    with _threads(threads), _progress(progress, trials + 1, f"calibrating {base.name}") as advance:
        history = search(window, trials, seed, advance)
        best = min(history, key=lambda t: (t.loss, t.number))
        fitted_scenario = with_values(base, best.values)
        fit, result = assess(fitted_scenario, seed=seed)
        advance()
    return Calibration(
        fit=fit, result=result, trials=history, start_loss=history[0].loss, seed=seed, n_trials=trials,
        people=base.population.people, seconds=time.perf_counter() - began, fitted=best.values,
        source=str(source),
    )


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Numba's thread count for this thread, restored afterwards."""
    if n is None:
        yield
        return
    import numba

    if n < 1:
        raise UserError(f"--threads: {n}; allowed: a whole number >= 1")
    before = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)


class _progress:
    """A Rich progress bar over trials, or nothing."""

    def __init__(self, enabled: bool, total: int, name: str):
        self.enabled, self.total, self.name = enabled, total, name

    def __enter__(self) -> Callable[[], None]:
        if not self.enabled:
            return lambda: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), transient=True)
        self.bar.__enter__()
        task = self.bar.add_task(self.name, total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc: Any) -> bool:
        if self.enabled:
            self.bar.__exit__(*exc)
        return False


# --- writing -----------------------------------------------------------------------------------


def _fmt(value: float | None, series: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if series == "exit_share":
        return f"{100 * value:.1f}%"
    return f"{value / M:.3g} M" if abs(value) >= 0.1 * M else f"{value:,.0f}"


def value_text(parameter: Parameter, value: Any) -> str:
    if parameter.kind == "date":
        return str(value)
    if parameter.kind == "int":
        return f"{int(value)}"
    return f"{value:.{SIGNIFICANT}g}"


def _range_text(parameter: Parameter, scenario: Scenario) -> str:
    if parameter.kind == "date":
        return f"{to_value(parameter, parameter.low, scenario)} .. {to_value(parameter, parameter.high, scenario)}"
    scale = " (log)" if parameter.log else ""
    return f"{parameter.low:g} .. {parameter.high:g}{scale}"


# What the court-list preset's settings mean, written beside them in the fitted file.
NOTES = {
    "participation.mode": "anyone can become a judgment debtor",
    "surveillance.cameras": "IHS Markit count for 2016-2017",
    "scoring.weights": "no score decides anything here: the list does; only the legal record is kept",
    "sanctions.rules": "each measure lasts as long as the court-list entry",
    "sanctions.firm_listing": "listed firms' senior managers are barred from management",
}


def _yaml_lines(data: dict[str, Any], notes: dict[str, str], prefix: str = "", indent: int = 0) -> list[str]:
    """Block mappings for sections, JSON (valid YAML) for leaves; a comment after noted keys."""
    lines = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        pad = "  " * indent
        note = f"  # {notes[dotted]}" if dotted in notes else ""
        if isinstance(value, dict) and value and not any(not isinstance(k, str) for k in value):
            lines.append(f"{pad}{key}:{note}")
            lines.extend(_yaml_lines(value, notes, f"{dotted}.", indent + 1))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{pad}{key}:{note}")
            lines.extend(f"{pad}  - {json.dumps(v, default=str, ensure_ascii=False)}" for v in value)
        else:
            lines.append(f"{pad}{key}: {json.dumps(value, default=str, ensure_ascii=False)}{note}")
    return lines


def fitted_yaml(calibration: Calibration) -> str:
    """The fitted scenario as a preset file: no base, every value its file set, fitted keys noted."""
    scenario = calibration.scenario
    data = scenario.model_dump(mode="json", exclude_unset=True)
    notes = dict(NOTES)
    for p in calibration.parameters:
        _set_default(data, p.key, calibration.fitted[p.key])
        notes[p.key] = f"fitted ({p.how}), range {_range_text(p, scenario)}"
    command = (
        f"trustsim calibrate {calibration.source} --trials {calibration.n_trials} "
        f"--people {calibration.people} --seed {calibration.seed}"
    )
    header = [
        f"# {scenario.name}: {scenario.description}.",
        "# Courts list dishonest judgment debtors, publish the list, and bar those listed from flights,",
        "# high-speed rail and senior posts until they pay or the entry expires.",
        "#",
        f"# Fitted by `{command}`",
        "# to the published counts of the court list of dishonest judgment debtors and blocked flight and",
        "# rail attempts, 2014 to 2018-05 (shared/facts.md; docs/calibration.md); the calibration's",
        "# seed, trials and people above are its defaults, so the same command reproduces this file.",
        f"# Fit: loss {calibration.fit.loss:.4f} (mean squared log error over "
        f"{sum(t.fitted for t in PUBLISHED)} published figures), from {calibration.start_loss:.4f} at the start.",
        "# Runs at four-week steps (the published series are monthly or coarser) from the list's opening in",
        "# October 2013 to the end of 2019; counts are scaled to the real adult population.",
        "",
    ]
    return "\n".join(header + _yaml_lines(data, notes)) + "\n"


def _set_default(data: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted key in a dump that may lack its sections (they were at their defaults)."""
    *path, last = key.split(".")
    for part in path:
        data = data.setdefault(part, {})
    data[last] = value.isoformat() if isinstance(value, dt.date) else value


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trustsim calibration: {name}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1180px; margin: 2em auto; color: #222; line-height: 1.4; }}
table {{ border-collapse: collapse; margin: 0.6em 0 1.4em; font-size: 0.92em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.3em 0.7em; text-align: right; white-space: nowrap; }}
th:first-child, td:first-child, th:last-child, td.l {{ text-align: left; }}
td:last-child {{ white-space: normal; }}
tr.check td {{ color: #777; }}
.note {{ color: #555; font-size: 0.9em; }}
code {{ background: #f3f3f3; padding: 0 0.2em; }}
</style></head><body>
<h1>Calibration of {name} to the published record</h1>
<p>{summary}</p>
{plot}
<h2>Each published figure beside the model</h2>
{points}
<h2>Fitted parameters</h2>
{parameters}
{search}
<h2>How this was fitted</h2>
<p class="note">{method}</p>
</body></html>
"""


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], classes: Iterable[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row, cls in zip(rows, classes or itertools.repeat(None)):
        cells = "".join(
            f'<td class="l">{html.escape(c)}</td>' if i in (0, len(row) - 1) else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f'<tr class="{cls}">{cells}</tr>' if cls else f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _figures(fit: Fit, trials: Sequence[Trial] | None) -> list[Any]:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    s = fit.series
    ends = s.ends()
    panels = [
        ("People listed", [("cumulative listings (model)", "entries", True), ("on the list now (model)", "count", False),
                           ("listings ended (model)", "exits", True)], ("listings", "exits")),
        ("Flight attempts blocked", [("cumulative (model)", "flights", True)], ("flights",)),
        ("High-speed-rail attempts blocked", [("cumulative (model)", "rail", True)], ("rail",)),
    ]
    fig = make_subplots(rows=1, cols=3, subplot_titles=[p[0] for p in panels], horizontal_spacing=0.06)
    colours = {"entries": "#1f77b4", "count": "#7f7f7f", "exits": "#2ca02c", "flights": "#d62728", "rail": "#9467bd"}
    for col, (_, lines, series_names) in enumerate(panels, start=1):
        for label, name, cumulative in lines:
            y = np.cumsum(s.per_step[name]) if cumulative else s.per_step[name]
            fig.add_trace(go.Scatter(x=ends, y=y / M, mode="lines", name=label, line={"color": colours[name]},
                                     legendgroup=str(col)), row=1, col=col)
        for series in series_names:
            points = [t for t in fit.targets if t.series == series and t.since is None]
            colour = colours["exits" if series == "exits" else {"listings": "entries"}.get(series, series)]
            fig.add_trace(go.Scatter(
                x=[t.date for t in points], y=[t.value / M for t in points], mode="markers",
                name=f"published: {SERIES[series][0]}", marker={"size": 10, "symbol": "diamond", "color": colour,
                                                               "line": {"color": "black", "width": 1}},
                legendgroup=str(col)), row=1, col=col)
        # the 15-27% band, in people, against the model's own listings
        if "exits" in series_names:
            for t in (t for t in fit.targets if t.series == "exit_share"):
                listings = s.cumulative("entries", t.date)
                fig.add_trace(go.Scatter(
                    x=[t.date, t.date], y=[t.low * listings / M, t.high * listings / M], mode="lines+markers",
                    name="published: 15-27% of listings ended", line={"color": colours["exits"], "width": 4},
                    marker={"symbol": "line-ew-open", "size": 12}, legendgroup=str(col)), row=1, col=col)
        fig.update_yaxes(title_text="million", row=1, col=col)
    fig.add_vline(x=max(t.date for t in fit.targets), line={"dash": "dot", "color": "#999", "width": 1},
                  row="all", col="all")
    fig.update_layout(height=480, margin={"t": 50, "l": 50, "r": 20, "b": 40}, template="plotly_white",
                      legend={"orientation": "h", "y": -0.12})
    figures = [fig]
    if trials:
        best = np.minimum.accumulate([t.loss for t in trials])
        conv = go.Figure([
            go.Scatter(x=[t.number for t in trials], y=[t.loss for t in trials], mode="markers", name="trial"),
            go.Scatter(x=[t.number for t in trials], y=best, mode="lines", name="best so far"),
        ])
        conv.update_layout(height=300, template="plotly_white", xaxis_title="trial", yaxis_title="loss",
                           yaxis_type="log", margin={"t": 30, "l": 50, "r": 20, "b": 40})
        figures.append(conv)
    return figures


def report_html(fit: Fit, calibration: Calibration | None = None) -> str:
    """The fit report: every published figure beside the model, the parameters, the plots."""
    scenario = fit.scenario
    rows, classes = [], []
    for row, target, value in zip(fit.rows(), fit.targets, fit.values):
        reference = target.value
        if target.low is not None:
            reference = min(max(value, target.low), target.high)
        pct = (value / reference - 1) * 100
        inside = target.low is not None and reference == value
        rows.append([row["figure"], row["published"], row["model"], "inside" if inside else f"{pct:+.0f}%",
                     f"{row['error']:+.2f}", row["source"] if row["fitted"] else "check, not fitted: " + row["source"]])
        classes.append("" if row["fitted"] else "check")
    points = _table(["figure", "published", "model", "model vs published", "log error", "source"], rows, classes)

    param_rows = []
    for p in PARAMETERS:
        value = scenario_value(scenario, p.key)
        if calibration is not None:
            how = f"{p.how} ({p.why})"
            start = value_text(p, to_value(p, p.start, scenario))
        else:
            how, start = p.why, ""
        param_rows.append([p.key, value_text(p, value), _range_text(p, scenario), start, how])
    factor = scenario.behaviour.banned_attempt_factor
    param_rows.append(["behaviour.banned_attempt_factor", f"{factor:g}", "", "",
                       "fixed: the counts identify only its product with the attempt rates"])
    header = ["parameter", "value", "search range", "start", "how"]
    if calibration is None:  # no search: no starting point
        header.remove("start")
        param_rows = [row[:3] + row[4:] for row in param_rows]
    parameters = _table(header, param_rows)

    figures = _figures(fit, calibration.trials if calibration else None)
    plot = figures[0].to_html(full_html=False, include_plotlyjs=True)
    search = ""
    if len(figures) > 1:
        search = "<h2>Search: loss by trial</h2>" + figures[1].to_html(full_html=False, include_plotlyjs=False)

    n_fitted = sum(t.fitted for t in fit.targets)
    rms = math.sqrt(fit.loss)
    summary = (
        f"{scenario.population.people:,} simulated people standing for {scenario.population.represents / 1e9:.3g} "
        f"billion adults, seed {fit.seed}, {scenario.run.step_days}-day steps from {scenario.run.start}. "
        f"<b>Loss {fit.loss:.4f}</b> (mean squared log error over {n_fitted} published figures; a typical figure "
        f"is off by a factor e<sup>{rms:.2f}</sup> = {math.exp(rms):.2f})."
    )
    if calibration is not None:
        summary += (
            f" Fitted by {calibration.n_trials} trials of Optuna's TPE sampler plus the starting point, "
            f"in {calibration.seconds / 60:.1f} minutes; the starting point's loss was {calibration.start_loss:.4f}. "
            f"Reproduce with <code>trustsim calibrate {html.escape(calibration.source)} --trials {calibration.n_trials} "
            f"--people {calibration.people} --seed {calibration.seed}</code>."
        )
    method = (
        "People listed are cumulative listings (the sum of blacklist_entries over steps): the published figures "
        "count listings, of which 15-27% had been paid or complied by 2018. Listings ended are cumulative "
        "blacklist_exits (paying, expiry, or a successful appeal). Blocked attempts are cumulative flight_denials "
        "and rail_denials. Every count is scaled by represents / people; the model's resolution is half a "
        f"simulated person ({_fmt(resolution(scenario), 'listings')} real people), added to both sides of each "
        "log error so that figures below it weigh little. The searched parameters are explored by Optuna's "
        "TPE sampler (seeded, multivariate) from a fixed starting point; the attempt rates are profiled out "
        "in closed form (blocked attempts scale with the attempt rate). Each trial runs the same synthetic "
        "society with the same random numbers; the fitted values are rounded to "
        f"{SIGNIFICANT} significant digits and this page shows the run of the rounded, fitted preset over its "
        "whole window. Figures marked 'check' are shown, not fitted."
    )
    return _PAGE.format(name=html.escape(scenario.name), summary=summary, points=points, parameters=parameters,
                        plot=plot, search=search, method=html.escape(method))


def scenario_value(scenario: Scenario, key: str) -> Any:
    value: Any = scenario
    for part in key.split("."):
        value = getattr(value, part)
    if value is None and key == "surveillance.court_coverage_start":
        return scenario.run.start
    return value


def write(calibration: Calibration, directory: str | Path) -> dict[str, Path]:
    """Write DIR/fitted_NAME.yaml, DIR/calibration.html and the fitted run into DIR/results.duckdb."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    preset = directory / FITTED_YAML.format(name=calibration.scenario.name)
    preset.write_text(fitted_yaml(calibration), encoding="utf-8")
    page = directory / REPORT
    page.write_text(report_html(calibration.fit, calibration), encoding="utf-8")
    calibration.result.save(directory)
    return {"preset": preset, "report": page, "results": directory / "results.duckdb"}
