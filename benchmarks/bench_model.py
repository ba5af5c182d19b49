"""Benchmark of the full model: national_2020, pass by pass, at several sizes.

Run `python benchmarks/bench_model.py` (sizes 1e5, 1e6, 1e7; `--quick` runs 1e4 in seconds as a
smoke test and never writes). Each size runs in a fresh process, after a small warm-up run that
loads the compiled kernels, so the figures are stepping alone and the peak resident memory is that
run's. For each pass of the step (people, network; see engine.py) and the metrics it
reports person-steps per second, i.e. people x steps / seconds spent in it; "all" is the step loop
without the society's generation. Bytes per person are given twice: the arrays of the society and
the state, and the peak resident memory (which adds the interpreter and libraries, about 0.4 GiB).
It rewrites only the model section of benchmarks/RESULTS.md. No run fails on a speed figure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys

from common import machine, peak_rss, reset_peak, use_source_tree, versions, write_section

use_source_tree()

SIZES = (100_000, 1_000_000, 10_000_000)
STEPS = 10
TARGET_1E6 = 10e6  # person-steps/s, issue 12
TARGET_1E7 = 8e6
REFERENCE_STEPS = 10
STAGES = ("people", "network", "metrics")  # each step's two passes, then recording its metrics


def _reference_rate(network, steps: int, seed: int) -> float:
    """Person-steps/s of the reference workload (trustsim.kernels.reference) on this society's graph."""
    import time

    import numpy as np

    from trustsim.kernels.reference import run_reference

    n = network.indptr.shape[0] - 1
    propensity = np.random.default_rng(seed).random(n, dtype=np.float32)
    start = time.perf_counter()
    run_reference(network.indptr, network.indices, propensity, steps, seed)
    return n * steps / (time.perf_counter() - start)


def measure(people: int, steps: int, seed: int) -> dict:
    import math

    import trustsim
    from trustsim import engine
    from trustsim.engine import Timings, estimate_bytes
    from trustsim.society import build_society

    warm = trustsim.load_scenario("national_2020", {"population.people": 2_000, "run.years": 2 * 7 / 365.25})
    trustsim.simulate(warm, seed=seed)
    scenario = trustsim.load_scenario(
        "national_2020", {"population.people": people, "run.years": steps * 7 / 365.25}
    )
    load = os.getloadavg()[0]
    reset_peak()
    timings = Timings()
    society = timings.timed("society", build_society, scenario, seed)
    _reference_rate(society.network, 1, seed)  # loads the reference kernel
    # The machine's speed drifts between runs, so the reference is timed just before and after.
    before = _reference_rate(society.network, REFERENCE_STEPS, seed)
    # simulate's own loop, kept here to reach the society and the state for their sizes
    for t, ctx, state, recorder in engine._run(scenario, seed, timings, society=society):
        timings.timed("metrics", recorder.record, t)
    reference = math.sqrt(before * _reference_rate(society.network, REFERENCE_STEPS, seed))
    arrays = ctx.society.nbytes + state.nbytes + ctx.people.decile.nbytes
    stepping = sum(timings[k] for k in STAGES)  # not the build, nor the network pass before the first step
    return {
        "people": people,
        "steps": scenario.run.steps,
        "society_s": round(timings["society"], 2),
        "rates": {k: people * scenario.run.steps / timings[k] for k in STAGES},
        "all": people * scenario.run.steps / stepping,
        "reference": reference,
        "peak_rss": peak_rss(),
        "arrays": arrays,
        "estimate": estimate_bytes(scenario),
        "load": round(load, 1),
    }


def section(rows: list[dict]) -> str:
    stages = STAGES
    lines = [
        "## Full model (national_2020)",
        "",
        f"`python benchmarks/bench_model.py`, {datetime.date.today().isoformat()}; {machine()}; "
        f"{versions('numpy', 'numba', 'scipy', 'pandas')}. Person-steps/s per pass = people x steps / "
        "seconds in that pass (people: behaviour, "
        "surveillance, scoring and sanctions household by household, with the metrics' sums; network: "
        "responses and the contacts' term of the score; metrics: turning the sums into metrics); all = "
        "the step loop without generating the society. B/person (arrays) counts the society's and the "
        "state's arrays; RSS adds the interpreter and libraries (about 0.4 GiB). Load is the 1-minute "
        "load average before the run (other work on the machine). Reference: the reference workload "
        "(benchmarks/README.md) on the same society's graph in the same process, timed just before "
        "and after the model's steps (geometric mean), since this machine's speed drifts by 10-50% "
        "between runs; ratio = all / reference.",
        "",
        "| people | steps | " + " | ".join(f"{s} pass" if s != "metrics" else s for s in stages) + " | all | reference | ratio | society s | B/person (arrays) "
        "| peak RSS GiB | B/person (RSS) | estimate GiB | load |",
        "| --- | --- | " + " | ".join("---" for _ in stages) + " | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        rates = " | ".join(f"{r['rates'][s] / 1e6:.3g} M" for s in stages)
        lines.append(
            f"| {r['people']:.0e} | {r['steps']} | {rates} | **{r['all'] / 1e6:.3g} M** "
            f"| {r['reference'] / 1e6:.3g} M | {r['all'] / r['reference']:.3f} | {r['society_s']} "
            f"| {r['arrays'] / r['people']:.0f} | {r['peak_rss'] / 2**30:.2f} | {r['peak_rss'] / r['people']:.0f} | {r['estimate'] / 2**30:.2f} "
            f"| {r['load']} |"
        )
    for people, target in ((1_000_000, TARGET_1E6), (10_000_000, TARGET_1E7)):
        for r in (r for r in rows if r["people"] == people):
            verdict = "met" if r["all"] >= target else f"missed by {target / r['all']:.1f}x"
            lines += ["", f"Target (issue 12): {target / 1e6:.0f} M person-steps/s at {people:.0e} people: "
                      f"{r['all'] / 1e6:.3g} M, {verdict}; the target is {target / r['reference']:.3f} of the "
                      f"reference measured beside it, the model reached {r['all'] / r['reference']:.3f}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e4 people, 3 steps: a smoke test (prints, never writes)")
    parser.add_argument("--people", type=float, help="measure one size in this process and print it as JSON")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="print the section, leave RESULTS.md alone")
    args = parser.parse_args()
    if args.people:
        print(json.dumps(measure(int(args.people), args.steps, args.seed)))
        return
    sizes, steps = ((10_000,), 3) if args.quick else (SIZES, args.steps)
    rows = []
    for people in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--people", str(people), "--steps", str(steps), "--seed", str(args.seed)],
            capture_output=True, text=True, check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{people:.0e}: {rows[-1]['all'] / 1e6:.3g} M person-steps/s", flush=True)
    text = section(rows)
    print(text)
    if not (args.quick or args.no_write):
        write_section("model", text)


if __name__ == "__main__":
    main()
