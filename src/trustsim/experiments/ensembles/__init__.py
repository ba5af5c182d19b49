"""Ensembles of runs: seeds (`ensemble`), assumptions (`uncertainty`) and what drives them (`sensitivity`).

The Python API of `trustsim ensemble`, `trustsim uncertainty` and `trustsim sensitivity`. Each
function loads the scenario with its overrides and plausible ranges (scenario/uncertainty.py),
builds the design (design.py), runs what is not yet stored on Dask (runner.py), analyses what the
directory then holds (analysis.py) and writes its page (pages.py). Each returns an `Analysis`.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trustsim import store
from trustsim.errors import InputWarning, UserError
from trustsim.experiments.ensembles import analysis, pages
from trustsim.experiments.ensembles.design import (
    Design, is_power_of_two, seeds_design, sensitivity_design, uncertainty_design,
)
from trustsim.experiments.ensembles.runner import Evaluate, RunCounts, run_design, simulate_metrics
from trustsim.result import HEADLINE_METRICS
from trustsim.scenario.loading import load_scenario
from trustsim.scenario.schema import AUDIT_METRICS, Scenario
from trustsim.scenario.schema.ranges import PlausibleRange
from trustsim.scenario.uncertainty import ranges_of

SENSITIVITY_TABLE = "sensitivity"

__all__ = ["Analysis", "ensemble", "sensitivity", "uncertainty"]


@dataclass
class Analysis:
    """The outcome of one ensemble command: what ran, and its summary tables."""

    ensemble_id: str
    scenario: Scenario
    design: Design
    counts: RunCounts
    runs: pd.DataFrame  # every stored run of the ensemble, with status and message
    summary: pd.DataFrame  # intervals (ensemble, uncertainty) or indices (sensitivity)
    page: Path

    @property
    def missing(self) -> int:
        """Runs of the design without a complete result (failed, or not yet run)."""
        return self.design.size - int((self.runs["status"] == "complete").sum())


def prepare(scenario: str | Scenario, people: int | None, years: float | None,
             overrides: Mapping[str, Any] | None, vary: Mapping[str, PlausibleRange] | None,
             only: Sequence[str] | None) -> tuple[Scenario, dict[str, PlausibleRange]]:
    fixed = dict(overrides or {})
    if people is not None:
        fixed["population.people"] = people
    if years is not None:
        fixed["run.years"] = years
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, fixed)
    return loaded, ranges_of(loaded, vary, only)


def _metrics(metrics: Sequence[str] | None, evaluate: Evaluate) -> tuple[str, ...]:
    """The metrics to keep, checked: the model's runs record only the audit metrics, so any other
    would be run for and stored with no rows (an `evaluate` of one's own may name its own)."""
    chosen = tuple(dict.fromkeys(metrics or HEADLINE_METRICS))
    bad = [m for m in chosen if not m or not all(part.replace("_", "").isalnum() for part in m.split("."))]
    if bad:
        raise UserError(f"--metric {bad[0]!r}: not a metric name; allowed: e.g. {', '.join(HEADLINE_METRICS)}")
    unknown = [m for m in chosen if m not in AUDIT_METRICS] if evaluate is simulate_metrics else []
    if unknown:
        name = unknown[0]
        hint = difflib.get_close_matches(name, AUDIT_METRICS, n=1) or [m for m in AUDIT_METRICS if name in m]
        mean = f"did you mean {hint[0]}? " if hint else ""
        raise UserError(f"--metric {name}: unknown metric; {mean}allowed: {', '.join(AUDIT_METRICS)}")
    return chosen


def _execute(loaded: Scenario, design: Design, metrics: tuple[str, ...], out: str | Path, workers: int | None,
             scheduler: str | None, progress: bool, evaluate: Evaluate):
    out = Path(out)
    ensemble_id, counts = run_design(loaded, design, out, metrics, workers=workers, scheduler=scheduler,
                                     progress=progress, evaluate=evaluate)
    runs = analysis.load_runs(out, ensemble_id)
    traj = analysis.trajectories(out, ensemble_id)
    return out, ensemble_id, counts, runs, traj


def ensemble(scenario: str | Scenario, seeds: int = 10, *, seed: int = 0, people: int | None = None,
             years: float | None = None, overrides: Mapping[str, Any] | None = None,
             vary: Mapping[str, PlausibleRange] | None = None, metrics: Sequence[str] | None = None,
             workers: int | None = None, scheduler: str | None = None, out: str | Path = "trustsim-ensemble",
             progress: bool = False, evaluate: Evaluate = simulate_metrics) -> Analysis:
    """The scenario as it is under seeds seed..seed+K-1; writes OUT/ensemble.html."""
    loaded, _ = prepare(scenario, people, years, overrides, vary, None)  # --vary is checked, not sampled
    design = seeds_design(seeds, seed)
    metrics = _metrics(metrics, evaluate)
    out, ensemble_id, counts, runs, traj = _execute(loaded, design, metrics, out, workers, scheduler, progress, evaluate)
    summary = analysis.intervals(analysis.finals(traj)) if len(traj) else pd.DataFrame()
    page = pages.ensemble_page(out, loaded, design, runs, traj, summary, ensemble_id)
    return Analysis(ensemble_id, loaded, design, counts, runs, summary, page)


def uncertainty(scenario: str | Scenario, samples: int = 64, seeds_per_sample: int = 2, *, design: str = "lhs",
                seed: int = 0, people: int | None = None, years: float | None = None,
                overrides: Mapping[str, Any] | None = None, vary: Mapping[str, PlausibleRange] | None = None,
                only: Sequence[str] | None = None, metrics: Sequence[str] | None = None, workers: int | None = None,
                scheduler: str | None = None, out: str | Path = "trustsim-uncertainty", progress: bool = False,
                evaluate: Evaluate = simulate_metrics) -> Analysis:
    """N points over the plausible ranges, S seeds each; writes OUT/uncertainty.html and OUT/uncertainty.json."""
    if design not in ("lhs", "sobol"):
        raise UserError(f"--design {design}: unknown; allowed: lhs, sobol")
    loaded, ranges = prepare(scenario, people, years, overrides, vary, only)
    plan = uncertainty_design(ranges, samples, seeds_per_sample, seed, design)
    metrics = _metrics(metrics, evaluate)
    out, ensemble_id, counts, runs, traj = _execute(loaded, plan, metrics, out, workers, scheduler, progress, evaluate)
    summary = analysis.intervals(analysis.finals(traj)) if len(traj) else pd.DataFrame()
    page = pages.uncertainty_page(out, loaded, plan, runs, traj, summary, ensemble_id)
    return Analysis(ensemble_id, loaded, plan, counts, runs, summary, page)


def sensitivity(scenario: str | Scenario, method: str = "morris", samples: int = 8, *, seed: int = 0,
                people: int | None = None, years: float | None = None, overrides: Mapping[str, Any] | None = None,
                vary: Mapping[str, PlausibleRange] | None = None, only: Sequence[str] | None = None,
                metrics: Sequence[str] | None = None, workers: int | None = None, scheduler: str | None = None,
                out: str | Path = "trustsim-sensitivity", progress: bool = False,
                evaluate: Evaluate = simulate_metrics) -> Analysis:
    """SALib's Morris screening or Sobol' indices over the plausible ranges; writes OUT/sensitivity.html.

    The indices are also added to the `sensitivity` table (once per ensemble).
    """
    if method not in ("morris", "sobol"):
        raise UserError(f"--method {method}: unknown; allowed: morris, sobol")
    loaded, ranges = prepare(scenario, people, years, overrides, vary, only)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's own power-of-two warning: ours below says it once
        plan = sensitivity_design(ranges, method, samples, seed)
    metrics = _metrics(metrics, evaluate)
    if method == "sobol" and not is_power_of_two(samples):  # once the input is known good: a warning, not an error
        warnings.warn(f"--samples {samples} is not a power of two; Sobol' estimates converge best at 2^n "
                      f"(e.g. {1 << max(0, samples.bit_length() - 1)} or {1 << samples.bit_length()})", InputWarning,
                      stacklevel=2)
    out, ensemble_id, counts, runs, traj = _execute(loaded, plan, metrics, out, workers, scheduler, progress, evaluate)
    summary = analysis.indices(plan, analysis.finals(traj), ensemble_id, seed) if len(traj) else pd.DataFrame(
        columns=["ensemble_id", "metric", "parameter", "method", "statistic", "value", "conf"])
    stored = store.table(out, SENSITIVITY_TABLE)
    if len(summary) and (stored.empty or not (stored["ensemble_id"] == ensemble_id).any()):
        store.append_rows(out, SENSITIVITY_TABLE, summary)
    page = pages.sensitivity_page(out, loaded, plan, runs, summary, ensemble_id)
    return Analysis(ensemble_id, loaded, plan, counts, runs, summary, page)
