"""A read-only view of one run's long metrics table, in the shapes the report's sections ask for.

Use `MetricsView(result.metrics)`: `has(metric)` (recorded for everyone at some step),
`active(metric)` (recorded and not zero throughout), `over_time(metric)` (the whole population's
values by step), `at_last(metric, dimension)` (one row per group of a dimension at the last step,
in natural order), `total(metric)` (a per-step count added up over the run) and `final(metric)`.
Metrics a run does not have give None or empty frames, never an error: sections and sentences
built on them are then left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trustsim.report.plots import group_order


class MetricsView:
    def __init__(self, metrics: pd.DataFrame):
        metrics = metrics.assign(date=pd.to_datetime(metrics["date"]))
        self.all = metrics[metrics["group"] == "all"]
        self.grouped = metrics[metrics["group"] != "all"]
        self.wide = self.all.pivot_table(index="step", columns="metric", values="value", aggfunc="last")
        self.dates = self.all.drop_duplicates("step").set_index("step")["date"].sort_index()
        self.last_step = int(metrics["step"].max()) if len(metrics) else None

    @property
    def metrics(self) -> list[str]:
        return list(self.wide.columns)

    def has(self, metric: str) -> bool:
        return metric in self.wide.columns and self.wide[metric].notna().any()

    def active(self, metric: str) -> bool:
        """Recorded, and not zero at every step (a measure nobody was ever under is not active)."""
        return self.has(metric) and bool((self.wide[metric].fillna(0) != 0).any())

    def members(self, family: str) -> list[str]:
        """The metrics of a family ('sanctioned_share' -> 'sanctioned_share.flight_ban', ...), as recorded."""
        return [m for m in self.wide.columns if m.startswith(family + ".")]

    def over_time(self, metric: str) -> pd.Series:
        """Whole-population values by step (NaN where a step has none)."""
        return self.wide[metric] if metric in self.wide.columns else pd.Series(np.nan, index=self.wide.index)

    def x(self) -> list[str]:
        """The dates of the steps, as the plots' x values."""
        return [d.strftime("%Y-%m-%d") for d in self.dates.reindex(self.wide.index)]

    def final(self, metric: str) -> float | None:
        """The last recorded whole-population value, or None."""
        if not self.has(metric):
            return None
        return float(self.wide[metric].dropna().iloc[-1])

    def total(self, metric: str) -> float | None:
        """A per-step count summed over the run, or None."""
        return float(self.wide[metric].sum()) if self.has(metric) else None

    def at_last(self, metric: str, dimension: str) -> pd.DataFrame:
        """(group, value) of each group of a dimension at the last step with such rows, in natural order."""
        rows = self.grouped[(self.grouped["metric"] == metric)
                            & self.grouped["group"].str.startswith(dimension + "=")]
        if rows.empty:
            return rows[["group", "value"]]
        rows = rows[rows["step"] == rows["step"].max()]
        return rows.sort_values("group", key=group_order, kind="stable")[["group", "value"]]

    def final_group(self, metric: str, group: str) -> float | None:
        rows = self.grouped[(self.grouped["metric"] == metric) & (self.grouped["group"] == group)]
        return float(rows.sort_values("step")["value"].iloc[-1]) if len(rows) else None

    def last_date(self) -> pd.Timestamp | None:
        return self.dates.iloc[-1] if len(self.dates) else None
