"""The `trustsim` command line: run, resume, validate, presets, report, case, compare, calibrate, ensemble,
uncertainty, sensitivity, posterior, explore.

Each command is a thin layer over the Python API. `main` is the entry point (the installed
`trustsim` command and `python -m trustsim`): it turns a UserError or a usage error into one line,
`trustsim: error: ...`, on stderr with exit code 2, so a user's mistake never shows a traceback;
Ctrl-C during a run is one line too, saying at which step it stopped, with exit code 130; an
InputWarning is one line, `trustsim: warning: ...`. Each command checks all it was given, its
--out included, before its work starts, so a refused command has written nothing.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

from trustsim.checkpoint import SUGGESTED_EVERY, Checkpoints
from trustsim.engine import check_memory, simulate
from trustsim.errors import InputWarning, Interrupted, UserError
from trustsim.experiments import calibration as cal
from trustsim.experiments.compare import compare as run_comparison
from trustsim.experiments.ensembles import ensemble as run_ensemble
from trustsim.experiments.ensembles import sensitivity as run_sensitivity
from trustsim.experiments.ensembles import uncertainty as run_uncertainty
from trustsim.experiments.ensembles.analysis import ranking
from trustsim.experiments.ensembles.design import MAX_RUNS
from trustsim.experiments.posterior import PREDICTIVE_SEED, posterior as run_posterior
from trustsim.explore.server import serve
from trustsim.report.cases import cases
from trustsim.report.compare import format_difference
from trustsim.report.summary import headline_lines
from trustsim.result import Result, format_value
from trustsim.scenario.loading import load_scenario, parse_overrides, presets as list_presets, source_label, source_of
from trustsim.scenario.observations import check_dates
from trustsim.scenario.uncertainty import parse_vary, ranges_of
from trustsim.store import DB, REPORT, check_directory, foreign_staging, open_results, rebuild_report, save

MAX_SEED = 2**63 - 1  # a run's seed is stored as a signed 64-bit integer
MAX_MEMBERS = 100  # neural estimators: each trains for minutes, and docs/posterior.md uses 5

app = typer.Typer(
    name="trustsim",
    help="Simulate a state social-credit system on synthetic people and audit what it does to them.",
    add_completion=False,
    pretty_exceptions_enable=False,
)

ScenarioArg = Annotated[str, typer.Argument(help="A preset name (see `trustsim presets`) or a YAML file.")]
PeopleOption = Annotated[int | None, typer.Option(help="Number of simulated people (population.people).")]
YearsOption = Annotated[float | None, typer.Option(help="Simulated years (run.years).")]


@app.command()
def run(
    scenario: ScenarioArg = "national_2020",
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="Override a setting by its dotted key, e.g. sanctions.rules.0.min_weeks=4 (repeatable).")] = None,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Random seed; the same seed gives the same run.")] = 0,
    people: PeopleOption = None,
    years: YearsOption = None,
    out: Annotated[Path, typer.Option(help="Directory for results.duckdb and report.html.")] = Path("trustsim-out"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")] = False,
    checkpoint_every: Annotated[int | None, typer.Option(
        min=1, metavar="K", help=f"Write a checkpoint into OUT/checkpoint every K steps (e.g. {SUGGESTED_EVERY}); "
        "`trustsim resume OUT` carries on from it.")] = None,
    trace: Annotated[int | None, typer.Option(
        min=0, help="Follow N people event by event (run.trace); read them with `trustsim case OUT`.")] = None,
) -> None:
    """Run a scenario; write OUT/results.duckdb and OUT/report.html and print a summary."""
    overrides = _overrides(set_, people, years)
    if trace is not None:
        overrides["run.trace"] = trace
    loaded = load_scenario(scenario, overrides)
    check_memory(loaded, source_label(scenario))
    check_directory(out)  # before the run, so a bad --out does not cost a whole run
    checkpoints = None
    if checkpoint_every is not None:
        source = {"scenario": source_of(scenario), "set": set_ or [], "people": people, "years": years}
        checkpoints = Checkpoints.start(out, loaded, seed, checkpoint_every, source)
    _run_and_save(loaded, seed, out, quiet, checkpoints)


@app.command()
def resume(
    directory: Annotated[Path, typer.Argument(help="The --out directory of a run started with --checkpoint-every.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")] = False,
) -> None:
    """Carry on a run from its last checkpoint in DIR; its results are those of the run left uninterrupted."""
    check_directory(directory)  # before the society's build, so a place it cannot write costs nothing
    checkpoints = Checkpoints.resume(directory)
    try:
        scenario = checkpoints.scenario
        source = checkpoints.meta["source"]
        if source:  # refuse a scenario changed since the run started (an edited file, another preset)
            try:
                now = load_scenario(source["scenario"], _overrides(source["set"], source["people"], source["years"]))
            except UserError:
                now = scenario  # the file is gone: the checkpoint holds the whole scenario
            if now != scenario:
                raise UserError(f"{directory}/checkpoint: the scenario {source['scenario']} changed since the "
                                f"checkpoint; allowed: the scenario as it was, or start the run again")
    except BaseException:
        checkpoints.close(finished=False)
        raise
    if not quiet:
        typer.echo(f"resuming {scenario.name}, seed {checkpoints.seed}, from step {checkpoints.step} of {scenario.run.steps}")
    _run_and_save(scenario, checkpoints.seed, directory, quiet, checkpoints)


def _overrides(set_: list[str] | None, people: int | None, years: float | None) -> dict:
    overrides = parse_overrides(set_ or [])
    if people is not None:
        overrides["population.people"] = people
    if years is not None:
        overrides["run.years"] = years
    return overrides


def _run_and_save(scenario, seed: int, out: Path, quiet: bool, checkpoints: Checkpoints | None) -> None:
    """Run, save into out and print the summary; a checkpoint is removed once the run is saved."""
    finished = False
    try:
        try:
            result = simulate(scenario, seed=seed, progress=not quiet, checkpoints=checkpoints)
        except Interrupted as exc:
            kept = (f"; resume from step {checkpoints.step} with `trustsim resume {out}`"
                    if checkpoints is not None and checkpoints.saved else "")
            raise Interrupted(exc.done, exc.steps, f"{exc}; nothing was written{kept}") from None
        run_id = save([result], out)[0]
        finished = True
    finally:
        if checkpoints is not None:
            checkpoints.close(finished)
    if not quiet:
        _summary(result, out, run_id)


def _summary(result: Result, out: Path, run_id: int) -> None:
    s = result.scenario.run
    typer.echo(
        f"{result.scenario.name}, seed {result.seed}: {result.people:,} people, {result.steps} steps of {s.step_days} days "
        f"from {s.start}, in {result.elapsed_seconds:.1f} s"
    )
    for line in headline_lines(result):
        typer.echo(line)
    typer.echo(f"wrote {out / DB} (run {run_id}) and {out / REPORT}")


VaryOption = Annotated[list[str] | None, typer.Option(
    "--vary", metavar="KEY=LO:HI", help="A plausible range to add or replace, e.g. scoring.association.weight=0.1:0.5 (repeatable).")]


@app.command()
def validate(scenario: ScenarioArg, vary: VaryOption = None) -> None:
    """Check a scenario (and its plausible ranges) without running it; print OK and what it holds."""
    s = load_scenario(scenario)
    check_memory(s, source_label(scenario))
    ranges = ranges_of(s, parse_vary(vary or []))
    check_dates(s.observations, s.run, source_label(scenario))
    label = scenario if scenario == s.name else f"{scenario} ({s.name})"
    figures = s.observations.figures.values()
    premises = sum(o.kind == "premise" for o in figures)
    typer.echo(
        f"OK {label}: {s.population.people:,} people, {s.run.steps} steps of "
        f"{s.run.step_days} days from {s.run.start}, participation {s.participation.mode}, "
        f"{len(s.sanctions.rules)} sanction rules, {len(s.rewards.rules)} reward rules, {len(ranges)} plausible ranges, "
        f"{len(s.observations.figures) - premises} published figures and {premises} design premises to condition on"
    )


@app.command()
def presets() -> None:
    """List the shipped presets, one line each."""
    for name, description in list_presets():
        typer.echo(f"{name:<16} {description}")


@app.command()
def report(
    directory: Annotated[Path, typer.Argument(help="A directory written by `trustsim run --out DIR`.")],
    run_id: Annotated[int | None, typer.Option(help="The run to report on (default: the latest).")] = None,
) -> None:
    """Rebuild DIR/report.html from DIR/results.duckdb."""
    typer.echo(f"wrote {rebuild_report(directory, run_id)}")
    for path, writer in foreign_staging(directory):
        typer.echo(f"note: {path}: a run's files staged by {writer} and never published (a write killed midway); "
                   f"nothing reads them: delete the folder once that writer has stopped")


@app.command()
def case(
    directory: Annotated[Path, typer.Argument(help="A directory written by `trustsim run --trace N --out DIR`.")],
    person: Annotated[int | None, typer.Argument(help="A traced person's number (see --list).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the traced people, one line each.")] = False,
    run_id: Annotated[int | None, typer.Option(help="The run (default: the latest).")] = None,
) -> None:
    """Tell a traced person's case file in plain sentences, or list the traced people."""
    result = open_results(directory, run_id)
    if result.trace is None or result.traced_people is None:
        raise UserError(f"{directory}: run {result.run_id} traced nobody; allowed: a run made with "
                        f"`trustsim run --trace N --out {directory}`")
    files = cases(result.trace, result.traced_people, result.scenario.scoring.association.threshold)
    if person is None and not list_:
        raise UserError(f"{directory}: no person given; allowed: a traced person's number, or --list")
    if list_:
        for found in files.values():
            typer.echo(found.summary())
        return
    if person not in files:
        shown = ", ".join(map(str, list(files)[:8])) + (", ..." if len(files) > 8 else "")
        raise UserError(f"{directory}: person {person}: not traced in run {result.run_id}; allowed: {shown} "
                        f"(`trustsim case {directory} --list` lists them)")
    found = files[person]
    typer.echo(f"Person {person} ({found.person['chosen_for']}): {found.who()}.")
    for line in found.timeline() or ["nothing happened to them beyond routine events."]:
        typer.echo(line)


@app.command()
def compare(
    scenarios: Annotated[list[str], typer.Argument(help="Two or more preset names or YAML files; the first is the baseline.")],
    seeds: Annotated[int, typer.Option(min=1, max=MAX_RUNS, help="Run each scenario with seeds 0..K-1 (the same for all).")] = 3,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="Override a setting in every scenario (repeatable).")] = None,
    people: PeopleOption = None,
    years: YearsOption = None,
    out: Annotated[Path, typer.Option(help="Directory for results.duckdb and compare.html.")] = Path("trustsim-compare"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table.")] = False,
) -> None:
    """Run scenarios side by side with common random numbers; write OUT/results.duckdb and OUT/compare.html."""
    overrides = parse_overrides(set_ or [])
    check_directory(out)  # before the runs, so a bad --out does not cost them
    done = run_comparison(scenarios, seeds=seeds, people=people, years=years, overrides=overrides,
                          progress=not quiet)
    run_ids, page = done.save(out)
    if quiet:
        return
    for label, part in done.differences().groupby("scenario", sort=False):
        typer.echo(f"{label} minus {done.labels[0]}, {len(done.seeds)} paired seeds (mean, 95% interval):")
        for d in part.itertuples():
            interval = "" if d.half_width != d.half_width else f"  [{format_difference(d.metric, d.low)}, {format_difference(d.metric, d.high)}]"
            typer.echo(f"  {d.metric:<36} {format_difference(d.metric, d.difference):>12}{interval}")
    typer.echo(f"wrote {out / DB} (runs {run_ids[0]}-{run_ids[-1]}) and {page}")


@app.command()
def calibrate(
    scenario: ScenarioArg = "judicial_lists",
    trials: Annotated[int | None, typer.Option(
        help="Trials in all, the first at the fixed starting point (default 60, as for the shipped preset).")] = None,
    people: Annotated[int | None, typer.Option(help="Number of simulated people (default: the scenario's).")] = None,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the runs and of the optimiser.")] = 0,
    out: Annotated[Path, typer.Option(help="Directory for fitted_NAME.yaml, calibration.html and results.duckdb.")] = Path(
        "trustsim-calibration"),
    check: Annotated[bool, typer.Option("--check", help="No search: the fit report of the scenario as it is.")] = False,
    threads: Annotated[int, typer.Option(help="Numba threads per run (results do not depend on it).")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no table.")] = False,
) -> None:
    """Fit a court-list scenario to the published counts (docs/sources.md); write the fitted preset and a fit report."""
    check_directory(out)  # before the search, so a bad --out does not cost it
    if check:
        loaded = cal.with_people(load_scenario(scenario), people)
        check_memory(loaded, source_label(scenario))
        fit, result = cal.assess(loaded, seed=seed, progress=not quiet)
        out.mkdir(parents=True, exist_ok=True)
        (out / cal.REPORT).write_text(cal.report_html(fit), encoding="utf-8")
        save([result], out)
        written = [out / cal.REPORT, out / DB]
    else:
        done = cal.calibrate(scenario, trials=cal.DEFAULT_TRIALS if trials is None else trials, people=people,
                             seed=seed, progress=not quiet, threads=threads)
        fit = done.fit
        written = list(cal.write(done, out).values())
    if quiet:
        return
    for row in fit.rows():
        mark = "" if row["fitted"] else "  (check, not fitted)"
        typer.echo(f"  {row['figure']:<58} {row['published']:>15} {row['model']:>10} {row['error']:+6.2f}{mark}")
    if not check:
        for p in done.parameters:
            typer.echo(f"  {p.key:<42} {cal.value_text(p, cal.scenario_value(done.scenario, p.key)):>12}  ({p.how})")
        typer.echo(f"loss {fit.loss:.4f} (start {done.start_loss:.4f}), {done.n_trials} trials, {done.seconds:.0f} s")
    else:
        typer.echo(f"loss {fit.loss:.4f}")
    typer.echo("wrote " + ", ".join(str(path) for path in written))


# --- ensembles: ensemble, uncertainty, sensitivity (experiments/ensembles/) ---------------------

SeedOption = Annotated[int, typer.Option(min=0, max=MAX_SEED, help="First seed (ensemble, uncertainty) or the seed of every run (sensitivity).")]
SetOption = Annotated[list[str] | None, typer.Option("--set", metavar="KEY=VALUE", help="Override a setting by its dotted key (repeatable).")]
MetricOption = Annotated[list[str] | None, typer.Option(
    "--metric", help="A metric to keep and analyse (repeatable; default: the report's headline metrics).")]
OnlyOption = Annotated[list[str] | None, typer.Option(
    "--only", metavar="KEY", help="Sample only this plausible range (repeatable; default: all of them).")]
WorkersOption = Annotated[int | None, typer.Option(min=1, help="Local worker processes (default: one per core).")]
SchedulerOption = Annotated[str | None, typer.Option(help="Address of a running Dask scheduler, e.g. tcp://HOST:8786.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table.")]


def _check_last_seed(seed: int, runs: int, given: str) -> None:
    """Refuse seeds that would run past the largest a run can store (the --seed option's own bound)."""
    if seed + runs - 1 > MAX_SEED:
        raise UserError(f"--seed {seed} with {given}: the last run's seed would be {seed + runs - 1}; "
                        f"allowed: seeds up to {MAX_SEED} (a smaller --seed)")


def warn_lost_workers(counts) -> None:
    """Say on stderr when Dask workers died during the runs: their runs were redone, not lost."""
    if counts.workers_lost:
        workers = "a Dask worker was" if counts.workers_lost == 1 else f"{counts.workers_lost} Dask workers were"
        runs = "its run was" if counts.redone == 1 else f"the {counts.redone} runs they held were"
        typer.echo(f"trustsim: warning: {workers} lost (killed, or out of memory) while running; {runs} "
                   f"started again on another worker, with the same results", err=True)


def _common(set_: list[str] | None, vary: list[str] | None) -> dict:
    return {"overrides": parse_overrides(set_ or []), "vary": parse_vary(vary or [])}


def _report(done, page_kind: str) -> None:
    c = done.counts
    typer.echo(f"{done.scenario.name}, ensemble {done.ensemble_id}: {c.total} runs ({c.skipped} already stored, "
               f"{c.done} done, {c.failed} failed, {c.lost} lost now); {done.missing} missing from the analysis")
    if page_kind == "sensitivity":
        for metric in dict.fromkeys(done.summary["metric"]):
            top = ranking(done.summary, metric).head(3)
            key = "mu_star" if done.design.method == "morris" else "ST"
            drivers = ", ".join(f"{r['parameter']} {r[key]:.3g} (+/- {r[key + '_conf']:.2g})" for _, r in top.iterrows())
            typer.echo(f"  {metric:<30} {key}: {drivers}")
    else:
        for r in done.summary.itertuples():
            typer.echo(f"  {r.metric:<30} median {format_value(r.metric, r.median):>10}, 90% interval "
                       f"{format_value(r.metric, r.low)} to {format_value(r.metric, r.high)}")
    typer.echo(f"wrote {done.page} and {done.page.parent / DB}")


@app.command()
def ensemble(
    scenario: ScenarioArg = "national_2020",
    seeds: Annotated[int, typer.Option(min=1, help="Run seeds SEED..SEED+K-1.")] = 10,
    seed: SeedOption = 0, people: PeopleOption = None, years: YearsOption = None, set_: SetOption = None,
    vary: VaryOption = None, metric: MetricOption = None, workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[Path, typer.Option(help="Directory for results.duckdb and ensemble.html.")] = Path("trustsim-ensemble"),
    quiet: QuietOption = False,
) -> None:
    """The same scenario under K seeds, on Dask; write OUT/ensemble.html (median and 5-95% bands)."""
    _check_last_seed(seed, seeds, f"--seeds {seeds}")
    check_directory(out)
    done = run_ensemble(scenario, seeds, seed=seed, people=people, years=years, metrics=metric, workers=workers,
                        scheduler=scheduler, out=out, progress=not quiet, **_common(set_, vary))
    warn_lost_workers(done.counts)
    if not quiet:
        _report(done, "ensemble")


@app.command()
def uncertainty(
    scenario: ScenarioArg = "national_2020",
    samples: Annotated[int, typer.Option(min=1, help="Points over the plausible ranges.")] = 64,
    seeds_per_sample: Annotated[int, typer.Option(min=1, help="Seeds run at each point (>= 2 splits the interval).")] = 2,
    design: Annotated[str, typer.Option(help="lhs (Latin hypercube) or sobol (scrambled Sobol' points).")] = "lhs",
    seed: SeedOption = 0, people: PeopleOption = None, years: YearsOption = None, set_: SetOption = None,
    vary: VaryOption = None, only: OnlyOption = None, metric: MetricOption = None, workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[Path, typer.Option(help="Directory for results.duckdb and uncertainty.html.")] = Path("trustsim-uncertainty"),
    quiet: QuietOption = False,
) -> None:
    """Sample the plausible ranges; write OUT/uncertainty.html (median, 90% interval, seeds vs assumptions)."""
    _check_last_seed(seed, seeds_per_sample, f"--seeds-per-sample {seeds_per_sample}")
    check_directory(out)
    done = run_uncertainty(scenario, samples, seeds_per_sample, design=design, seed=seed, people=people, years=years,
                           only=only, metrics=metric, workers=workers, scheduler=scheduler, out=out,
                           progress=not quiet, **_common(set_, vary))
    warn_lost_workers(done.counts)
    if not quiet:
        _report(done, "uncertainty")


@app.command()
def sensitivity(
    scenario: ScenarioArg = "national_2020",
    method: Annotated[str, typer.Option(help="morris (screening: mu*, sigma) or sobol (S1, ST).")] = "morris",
    samples: Annotated[int, typer.Option(min=1, help="Morris trajectories, or Sobol' base sample N (best a power of two).")] = 8,
    seed: SeedOption = 0, people: PeopleOption = None, years: YearsOption = None, set_: SetOption = None,
    vary: VaryOption = None, only: OnlyOption = None, metric: MetricOption = None, workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[Path, typer.Option(help="Directory for results.duckdb and sensitivity.html.")] = Path("trustsim-sensitivity"),
    quiet: QuietOption = False,
) -> None:
    """Which assumptions move the results most (SALib); write OUT/sensitivity.html and the sensitivity table."""
    if method not in ("morris", "sobol"):
        raise UserError(f"--method {method}: unknown; allowed: morris, sobol")
    check_directory(out)
    common = _common(set_, vary)
    done = run_sensitivity(scenario, method, samples, seed=seed, people=people, years=years, only=only,
                           metrics=metric, workers=workers, scheduler=scheduler, out=out, progress=not quiet, **common)
    warn_lost_workers(done.counts)
    if not quiet:
        _report(done, "sensitivity")


@app.command()
def posterior(
    scenario: ScenarioArg = "national_2020",
    simulations: Annotated[int, typer.Option(
        min=1, max=MAX_RUNS, help="Runs in the bank, drawn from the plausible ranges.")] = 1000,
    observations: Annotated[Path | None, typer.Option(
        help="Condition on this observation file instead of the scenario's observations: (the bank is reused).")] = None,
    draws: Annotated[int, typer.Option(min=1, max=MAX_RUNS, help="Reruns of the model at posterior draws.")] = 100,
    members: Annotated[int, typer.Option(
        min=1, max=MAX_MEMBERS, help="Neural estimators in the ensemble, one per training seed.")] = 5,
    seed: SeedOption = 0, people: PeopleOption = None, years: YearsOption = None, set_: SetOption = None,
    vary: VaryOption = None, only: OnlyOption = None, workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[Path, typer.Option(help="Directory for results.duckdb and posterior.html.")] = Path("trustsim-posterior"),
    quiet: QuietOption = False,
) -> None:
    """Condition the plausible ranges on the public record; write OUT/posterior.html (needs the extra 'posterior')."""
    _check_last_seed(seed, PREDICTIVE_SEED + max(simulations, draws), f"--simulations {simulations}, --draws {draws}")
    check_directory(out)
    done = run_posterior(scenario, simulations, seed=seed, people=people, years=years, only=only,
                         observations=observations, draws=draws, members=members, workers=workers,
                         scheduler=scheduler, out=out, progress=not quiet, **_common(set_, vary))
    for counts in (done.bank_counts, done.predictive_counts):
        warn_lost_workers(counts)
    if quiet:
        return
    c = done.bank_counts
    typer.echo(f"{done.scenario.name}, posterior {done.posterior_id}: bank of {c.total} runs ({c.skipped} already "
               f"stored, {c.done} done, {c.failed} failed, {c.lost} lost now), {done.predictive_counts.total} reruns "
               f"at posterior draws; {done.diagnostics['ess']:.0f} effective runs behind the weighted bank")
    for r in done.headline.itertuples():
        typer.echo(f"  {r.metric:<26} prior {format_value(r.metric, r.prior_q05)} to {format_value(r.metric, r.prior_q95)}"
                   f"; posterior {format_value(r.metric, r.npe_q05)} to {format_value(r.metric, r.npe_q95)}"
                   f" (weighted bank {format_value(r.metric, r.weighted_q05)} to "
                   f"{format_value(r.metric, r.weighted_q95)}){'  the two disagree' if r.comparable and not r.agree else ''}")
    typer.echo(f"  {done.statement}")
    typer.echo(f"wrote {done.page} and {done.page.parent / DB}")


@app.command()
def explore(
    preset: Annotated[str, typer.Argument(help="The preset the levers start from (see `trustsim presets`).")] = "national_2020",
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port on 127.0.0.1 (default 8501, else a free one).")] = None,
    people: Annotated[int, typer.Option(min=1_000, help="Simulated people per run, at the start (the page can change it).")] = 20_000,
    directory: Annotated[Path | None, typer.Option(
        "--dir", help="A results directory; where it holds a sensitivity analysis of the preset, levers are ordered by it.")] = None,
) -> None:
    """Start the explorer: a local web page with the preset's levers, run beside the unchanged preset."""
    sys.exit(serve(preset, port, people, directory))


def _fail(message: str, code: int) -> None:
    typer.echo(f"trustsim: error: {' '.join(message.splitlines())}", err=True)
    sys.exit(code)


def _empty_argument(args: list[str]) -> str | None:
    """The first empty value on the command line, as given (`--out ''`, `--out=`), or None."""
    for i, arg in enumerate(args):
        if arg == "":
            before = args[i - 1] if i and args[i - 1].startswith("-") and "=" not in args[i - 1] else args[0]
            return f"{before} ''" if i else "''"
        if arg.startswith("--") and arg.endswith("=") and arg.count("=") == 1:
            return arg
    return None


def main(argv: list[str] | None = None) -> None:
    """Run the command line; a user's mistake is one line on stderr and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    empty = _empty_argument(args)
    if empty is not None:  # no value of trustsim's is empty, and a path would read '' as this directory
        _fail(f"{empty}: an empty value; allowed: a value (for this directory as a path, write .)", 2)
    try:
        with warnings.catch_warnings():
            python_shows = warnings.showwarning

            def show(message, category, *where, **more):  # an InputWarning as one line, like the errors
                if issubclass(category, InputWarning):
                    typer.echo(f"trustsim: warning: {message}", err=True)
                else:
                    python_shows(message, category, *where, **more)

            warnings.showwarning = show
            code = app(args=args or ["--help"], prog_name="trustsim", standalone_mode=False)
    except UserError as exc:
        _fail(str(exc), 2)
    except Interrupted as exc:
        _fail(str(exc), 130)
    except typer.TyperException as exc:  # usage errors: unknown option, bad number, ...
        _fail(exc.format_message(), exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _fail("interrupted; nothing was written", 130)
    sys.exit(code or 0)
