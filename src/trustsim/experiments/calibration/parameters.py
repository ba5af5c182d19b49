"""What is fitted: the scenario keys a calibration sets, their ranges, and scenarios with new values.

Use `PARAMETERS` for the fitted keys (searched by the optimiser, or profiled in closed form),
`with_values` for a scenario with dotted keys set, `to_value` for the setting a search coordinate
stands for (rounded to SIGNIFICANT digits, as it will be written), and `scenario_value` and
`value_text` to read a setting back and show it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from trustsim.scenario.schema import Scenario


SIGNIFICANT = 3  # fitted values are written with this many significant digits


@dataclass(frozen=True)
class Parameter:
    """A fitted scenario key: its search range, how it is fitted, and the search's starting value.

    kind: "float", "int", or "date" (searched as weeks after run.start, written as a date).
    how: "searched" (by the optimiser) or "profiled" (in closed form within each trial).
    """

    key: str
    low: float
    high: float
    start: float
    why: str
    log: bool = False
    kind: str = "float"
    how: str = "searched"
    step: int | None = None

    @property
    def name(self) -> str:
        return self.key.rsplit(".", 1)[-1]


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("behaviour.judgment_default_rate", 1e-5, 3e-4, 2e-4, "level of the listings", log=True),
    Parameter("surveillance.court_coverage_start", 0, 20, 0, "when listing began (weeks after run.start)",
              kind="date"),
    Parameter("surveillance.court_coverage_ramp_years", 0.0, 6.0, 0.0, "slow start of the listings (roll-out)"),
    Parameter("sanctions.court_list.fulfil_rate", 2e-4, 2e-2, 1e-2, "listings ended by paying", log=True),
    Parameter("sanctions.court_list.term_weeks", 52, 520, 104, "listings ended by expiry", kind="int", step=4),
    Parameter("behaviour.flight_attempts_per_week", 1e-3, 1.0, 1e-2, "blocked flight attempts", log=True,
              how="profiled"),
    Parameter("behaviour.rail_attempts_per_week", 1e-3, 1.0, 5e-2, "blocked rail attempts", log=True,
              how="profiled"),
)
PROFILED_SERIES = {"behaviour.flight_attempts_per_week": "flights", "behaviour.rail_attempts_per_week": "rail"}
# Trials run the profiled rates at this reference value (many counts, little noise), then rescale.
PROFILE_REFERENCE = 0.2


def with_values(scenario: Scenario, values: dict[str, Any]) -> Scenario:
    """The scenario with dotted keys set (validated by the schema)."""
    data = scenario.model_dump(exclude_unset=True)  # keeps track of what the scenario's file sets
    for key, value in values.items():
        _set_default(data, key, value)
    return Scenario.model_validate(data)


def to_value(parameter: Parameter, x: float, scenario: Scenario) -> Any:
    """The scenario value of a search coordinate (rounded as it will be written)."""
    if parameter.kind == "date":
        return scenario.run.start + dt.timedelta(days=round(7 * x))
    if parameter.kind == "int":
        return int(round(x))
    return float(f"{x:.{SIGNIFICANT}g}")


def value_text(parameter: Parameter, value: Any) -> str:
    if parameter.kind == "date":
        return str(value)
    if parameter.kind == "int":
        return f"{int(value)}"
    return f"{value:.{SIGNIFICANT}g}"


def _range_text(parameter: Parameter, scenario: Scenario) -> str:
    if parameter.kind == "date":
        return f"{to_value(parameter, parameter.low, scenario)} .. {to_value(parameter, parameter.high, scenario)}"
    scale = " (log)" if parameter.log else ""
    return f"{parameter.low:g} .. {parameter.high:g}{scale}"


def _set_default(data: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted key in a dump that may lack its sections (they were at their defaults)."""
    *path, last = key.split(".")
    for part in path:
        data = data.setdefault(part, {})
    data[last] = value.isoformat() if isinstance(value, dt.date) else value


def scenario_value(scenario: Scenario, key: str) -> Any:
    value: Any = scenario
    for part in key.split("."):
        value = getattr(value, part)
    if value is None and key == "surveillance.court_coverage_start":
        return scenario.run.start
    return value
