"""The search for the fitted values, and `calibrate`, which runs it and then the fitted scenario.

Use `calibrate` to fit a scenario (a `Calibration`: the fitted scenario, its fit and run, and every
trial); `search` is the bare optimiser loop over one window.

The search: Optuna's TPE sampler (seeded) over the listing parameters (judgment default rate, the
list's roll-out start and ramp, fulfilment rate, term), starting from a fixed point (the schema's
defaults, whatever the preset now holds, so a calibration of the fitted preset reproduces it).
The flight and rail attempt rates are profiled out in closed form: nothing else in the model
reads a ticket attempt, so a run's blocked attempts scale in proportion to the attempt rate, and
the best rate for the log loss is the geometric mean of published over modelled counts (clipped
to its range). ``banned_attempt_factor`` is not fitted: the counts identify only its product with
the attempt rates. Every trial runs the same society and random numbers (one seed), one trial
after another, so the result is the same given the seed, trials and people, whatever the thread
count; it changes with the model's code and with Optuna's release (docs/calibration.md).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba

from trustsim.engine import check_memory, simulate
from trustsim.errors import UserError
from trustsim.experiments.calibration.objective import (
    DEFAULT_SEED, Fit, ModelSeries, _check_scenario, assess, calibration_window, loss, resolution, series_from_result,
)
from trustsim.experiments.calibration.parameters import (
    PARAMETERS, PROFILE_REFERENCE, PROFILED_SERIES, Parameter, to_value, with_values,
)
from trustsim.experiments.calibration.targets import PUBLISHED
from trustsim.result import Result
from trustsim.scenario.loading import load_scenario, source_label
from trustsim.scenario.schema import Scenario


DEFAULT_TRIALS = 60


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
    optuna_version: str = ""  # the sampler's proposals, and so the fit, change between Optuna releases

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
    window: Scenario, trials: int, seed: int, on_trial: Callable[[Trial], None] = lambda trial: None
) -> list[Trial]:
    """TPE over the searched parameters, from the fixed starting point; every trial, in order.

    Trials run one after another (no n_jobs), so the sampler sees them in the same order every time.
    """
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
        on_trial(out[-1])
        return value

    study.optimize(objective, n_trials=trials)
    return out


def _check_trials(trials: int) -> None:
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 2:
        raise UserError(f"--trials: {trials!r}; allowed: a whole number >= 2 (the starting point and at least one search)")


def with_people(scenario: Scenario, people: int | None) -> Scenario:
    """The scenario at `people` simulated people (None: as it is); fewer than 100 cannot fill the figures."""
    if people is None:
        return scenario
    if people < 100:
        raise UserError(f"--people: {people}; allowed: a whole number >= 100")
    return with_values(scenario, {"population.people": people})


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
    base = with_people(base, people)
    check_memory(base, base.name if isinstance(scenario, Scenario) else source_label(scenario))
    _check_scenario(base)
    window = calibration_window(base)
    began = time.perf_counter()
    with _threads(threads), _Progress(progress, trials, f"calibrating {base.name}") as shown:
        history = search(window, trials, seed, shown.trial)
        best = min(history, key=lambda t: (t.loss, t.number))
        fitted_scenario = with_values(base, best.values)
        shown.final(f"best: trial {best.number + 1}; running the fitted scenario over its whole window")
        fit, result = assess(fitted_scenario, seed=seed)
    return Calibration(
        fit=fit, result=result, trials=history, start_loss=history[0].loss, seed=seed, n_trials=trials,
        people=base.population.people, seconds=time.perf_counter() - began, fitted=best.values,
        source=str(source), optuna_version=importlib.metadata.version("optuna"),
    )


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Numba's thread count for this thread (None: leave it), restored afterwards. (Every run
    also keeps BLAS to one thread: engine.simulate.)"""
    if n is not None and n < 1:
        raise UserError(f"--threads: {n}; allowed: a whole number >= 1")
    before = numba.get_num_threads()
    if n is not None:
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)


class _Progress:
    """Trials done: a Rich bar on a terminal; otherwise (output to a file or a pipe, where a bar
    shows nothing until the end) one plain line per trial, flushed at once; or nothing."""

    def __init__(self, enabled: bool, total: int, name: str):
        self.enabled, self.total, self.name = enabled, total, name
        self.bar: Any = None
        self.best = math.inf
        self.began = time.perf_counter()

    def __enter__(self) -> "_Progress":
        if not self.enabled:
            return self
        if sys.stdout.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task(self.name, total=self.total + 1)  # the trials and the fitted run
        return self

    def trial(self, trial: Trial) -> None:
        self.best = min(self.best, trial.loss)
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{self.name}, best loss {self.best:.4f}")
        elif self.enabled:
            self._line(f"trial {trial.number + 1}/{self.total}: loss {trial.loss:.4f}, best {self.best:.4f}")

    def final(self, text: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1)
        elif self.enabled:
            self._line(text)

    def _line(self, text: str) -> None:
        print(f"{self.name}: {text} ({time.perf_counter() - self.began:.0f} s)", flush=True)

    def __exit__(self, *exc: Any) -> bool:
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False
