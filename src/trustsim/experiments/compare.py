"""Side-by-side comparison of scenarios under common random numbers.

Use `compare(scenarios, seeds=K, ...)`: every scenario runs with the same seeds 0..K-1. The
engine's draws are a pure function of (seed, stream, step, person), so two scenarios run with the
same seed share their randomness (common random numbers), and the difference of a metric between
them, seed by seed, is the policy's alone. `Comparison.differences()` gives each headline metric's
difference at the last step (every scenario minus the first), paired by seed: the mean of the K
differences with a t-based 95% confidence interval. `Comparison.save(dir)` adds every run to
DIR/results.duckdb and writes DIR/compare.html (report/compare.py).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from trustsim import store
from trustsim.engine import check_memory, simulate
from trustsim.errors import UserError
from trustsim.report.compare import build_compare
from trustsim.result import Result
from trustsim.scenario.fields import apply_overrides
from trustsim.scenario.loading import load_scenario, source_label
from trustsim.scenario.schema import Scenario

COMPARE_PAGE = "compare.html"

# The headline metrics of a comparison; a trailing ".*" stands for every member of the family.
HEADLINE = (
    "score_mean", "blacklist_share", "wrongful_sanction_share", "wrongful_by_cause.*", "disparate_impact_ratio",
    "expressed_dissent_ratio", "dissident_degree_ratio", "isolated_share", "reward_share", "sanctioned_any_share",
    "sanctioned_share.*",
)
CONFIDENCE = 0.95


def headline_metrics(recorded: Sequence[str]) -> list[str]:
    """The headline metrics among those recorded, in HEADLINE order (families expanded)."""
    out = []
    for pattern in HEADLINE:
        if pattern.endswith(".*"):
            out += sorted(m for m in recorded if m.startswith(pattern[:-1]))
        elif pattern in recorded:
            out.append(pattern)
    return out


def paired_differences(finals: pd.DataFrame, baseline: str, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Each scenario minus the baseline, paired by seed, per metric.

    finals: columns scenario, seed, metric, value (one value per run and metric). Returns one row
    per (scenario other than the baseline, metric): the means of both, the mean difference, the
    half-width of its t-based confidence interval (NaN with fewer than two seeds), its bounds, and
    the number of seeds paired (seeds where either value is missing are left out).
    """
    wide = finals.pivot_table(index=["metric", "seed"], columns="scenario", values="value", aggfunc="first")
    rows = []
    for scenario in [s for s in dict.fromkeys(finals["scenario"]) if s != baseline]:
        for metric in dict.fromkeys(finals["metric"]):
            if metric not in wide.index.get_level_values(0):
                continue
            part = wide.loc[metric]
            a = part[baseline] if baseline in part else pd.Series(dtype=float)
            b = part[scenario] if scenario in part else pd.Series(dtype=float)
            both = pd.concat([a.rename("a"), b.rename("b")], axis=1).dropna()
            d = (both["b"] - both["a"]).to_numpy()
            n = len(d)
            mean = float(d.mean()) if n else math.nan
            if n >= 2:
                sd = float(d.std(ddof=1))
                half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)) if sd > 0 else 0.0
            else:
                half = math.nan
            rows.append({
                "metric": metric, "scenario": scenario, "baseline": baseline,
                "baseline_mean": float(a.mean()) if a.notna().any() else math.nan,
                "scenario_mean": float(b.mean()) if b.notna().any() else math.nan,
                "difference": mean, "half_width": half, "low": mean - half, "high": mean + half, "seeds": n,
            })
    return pd.DataFrame(rows, columns=["metric", "scenario", "baseline", "baseline_mean", "scenario_mean",
                                       "difference", "half_width", "low", "high", "seeds"])


@dataclass
class Comparison:
    """The runs of a comparison: `runs[label]` holds one Result per seed, in seed order."""

    labels: list[str]
    seeds: list[int]
    runs: dict[str, list[Result]]

    @property
    def results(self) -> list[Result]:
        return [r for label in self.labels for r in self.runs[label]]

    def finals(self) -> pd.DataFrame:
        """scenario, seed, metric, value: each run's whole-population values at its last step."""
        rows = [(label, r.seed, metric, value)
                for label in self.labels for r in self.runs[label] for metric, value in r.final().items()]
        return pd.DataFrame(rows, columns=["scenario", "seed", "metric", "value"])

    def metrics(self) -> list[str]:
        recorded = set().union(*(r.final().keys() for r in self.results))
        return headline_metrics(sorted(recorded))

    def differences(self, confidence: float = CONFIDENCE) -> pd.DataFrame:
        """Each headline metric at the last step, every scenario minus the first, paired by seed."""
        finals = self.finals()
        finals = finals[finals["metric"].isin(self.metrics())]
        out = paired_differences(finals, self.labels[0], confidence)
        order = {m: i for i, m in enumerate(self.metrics())}
        return out.sort_values(["scenario", "metric"], key=lambda c: c.map(order) if c.name == "metric"
                               else c.map({s: i for i, s in enumerate(self.labels)}), kind="stable",
                               ignore_index=True)

    def save(self, directory: str | Path) -> tuple[list[int], Path]:
        """Add every run to DIR/results.duckdb and write DIR/compare.html; returns (run ids, page path)."""
        directory = Path(directory)
        run_ids = store.save(self.results, directory)
        temp = directory / f".{COMPARE_PAGE}.{os.getpid()}.tmp"
        try:
            build_compare(self, temp)
            os.replace(temp, directory / COMPARE_PAGE)
        finally:
            temp.unlink(missing_ok=True)
        return run_ids, directory / COMPARE_PAGE


def _labels(scenarios: Sequence[Scenario]) -> list[str]:
    """Scenario names, made unique ('national_2020', 'national_2020 (2)') when one is compared with itself."""
    labels, seen = [], {}
    for s in scenarios:
        seen[s.name] = seen.get(s.name, 0) + 1
        labels.append(s.name if seen[s.name] == 1 else f"{s.name} ({seen[s.name]})")
    return labels


def load_all(scenarios: Sequence[str | Scenario], overrides: dict | None = None) -> list[Scenario]:
    """Load and validate every scenario before anything runs, so a mistake in the last costs nothing."""
    if len(scenarios) < 2:
        raise UserError(f"scenarios: {len(scenarios)} given; allowed: two or more preset names or YAML files")
    loaded = []
    for s in scenarios:
        if isinstance(s, Scenario):
            label = s.name
            s = apply_overrides(s, overrides, label) if overrides else s
        else:
            label = source_label(str(s))
            s = load_scenario(str(s), overrides)
        check_memory(s, label)
        loaded.append(s)
    return loaded


def compare(scenarios: Sequence[str | Scenario], seeds: int = 3, people: int | None = None,
            years: float | None = None, overrides: dict | None = None, out: str | Path | None = None,
            progress: bool = False) -> Comparison:
    """Run each scenario with seeds 0..seeds-1 (common random numbers); save to `out` if given.

    scenarios: preset names, YAML paths or Scenario objects. overrides: dotted keys as for
    `trustsim run --set`, applied to every scenario; people and years set population.people and
    run.years for all.
    """
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 1:
        raise UserError(f"seeds = {seeds!r}: allowed: a whole number >= 1")
    overrides = dict(overrides or {})
    if people is not None:
        overrides["population.people"] = people
    if years is not None:
        overrides["run.years"] = years
    if out is not None:
        store.check_directory(out)
    loaded = load_all(scenarios, overrides)
    labels = _labels(loaded)
    seed_list = list(range(int(seeds)))
    runs: dict[str, list[Result]] = {label: [] for label in labels}
    with _runs_progress(progress, len(loaded) * len(seed_list)) as advance:
        for seed in seed_list:
            for label, scenario in zip(labels, loaded):
                advance(f"{label}, seed {seed}")
                runs[label].append(simulate(scenario, seed=seed))
        advance(None)
    comparison = Comparison(labels=labels, seeds=seed_list, runs=runs)
    if out is not None:
        comparison.save(out)
    return comparison


class _runs_progress:
    """A Rich progress bar over the runs, or nothing when not asked for."""

    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total, self.started = enabled, total, False

    def __enter__(self):
        if not self.enabled:
            return lambda what: None
        # Imported on use: only a shown bar needs it, and the import would slow every start.
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), transient=True)
        self.bar.__enter__()
        self.task = self.bar.add_task("runs", total=self.total)

        def advance(what: str | None) -> None:
            if self.started:
                self.bar.advance(self.task)
            self.started = True
            if what is not None:
                self.bar.update(self.task, description=f"runs: {what}")

        return advance

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.__exit__(*exc)
        return False
