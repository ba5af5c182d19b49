"""The `trustsim` command line: run, validate, presets, report, compare, calibrate, explore.

Each command is a thin layer over the Python API. `main` is the entry point (the installed
`trustsim` command and `python -m trustsim`): it turns a UserError or a usage error into one line,
`trustsim: error: ...`, on stderr with exit code 2, so a user's mistake never shows a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from trustsim.engine import simulate
from trustsim.errors import UserError
from trustsim.result import format_value
from trustsim.scenario.loading import load_scenario, parse_overrides, presets as list_presets
from trustsim.store import DB, REPORT, check_directory, rebuild_report

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
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="Random seed; the same seed gives the same run.")] = 0,
    people: PeopleOption = None,
    years: YearsOption = None,
    out: Annotated[Path, typer.Option(help="Directory for results.duckdb and report.html.")] = Path("trustsim-out"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")] = False,
) -> None:
    """Run a scenario; write OUT/results.duckdb and OUT/report.html and print a summary."""
    overrides = parse_overrides(set_ or [])
    if people is not None:
        overrides["population.people"] = people
    if years is not None:
        overrides["run.years"] = years
    loaded = load_scenario(scenario, overrides)
    check_directory(out)  # before the run, so a bad --out does not cost a whole run
    result = simulate(loaded, seed=seed, progress=not quiet)
    run_id = result.save(out)
    if quiet:
        return
    s = loaded.run
    typer.echo(
        f"{loaded.name}, seed {seed}: {result.people:,} people, {result.steps} steps of {s.step_days} days "
        f"from {s.start}, in {result.elapsed_seconds:.1f} s"
    )
    for metric, value in result.headline().items():
        typer.echo(f"  {metric:<26} {format_value(metric, value):>10}")
    typer.echo(f"wrote {out / DB} (run {run_id}) and {out / REPORT}")


@app.command()
def validate(scenario: ScenarioArg) -> None:
    """Check a scenario without running it; print OK and what it holds."""
    s = load_scenario(scenario)
    label = scenario if scenario == s.name else f"{scenario} ({s.name})"
    typer.echo(
        f"OK {label}: {s.population.people:,} people, {s.run.steps} steps of "
        f"{s.run.step_days} days from {s.run.start}, participation {s.participation.mode}, "
        f"{len(s.sanctions.rules)} sanction rules, {len(s.rewards.rules)} reward rules"
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


@app.command()
def compare(
    scenarios: Annotated[list[str], typer.Argument(help="Two or more preset names or YAML files; the first is the baseline.")],
    seeds: Annotated[int, typer.Option(min=1, help="Run each scenario with seeds 0..K-1 (the same for all).")] = 3,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="Override a setting in every scenario (repeatable).")] = None,
    people: PeopleOption = None,
    years: YearsOption = None,
    out: Annotated[Path, typer.Option(help="Directory for results.duckdb and compare.html.")] = Path("trustsim-compare"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table.")] = False,
) -> None:
    """Run scenarios side by side with common random numbers; write OUT/results.duckdb and OUT/compare.html."""
    from trustsim.experiments.compare import compare as run_comparison
    from trustsim.report.compare import format_difference

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
        help="Optimiser trials after the starting point (default 60, as for the shipped preset).")] = None,
    people: Annotated[int | None, typer.Option(help="Number of simulated people (default: the scenario's).")] = None,
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="Seed of the runs and of the optimiser.")] = 0,
    out: Annotated[Path, typer.Option(help="Directory for fitted_NAME.yaml, calibration.html and results.duckdb.")] = Path(
        "trustsim-calibration"),
    check: Annotated[bool, typer.Option("--check", help="No search: the fit report of the scenario as it is.")] = False,
    threads: Annotated[int, typer.Option(help="Numba threads per run (results do not depend on it).")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table.")] = False,
) -> None:
    """Fit a court-list scenario to the published counts (shared/facts.md); write the fitted preset and a fit report."""
    from trustsim.experiments import calibration as cal

    check_directory(out)  # before the search, so a bad --out does not cost it
    if check:
        loaded = load_scenario(scenario)
        if people is not None:
            loaded = cal.with_values(loaded, {"population.people": people})
        fit, result = cal.assess(loaded, seed=seed, progress=not quiet)
        out.mkdir(parents=True, exist_ok=True)
        (out / cal.REPORT).write_text(cal.report_html(fit), encoding="utf-8")
        result.save(out)
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


@app.command()
def explore(
    preset: Annotated[str, typer.Argument(help="The preset the levers start from (see `trustsim presets`).")] = "national_2020",
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port on 127.0.0.1 (default 8501, else a free one).")] = None,
    people: Annotated[int, typer.Option(min=1_000, help="Simulated people per run, at the start (the page can change it).")] = 20_000,
    directory: Annotated[Path | None, typer.Option(
        "--dir", help="A results directory; where it holds a sensitivity analysis of the preset, levers are ordered by it.")] = None,
) -> None:
    """Start the explorer: a local web page with the preset's levers, run beside the unchanged preset."""
    from trustsim.explore.server import serve

    sys.exit(serve(preset, port, people, directory))


def _fail(message: str, code: int) -> None:
    typer.echo(f"trustsim: error: {' '.join(message.splitlines())}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Run the command line; a user's mistake is one line on stderr and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    try:
        code = app(args=args or ["--help"], prog_name="trustsim", standalone_mode=False)
    except UserError as exc:
        _fail(str(exc), 2)
    except typer.TyperException as exc:  # usage errors: unknown option, bad number, ...
        _fail(exc.format_message(), exc.exit_code)
    except typer.Abort:
        _fail("interrupted; nothing was written", 130)
    sys.exit(code or 0)
