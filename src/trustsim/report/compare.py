"""The comparison page, compare.html: headline metrics of several scenarios side by side.

Use `build_compare(comparison, path)` with an experiments.compare.Comparison; `figures(comparison)`
gives the same plots as Plotly figures (the explorer shows them for its two runs). The page opens with
the differences at the last step (every scenario minus the first, paired by seed, with a t-based
95% interval), then plots each headline metric over time: one colour per scenario, the line the
mean across seeds, the band the lowest to the highest seed. Plots are drawn with plots.py, as in
the run report; the page is self-contained like it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from trustsim.report.html import render
from trustsim.report.plots import (add_band, add_line, coincides, colour, format_metric, is_share, panels, style_axis,
                                   to_div)
from trustsim.report.sections import member_name

TITLES = {
    "score_mean": "mean score",
    "blacklist_share": "share on a blacklist",
    "wrongful_sanction_share": "wrongly sanctioned, as a share of the sanctioned",
    "disparate_impact_ratio": "minority's sanction rate over the majority's",
    "expressed_dissent_ratio": "expressed over latent dissent",
    "dissident_degree_ratio": "ties of the most dissenting tenth, now over at start",
    "isolated_share": "share with no ties left",
    "reward_share": "share holding a reward",
    "sanctioned_any_share": "share under any measure",
}
# (id, heading, caption, metrics family or None for the single headline metrics)
FIGURES = (
    ("headline", "Headline metrics over time", None),
    ("wrongful", "Wrongful sanctions by cause", "wrongful_by_cause"),
    ("sanctions", "Sanctioned, by measure", "sanctioned_share"),
)


def title(metric: str) -> str:
    if metric in TITLES:
        return TITLES[metric]
    prefix = "wrongful: " if metric.startswith("wrongful_by_cause.") else ""
    return prefix + member_name(metric)


def format_difference(metric: str, value: float) -> str:
    """A difference as people read it: shares in percentage points, others plain, with a sign."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if is_share(metric):
        return f"{100 * value:+.2f} pp"
    return f"{value:+.4g}"


def _series(comparison) -> tuple[pd.DataFrame, bool]:
    """Mean, lowest and highest across seeds, per scenario, metric and step (group all); x by date or step."""
    parts = []
    for label in comparison.labels:
        for r in comparison.runs[label]:
            rows = r.metrics[r.metrics["group"] == "all"][["step", "date", "metric", "value"]]
            parts.append(rows.assign(scenario=label, seed=r.seed))
    frame = pd.concat(parts, ignore_index=True)
    starts = {(r.scenario.run.start, r.scenario.run.step_days) for r in comparison.results}
    by_date = len(starts) == 1
    stats = frame.groupby(["scenario", "metric", "step"], sort=False)["value"].agg(["mean", "min", "max"])
    dates = frame.groupby(["scenario", "metric", "step"], sort=False)["date"].first()
    stats["x"] = pd.to_datetime(dates).dt.strftime("%Y-%m-%d") if by_date else stats.index.get_level_values("step")
    return stats.reset_index(), by_date


def _figure(stats: pd.DataFrame, labels: list[str], metrics: list[str], by_date: bool) -> go.Figure:
    cols = 2 if len(metrics) > 1 else 1
    fig = panels([title(m) for m in metrics], cols=cols, height=120 + 300 * (-(-len(metrics) // cols)),
                 horizontal_spacing=0.1)
    for k, metric in enumerate(metrics):
        row, col = k // cols + 1, k % cols + 1
        shown = stats[stats["metric"] == metric]
        scale = float(shown[["min", "max"]].abs().max().max()) if len(shown) else 0.0
        drawn = []
        for i, label in enumerate(labels):
            s = shown[shown["scenario"] == label].sort_values("step")
            if s.empty:
                continue
            add_band(fig, s["x"], s["min"], s["max"], f"{label}: range across seeds", colour(i), row=row, col=col,
                     legendgroup=label, showlegend=False)
            mean = s["mean"].to_numpy(float)
            # a scenario whose line lies on another's would hide it: dashed on top, both show
            dash = "dash" if any(coincides(other, mean, scale) for other in drawn) else None
            add_line(fig, s["x"], mean, label, colour(i), row=row, col=col, legendgroup=label,
                     showlegend=k == 0, hover=None, dash=dash)
            drawn.append(mean)
        style_axis(fig, metric, row=row, col=col)
    if not by_date:
        fig.update_xaxes(title_text="steps since the start")
    return fig


def figures(comparison) -> list[tuple[str, str, go.Figure]]:
    """(id, heading, figure) of each plot of FIGURES the comparison has metrics for; the explorer shows them too."""
    metrics = comparison.metrics()
    stats, by_date = _series(comparison)
    out = []
    singles = [m for m in metrics if "." not in m]
    for id_, heading, family in FIGURES:
        members = singles if family is None else [m for m in metrics if m.startswith(family + ".")]
        if members:
            out.append((id_, heading, _figure(stats, comparison.labels, members, by_date)))
    return out


def build_compare(comparison, path: str | Path) -> Path:
    """Write the comparison page of a Comparison to path."""
    shown = [{"id": id_, "title": heading, "html": to_div(fig)} for id_, heading, fig in figures(comparison)]
    diffs = comparison.differences()
    tables = []
    for label in comparison.labels[1:]:
        rows = []
        for d in diffs[diffs["scenario"] == label].itertuples():
            ci = (f"{format_difference(d.metric, d.low)} to {format_difference(d.metric, d.high)}"
                  if not math.isnan(d.half_width) else "n/a")
            clear = "n/a" if math.isnan(d.half_width) else ("yes" if d.low > 0 or d.high < 0 else "no")
            rows.append({"metric": d.metric, "baseline": format_metric(d.metric, d.baseline_mean),
                         "scenario": format_metric(d.metric, d.scenario_mean),
                         "difference": format_difference(d.metric, d.difference), "ci": ci, "excludes_zero": clear,
                         "seeds": d.seeds})
        tables.append({"label": label, "rows": rows})
    first = comparison.results[0]
    return render(
        "compare.html", path,
        labels=comparison.labels, baseline=comparison.labels[0], seeds=comparison.seeds,
        people=[f"{n:,}" for n in sorted({r.people for r in comparison.results})],
        steps=sorted({r.steps for r in comparison.results}),
        step_days=first.scenario.run.step_days, tables=tables, figures=shown,
        descriptions=[(label, comparison.runs[label][0].scenario.description) for label in comparison.labels],
        confidence=95,
    )
