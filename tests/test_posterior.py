"""trustsim posterior: observations as data, their checks, the figures' model values, and the whole
path from bank to page with a toy model whose posterior is known exactly."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from trustsim.cli import main
from trustsim.errors import UserError
from trustsim.experiments.posterior.observe import model_values
from trustsim.result import METRIC_COLUMNS
from trustsim.scenario.loading import load_scenario, read_observations
from trustsim.scenario.schema.observations import Observations

pytest.importorskip("sbi")  # the extra 'posterior'; CI installs it, so these run there


# --- observations in a scenario ----------------------------------------------------------------

def _scenario_file(tmp_path, figure: str) -> str:
    path = tmp_path / "obs.yaml"
    path.write_text("base: national_2020\nobservations:\n  figures:\n    f: " + figure + "\n")
    return str(path)


GOOD = ("{kind: published, label: x, metric: blacklist_share, date: 2020-06-30, value: 0.01, sd: 0.5, "
        "reason: r, source: s}")


@pytest.mark.parametrize("figure, words", [
    (GOOD.replace("blacklist_share", "blacklist_shar"), "unknown metric 'blacklist_shar'"),
    (GOOD.replace("2020-06-30", "2023-01-31"), "2023-01-31 is outside the run; allowed: 2020-01-01 .. 2020-12-30"),
    (GOOD.replace("sd: 0.5", "sd: 0"), "greater than 0"),
    (GOOD.replace("value: 0.01", "value: -1"), "on a log scale must be > 0"),
    (GOOD.replace("reason: r", "reason: r, factor: reach"), "no nuisance range named 'reach'"),
    (GOOD.replace("published", "rumour"), "published"),
])
def test_validate_refuses_a_figure_no_run_can_reproduce(tmp_path, capsys, figure, words):
    with pytest.raises(SystemExit) as stop:
        main(["validate", _scenario_file(tmp_path, figure)])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and err.startswith("trustsim: error: "), err
    assert words in err and "observations" in err, err


def test_validate_counts_the_figures_and_premises(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["validate", "national_2020"])
    assert stop.value.code == 0
    assert "2 published figures and 1 design premises" in capsys.readouterr().out


def test_a_shorter_run_of_a_preset_with_figures_still_loads():
    s = load_scenario("judicial_lists", {"run.years": 1})
    assert s.run.steps == 13 and len(s.observations.figures) == 14


def test_presets_keep_published_figures_and_premises_apart():
    national = load_scenario("national_2020").observations
    assert set(national.of_kind("premise")) == {"listed_share"}
    assert set(national.of_kind("published")) == {"flights_blocked_2020", "expressed_dissent"}
    judicial = load_scenario("judicial_lists").observations
    assert not judicial.of_kind("premise") and len(judicial.of_kind("published")) == 14


# --- a run's value of a figure -------------------------------------------------------------------

def _traj(values_by_metric: dict[str, list[float]]) -> pd.DataFrame:
    rows = [(0, step, metric, v) for metric, vs in values_by_metric.items() for step, v in enumerate(vs)]
    return pd.DataFrame(rows, columns=["sample", "step", "metric", "value"])


def test_model_values_follow_each_reduction():
    start = dt.date(2020, 1, 1)  # 4 steps of 10 days: they end on days 10, 20, 30 and 40
    traj = _traj({"blacklist_entries": [10, 20, 30, 40], "blacklist_exits": [1, 2, 3, 4],
                  "blacklist_share": [0.1, 0.2, 0.3, 0.4]})
    base = {"kind": "published", "label": "x", "value": 1, "sd": 1, "reason": "r", "source": "s"}
    obs = Observations(figures={
        "total": {**base, "metric": "blacklist_entries", "reduce": "total", "date": start + dt.timedelta(days=25)},
        "window": {**base, "metric": "blacklist_entries", "reduce": "total", "date": start + dt.timedelta(days=40),
                   "since": start + dt.timedelta(days=20)},
        "at": {**base, "metric": "blacklist_share", "date": start + dt.timedelta(days=15)},
        "mean": {**base, "metric": "blacklist_share", "reduce": "mean", "date": start + dt.timedelta(days=40),
                 "since": start + dt.timedelta(days=20)},
        "share": {**base, "metric": "blacklist_exits", "over": "blacklist_entries", "reduce": "total",
                  "date": start + dt.timedelta(days=40)},
    })
    got = model_values(traj, obs, start, 10).loc[0]
    assert got["total"] == pytest.approx(10 + 20 + 15)  # half of the third step's 30
    assert got["window"] == pytest.approx(30 + 40)
    assert got["at"] == pytest.approx(0.15)
    assert got["mean"] == pytest.approx(0.35)  # the steps ending on days 30 and 40
    assert got["share"] == pytest.approx(0.1)


def test_an_observation_file_with_a_mistake_is_one_line(tmp_path):
    path = tmp_path / "new.yaml"
    path.write_text("figures:\n  f: {kind: published, label: x, metric: blacklist_share, date: 2020-06-30, "
                    "value: 0.01, sd: -1, reason: r, source: s}\n")
    with pytest.raises(UserError, match=r"^--observations .*new.yaml: figures.f.sd: Input should be greater"):
        read_observations(path)


def test_posterior_without_the_extra_names_it_and_writes_nothing(tmp_path, monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch.") or name == "sbi" or name.startswith("sbi."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    out = tmp_path / "post"
    with pytest.raises(SystemExit) as stop:
        main(["posterior", "national_2020", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1
    assert "pip install 'trustsim[posterior]'" in err and not out.exists()


def test_a_bad_observation_file_stops_before_any_run(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("figures:\n  f: {kind: published, label: x, metric: nope, date: 2020-06-30, value: 1, "
                   "sd: 1, reason: r, source: s}\n")
    out = tmp_path / "post"
    with pytest.raises(SystemExit) as stop:
        main(["posterior", "national_2020", "--observations", str(bad), "--out", str(out), "--quiet"])
    assert stop.value.code == 2 and "unknown metric 'nope'" in capsys.readouterr().err
    assert not out.exists()


# --- the whole path, with a toy model whose posterior is known --------------------------------

TOY_KEYS = ("scoring.association.weight", "scoring.spread", "surveillance.online_coverage", "sanctions.appeals.rate")
MODEL_SD = 0.02  # the toy's own noise, from the run's seed
OBS_SD = 0.05
TOY_OBSERVED = (0.9, 0.1, 0.4)  # u0 + u1, u0 - u1, u2: exact posterior means 0.5, 0.4, 0.4


def _unit(scenario) -> np.ndarray:
    ranges = load_scenario("national_2020").uncertainty
    values = [scenario.scoring.association.weight, scenario.scoring.spread, scenario.surveillance.online_coverage,
              scenario.sanctions.appeals.rate]
    return np.array([ranges[k].to_unit(v) for k, v in zip(TOY_KEYS, values)], dtype=float)


def linear_toy(scenario, seed, metrics):
    """Three outputs linear in the first three parameters (the fourth acts on nothing), every step."""
    u = _unit(scenario)
    noise = np.random.default_rng(seed).normal(0, MODEL_SD, 3)
    y = np.array([u[0] + u[1], u[0] - u[1], u[2]]) + noise
    start = pd.Timestamp(scenario.run.start)
    rows = [(step, start + pd.Timedelta(days=7 * step), metric, "all", float(v))
            for step in range(scenario.run.steps)
            for metric, v in zip(("score_mean", "score_p50", "score_p90"), y)]
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS))


def _toy_observations(tmp_path, observed=TOY_OBSERVED):
    path = tmp_path / f"toy-{'-'.join(map(str, observed))}.yaml"
    figures = {f"y{j}": {"kind": "published", "label": f"output {j}", "metric": m, "date": "2020-12-30",
                         "value": v, "sd": OBS_SD, "scale": "linear", "reason": "toy", "source": "toy"}
               for j, (m, v) in enumerate(zip(("score_mean", "score_p50", "score_p90"), observed))}
    path.write_text(json.dumps({"figures": figures}))
    return path


@pytest.fixture(scope="module")
def inprocess():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def toy(tmp_path_factory, inprocess):
    from trustsim.experiments.posterior import posterior

    tmp = tmp_path_factory.mktemp("toy")
    done = posterior("national_2020", 400, only=TOY_KEYS, observations=_toy_observations(tmp), draws=40,
                     members=2, scheduler=inprocess, out=tmp / "out", evaluate=linear_toy, people=1000)
    return done, tmp


def test_toy_posterior_matches_the_exact_one(toy):
    done, _ = toy
    total = np.hypot(OBS_SD, MODEL_SD)
    exact_mean = {TOY_KEYS[0]: 0.5, TOY_KEYS[1]: 0.4, TOY_KEYS[2]: 0.4}
    exact_sd = {TOY_KEYS[0]: total / np.sqrt(2), TOY_KEYS[1]: total / np.sqrt(2), TOY_KEYS[2]: total}
    params = done.parameters.set_index("parameter")
    ranges = load_scenario("national_2020").uncertainty
    for key, mean in exact_mean.items():
        r = ranges[key]
        lo, mid, hi = (r.to_unit(params.loc[key, c]) for c in ("posterior_q05", "posterior_q50", "posterior_q95"))
        assert mid == pytest.approx(mean, abs=0.05), key
        assert (hi - lo) == pytest.approx(2 * 1.645 * exact_sd[key], rel=0.4), key
        # the weighted bank rests on a few effective runs at this bank size: a looser bar
        assert ranges[key].to_unit(params.loc[key, "weighted_q50"]) == pytest.approx(mean, abs=0.1), key
    assert params.loc[TOY_KEYS[0], "contraction"] > 0.9
    # acts on nothing: the record says nothing (a small neural estimate on 360 runs narrows it a little by chance)
    assert abs(params.loc[TOY_KEYS[3], "contraction"]) < 0.3
    left_open = params.index[params["contraction"] < 0.1]
    assert len(done.open_assumptions) == len(left_open)
    assert all(any(key in line for line in done.open_assumptions) for key in left_open)


def test_toy_posterior_is_stored_and_written(toy):
    done, tmp = toy
    out = tmp / "out"
    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    try:
        bands = con.execute("SELECT kind, metric, grp, step, date, q05, q50, q95 FROM predictive "
                            "WHERE posterior_id = ?", [done.posterior_id]).df()
        summary = con.execute("SELECT estimator_checksum, versions FROM posterior_summary").df()
        draws = con.execute("SELECT estimator, count(*) AS n FROM posterior_draws GROUP BY 1").df()
    finally:
        con.close()
    assert set(bands["kind"]) == {"prior", "posterior", "weighted"}
    prior = bands[(bands.kind == "prior") & (bands.metric == "score_p90")]
    post = bands[(bands.kind == "posterior") & (bands.metric == "score_p90")]
    assert (post["q95"] - post["q05"]).mean() < 0.5 * (prior["q95"] - prior["q05"]).mean()
    assert len(summary) == 1 and len(summary["estimator_checksum"][0]) == 64
    assert "torch" in json.loads(summary["versions"][0])
    assert set(draws["estimator"]) == {"npe", "weighted"}
    page = (out / "posterior.html").read_text()
    assert "What the record leaves open" in page and "Published figures" in page
    assert json.loads((out / "posterior.json").read_text())["national_2020"]["posterior_id"] == done.posterior_id


def test_the_same_bank_conditions_on_new_figures_without_new_runs(toy, inprocess):
    from trustsim.experiments.posterior import posterior

    done, tmp = toy
    again = posterior("national_2020", 400, only=TOY_KEYS, observations=_toy_observations(tmp, (1.1, 0.1, 0.4)),
                      draws=40, members=2, scheduler=inprocess, out=tmp / "out", evaluate=linear_toy, people=1000)
    assert again.bank_counts.skipped == 400 and again.bank_counts.done == 0
    assert again.bank_id == done.bank_id and again.posterior_id != done.posterior_id
    moved = again.parameters.set_index("parameter").loc[TOY_KEYS[0], "posterior_q50"]
    assert moved > done.parameters.set_index("parameter").loc[TOY_KEYS[0], "posterior_q50"]


def test_the_same_command_gives_the_same_posterior(toy, inprocess):
    from trustsim.experiments.posterior import posterior

    done, tmp = toy
    same = posterior("national_2020", 400, only=TOY_KEYS, observations=_toy_observations(tmp), draws=40, members=2,
                     scheduler=inprocess, out=tmp / "out", evaluate=linear_toy, people=1000)
    assert same.posterior_id == done.posterior_id
    pd.testing.assert_frame_equal(same.parameters, done.parameters)
    pd.testing.assert_frame_equal(same.headline, done.headline)


# --- other pages cite the posterior ------------------------------------------------------------

def test_the_run_report_and_the_explorer_cite_a_posterior_before_a_prior(tmp_path):
    from conftest import make_result

    from trustsim.experiments.ensembles.pages import record_intervals
    from trustsim.explore.app import cited_intervals
    from trustsim.report.html import POSTERIOR_FILE, intervals_of
    from trustsim.report.summary import summary

    result = make_result()
    result.metrics.loc[result.metrics["metric"] == "score_mean", "metric"] = "wrongful_sanction_share"
    record_intervals(tmp_path, "national_2020", {"metrics": {"wrongful_sanction_share":
                                                             {"median": 0.5, "low": 0.13, "high": 0.94}}})
    assert intervals_of(tmp_path, "national_2020")["wrongful_sanction_share"]["basis"] == "prior"
    assert "not yet conditioned on the public record" in cited_intervals(tmp_path, "national_2020")
    record_intervals(tmp_path, "national_2020", {"metrics": {"wrongful_sanction_share":
                                                             {"median": 0.3, "low": 0.28, "high": 0.45}}},
                     POSTERIOR_FILE)
    cited = intervals_of(tmp_path, "national_2020")
    assert cited["wrongful_sanction_share"]["basis"] == "posterior"
    sentences = summary(result, cited)
    assert any("(90% posterior interval 28-45%, given the public record" in s for s in sentences), sentences
    line = cited_intervals(tmp_path, "national_2020")
    assert "a posterior" in line and "sanctioned wrongly 28.00% to 45.00%" in line, line
    assert cited_intervals(tmp_path, "judicial_lists") is None


def test_one_and_two_workers_give_the_same_posterior(tmp_path):
    import sys

    import cloudpickle

    from trustsim.experiments.posterior import posterior

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # worker processes get the toy by value
    observations = _toy_observations(tmp_path)
    done = {n: posterior("national_2020", 120, only=TOY_KEYS, observations=observations, draws=10, members=1,
                         workers=n, out=tmp_path / f"w{n}", evaluate=linear_toy, people=1000) for n in (1, 2)}
    assert done[1].posterior_id == done[2].posterior_id
    pd.testing.assert_frame_equal(done[1].parameters, done[2].parameters)
    pd.testing.assert_frame_equal(done[1].fit, done[2].fit)
    assert done[1].diagnostics == done[2].diagnostics | {"train_seconds": done[1].diagnostics["train_seconds"]}


def test_a_tipping_regime_is_named_only_where_many_end_up_listed():
    from trustsim.experiments.posterior.bank import Bank
    from trustsim.experiments.posterior.summary import tipping_box

    rng = np.random.default_rng(3)
    values = pd.DataFrame({"a": rng.random(600), "b": rng.random(600)})
    tipped = (values["a"] > 0.7).to_numpy()

    def bank_of(final):
        return Bank(np.arange(600), values.to_numpy(), pd.DataFrame(), pd.DataFrame({"blacklist_share": final}),
                    pd.DataFrame(), 0)

    many = np.where(tipped, rng.uniform(0.5, 0.9, 600), rng.uniform(0.01, 0.03, 600))
    found = tipping_box(bank_of(many), values, values, np.full(600, 1 / 600))
    assert found["box"] is not None and set(found["box"].limits) == {"a"}
    # a split among small shares (nobody listed in some runs, about 1% in the rest) is no tipping regime
    few = np.where(tipped, rng.uniform(0.005, 0.02, 600), 0.0)
    assert tipping_box(bank_of(few), values, values, np.full(600, 1 / 600))["box"] is None
