"""Benchmark of society generation: time, peak memory and bytes per person.

Run `python benchmarks/bench_society.py` for 1e6 and 1e7 people (each in a fresh process, so the
peak resident memory is that build's), or `--people N` for one size. A warm-up build of a
thousand people first loads the compiled kernels, so the time is generation alone. Prints one
line per size and the estimate for 1e8 people from estimate_bytes. cpu_seconds (all threads) and
the load average before the build tell a slow run on a busy machine from a slow build.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

SIZES = (1_000_000, 10_000_000)
ESTIMATE_ONLY = 100_000_000
WARM_UP = 1_000


def measure(people: int, seed: int) -> dict:
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
        "peak_rss_gib": round(peak / 2**30, 2),
        "estimate_gib": round(estimate_bytes(s.population, s.network) / 2**30, 2),
        "bytes_per_person": round(soc.nbytes / people, 1),
        "mean_degree": round(float(net.indptr[-1]) / people, 2),
        "degree_family": round(float(net.degree("family").mean()), 2),
        "degree_work_members": round(float(net.degree("work")[soc.workplace_member()].mean()), 2),
        "degree_friends": round(float(net.degree("friends").mean()), 2),
        "max_degree_friends": int(net.degree("friends").max()),
        "clustering_friends": round(net.clustering("friends"), 3),
        "within_4096": round(net.locality(4096), 3),
        "median_distance": net.median_distance(),
        "threads": int(__import__("numba").get_num_threads()),
        "versions": {m: __import__(m).__version__ for m in ("numpy", "numba", "scipy")},
        "python": sys.version.split()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=float, help="one size (default: 1e6 and 1e7)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.people:
        print(json.dumps(measure(int(args.people), args.seed)))
        return
    for people in SIZES:
        out = subprocess.run(
            [sys.executable, __file__, "--people", str(people), "--seed", str(args.seed)],
            check=True, capture_output=True, text=True,
        )
        print(out.stdout.strip().splitlines()[-1], flush=True)
    from trustsim.scenario.schema import Scenario
    from trustsim.society import estimate_bytes

    s = Scenario()
    s.population.people = ESTIMATE_ONLY
    print(json.dumps({"people": ESTIMATE_ONLY, "estimate_gib": round(estimate_bytes(s.population, s.network) / 2**30, 2)}))


if __name__ == "__main__":
    main()
