"""The explorer: its levers and their ranges, its runs and YAML, the page under Streamlit's AppTest, the command.

The page tests drive the real page headless (streamlit.testing's AppTest) at 4,000 people for one
year: a lever moved and Run pressed changes the metric it should, the unchanged side is exactly
`trustsim.simulate` of the preset, and the YAML the page offers reproduces the changed run.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import trustsim
from trustsim.cli import main
from trustsim.explore import levers as lv
from trustsim.explore.runs import Request, run_pair, scenario_yaml

APP = Path(trustsim.__file__).parent / "explore" / "app.py"
PEOPLE = 4000


# --- levers ------------------------------------------------------------------------------------


def test_levers_take_their_ranges_from_the_schema():
    scenario = trustsim.load_scenario("national_2020")
    levers = {lever.key: lever for lever in lv.levers_for(scenario)}
    appeals = levers["sanctions.appeals.success_rate"]
    assert (appeals.low, appeals.high) == (0.0, 100.0)  # a probability, shown in percent
    threshold = levers["sanctions.rules.0.when.score_below"]
    assert (threshold.low, threshold.high) == (350.0, 950.0)
    assert levers["scoring.weights.political"].high == 100.0
    assert levers["participation.mode"].choices == ("voluntary", "mandatory")
    cameras = levers["surveillance.cameras"]
    assert cameras.low == 0 and cameras.limit_note  # the schema has no upper bound: the page says so
    # one threshold lever per rule that has a score threshold, named by its measure
    thresholds = [k for k in levers if k.endswith("when.score_below")]
    assert len(thresholds) == sum(r.when.score_below is not None for r in scenario.sanctions.rules) == 3
    for lever in levers.values():  # every default lies inside its lever's range
        if not lever.is_choice:
            value = lv.values_of(scenario, [lever])[lever.key]
            assert lever.low <= lever.shown(value) <= lever.high
            assert math.isclose(lever.to_value(lever.shown(value)), value, rel_tol=1e-9)


def test_schema_bounds_follow_the_schema():
    assert lv.schema_bounds("responses.chilling.strength") == (0.0, 1.0)
    assert lv.schema_bounds("surveillance.cameras") == (0.0, None)
    low, high = lv.schema_bounds("scoring.half_life_weeks")  # gt=0: just inside
    assert 0 < low < 1e-5 and high == 5200


def test_levers_a_preset_does_not_use_say_why():
    judicial = trustsim.load_scenario("judicial_lists")
    keys = [lever.key for lever in lv.levers_for(judicial)]
    assert not [k for k in keys if "score_below" in k]  # its rules follow the court list, not a score
    values = lv.values_of(judicial, lv.levers_for(judicial))
    assert "contacts" in lv.unused_reason("responses.distancing.strength", values, judicial)
    assert "social" in lv.unused_reason("scoring.association.contact_penalty", values, judicial)
    sesame = trustsim.load_scenario("sesame_2015")
    assert "cameras" in lv.unused_reason("surveillance.face_recognition.false_positive_rate", {}, sesame)
    assert lv.unused_reason("surveillance.face_recognition.false_positive_rate",
                            {"surveillance.cameras": 1e8}, sesame) is None
    assert "nothing to appeal" in lv.unused_reason("sanctions.appeals.rate", {}, sesame)
    national = trustsim.load_scenario("national_2020")
    assert all(lv.unused_reason(lever.key, {}, national) is None for lever in lv.levers_for(national))


def test_sensitivity_orders_the_levers():
    rows = [
        # Sobol: ST as it is; S1 ignored
        (1, "wrongful_sanction_share", "scoring.association.weight", "sobol", "ST", 0.7, 0.1),
        (1, "wrongful_sanction_share", "scoring.association.weight", "sobol", "S1", 0.9, 0.1),
        (1, "wrongful_sanction_share", "sanctions.appeals.rate", "sobol", "ST", 0.2, 0.1),
        (1, "blacklist_share", "sanctions.appeals.rate", "sobol", "ST", 0.8, 0.1),
        # Morris: mu* relative to the largest of its metric; sigma ignored
        (2, "score_mean", "surveillance.cameras", "morris", "mu_star", 40.0, 5.0),
        (2, "score_mean", "responses.chilling.strength", "morris", "mu_star", 10.0, 5.0),
        (2, "score_mean", "responses.chilling.strength", "morris", "sigma", 99.0, 5.0),
    ]
    table = pd.DataFrame(rows, columns=["ensemble_id", "metric", "parameter", "method", "statistic", "value", "conf"])
    weights = lv.importance(table)
    assert weights == {"surveillance.cameras": 1.0, "sanctions.appeals.rate": 0.8,
                       "scoring.association.weight": 0.7, "responses.chilling.strength": 0.25}
    assert lv.importance(table, metrics=["wrongful_sanction_share"]) == {
        "scoring.association.weight": 0.7, "sanctions.appeals.rate": 0.2}
    assert lv.importance(table.iloc[0:0]) == {}
    levers = lv.levers_for(trustsim.load_scenario("national_2020"))
    order = [lever.key for lever in lv.ordered(levers, weights)]
    assert order[:4] == ["surveillance.cameras", "sanctions.appeals.rate", "scoring.association.weight",
                         "responses.chilling.strength"]
    assert sorted(order) == sorted(lever.key for lever in levers)


def test_changed_keeps_only_what_moved():
    scenario = trustsim.load_scenario("national_2020")
    levers = lv.levers_for(scenario)
    base = lv.values_of(scenario, levers)
    shown = {lever.key: lever.to_value(lever.shown(base[lever.key])) for lever in levers}  # a round trip
    assert lv.changed(levers, base, shown) == {}
    shown["sanctions.appeals.rate"] = 0.9
    shown["participation.mode"] = "voluntary"
    assert lv.changed(levers, base, shown) == {"sanctions.appeals.rate": 0.9, "participation.mode": "voluntary"}


def test_the_yaml_of_a_change_loads_as_the_changed_scenario(tmp_path):
    request = Request.make("national_2020", {"sanctions.rules.1.when.score_below": 420.0,
                                             "sanctions.appeals.rate": 0.5}, PEOPLE, 2, 3)
    changed = request.scenario()
    path = tmp_path / "mine.yaml"
    path.write_text(scenario_yaml(request, changed))
    loaded = trustsim.load_scenario(path)
    assert loaded.model_dump(exclude={"name", "description"}) == changed.model_dump(exclude={"name", "description"})
    assert "--seed 3" in path.read_text()


# --- the page ----------------------------------------------------------------------------------


@pytest.fixture
def page(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("TRUSTSIM_EXPLORE_PRESET", "national_2020")
    monkeypatch.setenv("TRUSTSIM_EXPLORE_PEOPLE", str(PEOPLE))
    monkeypatch.delenv("TRUSTSIM_EXPLORE_DIR", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=600)
    at.run()
    assert not at.exception and not at.error
    return at


def slider(at, label: str):
    return next(s for s in at.slider if s.label.startswith(label))


def press_run(at) -> Request:
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at.session_state["request"]


def mean(result, metric: str) -> float:
    rows = result.metrics[(result.metrics["metric"] == metric) & (result.metrics["group"] == "all")]
    return float(rows["value"].mean())


def test_the_unchanged_side_is_the_preset_run_with_the_same_seed(page):
    request = press_run(page)
    assert request.overrides == () and request.people == PEOPLE and request.years == 1
    changed, unchanged = run_pair(request)  # from the cache the page filled
    direct = trustsim.simulate(trustsim.load_scenario("national_2020", {"population.people": PEOPLE, "run.years": 1}),
                               seed=0)
    pd.testing.assert_frame_equal(unchanged.metrics, direct.metrics)
    readout = page.session_state["readout"]
    assert readout["wrongful_sanction_share"] == (direct.final()["wrongful_sanction_share"],) * 2
    assert [m.label for m in page.metric][:4] == ["mean score", "on a blacklist", "sanctioned wrongly", "dissent voiced"]
    assert not any(m.delta for m in page.metric)  # nothing changed, so no differences to show
    assert len(page.get("plotly_chart")) == 3


def test_fewer_cameras_detect_fewer_crimes(page):
    slider(page, "Surveillance cameras").set_value(20.0)  # million, from 626
    request = press_run(page)
    assert dict(request.overrides) == {"surveillance.cameras": 20e6}
    changed, unchanged = run_pair(request)
    assert mean(changed, "detected_crime_share") < 0.5 * mean(unchanged, "detected_crime_share")
    detected = next(m for m in page.metric if m.label.startswith("crimes detected"))
    assert detected.delta.startswith("-")


def test_appeals_that_work_lower_wrongful_sanctions(page, tmp_path, capsys):
    slider(page, "Appeals made").set_value(90.0)
    slider(page, "Appeals that succeed").set_value(90.0)
    request = press_run(page)
    assert dict(request.overrides) == {"sanctions.appeals.rate": 0.9, "sanctions.appeals.success_rate": 0.9}
    changed, unchanged = run_pair(request)
    mine, theirs = page.session_state["readout"]["wrongful_sanction_share"]
    assert mine < 0.5 * theirs
    assert mean(changed, "wrongful_sanction_share") < 0.5 * mean(unchanged, "wrongful_sanction_share")
    # the scenario the page offers (scenario_yaml feeds its download button) validates and reproduces the run
    (button,) = page.get("download_button")
    assert button.proto.label.startswith("Save the changed scenario") and button.proto.url
    path = tmp_path / "explored.yaml"
    path.write_text(scenario_yaml(request, changed.scenario))
    with pytest.raises(SystemExit) as exit_:
        main(["validate", str(path)])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("OK ")
    again = trustsim.simulate(trustsim.load_scenario(path), seed=request.seed)
    pd.testing.assert_frame_equal(again.metrics, changed.metrics)


def test_a_sensitivity_result_orders_the_levers_on_the_page(monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from trustsim import store

    rows = pd.DataFrame({"ensemble_id": 1, "metric": "wrongful_sanction_share", "method": "sobol", "statistic": "ST",
                         "parameter": ["responses.distancing.strength", "sanctions.appeals.rate"],
                         "value": [0.6, 0.3], "conf": 0.05})
    tables = {"sensitivity": rows}
    monkeypatch.setattr(store, "table", lambda directory, name: tables.get(name, pd.DataFrame()), raising=False)
    monkeypatch.setenv("TRUSTSIM_EXPLORE_DIR", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception and not at.error
    assert [h.value for h in at.subheader][:2] == ["Responses", "Sanctions"]  # the stages of the top levers first
    labels = [s.label for s in at.slider]
    assert labels.index("Distancing from low scorers (% chance per week)") < labels.index("Chilling of speech (% of dissent at most)")
    assert labels.index("Appeals made (% per week)") < labels.index("Appeals that succeed (% of appeals)")
    assert any("ordered by how much they moved the results" in c.value for c in at.caption)
    tables.clear()  # a directory without a sensitivity analysis: the levers keep their order, and the page says so
    at.run()
    assert [h.value for h in at.subheader][0] == "Surveillance"
    assert any("holds no sensitivity analysis" in c.value for c in at.caption)


def test_an_error_is_one_line_on_the_page(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("TRUSTSIM_EXPLORE_PRESET", "no_such_preset")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith("trustsim: no_such_preset: unknown preset") and "\n" not in error.value


# --- the command -------------------------------------------------------------------------------


def test_explore_without_streamlit_says_how_to_install_it(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "streamlit" else real(name, *a))
    with pytest.raises(SystemExit) as exit_:
        main(["explore"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("trustsim: error:") and "pip install 'trustsim[explore]'" in err and "\n" not in err


def test_explore_refuses_a_bad_preset_or_a_busy_port(capsys):
    import socket

    with pytest.raises(SystemExit) as exit_:
        main(["explore", "no_such_preset"])
    assert exit_.value.code == 2 and "unknown preset" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit) as exit_:
            main(["explore", "--port", str(port)])
    assert exit_.value.code == 2 and f"--port {port}: the port is in use" in capsys.readouterr().err


def test_streamlit_runs_local_and_quiet():
    from trustsim.explore.server import HOST, options

    settings = options(8600, headless=True)
    assert settings["server.address"] == HOST == "127.0.0.1"
    assert settings["browser.gatherUsageStats"] == "false" and settings["server.headless"] == "true"
