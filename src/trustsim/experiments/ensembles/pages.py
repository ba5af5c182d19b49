"""The pages of ensembles: DIR/ensemble.html, DIR/uncertainty.html and DIR/sensitivity.html.

Each page is self-contained like the run report (report/html.py renders it from
templates/ensembles.html, plotly.js inline) and reads for a non-programmer: bands over time, the
spread of final values, and parameters ranked by their effect with intervals. `uncertainty_page`
also writes DIR/uncertainty.json, the intervals the single-run report cites for the same scenario
(report/summary.py).
"""

from __future__ import annotations

import fcntl
import json
import os
from fractions import Fraction
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from trustsim.experiments.ensembles.analysis import bands, finals, ranking
from trustsim.experiments.ensembles.design import MORRIS_LEVELS, Design
from trustsim.report.html import INTERVALS_FILE, render
from trustsim.report.plots import (add_band, add_line, colour, format_metric, hover, is_share, panels, style_axis,
                                   to_div)
from trustsim.result import meaning
from trustsim.scenario.schema import Scenario

_NAMES = {"mu_star": "mu*", "sigma": "sigma", "S1": "S1", "ST": "ST"}
# A Morris step moves one assumption by this fraction of its plausible range (SALib's delta); SALib
# divides the change it makes by it, so mu* is a change per whole range.
MORRIS_STEP = Fraction(MORRIS_LEVELS, 2 * (MORRIS_LEVELS - 1))


def _missing(design: Design, runs: pd.DataFrame) -> str:
    failed = runs[runs["status"] != "complete"]
    missing = design.size - (len(runs) - len(failed))
    if not missing:
        return ""
    text = f"{missing} of {design.size} runs are missing from this analysis"
    if len(failed):
        text += f" ({len(failed)} failed, e.g. {failed['message'].iloc[0]})"
    return text + ". Running the same command again redoes the runs that were not stored."


def _over_time(traj: pd.DataFrame, metrics: list[str]) -> go.Figure:
    fig = panels(metrics, cols=2)
    b = bands(traj)
    for i, metric in enumerate(metrics):
        row, col = i // 2 + 1, i % 2 + 1
        part = b[b["metric"] == metric]
        first = i == 0
        add_band(fig, part["date"], part["low"], part["high"], "5-95% of runs", colour(0), row, col,
                 legendgroup="band", showlegend=first)
        add_line(fig, part["date"], part["median"], "median", colour(0), row, col, legendgroup="median",
                 showlegend=first, hover=hover(metric))
        style_axis(fig, metric, row, col)
    return fig


def _finals(final: pd.DataFrame, metrics: list[str]) -> go.Figure:
    fig = panels(metrics, cols=2, height=None)
    for i, metric in enumerate(metrics):
        row, col = i // 2 + 1, i % 2 + 1
        fig.add_trace(go.Histogram(x=final[metric].dropna().to_numpy(), marker_color=colour(0), showlegend=False,
                                   name=metric), row=row, col=col)
        style_axis(fig, metric, row, col, axis="x", title="value at the last step")
        fig.update_yaxes(title_text="runs", row=row, col=col)
    fig.update_layout(hovermode="closest", bargap=0.05)
    return fig


def _interval_rows(summary: pd.DataFrame, split: bool) -> list[list[str]]:
    rows = []
    for r in summary.itertuples():
        row = [r.metric, format_metric(r.metric, r.median),
               f"{format_metric(r.metric, r.low)} to {format_metric(r.metric, r.high)}", str(r.runs)]
        if split:
            seeds = "n/a" if r.seed_share != r.seed_share else f"{100 * r.seed_share:.0f}%"
            assumptions = "n/a" if r.assumption_share != r.assumption_share else f"{100 * r.assumption_share:.0f}%"
            row += [seeds, assumptions]
        rows.append(row)
    return rows


def _figures(traj: pd.DataFrame, metrics: list[str], what: str) -> list[dict[str, str]]:
    if traj.empty:
        return []
    return [
        {"id": "time", "title": "Over time", "html": to_div(_over_time(traj, metrics)),
         "caption": f"The line is the median run; the band holds the middle 90% of runs ({what})."},
        {"id": "final", "title": "At the end", "html": to_div(_finals(finals(traj), metrics)),
         "caption": "How the runs' final values spread: each bar counts the runs that ended in its range."},
    ]


def _ranges(design: Design, scenario: Scenario) -> list[tuple[str, str, str, str]]:
    reasons = {k: r.reason for k, r in scenario.uncertainty.items()}
    return [(k, f"{lo:g}", f"{hi:g}", reasons.get(k, "--vary on the command line"))
            for k, (lo, hi) in zip(design.keys, design.ranges)]


def record_intervals(out: Path, name: str, entry: dict, file: str = INTERVALS_FILE) -> None:
    """Set scenario name's entry of OUT/uncertainty.json (or of another intervals file, e.g. a posterior's),
    which the single-run report cites, keeping the other scenarios' entries; analyses writing into one
    directory at once take turns."""
    path = out / file
    out.mkdir(parents=True, exist_ok=True)
    with open(out / f".{file}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        saved = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        saved[name] = entry
        temp = out / f".{file}.{os.getpid()}.tmp"
        temp.write_text(json.dumps(saved, indent=1), encoding="utf-8")
        os.replace(temp, path)


def _write(out: Path, name: str, **context) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    temp = out / f".{name}.{os.getpid()}.tmp"
    render("ensembles.html", temp, **context)
    os.replace(temp, out / name)
    return out / name


def ensemble_page(out: Path, scenario: Scenario, design: Design, runs: pd.DataFrame, traj: pd.DataFrame,
                  summary: pd.DataFrame, ensemble_id: str) -> Path:
    metrics = list(summary["metric"]) if len(summary) else []
    intro = [f"The scenario ran {design.size} times, as it is, with seeds {design.seeds[0]} to {design.seeds[-1]}: "
             f"{scenario.population.people:,} simulated adults over {scenario.run.steps} steps of {scenario.run.step_days} days. "
             "The runs differ only in their random draws, so the spread below is what chance alone does."]
    table = {"id": "finals", "title": "Final values", "header": ["metric", "median", "90% interval", "runs"],
             "caption": "At the last step, over all runs: the median, and the range that holds the middle 90% of runs.",
             "rows": _interval_rows(summary, split=False)}
    return _write(out, "ensemble.html", kind="ensemble", scenario=scenario, intro=intro, missing=_missing(design, runs),
                  tables=[table], figures=_figures(traj, metrics, "other seeds"), ranges=[],
                  ensemble_id=ensemble_id)


def uncertainty_page(out: Path, scenario: Scenario, design: Design, runs: pd.DataFrame, traj: pd.DataFrame,
                     summary: pd.DataFrame, ensemble_id: str) -> Path:
    metrics = list(summary["metric"]) if len(summary) else []
    how = "a Latin hypercube" if design.method == "lhs" else "a scrambled Sobol' sequence"
    intro = [f"Each of the {len(design.points)} points of {how} over the plausible ranges below sets every assumption "
             f"at once; each point ran with {len(design.seeds)} seed{'s' if len(design.seeds) > 1 else ''} "
             f"(the same seeds at every point): {design.size} runs of {scenario.population.people:,} simulated adults "
             f"over {scenario.run.steps} steps.",
             "The split says how much of the spread of final values comes from chance (the seeds: the same assumptions, "
             "other random draws) and how much from the assumptions (the points), by the law of total variance: "
             "the seeds' part is the average variance between seeds at one point, the rest is the assumptions'."]
    table = {"id": "intervals", "title": "Median and 90% interval over the plausible assumptions",
             "header": ["metric", "median", "90% interval", "runs", "due to seeds", "due to assumptions"],
             "caption": "At the last step, over all runs. The two shares split the interval's variance.",
             "rows": _interval_rows(summary, split=True)}
    if len(summary):
        entry = {"ensemble_id": ensemble_id, "people": scenario.population.people, "steps": scenario.run.steps,
                 "metrics": {r.metric: {"median": r.median, "low": r.low, "high": r.high} for r in summary.itertuples()}}
        record_intervals(out, scenario.name, entry)
    return _write(out, "uncertainty.html", kind="uncertainty", scenario=scenario, intro=intro,
                  missing=_missing(design, runs), tables=[table], ranges=_ranges(design, scenario),
                  figures=_figures(traj, metrics, "the plausible assumptions and seeds"), ensemble_id=ensemble_id)


def _ranked(summary: pd.DataFrame, metric: str, method: str) -> go.Figure:
    ranked = ranking(summary, metric).iloc[::-1]  # Plotly draws the first category at the bottom
    stats = ["mu_star", "sigma"] if method == "morris" else ["S1", "ST"]
    if method == "morris":  # a share's change as a fraction of the whole, as SALib gets it
        effect = "change per whole plausible range" + (" (0.1 = 10 points)" if is_share(metric) else "")
    else:
        effect = "share of the variance (0 to 1)"
    fig = panels([""], height=140 + 28 * len(ranked) * 2)
    for i, stat in enumerate(stats):
        conf = ranked.get(f"{stat}_conf")
        error = None if conf is None or conf.isna().all() else dict(type="data", array=conf.to_numpy(float))
        fig.add_trace(go.Bar(x=ranked[stat].to_numpy(float), y=list(ranked["parameter"]), orientation="h",
                             name=_NAMES[stat], marker_color=colour(i), error_x=error))
    fig.update_layout(barmode="group", hovermode="closest")  # the margin widens to the names (automargin)
    fig.update_xaxes(title_text=effect)
    fig.update_yaxes(title_text="assumption")
    return fig


def sensitivity_page(out: Path, scenario: Scenario, design: Design, runs: pd.DataFrame, summary: pd.DataFrame,
                     ensemble_id: str) -> Path:
    if design.method == "morris":
        intro = [f"A Morris screening: {design.options['samples']} paths through the plausible ranges, each changing "
                 f"one assumption at a time ({design.size} runs, all with seed {design.seeds[0]}, so a change of result "
                 "comes from the changed assumption alone).",
                 f"mu* is the typical size of an assumption's effect on the final value, as a change per whole "
                 f"plausible range: each step of a path moves one assumption by {MORRIS_STEP} of its range, and the "
                 f"change it makes, divided by {MORRIS_STEP}, is that step's effect (SALib's elementary effect); mu* "
                 f"is the mean of their sizes, with a 95% interval (the bar's whisker). Where the final value moves in "
                 f"a straight line with the assumption, mu* is the change from the bottom to the top of the range. "
                 f"Where it bends or jumps (a threshold, a tipping point), the step's change scaled up to the whole "
                 f"range overshoots, and mu* can pass anything the metric can do: a step across which a share flips "
                 f"from 0 to 1 has an effect of {float(1 / MORRIS_STEP):g}, so a share's mu* above 1 marks such jumps. sigma, "
                 f"in the same unit, is how much the effect differs from step to step (large: the assumption acts "
                 f"with others, or not in a straight line). Longer bars matter more. An assumption with mu* = 0 "
                 f"cannot change the result in this scenario."]
    else:
        intro = [f"Sobol' indices from {design.size} runs (base sample {design.options['samples']}, all with seed "
                 f"{design.seeds[0]}).",
                 "S1 is the share of the spread of the final value that the assumption causes on its own; ST the share "
                 "it causes alone or together with others. Whiskers: 95% intervals. ST near 0 means the assumption "
                 "hardly matters; the sum of S1 below 1 means assumptions act together."]
    figures = []
    for metric in dict.fromkeys(summary["metric"]):
        what = meaning(metric)[0]
        unit = ("mu* and sigma: its change per whole plausible range" if design.method == "morris"
                else "S1 and ST: shares of its variance")
        figures.append({"id": metric, "title": metric, "html": to_div(_ranked(summary, metric, design.method)),
                        "caption": f"Assumptions ranked by their effect on the final {metric}"
                                   f"{f' ({what})' if what else ''}, largest first; {unit}."})
    return _write(out, "sensitivity.html", kind="sensitivity", scenario=scenario, intro=intro,
                  missing=_missing(design, runs), tables=[], figures=figures, ranges=_ranges(design, scenario),
                  ensemble_id=ensemble_id)
