"""Observations: the public record a scenario can be conditioned on (`trustsim posterior`).

A scenario's `observations:` section holds published figures and design premises, each with the
audit metric expression that reproduces it, its date or window, its uncertainty with a one-line
reason and its source. Its `nuisance:` part holds the plausible ranges of the observation model's
own parameters: where what was reported is not exactly what the model counts, a figure names a
`factor` (reported = factor x the model's quantity) whose range says how far the two may differ.

Use `Observations` (the section), `Observation` (one entry), `check_observations` to refuse
entries no run can reproduce (an unknown metric or factor; load_scenario calls it), `check_dates`
for a figure dated outside the run (when conditioning: a shorter run of a preset stays fine); an
observation file given on the command line (`--observations FILE`, the same structure as the
section) is read by scenario/loading.py. experiments/posterior/ turns a run's metrics into each
figure's model value (`reduce`, `over`, `since`) and compares them.
"""

from __future__ import annotations

import datetime as dt

from trustsim.errors import UserError
from trustsim.scenario.schema.observations import Observations


def run_window(run) -> tuple[dt.date, dt.date]:
    """The first and last day a run covers (its last step's end)."""
    return run.start, run.start + dt.timedelta(days=run.step_days * run.steps)


def check_observations(observations: Observations, metrics: tuple[str, ...], where: str) -> None:
    """Refuse a figure no run can reproduce: a metric not in `metrics`, a factor with no nuisance range."""
    for name, o in observations.figures.items():
        label = f"{where}: observations.figures.{name}"
        for field, metric in (("metric", o.metric), ("over", o.over)):
            if metric is not None and metric not in metrics:
                raise UserError(f"{label}.{field}: unknown metric {metric!r}; allowed: an audit metric "
                                f"(docs/model.md), e.g. blacklist_share, flight_denials")
        if o.factor is not None and o.factor not in observations.nuisance:
            raise UserError(f"{label}.factor: no nuisance range named {o.factor!r}; allowed: "
                            f"{', '.join(observations.nuisance) or 'none (add it under observations.nuisance)'}")


def check_dates(observations: Observations, run, where: str) -> None:
    """Refuse a figure dated outside the run (checked when conditioning: a shorter run of the preset is fine)."""
    first, last = run_window(run)
    for name, o in observations.figures.items():
        for field, day in (("date", o.date), ("since", o.since)):
            if day is not None and not first <= day <= last:
                raise UserError(f"{where}: observations.figures.{name}.{field}: {day} is outside the run; "
                                f"allowed: {first} .. {last}")
