"""Case files: the trace agrees with the audit and the snapshot, does not depend on the thread count,
and `trustsim case` tells it or refuses in one line."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pytest

import trustsim
from trustsim.context import Context
from trustsim.report.cases import cases
from trustsim.scenario.schema import EVENT_KINDS
from trustsim.society import Society
from trustsim.state import CAUSE, MEASURE
from trustsim.trace import EVENTS, choose

from test_cli import assert_one_line_error, invoke

SEED = 3


@pytest.fixture(scope="module")
def traced(tmp_path_factory) -> tuple[trustsim.Result, Path]:
    """One traced national_2020 run, shared by the tests of this module, saved to a directory."""
    # Linkage errors at five times the default, so that the people chosen by outcome include some
    # wronged by each cause at this size.
    scenario = trustsim.load_scenario("national_2020", {"population.people": 20_000, "run.trace": 60,
                                                        "run.snapshot": True,
                                                        "surveillance.linkage_error_rate": 0.005})
    result = trustsim.simulate(scenario, seed=SEED)
    directory = tmp_path_factory.mktemp("traced")
    trustsim.save([result], directory)
    return result, directory


def _began(trace: pd.DataFrame, cause: str) -> pd.DataFrame:
    """(person, measure, step) of each measure the audit attributed to cause, from the step it took that cause."""
    heads = trace["event"].str.partition(".")
    rows = trace[heads[0].isin(["measure_applied", "measure_recaused"]) & (trace["cause"] == cause)]
    return rows.assign(measure=heads.loc[rows.index, 2])[["person", "measure", "step"]]


@pytest.mark.parametrize("cause", ["false_match", "linkage_error"])
def test_an_erroneous_sanction_follows_an_error_of_its_cause(traced, cause):
    result, _ = traced
    trace, snap = result.trace, result.snapshot
    began = _began(trace, cause)
    # Everyone traced whom the audit holds sanctioned through this cause at the end (the snapshot's
    # rows are people) took a measure for it in the trace.
    audited = np.flatnonzero((snap[[f"cause.{m}" for m in MEASURE]] == CAUSE[cause]).any(axis=1).to_numpy())
    assert set(audited) & set(result.traced_people["person"]) <= set(began["person"])
    assert len(began) > 0, f"the chosen people include someone sanctioned through {cause}"
    errors = trace[trace["event"].str.startswith("observed.") & (trace["cause"] == cause)]
    first_error = errors.groupby("person")["step"].min()
    for row in began.itertuples():
        assert row.person in first_error.index and first_error[row.person] <= row.step, row


def test_an_association_sanction_comes_from_low_contacts_not_the_own_record(traced):
    result, _ = traced
    trace = result.trace
    bars = {rule.measure: rule.when.score_below for rule in result.scenario.sanctions.rules
            if rule.when.score_below is not None and rule.when.on_list is None and rule.when.event is None}
    began = _began(trace, "association")
    began = began[began["measure"].isin(bars)]  # relatives' rules pass association on without a score
    assert len(began) > 0
    value = trace.set_index(["person", "step", "event"])["value"]
    for row in began.itertuples():
        bar = bars[row.measure]
        assert value[row.person, row.step, "score.individual"] >= bar
        assert value[row.person, row.step, "score.published"] < bar
        assert value.get((row.person, row.step - 1, "contacts.low"), 0) > 0


def test_the_traced_published_score_is_the_snapshot_score(traced):
    result, _ = traced
    trace = result.trace
    last = trace[(trace["event"] == "score.published") & (trace["step"] == result.steps - 1)].set_index("person")
    snap = result.snapshot.iloc[last.index]
    np.testing.assert_array_equal(last["value"].to_numpy(), snap["score"].astype(np.float64).to_numpy())
    assert len(last) == len(result.traced_people) == 60


def test_half_are_chosen_uniformly_and_every_event_is_named(traced):
    result, _ = traced
    reasons = result.traced_people["chosen_for"].value_counts()
    assert reasons["random"] == 30
    assert {"false_match", "linkage_error", "association", "dissident", "rewarded"} <= set(reasons.index)
    assert set(result.trace["event"]) <= set(EVENTS)
    people, why = choose(SEED, 100, 10, {"a": np.array([5, 7]), "b": np.array([], np.int64)})
    assert set(people) >= {5, 7} and why.count("a") == 2 and len(people) == 10


def test_the_trace_does_not_depend_on_the_thread_count():
    scenario = trustsim.load_scenario("national_2020", {"population.people": 6_000, "run.years": 0.5,
                                                        "run.trace": 30})
    before = numba.get_num_threads()
    traces = []
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            traces.append(trustsim.simulate(scenario, seed=SEED).trace)
    finally:
        numba.set_num_threads(before)
    pd.testing.assert_frame_equal(traces[0], traces[1])


def test_case_tells_a_traced_person_in_sentences(traced, capsys):
    result, directory = traced
    person = int(result.traced_people.loc[result.traced_people["chosen_for"] == "false_match", "person"].iloc[0])
    code, out, err = invoke(capsys, "case", str(directory), str(person))
    assert code == 0 and err == ""
    assert "false match" in out and out.splitlines()[0].startswith(f"Person {person} ")
    code, out, _ = invoke(capsys, "case", str(directory), "--list")
    assert code == 0 and len(out.splitlines()) == 60


def test_case_refuses_an_unknown_person_or_an_untraced_run_in_one_line(traced, capsys, tmp_path):
    result, directory = traced
    untraced = [p for p in range(result.people) if p not in set(result.traced_people["person"])][0]
    assert_one_line_error(*invoke(capsys, "case", str(directory), str(untraced)), "not traced")
    small = trustsim.simulate(trustsim.load_scenario("national_2020", {"population.people": 2_000,
                                                                       "run.years": 0.1}), seed=SEED)
    trustsim.save([small], tmp_path)
    assert_one_line_error(*invoke(capsys, "case", str(tmp_path), "1"), "traced nobody")
    assert math.isfinite(small.final()["score_mean"])


def test_the_report_tells_case_files_from_the_trace(traced):
    result, directory = traced
    page = (directory / "report.html").read_text(encoding="utf-8")
    assert '<section id="cases">' in page
    stories = page.count('<p class="story">')
    assert 4 <= stories <= 6
    false_match = result.traced_people.loc[result.traced_people["chosen_for"] == "false_match", "person"]
    assert any(f"person {p}</h3>" in page for p in false_match)


STORY_SCORE = re.compile(r"score (?:fell|rose) to (\d+) \(everything filed under (?:her|his) name"
                         r"(?:, (.+?) included,)? gave (\d+) before (?:her|his) contacts counted")


def _to_score(p, raw: float) -> float:
    return 350.0 + 600.0 / (1.0 + math.exp(-(p.logit_baseline + raw / p.spread)))


def _to_raw(p, score: float) -> float:
    share = (score - 350.0) / 600.0
    return p.spread * (math.log(share / (1.0 - share)) - p.logit_baseline)


def _points(p, observed: pd.DataFrame) -> float:
    """The weighted points of one step's observed events, as stages/scoring.record adds them."""
    total = 0.0
    for event, count in observed.groupby("event")["value"].sum().items():
        k = EVENT_KINDS.index(event.split(".", 1)[1])
        counted = max(count - p.free_hours, 0.0) if k == p.gaming_kind else count
        total += p.kind_weight[k] * p.points[k] * counted
    return total


def test_a_story_names_the_score_before_contacts_as_what_it_is(traced):
    """'Everything filed under her name, the false match included, gave 566 before her contacts
    counted': 566 is the score of every event filed under her name, errors and all, and the
    published score is that score with the contacts' term added."""
    result, _ = traced
    scenario, trace = result.scenario, result.trace
    p = Context.build(scenario, Society.blank(scenario), SEED).params
    a = scenario.scoring.association.weight
    told = errors_told = 0
    for person, case in cases(trace, result.traced_people, scenario.scoring.association.threshold).items():
        rows = trace[trace["person"] == person]
        if (rows["event"] == "trace.overflow").any():
            continue
        at = {(r.step, r.event): r.value for r in rows.itertuples() if r.event.startswith("score.")}
        observed = rows[rows["event"].str.startswith("observed.")]
        granted = rows.loc[rows["event"] == "appeal.granted", "step"].tolist()
        step_of = dict(zip(rows["date"].astype(str).str[:10], rows["step"]))
        for date, text, _ in case.steps():
            match = STORY_SCORE.search(text)
            if not match:
                continue
            t = step_of[date]
            published, individual = at[t, "score.published"], at[t, "score.individual"]
            assert (int(match[1]), int(match[3])) == (round(published), round(individual)), text
            # before her contacts counted: the published score is this one with the contacts' term added
            assert published == pytest.approx(min(max((1 - a) * individual + at[t, "score.contacts"], 350), 950),
                                              abs=1e-3)
            # the errors the story says the score holds: those observed since the last granted appeal
            # (an appeal strikes them after its step's score)
            since = max([s for s in granted if s < t], default=-1)
            errors = observed[(observed["step"] > since) & (observed["step"] <= t)]
            on_file = set(errors.loc[errors["cause"] != "true", "cause"])
            named = {c for c, word in (("false_match", "false match"), ("linkage_error", "misfiled record"))
                     if word in (match[2] or "")}
            assert named == on_file, text
            # everything filed under her name: last step's record decayed, plus every event observed
            # this step whatever its cause
            if t - 1 in granted or (t - 1, "score.individual") not in at:
                continue
            now = observed[observed["step"] == t]
            before = _to_raw(p, at[t - 1, "score.individual"]) * p.decay
            assert _to_score(p, before + _points(p, now)) == pytest.approx(individual, abs=0.05), text
            told += 1
            if on_file and abs(_to_score(p, before + _points(p, now[now["cause"] == "true"])) - individual) > 1:
                errors_told += 1  # without this step's errors the number would be another
    assert told > 20 and errors_told > 0
