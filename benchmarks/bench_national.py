"""Benchmark of a national run: national_2020 at 1e8 people, the society and a few weekly steps.

Run `python benchmarks/bench_national.py` (about 10 minutes and 15 GiB on this machine; `--quick`
runs 1e5 people for 2 steps, prints and never writes). It builds the society, runs `--steps`
weekly steps (4 by default) and projects a year as the build plus 52 times the mean step, the
figure issue 12's target of 15 minutes is about. Peak resident memory is compared with the
estimate `trustsim run` checks before it allocates anything. It rewrites only the national
section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os

from common import machine, peak_rss, reset_peak, use_source_tree, versions, write_section

use_source_tree()

PEOPLE = 100_000_000
STEPS = 4
YEAR_TARGET_MIN = 15.0  # issue 12


def measure(people: int, steps: int, seed: int) -> dict:
    import trustsim
    from trustsim import engine
    from trustsim.engine import Timings, estimate_bytes

    warm = trustsim.load_scenario("national_2020", {"population.people": 2_000, "run.years": 2 * 7 / 365.25})
    trustsim.simulate(warm, seed=seed)  # loads the compiled kernels, so the steps time stepping alone
    scenario = trustsim.load_scenario("national_2020", {"population.people": people, "run.years": steps * 7 / 365.25})
    load = os.getloadavg()[0]
    reset_peak()
    timings = Timings()
    for t, ctx, state, recorder in engine._run(scenario, seed, timings):
        timings.timed("metrics", recorder.record, t)
    per_step = ("people", "network", "metrics")  # the network pass before the first step ("start") is once a run
    step_s = sum(timings[k] for k in per_step) / scenario.run.steps
    return {
        "people": people, "steps": scenario.run.steps, "society_s": timings["society"], "step_s": step_s,
        "passes": {k: timings[k] / scenario.run.steps for k in per_step},
        "year_min": (timings["society"] + timings["start"] + 52 * step_s) / 60, "peak_rss": peak_rss(),
        "estimate": estimate_bytes(scenario), "load": load,
    }


def section(r: dict) -> str:
    passes = ", ".join(f"{k} {v:.1f} s" for k, v in r["passes"].items())
    verdict = "met" if r["year_min"] <= YEAR_TARGET_MIN else f"missed by {r['year_min'] / YEAR_TARGET_MIN:.1f}x"
    return "\n".join([
        "## A national run (bench_national.py)",
        "",
        f"`python benchmarks/bench_national.py`, {datetime.date.today().isoformat()}; {machine()}; "
        f"{versions('numpy', 'numba')}. national_2020 at {r['people']:.0e} people, {r['steps']} weekly steps on "
        f"2 threads; a year is the society's build plus 52 times the mean step. Load (1-minute average) "
        f"before the run: {r['load']:.1f}.",
        "",
        "| society build s | mean step s | of which | a year (projected) | peak RSS GiB | estimate GiB |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {r['society_s']:.0f} | {r['step_s']:.1f} | {passes} | {r['year_min']:.1f} min "
        f"| {r['peak_rss'] / 2**30:.2f} | {r['estimate'] / 2**30:.2f} |",
        "",
        f"Target (issue 12): a year at 1e8 people in at most {YEAR_TARGET_MIN:.0f} min: {r['year_min']:.1f} min, "
        f"{verdict}; peak memory {'under' if r['peak_rss'] < r['estimate'] else 'OVER'} the estimate.",
    ]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e5 people, 2 steps: a smoke test (prints, never writes)")
    parser.add_argument("--people", type=float, default=PEOPLE)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    people, steps = (100_000, 2) if args.quick else (int(args.people), args.steps)
    text = section(measure(people, steps, args.seed))
    print(text)
    if not (args.quick or args.no_write):
        write_section("national", text)


if __name__ == "__main__":
    main()
