"""The benchmark suite still runs: each script at tiny sizes (speed figures are never asserted)."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def run(*args):
    out = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_full_model_benchmark_runs():
    out = run(BENCH / "bench_model.py", "--quick")
    assert "| people | steps | people pass | network pass | metrics | all | reference | ratio |" in out


def test_first_run_benchmark_runs():
    out = run(BENCH / "bench_first_run.py", "--quick")
    assert "| empty (first run after installing) |" in out and "Compiling trustsim's kernels" in out


def test_national_benchmark_runs():
    out = run(BENCH / "bench_national.py", "--quick")
    assert "| society build s | mean step s |" in out and "a year (projected)" in out


def test_profile_runs_or_says_why_not():
    out = run(BENCH / "bench_profile.py", "--quick")
    assert "By source line:" in out or "skipped" in out


def test_reference_workload_benchmark_runs():
    assert "trustsim kernel" in run(BENCH / "bench_reference.py", "--quick")


def test_store_benchmark_runs():
    out = run(BENCH / "bench_store.py", "--quick")
    assert "| last / first (means) |" in out and "bytes per person" in out


def test_trace_benchmark_runs():
    assert "| tracing off |" in run(BENCH / "bench_trace.py", "--quick")


def test_explorer_benchmark_runs():
    assert "| change | run s | plots s | total s | CPU s | load |" in run(BENCH / "bench_explore.py", "--quick")


def test_society_benchmark_runs():
    figures = json.loads(run(BENCH / "bench_society.py", "--people", "20000").strip().splitlines()[-1])
    assert figures["people"] == 20_000 and figures["mean_degree"] > 0


def test_small_run_benchmark_runs():
    assert "The whole run over its step passes" in run(BENCH / "bench_small_run.py", "--quick")


def test_ensemble_benchmark_runs():
    assert "overhead per run" in run(BENCH / "bench_ensemble.py", "--quick")


def test_the_one_command_runs_every_benchmark_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_all", BENCH / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    assert set(run_all.SCRIPTS) == {path.name for path in BENCH.glob("bench_*.py")}


def test_posterior_toys_benchmark_runs():
    assert "| two branches, 3 parameters, 2 outputs |" in run(BENCH / "bench_posterior_toys.py", "--quick")


def test_posterior_benchmark_runs(tmp_path):
    out = run(BENCH / "bench_posterior.py", "--quick", "--out", tmp_path / "post")
    assert "| bank runs per second" in out and "| size: reruns at 10x people | 4 |" in out
