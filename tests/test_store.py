"""The results directory: schema, save/open round trip, appending runs, nothing half-written."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from conftest import make_result
from trustsim import store
from trustsim.errors import UserError
from trustsim.scenario.schema import Scenario


def sorted_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(date=pd.to_datetime(frame["date"]).astype("datetime64[ns]"),
                         step=frame["step"].astype("int64"), metric=frame["metric"].astype(str),
                         group=frame["group"].astype(str))
    return frame.sort_values(["step", "metric", "group"]).reset_index(drop=True)


def test_schema_is_the_designed_one(result, tmp_path):
    result.save(tmp_path)
    con = duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True)
    columns = {t: [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()] for t in ("runs", "metrics")}
    con.close()
    assert columns["runs"] == ["run_id", "scenario", "scenario_json", "seed", "people", "steps", "version",
                               "started_at", "finished_at", "status"]
    assert columns["metrics"] == ["run_id", "step", "date", "metric", "grp", "value"]


def test_save_writes_database_report_and_snapshot(result, tmp_path):
    run_id = result.save(tmp_path / "new" / "dir")
    assert run_id == 1 and result.run_id == 1
    names = sorted(p.name for p in (tmp_path / "new" / "dir").iterdir())
    assert names == ["report.html", "results.duckdb", "snapshot_1.parquet"]


def test_round_trip(result, tmp_path):
    result.save(tmp_path)
    back = store.open_results(tmp_path)
    assert back.run_id == 1 and back.seed == result.seed
    assert back.scenario == result.scenario
    assert back.people == result.people and back.steps == result.steps
    assert back.started_at.timestamp() == result.started_at.timestamp()
    assert back.elapsed_seconds == pytest.approx(result.elapsed_seconds)
    assert list(back.metrics.columns) == ["step", "date", "metric", "group", "value"]
    pd.testing.assert_frame_equal(sorted_metrics(back.metrics), sorted_metrics(result.metrics))
    pd.testing.assert_frame_equal(back.snapshot, result.snapshot)


def test_runs_row(result, tmp_path):
    result.save(tmp_path)
    runs = store.list_runs(tmp_path)
    row = runs.iloc[0]
    assert (row.run_id, row.scenario, row.seed, row.people, row.steps, row.status) == (
        1, "synthetic", 1, 1000, result.steps, "complete")
    con = duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True)
    text = con.execute("SELECT scenario_json FROM runs").fetchone()[0]
    con.close()
    assert Scenario.model_validate_json(text) == result.scenario


def test_saving_again_appends_a_run(tmp_path):
    first, second = make_result(seed=1), make_result(seed=2, snapshot=False)
    assert first.save(tmp_path) == 1
    assert second.save(tmp_path) == 2
    assert store.list_runs(tmp_path)["run_id"].tolist() == [1, 2]
    assert store.open_results(tmp_path).seed == 2  # the latest by default
    assert store.open_results(tmp_path, run_id=1).seed == 1
    assert store.open_results(tmp_path, run_id=2).snapshot is None
    pd.testing.assert_frame_equal(sorted_metrics(store.open_results(tmp_path, run_id=1).metrics),
                                  sorted_metrics(first.metrics))


def test_save_several_at_once(tmp_path):
    assert store.save([make_result(seed=s) for s in (3, 4, 5)], tmp_path) == [1, 2, 3]
    assert store.list_runs(tmp_path)["seed"].tolist() == [3, 4, 5]


def test_failed_save_leaves_the_directory_as_it_was(tmp_path, monkeypatch):
    make_result(seed=1).save(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(*args, **kwargs):
        raise RuntimeError("report failed")

    monkeypatch.setattr(store, "build_report", broken)
    with pytest.raises(RuntimeError):
        make_result(seed=2).save(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "build_report", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no")))
    with pytest.raises(RuntimeError):
        make_result().save(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_open_without_results_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no results.duckdb here"):
        store.open_results(tmp_path)


def test_open_unknown_run_lists_the_runs(result, tmp_path):
    result.save(tmp_path)
    with pytest.raises(UserError, match="run_id = 7: no such run; allowed: 1"):
        store.open_results(tmp_path, run_id=7)


def test_a_file_in_the_way_is_a_user_error(result, tmp_path):
    (tmp_path / "out").write_text("not a directory")
    with pytest.raises(UserError, match="is a file"):
        result.save(tmp_path / "out" / "sub")


def test_rebuild_report(result, tmp_path):
    result.save(tmp_path)
    (tmp_path / "report.html").unlink()
    assert store.rebuild_report(tmp_path) == tmp_path / "report.html"
    assert "synthetic" in (tmp_path / "report.html").read_text()
