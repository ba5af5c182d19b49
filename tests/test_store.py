"""The results directory: schema, save/open round trip, appending runs from many processes at once,
tables, and damaged or unwritable places answered in one line with nothing half-written."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import duckdb
import pandas as pd
import pytest

from conftest import make_result
from trustsim import cli, store
from trustsim.errors import UserError
from trustsim.scenario.schema import Scenario


def tree(directory) -> dict[str, bytes]:
    """Every file under directory with its bytes: to check that a failure changed nothing."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def sorted_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(date=pd.to_datetime(frame["date"]).astype("datetime64[ns]"),
                         step=frame["step"].astype("int64"), metric=frame["metric"].astype(str),
                         group=frame["group"].astype(str))
    return frame.sort_values(["step", "metric", "group"]).reset_index(drop=True)


def test_schema_is_the_designed_one(result, tmp_path):
    store.save([result], tmp_path)
    con = duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True)
    columns = {t: [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()] for t in ("runs", "metrics")}
    con.close()
    assert columns["runs"] == ["run_id", "scenario", "scenario_json", "seed", "people", "steps", "version",
                               "started_at", "finished_at", "status", "message"]
    assert columns["metrics"] == ["run_id", "step", "date", "metric", "grp", "value"]


def test_save_writes_database_report_and_snapshot(result, tmp_path):
    run_id = store.save([result], tmp_path / "new" / "dir")[0]
    assert run_id == 1 and result.run_id == 1
    where = tmp_path / "new" / "dir"
    assert sorted(p.name for p in where.iterdir()) == [".tables", "report.html", "results.duckdb", "runs"]
    assert sorted(p.name for p in (where / "runs" / "run_id=1").iterdir()) == [
        "metrics.parquet", "runs.parquet", "snapshot.parquet"]


def test_round_trip(result, tmp_path):
    store.save([result], tmp_path)
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
    store.save([result], tmp_path)
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
    assert store.save([first], tmp_path)[0] == 1
    assert store.save([second], tmp_path)[0] == 2
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
    store.save([make_result(seed=1)], tmp_path)
    before = tree(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("report failed")

    monkeypatch.setattr(store, "build_report", broken)
    with pytest.raises(RuntimeError):
        store.save([make_result(seed=2)], tmp_path)
    assert tree(tmp_path) == before


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "build_report", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no")))
    with pytest.raises(RuntimeError):
        store.save([make_result()], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_open_without_results_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no results.duckdb here"):
        store.open_results(tmp_path)


def test_open_unknown_run_lists_the_runs(result, tmp_path):
    store.save([result], tmp_path)
    with pytest.raises(UserError, match="run_id = 7: no such run; allowed: 1"):
        store.open_results(tmp_path, run_id=7)


def test_a_file_in_the_way_is_a_user_error(result, tmp_path):
    (tmp_path / "out").write_text("not a directory")
    with pytest.raises(UserError, match="is a file"):
        store.save([result], tmp_path / "out" / "sub")


def test_rebuild_report(result, tmp_path):
    store.save([result], tmp_path)
    (tmp_path / "report.html").unlink()
    assert store.rebuild_report(tmp_path) == tmp_path / "report.html"
    assert "synthetic" in (tmp_path / "report.html").read_text()


def test_runs_row_of_a_failed_run_carries_its_message(result, tmp_path):
    run_id = store.append_run(tmp_path, scenario=result.scenario, seed=9, metrics=result.metrics.iloc[:0],
                              started_at=result.started_at, finished_at=result.finished_at, status="failed",
                              message="worker lost")
    runs = store.list_runs(tmp_path)
    assert (run_id, runs.status.tolist(), runs.message.tolist()) == (1, ["failed"], ["worker lost"])
    con = duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM metrics").fetchone() == (0,)
    con.close()


def test_per_run_and_plain_tables_are_views_by_name(result, tmp_path):
    for seed in (1, 2):
        store.append_run(tmp_path, scenario=result.scenario, seed=seed, metrics=result.metrics,
                         started_at=result.started_at, finished_at=result.finished_at,
                         tables={"trace": pd.DataFrame({"step": [0, 1], "x": [seed, seed * 10]})})
    store.append_rows(tmp_path, "sensitivity", pd.DataFrame({"parameter": ["a"], "s1": [0.5]}))
    store.append_rows(tmp_path, "sensitivity", pd.DataFrame({"parameter": ["b"], "s1": [0.25]}))
    trace = store.table(tmp_path, "trace")
    assert list(trace.columns) == ["run_id", "step", "x"]
    assert trace.sort_values(["run_id", "step"])["x"].tolist() == [1, 10, 2, 20]
    assert sorted(store.table(tmp_path, "sensitivity")["parameter"]) == ["a", "b"]
    assert store.table(tmp_path, "nothing_yet").empty
    con = duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True)
    assert con.execute("SELECT sum(x) FROM trace WHERE run_id = 2").fetchone() == (22,)
    assert con.execute("SELECT count(*) FROM sensitivity").fetchone() == (2,)
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (2,)
    con.close()


def test_a_directory_of_plain_rows_only_still_has_empty_runs_and_metrics(tmp_path):
    store.append_rows(tmp_path, "sensitivity", pd.DataFrame({"s1": [0.5]}))
    con = duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM metrics").fetchone() == (0,)
    con.close()
    assert store.list_runs(tmp_path).empty


def test_an_append_writes_only_its_own_run(tmp_path):
    store.save([make_result(seed=1)], tmp_path)
    before = tree(tmp_path / "runs" / "run_id=1")
    stamp = os.stat(tmp_path / "runs" / "run_id=1" / "metrics.parquet").st_mtime_ns
    store.save([make_result(seed=2)], tmp_path)
    assert tree(tmp_path / "runs" / "run_id=1") == before
    assert os.stat(tmp_path / "runs" / "run_id=1" / "metrics.parquet").st_mtime_ns == stamp


def _append(args):
    directory, seed = args
    return store.save([make_result(seed=seed, snapshot=False)], directory)[0]


def test_concurrent_appends_keep_every_run(tmp_path):
    with ProcessPoolExecutor(4) as pool:
        ids = list(pool.map(_append, [(tmp_path, seed) for seed in range(12)]))
    assert sorted(ids) == list(range(1, 13))
    runs = store.list_runs(tmp_path)
    assert sorted(runs.seed) == list(range(12))
    for run_id, seed in zip(runs.run_id, runs.seed):
        back = store.open_results(tmp_path, run_id=run_id)
        pd.testing.assert_frame_equal(sorted_metrics(back.metrics), sorted_metrics(make_result(seed=seed).metrics))


def test_eight_concurrent_trustsim_runs_keep_eight_runs(tmp_path):
    out = tmp_path / "c"
    args = ["--people", "1500", "--years", "0.1", "--quiet", "--out", str(out)]
    procs = [subprocess.Popen([sys.executable, "-m", "trustsim", "run", "financial_only", "--seed", str(seed), *args],
                              stderr=subprocess.PIPE, text=True) for seed in range(8)]
    errors = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    runs = store.list_runs(out)
    assert sorted(runs.run_id) == list(range(1, 9)) and sorted(runs.seed) == list(range(8))
    finals = {seed: store.open_results(out, run_id=run_id).final()["score_mean"] for run_id, seed in zip(runs.run_id, runs.seed)}
    assert len(set(finals.values())) == 8  # each run's own metrics, not a copy of another's


def test_a_moved_directory_has_its_views_refreshed(result, tmp_path):
    store.save([result], tmp_path / "a")
    os.rename(tmp_path / "a", tmp_path / "b")
    assert store.list_runs(tmp_path / "b").run_id.tolist() == [1]
    con = duckdb.connect(str(tmp_path / "b" / "results.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM metrics").fetchone()[0] == len(result.metrics)
    con.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "old_format"])
def test_a_damaged_or_foreign_database_is_refused_and_left_alone(result, tmp_path, damage):
    store.save([result], tmp_path)
    db = tmp_path / "results.duckdb"
    if damage == "garbage":
        db.write_bytes(b"this is not a database" * 100)
    elif damage == "truncated":
        db.write_bytes(db.read_bytes()[:5000])
    else:
        db.unlink()
        con = duckdb.connect(str(db))
        con.execute("CREATE TABLE runs (run_id INTEGER); CREATE TABLE metrics (run_id INTEGER)")
        con.close()
    before = tree(tmp_path)
    for attempt in (lambda: store.save([make_result(seed=2)], tmp_path), lambda: store.list_runs(tmp_path),
                    lambda: store.open_results(tmp_path)):
        with pytest.raises(UserError, match="results.duckdb: .*allowed: a results.duckdb written by this trustsim"):
            attempt()
    assert tree(tmp_path) == before


def test_a_read_only_directory_is_refused(result, tmp_path, monkeypatch):
    store.save([result], tmp_path)
    before = tree(tmp_path)
    tmp_path.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: fail the first write as a read-only directory would
        def refused(*args, **kwargs):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

        monkeypatch.setattr(store.Path, "mkdir", refused)
    try:
        with pytest.raises(UserError, match="cannot write the results .*nothing was written"):
            store.save([make_result(seed=2)], tmp_path)
    finally:
        tmp_path.chmod(0o755)
    assert tree(tmp_path) == before


def test_a_full_disk_is_refused_and_changes_nothing(result, tmp_path, monkeypatch):
    store.save([result], tmp_path)
    before = tree(tmp_path)
    calls = []

    def full(table, path):
        calls.append(path)
        if len(calls) == 2:  # the second file of the run: the first is already on disk
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return pq_write(table, path)

    pq_write = store._write_parquet
    monkeypatch.setattr(store, "_write_parquet", full)
    with pytest.raises(UserError, match="No space left on device.*a disk with free space"):
        store.save([make_result(seed=2)], tmp_path)
    assert tree(tmp_path) == before


def test_the_command_line_answers_a_damaged_database_in_one_line_before_running(result, tmp_path, capsys):
    store.save([result], tmp_path)
    (tmp_path / "results.duckdb").write_bytes(b"\0" * 3000)
    before = tree(tmp_path)
    for args in (["run", "financial_only", "--out", str(tmp_path)], ["report", str(tmp_path)]):
        with pytest.raises(SystemExit) as exit_:
            cli.main(args)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and err.count("\n") == 1 and err.startswith("trustsim: error: "), err
    assert tree(tmp_path) == before


def test_metrics_described_gives_each_row_its_meaning_and_the_scale_of_counts(tmp_path):
    import trustsim

    people = 3000
    scenario = trustsim.load_scenario("national_2020", {"population.people": people, "run.years": 0.3})
    store.save([trustsim.simulate(scenario, seed=2)], tmp_path)
    con = duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True)
    rows = con.execute("SELECT metric, value, what, basis, scale FROM metrics_described WHERE grp = 'all'").df()
    con.close()
    assert rows["what"].notna().all() and (rows["what"] != "").all()  # every metric the engine writes is described
    last = rows.groupby("metric").tail(1).set_index("metric")
    count = last.loc["blacklist_count"]
    assert count["scale"] == pytest.approx(scenario.population.represents / people)
    assert count["basis"] == "now" and "national scale" in count["what"]
    listed = count["value"] / count["scale"]  # back to simulated people: a whole number, the share's numerator
    assert listed == pytest.approx(round(listed)) and listed == pytest.approx(last.loc["blacklist_share", "value"] * people)
    assert last.loc["blacklist_share", "scale"] == 1.0 and last.loc["flight_denials", "basis"] == "step"


def _append_keyed(args) -> bool:
    directory, writer = args
    return store.append_rows(directory, "summary_rows", pd.DataFrame({"writer": [writer] * 3}), key="abc123")


def test_keyed_rows_are_stored_once_under_concurrent_writers(tmp_path):
    with ProcessPoolExecutor(4) as pool:
        added = list(pool.map(_append_keyed, [(tmp_path, writer) for writer in range(8)]))
    assert added.count(True) == 1  # one writer stored its rows, the seven others found them there
    rows = store.table(tmp_path, "summary_rows")
    assert len(rows) == 3 and rows["writer"].nunique() == 1
    assert not store.append_rows(tmp_path, "summary_rows", pd.DataFrame({"writer": [99]}), key="abc123")
    assert store.append_rows(tmp_path, "summary_rows", pd.DataFrame({"writer": [99]}))  # unkeyed rows always add
    assert len(store.table(tmp_path, "summary_rows")) == 4
    with pytest.raises(ValueError, match="key"):
        store.append_rows(tmp_path, "summary_rows", pd.DataFrame({"writer": [1]}), key="../x")


# --- a writer killed mid-write, a database held open ------------------------------------------


def _killed_while_publishing(directory: str) -> None:
    """Save a run but die (as from SIGKILL) once its files are staged, before they are published."""
    store._publish = lambda *args: os._exit(9)
    store.save([make_result(seed=5)], directory)[0]


def _staging(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".staging-"))


def test_a_staging_folder_left_by_a_killed_writer_is_removed_by_the_next_write(result, tmp_path):
    store.save([result], tmp_path)[0]
    with ProcessPoolExecutor(1) as pool:
        with pytest.raises(Exception):  # the pool's process died
            pool.submit(_killed_while_publishing, str(tmp_path)).result()
    left = _staging(tmp_path)
    assert len(left) == 1 and (tmp_path / left[0] / "metrics.parquet").is_file()
    mine = tmp_path / f".staging-{store._HOST}-{os.getpid()}-0123456789ab"  # a live writer's: being written
    other = tmp_path / ".staging-elsewhere-12-0123456789ab"  # another machine's: its writer may be alive
    old = tmp_path / ".staging-12-0123456789ab"  # named as earlier versions did
    for folder in (mine, other, old):
        folder.mkdir()
    assert store.save([make_result(seed=2)], tmp_path)[0] == 2
    assert _staging(tmp_path) == sorted(p.name for p in (mine, other, old))
    assert store.list_runs(tmp_path).run_id.tolist() == [1, 2]  # the killed run was never published
    assert store.foreign_staging(tmp_path) == [(old, "an earlier trustsim"), (other, "process 12 on elsewhere")]


def test_report_removes_what_it_can_and_names_the_rest(result, tmp_path, capsys):
    store.save([result], tmp_path)[0]
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f".staging-{store._HOST}-{int(gone.stdout)}-0123456789ab"
    other = tmp_path / ".staging-elsewhere-12-0123456789ab"
    for folder in (dead, other):
        folder.mkdir()
    with pytest.raises(SystemExit) as exit_:
        cli.main(["report", str(tmp_path)])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and not dead.exists() and other.exists()
    assert f"note: {other}: a run's files staged by process 12 on elsewhere and never published" in out
    assert "delete the folder once that writer has stopped" in out and str(dead) not in out


def test_a_database_held_open_for_writing_is_named_as_the_cause(result, tmp_path):
    store.save([result], tmp_path)[0]
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); sys.stdin.read()", str(tmp_path / "results.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "open\n"
        before = tree(tmp_path)
        with pytest.raises(UserError, match=rf"results.duckdb: open for writing in process {holder.pid} .*"
                                            r"allowed: close that connection, or connect with read_only=True"):
            store.save([make_result(seed=2)], tmp_path)[0]
        assert tree(tmp_path) == before
    finally:
        holder.communicate("")


def test_a_lock_held_by_an_unnamed_process_says_another_program(result, tmp_path, monkeypatch):
    store.save([result], tmp_path)[0]

    def locked(*args, **kwargs):  # DuckDB's words where it cannot see the holder (another PID namespace)
        raise duckdb.IOException('IO Error: Could not set lock on file "x": Conflicting lock is held in  (PID ). '
                                 'See also https://duckdb.org/docs/current/connect/concurrency')

    monkeypatch.setattr(store.duckdb, "connect", locked)
    with pytest.raises(UserError) as refused:
        store.check_directory(tmp_path)
    assert "open for writing in another program" in str(refused.value) and "PID" not in str(refused.value)
