"""DIR/posterior.html, the page a non-programmer reads, and DIR/posterior.json, the intervals others cite.

Use `posterior_page(out, posterior)`. The page goes, in order: the headline table (prior and
posterior intervals side by side, from both estimates), the fit of each figure (published figures
and design premises apart), what the record constrains, the assumptions it leaves open, each
headline interval with one figure left out, the tipping regime, the bands over time, and the
checks of the method. It is self-contained like every trustsim page (report/html.py renders it
from templates/posterior.html). posterior.json holds each headline metric's posterior interval
for the scenario; the single-run report of the same scenario in the same directory cites it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from trustsim.experiments.ensembles.pages import record_intervals
from trustsim.report.html import POSTERIOR_FILE, render
from trustsim.experiments.posterior.summary import MIN_ESS, TIPPING_LEVEL
from trustsim.report.plots import add_band, colour, format_metric, panels, style_axis, to_div

PAGE = "posterior.html"
KIND_WORDS = {"published": "Published figures", "premise": "Design premises"}
LOW_P = 0.05  # a posterior-predictive p-value below this: the model does not reproduce the figure


def _interval(metric: str, lo: float, mid: float, hi: float) -> str:
    if not all(map(math.isfinite, (lo, mid, hi))):
        return "n/a"
    return f"{format_metric(metric, mid)} ({format_metric(metric, lo)} to {format_metric(metric, hi)})"


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1e5:
        return f"{value / 1e6:.3g} M"
    return f"{value:.3g}"


def _figure_value(row: Any, value: float) -> str:
    """A figure as its metric reads: shares (and shares of another count) in percent, counts in millions."""
    share = row.metric.endswith("_share") or getattr(row, "over", None)
    return f"{100 * value:.1f}%" if share and math.isfinite(value) else _number(value)


def _headline_table(p: Any) -> dict[str, Any]:
    rows = []
    for r in p.headline.itertuples():
        rows.append([r.metric, _interval(r.metric, r.prior_q05, r.prior_q50, r.prior_q95),
                     _interval(r.metric, r.npe_q05, r.npe_q50, r.npe_q95),
                     _interval(r.metric, r.weighted_q05, r.weighted_q50, r.weighted_q95),
                     "yes" if r.agree else "NO: see below" if r.comparable else "n/a: too few effective runs"])
    return {"header": ["metric (final value, everyone)", "prior: median (90% interval)",
                       "posterior, neural estimate: median (90%)", "posterior, weighted bank: median (90%)",
                       "the two agree"],
            "caption": "At the run's last step. Prior: over the bank's runs, every plausible assumption equally "
                       "likely. Posterior, neural estimate: reruns of the model at draws from the fitted estimator. "
                       "Posterior, weighted bank: the same bank with each run weighted by how well it reproduces "
                       "the figures (no emulator).",
            "rows": rows}


def _fit_tables(p: Any) -> list[dict[str, Any]]:
    tables = []
    for kind, title in KIND_WORDS.items():
        part = p.fit[p.fit["kind"] == kind]
        if part.empty:
            continue
        rows = []
        for r in part.itertuples():
            sd = f"x/÷ {math.exp(r.sd):.2f}" if r.scale == "log" else f"± {_figure_value(r, r.sd)}"
            verdict = f"{r.p_value:.2f}" + (" (not reproduced)" if r.p_value < LOW_P else "")
            rows.append([r.label, f"{_figure_value(r, r.observed)} {sd}",
                         f"{_figure_value(r, r.prior_q05)} to {_figure_value(r, r.prior_q95)}",
                         f"{_figure_value(r, r.posterior_q05)} to {_figure_value(r, r.posterior_q95)}",
                         verdict, f"{100 * r.ruled_out:.0f}%", r.source])
        tables.append({"header": [title, "figure and its uncertainty", "prior 90% band", "posterior-predictive 90% band",
                                  "p-value", "prior ruled out by it alone", "source"],
                       "caption": f"{title}: each figure beside the model's 90% bands, before and after conditioning. "
                                  "The posterior-predictive band includes the figure's stated uncertainty. A p-value "
                                  f"below {LOW_P} means the fitted model does not reproduce the figure.",
                       "rows": rows})
    return tables


def _parameter_table(p: Any) -> dict[str, Any]:
    rows = []
    for r in p.parameters.sort_values("contraction", ascending=False).itertuples():
        rows.append([r.parameter, f"{r.prior_q05:.3g} to {r.prior_q95:.3g}",
                     f"{r.posterior_q05:.3g} to {r.posterior_q95:.3g}", f"{100 * r.contraction:.0f}%"])
    return {"header": ["assumption", "prior 90%", "posterior 90% (neural)", "narrowed by"],
            "caption": "Narrowed by: the contraction, 1 - posterior variance / prior variance (0: the record says "
                       "nothing about it; 100%: it pins it). Ranges in each parameter's own unit.",
            "rows": rows}


def _loo_table(p: Any) -> dict[str, Any] | None:
    if p.leave_one_out.empty:
        return None
    wide = p.leave_one_out.pivot_table(index=["left_out", "metric"], columns="estimate",
                                       values=["q05", "q50", "q95", "ess"], sort=False)
    rows = []
    for (left_out, metric), r in wide.iterrows():
        label = p.observations.figures[left_out].label
        rows.append([label, metric,
                     _interval(metric, r[("q05", "neural")], r[("q50", "neural")], r[("q95", "neural")]),
                     _interval(metric, r[("q05", "weighted")], r[("q50", "weighted")], r[("q95", "weighted")]),
                     f"{r[('ess', 'neural')]:.0f} / {r[('ess', 'weighted')]:.0f}"])
    return {"header": ["figure left out", "metric", "neural estimate: median (90%)",
                       "weighted bank: median (90%)", "effective runs (neural / weighted)"],
            "caption": "Each headline interval without one figure, from the bank with no new runs: the neural "
                       "estimator retrained without it (the bank reweighted to that posterior), and the bank "
                       "weighted by the other figures. An interval that widens a lot without a figure rests on it.",
            "rows": rows}


def _diagnostics_table(p: Any) -> dict[str, Any]:
    words = {
        "ess": "effective runs behind the weighted bank",
        "coverage.overall": "held-out runs: share of parameters inside their 90% interval (0.85-0.95 is well calibrated)",
        "reproducible_share": "share of the bank within 3 uncertainties of every figure",
        "train_seconds": "training time of the neural estimator, seconds",
        "held_out": "bank runs held out for these checks",
        "disagreements": "headline metrics on which the two estimates disagree",
    }
    rows = [[words.get(k, k), f"{v:.3g}"] for k, v in p.diagnostics.items()]
    return {"header": ["check", "value"], "rows": rows,
            "caption": "coverage.metric.*: the same for each headline metric's 90% interval; sbc.*: simulation-based "
                       "calibration (sbi's check_sbc: KS p-values and C2ST of ranks, near 0.5 is good); tarp.*: "
                       "the TARP expected-coverage test (ATC near 0, KS p-value above 0.05 is good)."}


def _bands_figure(bands: pd.DataFrame, metrics: list[str]) -> go.Figure:
    fig = panels(metrics, cols=2)
    kinds = (("prior", "prior 5-95%"), ("posterior", "posterior 5-95% (reruns)"))
    for i, metric in enumerate(metrics):
        row, col = i // 2 + 1, i % 2 + 1
        for k, (kind, name) in enumerate(kinds):
            part = bands[(bands["kind"] == kind) & (bands["metric"] == metric)].sort_values("step")
            add_band(fig, part["date"], part["q05"], part["q95"], name, colour(k), row, col,
                     legendgroup=kind, showlegend=i == 0)
        style_axis(fig, metric, row, col)
    return fig


def _marginals(p: Any, draws: dict[str, np.ndarray], bank: dict[str, np.ndarray], keys: list[str]) -> go.Figure:
    fig = panels(keys, cols=2, tick_px=80)  # below each panel: its ticks and the x axis's title
    for i, key in enumerate(keys):
        row, col = i // 2 + 1, i % 2 + 1
        for k, (name, values) in enumerate((("prior (bank)", bank[key]), ("posterior (neural)", draws[key]))):
            fig.add_trace(go.Histogram(x=values, histnorm="probability density", name=name, opacity=0.6,
                                       marker_color=colour(k), legendgroup=name, showlegend=i == 0,
                                       nbinsx=30), row=row, col=col)
        fig.update_xaxes(title_text="unit of the range (0: its low end, 1: its high end)", range=[0, 1],
                         row=row, col=col)
        fig.update_yaxes(title_text="density", row=row, col=col)
    fig.update_layout(barmode="overlay", hovermode="closest")
    return fig


def _section(id: str, title: str, *, paragraphs: list[str] | None = None, tables: list[dict] | None = None,
             bullets: list[str] | None = None, html: str = "", caption: str = "") -> dict[str, Any]:
    return {"id": id, "title": title, "paragraphs": paragraphs or [], "tables": tables or [],
            "bullets": bullets or [], "html": html, "caption": caption}


def record_posterior(out: Path, p: Any) -> None:
    """Set the scenario's entry of OUT/posterior.json: the posterior intervals the run report cites."""
    entry = {"posterior_id": p.posterior_id, "people": p.scenario.population.people,
             "metrics": {r.metric: {"median": r.npe_q50, "low": r.npe_q05, "high": r.npe_q95}
                         for r in p.headline.itertuples() if math.isfinite(r.npe_q50)}}
    record_intervals(out, p.scenario.name, entry, POSTERIOR_FILE)


def posterior_page(out: Path, p: Any, draws: dict[str, np.ndarray], bank: dict[str, np.ndarray]) -> Path:
    """Write OUT/posterior.html and OUT/posterior.json; `draws` and `bank` map each parameter to its unit values."""
    s = p.scenario
    d = p.diagnostics
    intro = [f"The bank: {int(d['bank_runs'])} runs of {s.population.people:,} simulated adults over {s.run.steps} "
             f"steps, each with every assumption drawn from its plausible range (the prior) and its own seed. "
             f"{int(d['training_runs'])} of them trained an ensemble of neural posterior estimators (sbi's NPE); "
             f"{int(d['held_out'])} were held out to check it. The model then reran at "
             f"{int(p.predictive_counts.total)} draws from the posterior.",
             f"The same bank, weighted by how well each run reproduces the figures, gives a second estimate that "
             f"needs no neural network; it rests on {d['ess']:.0f} effective runs."]
    warnings = []
    bad = p.fit[p.fit["p_value"] < LOW_P]
    if d.get("reproducible_share", 1.0) == 0:
        warnings.append("No run of the bank comes within three uncertainties of every figure at once. " + (
            "The reruns at posterior draws do reproduce every figure (no p-value below 0.05): the bank is too "
            "small for the weighted estimate, not the model too poor; read the neural estimate." if bad.empty else
            "Nor do the reruns at posterior draws: over these plausible ranges the model cannot reproduce the "
            "record. The posterior below is the least-bad compromise, not a fit."))
    if len(bad):
        warnings.append(f"The fitted model does not reproduce {len(bad)} figure{'s' if len(bad) > 1 else ''}: "
                        f"{'; '.join(bad['label'])} (posterior-predictive p-value below {LOW_P}). The fit is not "
                        "forced: read the intervals as conditional on a model that misses these.")
    disagree = p.headline[~p.headline["agree"] & p.headline["comparable"]]
    if len(disagree):
        warnings.append(f"The two estimates disagree on {', '.join(disagree['metric'])}: an end of their 90% "
                        f"intervals differs by more than a quarter of the prior interval. The weighted bank is exact "
                        f"for the runs it has but rests on {d['ess']:.0f} effective runs; the neural estimate uses "
                        "every run but can leave mass where the figures rule it out (a region such as the tipping "
                        "box below). Quote the range the two span, or settle it with a larger bank (--simulations) "
                        "or fewer assumptions (--only).")
    if d["ess"] < MIN_ESS:
        warnings.append(f"The weighted bank rests on {d['ess']:.0f} effective runs: too few for its intervals to "
                        "be more than a rough check; a larger bank (--simulations) fixes that.")

    metrics = list(p.headline["metric"])
    top = list(p.parameters.sort_values("contraction", ascending=False)["parameter"][:6])
    sections = [
        _section("headline", "Headline figures: before and after the record", tables=[_headline_table(p)]),
        _section("fit", "How well the model reproduces each figure", tables=_fit_tables(p), paragraphs=[
            "Published figures are counts or estimates in the record; design premises say what the system is built "
            "to do where no count exists. Both condition the posterior; read the premises as assumptions."]),
        _section("constrains", "What the record constrains", paragraphs=[p.statement],
                 tables=[_parameter_table(p)]),
        _section("marginals", "The most narrowed assumptions, prior against posterior",
                 html=to_div(_marginals(p, draws, bank, top)),
                 caption="Each assumption's position in its plausible range, across the bank (prior) and across "
                         "draws from the posterior."),
        _section("open", "What the record leaves open", bullets=p.open_assumptions, paragraphs=[
            "These assumptions are narrowed by less than 10%: the figures say almost nothing about them, and the "
            "headline intervals carry their full plausible range."]),
    ]
    loo = _loo_table(p)
    if loo:
        sections.append(_section("leave-one-out", "Which figure each interval rests on", tables=[loo]))
    sections += [
        _section("tipping", "The tipping regime", paragraphs=_tipping_words(p)),
        _section("bands", "Over time, before and after",
                 html=to_div(_bands_figure(p.bands, metrics)) if metrics else "",
                 caption="The middle 90% of runs at each step: over the prior bank, and over the reruns at posterior "
                         "draws."),
        _section("checks", "Checks of the method", tables=[_diagnostics_table(p)]),
    ]
    out.mkdir(parents=True, exist_ok=True)
    temp = out / f".{PAGE}.{os.getpid()}.tmp"
    render("posterior.html", temp, scenario=s, intro=intro, warnings=warnings, sections=sections,
           bank_id=p.bank_id, predictive_id=p.predictive_id, posterior_id=p.posterior_id)
    os.replace(temp, out / PAGE)
    record_posterior(out, p)
    return out / PAGE


def _tipping_words(p: Any) -> list[str]:
    t = p.tipping
    if t is None:
        return ["This run records no blacklist share, so there is no tipping regime to look for."]
    if t["box"] is None:
        return [f"{t['high_runs']} runs of the bank ended on a high-blacklist branch (above "
                f"{100 * t['threshold']:.2g}% listed): too few, or too scattered, for a box of assumptions that "
                "leads there." if math.isfinite(t["threshold"]) else
                "The bank's final blacklist shares do not split into a branch where many are listed (a median of "
                f"{100 * TIPPING_LEVEL:.0f}% or more) and one where few are: there is no tipping regime here."]
    return [f"In some runs most people end up listed: low scores spread through families and friends. PRIM finds "
            f"the assumptions that lead there: {t['description']}.",
            f"That box holds {100 * t['box'].prior_mass:.1f}% of the prior and {100 * t['posterior_mass']:.1f}% of "
            f"the posterior (neural estimate; {100 * t['weighted_mass']:.1f}% by the weighted bank). The high branch "
            f"is a final blacklist share above {100 * t['threshold']:.2g}%."]
