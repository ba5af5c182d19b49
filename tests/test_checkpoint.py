"""Checkpoints and resume: a run killed after a checkpoint and resumed ends with exactly the metrics
of the same run left alone; a finished run leaves no checkpoint; a checkpoint from another
version or a changed scenario is refused in one line; Ctrl-C says at which step it stopped."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from trustsim import cli, load_scenario, simulate, store
from trustsim.checkpoint import Checkpoints

ARGS = ["--people", "4000", "--years", "0.5", "--seed", "3", "--quiet"]  # 26 steps


def trustsim(*args, check=True):
    out = subprocess.run([sys.executable, "-m", "trustsim", *map(str, args)], capture_output=True, text=True, timeout=600)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def exact(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"step": "int64", "metric": str, "group": str})
    return frame.sort_values(["step", "metric", "group"], ignore_index=True)


@pytest.fixture(scope="module")
def uninterrupted():
    scenario = load_scenario("financial_only", {"population.people": 4000, "run.years": 0.5})
    return simulate(scenario, seed=3).metrics


def interrupt_at(monkeypatch, step: int) -> None:
    """Make the run stop with Ctrl-C once `step` steps are done (after that step's checkpoint)."""
    after = Checkpoints.after

    def stopping(self, t, *args):
        after(self, t, *args)
        if t + 1 == step:
            raise KeyboardInterrupt

    monkeypatch.setattr(Checkpoints, "after", stopping)


def run_cli(*args) -> tuple[int, str]:
    try:
        cli.main(list(map(str, args)))
    except SystemExit as exc:
        return exc.code, ""
    return 0, ""


def test_ctrl_c_keeps_the_checkpoint_and_resume_matches_the_uninterrupted_run(tmp_path, monkeypatch, capsys,
                                                                                uninterrupted):
    interrupt_at(monkeypatch, 12)
    assert run_cli("run", "financial_only", *ARGS, "--checkpoint-every", "5", "--out", tmp_path) == (130, "")
    err = capsys.readouterr().err
    assert err == (f"trustsim: error: interrupted after step 12 of 26; nothing was written; resume from step 10 "
                   f"with `trustsim resume {tmp_path}`\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]
    monkeypatch.undo()
    assert run_cli("resume", tmp_path, "--quiet")[0] == 0
    assert not (tmp_path / "checkpoint").exists()
    pd.testing.assert_frame_equal(exact(store.open_results(tmp_path).metrics), exact(uninterrupted), check_exact=True)


def test_sigkill_after_a_checkpoint_then_resume_gives_identical_metrics(tmp_path):
    scenario_args = ["--people", "10000", "--years", "1", "--seed", "5", "--quiet"]
    proc = subprocess.Popen([sys.executable, "-m", "trustsim", "run", "financial_only", *scenario_args,
                             "--checkpoint-every", "5", "--out", str(tmp_path / "killed")])
    state = tmp_path / "killed" / "checkpoint" / "state.npz"
    while not state.exists() and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before its first checkpoint"
    assert not (tmp_path / "killed" / "results.duckdb").exists()
    trustsim("resume", tmp_path / "killed", "--quiet")
    trustsim("run", "financial_only", *scenario_args, "--out", tmp_path / "whole")
    resumed, whole = store.open_results(tmp_path / "killed"), store.open_results(tmp_path / "whole")
    pd.testing.assert_frame_equal(exact(resumed.metrics), exact(whole.metrics), check_exact=True)
    assert not (tmp_path / "killed" / "checkpoint").exists()


def test_a_finished_run_removes_its_checkpoint(tmp_path, uninterrupted):
    assert run_cli("run", "financial_only", *ARGS, "--checkpoint-every", "4", "--out", tmp_path)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tables", "report.html", "results.duckdb", "runs"]
    pd.testing.assert_frame_equal(exact(store.open_results(tmp_path).metrics), exact(uninterrupted), check_exact=True)


def rewrite_meta(directory, **changes) -> None:
    path = directory / "checkpoint" / "state.npz"
    with np.load(path) as saved:
        arrays = dict(saved)
    arrays["meta"] = np.array(json.dumps({**json.loads(str(arrays["meta"])), **changes}))
    np.savez(path, **arrays)


def test_checkpoint_from_another_version_is_refused(tmp_path, monkeypatch, capsys):
    interrupt_at(monkeypatch, 6)
    run_cli("run", "financial_only", *ARGS, "--checkpoint-every", "5", "--out", tmp_path)
    rewrite_meta(tmp_path, version="0.0.1")
    capsys.readouterr()
    assert run_cli("resume", tmp_path)[0] == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "written by trustsim 0.0.1" in err
    assert (tmp_path / "checkpoint" / "state.npz").exists()  # left as it was


def test_checkpoint_of_a_changed_scenario_is_refused(tmp_path, monkeypatch, capsys):
    scenario = tmp_path / "mine.yaml"
    scenario.write_text("base: financial_only\nsurveillance:\n  cameras: 1000000\n")
    interrupt_at(monkeypatch, 6)
    run_cli("run", scenario, *ARGS, "--checkpoint-every", "5", "--out", tmp_path / "out")
    scenario.write_text("base: financial_only\nsurveillance:\n  cameras: 2000000\n")
    capsys.readouterr()
    assert run_cli("resume", tmp_path / "out")[0] == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mine.yaml changed since the checkpoint" in err


def test_a_new_run_does_not_overwrite_an_unfinished_runs_checkpoint(tmp_path, monkeypatch, capsys):
    interrupt_at(monkeypatch, 6)
    run_cli("run", "financial_only", *ARGS, "--checkpoint-every", "5", "--out", tmp_path)
    monkeypatch.undo()
    before = (tmp_path / "checkpoint" / "state.npz").read_bytes()
    capsys.readouterr()
    assert run_cli("run", "financial_only", *ARGS, "--checkpoint-every", "5", "--out", tmp_path)[0] == 2
    assert "holds the checkpoint of an unfinished run" in capsys.readouterr().err
    assert (tmp_path / "checkpoint" / "state.npz").read_bytes() == before


def test_ctrl_c_during_a_run_says_at_which_step_it_stopped(tmp_path):
    out = tmp_path / "out"
    # About a minute of steps: 20,000 people over 20 years ran out inside the 12 s once metrics cost O(groups).
    proc = subprocess.Popen([sys.executable, "-m", "trustsim", "run", "financial_only", "--people", "200000",
                             "--years", "20", "--quiet", "--out", str(out)], stderr=subprocess.PIPE, text=True,
                            # a shell that starts pytest in the background leaves SIGINT ignored, and children inherit it
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(12)  # past start-up, into the steps
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert re.fullmatch(r"trustsim: error: interrupted after step \d+ of 1044; nothing was written\n", err), err
    assert not out.exists()
