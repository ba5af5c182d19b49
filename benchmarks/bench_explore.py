"""Benchmark of the explorer: how long the page waits after a lever is moved and Run pressed.

Run `python benchmarks/bench_explore.py` (national_2020, 20,000 people, one year of weekly steps;
`--quick` runs one change at 2,000 people for 8 weeks as a smoke test and never writes). It first runs the unchanged preset
once, which loads the compiled kernels and fills the explorer's cache with the baseline, as the
page's first Run does. Then, for each of a few lever changes, it times what a press of Run costs:
the changed run (the baseline comes from the cache) and the comparison plots the page draws. It
rewrites only the explore section of benchmarks/RESULTS.md. No run fails on a speed figure.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import time

from common import machine, use_source_tree, versions, write_section

use_source_tree()

CHANGES = (
    ("fewer cameras (100 million)", {"surveillance.cameras": 100e6}),
    ("appeals at 90% / 90%", {"sanctions.appeals.rate": 0.9, "sanctions.appeals.success_rate": 0.9}),
    ("no pull of contacts' scores", {"scoring.association.weight": 0.0}),
)


def measure(people: int, years: float, changes: tuple = CHANGES) -> tuple[float, list[tuple[str, float, float, float, float]]]:
    from trustsim.experiments.compare import Comparison
    from trustsim.explore.runs import Request, run_pair
    from trustsim.report.compare import figures

    started = time.perf_counter()
    run_pair(Request.make("national_2020", {}, people, years, 0))
    first = time.perf_counter() - started
    rows = []
    for name, overrides in changes:
        load = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        changed, unchanged = run_pair(Request.make("national_2020", overrides, people, years, 0))
        ran = time.perf_counter() - started
        started = time.perf_counter()
        figures(Comparison(["unchanged", "changed"], [0], {"unchanged": [unchanged], "changed": [changed]}))
        rows.append((name, ran, time.perf_counter() - started, time.process_time() - cpu, load))
    return first, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one change, 2,000 people, 8 weeks, print only (a smoke test)")
    args = parser.parse_args()
    people = 2_000 if args.quick else 20_000
    first, rows = measure(people, 8 * 7 / 365.25, CHANGES[:1]) if args.quick else measure(people, 1)
    totals = [ran + plots for _, ran, plots, _, _ in rows]
    lines = [
        "## Explorer: a run after a lever change",
        "",
        f"`python benchmarks/bench_explore.py`, {datetime.date.today()}; {machine()}; "
        f"{versions('numpy', 'numba', 'pandas', 'plotly', 'streamlit')}. national_2020, {people:,} people, one year "
        "of weekly steps, seed 0. The first press of Run (kernels loaded from the cache on disk, the unchanged "
        f"preset run and kept) took {first:.1f} s. Each later change costs one run (the unchanged side comes "
        "from the explorer's cache) and the comparison plots: seconds of waiting (wall clock), and the CPU "
        "seconds of all threads, which other work on the machine does not inflate as much; load is the "
        "1-minute load average before it.",
        "",
        "| change | run s | plots s | total s | CPU s | load |",
        "| --- | --- | --- | --- | --- | --- |",
        *(f"| {name} | {ran:.2f} | {plots:.2f} | **{ran + plots:.2f}** | {cpu:.2f} | {load:.1f} |"
          for name, ran, plots, cpu, load in rows),
        "",
        f"Median wait after a lever change: {statistics.median(totals):.2f} s (issue 13 asks for about 3 s or less).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        write_section("explore", text)


if __name__ == "__main__":
    main()
