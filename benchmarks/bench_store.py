"""Benchmark of the results store and of checkpoints.

Run `python benchmarks/bench_store.py` (`--quick` runs tiny sizes in seconds as a smoke test and
never writes). Two parts, each in its own process:

- appends: national_2020 at 20,000 people for one year is simulated once, then its Result is
  appended 1,000 times (`store.append_run`, the call an ensemble's workers make) into one
  directory. It reports the first and last appends (and the means of the first and last 50),
  and the directory's size as it grows: an append must cost what its run costs, not what the
  directory already holds.
- checkpoint: national_2020 at 1e7 people (`--checkpoint-people`), a few steps, then one
  checkpoint written (seconds, bytes per person) and read back, and its share of the step time
  when one is written every 13 steps (checkpoint.SUGGESTED_EVERY).

It rewrites only the store section of benchmarks/RESULTS.md. No run fails on a speed figure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine, use_source_tree, versions, write_section

use_source_tree()


def size_of(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def appends(people: int, count: int) -> dict:
    import trustsim
    from trustsim import store

    scenario = trustsim.load_scenario("national_2020", {"population.people": people, "run.years": 1})
    result = trustsim.simulate(scenario, seed=0)
    marks = sorted({1, 10, count // 10, count // 2, count} - {0})
    seconds, sizes = [], {}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
        where = Path(folder) / "results"
        for i in range(1, count + 1):
            start = time.perf_counter()
            store.append_run(where, scenario=result.scenario, seed=i, metrics=result.metrics,
                             started_at=result.started_at, finished_at=result.finished_at)
            seconds.append(time.perf_counter() - start)
            if i in marks:
                sizes[i] = size_of(where)
        start = time.perf_counter()
        listed = len(store.list_runs(where))
        list_seconds = time.perf_counter() - start
    window = max(1, min(50, count // 10))
    return {
        "people": people, "steps": scenario.run.steps, "rows": len(result.metrics), "count": count,
        "first": seconds[0], "last": seconds[-1],
        "first_mean": sum(seconds[:window]) / window, "last_mean": sum(seconds[-window:]) / window, "window": window,
        "sizes": sizes, "listed": listed, "list_seconds": list_seconds, "load": round(os.getloadavg()[0], 1),
    }


def checkpoint(people: int, steps: int) -> dict:
    import trustsim
    from trustsim import engine
    from trustsim.checkpoint import SUGGESTED_EVERY, STATE, Checkpoints, fingerprint

    scenario = trustsim.load_scenario("national_2020", {"population.people": people, "run.years": steps * 7 / 365.25})
    step_seconds = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
        checkpoints = Checkpoints.start(folder, scenario, 0, SUGGESTED_EVERY)
        start = time.perf_counter()
        for t, ctx, state, recorder in engine._run(scenario, 0, None):
            recorder.record(t)
            step_seconds.append(time.perf_counter() - start)
            start = time.perf_counter()
        start = time.perf_counter()
        checkpoints.meta["society"] = fingerprint(ctx.society)
        fingerprint_seconds = time.perf_counter() - start
        start = time.perf_counter()
        checkpoints.write(state, recorder, steps)
        write_seconds = time.perf_counter() - start
        nbytes = (Path(folder) / "checkpoint" / STATE).stat().st_size
        start = time.perf_counter()
        checkpoints.restore(ctx, state, recorder)
        read_seconds = time.perf_counter() - start
        checkpoints.close(finished=True)
    step = sum(step_seconds[1:]) / max(len(step_seconds) - 1, 1)  # the first step warms the caches
    return {
        "people": people, "step": step, "write": write_seconds, "read": read_seconds,
        "fingerprint": fingerprint_seconds, "bytes": nbytes, "every": SUGGESTED_EVERY,
        "share": write_seconds / (write_seconds + SUGGESTED_EVERY * step), "load": round(os.getloadavg()[0], 1),
    }


def in_process(part: str, *args: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--part", part, *map(str, args)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(a: dict, c: dict) -> str:
    mib = 2**20
    sizes = {int(k): v for k, v in a["sizes"].items()}
    first = sizes[1]
    growth = " | ".join(f"{k:,}: {v / mib:,.1f} MiB" + (f" (+{(v - first) / (k - 1) / 1024:,.0f} KiB per run since the first)" if k > 1 else "")
                        for k, v in sizes.items())
    return f"""## Results store and checkpoints (bench_store.py)

{datetime.date.today()}; {machine()}; {versions("numpy", "numba", "duckdb", "pyarrow", "pandas")}.

**Appends.** national_2020 at {a['people']:,} people for one year ({a['steps']} steps, {a['rows']:,} metric
rows) was simulated once and its Result appended {a['count']:,} times into one directory with
`store.append_run` (what an ensemble's workers call; `store.save` adds the report, a constant cost).
Load average {a['load']} on this shared machine.

| append | seconds |
|---|---|
| first | {a['first']:.3f} |
| last ({a['count']:,}th) | {a['last']:.3f} |
| mean of the first {a['window']} | {a['first_mean']:.3f} |
| mean of the last {a['window']} | {a['last_mean']:.3f} |
| last / first (means) | {a['last_mean'] / a['first_mean']:.2f} |

Directory size after N appends: {growth}. Listing all {a['listed']:,} runs afterwards took {a['list_seconds']:.2f} s.

**Checkpoint** at {c['people']:,} people (national_2020): a step takes {c['step']:.2f} s; writing one
checkpoint takes {c['write']:.2f} s for {c['bytes'] / 2**20:,.0f} MiB ({c['bytes'] / c['people']:.1f} bytes per person),
reading it back {c['read']:.2f} s, the society's fingerprint (once per run and on resume) {c['fingerprint']:.2f} s.
Written every {c['every']} steps, checkpoints take {100 * c['share']:.1f}% of the run's stepping time. Load
average {c['load']}: other work slows the steps (compute) more than the checkpoint (mostly disk), so
on a quiet machine the share is larger; compare the model section's step time at 1e7.

Rerun: `python benchmarks/bench_store.py` (or `--appends N --checkpoint-people N`).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, print only (a smoke test)")
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--people", type=int, default=20_000, help="people of the appended run")
    parser.add_argument("--checkpoint-people", type=int, default=10_000_000)
    parser.add_argument("--part", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        part, *values = args.part
        figures = appends(*map(int, values)) if part == "appends" else checkpoint(*map(int, values))
        print(json.dumps(figures))
        return
    if args.quick:
        args.appends, args.people, args.checkpoint_people = 5, 2_000, 5_000
    a = in_process("appends", args.people, args.appends)
    c = in_process("checkpoint", args.checkpoint_people, 4)
    text = report(a, c)
    print(text)
    if not args.quick:
        write_section("store", text)


if __name__ == "__main__":
    main()
