"""The results directory: one folder of Parquet files per run, behind DIR/results.duckdb's views.

Use `save` to add whole runs and rewrite DIR/report.html, `append_run` to add
one run from its parts (an ensemble's worker), `append_rows` for rows that belong to no single run
(a sensitivity analysis), `table`, `list_runs` and `open_results` to read them back, and
`rebuild_report` to rewrite the report. docs/store.md explains the layout and why:

    DIR/runs/run_id=N/runs.parquet      the run's row of `runs`
    DIR/runs/run_id=N/metrics.parquet   its metrics (and NAME.parquet for each of its other tables)
    DIR/tables/NAME/<unique>.parquet    rows of a table that is not per run
    DIR/results.duckdb                  only views over the files above, for SQL
    DIR/.tables/NAME.run|NAME.rows      which tables have files, so the views cover them

A run is written whole into a hidden staging folder, then published and given its run_id in one
atomic step, renaming the folder to runs/run_id=N for the first free N. Any number of processes
may append at once, no append touches the runs already there, and no reader sees half a run. A
staging folder left by a writer killed mid-write is removed by the next write (or `trustsim
report`) once its process is gone; `foreign_staging` lists those this machine cannot judge.

The views (stable, see docs/design.md):
    runs(run_id, scenario, scenario_json, seed, people, steps, version, started_at, finished_at, status, message)
    metrics(run_id, step, date, metric, grp, value)
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from trustsim.errors import UserError
from trustsim.report import build_report
from trustsim.metrics import SCALED_COUNTS
from trustsim.result import MEANINGS, Result
from trustsim.scenario.schema import Scenario
from trustsim.version import __version__

DB = "results.duckdb"
REPORT = "report.html"
RUNS, TABLES, MARKERS = "runs", "tables", ".tables"
RESULT_TABLES = ("snapshot", "trace", "traced_people")  # a Result's per-run tables, named as its fields
FORMAT = 2  # of the directory; 1 was a single database file holding every run
_INFO = "trustsim_store"  # the one real table of results.duckdb: format, directory, views
_ATTEMPTS = 10_000  # run ids tried before giving up, far beyond any number of concurrent writers

_RUNS_SCHEMA = pa.schema([
    ("scenario", pa.string()), ("scenario_json", pa.string()), ("seed", pa.int64()), ("people", pa.int64()),
    ("steps", pa.int32()), ("version", pa.string()), ("started_at", pa.timestamp("us", tz="UTC")),
    ("finished_at", pa.timestamp("us", tz="UTC")), ("status", pa.string()), ("message", pa.string()),
])
_METRICS_SCHEMA = pa.schema([
    ("step", pa.int32()), ("date", pa.date32()), ("metric", pa.string()), ("grp", pa.string()),
    ("value", pa.float64()),
])
# The views of the two fixed tables, columns in their designed order; empty until a run exists.
_FIXED = {
    "runs": ["scenario", "scenario_json", "seed", "people", "steps", "version", "started_at", "finished_at",
             "status", "message"],
    "metrics": ["step", "date", "metric", "grp", "value"],
}
_FIXED_SCHEMA = {"runs": _RUNS_SCHEMA, "metrics": _METRICS_SCHEMA}
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
# Views over the fixed tables that say what a metric row means: its family's meaning and time
# basis (result.MEANINGS), and for a count stood up to the real population the factor that did it.
_DESCRIBED = ("metric_meanings", "metrics_described")
_RESERVED = {*_FIXED, _INFO, *_DESCRIBED}
# A staged run's folder: .staging-HOST-PID-RANDOM, so that a folder left by a killed writer can be
# told from one still being written (by a live process on this machine).
_STAGING = ".staging-"
_HOST = socket.gethostname() or "localhost"
_STAGED_BY = re.compile(r"(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{12}")


# --- paths and checks --------------------------------------------------------------------------


def check_directory(directory: str | Path) -> None:
    """Refuse a results directory that cannot be one: a file in the way, a damaged or locked
    results.duckdb, a place this process cannot write. Asked before any work, so a bad --out costs
    nothing; the folders made to try writing are removed again."""
    directory = Path(directory)
    try:
        _refuse_unusable(directory)
        with _made(directory):
            probe = directory / f".probe-{_token()}"
            os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            probe.unlink()
    except OSError as exc:
        raise _unwritable(directory, exc) from None


# What results.duckdb says: (the directory its views point at, the tables they cover), None if none.
Info = tuple[str, set[str]] | None


def _refuse_unusable(directory: Path) -> Info:
    """Refuse a file in the way of the directory, or a damaged, foreign or locked results.duckdb;
    return what the database says (_read_info)."""
    for path in (directory, *directory.parents):
        if path.exists() and not path.is_dir():
            raise UserError(f"{directory}: {path} is a file; allowed: a directory for the results")
    return _read_info(directory)


@contextmanager
def _made(directory: Path) -> Iterator[None]:
    """Create the directory and its missing parents; afterwards remove those of them still empty."""
    missing = [p for p in (directory, *directory.parents) if not p.exists()]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        yield
    finally:
        for path in missing:  # only folders made here, and only while empty
            try:
                path.rmdir()
            except OSError:
                pass


def _token() -> str:
    return f"{os.getpid()}-{secrets.token_hex(6)}"


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name) or name in _RESERVED:
        raise ValueError(f"table name {name!r}: allowed: lower-case letters, digits and _, not {sorted(_RESERVED)}")


def _unwritable(directory: Path, exc: OSError) -> UserError:
    reason = exc.strerror or exc.__class__.__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        hint = "a directory on a disk with free space"
    else:
        hint = "a directory you may write to"
    return UserError(f"{directory}: cannot write the results ({reason}); nothing was written; allowed: {hint}")


def _read_info(directory: Path) -> Info:
    """(directory the views point at, names of the views over files), or None when there is no
    results.duckdb yet. A file that is not this format's results.duckdb is refused."""
    path = directory / DB
    if not path.exists():
        return None
    allowed = "allowed: a results.duckdb written by this trustsim, or a new --out directory"
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        if "Could not set lock" in first:  # a read-write connection elsewhere; the file itself is fine
            pid = re.search(r"\(PID (\d+)\)", first)
            holder = f"process {pid[1]}" if pid else "another program"
            raise UserError(f"{path}: open for writing in {holder} (a duckdb shell or a Python session?), and "
                            f"DuckDB lets no one else open it meanwhile; allowed: close that connection, or "
                            f"connect with read_only=True, and run again") from None
        raise UserError(f"{path}: cannot open as a results database ({first[:160]}); {allowed}") from None
    try:
        names = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if _INFO not in names:
            old = "runs" in names
            what = "holds its runs inside the file (the format of earlier trustsim versions)" if old else "is not a trustsim results database"
            raise UserError(f"{path}: {what}; {allowed}")
        fmt, where, views = con.execute(f"SELECT format, directory, views FROM {_INFO}").fetchone()
        if not names.issuperset(_DESCRIBED):
            where = ""  # written by a version without these views: as stale as a moved directory's
    except duckdb.Error as exc:
        raise UserError(f"{path}: damaged results database ({str(exc).splitlines()[0][:160]}); {allowed}") from None
    finally:
        con.close()
    if fmt != FORMAT:
        raise UserError(f"{path}: results format {fmt}; {allowed} (format {FORMAT})")
    return where, set(filter(None, views.split(",")))


def _markers(directory: Path) -> dict[str, str]:
    """{table name: "run" or "rows"} for every table that has files."""
    folder = directory / MARKERS
    if not folder.is_dir():
        return {}
    return dict(p.name.rsplit(".", 1) for p in folder.iterdir() if p.suffix in (".run", ".rows"))


def _mark(directory: Path, name: str, kind: str) -> None:
    (directory / MARKERS).mkdir(exist_ok=True)
    (directory / MARKERS / f"{name}.{kind}").touch()


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _select(directory: Path, name: str, kind: str) -> str:
    """The query of a table's view: a per-run table takes run_id from its folder's name."""
    if kind == "rows":
        return f"SELECT * FROM read_parquet({_quote(directory / TABLES / name / '*.parquet')}, union_by_name=true)"
    source = (f"read_parquet({_quote(directory / RUNS / '*' / f'{name}.parquet')}, hive_partitioning=true, "
              f"hive_types={{'run_id': INTEGER}}, union_by_name=true)")
    columns = ", ".join(_FIXED.get(name, ["* EXCLUDE (run_id)"]))
    return f"SELECT run_id, {columns} FROM {source}"


def _empty_view(name: str) -> str:
    columns = ", ".join(f"CAST(NULL AS {_SQL_TYPES[str(field.type)]}) AS {field.name}" for field in _FIXED_SCHEMA[name])
    return f"CREATE VIEW {name} AS SELECT CAST(NULL AS INTEGER) AS run_id, {columns} WHERE false"


_SQL_TYPES = {"string": "VARCHAR", "int64": "BIGINT", "int32": "INTEGER", "timestamp[us, tz=UTC]": "TIMESTAMPTZ",
              "date32[day]": "DATE", "double": "DOUBLE"}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_MEANINGS_VIEW = "CREATE VIEW metric_meanings AS SELECT * FROM (VALUES {}) AS m(family, what, basis, scaled)".format(
    ", ".join(f"({_literal(family)}, {_literal(what)}, {_literal(basis)}, {family in SCALED_COUNTS})"
              for family, (what, basis) in MEANINGS.items()))
_DESCRIBED_VIEW = """CREATE VIEW metrics_described AS
SELECT m.run_id, m.step, m.date, m.metric, m.grp, m.value, d.what, d.basis,
       CASE WHEN d.scaled THEN CAST(json_extract(r.scenario_json, '$.population.represents') AS DOUBLE) / r.people
            ELSE 1.0 END AS scale
FROM metrics AS m JOIN runs AS r USING (run_id) LEFT JOIN metric_meanings AS d ON d.family = split_part(m.metric, '.', 1)"""


def _write_db(directory: Path, markers: dict[str, str]) -> None:
    """Write results.duckdb afresh (views only) and rename it into place."""
    temp = directory / f".{DB}.{_token()}.tmp"
    try:
        con = duckdb.connect(str(temp))
        try:
            con.execute(f"CREATE TABLE {_INFO} (format INTEGER, directory VARCHAR, views VARCHAR)")
            con.execute(f"INSERT INTO {_INFO} VALUES (?, ?, ?)", [FORMAT, str(directory), ",".join(sorted(markers))])
            for name in _FIXED:
                con.execute(f"CREATE VIEW {name} AS {_select(directory, name, 'run')}" if name in markers else _empty_view(name))
            for name, kind in sorted(markers.items()):
                if name not in _FIXED:
                    con.execute(f"CREATE VIEW {name} AS {_select(directory, name, kind)}")
            con.execute(_MEANINGS_VIEW)
            con.execute(_DESCRIBED_VIEW)
        finally:
            con.close()
        os.replace(temp, directory / DB)
    finally:
        temp.unlink(missing_ok=True)
        temp.with_name(temp.name + ".wal").unlink(missing_ok=True)


_UNREAD = object()


def _refresh(directory: Path, info: Info | object = _UNREAD) -> None:
    """Make results.duckdb's views cover every table with files, at this directory's place; `info`:
    what the caller read of the database since its last write (_writing's), to save a reread.

    Writers that add a new table at once may each rename an older list over the other's; each
    checks again after its own rename, so the last to rename leaves the views complete. (A caller's
    earlier read can only be missing tables, which makes it write and look again, never stop early
    on views that lack a table it sees.)"""
    for _ in range(100):
        if info is _UNREAD:
            info = _read_info(directory)
        markers = _markers(directory)
        if info is not None and info == (str(directory), set(markers)):
            return
        _write_db(directory, markers)
        info = _UNREAD
    raise UserError(f"{directory / DB}: the views keep changing under concurrent writers; allowed: run again")


# --- writing -----------------------------------------------------------------------------------


@contextmanager
def _writing(directory: str | Path) -> Iterator[tuple[Path, Info]]:
    """The absolute results directory, created if need be and checked, and what its results.duckdb
    said then (for `_refresh`); an OSError while writing becomes one line, and what this call
    created and did not publish is removed."""
    directory = Path(directory)
    try:
        info = _refuse_unusable(directory)  # before anything is written; the write itself shows whether it may write
        with _made(directory):
            _remove_abandoned(directory)
            yield directory.resolve(), info
    except OSError as exc:
        raise _unwritable(directory, exc) from None


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd")


def _runs_row(scenario: Scenario, seed: int, started_at, finished_at, status: str, message: str | None) -> pa.Table:
    return pa.Table.from_pylist([{
        "scenario": scenario.name, "scenario_json": scenario.model_dump_json(), "seed": int(seed),
        "people": scenario.population.people, "steps": scenario.run.steps, "version": __version__,
        "started_at": _utc(started_at), "finished_at": _utc(finished_at), "status": status, "message": message,
    }], schema=_RUNS_SCHEMA)


def _utc(moment: dt.datetime) -> dt.datetime:
    moment = pd.Timestamp(moment).to_pydatetime()
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def _metrics_table(metrics: pd.DataFrame) -> pa.Table:
    frame = pd.DataFrame({
        "step": metrics["step"].astype("int32"),
        "date": pd.to_datetime(metrics["date"]).dt.date,
        "metric": metrics["metric"].astype(str),
        "grp": metrics["group"].astype(str),
        "value": metrics["value"].astype("float64"),
    })
    return pa.Table.from_pandas(frame, schema=_METRICS_SCHEMA, preserve_index=False)


def _stage_run(directory: Path, scenario: Scenario, seed: int, metrics: pd.DataFrame, started_at, finished_at,
               status: str, message: str | None, tables: Mapping[str, pd.DataFrame]) -> Path:
    """A hidden folder in DIR holding every file of one run, ready to be published."""
    if status not in ("complete", "failed"):
        raise ValueError(f"status {status!r}: allowed: 'complete', 'failed'")
    for name, frame in tables.items():
        _check_name(name)
        if "run_id" in frame.columns:
            raise ValueError(f"table {name}: has a run_id column; the store adds it")
    staging = directory / f"{_STAGING}{_HOST}-{_token()}"
    staging.mkdir()
    try:
        _write_parquet(_runs_row(scenario, seed, started_at, finished_at, status, message), staging / "runs.parquet")
        _write_parquet(_metrics_table(metrics), staging / "metrics.parquet")
        for name, frame in tables.items():
            _write_parquet(pa.Table.from_pandas(frame, preserve_index=False), staging / f"{name}.parquet")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _staged(directory: Path) -> list[tuple[Path, re.Match | None]]:
    """The staging folders in DIR with their writer's host and pid (None: a name without them)."""
    if not directory.is_dir():
        return []
    entries = sorted(os.scandir(directory), key=lambda e: e.name)
    return [(Path(e.path), _STAGED_BY.fullmatch(e.name[len(_STAGING):])) for e in entries
            if e.name.startswith(_STAGING) and e.is_dir(follow_symlinks=False)]


def _remove_abandoned(directory: Path) -> None:
    """Remove the staging folders of this machine's writers that are gone (killed mid-write): no one
    will publish them. A folder whose process is alive is being written, and is left alone."""
    for path, by in _staged(directory):
        if by is not None and by["host"] == _HOST and not psutil.pid_exists(int(by["pid"])):
            shutil.rmtree(path, ignore_errors=True)


def foreign_staging(directory: str | Path) -> list[tuple[Path, str]]:
    """Staging folders this machine cannot tell abandoned, with their writer: from another machine
    (its writer may be alive), or named as earlier trustsim versions did (without the host)."""
    return [(path, "an earlier trustsim" if by is None else f"process {by['pid']} on {by['host']}")
            for path, by in _staged(Path(directory)) if by is None or by["host"] != _HOST]


def _next_id(directory: Path) -> int:
    runs = directory / RUNS
    ids = [int(p.name[7:]) for p in os.scandir(runs) if p.name.startswith("run_id=")] if runs.is_dir() else []
    return max(ids, default=0) + 1


def _publish(directory: Path, staging: Path) -> int:
    """Rename the staged run to runs/run_id=N for the first free N: claiming the id and publishing
    the run are one atomic step (renaming onto an existing, non-empty folder fails)."""
    (directory / RUNS).mkdir(exist_ok=True)
    run_id = _next_id(directory)
    for _ in range(_ATTEMPTS):
        try:
            os.rename(staging, directory / RUNS / f"run_id={run_id}")
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            run_id = max(run_id + 1, _next_id(directory))
            continue
        for name in ["runs", "metrics", *(p.stem for p in (directory / RUNS / f"run_id={run_id}").glob("*.parquet"))]:
            _mark(directory, name, "run")
        return run_id
    raise UserError(f"{directory}: no free run_id after {_ATTEMPTS} tries; allowed: fewer concurrent writers")


def append_run(directory: str | Path, *, scenario: Scenario, seed: int, metrics: pd.DataFrame,
               started_at: dt.datetime, finished_at: dt.datetime, status: str = "complete",
               message: str | None = None, tables: Mapping[str, pd.DataFrame] | None = None) -> int:
    """Add one run, atomically, with its own new run_id (returned). `metrics` is long (step, date,
    metric, group, value); `tables` maps a table name to this run's rows, without a run_id column."""
    with _writing(directory) as (where, before):
        staging = _stage_run(where, scenario, seed, metrics, started_at, finished_at, status, message, tables or {})
        try:
            run_id = _publish(where, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _refresh(where, before)
    return run_id


def append_rows(directory: str | Path, table: str, frame: pd.DataFrame, key: str | None = None) -> bool:
    """Add rows to a table that is not per run (e.g. "sensitivity"), atomically.

    With a `key` (lower-case letters, digits, _ or -), the rows are stored once per key: when rows
    under that key are already there, from this process or a concurrent one, nothing is added and
    False is returned. Without one, every call adds its rows."""
    _check_name(table)
    if key is not None and not re.fullmatch(r"[a-z0-9_-]{1,64}", key):
        raise ValueError(f"key {key!r}: allowed: 1 to 64 lower-case letters, digits, _ or -")
    with _writing(directory) as (where, before):
        if _markers(where).get(table) == "run":
            raise ValueError(f"table {table}: already a per-run table in {where}")
        folder = where / TABLES / table
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}-{_token()}.parquet" if key is None else f"{key}.parquet"
        temp = where / f".{name}.{_token()}.tmp"
        try:
            _write_parquet(pa.Table.from_pandas(frame, preserve_index=False), temp)
            try:
                os.link(temp, folder / name)  # unlike a rename, a link never replaces an existing file
            except FileExistsError:
                return False
        finally:
            temp.unlink(missing_ok=True)
        _mark(where, table, "rows")
        _refresh(where, before)
    return True


def run_tables(result: Result) -> dict[str, pd.DataFrame]:
    """The per-run tables a result carries besides its metrics: its snapshot, and its case files when traced."""
    return {name: getattr(result, name) for name in RESULT_TABLES if getattr(result, name) is not None}


def save(results: Sequence[Result], directory: str | Path) -> list[int]:
    """Add runs (with their snapshots) and rewrite DIR/report.html for the last one.

    Returns the new run ids and sets each result's run_id. Nothing is published unless every run's
    files and the report were written; the report is the last writer's (it names its run id, so it
    is written again in the rare case another writer took the id expected for it)."""
    with _writing(directory) as (where, before):
        report = where / f".{REPORT}.{_token()}.tmp"
        staged: list[Path] = []
        try:
            for r in results:
                staged.append(_stage_run(where, r.scenario, r.seed, r.metrics, r.started_at, r.finished_at,
                                         "complete", None, run_tables(r)))
            expected = _next_id(where) + len(results) - 1
            build_report(replace(results[-1], run_id=expected), report)
            run_ids = [_publish(where, path) for path in staged]
            if run_ids[-1] != expected:
                build_report(replace(results[-1], run_id=run_ids[-1]), report)
            _refresh(where, before)
            os.replace(report, where / REPORT)
        finally:
            report.unlink(missing_ok=True)
            for path in staged:
                shutil.rmtree(path, ignore_errors=True)
    for result, run_id in zip(results, run_ids):
        result.run_id = run_id
    return run_ids


# --- reading -----------------------------------------------------------------------------------


def _has_results(directory: str | Path) -> bool:
    try:
        return (Path(directory) / DB).is_file()
    except OSError:  # e.g. a name too long for this file system: no results there
        return False


def _results_dir(directory: str | Path) -> Path:
    directory = Path(directory)
    if not _has_results(directory):
        raise UserError(f"{directory}: no {DB} here; allowed: a directory written by `trustsim run --out DIR`")
    directory = directory.resolve()
    info = _read_info(directory)
    if info is not None and info[0] != str(directory):  # moved since the views were written
        try:
            _refresh(directory)
        except (OSError, UserError):
            pass  # a read-only copy: trustsim reads the files themselves, only SQL users see stale views
    return directory


def _query(sql: str) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def table(directory: str | Path, name: str) -> pd.DataFrame:
    """Every row of a table (a per-run table with its run_id); empty when it has no rows yet, or when
    nothing was ever written into the directory."""
    if not _has_results(directory):
        return pd.DataFrame()
    where = _results_dir(directory)
    kind = _markers(where).get(name)
    if kind is None:
        return pd.DataFrame()
    return _query(_select(where, name, kind) + (" ORDER BY run_id" if kind == "run" else ""))


def list_runs(directory: str | Path) -> pd.DataFrame:
    """The runs, one row each (without their scenario JSON), oldest first."""
    _results_dir(directory)  # a directory without results is a mistake here, not an empty list
    runs = table(directory, "runs")
    columns = ["run_id", "scenario", "seed", "people", "steps", "version", "started_at", "finished_at",
               "status", "message"]
    return runs[columns].reset_index(drop=True) if len(runs) else pd.DataFrame(columns=columns)


def open_results(directory: str | Path, run_id: int | None = None) -> Result:
    """One run as a Result: the latest, or the one with run_id."""
    where = _results_dir(directory)
    ids = sorted(int(p.name[7:]) for p in os.scandir(where / RUNS) if p.name.startswith("run_id=")) \
        if (where / RUNS).is_dir() else []
    if not ids or (run_id is not None and run_id not in ids):
        listed = ", ".join(map(str, ids)) or "none, the directory holds no runs"
        raise UserError(f"{directory}: run_id = {run_id}: no such run; allowed: {listed}")
    run_id = ids[-1] if run_id is None else run_id
    folder = where / RUNS / f"run_id={run_id}"
    row = pq.read_table(folder / "runs.parquet").to_pylist()[0]
    metrics = pq.read_table(folder / "metrics.parquet").to_pandas()
    metrics = metrics.rename(columns={"grp": "group"}).sort_values(["step", "metric", "group"], ignore_index=True)
    metrics = metrics.astype({"step": "int64", "date": "datetime64[s]"})  # as the engine makes them
    try:
        scenario = Scenario.model_validate_json(row["scenario_json"])
    except ValidationError as exc:
        raise UserError(f"{directory}: run {run_id}: its scenario does not fit this trustsim's schema "
                        f"({exc.error_count()} problems); allowed: runs written by trustsim {__version__}") from None
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") if (folder / f"{name}.parquet").is_file() else None
              for name in RESULT_TABLES}
    return Result(scenario=scenario, seed=row["seed"], metrics=metrics, started_at=row["started_at"],
                  finished_at=row["finished_at"], run_id=run_id, **tables)


def rebuild_report(directory: str | Path, run_id: int | None = None) -> Path:
    """Rewrite DIR/report.html (the latest run, or run_id); returns its path."""
    result = open_results(directory, run_id)
    where = Path(directory)
    check_directory(where)  # before the build, so a place it cannot write costs nothing
    temp = where / f".{REPORT}.{_token()}.tmp"
    try:
        _remove_abandoned(where)
        build_report(result, temp)
        os.replace(temp, where / REPORT)
    except OSError as exc:
        raise _unwritable(where, exc) from None
    finally:
        temp.unlink(missing_ok=True)
    return where / REPORT
