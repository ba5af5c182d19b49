"""The sections of the run report: what each one plots, its one-sentence caption, when it is left out.

Use `sections(view)`: a list of `Section`, in reading order, each with a figure or, when the run
lacks what it needs (no sanctions in sesame_2015, say), with `skipped` saying why. Each builder
below draws one idea with the primitives of plots.py; the comparison page reuses them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from trustsim.report.cases import cases, chosen_cases
from trustsim.report.plots import (DIMENSIONS, TOOLBAR, add_band, add_bars, add_line, add_lines, add_stacked, colour,
                                   group_label, hover, is_share, panels, rgba, style_axis, tickformat)
from trustsim.report.view import MetricsView

MEASURE_NAMES = {
    "internet_throttle": "slowed internet",
    "flight_ban": "flight ban",
    "rail_ban": "train ban",
    "job_ban": "exclusion from civil-service and senior jobs",
    "id_block": "blocked ID number",
    "blacklist": "shaming on the public blacklist",
}
CAUSE_NAMES = {
    "association": "through their contacts",
    "false_match": "false face-recognition match",
    "linkage_error": "record linked to the wrong person",
}
# The metrics of the by-group section, and how its menu names them.
GROUP_METRICS = {
    "blacklist_share": "on a blacklist",
    "wrongful_sanction_share": "sanctioned wrongly (share of the sanctioned)",
    "score_mean": "mean score",
    "expressed_dissent_ratio": "expressed over latent dissent",
    "isolated_share": "with no ties left",
    "reward_share": "holding a reward",
}


@dataclass
class Section:
    id: str
    title: str
    caption: str
    figure: go.Figure | None = None
    skipped: str | None = None  # why the run has nothing to show here


def member_name(metric: str) -> str:
    part = metric.split(".", 1)[-1]
    return MEASURE_NAMES.get(part) or CAUSE_NAMES.get(part) or part.replace("_", " ")


def scores(v: MetricsView) -> go.Figure | str:
    quantiles = [m for m in ("score_p10", "score_p50", "score_p90") if v.has(m)]
    if not quantiles and not v.has("score_mean"):
        return "this run recorded no scores"
    fig = panels([""], height=420)
    x = v.x()
    if v.has("score_p10") and v.has("score_p90"):
        add_band(fig, x, v.over_time("score_p10"), v.over_time("score_p90"), "middle 80% (p10 to p90)", colour(0))
    if v.has("score_p50"):
        add_line(fig, x, v.over_time("score_p50"), "median", colour(0), hover=hover("score_p50"))
    if v.has("score_mean"):
        add_line(fig, x, v.over_time("score_mean"), "mean", colour(1), dash="dash", hover=hover("score_mean"))
    style_axis(fig, "score_mean", title="score (350 to 950)")
    return fig


def blacklist(v: MetricsView) -> go.Figure | str:
    if not v.active("blacklist_share") and not v.active("blacklist_count"):
        return "nobody was put on a blacklist in this run"
    flows = [m for m in ("blacklist_entries", "blacklist_exits") if v.has(m)]
    size = "blacklist_count" if v.has("blacklist_count") else "blacklist_share"
    titles = ["people on a blacklist" + (" (national scale)" if size == "blacklist_count" else "")]
    if flows:
        titles.append("entering (up) and leaving (down) the lists, per step")
    fig = panels(titles, height=560 if flows else 380, shared_xaxes=True)
    x = v.x()
    add_line(fig, x, v.over_time(size), "on a blacklist", colour(0), hover=hover(size))
    style_axis(fig, size)
    if flows:
        if v.has("blacklist_entries"):
            add_bars(fig, x, v.over_time("blacklist_entries"), "entries", colour(1), row=2, hover="%{y:,.0f}")
        if v.has("blacklist_exits"):
            add_bars(fig, x, -v.over_time("blacklist_exits"), "exits", colour(2), row=2, hover="%{y:,.0f}")
        fig.update_layout(barmode="relative")
        style_axis(fig, "blacklist_entries", row=2)
        fig.update_yaxes(rangemode="normal", row=2)
    return fig


def sanctions(v: MetricsView) -> go.Figure | str:
    measures = [m for m in v.members("sanctioned_share") if v.active(m)]
    denials = [m for m in ("flight_denials", "rail_denials") if v.active(m)]
    if not measures and not denials:
        return "nobody was under any measure in this run"
    titles = (["share of adults under each measure"] if measures else []) + (
        ["ticket purchases refused, per step (national scale)"] if denials else [])
    fig = panels(titles, height=180 + 280 * len(titles), shared_xaxes=True)
    x = v.x()
    row = 1
    if measures:
        add_lines(fig, x, [(member_name(m), v.over_time(m)) for m in measures], hover=hover("sanctioned_share"))
        style_axis(fig, "sanctioned_share")
        row = 2
    for i, m in enumerate(denials):  # the bars take the palette's last two colours, after the measures' lines
        name = {"flight_denials": "flights refused", "rail_denials": "train tickets refused"}[m]
        add_bars(fig, x, v.over_time(m), name, colour(6 if m == "flight_denials" else 7), row=row, hover="%{y:,.0f}")
    if denials:
        style_axis(fig, "flight_denials", row=row)
    return fig


def wrongful(v: MetricsView) -> go.Figure | str:
    causes = [m for m in v.members("wrongful_by_cause") if v.has(m)]
    if not v.has("wrongful_sanction_share") and not causes:
        return "nobody was sanctioned in this run, so nobody wrongly"
    order = {"wrongful_by_cause.association": 0, "wrongful_by_cause.false_match": 1, "wrongful_by_cause.linkage_error": 2}
    causes.sort(key=lambda m: order.get(m, 9))
    # a cause of a fraction of a percent is a sliver in the stack: the second panel gives each its own line, on
    # a log scale, where 0.05% and 40% both read
    small = len(causes) > 1
    fig = panels(["stacked by cause", "each cause on its own (log scale)"] if small else [""],
                 height=640 if small else 420, shared_xaxes=True)
    x = v.x()
    add_stacked(fig, x, [(member_name(m), v.over_time(m).fillna(0)) for m in causes], hover=hover("wrongful_sanction_share"))
    if v.has("wrongful_sanction_share"):
        add_line(fig, x, v.over_time("wrongful_sanction_share"), "all wrongful", "#000000", dash="dot", width=1.5,
                 hover=hover("wrongful_sanction_share"))
    style_axis(fig, "wrongful_sanction_share", title="share of sanctioned people")
    if small:
        for i, m in enumerate(causes):
            values = v.over_time(m)
            add_line(fig, x, values.where(values > 0), member_name(m), colour(i), row=2, showlegend=False,
                     legendgroup=member_name(m), hover=hover(m))
        style_axis(fig, "wrongful_sanction_share", row=2, title="share of sanctioned people")
        fig.update_yaxes(type="log", rangemode="normal", row=2)
    return fig


def disparate(v: MetricsView) -> go.Figure | str:
    if not v.has("disparate_impact_ratio"):
        return "the ratio is undefined: no one in the majority was sanctioned"
    rates = [m for m in ("blacklist_share", *v.members("sanctioned_share")) if v.active(m)]
    rows = [(m, v.at_last(m, "minority").set_index("group")["value"]) for m in rates]
    rows = [(m, r) for m, r in rows if len(r) == 2]
    titles = ["minority's sanction rate over the majority's"]
    if rows:
        titles.append("share under each measure at the end")
    fig = panels(titles, cols=len(titles), height=440, horizontal_spacing=0.3 if rows else 0.2)
    add_line(fig, v.x(), v.over_time("disparate_impact_ratio"), "minority / majority (1: the same rate)", colour(0),
             hover=hover("disparate_impact_ratio"))
    fig.add_hline(y=1, line_dash="dot", line_color="#666", row=1, col=1)
    style_axis(fig, "disparate_impact_ratio")
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    if rows:
        names = [member_name(m) if "." in m else "any blacklist" for m, _ in rows]
        for j, group in enumerate(("minority=0", "minority=1")):
            values = [float(r.get(group, np.nan)) for _, r in rows]
            add_bars(fig, names, values, group_label(group), colour(3 + j), col=2, horizontal=True,
                     hover=hover("sanctioned_share", axis="x"))
        fig.update_layout(barmode="group")
        style_axis(fig, "sanctioned_share", col=2, axis="x")
        fig.update_yaxes(autorange="reversed", row=1, col=2)
    return fig


def chilling(v: MetricsView) -> go.Figure | str:
    if not v.has("expressed_dissent_ratio"):
        return "this run recorded no dissent"
    deciles = v.at_last("expressed_dissent_ratio", "dissent_decile")
    stakes = v.at_last("expressed_dissent_ratio", "stake")
    bars = (["by decile of latent dissent, at the end"] if len(deciles) else []) + (
        ["by what is at stake, at the end"] if len(stakes) else [])
    # the line over time across the top, the bar panels side by side below it: wide enough for their labels
    specs = [[{"colspan": len(bars)}] + [None] * (len(bars) - 1), [{}] * len(bars)] if bars else None
    fig = panels(["over time", *bars], cols=max(1, len(bars)), specs=specs, height=740 if bars else 420)
    add_line(fig, v.x(), v.over_time("expressed_dissent_ratio"), "everyone", colour(0),
             hover=hover("expressed_dissent_ratio"))
    top = v.grouped[(v.grouped["metric"] == "expressed_dissent_ratio") & (v.grouped["group"] == "dissent_decile=10")]
    if len(top):
        series = top.set_index("step")["value"].reindex(v.wide.index)
        add_line(fig, v.x(), series, "most dissenting tenth", colour(1), dash="dash", hover=hover("expressed_dissent_ratio"))
    style_axis(fig, "expressed_dissent_ratio", title="expressed over latent dissent")
    fig.update_yaxes(range=[0, 1.05], row=1, col=1)
    col = 0
    for rows, name, axis in ((deciles, "by decile", "decile of latent dissent"), (stakes, "by stake", "at stake")):
        if not len(rows):
            continue
        col += 1
        add_bars(fig, [group_label(g) for g in rows["group"]], rows["value"], name, colour(col + 1),
                 row=2, col=col, showlegend=False, hover=hover("expressed_dissent_ratio"))
        style_axis(fig, "expressed_dissent_ratio", row=2, col=col)
        fig.update_yaxes(rangemode="tozero", row=2, col=col)
        fig.update_xaxes(title_text=axis, type="category", row=2, col=col)
    return fig


def network(v: MetricsView) -> go.Figure | str:
    metrics = [m for m in ("dissident_degree_ratio", "sanctioned_tie_loss", "isolated_share", "score_tie_correlation")
               if v.has(m)]
    if not metrics:
        return "this run recorded nothing about the network"
    titles = {"dissident_degree_ratio": "ties of the most dissenting tenth, now over at the start",
              "sanctioned_tie_loss": "share of their ties the sanctioned have lost",
              "isolated_share": "share of people with no ties left",
              "score_tie_correlation": "correlation of scores across ties"}
    cols = min(2, len(metrics))  # four panels side by side leave each too narrow for its title and dates
    fig = panels([titles[m] for m in metrics], cols=cols)
    for j, m in enumerate(metrics):
        row, col = j // cols + 1, j % cols + 1
        add_line(fig, v.x(), v.over_time(m), titles[m], colour(j), row=row, col=col, showlegend=False, hover=hover(m))
        style_axis(fig, m, row=row, col=col)
        if m != "score_tie_correlation":  # a ratio or a share: from 0 (a correlation may fall below it)
            fig.update_yaxes(rangemode="tozero", row=row, col=col)
    return fig


def _group_axes(metric: str) -> dict[str, str]:
    """The by-group panels' value axes formatted for a metric, as a layout update the menu can apply. A share
    starts at 0: were every group at 0, Plotly would centre the axis on it (-100% to 100%)."""
    return {f"{axis}.{key}": value for axis in ("yaxis", "yaxis2", "yaxis3", "yaxis4", "yaxis5") for key, value in
            (("tickformat", tickformat(metric) or ""), ("rangemode", "tozero" if is_share(metric) else "normal"))}


def groups(v: MetricsView) -> go.Figure | str:
    """One panel per dimension, at the last step; a menu switches between the key metrics."""
    metrics = [m for m in GROUP_METRICS if v.has(m) and any(len(v.at_last(m, d)) for d in DIMENSIONS)]
    if not metrics:
        return "this run recorded no per-group values"
    specs = [[{"colspan": 4}, None, None, None], [{}, {}, {}, {}]]
    where = {"region": (1, 1), "urban": (2, 1), "occupation": (2, 2), "minority": (2, 3), "dissent_decile": (2, 4)}
    menu = 34  # px: the menu's row, below the toolbar
    fig = panels(["region", "rural or urban", "occupation", "minority", "decile of latent dissent"], cols=4,
                 specs=specs, height=870, title=f"{GROUP_METRICS[metrics[0]]}, by group", top=menu,
                 tick_px=125)  # the regions' names, upright
    visible_sets = []
    for i, m in enumerate(metrics):
        for d in DIMENSIONS:
            rows = v.at_last(m, d)
            if len(rows):
                add_bars(fig, [group_label(g) for g in rows["group"]], rows["value"], GROUP_METRICS[m], colour(i),
                         *where[d], showlegend=False, hover=hover(m), visible=i == 0)
                visible_sets.append(i)
    buttons = [dict(label=GROUP_METRICS[m], method="update", args=[
        {"visible": [k == i for k in visible_sets]}, {**_group_axes(m), "title.text": f"{GROUP_METRICS[m]}, by group"}])
        for i, m in enumerate(metrics)]
    # the menu: top right, below the toolbar's strip, in the panels' coordinates (its height above them)
    plot_px = fig.layout.height - fig.layout.margin.t - 150
    fig.update_layout(margin=dict(b=150), updatemenus=[dict(
        buttons=buttons, direction="down", x=1, xanchor="right", yanchor="top",
        y=1 + (fig.layout.margin.t - TOOLBAR) / plot_px)])
    fig.update_layout(_group_axes(metrics[0]))
    fig.update_xaxes(type="category", autotickangles=[0, 90])  # slanted names of crowded groups touch
    return fig


def rewards(v: MetricsView) -> go.Figure | str:
    metrics = [m for m in ("reward_share", "opt_in_share") if v.has(m)]
    if not any(v.active(m) for m in metrics):
        return "nobody was rewarded or scored"
    fig = panels([""], height=380)
    names = {"reward_share": "holding a reward", "opt_in_share": "scored by the system"}
    for i, m in enumerate(metrics):
        add_line(fig, v.x(), v.over_time(m), names[m], colour(i), hover=hover(m))
    style_axis(fig, "reward_share", title="share of adults")
    return fig


# (id, title, caption, builder), in reading order.
SECTIONS: tuple[tuple[str, str, str, Callable[[MetricsView], go.Figure | str]], ...] = (
    ("scores", "Scores", "The score of the people scored, week by week: the shaded band holds the middle 80% "
     "(10th to 90th percentile), the solid line is the median and the dashed line the mean.", scores),
    ("blacklist", "Blacklists", "How many people were on a blacklist (the court list of dishonest debtors or the "
     "public blacklist), and how many were added and taken off each step.", blacklist),
    ("sanctions", "Sanctions by measure", "The share of adults under each measure, and the ticket purchases "
     "refused to people under a travel ban; measures nobody was under are left out.", sanctions),
    ("wrongful", "Wrongful sanctions by cause", "Among the people sanctioned, the share whose own true behaviour "
     "would not have put them there, stacked by the error that did: their contacts' scores, a false "
     "face-recognition match, or a record linked to the wrong person.", wrongful),
    ("disparate", "Disparate impact", "How much more (above 1) or less (below 1) often members of the minority "
     "were sanctioned than the majority, and the share of each under every measure at the end.", disparate),
    ("chilling", "Chilling of speech", "Dissent people expressed as a fraction of the dissent they hold "
     "(1: nobody holds back; under 1: people hold back), for everyone and for the most dissenting tenth; at the "
     "end, by decile and by what people stand to lose: the committed few, a score within reach of a sanction bar, "
     "a state job, a business, or none of these. The committed few never hold back, and speak out more when a "
     "contact of theirs is punished, so their ratio can pass 1.", chilling),
    ("network", "The network around dissidents", "How many of their ties the most dissenting tenth of people "
     "kept as others distanced themselves, the share of their ties the sanctioned have lost, the share of "
     "people left with no ties at all, and how closely the scores of people tied to each other go together "
     "(0: not at all, 1: perfectly).", network),
    ("groups", "Who is hit: by group", "The key metrics at the end of the run for each region, rural and urban "
     "people, occupation, minority and decile of latent dissent; the menu at the top right picks the metric.",
     groups),
    ("rewards", "Rewards and participation", "The share of adults holding a reward (easier credit, visas, "
     "deposit waivers) and the share the system scores.", rewards),
)


def sections(view: MetricsView) -> list[Section]:
    out = []
    for id_, title, caption, build in SECTIONS:
        made = build(view)
        if isinstance(made, str):
            out.append(Section(id_, title, caption, skipped=made))
        else:
            out.append(Section(id_, title, caption, figure=made))
    return out


# Marks on a case file's score line: which trace events, how they look, what the legend calls them.
# Sanctions in force are a shaded band instead.
CASE_MARKS = (
    (("observed",), ("false_match", "linkage_error"), "x", "error on the record"),
    (("appeal",), None, "diamond", "appeal"),
    (("tie_dropped",), None, "circle-open", "tie dropped"),
)


def _sanctioned_spans(events, dates) -> list[tuple]:
    """(first date, last date) of each run of steps with some measure in force."""
    heads = events["event"].str.partition(".")[0]
    change = (heads == "measure_applied").astype(int) - (heads == "measure_lifted").astype(int)
    in_force = change.groupby(events["step"]).sum().reindex(dates.index, fill_value=0).cumsum() > 0
    spans, start = [], None
    for step, on in in_force.items():
        if on and start is None:
            start = step
        if not on and start is not None:
            spans.append((dates[start], dates[step]))
            start = None
    if start is not None:
        spans.append((dates[start], dates.iloc[-1]))
    return spans


@dataclass
class CaseStory:
    title: str
    story: str
    figure: go.Figure


def case_plot(case) -> go.Figure:
    """A traced person's published score and the score of their file before contacts, with their events marked."""
    events = case.events
    fig = panels([""], height=320)
    for i, (event, name, dash) in enumerate((("score.published", "published score", None),
                                             ("score.individual", "all filed under their name, before contacts", "dot"))):
        rows = events[events["event"] == event]
        add_line(fig, rows["date"], rows["value"], name, colour(i), dash=dash, hover="%{y:.0f}")
    score = events[events["event"] == "score.published"].set_index("step")["value"]
    dates = events[events["event"] == "score.published"].set_index("step")["date"]
    for k, (x0, x1) in enumerate(_sanctioned_spans(events, dates)):
        fig.add_vrect(x0=x0, x1=x1, fillcolor=rgba(colour(1), 0.12), line_width=0, layer="below",
                      annotation_text="under sanction" if k == 0 else None, annotation_position="top left")
    heads = events["event"].str.partition(".")[0]
    for i, (kinds, causes, symbol, name) in enumerate(CASE_MARKS):
        rows = events[heads.isin(kinds) & (events["cause"].isin(causes) if causes else True)]
        rows = rows[rows["step"].isin(score.index)].drop_duplicates("step")
        if rows.empty:
            continue
        fig.add_trace(go.Scatter(
            x=rows["date"], y=score.loc[rows["step"]].to_numpy(), mode="markers", name=name,
            marker=dict(symbol=symbol, size=11, color=colour(i + 2), line=dict(width=1.5, color=colour(i + 2))),
            text=rows["event"] + np.where(rows["cause"].notna(), " (" + rows["cause"].fillna("") + ")", ""),
            hovertemplate="%{text}<extra></extra>"))
    fig.update_yaxes(title_text="score")
    return fig


def case_stories(trace, traced_people, threshold: float) -> list[CaseStory]:
    """The report's case files: four to six people's stories, told from the trace (report/cases.py)."""
    if trace is None or traced_people is None:
        return []
    reasons = {"false_match": "Wrongly sanctioned: a false face match", "linkage_error":
               "Wrongly sanctioned: a record filed under the wrong name", "association":
               "Sanctioned through the people around them", "dissident": "One of the most dissenting tenth",
               "rewarded": "Rewarded by the system", "blacklist": "On the blacklist"}
    return [CaseStory(f"{reasons[case.person['chosen_for']]}: person {case.id}", case.story(), case_plot(case))
            for case in chosen_cases(cases(trace, traced_people, threshold))]
