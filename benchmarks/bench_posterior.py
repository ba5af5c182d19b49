"""Benchmark and checks of `trustsim posterior` on a preset: cost, size and stability.

Run `python benchmarks/bench_posterior.py --scenario national_2020 --simulations 2000` (the bank
takes most of the time: about half an hour for national_2020 at 20,000 people on 2 cores; a bank
already in --out is reused, so a second call costs only the fit and the checks). `--quick` runs
tiny sizes and writes nothing. It measures and checks
- cost: the bank's runs per second (run and store), the estimator's training time, and the whole
  command's wall time; on paper, the same bank at 100,000 people on 64 cores;
- size: the first 50 posterior draws rerun at 10 times the bank's population: the share of their
  final headline values inside the bank-size posterior 90% bands, and the share of them on the
  high-blacklist branch at both sizes (tipping points can move with size);
- stability (`--stability`): a second bank with another seed, and how far each headline interval's
  endpoints move, relative to the first bank's.
It rewrites only its own section of benchmarks/RESULTS.md (one section per scenario). No run fails
on a figure: the table says what passed and by how much what did not.
"""

from __future__ import annotations

import argparse
import datetime
import os
import time
from pathlib import Path

from common import machine, use_source_tree, versions, write_section

use_source_tree()

SIZE_DRAWS = 50
SIZE_FACTOR = 10
CORES_ON_PAPER, PEOPLE_ON_PAPER = 64, 100_000
SHARES = ("blacklist_share", "wrongful_sanction_share", "expressed_dissent_ratio", "dissident_degree_ratio")


def bank_rate(out: Path, ensemble_id: str) -> float:
    """Runs per second of a stored bank: its runs over the span from the first start to the last finish."""
    import duckdb

    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    try:
        n, first, last = con.execute(
            "SELECT count(*), min(r.started_at), max(r.finished_at) FROM ensemble_runs e JOIN runs r USING (run_id) "
            "WHERE e.ensemble_id = ?", [ensemble_id]).fetchone()
    finally:
        con.close()
    return n / max((last - first).total_seconds(), 1e-9)


def stored_posterior(out: Path, scenario: str):
    """The latest posterior of the scenario stored in OUT: its summary row, or None."""
    from trustsim import store

    rows = store.table(out, "posterior_summary")
    if rows.empty or not (rows["scenario"] == scenario).any():
        return None
    return rows[rows["scenario"] == scenario].sort_values("created_at").iloc[-1]


def size_check(out: Path, scenario: str, people: int, draws: int, workers: int | None, seed: int) -> dict[str, float]:
    """Rerun the first posterior draws at SIZE_FACTOR x people; compare with the bank-size posterior."""
    import json

    import numpy as np

    from trustsim import store
    from trustsim.experiments.ensembles import prepare
    from trustsim.experiments.posterior import bank
    from trustsim.experiments.posterior.tipping import high_branch
    from trustsim.scenario.schema.observations import Observations

    summary = stored_posterior(out, scenario)
    pid = summary["posterior_id"]
    observations = Observations.model_validate_json(summary["observations"])
    tipping = json.loads(summary["tipping"])
    loaded, ranges = prepare(scenario, people * SIZE_FACTOR, None, None, None, None)
    rows = store.table(out, "posterior_draws")
    rows = rows[(rows["posterior_id"] == pid) & (rows["estimator"] == "npe") & (rows["draw"] < draws)]
    unit = rows.pivot(index="draw", columns="parameter", values="unit")[list(ranges)].to_numpy()
    big_out = out / f"size{SIZE_FACTOR}x"
    design = bank.predictive_design(ranges, unit, seed)
    big_id, _ = bank.run(loaded, design, big_out, workers=workers, scheduler=None, progress=True)
    big = bank.read(big_out, big_id, ranges, observations, loaded)
    small = bank.read(out, summary["predictive_id"], ranges, observations, loaded)
    bands = store.table(out, "predictive")
    bands = bands[(bands["posterior_id"] == pid) & (bands["kind"] == "posterior")]
    last = bands[bands["step"] == bands["step"].max()].set_index("metric")
    found = {}
    for metric in SHARES:
        if metric not in big.finals or metric not in last.index:
            continue
        values = big.finals[metric].to_numpy()
        inside = (values >= last.loc[metric, "q05"]) & (values <= last.loc[metric, "q95"])
        found[f"inside.{metric}"] = float(np.mean(inside))
    if tipping and tipping.get("threshold") is not None and "blacklist_share" in big.finals:
        cut = tipping["threshold"]
        found["high.small"] = float(np.mean(high_branch(small.finals["blacklist_share"].reindex(big.samples).to_numpy(),
                                                        cut)))
        found["high.big"] = float(np.mean(high_branch(big.finals["blacklist_share"].to_numpy(), cut)))
    found["runs"] = float(len(big))
    return found


def stability(done, other, estimate: str) -> list[tuple[str, float, float]]:
    """Per headline metric, the relative moves of the two endpoints of its posterior 90% interval
    by one estimate ("npe": reruns at the neural draws, "weighted": the weighted bank)."""
    a = done.headline.set_index("metric")
    b = other.headline.set_index("metric")
    rows = []
    for metric in a.index.intersection(b.index):
        moves = []
        for q in (f"{estimate}_q05", f"{estimate}_q95"):
            base = abs(a.loc[metric, q]) or 1e-12
            moves.append(abs(b.loc[metric, q] - a.loc[metric, q]) / base)
        rows.append((metric, moves[0], moves[1]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="national_2020")
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--simulations", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="the posterior's directory (default: a new one here)")
    parser.add_argument("--stability", action="store_true", help="also a second bank with seed 1")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, print only (a smoke test)")
    args = parser.parse_args()
    from trustsim.experiments.posterior import PREDICTIVE_SEED, posterior

    people, sims, draws, size_draws, members = args.people, args.simulations, 100, SIZE_DRAWS, 5
    if args.quick:
        people, sims, draws, size_draws, members = 1000, 100, 10, 4, 1
    out = args.out or Path(f"bench-posterior-{args.scenario}-{people}")
    started = time.perf_counter()
    done = posterior(args.scenario, sims, people=people, draws=draws, members=members,
                     workers=args.workers, out=out, progress=True)
    wall = time.perf_counter() - started
    rate = bank_rate(out, done.bank_id)
    # the reruns at 10x get the same seeds as the bank-size reruns of the same draws: only the size differs
    size = size_check(out, args.scenario, people, size_draws, args.workers, PREDICTIVE_SEED)
    lines = [f"Measured {datetime.date.today()} on {machine()}; {versions('numpy', 'numba', 'torch', 'sbi')}; "
             f"1-minute load average after the first posterior: {os.getloadavg()[0]:.1f} (its own runs).", "",
             f"`python benchmarks/bench_posterior.py --scenario {args.scenario} --people {people} --simulations {sims}"
             f"{' --stability' if args.stability else ''}`", "",
             "| figure | value |", "| --- | --- |",
             f"| bank | {sims} runs of {people:,} people, {done.scenario.run.steps} steps |",
             f"| bank runs per second (run and store, {args.workers or os.cpu_count()} workers) | {rate:.2f} |",
             f"| training, {members} members | "
             f"{done.diagnostics['train_seconds']:.0f} s |",
             f"| whole command, wall (a stored bank is reused) | {wall / 60:.1f} min |",
             f"| on paper: the same bank at {PEOPLE_ON_PAPER:,} people on {CORES_ON_PAPER} cores | "
             f"{sims / (rate * CORES_ON_PAPER / (args.workers or os.cpu_count())) * PEOPLE_ON_PAPER / people / 60:.0f} "
             f"min (run time taken as proportional to people) |",
             f"| size: reruns at {SIZE_FACTOR}x people | {int(size['runs'])} |"]
    for metric in SHARES:
        if f"inside.{metric}" in size:
            lines.append(f"| size: {metric} at {SIZE_FACTOR}x inside the bank-size posterior 90% band | "
                         f"{100 * size[f'inside.{metric}']:.0f}% of reruns |")
    if "high.big" in size:
        lines.append(f"| size: share on the high-blacklist branch, bank size vs {SIZE_FACTOR}x (agree within 0.05?) | "
                     f"{size['high.small']:.2f} vs {size['high.big']:.2f} "
                     f"({'yes' if abs(size['high.small'] - size['high.big']) <= 0.05 else 'no'}) |")
    for name, value in done.diagnostics.items():
        if name.startswith(("coverage.", "sbc.", "tarp.", "ess", "reproducible")):
            lines.append(f"| check: {name} | {value:.3g} |")
    if args.stability:
        other = posterior(args.scenario, sims, seed=1, people=people, draws=draws, workers=args.workers,
                          out=Path(f"{out}-seed1"), progress=True)
        for estimate, name in (("npe", "neural (reruns)"), ("weighted", "weighted bank")):
            for metric, low, high in stability(done, other, estimate):
                lines.append(f"| stability, {name}: {metric}, endpoints moved (5%, 95%) | {100 * low:.0f}%, "
                             f"{100 * high:.0f}% ({'under' if max(low, high) < 0.1 else 'over'} 10%) |")
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        write_section(f"posterior-{args.scenario}", f"## trustsim posterior: {args.scenario}\n\n{text}")


if __name__ == "__main__":
    main()
