"""Comparison of scenarios: the same seeds for each, paired differences with a t interval, CRN, the command line."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import trustsim
from trustsim import cli
from trustsim.errors import UserError
from trustsim.experiments.compare import Comparison, compare, headline_metrics, paired_differences
from trustsim.report.compare import build_compare, format_difference

SMALL = {"people": 1500, "years": 0.1}  # 5 weekly steps


def finals(values: dict[str, list[float]], metric: str = "blacklist_share") -> pd.DataFrame:
    return pd.DataFrame([(s, seed, metric, v) for s, vs in values.items() for seed, v in enumerate(vs)],
                        columns=["scenario", "seed", "metric", "value"])


def test_paired_difference_is_the_mean_with_a_t_interval():
    d = paired_differences(finals({"A": [1.0, 2.0, 3.0], "B": [2.0, 4.0, 6.5]}), "A")
    assert len(d) == 1
    row = d.iloc[0]
    diffs = np.array([1.0, 2.0, 3.5])
    half = stats.t.ppf(0.975, 2) * diffs.std(ddof=1) / math.sqrt(3)
    assert row["scenario"] == "B" and row["baseline"] == "A" and row["seeds"] == 3
    assert row["difference"] == pytest.approx(diffs.mean())
    assert row["half_width"] == pytest.approx(half) and half == pytest.approx(3.1258, abs=1e-4)
    assert (row["low"], row["high"]) == pytest.approx((diffs.mean() - half, diffs.mean() + half))
    assert (row["baseline_mean"], row["scenario_mean"]) == pytest.approx((2.0, 4.1666667))


def test_pairing_is_by_seed_not_by_order():
    # Unpaired, these differ by noise; paired by seed, B is A plus exactly 1.
    d = paired_differences(finals({"A": [5.0, 1.0, 9.0], "B": [6.0, 2.0, 10.0]}), "A").iloc[0]
    assert d["difference"] == 1.0 and d["half_width"] == 0.0


def test_missing_values_and_single_seeds():
    table = finals({"A": [1.0, 2.0, np.nan], "B": [2.0, 2.5, 7.0], "C": [np.nan, np.nan, np.nan]})
    d = paired_differences(table, "A").set_index("scenario")
    assert d.loc["B", "seeds"] == 2 and d.loc["B", "difference"] == pytest.approx(0.75)
    assert d.loc["C", "seeds"] == 0 and math.isnan(d.loc["C", "difference"])
    one = paired_differences(finals({"A": [1.0], "B": [3.0]}), "A").iloc[0]
    assert one["difference"] == 2.0 and math.isnan(one["half_width"])


def test_headline_metrics_expand_families_in_order():
    recorded = ["crime_rate", "sanctioned_share.job_ban", "score_mean", "wrongful_by_cause.false_match",
                "sanctioned_share.flight_ban", "isolated_share", "wrongful_by_cause.association"]
    assert headline_metrics(recorded) == [
        "score_mean", "wrongful_by_cause.association", "wrongful_by_cause.false_match", "isolated_share",
        "sanctioned_share.flight_ban", "sanctioned_share.job_ban"]


def test_differences_read_in_points_for_shares():
    assert format_difference("blacklist_share", -0.0123) == "-1.23 pp"
    assert format_difference("wrongful_by_cause.association", 0.05) == "+5.00 pp"
    assert format_difference("score_mean", 12.345) == "+12.35"
    assert format_difference("score_mean", float("nan")) == "n/a"


@pytest.fixture(scope="module")
def same_twice() -> Comparison:
    return compare(["national_2020", "national_2020"], seeds=2, **SMALL)


def test_identical_scenarios_differ_by_exactly_zero(same_twice):
    assert same_twice.labels == ["national_2020", "national_2020 (2)"]
    d = same_twice.differences()
    assert len(d) > 5 and (d["seeds"] == 2).all()
    recorded = d.dropna(subset=["difference"])
    assert len(recorded) > 5
    assert (recorded["difference"] == 0.0).all() and (recorded["half_width"] == 0.0).all()
    for a, b in zip(*same_twice.runs.values()):
        pd.testing.assert_frame_equal(a.metrics, b.metrics)  # common random numbers: bit for bit


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> tuple[Comparison, object]:
    out = tmp_path_factory.mktemp("cmp") / "out"
    return compare(["national_2020", "financial_only"], seeds=2, out=out, **SMALL), out


def test_each_scenario_runs_the_same_seeds_and_all_runs_are_saved(two):
    comparison, out = two
    assert comparison.seeds == [0, 1]
    assert {label: [r.seed for r in runs] for label, runs in comparison.runs.items()} == {
        "national_2020": [0, 1], "financial_only": [0, 1]}
    runs = trustsim.list_runs(out)
    assert list(zip(runs["scenario"], runs["seed"])) == [
        ("national_2020", 0), ("national_2020", 1), ("financial_only", 0), ("financial_only", 1)]
    assert (runs["people"] == SMALL["people"]).all()
    # the saved runs read back with the values the comparison computed from
    again = trustsim.open_results(out, run_id=3)
    assert again.scenario.name == "financial_only" and again.seed == 0
    assert again.final() == pytest.approx(comparison.runs["financial_only"][0].final())


def test_differences_are_the_runs_final_values(two):
    comparison, _ = two
    d = comparison.differences().set_index("metric")
    a = [r.final()["score_mean"] for r in comparison.runs["national_2020"]]
    b = [r.final()["score_mean"] for r in comparison.runs["financial_only"]]
    assert d.loc["score_mean", "difference"] == pytest.approx(np.mean(np.subtract(b, a)))
    assert d.loc["reward_share", "scenario_mean"] == pytest.approx(
        np.mean([r.final()["reward_share"] for r in comparison.runs["financial_only"]]))
    assert list(d.index[:2]) == ["score_mean", "blacklist_share"]


def test_compare_page(two):
    comparison, out = two
    html = (out / "compare.html").read_text()
    assert html.count("* plotly.js v") == 1
    assert "trustsim comparison: national_2020 vs financial_only" in html
    assert "financial_only minus national_2020" in html and "Student's t" in html
    assert "seeds 0, 1" in html and "common random numbers" in html
    assert html.count('class="plotly-graph-div"') == 3  # headline, wrongful by cause, sanctions by measure
    score = comparison.differences().set_index("metric").loc["score_mean", "difference"]
    assert format_difference("score_mean", score) in html


def test_scenario_objects_and_overrides(same_twice, tmp_path):
    scenario = trustsim.load_scenario("financial_only", {"population.people": 1000, "run.years": 0.05})
    done = compare([scenario, "financial_only"], seeds=1, people=1000, years=0.05,
                   overrides={"surveillance.cameras": 1e8})
    assert [r.scenario.surveillance.cameras for r in done.results] == [1e8, 1e8]
    build_compare(done, tmp_path / "c.html")
    assert "a single seed gives no interval" in (tmp_path / "c.html").read_text()


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_seeds_are_a_user_error(bad):
    with pytest.raises(UserError, match="seeds"):
        compare(["national_2020", "financial_only"], seeds=bad)


def test_fewer_than_two_scenarios_is_a_user_error():
    with pytest.raises(UserError, match="two or more"):
        compare(["national_2020"])


# --- command line ------------------------------------------------------------------------------


def invoke(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        cli.main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


BAD = {
    "unknown scenario": (["national_2020", "national_2021"], ["national_2021", "did you mean national_2020?"]),
    "seeds 0": (["national_2020", "financial_only", "--seeds", "0"], ["--seeds", "greater than or equal to 1"]),
    "seeds not a number": (["national_2020", "financial_only", "--seeds", "many"], ["--seeds"]),
    "one scenario": (["national_2020"], ["two or more"]),
    "no scenario": ([], ["scenarios"]),
    "bad --set": (["national_2020", "financial_only", "--set", "scoring.wieghts.political=2"], ["did you mean"]),
    "people 0": (["national_2020", "financial_only", "--people", "0"], ["population.people = 0"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_cli_mistakes_are_one_line_and_exit_2(case, capsys, tmp_path):
    args, fragments = BAD[case]
    out = tmp_path / "out"
    code, stdout, err = invoke(capsys, "compare", *args, "--out", str(out))
    assert code == 2 and stdout == ""
    assert err.startswith("trustsim: error: ") and err.count("\n") == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err
    assert not out.exists()


def test_cli_out_is_a_file(capsys, tmp_path):
    (tmp_path / "f").write_text("")
    code, _, err = invoke(capsys, "compare", "national_2020", "financial_only", "--out", str(tmp_path / "f"))
    assert code == 2 and "is a file" in err


def test_cli_compare_writes_both_files_and_a_table(capsys, tmp_path):
    code, out, err = invoke(capsys, "compare", "sesame_2015", "financial_only", "--seeds", "2",
                            "--people", "1000", "--years", "0.05", "--out", str(tmp_path))
    assert code == 0, err
    assert "financial_only minus sesame_2015, 2 paired seeds" in out
    assert f"wrote {tmp_path / 'results.duckdb'} (runs 1-4) and {tmp_path / 'compare.html'}" in out
    assert {p.name for p in tmp_path.iterdir()} >= {"results.duckdb", "compare.html"}
    assert len(trustsim.list_runs(tmp_path)) == 4
