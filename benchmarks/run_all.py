"""The whole benchmark suite in one command: society, reference workload, full model, its profile,
a small run, a first run, a national run, results store, case files, ensembles, explorer,
the posterior's estimators on toys, and national_2020's posterior (its bank, size and checks).

Run `python benchmarks/run_all.py` (about two hours on 2 cores, and 16 GiB of memory;
`--quick` runs each script at tiny sizes and writes nothing). Each script runs in its own process, one after the other, and
rewrites only its own section of benchmarks/RESULTS.md; a script that fails stops the suite.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# In this order: the society first, since the others build on it.
SCRIPTS = ("bench_society.py", "bench_reference.py", "bench_model.py", "bench_small_run.py", "bench_profile.py",
           "bench_first_run.py", "bench_national.py", "bench_store.py", "bench_trace.py", "bench_ensemble.py", "bench_explore.py",
           "bench_posterior_toys.py", "bench_posterior.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, print only (a smoke test)")
    args = parser.parse_args()
    for script in SCRIPTS:
        extra = ["--quick"] if args.quick else []
        if script == "bench_society.py" and args.quick:
            extra = ["--people", "20000"]
        print(f"== {script} {' '.join(extra)}", flush=True)
        subprocess.run([sys.executable, str(HERE / script), *extra], check=True)


if __name__ == "__main__":
    main()
