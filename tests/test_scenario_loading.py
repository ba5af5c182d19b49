"""Scenario loading: presets, `base:` inheritance, overrides, and one clear line per mistake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psutil
import pytest

from trustsim.errors import UserError
from trustsim.scenario.loading import load_scenario, parse_overrides, presets, read_observations, source_label

PRESETS = ("financial_only", "judicial_lists", "national_2020", "sesame_2015")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(*args, **kwargs) -> str:
    with pytest.raises(UserError) as info:
        load_scenario(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- presets -----------------------------------------------------------------------------------


def test_presets_list_the_four_with_one_line_descriptions():
    listed = dict(presets())
    assert tuple(listed) == PRESETS
    assert all(desc and "\n" not in desc for desc in listed.values())


def test_preset_descriptions_say_what_the_system_is_without_the_word_seed():
    # The description is every page's subtitle, where "seed" can only read as the random seed.
    listed = dict(presets())
    assert not [name for name, desc in listed.items() if "seed" in desc.lower()]
    assert listed["national_2020"].startswith("the mandatory national score described in press reports, 2017")


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads_under_its_own_name(name):
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.description == dict(presets())[name]


def test_presets_are_the_systems_of_the_model():
    national, sesame = load_scenario("national_2020"), load_scenario("sesame_2015")
    judicial, financial = load_scenario("judicial_lists"), load_scenario("financial_only")
    assert national.participation.mode == "mandatory" and sesame.participation.mode == "voluntary"
    assert national.surveillance.cameras == 626e6 and judicial.surveillance.cameras == 176e6
    assert national.scoring.weights.political > 0 and sesame.scoring.weights.political == 0
    assert national.scoring.association.contact_penalty > 0
    assert {r.measure for r in national.sanctions.rules} == {
        "blacklist", "flight_ban", "rail_ban", "job_ban", "internet_throttle", "id_block"}
    assert sesame.sanctions.rules == [] and sesame.rewards.rules
    assert all(r.when.on_list == "court_list" for r in judicial.sanctions.rules)
    weights = financial.scoring.weights.model_dump()
    assert weights.pop("financial") > 0 and not any(weights.values())


def test_national_2020_default_size_is_small():
    scenario = load_scenario("national_2020")
    assert scenario.population.people <= 100_000 and scenario.run.years <= 1


# --- files and base: ---------------------------------------------------------------------------


def test_file_with_preset_base_deep_merges(tmp_path):
    path = write(tmp_path, "mine.yaml", "base: national_2020\npopulation: {people: 2000}\n"
                 "scoring: {weights: {political: 3}}\n")
    scenario = load_scenario(path)
    assert scenario.name == "mine"  # a file without a name is named after itself, not its base
    assert scenario.population.people == 2000
    assert scenario.scoring.weights.political == 3
    assert scenario.scoring.weights.financial == 1  # kept from the base
    assert scenario.surveillance.cameras == 626e6
    assert len(scenario.sanctions.rules) == len(load_scenario("national_2020").sanctions.rules)


def test_base_path_is_relative_to_the_file_and_lists_are_replaced(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path, "root.yaml", "name: root\nrun: {years: 2, start: 2018-06-01}\n"
          "sanctions: {rules: [{measure: flight_ban, when: {score_below: 400}}]}\n")
    path = write(tmp_path / "sub", "leaf.yaml", "base: ../root.yaml\nsanctions:\n  rules: []\n")
    scenario = load_scenario(str(path))
    assert scenario.run.years == 2 and scenario.run.start == dt.date(2018, 6, 1)
    assert scenario.sanctions.rules == []


def test_scientific_notation_is_a_number(tmp_path):
    path = write(tmp_path, "s.yaml", "surveillance: {cameras: 176e6}\n")
    assert load_scenario(path).surveillance.cameras == 176e6


# --- overrides ---------------------------------------------------------------------------------


def test_overrides_are_typed_from_yaml_and_reach_list_items():
    overrides = parse_overrides([
        "population.people=1e4", "sanctions.rules.0.min_weeks=4", "participation.mode=voluntary",
        "run.start=2021-03-01", "scoring.weights.political=0", "sanctions.rules.1.relatives=true",
    ])
    scenario = load_scenario("national_2020", overrides)
    assert scenario.population.people == 10_000
    assert scenario.sanctions.rules[0].min_weeks == 4
    assert scenario.sanctions.rules[1].relatives is True
    assert scenario.participation.mode == "voluntary"
    assert scenario.run.start == dt.date(2021, 3, 1)
    assert scenario.scoring.weights.political == 0


def test_overrides_from_python_take_values_as_given():
    scenario = load_scenario("sesame_2015", {"population.regions.Tibet": 10.0, "run.years": 0.5})
    assert scenario.population.regions["Tibet"] == 10.0 and scenario.run.years == 0.5


@pytest.mark.parametrize("item", ["population.people", "=3", ""])
def test_set_without_key_and_value_is_an_error(item):
    with pytest.raises(UserError, match="KEY=VALUE"):
        parse_overrides([item])


# --- one line per mistake: file, field, value, what is allowed ---------------------------------


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "bad.yaml", "population:\n  people: 5\n  regions: {Tibet: 1\nrun: {}\n")
    message = error_of(path)
    assert str(path) in message and "line 4" in message and "malformed YAML" in message


def test_unknown_key_suggests_the_field(tmp_path):
    path = write(tmp_path, "typo.yaml", "base: national_2020\npopulation:\n  peopel: 5\n")
    message = error_of(path)
    assert f"{path}, line 3" in message
    assert "population.peopel = 5" in message and "unknown key" in message
    assert "did you mean population.people?" in message and "allowed in population: people," in message


def test_unknown_key_in_the_wrong_section_points_to_its_home(tmp_path):
    message = error_of(write(tmp_path, "top.yaml", "people: 5\n"))
    assert "did you mean population.people?" in message


def test_wrong_type(tmp_path):
    path = write(tmp_path, "type.yaml", "population:\n  people: lots\n")
    message = error_of(path)
    assert f"{path}, line 2" in message and "population.people = 'lots'" in message
    assert "allowed: a whole number >= 1 (people)" in message


def test_out_of_range_value_gives_the_schema_range(tmp_path):
    path = write(tmp_path, "range.yaml", "population:\n  urban_share: 1.5\n")
    message = error_of(path)
    assert "population.urban_share = 1.5" in message
    assert "allowed: a number >= 0 and <= 1 (fraction)" in message


def test_error_in_a_base_file_names_that_file(tmp_path):
    base = write(tmp_path, "base.yaml", "scoring:\n  baseline: 2000\n")
    path = write(tmp_path, "child.yaml", "base: base.yaml\nrun: {years: 1}\n")
    message = error_of(path)
    assert message.startswith(f"{base.resolve()}, line 2: scoring.baseline = 2000")
    assert "<= 950" in message


def test_literal_lists_the_choices(tmp_path):
    message = error_of(write(tmp_path, "mode.yaml", "participation: {mode: sometimes}\n"))
    assert "participation.mode = 'sometimes'" in message and "'voluntary', 'mandatory'" in message


def test_bad_rule_names_its_index(tmp_path):
    text = "sanctions:\n  rules:\n    - {measure: flight_ban, when: {score_below: 400}}\n    - {measure: flightban, when: {score_below: 400}}\n"
    message = error_of(write(tmp_path, "rule.yaml", text))
    assert "line 4" in message and "sanctions.rules.1.measure = 'flightban'" in message and "'flight_ban'" in message


def test_people_must_be_positive(tmp_path):
    for people in (0, -5):
        message = error_of(write(tmp_path, "zero.yaml", f"population:\n  people: {people}\n"))
        assert f"population.people = {people}" in message and ">= 1" in message


def test_missing_file():
    message = error_of("no/such/scenario.yaml")
    assert "no/such/scenario.yaml: no such file" in message and "allowed:" in message


def test_unknown_preset_lists_the_presets():
    message = error_of("natonal_2020")
    assert "natonal_2020: unknown preset" in message and "did you mean national_2020?" in message
    assert all(name in message for name in PRESETS)


def test_base_cycle(tmp_path):
    a = write(tmp_path, "a.yaml", "base: b.yaml\n")
    write(tmp_path, "b.yaml", "base: a.yaml\n")
    message = error_of(a)
    assert "base: cycle" in message and message.count("a.yaml") >= 2 and "b.yaml" in message


def test_base_on_itself(tmp_path):
    assert "base: cycle" in error_of(write(tmp_path, "self.yaml", "base: self.yaml\n"))


def test_not_a_mapping(tmp_path):
    message = error_of(write(tmp_path, "list.yaml", "- population\n"))
    assert "list.yaml" in message and "allowed: a mapping of sections" in message


def test_override_of_unknown_key_suggests():
    message = error_of("national_2020", {"population.peopel": 5})
    assert message.startswith("preset national_2020, override: population.peopel = 5: unknown key")
    assert "did you mean population.people?" in message


def test_override_of_missing_list_item():
    message = error_of("national_2020", {"sanctions.rules.99.min_weeks": 4})
    assert "sanctions.rules.99: no such item; allowed: an index from 0 to" in message


def test_override_with_bad_value_names_the_override():
    message = error_of("national_2020", {"population.people": 0})
    assert "override" in message and "population.people = 0" in message and ">= 1" in message


def test_loading_does_not_ask_about_memory(tmp_path):
    # Whether a scenario fits is a question about running it (the engine and the command line ask it).
    people = psutil.virtual_memory().total  # at least one byte per person: cannot fit
    path = write(tmp_path, "huge.yaml", f"base: national_2020\npopulation: {{people: {people}}}\n")
    assert load_scenario(path).population.people == people


def test_source_label_names_a_preset_or_a_file(tmp_path):
    path = write(tmp_path, "mine.yaml", "base: national_2020\n")
    assert source_label("national_2020") == "preset national_2020"
    assert source_label(str(path)) == source_label(path) == str(path)


# --- values YAML cannot build, empty files, bases, the calendar ---------------------------------


@pytest.mark.parametrize(("text", "says"), [
    ("run:\n  start: 2020-02-30\n", "line 3: 2020-02-30 is not a date (day is out of range for month); "
                                    "allowed: a date YYYY-MM-DD that exists"),
    ("run:\n  years: 1\n  start: 2020-13-45\n", "line 4: 2020-13-45 is not a date (month must be in 1..12)"),
    ("run:\n  start: 0000-01-01\n", "line 3: 0000-01-01 is not a date (year 0 is out of range)"),
    ("surveillance:\n  court_coverage_start: 2021-04-31\n", "line 3: 2021-04-31 is not a date"),
    ("population:\n  people: !!int lots\n", "line 3: 'lots' cannot be read as !!int (invalid literal"),
    ("run:\n  start: !!timestamp soon\n", "line 3: soon is not a date (not in a form it reads)"),
])
def test_a_value_yaml_cannot_build_is_one_line_naming_the_line(tmp_path, text, says):
    path = tmp_path / "s.yaml"
    path.write_text("base: financial_only\n" + text)
    with pytest.raises(UserError) as refused:
        load_scenario(path)
    assert str(refused.value).startswith(f"{path}, {says}") and "\n" not in str(refused.value)


def test_an_impossible_date_in_a_base_names_the_base(tmp_path):
    (tmp_path / "base.yaml").write_text("base: financial_only\nrun:\n  start: 2020-02-30\n")
    (tmp_path / "child.yaml").write_text("base: base.yaml\npopulation:\n  people: 5000\n")
    with pytest.raises(UserError, match=r"base.yaml, line 3: 2020-02-30 is not a date"):
        load_scenario(tmp_path / "child.yaml")


def test_an_impossible_date_in_an_override_or_an_observation_file(tmp_path):
    with pytest.raises(UserError, match=r"^--set run.start=2021-02-29: 2021-02-29 is not a date \(day is out of range"):
        parse_overrides(["run.start=2021-02-29"])
    assert parse_overrides(["run.start=2020-02-29"]) == {"run.start": dt.date(2020, 2, 29)}  # a leap day exists
    path = tmp_path / "observations.yaml"
    path.write_text("figures:\n  f: {kind: published, label: x, metric: blacklist_share, date: 2020-06-31, "
                    "value: 0.01, sd: 1, reason: r, source: s}\n")
    with pytest.raises(UserError, match=rf"^--observations {path}, line 2: 2020-06-31 is not a date"):
        read_observations(path)


def test_a_run_that_would_end_after_the_calendar_is_refused():
    with pytest.raises(UserError, match=r"^preset financial_only: run.start = 9999-06-01: a run of 1 years from it "
                                        r"ends after 9999-12-31; allowed: a start and run.years that end by 9999-12-31"):
        load_scenario("financial_only", {"run.start": dt.date(9999, 6, 1), "run.years": 1})
    assert load_scenario("financial_only", {"run.start": dt.date(9998, 6, 1), "run.years": 1}).run.steps > 0


@pytest.mark.parametrize("text", ["", "# only a comment\n", "{}\n", "---\n", "name: mine\ndescription: nothing set\n"])
def test_a_file_that_sets_nothing_is_refused(tmp_path, text):
    path = tmp_path / "nothing.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=rf"^{path}: no settings; allowed: `base: PRESET` and the settings that differ"):
        load_scenario(path)


@pytest.mark.parametrize(("base", "says"), [
    ("gone.yaml", "gone.yaml: no such file"),
    ("national_2021", "national_2021: unknown preset; did you mean national_2020?"),
    ("./", "is a directory, not a file"),
])
def test_a_base_that_cannot_be_read_names_the_file_that_asks_for_it(tmp_path, base, says):
    path = tmp_path / "child.yaml"
    path.write_text(f"name: mine\nbase: {base}\n")
    with pytest.raises(UserError) as refused:
        load_scenario(path)
    assert str(refused.value).startswith(f"{path}, line 2: base: ") and says in str(refused.value)
