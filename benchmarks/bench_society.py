"""Benchmark of society generation: time, peak memory, bytes per person, degrees and locality.

Run `python benchmarks/bench_society.py` for 1e6 and 1e7 people, each in a fresh process so that
the peak resident memory is that build's; it prints a table, the estimate for 1e8 people from
estimate_bytes, and rewrites the society section of benchmarks/RESULTS.md (between its markers;
`--no-write` leaves the file alone). `--people N` measures one size and prints it as JSON. A
warm-up build of a thousand people first loads the compiled kernels, so the time is generation
alone; cpu_seconds (all threads) and the load average before the build tell a slow run on a busy
machine from a slow build.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time

from common import RESULTS, machine, use_source_tree, write_section

use_source_tree()

SIZES = (1_000_000, 10_000_000)
ESTIMATE_ONLY = 100_000_000
WARM_UP = 1_000
LOCALITY_WINDOW = 4096


def measure(people: int, seed: int) -> dict:
    import numba

    from trustsim.scenario.schema import Scenario
    from trustsim.society import build_society, estimate_bytes

    s = Scenario()
    s.population.people = WARM_UP
    build_society(s, seed)
    s.population.people = people
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    soc = build_society(s, seed)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    net = soc.network
    return {
        "people": people,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "load_before": round(load, 2),
        "threads": numba.get_num_threads(),
        "peak_rss_gib": round(peak / 2**30, 2),
        "estimate_gib": round(estimate_bytes(s.population, s.network) / 2**30, 2),
        "bytes_per_person": round(soc.nbytes / people, 1),
        "mean_degree": round(float(net.indptr[-1]) / people, 2),
        "degree_family": round(float(net.degree("family").mean()), 2),
        "degree_work_members": round(float(net.degree("work")[soc.workplace_member()].mean()), 2),
        "degree_friends": round(float(net.degree("friends").mean()), 2),
        "max_degree_friends": int(net.degree("friends").max()),
        "clustering_friends": round(net.clustering("friends"), 3),
        "within_window": round(net.locality(LOCALITY_WINDOW), 3),
        "median_distance": net.median_distance(),
    }


def section(rows: list[dict], estimate_1e8: float) -> str:
    import numba
    import numpy
    import scipy

    lines = [
        "## Society generation",
        "",
        f"`python benchmarks/bench_society.py`, {datetime.date.today().isoformat()}; {machine()}; "
        f"Python {platform.python_version()}, NumPy {numpy.__version__}, Numba {numba.__version__}, "
        f"SciPy {scipy.__version__}; default scenario (friends 6, work 4, kin 1.5), seed 0. "
        "Time is build_society alone (kernels already compiled); CPU is all threads together; "
        "load is the 1-minute load average before the build (other work on the machine).",
        "",
        "| people | time s | CPU s | load | peak RSS GiB | estimate GiB | B/person (arrays) | mean degree "
        "| family / work (members) / friends | friends max | friends clustering "
        f"| ties within {LOCALITY_WINDOW} | median distance |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['people']:.0e} | {r['seconds']} | {r['cpu_seconds']} | {r['load_before']} | {r['peak_rss_gib']} "
            f"| {r['estimate_gib']} | {r['bytes_per_person']} | {r['mean_degree']} "
            f"| {r['degree_family']} / {r['degree_work_members']} / {r['degree_friends']} "
            f"| {r['max_degree_friends']} | {r['clustering_friends']} | {r['within_window']:.0%} "
            f"| {r['median_distance']:.0f} |"
        )
    lines += ["", f"Estimated peak at 1e8 people (estimate_bytes): {estimate_1e8:.1f} GiB."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=float, help="measure one size and print it as JSON")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="print the section, leave RESULTS.md alone")
    args = parser.parse_args()
    if args.people:
        print(json.dumps(measure(int(args.people), args.seed)))
        return
    rows = []
    for people in SIZES:
        out = subprocess.run(
            [sys.executable, __file__, "--people", str(people), "--seed", str(args.seed)],
            check=True, capture_output=True, text=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    from trustsim.scenario.schema import Scenario
    from trustsim.society import estimate_bytes

    s = Scenario()
    s.population.people = ESTIMATE_ONLY
    text = section(rows, estimate_bytes(s.population, s.network) / 2**30)
    print(text)
    if not args.no_write:
        write_section("society", text)
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
