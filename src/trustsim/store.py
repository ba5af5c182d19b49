"""The results directory: DIR/results.duckdb, DIR/snapshot_<run_id>.parquet and DIR/report.html.

Use `save` to add runs to a directory (each gets the next run_id; an existing database is
appended to), `open_results` to read one run back as a `Result`, `list_runs` to see what is there,
and `rebuild_report` to rewrite the report from the database. Writes are all-or-nothing: every file
is written under a temporary name in DIR and renamed into place only once all are complete, so a
failure leaves the directory as it was.

The database schema (stable, see docs/design.md):
    runs(run_id, scenario, scenario_json, seed, people, steps, version, started_at, finished_at, status)
    metrics(run_id, step, date, metric, grp, value)
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
from pydantic import ValidationError

from trustsim import __version__
from trustsim.errors import UserError
from trustsim.report import build_report
from trustsim.result import Result
from trustsim.scenario.schema import Scenario

DB = "results.duckdb"
REPORT = "report.html"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY, scenario VARCHAR, scenario_json VARCHAR, seed BIGINT,
    people BIGINT, steps INTEGER, version VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,
    status VARCHAR
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id INTEGER, step INTEGER, date DATE, metric VARCHAR, grp VARCHAR, value DOUBLE
);
"""


def _snapshot_name(run_id: int) -> str:
    return f"snapshot_{run_id}.parquet"


@contextmanager
def _staging(directory: Path) -> Iterator[Callable[[str], Path]]:
    """Yields stage(name) -> a temporary path for DIR/name; renames them all into place on success."""
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    staged: dict[Path, Path] = {}

    def stage(name: str) -> Path:
        staged[directory / name] = directory / f".{name}.{token}.tmp"
        return staged[directory / name]

    try:
        yield stage
        for final, temp in staged.items():
            os.replace(temp, final)
    finally:
        for temp in staged.values():
            temp.unlink(missing_ok=True)
            temp.with_name(temp.name + ".wal").unlink(missing_ok=True)


def _connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise UserError(f"{path}: cannot open as a results database ({exc}); "
                        f"allowed: a results.duckdb written by trustsim, not in use by another run") from None


def _insert(con: duckdb.DuckDBPyConnection, result: Result, run_id: int) -> None:
    con.execute(
        "INSERT INTO runs (run_id, scenario, scenario_json, seed, people, steps, version, started_at, finished_at, "
        "status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'complete')",  # named: the interim block below adds `message`
        [run_id, result.scenario.name, result.scenario.model_dump_json(), result.seed, result.people,
         result.steps, __version__, result.started_at, result.finished_at],
    )
    frame = result.metrics.rename(columns={"group": "grp"})
    con.register("new_metrics", frame)
    con.execute(
        "INSERT INTO metrics SELECT ?, CAST(step AS INTEGER), CAST(date AS DATE), metric, grp, "
        "CAST(value AS DOUBLE) FROM new_metrics",
        [run_id],
    )
    con.unregister("new_metrics")


def check_directory(directory: str | Path) -> None:
    """Refuse a results directory that cannot be one (a file is in the way)."""
    for path in (Path(directory), *Path(directory).parents):
        if path.exists() and not path.is_dir():
            raise UserError(f"{directory}: {path} is a file; allowed: a directory for the results")


def save(results: Sequence[Result], directory: str | Path) -> list[int]:
    """Add runs to DIR/results.duckdb (with their snapshots) and rewrite DIR/report.html for the last.

    Returns the new run ids and sets each result's run_id.
    """
    directory = Path(directory)
    check_directory(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with _staging(directory) as stage:
        db = stage(DB)
        if (directory / DB).exists():
            shutil.copyfile(directory / DB, db)
        con = _connect(db)
        try:
            con.execute(_SCHEMA)
            first = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()[0]
            run_ids = list(range(first, first + len(results)))
            for result, run_id in zip(results, run_ids):
                _insert(con, result, run_id)
        finally:
            con.close()
        for result, run_id in zip(results, run_ids):
            if result.snapshot is not None:
                result.snapshot.to_parquet(stage(_snapshot_name(run_id)), index=False)
        build_report(replace(results[-1], run_id=run_ids[-1]), stage(REPORT))
    for result, run_id in zip(results, run_ids):
        result.run_id = run_id
    return run_ids


def _db_path(directory: str | Path) -> Path:
    path = Path(directory) / DB
    if not path.is_file():
        raise UserError(f"{directory}: no {DB} here; allowed: a directory written by `trustsim run --out DIR`")
    return path


def list_runs(directory: str | Path) -> pd.DataFrame:
    """The runs in DIR/results.duckdb, one row each (without their scenario JSON), oldest first."""
    con = _connect(_db_path(directory), read_only=True)
    try:
        return con.execute(
            "SELECT run_id, scenario, seed, people, steps, version, started_at, finished_at, status "
            "FROM runs ORDER BY run_id"
        ).df()
    finally:
        con.close()


def open_results(directory: str | Path, run_id: int | None = None) -> Result:
    """One run of DIR/results.duckdb as a Result: the latest, or the one with run_id."""
    path = _db_path(directory)
    con = _connect(path, read_only=True)
    try:
        ids = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY run_id").fetchall()]
        if not ids or (run_id is not None and run_id not in ids):
            listed = ", ".join(map(str, ids)) or "none, the database holds no runs"
            raise UserError(f"{path}: run_id = {run_id}: no such run; allowed: {listed}")
        run_id = ids[-1] if run_id is None else run_id
        seed, scenario_json, started_at, finished_at = con.execute(
            "SELECT seed, scenario_json, started_at, finished_at FROM runs WHERE run_id = ?", [run_id]
        ).fetchone()
        metrics = con.execute(
            'SELECT step, date, metric, grp AS "group", value FROM metrics WHERE run_id = ? '
            "ORDER BY step, metric, grp",
            [run_id],
        ).df()
    finally:
        con.close()
    try:
        scenario = Scenario.model_validate_json(scenario_json)
    except ValidationError as exc:
        raise UserError(f"{path}: run {run_id}: its scenario does not fit this trustsim's schema "
                        f"({exc.error_count()} problems); allowed: runs written by trustsim {__version__}") from None
    snapshot_path = Path(directory) / _snapshot_name(run_id)
    snapshot = pd.read_parquet(snapshot_path) if snapshot_path.is_file() else None
    return Result(scenario=scenario, seed=seed, metrics=metrics, started_at=started_at,
                  finished_at=finished_at, snapshot=snapshot, run_id=run_id)


def rebuild_report(directory: str | Path, run_id: int | None = None) -> Path:
    """Rewrite DIR/report.html from the database (the latest run, or run_id); returns its path."""
    directory = Path(directory)
    result = open_results(directory, run_id)
    with _staging(directory) as stage:
        build_report(result, stage(REPORT))
    return directory / REPORT


# --- BEGIN interim store contract (issue 10's stand-in until issue 11's store lands; drop at merge) ---
# append_run / append_rows / table of the store contract, on today's single-file database. One
# writer at a time (an ensemble's client is the only writer); each append is one DuckDB
# transaction, so it costs what the new run costs and a failure leaves nothing half-written.

def _frame_columns(frame: pd.DataFrame) -> str:
    return ", ".join(f'"{c}"' for c in frame.columns)


def _append_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    con.register("new_rows", frame)
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0]
    if exists:
        con.execute(f'INSERT INTO "{name}" ({_frame_columns(frame)}) SELECT {_frame_columns(frame)} FROM new_rows')
    else:
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM new_rows')
    con.unregister("new_rows")


def append_run(directory: str | Path, *, scenario: Scenario, seed: int, metrics: pd.DataFrame,
               started_at, finished_at, status: str = "complete", message: str | None = None,
               tables: dict[str, pd.DataFrame] | None = None) -> int:
    """Add one run (its metrics and per-run tables) to DIR/results.duckdb; returns its run_id."""
    directory = Path(directory)
    check_directory(directory)
    directory.mkdir(parents=True, exist_ok=True)
    con = _connect(directory / DB)
    try:
        con.execute(_SCHEMA)
        con.execute("ALTER TABLE runs ADD COLUMN IF NOT EXISTS message VARCHAR")
        con.execute("BEGIN TRANSACTION")
        run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()[0]
        con.execute(
            "INSERT INTO runs (run_id, scenario, scenario_json, seed, people, steps, version, started_at, "
            "finished_at, status, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, scenario.name, scenario.model_dump_json(), seed, scenario.population.people,
             scenario.run.steps, __version__, started_at, finished_at, status, message],
        )
        if len(metrics):
            con.register("new_metrics", metrics.rename(columns={"group": "grp"}))
            con.execute("INSERT INTO metrics SELECT ?, CAST(step AS INTEGER), CAST(date AS DATE), metric, grp, "
                        "CAST(value AS DOUBLE) FROM new_metrics", [run_id])
            con.unregister("new_metrics")
        for name, frame in (tables or {}).items():
            _append_frame(con, name, frame.assign(run_id=run_id)[["run_id", *frame.columns]])
        con.execute("COMMIT")
    finally:
        con.close()
    return int(run_id)


def append_rows(directory: str | Path, table_name: str, frame: pd.DataFrame) -> None:
    """Add rows to a table that is not per run (e.g. "sensitivity") in DIR/results.duckdb."""
    directory = Path(directory)
    check_directory(directory)
    directory.mkdir(parents=True, exist_ok=True)
    con = _connect(directory / DB)
    try:
        con.execute("BEGIN TRANSACTION")
        _append_frame(con, table_name, frame)
        con.execute("COMMIT")
    finally:
        con.close()


def table(directory: str | Path, name: str) -> pd.DataFrame:
    """All rows of a table in DIR/results.duckdb; an empty DataFrame when it has none yet."""
    path = Path(directory) / DB
    if not path.is_file():
        return pd.DataFrame()
    con = _connect(path, read_only=True)
    try:
        exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0]
        return con.execute(f'SELECT * FROM "{name}"').df() if exists else pd.DataFrame()
    finally:
        con.close()
# --- END interim store contract ---
