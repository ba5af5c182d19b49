"""Every bad input answered: generated scenario files, --set values, dates and the options of every
command end in exit 0, or exit 2 with one line and nothing written, quickly, and never in a traceback.

The files are random YAML values, the national_2020 preset with one setting replaced by a random
value (to reach deep into the schema), random bytes, and hand-made hostile documents (alias bombs,
self-referring aliases, deep nesting, empty and multi-document files). Each of the thirteen
commands gets random values for random options, and dates are fuzzed wherever a user gives one.
Commands are checked up to the point where their work would start (a simulation, the runs of an
ensemble, the report's build, the explorer's server): that point is replaced by _Started, so
exit 0 below means "every check passed", and nothing is ever simulated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import tempfile
import time
from pathlib import Path
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import make_result
from trustsim import cli, load_scenario, store
from trustsim.scenario.schema import AUDIT_METRICS

SECONDS = 20  # per input: generous for a loaded CI machine; a hang or a bomb takes far longer
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Where each command's work starts; reaching one means the input passed every check.
STARTS = [
    "trustsim.cli.simulate",  # run, resume
    "trustsim.experiments.compare.simulate",
    "trustsim.experiments.calibration.search.search", "trustsim.experiments.calibration.objective.simulate",
    "trustsim.experiments.ensembles.run_design",  # ensemble, uncertainty, sensitivity
    "trustsim.experiments.posterior.bank.run",
    "trustsim.store.build_report",  # report
    "trustsim.explore.server.command",  # explore: the server's command line, built just before it starts
]


class _Started(Exception):
    """Raised instead of starting the work: the input got past every check."""


def answer(args: list[str]) -> tuple[int, str]:
    """(exit code, stderr) of the command line, with the start of its work replaced by _Started."""
    err = io.StringIO()
    start = time.monotonic()
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stderr(err))
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        for target in STARTS:
            stack.enter_context(mock.patch(target, side_effect=_Started))
        try:
            cli.main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code
        except _Started:
            code = 0
    assert time.monotonic() - start < SECONDS, args
    return code, err.getvalue()


def check(args: list[str]) -> None:
    code, err = answer(args)
    assert code in (0, 2), (args, code, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("trustsim: error: "), (args, err)
    assert "Traceback" not in err


def validate_text(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        check(["validate", str(path)])


scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40)
           | st.floats() | st.text(max_size=12) | st.sampled_from(["1e308", "-0", ".inf", "-.inf", ".nan", "2020-01-01"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4), max_leaves=16)


def _leaves(data, prefix=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*prefix, key))
    elif isinstance(data, list) and data:
        for i, value in enumerate(data):
            yield from _leaves(value, (*prefix, i))
    else:
        yield prefix


PRESET = load_scenario("national_2020").model_dump(mode="json")
PATHS = sorted(set(_leaves(PRESET)), key=str)
KEYS = [".".join(map(str, path)) for path in PATHS]


@FUZZ
@given(values)
def test_random_yaml_documents(value):
    validate_text(yaml.safe_dump(value, allow_unicode=True))


@FUZZ
@given(st.sampled_from(PATHS), values)
def test_the_preset_with_one_setting_replaced(path, value):
    data = yaml.safe_load(yaml.safe_dump(PRESET))
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    validate_text(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_files_that_are_not_yaml(content):
    validate_text(content)


@FUZZ
@given(st.sampled_from(KEYS) | st.text(max_size=30), st.text(max_size=30) | values.map(
    lambda v: yaml.safe_dump(v, default_flow_style=True).strip()))
def test_set_values(key, value):
    with tempfile.TemporaryDirectory() as folder:
        check(["run", "--set", f"{key}={value}", "--quiet", "--out", folder])


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8))


@pytest.mark.parametrize("text", [
    "", "---\n", "# only a comment\n", "--- {}\n--- {}\n", BOMB, "a: &a [*a]\n", "&a [*a, *a]",
    "population: " + "{a: " * 5000 + "1" + "}" * 5000, "population: " + "[" * 200 + "]" * 200,
    "population:\n  people: .nan\n", "surveillance:\n  cameras: .inf\n", "population:\n  people: 1e400\n",
    "population: {people: 10000000000000000000000000000000}\n", "\u00e9\u4e2d: 1\n", "\x00\x01",
    "{" * 20, ": : :", "name: [1, 2]\n", "base: base\n", "base: [a]\n", "population: !!python/object:os.system {}\n",
], ids=range(21))
def test_hostile_documents(text):
    validate_text(text)


@pytest.mark.parametrize("value", ["inf", ".inf", "-.inf", "nan", ".nan", "1e400"])
def test_non_finite_numbers_are_refused_everywhere(value):
    code, err = answer(["run", "--set", f"surveillance.cameras={value}", "--quiet", "--out", "unused"])
    assert code == 2 and err.count("\n") == 1 and "surveillance.cameras" in err and "finite" in err, err


# --- every option of every command ----------------------------------------------------------------

# What a shell can pass: any text but NUL (argv cannot hold one) and lone surrogates (argv decodes
# to surrogate escapes only, which encode back).
text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
numbers = (st.integers(-3, 3) | st.integers(-(10**30), 10**30) | st.floats()).map(str)
dates = st.builds("{:04d}-{:02d}-{:02d}".format, st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32))
junk = text | numbers | dates | st.sampled_from(["", " ", "-", "--", "0x10", "1e3", "1_000", "true", "[]", "{}"])
# Paths stay inside the working directory (every example has its own, empty one) or name a place
# that cannot be written; an absolute path from `text` could reach anywhere.
paths = text.filter(lambda t: not t.startswith(("/", "~")) and ".." not in t) | st.sampled_from([
    "", ".", "out", "a/b/c", "x" * 300, "/proc/trustsim/out", "in-the-way/out", "in-the-way"])
presets_or_text = st.sampled_from(["national_2020", "financial_only", "judicial_lists", "sesame_2015",
                                   "national_2021"]) | text
DATE_KEYS = ["run.start", "surveillance.court_coverage_start"]
sets = st.builds("{}={}".format, st.sampled_from(KEYS + DATE_KEYS) | text, junk) | text
varies = st.builds("{}={}:{}".format, st.sampled_from(["scoring.association.weight", "population.people",
                                                       "run.start", "participation.mode"]) | text, junk, junk) | text
metrics = st.sampled_from(AUDIT_METRICS) | text
FLAG = st.none()  # an option without a value

ENSEMBLES = {"--seed": numbers, "--people": numbers, "--years": numbers, "--set": sets, "--vary": varies,
             "--workers": numbers, "--scheduler": junk, "--out": paths, "--quiet": FLAG}
SAMPLED = {**ENSEMBLES, "--only": st.sampled_from(["scoring.association.weight"]) | text}
# Each command: its positional arguments, and its options with the values to try.
COMMANDS = {
    "run": (presets_or_text, {"--set": sets, "--seed": numbers, "--people": numbers, "--years": numbers,
                              "--out": paths, "--quiet": FLAG, "--checkpoint-every": numbers, "--trace": numbers}),
    "resume": (paths, {"--quiet": FLAG}),
    "validate": (presets_or_text, {"--vary": varies}),
    "presets": (text, {}),  # it takes none: any is refused
    "report": (st.sampled_from(["RESULTS"]) | paths, {"--run-id": numbers}),
    "case": (st.sampled_from(["RESULTS"]) | paths | numbers, {"--list": FLAG, "--run-id": numbers}),
    "compare": (presets_or_text, {"--seeds": numbers, "--set": sets, "--people": numbers, "--years": numbers,
                                  "--out": paths, "--quiet": FLAG}),
    "calibrate": (presets_or_text, {"--trials": numbers, "--people": numbers, "--seed": numbers, "--out": paths,
                                    "--threads": numbers, "--check": FLAG, "--quiet": FLAG}),
    "ensemble": (presets_or_text, {**ENSEMBLES, "--seeds": numbers, "--metric": metrics}),
    "uncertainty": (presets_or_text, {**SAMPLED, "--samples": numbers, "--seeds-per-sample": numbers,
                                      "--design": st.sampled_from(["lhs", "sobol"]) | text, "--metric": metrics}),
    "sensitivity": (presets_or_text, {**SAMPLED, "--method": st.sampled_from(["morris", "sobol"]) | text,
                                      "--samples": numbers, "--metric": metrics}),
    "posterior": (presets_or_text, {**SAMPLED, "--simulations": numbers, "--observations": paths | st.sampled_from(
        ["OBSERVATIONS", "IMPOSSIBLE_DATE"]), "--draws": numbers, "--members": numbers}),
    "explore": (presets_or_text, {"--port": numbers, "--people": numbers,
                                  "--dir": st.sampled_from(["RESULTS"]) | paths}),
}
WRITERS = {"run", "compare", "calibrate", "ensemble", "uncertainty", "sensitivity", "posterior"}
assert len(COMMANDS) == 13


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> dict[str, str]:
    """Files the fuzzed command lines may name: a results directory, observation files."""
    folder = tmp_path_factory.mktemp("fixtures")
    store.save([make_result()], folder / "results")
    figure = "{kind: published, label: x, metric: blacklist_share, date: %s, value: 0.01, sd: 1, reason: r, source: s}"
    (folder / "observations.yaml").write_text(f"figures:\n  f: {figure % '2020-06-30'}\n")
    (folder / "impossible.yaml").write_text(f"figures:\n  f: {figure % '2020-02-30'}\n")
    return {"RESULTS": str(folder / "results"), "OBSERVATIONS": str(folder / "observations.yaml"),
            "IMPOSSIBLE_DATE": str(folder / "impossible.yaml")}


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@st.composite
def command_lines(draw, command: str) -> list[str]:
    positional, options = COMMANDS[command]
    given = draw(st.lists(positional, min_size=command != "presets", max_size=3 if command == "compare" else 1))
    args = [command, *given]
    for option in draw(st.lists(st.sampled_from(sorted(options)), max_size=4)) if options else ():
        value = draw(options[option])
        args += [option] if value is None else [option, value]
    return args


def answer_in_place(args: list[str], fixtures: dict[str, str]) -> tuple[int, str]:
    """Answer args in a fresh, empty working directory (holding only a file in the way of some
    paths); a refusal must be one line that leaves it, and the fixtures, as they were."""
    args = [fixtures.get(a, a) for a in args]
    results = Path(fixtures["RESULTS"])
    before = tree(results)
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        Path("in-the-way").write_text("a file, not a folder")
        code, err = answer(args)
        assert code in (0, 2), (args, code, err)
        assert "Traceback" not in err, (args, err)
        if code == 2:
            assert err.count("\n") == 1 and err.startswith("trustsim: error: "), (args, err)
            assert os.listdir(".") == ["in-the-way"], (args, os.listdir("."))
            assert tree(results) == before, args
    return code, err


@pytest.mark.parametrize("command", list(COMMANDS))
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_option_of_every_command(command, data, fixtures):
    args = data.draw(command_lines(command))
    if command in WRITERS:
        args[1:1] = ["--out", "results-here"]  # a fuzzed --out given later wins
    answer_in_place(args, fixtures)


def test_calibrate_check_refuses_too_few_people(fixtures):
    code, err = answer_in_place(["calibrate", "--check", "--people", "0", "--out", "results-here"], fixtures)
    assert code == 2 and "--people" in err


# --- dates ------------------------------------------------------------------------------------------


def exists(date: str) -> bool:
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        return False
    return True


@settings(FUZZ, max_examples=40)
@given(st.sampled_from(DATE_KEYS), dates, st.sampled_from(["--set", "file", "--observations"]))
def test_every_date(key, date, where):
    with tempfile.TemporaryDirectory() as folder:
        if where == "--observations":
            path = Path(folder) / "observations.yaml"
            path.write_text("figures:\n  f: {kind: published, label: x, metric: blacklist_share, date: %s, "
                            "value: 0.01, sd: 1, reason: r, source: s}\n" % date)
            args = ["posterior", "financial_only", "--observations", str(path)]
        elif where == "file":
            section, field = key.split(".")
            path = Path(folder) / "dated.yaml"
            path.write_text(f"base: financial_only\n{section}:\n  {field}: {date}\n")
            args = ["run", str(path)]
        else:
            args = ["run", "financial_only", "--set", f"{key}={date}"]
        code, err = answer_in_place([*args, "--out", "results-here", "--years", "1"], {"RESULTS": folder})
    if not exists(date):
        assert code == 2 and f"{date} is not a date" in err, err


@pytest.mark.parametrize(("date", "says"), [
    ("2020-02-30", "2020-02-30 is not a date (day is out of range for month); allowed: a date YYYY-MM-DD that exists"),
    ("2020-13-45", "2020-13-45 is not a date (month must be in 1..12)"),
    ("9999-06-01", "a run of 1 years from it ends after 9999-12-31; allowed: a start and run.years that end by"),
])
def test_an_impossible_date_is_one_line(tmp_path, capsys, date, says):
    path = tmp_path / "dated.yaml"
    path.write_text(f"base: financial_only\nrun:\n  start: {date}\n")
    for args in (["run", "--set", f"run.start={date}"], ["run", str(path)], ["validate", str(path)]):
        with pytest.raises(SystemExit) as exit_:
            cli.main([*args, "--years", "1", "--out", str(tmp_path / "out")] if args[0] == "run" else args)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and err.count("\n") == 1 and says in err, err
        if args[1] == str(path) and "not a date" in says:
            assert err.startswith(f"trustsim: error: {path}, line 3: "), err
    assert not (tmp_path / "out").exists()
