"""The explorer's page, a Streamlit script: levers by stage on the left, the readout on the right.

Streamlit runs this file (server.py starts it; tests run it with streamlit.testing's AppTest). It
reads its settings from the environment: TRUSTSIM_EXPLORE_PRESET, TRUSTSIM_EXPLORE_PEOPLE and
TRUSTSIM_EXPLORE_DIR (a results directory that may hold a sensitivity analysis of the preset, and a
posterior or an uncertainty analysis of it, whose 90% intervals the readout cites).
Levers sit in a form, so nothing runs until "Run" is pressed. The readout is the report's
headline metrics with their change against the unchanged preset (same seed), the comparison
page's plots with both runs, and a download of the changed scenario as YAML. Any error shows as
one line on the page. After each run, st.session_state["readout"] holds {metric: (changed,
unchanged)} at the last step, for tests and for anyone reading the page's state.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import streamlit as st

from trustsim import store
from trustsim.errors import UserError
from trustsim.experiments.compare import Comparison
from trustsim.explore.levers import STAGES, Lever, changed, importance, levers_for, ordered, unused_reason, values_of
from trustsim.explore.runs import Request, cached, run_pair, scenario_yaml
from trustsim.report.compare import figures, format_difference, title
from trustsim.report.html import intervals_of
from trustsim.report.plots import CONFIG, format_metric
from trustsim.result import HEADLINE_METRICS
from trustsim.scenario.loading import load_scenario

DEFAULT_PEOPLE = 20_000
YEARS = (1, 5)
# The readout: the report's headline metrics, then what the levers act on most directly.
SHOWN = (*HEADLINE_METRICS, "disparate_impact_ratio", "dissident_degree_ratio", "sanctioned_any_share",
         "detected_crime_share")
# Which way is worse: a rise in these is a harm (red), a fall in these is one; the rest plain.
WORSE_UP = {"blacklist_share", "wrongful_sanction_share", "disparate_impact_ratio", "sanctioned_any_share"}
WORSE_DOWN = {"expressed_dissent_ratio", "dissident_degree_ratio"}
# Short names for the tiles; the full title is in each tile's help.
LABELS = {"score_mean": "mean score", "blacklist_share": "on a blacklist", "wrongful_sanction_share": "sanctioned wrongly",
          "expressed_dissent_ratio": "dissent voiced", "disparate_impact_ratio": "minority vs majority",
          "dissident_degree_ratio": "dissidents' ties kept", "sanctioned_any_share": "under any measure",
          "detected_crime_share": "crimes detected"}
TITLES = {"detected_crime_share": "crimes detected, as a share of crimes committed"}
UNCHANGED, CHANGED = "unchanged preset", "with your changes"


def settings() -> tuple[str, int, Path | None]:
    preset = os.environ.get("TRUSTSIM_EXPLORE_PRESET", "national_2020")
    people = int(os.environ.get("TRUSTSIM_EXPLORE_PEOPLE") or DEFAULT_PEOPLE)
    directory = os.environ.get("TRUSTSIM_EXPLORE_DIR")
    return preset, people, Path(directory) if directory else None


def sensitivity_weights(directory: Path | None, preset: str) -> tuple[dict[str, float], str]:
    """How much each lever matters according to a sensitivity result in directory, and a note for the page."""
    if directory is None:
        return {}, ""
    try:
        rows = store.table(directory, "sensitivity")
        if rows.empty:
            return {}, f"{directory} holds no sensitivity analysis; the levers keep their order."
        links = store.table(directory, "ensemble_runs")
        if not links.empty:  # only ensembles run on this preset
            mine = links.merge(store.list_runs(directory)[["run_id", "scenario"]], on="run_id")
            rows = rows[rows["ensemble_id"].isin(mine.loc[mine["scenario"] == preset, "ensemble_id"])]
    except UserError as exc:  # a directory another version wrote, a damaged one: the page still works
        return {}, f"Could not read the sensitivity analysis in {directory} ({exc}); the levers keep their order."
    weights = importance(rows)
    if not weights:
        return {}, f"{directory} holds no sensitivity analysis of {preset}; the levers keep their order."
    return weights, "Levers are ordered by how much they moved the results in the sensitivity analysis in " \
                    f"{directory} (most first)."


def lever_widget(lever: Lever, value: Any, reason: str | None) -> Any:
    """The widget of one lever; returns the chosen value in the scenario's unit."""
    unit = f" ({lever.unit})" if lever.unit else ""
    help_text = lever.help + (f" Not used now: {reason}." if reason else "") + (
        f" Note: {lever.limit_note}." if lever.limit_note else "")
    key = f"lever:{lever.key}"
    if lever.is_choice:
        shown = st.selectbox(lever.label, lever.choices, index=lever.choices.index(value), key=key,
                             help=help_text, disabled=bool(reason))
    else:
        decimals = max(0, -math.floor(math.log10(lever.step)))
        shown = st.slider(lever.label + unit, min_value=float(lever.low), max_value=float(lever.high),
                          value=float(lever.shown(value)), step=float(lever.step), format=f"%.{decimals}f", key=key,
                          help=help_text, disabled=bool(reason))
    if reason:
        st.caption(f"Not used now: {reason}.")
    return lever.to_value(shown)


def levers_form(preset: str, people: int) -> Request | None:
    """The form of levers; the Request of a press of Run, else None."""
    scenario = load_scenario(preset)
    levers = levers_for(scenario)
    base = values_of(scenario, levers)
    last = st.session_state.get("chosen", base)  # the values of the last run decide what is unused
    weights, note = sensitivity_weights(settings()[2], preset)
    with st.form("levers"):
        st.markdown(f"**{preset}**: {scenario.description}")
        size = st.columns(3)
        n = size[0].number_input("People", min_value=1_000, max_value=1_000_000, value=people, step=1_000,
                                 help="Synthetic people simulated; more take longer and are less noisy.")
        years = size[1].slider("Years", min_value=YEARS[0], max_value=YEARS[1], value=1)
        seed = size[2].number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1,
                                    help="Both runs use it, so they share their random draws.")
        if note:
            st.caption(note)
        by_stage = {stage: [lv for lv in levers if lv.stage == stage] for stage in STAGES}
        if weights:
            by_stage = {stage: ordered(group, weights) for stage, group in by_stage.items()}
            top = {stage: max((weights.get(lv.key, -1.0) for lv in group), default=-1.0)
                   for stage, group in by_stage.items()}
            by_stage = dict(sorted(by_stage.items(), key=lambda kv: -top[kv[0]]))
        chosen: dict[str, Any] = {}
        for stage, group in by_stage.items():
            if not group:
                continue
            st.subheader(stage)
            for lever in group:
                chosen[lever.key] = lever_widget(lever, base[lever.key], unused_reason(lever.key, last, scenario))
        pressed = st.form_submit_button("Run", type="primary")
    if not pressed:
        return None
    st.session_state["chosen"] = chosen
    return Request.make(preset, changed(levers, base, chosen), int(n), float(years), int(seed))


def show_metrics(result, base, any_change: bool) -> None:
    mine, theirs = result.final(), base.final()
    shown = [m for m in SHOWN if m in mine]
    st.session_state["readout"] = {m: (mine[m], theirs.get(m)) for m in shown}
    for start in range(0, len(shown), 4):
        columns = st.columns(4)
        for column, metric in zip(columns, shown[start:start + 4]):
            delta, colour = None, "off"
            if any_change and metric in theirs and mine[metric] != theirs[metric]:
                delta = format_difference(metric, mine[metric] - theirs[metric])
                colour = "inverse" if metric in WORSE_UP else "normal" if metric in WORSE_DOWN else "off"
            explain = f"{TITLES.get(metric, title(metric))}, at the end of the run; " \
                      f"{UNCHANGED}: {format_metric(metric, theirs.get(metric, float('nan')))}"
            column.metric(LABELS.get(metric, title(metric)), format_metric(metric, mine[metric]), delta,
                          delta_color=colour, help=explain)


def cited_intervals(directory: Path | None, preset: str) -> str | None:
    """A line citing the preset's 90% intervals from a posterior (else an uncertainty analysis) in directory."""
    if directory is None:
        return None
    found = intervals_of(directory, preset)
    shown = [m for m in SHOWN if m in found]
    if not shown:
        return None
    spans = "; ".join(f"{LABELS.get(m, title(m))} {format_metric(m, found[m]['low'])} to "
                      f"{format_metric(m, found[m]['high'])}" for m in shown)
    if found[shown[0]].get("basis") == "posterior":
        return (f"The unchanged preset given the public record (a posterior, trustsim posterior in {directory}), "
                f"90% posterior intervals at the end of its run: {spans}.")
    return (f"The unchanged preset over its plausible assumptions (trustsim uncertainty in {directory}; not yet "
            f"conditioned on the public record), 90% intervals at the end of its run: {spans}.")


def describe(request: Request, unchanged) -> str:
    """The changed levers in words: 'Appeals made: 2 -> 90 % per week'."""
    levers = {lever.key: lever for lever in levers_for(unchanged)}
    before = values_of(unchanged, levers.values())
    parts = []
    for key, value in request.overrides:
        lever = levers.get(key)
        if lever is None:
            parts.append(f"{key} = {value}")
        elif lever.is_choice:
            parts.append(f"{lever.label}: {before[key]} -> {value}")
        else:
            parts.append(f"{lever.label}: {lever.shown(before[key]):g} -> {lever.shown(value):g} {lever.unit}")
    return "; ".join(parts) or "nothing (both sides are the preset)"


def readout(request: Request) -> None:
    waiting = "" if cached(request) else " (the first run of the day compiles for a while)"
    started = time.perf_counter()
    with st.spinner(f"Running {request.people:,} people for {request.years:g} years{waiting}..."):
        result, base = run_pair(request)
    seconds = time.perf_counter() - started
    years = f"{request.years:g} year" + ("s" if request.years != 1 else "")
    st.caption(f"{request.people:,} people, {years}, seed {request.seed}; changed: {describe(request, base.scenario)}; "
               f"ready in {seconds:.1f} s. Below each number: {CHANGED} minus the {UNCHANGED}, same seed.")
    show_metrics(result, base, bool(request.overrides))
    cited = cited_intervals(settings()[2], request.preset)
    if cited:
        st.caption(cited)
    comparison = Comparison(labels=[UNCHANGED, CHANGED], seeds=[request.seed],
                            runs={UNCHANGED: [base], CHANGED: [result]})
    for id_, heading, fig in figures(comparison):
        st.subheader(heading)
        st.plotly_chart(fig, theme=None, config=CONFIG, key=f"plot:{id_}")
    st.download_button("Save the changed scenario (YAML)", scenario_yaml(request, result.scenario),
                       file_name=f"{request.preset}_explored.yaml", mime="application/x-yaml", on_click="ignore")


def main() -> None:
    st.set_page_config(page_title="trustsim explore", layout="wide")
    preset, people, _ = settings()
    st.title("trustsim explore")
    st.write("Move a lever, press Run, and see what the change does next to the unchanged system. "
             "Everyone here is synthetic.")
    try:
        left, right = st.columns([1, 2], gap="large")
        with left:
            pressed = levers_form(preset, people)
        if pressed is not None:
            st.session_state["request"] = pressed
        request = st.session_state.get("request")
        with right:
            if request is None:
                st.info("Press Run to simulate the preset and your changes side by side.")
            else:
                readout(request)
    except UserError as exc:
        st.error(f"trustsim: {' '.join(str(exc).splitlines())}")
    except Exception as exc:  # never a traceback on the page: one line that says what went wrong
        st.error(f"trustsim: {type(exc).__name__}: {' '.join(str(exc).splitlines())}")


if __name__ == "__main__":
    main()
