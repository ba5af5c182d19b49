"""The model's side of each observation: a run's value of a figure, and the vectors inference compares.

Use `model_values` for the figures' values in a set of runs (from their metrics over time),
`summaries` to turn those values and the observation model's factors into the vectors the
estimators compare (logs for figures with a log uncertainty), and `observed` for the published
vector and its standard uncertainties on the same scale.

A figure's value follows its `reduce` (scenario/observations.py): `at` interpolates the metric
between step ends, `total` sums per-step values up to the date (linear within a step, as the
calibration does, docs/calibration.md) from `since` or the start, `mean` averages the steps that
end inside the window; `over` divides by the same reduction of another metric. A step's row holds
what happened during it, so its value belongs to the step's end: start + step_days x (step + 1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from trustsim.scenario.schema.observations import Observation, Observations

LOG_FLOOR = 1e-12  # a model value of 0 on a log scale: far from any figure, never -inf


def _reduce(series: np.ndarray, o: Observation, start: dt.date, step_days: int, metric_steps: int) -> float:
    ends = step_days * np.arange(1, metric_steps + 1, dtype=np.float64)
    day = float((o.date - start).days)
    if o.reduce == "at":
        return float(np.interp(day, ends, series))
    if o.reduce == "total":
        x = np.concatenate([[0.0], ends])
        y = np.concatenate([[0.0], np.cumsum(series, dtype=np.float64)])
        total = float(np.interp(day, x, y))
        if o.since is not None:
            total -= float(np.interp(float((o.since - start).days), x, y))
        return total
    first = 0.0 if o.since is None else float((o.since - start).days)
    inside = (ends > first) & (ends <= day + step_days)  # steps ending in the window, the one the date falls in too
    return float(np.mean(series[inside])) if inside.any() else float("nan")


def model_values(traj: pd.DataFrame, observations: Observations, start: dt.date, step_days: int) -> pd.DataFrame:
    """Each run's value of each figure: index the runs (traj's `sample`), one column per figure.

    `traj` is long (sample, step, metric, value) for group `all`; a run missing a metric gets NaN.
    """
    wide = traj.pivot_table(index=["sample", "step"], columns="metric", values="value", dropna=False)
    steps = int(traj["step"].max()) + 1
    rows = {}
    for sample, frame in wide.groupby(level="sample"):
        frame = frame.droplevel("sample").reindex(range(steps))
        values = {}
        for name, o in observations.figures.items():
            if o.metric not in frame:
                values[name] = float("nan")
                continue
            value = _reduce(frame[o.metric].to_numpy(dtype=float), o, start, step_days, steps)
            if o.over is not None:
                denominator = _reduce(frame[o.over].to_numpy(dtype=float), o, start, step_days, steps) \
                    if o.over in frame else float("nan")
                value = value / denominator if denominator > 0 else float("nan")
            values[name] = value
        rows[sample] = values
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(observations.figures)).rename_axis("sample")


def summaries(values: pd.DataFrame, observations: Observations, factors: Mapping[str, np.ndarray]) -> np.ndarray:
    """The vectors the estimators compare, one row per run: each figure's reported value on its scale.

    The reported value is factor x model value for a figure with an observation-model factor
    (`factors` holds each nuisance factor's draw per run, aligned with `values`' rows).
    """
    out = np.empty((len(values), len(observations.figures)))
    for j, (name, o) in enumerate(observations.figures.items()):
        reported = values[name].to_numpy(dtype=float) * (factors[o.factor] if o.factor else 1.0)
        out[:, j] = np.log(np.maximum(reported, LOG_FLOOR)) if o.scale == "log" else reported
    return out


def observed(observations: Observations) -> tuple[np.ndarray, np.ndarray]:
    """The published vector and its standard uncertainties, on each figure's scale."""
    figures = observations.figures.values()
    x = np.array([np.log(o.value) if o.scale == "log" else o.value for o in figures])
    sd = np.array([o.sd for o in figures])
    return x, sd
