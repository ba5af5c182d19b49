"""Running an ensemble's runs on Dask and streaming each finished run into the results directory.

Use `run_design(scenario, design, directory, ...)`. The runs go to a `distributed.LocalCluster`
of worker processes (one per core, one thread each, NUMBA_NUM_THREADS=1) or, with `scheduler`,
to an existing cluster by address. A worker runs one (scenario, values, seed) and sends back only
the requested metrics for group `all`; the client stores each run with `store.append_run` as it
arrives, with its row of the `ensemble_runs` table (ensemble_id, kind, sample, seed, parameters),
so an ensemble is never held in memory whole. A run that raises is stored as failed with its
message and the others go on. Runs already stored for the same ensemble_id, sample and seed are
skipped, so running an interrupted command again finishes it; a worker lost mid-run has its runs
redone elsewhere by Dask, and the counts say how many workers died and how many runs were redone.
A run's result depends only on (scenario, values, seed), never on which worker ran it or when.
Dask's `distributed` is imported inside the functions that use it: only an ensemble needs it, and
importing it would slow every start of trustsim.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trustsim import store
from trustsim.engine import simulate
from trustsim.errors import UserError
from trustsim.experiments.ensembles.design import Design
from trustsim.result import METRIC_COLUMNS
from trustsim.scenario.schema import Scenario
from trustsim.scenario.uncertainty import with_values

CONNECT_TIMEOUT_S = 5.0
RUNS_TABLE = "ensemble_runs"

Evaluate = Callable[[Scenario, int, Sequence[str]], pd.DataFrame]


def simulate_metrics(scenario: Scenario, seed: int, metrics: Sequence[str]) -> pd.DataFrame:
    """The model: one run's requested metrics, group `all`, every step (long form)."""
    result = simulate(scenario, seed=seed)  # a worker with several threads: simulate runs them in turn
    frame = result.metrics
    return frame[(frame["group"] == "all") & frame["metric"].isin(metrics)].reset_index(drop=True)


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back for one run."""

    sample: int
    seed: int
    values: dict[str, float]
    metrics: pd.DataFrame
    started_at: dt.datetime
    finished_at: dt.datetime
    error: str | None


def _run_one(evaluate: Evaluate, scenario: Scenario, sample: int, seed: int, values: dict[str, float],
             metrics: tuple[str, ...]) -> Outcome:
    started = dt.datetime.now(dt.timezone.utc)
    try:
        frame = evaluate(with_values(scenario, values) if values else scenario, seed, metrics)
        error = None
    except Exception as exc:  # a failed run is a result to record, not a reason to stop the others
        frame, error = pd.DataFrame(columns=list(METRIC_COLUMNS)), f"{type(exc).__name__}: {exc}"
    return Outcome(sample, seed, values, frame, started, dt.datetime.now(dt.timezone.utc), error)


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: on `scheduler`'s cluster, else on a new LocalCluster of `workers` processes."""
    from distributed import Client

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except Exception as exc:  # whatever the address (ucx:// without UCX, tls:// without a certificate), no cluster
            why = " ".join(str(exc).split())[:120]
            raise UserError(f"--scheduler {scheduler}: cannot connect within {CONNECT_TIMEOUT_S:g} s "
                            f"({type(exc).__name__}{': ' + why if why else ''}); allowed: the address of a running "
                            f"`dask scheduler`, e.g. tcp://127.0.0.1:8786") from None
        try:
            yield client
        finally:
            client.close()
        return
    with local_cluster(workers) as cluster, Client(cluster) as client:
        yield client


def local_cluster(workers: int | None = None) -> Any:
    """A LocalCluster of `workers` processes (default: one per core), one thread and one Numba thread each."""
    from distributed import LocalCluster

    n = workers or os.cpu_count() or 1
    if n < 1:
        raise UserError(f"--workers {workers}; allowed: a whole number >= 1")
    return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                        silence_logs=logging.ERROR, env={"NUMBA_NUM_THREADS": "1"})


def stored_runs(directory: str | Path, ensemble_id: str) -> set[tuple[int, int]]:
    """(sample, seed) of the runs of this ensemble already in the directory."""
    rows = store.table(directory, RUNS_TABLE)
    if rows.empty:
        return set()
    rows = rows[rows["ensemble_id"] == ensemble_id]
    return set(zip(rows["sample"].astype(int), rows["seed"].astype(int)))


def _store(directory: Path, scenario: Scenario, design: Design, ensemble_id: str, outcome: Outcome) -> None:
    row = pd.DataFrame({"ensemble_id": [ensemble_id], "kind": [design.kind], "method": [design.method],
                        "sample": [outcome.sample], "seed": [outcome.seed],
                        "parameters": [json.dumps(outcome.values, sort_keys=True)]})
    store.append_run(directory, scenario=scenario, seed=outcome.seed, metrics=outcome.metrics,
                     started_at=outcome.started_at, finished_at=outcome.finished_at,
                     status="failed" if outcome.error else "complete", message=outcome.error,
                     tables={RUNS_TABLE: row})


@dataclass(frozen=True)
class RunCounts:
    """How an ensemble's runs went in this call."""

    total: int
    skipped: int
    done: int
    failed: int
    lost: int  # runs Dask could not finish (its workers kept dying); running the command again redoes them
    workers_lost: int = 0  # workers that died (killed, out of memory) while running runs of this call
    redone: int = 0  # runs a dead worker held, started again on another (same results: they depend on no worker)


def run_design(scenario: Scenario, design: Design, directory: str | Path, metrics: Sequence[str], *,
               workers: int | None = None, scheduler: str | None = None, progress: bool = False,
               evaluate: Evaluate = simulate_metrics) -> tuple[str, RunCounts]:
    """Run every run of the design not already stored; returns (ensemble_id, counts)."""
    from distributed import as_completed

    directory = Path(directory)
    store.check_directory(directory)
    metrics = tuple(metrics)
    ensemble_id = design.ensemble_id(scenario.model_dump_json(), metrics)
    done_before = stored_runs(directory, ensemble_id)
    todo = [(s, seed, v) for s, seed, v in design.runs() if (s, seed) not in done_before]
    done = failed = lost = 0
    deaths = _Deaths({f"{ensemble_id}-{s}-{seed}" for s, seed, _ in todo})
    if todo:
        with dask_client(workers, scheduler) as client, _progress(progress, len(todo), design.kind) as advance, \
                deaths.watching(client):
            futures = [client.submit(_run_one, evaluate, scenario, s, seed, v, metrics, pure=False,
                                     key=f"{ensemble_id}-{s}-{seed}") for s, seed, v in todo]
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except Exception as exc:  # the cluster lost the run (e.g. KilledWorker): not stored, redone next time
                    lost += 1
                    logging.getLogger(__name__).warning("run %s lost: %s: %s", future.key, type(exc).__name__, exc)
                else:
                    _store(directory, scenario, design, ensemble_id, outcome)
                    failed += outcome.error is not None
                    done += outcome.error is None
                future.release()
                advance(done, failed + lost)
    return ensemble_id, RunCounts(design.size, len(done_before), done, failed, lost, len(deaths.workers),
                                  len(deaths.runs))


class _Deaths:
    """The workers that died while holding runs of this call, and those runs (Dask starts them
    again elsewhere without telling the client): from the scheduler's remove-worker events."""

    def __init__(self, keys: set[str]):
        self.keys = keys
        self.workers: set[str] = set()
        self.runs: set[str] = set()

    def _seen(self, event: tuple[float, Any]) -> None:
        message = event[1]
        if not (isinstance(message, dict) and message.get("action") == "remove-worker") or message.get("expected"):
            return  # a worker retired on purpose hands its runs over: nothing is lost
        held = self.keys & {*message.get("processing-tasks", ()), *message.get("lost-computed-tasks", ())}
        if held:
            self.workers.add(message.get("worker", "?"))
            self.runs |= held

    @contextmanager
    def watching(self, client: Any) -> Iterator[None]:
        client.subscribe_topic("all", self._seen)
        try:
            yield
        finally:
            client.unsubscribe_topic("all")


@contextmanager
def _progress(show: bool, total: int, label: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich bar of runs done and failed with the time left; a no-op when not shown."""
    if not show:
        yield lambda done, failed: None
        return
    # Imported on use: only a shown bar needs it, and the import would slow every start.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("failed {task.fields[failed]}"), TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(f"{label} runs", total=total, failed=0)
        yield lambda done, failed: bar.update(task, completed=done + failed, failed=failed)
