"""The step loop: same seed, same result, whatever the thread count; common random numbers."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import trustsim
from trustsim.engine import estimate_bytes, run_steps
from trustsim.errors import UserError

SMALL = {"population.people": 20_000, "run.years": 0.5}


def test_same_seed_gives_identical_metrics_and_another_seed_does_not():
    scenario = trustsim.load_scenario("national_2020", SMALL)
    a = trustsim.simulate(scenario, seed=1).metrics
    b = trustsim.simulate(scenario, seed=1).metrics
    c = trustsim.simulate(scenario, seed=2).metrics
    pd.testing.assert_frame_equal(a, b)
    assert not a["value"].equals(c["value"])


SCRIPT = """
import sys, trustsim
scenario = trustsim.load_scenario("national_2020", {"population.people": 20000, "run.years": 0.5})
trustsim.simulate(scenario, seed=4).metrics.to_csv(sys.argv[1], index=False, float_format="%.17g")
"""


def test_results_do_not_depend_on_the_thread_count(tmp_path):
    outputs = []
    for threads in ("1", "2"):
        path = tmp_path / f"t{threads}.csv"
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        subprocess.run([sys.executable, "-c", SCRIPT, str(path)], check=True, env=env)
        outputs.append(path.read_bytes())
    assert outputs[0] == outputs[1]


def test_two_policies_share_their_random_numbers():
    """Common random numbers: before any sanction, two policies see the same crimes in every group."""
    a = trustsim.load_scenario("national_2020", SMALL)
    b = trustsim.load_scenario("national_2020", {**SMALL, "scoring.association.contact_penalty": 50.0})
    crimes = [
        m[(m.metric == "crime_rate") & (m.step == 0)].set_index("group")["value"]
        for m in (trustsim.simulate(a, seed=9).metrics, trustsim.simulate(b, seed=9).metrics)
    ]
    assert crimes[0]["all"] > 0
    pd.testing.assert_series_equal(crimes[0], crimes[1])
    other_seed = trustsim.simulate(a, seed=10).metrics
    assert other_seed[(other_seed.metric == "crime_rate") & (other_seed.step == 0) & (other_seed.group == "all")][
        "value"].iloc[0] != crimes[0]["all"]


def test_a_population_too_large_for_memory_is_refused_before_allocating():
    scenario = trustsim.load_scenario("national_2020")
    scenario.population.people = 10**11
    assert estimate_bytes(scenario) > 10**11 * 100
    with pytest.raises(UserError, match="population.people"):
        next(run_steps(scenario))


def test_a_snapshot_holds_every_person_with_what_the_system_did_to_them(tmp_path):
    scenario = trustsim.load_scenario("national_2020", {**SMALL, "run.snapshot": True})
    result = trustsim.simulate(scenario, seed=1)
    snap = result.snapshot
    assert len(snap) == 20_000
    assert snap["score"].between(350, 950).all()
    assert {"region", "minority", "dissent", "lists", "cause.flight_ban", "perceived_risk"} <= set(snap.columns)
    run_id = trustsim.save([result], tmp_path)[0]
    assert (tmp_path / "runs" / f"run_id={run_id}" / "snapshot.parquet").exists()


def test_a_cold_kernel_cache_is_detected_so_the_first_run_can_say_it_compiles(tmp_path):
    """An empty NUMBA_CACHE_DIR reads as not cached (the CLI then prints its one-line notice)."""
    probe = "from trustsim.kernels.cache import step_kernels_cached; print(step_kernels_cached())"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("preset", ["national_2020", "financial_only", "judicial_lists"])
def test_the_person_pass_compiled_ahead_on_a_blank_society_is_the_one_a_run_uses(preset):
    """kernels/ahead.py compiles the person pass on Society.blank in a second process; that is only
    of use if it has the argument types of a real run, so nothing new is compiled here."""
    from trustsim.kernels.ahead import compile_person_pass
    from trustsim.kernels.person_pass import _households

    scenario = trustsim.load_scenario(preset, {"population.people": 2_000, "run.years": 2 * 7 / 365.25})
    trustsim.simulate(scenario)
    before = set(_households.signatures)
    compile_person_pass(scenario)
    assert set(_households.signatures) == before


def test_the_second_process_that_compiles_ahead_runs_to_the_end():
    from trustsim.kernels.ahead import compile_ahead

    assert compile_ahead(trustsim.load_scenario("national_2020")).wait() == 0


def test_a_society_with_an_array_of_another_dtype_is_refused():
    from trustsim.society.society import Society

    scenario = trustsim.load_scenario("national_2020")
    blank = Society.blank(scenario)
    people = {**blank.people, "household": blank.people["household"].astype(np.int64)}
    with pytest.raises(TypeError, match="household"):
        Society(blank.n, people, blank.region_names, blank.firms, blank.network, scenario)
