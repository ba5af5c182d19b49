"""Ensembles on Dask: plausible ranges, the three analyses, determinism across clusters, faults, bad input.

Runs are tiny (a few hundred people, a few weeks): what is tested is the wiring (sampling, running,
storing, analysing), which does not depend on size. The Ishigami test swaps the model for a known
function through the same path, so the analysis is checked against published indices.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from trustsim.cli import main, warn_lost_workers
from trustsim.errors import UserError
from trustsim.experiments.ensembles import ensemble, sensitivity, uncertainty
from trustsim.experiments.ensembles.analysis import ranking
from trustsim.report.summary import summary
from trustsim.result import METRIC_COLUMNS
from trustsim.scenario.loading import load_scenario
from trustsim.scenario.schema.ranges import PlausibleRange
from trustsim.scenario.uncertainty import parse_vary

TINY = {"people": 300, "years": 0.08}  # 4 weekly steps

# The shared command of the determinism and fault tests: 2 points x 2 seeds of national_2020.
DETERMINISM = dict(samples=2, seeds_per_sample=2, seed=3,
                   only=["scoring.association.weight", "surveillance.face_recognition.group_multiplier.minority"],
                   **TINY)


def stored(out: Path) -> pd.DataFrame:
    """Every stored run of the directory, without run ids or timestamps, in a fixed order."""
    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    try:
        return con.execute(
            "SELECT e.ensemble_id, e.kind, e.method, e.sample, e.seed, e.parameters, r.status, r.message, "
            "m.step, m.metric, m.grp, m.value FROM ensemble_runs e JOIN runs r USING (run_id) "
            "LEFT JOIN metrics m USING (run_id) ORDER BY e.sample, e.seed, m.metric, m.step").df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def inprocess():
    """A one-worker cluster inside the test process: a model defined in this file can run on it."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def external_cluster():
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1; yields (address, workers)."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    scheduler = subprocess.Popen(["dask", "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                  "--no-dashboard"], **quiet)
    workers = [subprocess.Popen(["dask", "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"], **quiet)
               for _ in range(2)]
    try:
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address, workers
    finally:
        for process in (*workers, scheduler):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


# --- plausible ranges -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["national_2020", "financial_only", "sesame_2015", "judicial_lists"])
def test_every_preset_ships_reasoned_ranges(name):
    scenario = load_scenario(name)
    assert len(scenario.uncertainty) >= 8
    assert all(r.reason and r.lo < r.hi for r in scenario.uncertainty.values())


def test_nist_group_differential_is_a_range():
    ranges = load_scenario("national_2020").uncertainty
    assert ranges["surveillance.face_recognition.group_multiplier.minority"].range == (10, 100)


def test_a_file_range_outside_the_allowed_range_is_one_line(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("base: financial_only\nuncertainty:\n  scoring.association.weight: {range: [0.1, 1.5], reason: x}\n")
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(path)])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and len(err.splitlines()) == 1 and "1.5 is outside the allowed range" in err


def test_vary_parses_and_orders():
    assert parse_vary(["a.b=0:0.5"]) == {"a.b": PlausibleRange(range=(0, 0.5), reason="--vary on the command line")}


BAD = [
    (["sensitivity", "financial_only", "--vary", "responses.nope=0:1"], "unknown key"),
    (["sensitivity", "financial_only", "--vary", "responses.distancing.strength=0.5:0.5"], "LO (0.5) >= HI (0.5)"),
    (["sensitivity", "financial_only", "--vary", "responses.distancing.strength=0:2"], "outside the allowed range"),
    (["uncertainty", "financial_only", "--samples", "0"], "--samples"),
    (["sensitivity", "financial_only", "--method", "fast"], "allowed: morris, sobol"),
    (["ensemble", "financial_only", "--scheduler", "tcp://127.0.0.1:9"], "cannot connect"),
]


@pytest.mark.parametrize(("args", "says"), BAD, ids=["key", "lo>=hi", "outside", "samples0", "method", "scheduler"])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, args, says):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main([*args, "--out", str(out), "--people", "100", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2
    assert len(err.splitlines()) == 1 and err.startswith("trustsim: error:") and says in err
    assert not out.exists()


# --- the analyses ---------------------------------------------------------------------------------


def test_inert_parameter_has_exactly_zero_morris_effects(tmp_path, inprocess):
    """financial_only costs no points for association, so distancing never acts: with common random
    numbers its elementary effects are exactly 0; the missed-payment rate, which it reads, is not."""
    done = sensitivity("financial_only", "morris", 2, vary=parse_vary(["responses.distancing.strength=0:0.5"]),
                       only=["responses.distancing.strength", "behaviour.missed_payment_rate"],
                       metrics=["score_mean", "score_p10", "reward_share", "isolated_share"],
                       scheduler=inprocess, out=tmp_path, **TINY)
    table = done.summary
    inert = table[table["parameter"] == "responses.distancing.strength"]
    assert set(inert["metric"]) == {"score_mean", "score_p10", "reward_share", "isolated_share"}
    assert (inert["value"] == 0).all()
    control = table[(table["parameter"] == "behaviour.missed_payment_rate") & (table["statistic"] == "mu_star")]
    assert control.set_index("metric").loc["score_mean", "value"] > 0
    # the sensitivity table in the store holds the same indices, once
    con = duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True)
    rows = con.execute("SELECT count(*) FROM sensitivity WHERE ensemble_id = ?", [done.ensemble_id]).fetchone()[0]
    con.close()
    assert rows == len(table) == 4 * 2 * 2
    assert (tmp_path / "sensitivity.html").stat().st_size > 100_000


ISHIGAMI_KEYS = ["scoring.points.missed_payment", "scoring.points.crime", "scoring.points.critical_post"]
# Published indices of the Ishigami function with a = 7, b = 0.1 (Saltelli et al. 2008, Global Sensitivity Analysis).
ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]


def ishigami(scenario, seed, metrics):
    """The Ishigami function of three scenario parameters, as a one-step metrics table."""
    p = scenario.scoring.points
    x1, x2, x3 = p.missed_payment, p.crime, p.critical_post
    y = math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3 ** 4 * math.sin(x1)
    return pd.DataFrame([(0, pd.Timestamp(scenario.run.start), "ishigami", "all", y)], columns=list(METRIC_COLUMNS))


def test_sobol_of_ishigami_matches_the_published_indices(tmp_path, inprocess):
    vary = parse_vary([f"{k}={-math.pi}:{math.pi}" for k in ISHIGAMI_KEYS])
    done = sensitivity("financial_only", "sobol", 64, vary=vary, only=ISHIGAMI_KEYS, metrics=["ishigami"],
                       scheduler=inprocess, out=tmp_path, evaluate=ishigami, people=100)
    assert done.missing == 0
    table = done.summary.set_index(["statistic", "parameter"])
    for statistic, published in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        for key, expected in zip(ISHIGAMI_KEYS, published):
            value, conf = table.loc[(statistic, key), ["value", "conf"]]
            assert abs(value - expected) <= conf, (statistic, key, value, conf, expected)


def straight_and_flip(scenario, seed, metrics):
    """score_mean rises in a straight line by 40 over the crime points' range (-3 to 3); blacklist_share
    flips from 0 to 1 half way along the critical post's (-3 to 3)."""
    p = scenario.scoring.points
    start = pd.Timestamp(scenario.run.start)
    return pd.DataFrame([(0, start, "score_mean", "all", 600 + 40 * (p.crime + 3) / 6),
                         (0, start, "blacklist_share", "all", float(p.critical_post > 0))], columns=list(METRIC_COLUMNS))


def test_morris_mu_star_is_the_change_per_whole_plausible_range(tmp_path, inprocess):
    keys = ["scoring.points.crime", "scoring.points.critical_post"]
    done = sensitivity("financial_only", "morris", 4, vary=parse_vary([f"{k}=-3:3" for k in keys]), only=keys,
                       metrics=["score_mean", "blacklist_share"], scheduler=inprocess, out=tmp_path,
                       evaluate=straight_and_flip, people=100)
    table = done.summary
    mu = table[table["statistic"] == "mu_star"].set_index(["metric", "parameter"])["value"]
    # a straight line: mu* is the change from the bottom to the top of the range
    assert mu["score_mean", "scoring.points.crime"] == pytest.approx(40)
    assert mu["score_mean", "scoring.points.critical_post"] == 0
    # a share that flips inside every step (of 2/3 of the range) gets 1 / (2/3): more than any change it can make
    assert mu["blacklist_share", "scoring.points.critical_post"] == pytest.approx(1.5)
    page = (tmp_path / "sensitivity.html").read_text(encoding="utf-8")
    assert "the change from the bottom to the top of the range" in page and "a share&#39;s mu* above 1" in page
    # both axes of both rankings say what they show
    assert page.count('"title":{"text":"change per whole plausible range"}') == 1
    assert page.count('"title":{"text":"change per whole plausible range (0.1 = 10 points)"}') == 1
    assert page.count('"title":{"text":"assumption"}') == 2
    assert "largest first; mu* and sigma: its change per whole plausible range." in page


def test_association_drives_the_association_only_penalty(tmp_path, inprocess):
    # The threshold is raised so that low-score contacts appear within a few weeks at this size.
    done = sensitivity("national_2020", "morris", 2, overrides={"scoring.association.threshold": 680},
                       only=["scoring.association.weight", "scoring.association.contact_penalty",
                             "surveillance.online_coverage", "sanctions.appeals.rate"],
                       metrics=["association_only_penalty_share"], scheduler=inprocess, out=tmp_path,
                       people=400, years=0.15)
    ranked = ranking(done.summary, "association_only_penalty_share")
    top = ranked["parameter"].iloc[0]
    assert top in {"scoring.association.weight", "scoring.association.contact_penalty"}, ranked


def test_failed_runs_are_stored_with_their_message_and_the_rest_go_on(tmp_path, inprocess):
    def flaky(scenario, seed, metrics):
        if seed == 1:
            raise RuntimeError("the model fell over")
        return ishigami(scenario, seed, metrics)

    done = ensemble("financial_only", 3, metrics=["ishigami"], scheduler=inprocess, out=tmp_path,
                    evaluate=flaky, people=100)
    assert list(done.runs["status"]) == ["complete", "failed", "complete"]
    assert done.runs["message"].iloc[1] == "RuntimeError: the model fell over"
    assert done.missing == 1
    assert "1 of 3 runs are missing" in (tmp_path / "ensemble.html").read_text(encoding="utf-8")
    again = ensemble("financial_only", 3, metrics=["ishigami"], scheduler=inprocess, out=tmp_path,
                     evaluate=flaky, people=100)
    assert (again.counts.skipped, again.counts.done) == (3, 0)


# --- determinism and faults -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The determinism command's tables with one local worker, and its ensemble id."""
    out = tmp_path_factory.mktemp("one-worker")
    done = uncertainty("national_2020", workers=1, out=out, **DETERMINISM)
    assert done.missing == 0 and done.counts.done == 4
    return stored(out), done.ensemble_id


def test_same_tables_with_two_workers_and_a_rerun(tmp_path, reference):
    done = uncertainty("national_2020", workers=2, out=tmp_path, **DETERMINISM)
    assert done.ensemble_id == reference[1]
    assert (done.counts.workers_lost, done.counts.redone) == (0, 0)
    pd.testing.assert_frame_equal(stored(tmp_path), reference[0])
    again = uncertainty("national_2020", workers=2, out=tmp_path, **DETERMINISM)
    assert (again.counts.skipped, again.counts.done) == (4, 0)
    pd.testing.assert_frame_equal(stored(tmp_path), reference[0])


def test_same_tables_on_an_external_cluster_with_a_worker_killed(tmp_path, reference, external_cluster, capsys):
    from distributed import Client

    address, workers = external_cluster
    finished = {}
    runner = threading.Thread(target=lambda: finished.update(
        done=uncertainty("national_2020", scheduler=address, out=tmp_path, **DETERMINISM)))
    runner.start()
    with Client(address, timeout=30) as client:  # kill a worker as soon as it is running a run
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(client.processing().values()):
            time.sleep(0.05)
        busy = next(addr for addr, tasks in client.processing().items() if tasks)
        pid = client.run(os.getpid, workers=[busy])[busy]
    victim = next(w for w in workers if w.pid == pid)
    victim.send_signal(signal.SIGKILL)
    runner.join(timeout=300)
    assert "done" in finished
    counts = finished["done"].counts
    assert finished["done"].missing == 0
    assert counts.workers_lost == 1 and counts.redone >= 1 and counts.lost == 0
    capsys.readouterr()
    warn_lost_workers(counts)  # what the command prints after the runs
    assert capsys.readouterr().err.startswith("trustsim: warning: a Dask worker was lost (killed, or out of memory)")
    pd.testing.assert_frame_equal(stored(tmp_path), reference[0])


def test_summary_cites_the_interval_over_the_assumptions():
    from conftest import make_result

    result = make_result()
    result.metrics.loc[result.metrics["metric"] == "score_mean", "metric"] = "wrongful_sanction_share"
    sentences = summary(result, {"wrongful_sanction_share": {"low": 0.28, "high": 0.45, "median": 0.37}})
    assert any("(90% interval 28-45% over the plausible assumptions)" in s for s in sentences)


def test_uncertainty_command_writes_its_page_and_the_intervals_a_report_cites(tmp_path, capsys, inprocess):
    with pytest.raises(SystemExit) as exc:
        main(["uncertainty", "financial_only", "--samples", "2", "--seeds-per-sample", "2", "--people", "200",
              "--years", "0.04", "--metric", "score_mean", "--scheduler", inprocess, "--out", str(tmp_path), "--quiet"])
    assert exc.value.code == 0
    page = (tmp_path / "uncertainty.html").read_text(encoding="utf-8")
    assert "Median and 90% interval over the plausible assumptions" in page and "due to seeds" in page
    saved = json.loads((tmp_path / "uncertainty.json").read_text(encoding="utf-8"))
    interval = saved["financial_only"]["metrics"]["score_mean"]
    assert interval["low"] <= interval["median"] <= interval["high"]


def _record_one(out: str, name: str) -> None:
    from trustsim.experiments.ensembles.pages import record_intervals

    record_intervals(Path(out), name, {"metrics": {"blacklist_share": {"median": 0.1, "low": 0.0, "high": 0.2}}})


def test_uncertainty_intervals_written_by_processes_at_once_are_all_kept(tmp_path):
    """Several uncertainty analyses into one directory each keep their scenario's intervals."""
    import concurrent.futures
    import json

    names = [f"scenario_{i}" for i in range(12)]
    with concurrent.futures.ProcessPoolExecutor(max_workers=6) as pool:
        list(pool.map(_record_one, [str(tmp_path)] * len(names), names))
    assert sorted(json.loads((tmp_path / "uncertainty.json").read_text())) == sorted(names)


def test_an_unknown_metric_is_refused_by_the_python_api_before_any_run(tmp_path):
    with pytest.raises(UserError, match=r"--metric blacklist_shar: unknown metric; did you mean blacklist_share\?"):
        ensemble("financial_only", 2, metrics=["blacklist_shar"], out=tmp_path / "e")
    assert not (tmp_path / "e").exists()
