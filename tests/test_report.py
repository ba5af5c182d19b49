"""The HTML report: self-contained, summarised from the run, one plot per metric family."""

from __future__ import annotations

import pandas as pd

from conftest import make_result
from trustsim.report import build_report
from trustsim.report.html import summary
from trustsim.report.plots import figures


def test_report_is_self_contained_with_plotly_inline_once(result, tmp_path):
    html = build_report(result, tmp_path / "report.html").read_text()
    assert html.count("* plotly.js v") == 1
    assert "<script src=" not in html and "<link" not in html
    assert "trustsim report: synthetic" in html and "Synthetic people only" in html


def test_one_line_plot_per_family_and_one_group_plot_per_grouped_metric(result):
    titles = [title for title, _ in figures(result.metrics)]
    families = ["score_mean", "score_p10", "blacklist_share", "sanctioned_share", "wrongful_by_cause"]
    assert [t for t in titles if "by group" not in t] == families
    assert sum("by group" in t for t in titles) == result.metrics["metric"].nunique()


def test_family_members_share_a_plot(result):
    fig = dict(figures(result.metrics))["sanctioned_share"]
    assert sorted(trace.name for trace in fig.data) == ["flight_ban", "rail_ban"]


def test_group_plot_shows_the_last_step_by_dimension(result):
    fig = dict(figures(result.metrics))["blacklist_share by group"]
    assert [trace.name for trace in fig.data] == ["minority", "region"]
    last = result.metrics.query("metric == 'blacklist_share' and step == step.max() and group == 'minority=1'")
    assert list(fig.data[0].x) == ["minority=0", "minority=1"]
    assert fig.data[0].y[1] == last["value"].iloc[0]


def test_summary_uses_the_runs_numbers(result):
    final = result.final()
    sentences = " ".join(summary(result))
    assert f"{final['score_mean']:.4g}" in sentences
    assert f"{100 * final['blacklist_share']:.2f}%" in sentences


def test_report_works_with_any_metrics(tmp_path):
    result = make_result()
    result.metrics = pd.DataFrame({"step": [0, 1], "date": pd.to_datetime(["2020-01-01", "2020-01-08"]),
                                   "metric": ["brand_new.metric", "brand_new.metric"], "group": ["all", "all"],
                                   "value": [1.0, 2.0]})
    html = build_report(result, tmp_path / "r.html").read_text()
    assert "brand_new" in html and "none of the headline metrics" in html


def test_report_from_a_results_directory(result, tmp_path):
    result.save(tmp_path)
    html = build_report(tmp_path, tmp_path / "again.html").read_text()
    assert "trustsim report: synthetic" in html and "<th>run</th><td>1</td>" in html
