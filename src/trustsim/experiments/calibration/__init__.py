"""Calibration: fit the court-list preset to the published counts (docs/sources.md).

Use `calibrate` (or `trustsim calibrate judicial_lists`) to fit a scenario with a court list to
the public time series of the court list of dishonest judgment debtors, 2014 to 2018-05, and
`assess` to see how any scenario fits them without searching. `write` saves the fitted preset,
the fit report and the fitted run. docs/calibration.md is the how-to.

The package reads in order:

- targets.py: the published record, and what in the model is compared with it;
- parameters.py: what is fitted, and scenarios with new values;
- objective.py: the model's series, the loss, assessing one scenario;
- search.py: the Optuna search and `calibrate`;
- preset.py: the fitted preset's YAML;
- fit_report.py: the HTML fit report.

Scope: this fits the model to aggregate public figures; it never searches for a policy.
"""

from __future__ import annotations

from pathlib import Path

from trustsim import store
from trustsim.experiments.calibration.fit_report import REPORT, report_html
from trustsim.experiments.calibration.objective import (
    DEFAULT_SEED, Fit, ModelSeries, assess, calibration_window, log_error, loss, resolution, series_from_result,
)
from trustsim.experiments.calibration.parameters import (
    PARAMETERS, PROFILE_REFERENCE, PROFILED_SERIES, SIGNIFICANT, Parameter, scenario_value, to_value, value_text,
    with_values,
)
from trustsim.experiments.calibration.preset import FITTED_YAML, NOTES, fitted_yaml
from trustsim.experiments.calibration.search import DEFAULT_TRIALS, Calibration, Trial, calibrate, search, with_people
from trustsim.experiments.calibration.targets import COUNT_SERIES, M, PUBLISHED, SERIES, SHARE_RESOLUTION, Target


def write(calibration: Calibration, directory: str | Path) -> dict[str, Path]:
    """Write DIR/fitted_NAME.yaml, DIR/calibration.html and the fitted run into DIR/results.duckdb."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    preset = directory / FITTED_YAML.format(name=calibration.scenario.name)
    preset.write_text(fitted_yaml(calibration), encoding="utf-8")
    page = directory / REPORT
    page.write_text(report_html(calibration.fit, calibration), encoding="utf-8")
    store.save([calibration.result], directory)
    return {"preset": preset, "report": page, "results": directory / "results.duckdb"}


__all__ = [
    "COUNT_SERIES", "DEFAULT_SEED", "DEFAULT_TRIALS", "FITTED_YAML", "M", "NOTES", "PARAMETERS", "PROFILE_REFERENCE",
    "PROFILED_SERIES", "PUBLISHED", "REPORT", "SERIES", "SHARE_RESOLUTION", "SIGNIFICANT", "Calibration", "Fit",
    "ModelSeries", "Parameter", "Target", "Trial", "assess", "calibrate", "calibration_window", "fitted_yaml",
    "log_error", "loss", "report_html", "resolution", "scenario_value", "search", "series_from_result", "to_value",
    "value_text", "with_people", "with_values", "write",
]
