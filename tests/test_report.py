"""The run report: self-contained, its summary's numbers are the run's, sections shown or skipped by what the run has."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from conftest import make_result
from trustsim import store
from trustsim.report import build_report
from trustsim.report.plots import group_label
from trustsim.report.sections import GROUP_METRICS, SECTIONS, sections
from trustsim.report.summary import final_values, headline_lines, people, percent, summary
from trustsim.report.view import MetricsView
from trustsim.result import meaning

GROUPS = ["minority=0", "minority=1", "region=Anhui", "region=Tibet", "urban=0", "urban=1",
          "occupation=farmer", "occupation=civil_servant", *[f"dissent_decile={d}" for d in range(1, 11)]]

# Final values of a national_2020-like run; the series ramp up to them.
FINAL = {
    "score_mean": 655.4, "score_p10": 601.0, "score_p50": 670.0, "score_p90": 702.0,
    "blacklist_share": 0.012, "blacklist_count": 13_260_000.0, "blacklist_entries": 500_000.0, "blacklist_exits": 100_000.0,
    "sanctioned_share.flight_ban": 0.012, "sanctioned_share.job_ban": 0.027, "sanctioned_share.id_block": 0.0,
    "flight_denials": 20_000.0, "rail_denials": 50_000.0,
    "wrongful_sanction_share": 0.18, "wrongful_by_cause.association": 0.15, "wrongful_by_cause.false_match": 0.02,
    "wrongful_by_cause.linkage_error": 0.01, "disparate_impact_ratio": 1.6, "expressed_dissent_ratio": 0.59,
    "dissident_degree_ratio": 0.8, "isolated_share": 0.004, "reward_share": 0.11, "opt_in_share": 1.0,
}


def run_with(final: dict[str, float], steps: int = 4, groups: bool = True):
    """A Result whose metrics ramp linearly to `final`, with per-group rows at 0.5x and 1.5x the value."""
    result = make_result(steps=steps, snapshot=False)
    start = pd.Timestamp(result.scenario.run.start)
    rows = []
    for step in range(steps):
        date = start + pd.Timedelta(days=7 * step)
        fraction = (step + 1) / steps
        for metric, value in final.items():
            v = value * fraction if not metric.startswith("score") else value
            # counts per step: the same every step, so totals are steps x final
            v = value if metric in ("blacklist_entries", "blacklist_exits", "flight_denials", "rail_denials") else v
            rows.append((step, date, metric, "all", v))
            if groups:
                for i, g in enumerate(GROUPS):
                    rows.append((step, date, metric, g, v * (0.5 + i / len(GROUPS))))
    result.metrics = pd.DataFrame(rows, columns=["step", "date", "metric", "group", "value"])
    return result


@pytest.fixture
def full():
    return run_with(FINAL)


def test_report_is_self_contained_with_plotly_inline_once(full, tmp_path):
    html = build_report(full, tmp_path / "report.html").read_text()
    assert html.count("* plotly.js v") == 1
    # Outside plotly.js itself (whose map styles name tile servers it never loads here), nothing to fetch.
    plotlyjs = re.search(r"<script type=\"text/javascript\">.*?\* plotly\.js v.*?</script>", html, re.S)
    page = html[:plotlyjs.start()] + html[plotlyjs.end():]
    assert not re.search(r"<(script|img|iframe|source)[^>]*\ssrc=|<link|@import|url\(", page, re.I)
    assert not re.search(r"https?://", page), "the page names a URL outside plotly.js"
    assert "trustsim report: synthetic" in html and "Synthetic people only" in html


def test_summary_numbers_are_the_runs(full):
    text = " ".join(summary(full))
    assert "By 22 January 2020, 1.2% of adults (13 million people at national scale) were on a blacklist" in text
    assert "2 million were added over the run and 400,000 taken off" in text  # 4 steps x 500,000 and x 100,000
    assert "18% of sanctioned people were sanctioned wrongly" in text
    assert "Most of them (83%) were sanctioned through their contacts" in text  # 0.15 / 0.18
    assert "The most common measure was exclusion from civil-service and senior jobs (2.7% of adults)" in text
    assert "80,000 flights and 200,000 train tickets were refused" in text
    assert "sanctioned 1.6 times as often as the majority" in text
    # 1 - 0.59; the top decile's value is 0.59 x (0.5 + 17/18)
    top = 0.59 * (0.5 + 17 / 18)
    assert f"People voiced 41% less dissent than they held (the most dissenting tenth: {percent(1 - top)} less)" in text
    assert "lost 20% of their ties; 0.40% of all people had no ties left" in text
    assert "The mean score was 655" in text and "scored under 601" in text
    assert "11% of adults held a reward" in text
    assert "were scored by the system" not in text  # mandatory, everyone scored: nothing to say


def test_summary_follows_the_numbers(full):
    final = dict(FINAL, blacklist_share=0.05, blacklist_count=55_250_000.0)
    text = " ".join(summary(run_with(final)))
    assert "5.0% of adults (55 million people" in text
    fewer = dict(FINAL, disparate_impact_ratio=0.5, expressed_dissent_ratio=1.0)
    text = " ".join(summary(run_with(fewer)))
    assert "less often than the majority (0.5 times" in text and "speech was not chilled" in text


def test_final_values_give_each_row_what_it_is_and_when_it_holds(full, tmp_path):
    rows = final_values(full)
    by_metric: dict[str, list] = {}
    for metric, value, what, when in rows:
        by_metric.setdefault(metric, []).append((value, what, when))
    # a state at the last step, a share of a named whole
    assert by_metric["blacklist_share"] == [("1.20%", "share of adults on the court list or the public blacklist",
                                             "at the last step (2020-01-22)")]
    assert by_metric["wrongful_by_cause.false_match"][0][1].startswith("share of the sanctioned")
    # a count of one step: the last step alone, and added up over the run (4 steps x 500,000)
    assert [(v, w) for v, _, w in by_metric["blacklist_entries"]] == [
        ("500,000", "during the last step (7 days from 2020-01-22)"), ("2,000,000", "over the run (4 steps from 2020-01-01)")]
    assert by_metric["dissident_degree_ratio"][0][2] == "at the last step (2020-01-22), against the start"
    assert all(what for rows in by_metric.values() for _, what, _ in rows)
    html = build_report(full, tmp_path / "r.html").read_text()
    assert "<th>what it is</th><th>when</th>" in html and "over the run (4 steps from 2020-01-01)" in html
    assert headline_lines(full) == [
        "At the last step (2020-01-22), whole population:",
        "  score_mean                      655.4  mean score of the people scored, 350 to 950",
        "  blacklist_share                 1.20%  share of adults on the court list or the public blacklist",
        "  wrongful_sanction_share        18.00%  share of the sanctioned (under any measure or on any list) whose own "
        "true behaviour would not have put them there",
        "  expressed_dissent_ratio          0.59  dissent expressed over dissent held, summed over people (1: nobody "
        "holds back)"]


def test_a_ratio_of_nobody_at_the_end_says_when_it_last_held(full):
    metrics = full.metrics
    last = metrics["step"].max()
    full.metrics = metrics[~((metrics["metric"] == "disparate_impact_ratio") & (metrics["step"] == last))]
    rows = {metric: when for metric, _, _, when in final_values(full)}
    assert rows["disparate_impact_ratio"] == "at the last step it was defined (2020-01-15)"


def test_every_metric_a_run_records_says_what_it_is():
    import trustsim

    scenario = trustsim.load_scenario("national_2020", {"population.people": 2000, "run.years": 0.1})
    metrics = trustsim.simulate(scenario, seed=1).metrics
    assert [m for m in metrics["metric"].unique() if not meaning(m)[0]] == []


def test_percent_and_people_read_plainly():
    assert [percent(x) for x in (0.012, 0.184, 0.00034, 0.5, 0.0)] == ["1.2%", "18%", "0.034%", "50%", "0%"]
    assert [people(x) for x in (13_260_000, 442_000, 1.105e9, 2_500_000, 950)] == [
        "13 million", "442,000", "1.1 billion", "2.5 million", "950"]


def test_every_section_has_a_plot_and_a_caption(full, tmp_path):
    made = sections(MetricsView(full.metrics))
    assert [s.id for s in made] == [s[0] for s in SECTIONS]
    assert all(s.figure is not None and s.skipped is None for s in made)
    html = build_report(full, tmp_path / "r.html").read_text()
    assert html.count('class="plotly-graph-div"') == len(SECTIONS)
    for _, title, caption, _ in SECTIONS:
        assert f"<h2>{title}</h2>" in html.replace("&#39;", "'")
        assert caption in html.replace("&#39;", "'")
    assert "Not in this run" not in html


def test_a_run_without_sanctions_skips_their_sections(tmp_path):
    # sesame_2015: opt-in rewards, nobody sanctioned (so no wrongful share and no disparate impact ratio)
    final = {m: v for m, v in FINAL.items()
             if m not in ("wrongful_sanction_share", "disparate_impact_ratio") and not m.startswith("wrongful_by_cause")}
    final.update({m: 0.0 for m in final if m.startswith(("blacklist", "sanctioned_share", "flight", "rail"))})
    final.update(opt_in_share=0.11, expressed_dissent_ratio=1.0)
    result = run_with(final)
    made = {s.id: s for s in sections(MetricsView(result.metrics))}
    assert {k for k, s in made.items() if s.figure is None} == {"blacklist", "sanctions", "wrongful", "disparate"}
    html = build_report(result, tmp_path / "r.html").read_text()
    assert html.count('class="plotly-graph-div"') == len(SECTIONS) - 4
    assert "Not in this run" in html and "nobody was sanctioned in this run, so nobody wrongly" in html
    text = " ".join(summary(result))
    assert "Nobody was put on a blacklist." in text and "sanctioned wrongly" not in text
    assert "11% of adults were scored by the system" in text


def test_the_group_section_shows_each_dimension_at_the_last_step(full):
    fig = {s.id: s.figure for s in sections(MetricsView(full.metrics))}["groups"]
    menu = fig.layout.updatemenus[0]
    assert [b.label for b in menu.buttons] == list(GROUP_METRICS.values())
    shown = [t for t in fig.data if t.visible is not False]
    assert len(shown) == 5  # region, urban, occupation, minority, dissent decile
    deciles = shown[-1]
    assert list(deciles.x) == ["1 (least)", *map(str, range(2, 10)), "10 (most)"]
    last = full.metrics.query("metric == 'blacklist_share' and step == step.max() and group == 'minority=1'")
    minority = shown[3]
    assert list(minority.x) == ["majority", "minority"] and minority.y[1] == pytest.approx(last["value"].iloc[0])
    # each button shows exactly its own metric's five panels
    for i, button in enumerate(menu.buttons):
        visible = np.array(button.args[0]["visible"])
        assert visible.sum() == 5 and visible[5 * i:5 * i + 5].all()


def test_wrongful_causes_stack_up_to_the_total(full):
    fig = {s.id: s.figure for s in sections(MetricsView(full.metrics))}["wrongful"]
    stacked = [t for t in fig.data if t.stackgroup]
    assert [t.name for t in stacked] == ["through their contacts", "false face-recognition match",
                                         "record linked to the wrong person"]
    total = np.sum([t.y for t in stacked], axis=0)
    line = next(t for t in fig.data if t.name == "all wrongful")
    assert np.allclose(total, line.y)


def test_group_labels_read_plainly():
    assert [group_label(g) for g in ("urban=0", "minority=1", "occupation=civil_servant", "region=Tibet")] == [
        "rural", "minority", "civil servant", "Tibet"]


def test_report_works_with_any_metrics(tmp_path):
    result = make_result()
    result.metrics = pd.DataFrame({"step": [0, 1], "date": pd.to_datetime(["2020-01-01", "2020-01-08"]),
                                   "metric": ["brand_new.metric", "brand_new.metric"], "group": ["all", "all"],
                                   "value": [1.0, 2.0]})
    html = build_report(result, tmp_path / "r.html").read_text()
    assert "brand_new" in html and "none of the headline metrics" in html
    assert 'class="plotly-graph-div"' not in html


def test_report_from_a_results_directory(result, tmp_path):
    store.save([result], tmp_path)
    html = store.rebuild_report(tmp_path).read_text()
    assert "trustsim report: synthetic" in html and "<th>run</th><td>1</td>" in html


def test_report_of_a_real_run_is_a_few_hundred_kilobytes_past_plotly(tmp_path):
    import trustsim
    from plotly.offline import get_plotlyjs

    scenario = trustsim.load_scenario("national_2020", {"population.people": 2000, "run.years": 0.2})
    result = trustsim.simulate(scenario, seed=1)
    html = build_report(result, tmp_path / "r.html").read_text()
    assert len(html) - len(get_plotlyjs()) < 300_000
    assert "were on a blacklist" in html or "Nobody was put on a blacklist" in html


def test_the_chilling_section_shows_the_ratio_by_decile_and_by_stake():
    result = run_with(FINAL)
    last = result.metrics[result.metrics.step == result.metrics.step.max()].iloc[0]
    stakes = {"stake=committed": 1.1, "stake=near_bar": 0.2, "stake=state_job": 0.3, "stake=business": 0.35,
              "stake=other": 0.4}
    extra = pd.DataFrame([(last.step, last.date, "expressed_dissent_ratio", g, v) for g, v in stakes.items()],
                         columns=result.metrics.columns)
    result.metrics = pd.concat([result.metrics, extra], ignore_index=True)
    fig = {s.id: s.figure for s in sections(MetricsView(result.metrics))}["chilling"]
    deciles, by_stake = (t for t in fig.data if t.type == "bar")
    assert list(deciles.x) == ["1 (least)", *map(str, range(2, 10)), "10 (most)"]
    assert list(by_stake.x) == ["committed few", "near a sanction bar", "state job", "business", "none of these"]
    assert list(by_stake.y) == list(stakes.values())
