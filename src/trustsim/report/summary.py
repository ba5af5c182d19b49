"""The report's opening: a few plain sentences whose every number comes from the run.

Use `summary(result)` for the sentences, in the order a reader asks: who is listed, how many
wrongly and why, which measures, who is hit harder, what it does to speech and to dissidents'
networks, then scores, rewards and participation. A sentence whose metric the run lacks is left
out. `percent` and `people` write numbers the way the sentences do; tests use them too.

`final_values(result)` is the report's table of every metric: its value, what it is (a share of
whom, a ratio of what, a count of what: result.meaning) and when it holds; `headline_lines(result)`
the same for the headline metrics, as `trustsim run` prints them.
"""

from __future__ import annotations

import math

import pandas as pd

from trustsim.report.plots import format_metric, is_count
from trustsim.report.sections import CAUSE_NAMES, MEASURE_NAMES, member_name
from trustsim.report.view import MetricsView
from trustsim.result import HEADLINE_METRICS, NOW, SINCE_START, STEP, Result, meaning

CAUSE_PHRASES = {
    "association": "through their contacts (relatives, friends, colleagues) rather than anything they did",
    "false_match": "through false face-recognition matches",
    "linkage_error": "through records linked to the wrong person",
}


def percent(share: float) -> str:
    """0.0123 -> '1.2%', 0.184 -> '18%', 0.00034 -> '0.034%': two significant figures, at most whole percents."""
    value = 100 * share
    if value == 0 or not math.isfinite(value):
        return "0%"
    if abs(value) >= 9.95:
        return f"{value:.0f}%"
    digits = max(0, 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{digits}f}%"


def people(count: float) -> str:
    """13_260_000 -> '13 million', 442_000 -> '442,000', 1.1e9 -> '1.1 billion'."""
    for size, word in ((1e9, "billion"), (1e6, "million")):
        if count >= size:
            return f"{count / size:.2g} {word}" if count < 10 * size else f"{count / size:,.0f} {word}"
    if count >= 1e4:
        return f"{round(count, -3):,.0f}"
    return f"{count:,.0f}"


def times(ratio: float) -> str:
    return f"{ratio:.2g}"


def date_words(date: pd.Timestamp) -> str:
    return f"{date.day} {date:%B %Y}"


Intervals = dict[str, dict]  # metric -> {"low", "high", "basis"}: a posterior or an uncertainty analysis


def _interval(intervals: Intervals, metric: str) -> str:
    """' (90% interval 28-45% over the plausible assumptions)', or '... posterior interval ..., given the
    public record' when a posterior gave it."""
    if metric not in intervals:
        return ""
    part = intervals[metric]
    span = f"{percent(part['low']).rstrip('%')}-{percent(part['high'])}"
    if part.get("basis") == "posterior":
        return f" (90% posterior interval {span}, given the public record: trustsim posterior)"
    return f" (90% interval {span} over the plausible assumptions)"


def _blacklist(v: MetricsView, represents: float, intervals: Intervals) -> str | None:
    share = v.final("blacklist_share")
    if share is None:
        return None
    if not v.active("blacklist_share"):
        return "Nobody was put on a blacklist."
    count = v.final("blacklist_count")
    count = share * represents if count is None else count
    text = f"By {date_words(v.last_date())}, {percent(share)}{_interval(intervals, 'blacklist_share')} of adults ({people(count)} people at national scale) were on a blacklist"
    entries, exits = v.total("blacklist_entries"), v.total("blacklist_exits")
    if entries:
        text += f"; {people(entries)} were added over the run and {people(exits or 0)} taken off"
    return text + "."


def _wrongful(v: MetricsView, intervals: Intervals) -> str | None:
    share = v.final("wrongful_sanction_share")
    if share is None:
        return None
    if share == 0:
        return "Nobody sanctioned at the end was sanctioned wrongly."
    text = f"{percent(share)}{_interval(intervals, 'wrongful_sanction_share')} of sanctioned people were sanctioned wrongly: their own behaviour would not have put them there"
    causes = {m.split(".", 1)[1]: v.final(m) or 0.0 for m in v.members("wrongful_by_cause")}
    if causes:
        cause, part = max(causes.items(), key=lambda kv: kv[1])
        if part > share / 2:
            phrase = CAUSE_PHRASES.get(cause, CAUSE_NAMES.get(cause, cause))
            text += f". Most of them ({percent(part / share)}) were sanctioned {phrase}"
    return text + "."


def _measures(v: MetricsView) -> str | None:
    measures = {m: v.final(m) for m in v.members("sanctioned_share") if v.has(m)}
    measures = {m: s for m, s in measures.items() if s}
    parts = []
    if measures:
        top = max(measures, key=measures.get)
        parts.append(f"The most common measure was {MEASURE_NAMES.get(top.split('.', 1)[1], top)} "
                     f"({percent(measures[top])} of adults)")
    refused = [(v.total(m), what) for m, what in (("flight_denials", "flights"), ("rail_denials", "train tickets"))]
    refused = [f"{people(n)} {what}" for n, what in refused if n]
    if refused:
        parts.append(f"{' and '.join(refused)} were refused over the run")
    return ("; ".join(parts) + ".") if parts else None


def _disparate(v: MetricsView) -> str | None:
    ratio = v.final("disparate_impact_ratio")
    if ratio is None:
        return None
    if ratio == 0:
        return "No member of the minority was sanctioned."
    if ratio > 1.05:
        return f"Members of the minority were sanctioned {times(ratio)} times as often as the majority."
    if ratio < 0.95:
        return f"Members of the minority were sanctioned less often than the majority ({times(ratio)} times the majority's rate)."
    return f"Members of the minority were sanctioned about as often as the majority (ratio {times(ratio)})."


def _chilling(v: MetricsView) -> str | None:
    ratio = v.final("expressed_dissent_ratio")
    if ratio is None:
        return None
    if ratio >= 0.995:
        return "People voiced their dissent as they held it: speech was not chilled."
    text = f"People voiced {percent(1 - ratio)} less dissent than they held"
    top = v.final_group("expressed_dissent_ratio", "dissent_decile=10")
    if top is not None:
        text += f" (the most dissenting tenth: {percent(1 - top)} less)"
    return text + "."


def _network(v: MetricsView) -> str | None:
    parts = []
    degree = v.final("dissident_degree_ratio")
    if degree is not None:
        if degree < 0.995:
            parts.append(f"The most dissenting tenth of people lost {percent(1 - degree)} of their ties")
        else:
            parts.append("The most dissenting tenth of people kept their ties")
    isolated = v.final("isolated_share")
    if isolated is not None:
        parts.append(f"{percent(isolated)} of all people had no ties left")
    return ("; ".join(parts) + ".") if parts else None


def _scores(v: MetricsView) -> str | None:
    mean, p10 = v.final("score_mean"), v.final("score_p10")
    if mean is None:
        return None
    text = f"The mean score was {mean:.0f} on the scale of 350 to 950"
    if p10 is not None:
        text += f"; one person in ten scored under {p10:.0f}"
    return text + "."


def _rewards(v: MetricsView, mode: str) -> str | None:
    parts = []
    reward = v.final("reward_share")
    if reward:
        parts.append(f"{percent(reward)} of adults held a reward such as easier credit")
    opt_in = v.final("opt_in_share")
    if opt_in is not None and (mode != "mandatory" or opt_in < 1):
        parts.append(f"{percent(opt_in)} of adults were scored by the system")
    if not parts:
        return None
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def summary(result: Result, intervals: Intervals | None = None) -> list[str]:
    """Plain-language sentences about the run, for the metrics it has.

    `intervals` (from `trustsim uncertainty` on the same scenario) adds each headline share's 90%
    interval over the plausible assumptions.
    """
    intervals = intervals or {}
    v = MetricsView(result.metrics)
    if v.last_step is None or v.last_date() is None:
        return []
    scenario = result.scenario
    sentences = [
        _blacklist(v, scenario.population.represents, intervals), _wrongful(v, intervals), _measures(v), _disparate(v), _chilling(v),
        _network(v), _scores(v), _rewards(v, scenario.participation.mode),
    ]
    return [s for s in sentences if s]


def final_values(result: Result) -> list[tuple[str, str, str, str]]:
    """(metric, value, what it is, when it holds) of every metric for the whole population: its last
    recorded value, and for a count of one step also its total over the run."""
    rows = result.metrics[result.metrics["group"] == "all"].sort_values("step", kind="stable")
    last = rows.groupby("metric", sort=True).tail(1)
    days, steps = result.scenario.run.step_days, rows["step"].nunique()
    end = pd.to_datetime(rows["date"]).max()
    out = []
    for metric, date, value in zip(last["metric"], pd.to_datetime(last["date"]), last["value"].astype(float)):
        what, basis = meaning(metric, member_name(metric) if "." in metric else None)
        # a ratio of nobody (no one sanctioned, say) is not recorded: its last value may be older
        step, day = ("the last step" if date == end else "the last step it was defined"), f"{date:%Y-%m-%d}"
        when = {NOW: f"at {step} ({day})", STEP: f"during {step} ({days} days from {day})",
                SINCE_START: f"at {step} ({day}), against the start"}[basis]
        out.append((metric, format_metric(metric, value), what, when))
        if basis == STEP and is_count(metric):
            total = float(rows.loc[rows["metric"] == metric, "value"].sum())
            out.append((metric, format_metric(metric, total), what,
                        f"over the run ({steps} steps from {pd.Timestamp(rows['date'].min()):%Y-%m-%d})"))
    return out


def headline_lines(result: Result) -> list[str]:
    """The headline metrics as `trustsim run` prints them: when they hold, then each with its value and
    what it is a share or ratio of."""
    # reversed: a metric's first row (its last step) is the one kept
    rows = {metric: (value, what, when) for metric, value, what, when in reversed(final_values(result))}
    lines, said = [], None
    for metric in (m for m in HEADLINE_METRICS if m in rows):
        value, what, when = rows[metric]
        if when != said:
            lines.append(f"{when[0].upper()}{when[1:]}, whole population:")
            said = when
        lines.append(f"  {metric:<26} {value:>10}  {what}")
    return lines
