"""The report's plots, built from whatever metrics a run holds.

Use `figures(metrics)` for the list of (title, figure) the report shows: for each metric family
(the name up to its first dot), its members' values of group "all" over time; and for each
metric with per-group rows, its last step by group, one colour per dimension. Absent metrics
simply have no plot, so new metrics appear without changes here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from trustsim.result import family


def _over_time(name: str, rows: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for metric, series in rows.groupby("metric", sort=False):
        label = metric.split(".", 1)[1] if "." in metric else metric
        fig.add_trace(go.Scatter(x=series["date"], y=series["value"], mode="lines", name=label))
    fig.update_layout(title=f"{name} over time (whole population)", xaxis_title="date",
                      yaxis_title=name, showlegend=rows["metric"].nunique() > 1)
    return fig


def _by_group(metric: str, rows: pd.DataFrame) -> go.Figure:
    last = rows[rows["step"] == rows["step"].max()]
    fig = go.Figure()
    dimensions = last["group"].str.split("=", n=1).str[0]
    for dimension, part in last.groupby(dimensions, sort=False):
        fig.add_trace(go.Bar(x=part["group"], y=part["value"], name=dimension))
    date = pd.Timestamp(last["date"].iloc[0]).date()
    fig.update_layout(title=f"{metric} by group on {date}", yaxis_title=metric)
    return fig


def figures(metrics: pd.DataFrame) -> list[tuple[str, go.Figure]]:
    """(anchor title, figure) for every plot of the report, families in the order the run has them."""
    metrics = metrics.assign(date=pd.to_datetime(metrics["date"])).sort_values("step", kind="stable")
    out = []
    for name, rows in metrics.groupby(metrics["metric"].map(family), sort=False):
        overall = rows["group"] == "all"
        if overall.any():
            out.append((name, _over_time(name, rows[overall])))
        for metric, group_rows in rows[~overall].groupby("metric", sort=False):
            out.append((f"{metric} by group", _by_group(metric, group_rows)))
    return out
