"""The fitted preset: a calibration written as a scenario file that reproduces it.

Use `fitted_yaml` for the file's text: every value the scenario's file set (its plausible ranges and
observations included), each fitted key with its range and how it was fitted, and a header naming
the command and the Optuna release that reproduce the file.
"""

from __future__ import annotations

import json
from typing import Any

from trustsim.experiments.calibration.parameters import _range_text, _set_default
from trustsim.experiments.calibration.search import Calibration
from trustsim.experiments.calibration.targets import PUBLISHED


FITTED_YAML = "fitted_{name}.yaml"


# What the court-list preset's settings mean, written beside them in the fitted file.
NOTES = {
    "participation.mode": "anyone can become a judgment debtor",
    "surveillance.cameras": "IHS Markit count for 2016-2017",
    "scoring.weights": "no score decides anything here: the list does; only the legal record is kept",
    "sanctions.rules": "each measure lasts as long as the court-list entry",
    "sanctions.firm_listing": "listed firms' senior managers are barred from management",
}

# Comment lines written above a top-level section, and the sections whose entries are one line each.
ABOVE = {
    "uncertainty": (
        "# Plausible ranges of the assumptions this preset reads: what `trustsim uncertainty`,",
        "# `trustsim sensitivity` and `trustsim posterior` sample. Where a range is a fitted rate's, the",
        "# posterior (docs/posterior.md) says how far the published counts pin it; the calibration",
        "# gives one best point.",
    ),
    "observations": (
        "# The published record `trustsim posterior` conditions on (docs/posterior.md, docs/sources.md).",
        "# Every count is cumulative and scaled to the real adult population; \"listed\" counts listings,",
        "# not people on the list now, and blocked attempts count ticket purchases, not people.",
    ),
}
ONE_LINE = ("uncertainty", "observations.figures", "observations.nuisance")


def _json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _flow(entry: dict[str, Any]) -> str:
    """One entry as a YAML flow mapping: plain field names, JSON values."""
    return "{" + ", ".join(f"{field}: {_json(value)}" for field, value in entry.items()) + "}"


def _yaml_lines(data: dict[str, Any], notes: dict[str, str], prefix: str = "", indent: int = 0) -> list[str]:
    """Block mappings for sections, one line per entry of a ONE_LINE section, JSON (valid YAML) for
    leaves; a comment after noted keys, and ABOVE's lines before their sections."""
    lines = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        pad = "  " * indent
        note = f"  # {notes[dotted]}" if dotted in notes else ""
        if dotted in ABOVE:
            lines.extend(["", *ABOVE[dotted]])
        if prefix[:-1] in ONE_LINE:
            lines.append(f"{pad}{key}: {_flow(value)}{note}")
        elif isinstance(value, dict) and value and not any(not isinstance(k, str) for k in value):
            lines.append(f"{pad}{key}:{note}")
            lines.extend(_yaml_lines(value, notes, f"{dotted}.", indent + 1))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{pad}{key}:{note}")
            lines.extend(f"{pad}  - {_json(v)}" for v in value)
        else:
            lines.append(f"{pad}{key}: {_json(value)}{note}")
    return lines


def fitted_yaml(calibration: Calibration) -> str:
    """The fitted scenario as a preset file: no base, every value its file set, fitted keys noted."""
    scenario = calibration.scenario
    data = scenario.model_dump(mode="json", exclude_unset=True)
    notes = dict(NOTES)
    for p in calibration.parameters:
        _set_default(data, p.key, calibration.fitted[p.key])
        notes[p.key] = f"fitted ({p.how}), range {_range_text(p, scenario)}"
    command = (
        f"trustsim calibrate {calibration.source} --trials {calibration.n_trials} "
        f"--people {calibration.people} --seed {calibration.seed}"
    )
    header = [
        f"# {scenario.name}: {scenario.description}.",
        "# Courts list dishonest judgment debtors, publish the list, and bar those listed from flights,",
        "# high-speed rail and senior posts until they pay or the entry expires.",
        "#",
        f"# Fitted by `{command}`",
        "# to the published counts of the court list of dishonest judgment debtors and blocked flight and",
        "# rail attempts, 2014 to 2018-05 (docs/sources.md; docs/calibration.md), with Optuna "
        f"{calibration.optuna_version}.",
        "# The same command, with the same trustsim and Optuna, writes this file again (docs/calibration.md",
        "# says how far a fit reproduces).",
        f"# Fit: loss {calibration.fit.loss:.4f} (mean squared log error over "
        f"{sum(t.fitted for t in PUBLISHED)} published figures), from {calibration.start_loss:.4f} at the start.",
        "# Runs at four-week steps (the published series are monthly or coarser) from the list's opening in",
        "# October 2013 to the end of 2019; counts are scaled to the real adult population.",
        "",
    ]
    return "\n".join(header + _yaml_lines(data, notes)) + "\n"
