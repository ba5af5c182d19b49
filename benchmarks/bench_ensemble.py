"""Benchmark of ensembles on Dask: throughput, overhead per run, and the cost of a large Sobol' analysis.

Run `python benchmarks/bench_ensemble.py` (about 10 minutes on 2 cores; `--quick` runs tiny sizes
and writes nothing). It measures
- throughput: runs per second of the ensemble runner (run and store) for national_2020 with 10,000 people over one
  year, with 1 and with 2 local workers (same seeds, so the same work), and over a batch of 200 such
  runs on 2 workers (`--batch-only`: that figure alone, printed, nothing written);
- overhead per run (scheduling, transfer, storing): an ensemble whose model is swapped for one
  that returns a run's worth of metrics at once, over the time of one 100,000-person one-year run;
- on paper: the wall time of a Sobol' analysis of 20 assumptions at N = 512 (N x 22 runs) with
  100,000 people on 100 cores, from the measured run time and overhead.
It rewrites only the ensemble section of benchmarks/RESULTS.md. No run fails on a speed figure.
"""

from __future__ import annotations

import argparse
import datetime
import os
import tempfile
import time

from common import machine, use_source_tree, versions, write_section

use_source_tree()

RUNS = 16  # per throughput measurement: 8 per worker with 2 workers, so the last run's tail matters little
BATCH_RUNS = 200  # the batch of issue 23: 200 small runs on 2 workers
OVERHEAD_RUNS = 40
SOBOL_K, SOBOL_N, CORES = 20, 512, 100


def metrics_like_a_run(scenario, seed, metrics):
    """A stand-in model: the metrics table of a run (every step of each metric), at no cost."""
    import pandas as pd

    steps = scenario.run.steps
    dates = pd.date_range(scenario.run.start, periods=steps, freq=f"{scenario.run.step_days}D")
    return pd.DataFrame({"step": [t for _ in metrics for t in range(steps)],
                         "date": [d for _ in metrics for d in dates],
                         "metric": [m for m in metrics for _ in range(steps)],
                         "group": "all", "value": float(seed)})


def timed_ensemble(address: str, runs: int, first_seed: int, people: int, years: float, evaluate=None) -> float:
    """Seconds to run and store `runs` seeds on a running cluster (the analysis and page after are not timed)."""
    import trustsim
    from trustsim.experiments.ensembles.design import seeds_design
    from trustsim.experiments.ensembles.runner import run_design, simulate_metrics
    from trustsim.result import HEADLINE_METRICS

    scenario = trustsim.load_scenario("national_2020", {"population.people": people, "run.years": years})
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        run_design(scenario, seeds_design(runs, first_seed), out, HEADLINE_METRICS, scheduler=address,
                   evaluate=evaluate or simulate_metrics)
        return time.perf_counter() - start


def on_cluster(workers: int, people: int, years: float, runs: int, overhead_runs: int) -> tuple[float, float]:
    """(runs/s of real runs, seconds of overhead per run) on a fresh local cluster, after a warm-up;
    overhead_runs=0: no overhead measured (0.0)."""
    from trustsim.experiments.ensembles.runner import local_cluster

    with local_cluster(workers) as cluster:
        address = cluster.scheduler_address
        timed_ensemble(address, workers, 10_000, 1_000, 0.05)  # imports and compiled kernels loaded
        rate = runs / timed_ensemble(address, runs, 0, people, years)
        overhead = (timed_ensemble(address, overhead_runs, 0, people, years, metrics_like_a_run) / overhead_runs
                    if overhead_runs else 0.0)
    return rate, overhead


def one_run(people: int, years: float) -> float:
    import numba

    import trustsim

    numba.set_num_threads(1)  # as in a worker: one single-threaded run per core
    trustsim.simulate(trustsim.load_scenario("national_2020", {"population.people": 2000, "run.years": 0.05}))
    scenario = trustsim.load_scenario("national_2020", {"population.people": people, "run.years": years})
    start = time.perf_counter()
    trustsim.simulate(scenario)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, print only (a smoke test)")
    parser.add_argument("--batch-only", action="store_true", help="only the 200-run batch on 2 workers; print only")
    args = parser.parse_args()
    people, big, years, runs, extra, batch = ((1_000, 2_000, 0.1, 2, 4, 4) if args.quick else
                                              (10_000, 100_000, 1.0, RUNS, OVERHEAD_RUNS, BATCH_RUNS))
    load = os.getloadavg()[0]
    batch_rate = on_cluster(2, people, years, batch, 0)[0]
    if args.batch_only:
        print(f"{batch} runs of {people:,} people, {years:g} year, 2 workers: {batch_rate:.3f} runs/s (load {load:.1f})")
        return
    measured = {w: on_cluster(w, people, years, runs, extra) for w in (1, 2)}
    rates = {w: measured[w][0] for w in (1, 2)}
    per_run = measured[1][1]
    big_run = one_run(big, years)
    sobol_runs = SOBOL_N * (SOBOL_K + 2)
    wall = sobol_runs / CORES * (big_run + per_run)
    text = f"""## Ensembles on Dask (bench_ensemble.py)

{datetime.date.today()}; {machine()}; {versions("numpy", "numba", "dask", "distributed", "SALib", "duckdb")}.
Load average {load:.1f} on {os.cpu_count()} CPUs at the start{" (a busy machine: times are longer, and the 2-worker speed-up smaller, than on an idle one)" if load > 1.0 else ""}.

| measure | value |
| --- | --- |
| national_2020, {people:,} people, {years:g} year, {runs} runs: runs/s with 1 worker | {rates[1]:.3f} |
| same with 2 workers | {rates[2]:.3f} |
| speed-up with 2 workers (target >= 1.8) | {rates[2] / rates[1]:.2f}x |
| a batch of {batch} such runs on 2 workers: runs/s | {batch_rate:.3f} |
| overhead per run (schedule, transfer, store; {extra} runs, 1 worker) | {per_run * 1000:.0f} ms |
| one {big:,}-person, {years:g}-year run in one process | {big_run:.1f} s |
| overhead as a share of that run (target < 5%) | {100 * per_run / big_run:.2f}% |
| on paper: Sobol' of {SOBOL_K} assumptions at N = {SOBOL_N} ({sobol_runs:,} runs), {big:,} people, {CORES} cores | {wall / 3600:.1f} h |

Each figure is taken on a running cluster after a warm-up (starting one costs 10-40 s here, once
per command). The overhead is measured with the model swapped for one that returns a run's metrics table at
once, through the same scheduling and the same store (one Parquet folder per run, docs/store.md).
The on-paper figure is runs / cores x (run time + overhead), with one single-threaded run per
core and the run time measured here.
"""
    print(text)
    if not args.quick:
        write_section("ensemble", text)


if __name__ == "__main__":
    main()
