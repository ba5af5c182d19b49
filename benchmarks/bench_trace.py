"""Benchmark of case files (run.trace): what tracing costs, off and on.

Run `python benchmarks/bench_trace.py` (national_2020, 1e5 people, 10 steps; `--quick` runs 1e4
people in seconds as a smoke test and never writes). With `--before DIR`, the untraced step loop
is also timed with the trustsim found in DIR/src (e.g. a `git archive` of the commit before
tracing), to show that tracing off costs nothing. Figures, each the median of --repeats runs
after a warm-up, in a fresh process per configuration:

- off: the step loop of an untraced run (as bench_model.py's "all");
- traced: the step loop of the second pass with 1,000 people traced (buffer writes and draining);
- whole run: trustsim.simulate with and without run.trace = 1,000, i.e. both passes and the choice.

It rewrites only the trace section of benchmarks/RESULTS.md. No run fails on a speed figure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import machine, use_source_tree, versions, write_section

PEOPLE, STEPS, TRACED, REPEATS = 100_000, 10, 1_000, 5


def measure(mode: str, people: int, steps: int, traced: int, repeats: int, seed: int) -> dict:
    """Median seconds of the step loop (off, traced) or of a whole simulate (run_off, run_traced)."""
    import numpy as np

    import trustsim
    from trustsim import engine
    from trustsim.engine import Timings

    def scenario(n, k, trace=0):
        values = {"population.people": n, "run.years": k * 7 / 365.25}
        if trace:
            values["run.trace"] = trace
        return trustsim.load_scenario("national_2020", values)

    trustsim.simulate(scenario(2_000, 2, 20 if mode != "off" else 0), seed=seed)  # loads the compiled kernels
    seconds = []
    for _ in range(repeats):
        if mode.startswith("run"):
            start = time.perf_counter()
            trustsim.simulate(scenario(people, steps, traced if mode == "run_traced" else 0), seed=seed)
            seconds.append(time.perf_counter() - start)
            continue
        from_trace = {}
        if mode == "traced":
            from trustsim.trace import Tracer

            chosen = np.sort(np.random.default_rng(seed).choice(people, traced, replace=False))
            from_trace = {"tracer": Tracer(people, chosen, ["random"] * traced)}
        timings = Timings()
        for t, _, _, recorder in engine._run(scenario(people, steps), seed, timings, **from_trace):
            timings.timed("metrics", recorder.record, t)
        seconds.append(sum(v for k, v in timings.items() if k != "society"))
    return {"mode": mode, "people": people, "steps": steps, "traced": traced if mode != "off" else 0,
            "seconds": statistics.median(seconds), "spread": max(seconds) - min(seconds),
            "load": round(os.getloadavg()[0], 1)}


def run(mode: str, args, source: Path | None = None) -> dict:
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source / "src")
        env["BENCH_TRACE_SOURCE"] = str(source)
    out = subprocess.run(
        [sys.executable, __file__, "--mode", mode, "--people", str(args.people), "--steps", str(args.steps),
         "--traced", str(args.traced), "--repeats", str(args.repeats)],
        capture_output=True, text=True, check=True, env=env,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["label"] = {"off": "tracing off", "traced": f"{args.traced:,} traced (second pass)",
                    "run_off": "whole run, untraced", "run_traced": f"whole run, {args.traced:,} traced"}[mode]
    if source is not None:
        row["label"] += " (before tracing)"
    print(f"{row['label']}: {row['seconds']:.3f} s", flush=True)
    return row


def section(rows: list[dict], args) -> str:
    off = next(r for r in rows if r["mode"] == "off" and "before" not in r["label"])
    whole = next((r for r in rows if r["mode"] == "run_off"), None)
    lines = [
        "## Case files (run.trace)",
        "",
        f"`python benchmarks/bench_trace.py{' --before DIR' if any('before' in r['label'] for r in rows) else ''}`, "
        f"{datetime.date.today().isoformat()}; {machine()}; {versions('numpy', 'numba')}. national_2020, "
        f"{args.people:,} people, {args.steps} steps; seconds are the median of {args.repeats} runs "
        "(spread: slowest minus fastest). The step loop excludes generating the society; the whole run is "
        "`trustsim.simulate`, which with tracing runs the model twice (the first pass to choose people by what "
        "happens to them, the second to record them). The machine was shared with other agents' work while "
        "this ran (load: 1-minute load average at the end), so differences of a few percent are noise.",
        "",
        "| what | seconds | spread | person-steps/s | vs tracing off | load |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        base = whole if r["mode"].startswith("run") else off
        ratio = r["seconds"] / base["seconds"]
        lines.append(f"| {r['label']} | {r['seconds']:.3f} | {r['spread']:.3f} "
                     f"| {r['people'] * r['steps'] / r['seconds'] / 1e6:.3g} M | {ratio:.3f}x | {r['load']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e4 people, 3 steps: a smoke test (never writes)")
    parser.add_argument("--before", type=Path, help="a source tree (DIR/src) of trustsim before tracing")
    parser.add_argument("--mode", choices=("off", "traced", "run_off", "run_traced"), help=argparse.SUPPRESS)
    parser.add_argument("--people", type=int, default=PEOPLE)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--traced", type=int, default=TRACED)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="print the section, leave RESULTS.md alone")
    args = parser.parse_args()
    if args.mode:
        if "BENCH_TRACE_SOURCE" not in os.environ:
            use_source_tree()
        print(json.dumps(measure(args.mode, args.people, args.steps, args.traced, args.repeats, args.seed)))
        return
    if args.quick:
        args.people, args.steps, args.traced, args.repeats = 10_000, 3, 100, 1
    rows = []
    if args.before is not None:
        rows.append(run("off", args, args.before))
    for mode in ("off", "traced", "run_off", "run_traced"):
        rows.append(run(mode, args))
    text = section(rows, args)
    print(text)
    if not (args.quick or args.no_write):
        write_section("trace", text)


if __name__ == "__main__":
    main()
