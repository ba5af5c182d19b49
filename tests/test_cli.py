"""The command line end to end: each mistake is one line and exit 2; runs write both files."""

from __future__ import annotations

import importlib
import os
import shlex
import subprocess
import sys
from pathlib import Path

import duckdb
import psutil
import pytest

import trustsim as trustsim_package
from trustsim import cli, store
from trustsim.errors import UserError
from trustsim.experiments.ensembles.runner import RunCounts, dask_client


def invoke(capsys, *args: str) -> tuple[int, str, str]:
    """Run the command line in this process, as the `trustsim` entry point does."""
    with pytest.raises(SystemExit) as info:
        cli.main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def trustsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python -m trustsim` in a fresh process, as a user would, with this trustsim importable."""
    path = os.pathsep.join([str(Path(trustsim_package.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "trustsim", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": path}, timeout=600)


def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2
    assert out == ""
    assert err.startswith("trustsim: error: ") and err.count("\n") == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


# --- mistakes ----------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> Path:
    texts = {
        "malformed.yaml": "population:\n  people: [1, 2\nrun: {}\n",
        "unknown.yaml": "population:\n  peopel: 5\n",
        "type.yaml": "run:\n  years: soon\n",
        "range.yaml": "surveillance:\n  online_coverage: 2\n",
        "a.yaml": "base: b.yaml\n",
        "b.yaml": "base: a.yaml\n",
        "empty.yaml": "",
        "comment.yaml": "# to be written\n",
        "lost_base.yaml": "name: mine\nbase: gone.yaml\n",
        "dated.yaml": "base: financial_only\nrun:\n  start: 2020-02-30\n",
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    return tmp_path


BAD = {
    "malformed YAML": (["validate", "malformed.yaml"], ["malformed.yaml, line 3", "malformed YAML"]),
    "unknown key": (["run", "unknown.yaml"], ["population.peopel", "did you mean population.people?"]),
    "wrong type": (["run", "type.yaml"], ["type.yaml, line 2", "run.years = 'soon'", "allowed: a number > 0"]),
    "out of range": (["validate", "range.yaml"], ["surveillance.online_coverage = 2", ">= 0 and <= 1"]),
    "missing file": (["run", "nowhere.yaml"], ["nowhere.yaml: no such file"]),
    "unknown preset": (["run", "national_2021"], ["unknown preset", "did you mean national_2020?", "sesame_2015"]),
    "base cycle": (["validate", "a.yaml"], ["base: cycle", "a.yaml", "b.yaml"]),
    "--set unknown key": (["run", "--set", "scoring.wieghts.political=2"],
                          ["scoring.wieghts", "did you mean scoring.weights?"]),
    "--set not KEY=VALUE": (["run", "--set", "population.people"], ["KEY=VALUE"]),
    "--set bad value": (["run", "--set", "participation.mode=sometimes"], ["participation.mode = 'sometimes'"]),
    "people 0": (["run", "--people", "0"], ["population.people = 0", ">= 1"]),
    "people negative": (["run", "--people", "-3"], ["population.people = -3", ">= 1"]),
    "years 0": (["run", "--years", "0"], ["run.years = 0", "> 0"]),
    "bad option": (["run", "--peple", "5"], ["--peple"]),
    "bad seed": (["run", "--seed", "minus"], ["--seed"]),
    "report without results": (["report", "nowhere"], ["no results.duckdb here"]),
    "unknown command": (["sprint"], ["sprint"]),
    "empty file": (["validate", "empty.yaml"], ["empty.yaml: no settings; allowed: `base: PRESET` and the settings"]),
    "only a comment": (["validate", "comment.yaml"], ["comment.yaml: no settings"]),
    "base not found": (["validate", "lost_base.yaml"], ["lost_base.yaml, line 2: base: ", "gone.yaml: no such file"]),
    "impossible date in a file": (["validate", "dated.yaml"], [
        "dated.yaml, line 3: 2020-02-30 is not a date (day is out of range for month); allowed: a date YYYY-MM-DD"]),
    "--vary a date": (["validate", "national_2020", "--vary", "run.start=2020-01-01:2021-01-01"],
                      ["'2020-01-01' is not a number", "a date or a word cannot be varied"]),
    "--vary a date key": (["validate", "national_2020", "--vary", "run.start=0:1"],
                          ["run.start holds a date (YYYY-MM-DD), not a number"]),
    "empty path": (["report", ""], ["report '': an empty value; allowed: a value (for this directory as a path, "
                                    "write .)"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_and_exit_2(case, files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    args, fragments = BAD[case]
    assert_one_line_error(*invoke(capsys, *args), *fragments)


# Where each writing command's work starts: a check that comes later than this is too late.
WORK = ["trustsim.cli.simulate", "trustsim.experiments.compare.simulate",
        "trustsim.experiments.calibration.search.search", "trustsim.experiments.calibration.objective.simulate",
        "trustsim.experiments.ensembles.run_design", "trustsim.experiments.posterior.bank.run"]
WRITERS = ["run", "compare national_2020 financial_only", "calibrate", "ensemble", "uncertainty", "sensitivity",
           "posterior"]


@pytest.fixture
def no_work(monkeypatch):
    def started(*args, **kwargs):
        raise AssertionError("the work started: the input was checked too late")

    for target in WORK:
        module, name = target.rsplit(".", 1)
        monkeypatch.setattr(importlib.import_module(module), name, started)


REFUSED = [
    *((f"{command} --out {{LONG}}", "cannot write the results (File name too long); nothing was written")
      for command in WRITERS),
    *((f"{command} --out /proc/trustsim-out/here", "/proc/trustsim-out/here: cannot write the results")
      for command in WRITERS if Path("/proc/self").is_dir()),  # Linux: no folder can be made in /proc
    *((f"{command} --out=", "--out=: an empty value") for command in WRITERS),
    *((f"{command} --out ''", "--out '': an empty value") for command in WRITERS),
    ("ensemble --metric blacklist", "--metric blacklist: unknown metric; did you mean blacklist_share? allowed: "
                                    "score_mean, score_p10"),
    ("uncertainty --metric wrongful", "--metric wrongful: unknown metric; did you mean wrongful_sanction_share?"),
    ("sensitivity --metric nope", "--metric nope: unknown metric; allowed: score_mean"),
    ("run --set run.start=2020-13-45", "--set run.start=2020-13-45: 2020-13-45 is not a date (month must be in 1..12)"),
    # a design too large to hold is refused before its points are drawn, whatever the method
    ("ensemble --seeds 8763692146508", "--seeds 8763692146508: 8,763,692,146,508 runs; allowed: at most 1,000,000"),
    ("uncertainty --samples 100000 --seeds-per-sample 100",
     "--samples 100000 with --seeds-per-sample 100: 10,000,000 runs"),
    ("sensitivity --samples 1000000", "runs; allowed: at most 1,000,000 runs in one design"),
    ("ensemble --seed 9223372036854775800 --seeds 10", "the last run's seed would be 9223372036854775809; allowed: "
                                                       "seeds up to 9223372036854775807"),
    # the warning that Sobol' wants a power of two waits for the input to pass: an error stays one line
    ("sensitivity national_2021 --method sobol --samples 3", "national_2021: unknown preset"),
]


@pytest.mark.parametrize(("args", "says"), REFUSED, ids=[args for args, _ in REFUSED])
def test_refused_before_any_work_with_nothing_written(tmp_path, capsys, monkeypatch, no_work, args, says):
    monkeypatch.chdir(tmp_path)
    line = [a.replace("{LONG}", "x" * 300) for a in shlex.split(args)]
    assert_one_line_error(*invoke(capsys, *line), says)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("address", ["tls://127.0.0.1:9", "ucx://127.0.0.1:9", "garbage"])
def test_a_scheduler_address_that_cannot_work_is_one_line(address):
    with pytest.raises(UserError, match=rf"^--scheduler {address}: cannot connect within 5 s \(\w+: .+\); allowed"):
        with dask_client(None, address):
            pass


def test_a_warning_comes_once_the_input_has_passed(tmp_path, capsys, no_work):
    with pytest.raises(AssertionError, match="the work started"):
        cli.main(["sensitivity", "financial_only", "--method", "sobol", "--samples", "3", "--out", str(tmp_path)])
    assert capsys.readouterr().err == ("trustsim: warning: --samples 3 is not a power of two; Sobol' estimates "
                                       "converge best at 2^n (e.g. 2 or 4)\n")


def test_an_out_below_a_file_is_refused_before_the_run(tmp_path, capsys, no_work):
    (tmp_path / "taken").write_text("")
    assert_one_line_error(*invoke(capsys, "run", "--out", str(tmp_path / "taken" / "out")), "taken is a file")
    assert os.listdir(tmp_path) == ["taken"]


@pytest.mark.parametrize(("lost", "redone", "says"), [
    (0, 0, ""),
    (1, 1, "trustsim: warning: a Dask worker was lost (killed, or out of memory) while running; its run was "
           "started again on another worker, with the same results\n"),
    (2, 3, "trustsim: warning: 2 Dask workers were lost (killed, or out of memory) while running; the 3 runs "
           "they held were started again on another worker, with the same results\n"),
])
def test_a_lost_worker_is_said_in_one_line(capsys, lost, redone, says):
    cli.warn_lost_workers(RunCounts(4, 0, 4, 0, 0, lost, redone))
    assert capsys.readouterr().err == says


def test_population_too_large_is_refused_before_anything(tmp_path, capsys):
    people = str(psutil.virtual_memory().total)  # at least a byte a person: cannot fit
    out = tmp_path / "out"
    assert_one_line_error(*invoke(capsys, "run", "--people", people, "--out", str(out)),
                          "population.people", "GiB", "allowed: at most about")
    assert not out.exists()


def test_validate_refuses_a_population_too_large_naming_the_file(tmp_path, capsys):
    people = psutil.virtual_memory().total  # at least a byte a person: cannot fit
    path = tmp_path / "huge.yaml"
    path.write_text(f"base: national_2020\npopulation: {{people: {people}}}\n")
    assert_one_line_error(*invoke(capsys, "validate", str(path)),
                          f"{path}: population.people", "GiB", "allowed: at most about")


def test_no_traceback_from_a_real_process(files):
    done = trustsim("run", "unknown.yaml", cwd=files)
    assert_one_line_error(done.returncode, done.stdout, done.stderr, "did you mean population.people?")


# --- presets and validate ----------------------------------------------------------------------


def test_presets(capsys):
    code, out, err = invoke(capsys, "presets")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["financial_only", "judicial_lists", "national_2020", "sesame_2015"]
    assert "626 million cameras" in out


def test_validate(capsys, tmp_path):
    code, out, _ = invoke(capsys, "validate", "national_2020")
    assert code == 0 and out.startswith("OK national_2020: 100,000 people") and out.count("\n") == 1
    path = tmp_path / "mine.yaml"
    path.write_text("base: sesame_2015\n")
    code, out, _ = invoke(capsys, "validate", str(path))
    assert code == 0 and out.startswith(f"OK {path} (mine):") and "participation voluntary" in out


# --- runs --------------------------------------------------------------------------------------

RUN = ("run", "--people", "20000", "--years", "1", "--seed", "7")


def metrics_of(directory: Path) -> list[tuple]:
    con = duckdb.connect(str(directory / "results.duckdb"), read_only=True)
    rows = con.execute("SELECT step, date, metric, grp, value FROM metrics ORDER BY ALL").fetchall()
    con.close()
    return rows


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("run") / "out"
    return out, trustsim(*RUN, "--out", str(out))


def test_run_writes_both_files_and_a_summary(first_run):
    out, done = first_run
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [".tables", "report.html", "results.duckdb", "runs"]
    assert "20,000 people" in done.stdout and "seed 7" in done.stdout
    assert f"wrote {out / 'results.duckdb'} (run 1)" in done.stdout
    # the four figures say what they are a share or ratio of, and when they hold
    assert "At the last step (2020-12-23), whole population:" in done.stdout
    for what in ("mean score of the people scored", "share of adults on the court list or the public blacklist",
                 "share of the sanctioned (under any measure or on any list)", "dissent expressed over dissent held"):
        assert what in done.stdout
    assert len(metrics_of(out)) > 0
    result = store.open_results(out)
    assert result.seed == 7 and result.people == 20_000 and result.scenario.name == "national_2020"


def test_same_seed_same_metrics_and_quiet_is_silent(first_run, tmp_path):
    out, _ = first_run
    again = trustsim(*RUN, "--out", str(tmp_path), "--quiet")
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""
    assert metrics_of(tmp_path) == metrics_of(out)


def test_a_failing_run_leaves_no_partial_files(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "build_report", broken)
    with pytest.raises(RuntimeError):
        cli.main(["run", "--people", "2000", "--years", "0.1", "--quiet", "--out", str(tmp_path)])
    assert list(tmp_path.iterdir()) == []


def test_report_rebuilds_from_the_database(first_run, capsys):
    out, _ = first_run
    (out / "report.html").unlink()
    code, stdout, _ = invoke(capsys, "report", str(out))
    assert code == 0 and stdout == f"wrote {out / 'report.html'}\n"
    assert "trustsim report: national_2020" in (out / "report.html").read_text()
