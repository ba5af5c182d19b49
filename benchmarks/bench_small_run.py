"""What a small run costs besides its step passes: the batch-sized run of ensembles and posteriors.

Run `python benchmarks/bench_small_run.py` (about a minute). It times warm national_2020 runs of
10,000 people over one year (`trustsim.simulate`, as an ensemble's worker calls it) and splits each
into building the society, the step passes, recording the metrics and the rest, with the machine's
load beside them. Target (issue 23): the whole run at most 1.3x its step passes.

It rewrites its section of RESULTS.md (`--no-write`: print only; `--quick`: 2,000 people, print only).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import time

from common import machine, use_source_tree, versions, write_section

use_source_tree()

import trustsim  # noqa: E402
from trustsim.engine import Timings  # noqa: E402

PASSES = ("start", "people", "network")  # the network pass before the first step, then each step's two (step.py)
TARGET = 1.3
REPEATS = 7


def one_run(scenario) -> dict[str, float]:
    timings = Timings()
    start = time.perf_counter()
    trustsim.simulate(scenario, seed=1, timings=timings)
    total = time.perf_counter() - start
    passes = sum(timings.get(name, 0.0) for name in PASSES)
    parts = {"whole run": total, "step passes": passes, "building the society": timings.get("society", 0.0),
             "recording the metrics": timings.get("metrics", 0.0)}
    parts["everything else"] = total - passes - parts["building the society"] - parts["recording the metrics"]
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 people; prints, never writes")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    people = 2_000 if args.quick else 10_000
    scenario = trustsim.load_scenario("national_2020", {"population.people": people, "run.years": 1})
    trustsim.simulate(scenario, seed=1)  # compiled and warm
    runs = [one_run(scenario) for _ in range(REPEATS)]
    load = os.getloadavg()[0]
    ratios = [r["whole run"] / r["step passes"] for r in runs]
    rows = [f"| {name} | {statistics.median(r[name] for r in runs):.3f} | "
            f"{min(r[name] for r in runs):.3f} to {max(r[name] for r in runs):.3f} |" for name in runs[0]]
    ratio = statistics.median(ratios)
    verdict = "met" if ratio <= TARGET else f"missed: {ratio:.2f}x"
    text = "\n".join([
        "## A small run (bench_small_run.py)",
        "",
        f"`python benchmarks/bench_small_run.py`, {datetime.date.today().isoformat()}; {machine()}; "
        f"{versions('numpy', 'numba')}. national_2020, {people:,} people, one year (52 steps), warm, "
        f"{REPEATS} runs in one process; 1-minute load average at the end {load:.1f} (the machine was shared "
        "if it is above 0.5).",
        "",
        "| part | median s | fastest to slowest |",
        "| --- | --- | --- |",
        *rows,
        "",
        f"The whole run over its step passes: {ratio:.2f}x (runs: {', '.join(f'{r:.2f}' for r in ratios)}); "
        f"target (issue 23) at most {TARGET}x: {verdict}.",
    ])
    print(text)
    if not (args.quick or args.no_write):
        write_section("small_run", text)


if __name__ == "__main__":
    main()
