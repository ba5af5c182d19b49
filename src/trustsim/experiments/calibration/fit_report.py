"""The fit report: one HTML page with each published figure beside the model, the parameters and plots.

Use `report_html` with a `Fit` alone (from `assess`: the scenario as it is), or with its
`Calibration` to add each parameter's starting point and the search's loss by trial.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from trustsim.experiments.calibration.objective import Fit, resolution
from trustsim.experiments.calibration.parameters import (
    PARAMETERS, SIGNIFICANT, _range_text, scenario_value, to_value, value_text,
)
from trustsim.experiments.calibration.search import Calibration, Trial
from trustsim.experiments.calibration.targets import M, SERIES, _fmt


REPORT = "calibration.html"


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
            f" Fitted by {calibration.n_trials} trials (the starting point, then Optuna {calibration.optuna_version}'s "
            "TPE sampler), "
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
