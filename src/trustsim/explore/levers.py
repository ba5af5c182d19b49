"""The explorer's levers: which scenario settings it offers, in plain words, with the schema's ranges.

Use `levers_for(scenario)` for the levers of a preset, grouped by stage (`STAGES` gives the order),
each naming its dotted key, its plain-words label and unit, and its allowed range read from the
pydantic schema (never a copy of it). A lever shows its value on a display scale (percent, millions)
and `Lever.to_value` turns a displayed value back into the scenario's. `unused_reason` says why a
lever does nothing under the current settings (the page shows it disabled with that reason), and
`importance` orders levers by a sensitivity result. Nothing here imports Streamlit, so all of it is
tested without a browser.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel

from trustsim.report.sections import MEASURE_NAMES
from trustsim.scenario.fields import field_at
from trustsim.scenario.schema import DIMENSIONS, Scenario

# Stage headings, in the order of the pipeline.
STAGES = ("Surveillance", "Scoring", "Participation", "Sanctions", "Responses")


@dataclass(frozen=True)
class Lever:
    """One setting on the page. `scale` multiplies the scenario's value into the displayed one."""

    key: str
    stage: str
    label: str
    unit: str
    help: str
    low: float | None = None  # displayed bounds; None for a choice
    high: float | None = None
    step: float | None = None
    scale: float = 1.0
    choices: tuple[str, ...] = ()
    limit_note: str = ""  # where the page's bound is not the schema's, why

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    def shown(self, value: Any) -> Any:
        """The scenario's value as the page shows it, inside the bounds (a stored value may lie outside the UI's)."""
        if self.is_choice:
            return value
        shown = float(value) * self.scale
        return min(max(shown, self.low), self.high)

    def to_value(self, shown: Any) -> Any:
        """A displayed value back in the scenario's unit."""
        if self.is_choice:
            return shown
        value = float(shown) / self.scale
        return round(value, 12)  # 0.3 % / 100 is 0.003, not 0.0030000000000000005


def schema_bounds(key: str) -> tuple[float | None, float | None]:
    """(lowest, highest) allowed value of a dotted key in the schema; None where the schema sets none.

    A strict bound (gt, lt) becomes the closest value a slider can hold, one millionth inside it.
    """
    parts = [int(p) if p.isdigit() else p for p in key.split(".")]
    info, _ = field_at(parts)
    if info is None:
        raise KeyError(f"{key}: not a field of the scenario schema")
    low = high = None
    for m in info.metadata:
        if isinstance(m, Ge):
            low = float(m.ge)
        elif isinstance(m, Gt):
            low = float(m.gt) + 1e-6
        elif isinstance(m, Le):
            high = float(m.le)
        elif isinstance(m, Lt):
            high = float(m.lt) - 1e-6
    return low, high


def _choices(key: str) -> tuple[str, ...]:
    parts = [int(p) if p.isdigit() else p for p in key.split(".")]
    _, annotation = field_at(parts)
    return tuple(str(a) for a in typing.get_args(annotation))


def _lever(key: str, stage: str, label: str, unit: str, help: str, step: float, scale: float = 1.0,
           high: float | None = None, limit_note: str = "") -> Lever:
    """A numeric lever with the schema's range on the display scale; `high` (scenario unit) only where the schema has none."""
    low, top = schema_bounds(key)
    if top is None:
        if high is None:
            raise ValueError(f"{key}: the schema sets no upper bound; give the page's")
        top = high
    else:
        limit_note = ""
    return Lever(key, stage, label, unit, help, low=(low or 0.0) * scale, high=top * scale, step=step,
                 scale=scale, limit_note=limit_note)


def _get(scenario: BaseModel, key: str) -> Any:
    node: Any = scenario
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list) else getattr(node, part)
    return node


def levers_for(scenario: Scenario) -> list[Lever]:
    """The levers the page offers for a scenario, in stage order."""
    s = scenario
    per_person = s.surveillance.real_population / 1e6  # million cameras at one per person
    out = [
        _lever("surveillance.cameras", "Surveillance", "Surveillance cameras", "million cameras",
               "Cameras in the whole country; more cameras see more of what people do in the street.",
               step=1.0, scale=1e-6, high=math.ceil(per_person) * 1e6,
               limit_note="the schema sets no upper bound; the slider stops at about one camera per person"),
        _lever("surveillance.face_recognition.false_positive_rate", "Surveillance",
               "Face-recognition false matches", "% of searches",
               "How often a face search wrongly names someone (NIST measured about 0.3% in 2018).", step=0.01,
               scale=100.0),
        _lever("surveillance.face_recognition.group_multiplier.minority", "Surveillance",
               "False matches for the minority", "times the rate for others",
               "How many times more often the minority is falsely matched (NIST: 10 to 100 times for some groups).",
               step=1.0),
        _lever("surveillance.online_coverage", "Surveillance", "Online monitoring", "% of online acts",
               "The share of what people post that is tied to their real name and watched.", step=1.0,
               scale=100.0),
    ]
    for dim in DIMENSIONS:
        out.append(_lever(f"scoring.weights.{dim}", "Scoring", f"Weight of the {dim} record", "relative weight",
                          f"How much the {dim} sub-score counts in the final score (0: not at all).", step=0.1))
    out += [
        _lever("scoring.association.weight", "Scoring", "Pull of friends' and family's scores", "% pull",
               "How far a person's score is pulled toward the scores of their contacts.", step=1.0, scale=100.0),
        _lever("scoring.association.contact_penalty", "Scoring", "Penalty per low-scoring contact", "points",
               f"Points lost for each contact scoring under {s.scoring.association.threshold:.0f}.", step=1.0),
        Lever("participation.mode", "Participation", "Participation", "",
              "Mandatory: everyone is scored. Voluntary: people opt in when they expect to gain.",
              choices=_choices("participation.mode")),
        _lever("sanctions.appeals.rate", "Sanctions", "Appeals made", "% per week",
               "The weekly chance that a sanctioned or listed person appeals.", step=1.0, scale=100.0),
        _lever("sanctions.appeals.success_rate", "Sanctions", "Appeals that succeed", "% of appeals",
               "The chance that an appeal against a wrong entry clears it.", step=1.0, scale=100.0),
    ]
    for i, rule in enumerate(s.sanctions.rules):
        if rule.when.score_below is not None:
            measure = MEASURE_NAMES.get(rule.measure, rule.measure)
            out.append(_lever(f"sanctions.rules.{i}.when.score_below", "Sanctions",
                              f"Score threshold: {measure}", "score (350 to 950)",
                              f"People scoring under this are put under: {measure}.", step=5.0))
    out += [
        _lever("responses.chilling.strength", "Responses", "Chilling of speech", "% of dissent at most",
               "The largest share of their dissent that fear of the system can silence.", step=1.0, scale=100.0),
        _lever("responses.distancing.strength", "Responses", "Distancing from low scorers", "% chance per week",
               "The weekly chance of dropping a tie to a contact whose low score costs points.", step=0.5,
               scale=100.0),
    ]
    return out


def values_of(scenario: Scenario, levers: Iterable[Lever]) -> dict[str, Any]:
    """Each lever's value in a scenario, in the scenario's unit."""
    return {lever.key: _get(scenario, lever.key) for lever in levers}


def changed(levers: Iterable[Lever], base: Mapping[str, Any], chosen: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides {dotted key: value} where the chosen values differ from the preset's."""
    out = {}
    for lever in levers:
        new, old = chosen[lever.key], base[lever.key]
        if lever.is_choice:
            if new != old:
                out[lever.key] = new
        elif not math.isclose(float(new), float(old), rel_tol=1e-9, abs_tol=1e-12):
            out[lever.key] = new
    return out


def unused_reason(key: str, values: Mapping[str, Any], scenario: Scenario) -> str | None:
    """Why a lever has no effect with these values (the other levers' values, else the scenario's), or None."""
    def get(k: str) -> Any:
        return values[k] if k in values else _get(scenario, k)

    if key.startswith("surveillance.face_recognition.") and float(get("surveillance.cameras")) == 0:
        return "there are no cameras, so no face searches to go wrong"
    if key == "scoring.association.contact_penalty" and float(get("scoring.weights.social")) == 0:
        return "the social record's weight is 0, so low-scoring contacts cost nothing"
    if key == "responses.distancing.strength":
        pulls = float(get("scoring.association.weight")) > 0
        costs = float(get("scoring.association.contact_penalty")) > 0 and float(get("scoring.weights.social")) > 0
        if not (pulls or costs):
            return "contacts' scores do not count here, so nobody gains by dropping ties"
    if key.startswith("sanctions.appeals.") and not scenario.sanctions.rules and not scenario.sanctions.court_list.enabled:
        return "this system sanctions nobody, so there is nothing to appeal"
    return None


# Statistics comparable across metrics: Sobol's total index is a share of variance (0..1); Morris'
# mu* is in the metric's own unit, so it is divided by the largest mu* of that metric first.
_STATISTICS = {"ST": False, "mu_star": True}


def importance(sensitivity: pd.DataFrame, metrics: Iterable[str] | None = None) -> dict[str, float]:
    """How much each parameter matters: its largest index over the metrics, highest first.

    sensitivity: rows of the table sensitivity(ensemble_id, metric, parameter, method, statistic,
    value, conf). Sobol's ST counts as it is; Morris' mu* relative to the largest of its metric (and
    ensemble). Other statistics (S1, sigma) are ignored; so are metrics not in `metrics` when given.
    """
    rows = sensitivity[sensitivity["statistic"].isin(_STATISTICS)]
    if metrics is not None:
        rows = rows[rows["metric"].isin(list(metrics))]
    rows = rows.dropna(subset=["value"])
    if rows.empty:
        return {}
    parts = []
    for (statistic, _, _), part in rows.groupby(["statistic", "ensemble_id", "metric"]):
        values = part["value"].astype(float).abs()
        if _STATISTICS[statistic]:
            top = values.max()
            values = values / top if top > 0 else values * 0.0
        parts.append(pd.DataFrame({"parameter": part["parameter"], "value": values}))
    best = pd.concat(parts).groupby("parameter")["value"].max().sort_values(ascending=False, kind="stable")
    return {str(p): float(v) for p, v in best.items()}


def ordered(levers: list[Lever], weights: Mapping[str, float]) -> list[Lever]:
    """Levers by importance, most first; those without a figure keep their order after the rest."""
    known = sorted((lv for lv in levers if lv.key in weights), key=lambda lv: -weights[lv.key])
    return known + [lv for lv in levers if lv.key not in weights]
