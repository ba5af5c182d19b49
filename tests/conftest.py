"""Shared fixtures: a synthetic Result, so the store and report are tested without the engine."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from trustsim.result import Result
from trustsim.scenario.schema import Scenario

GROUPS = ("all", "minority=0", "minority=1", "region=Guangdong", "region=Tibet")
METRICS = ("score_mean", "score_p10", "blacklist_share", "sanctioned_share.flight_ban",
           "sanctioned_share.rail_ban", "wrongful_by_cause.false_match")


def make_result(seed: int = 1, steps: int = 5, snapshot: bool = True) -> Result:
    """A Result shaped like the engine's, with made-up but seed-determined values."""
    scenario = Scenario(name="synthetic", population={"people": 1000}, run={"years": steps * 7 / 365.25})
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(scenario.run.start)
    rows = [
        (step, start + pd.Timedelta(days=7 * step), metric, group, float(rng.random()))
        for step in range(steps) for metric in METRICS for group in GROUPS
    ]
    metrics = pd.DataFrame(rows, columns=["step", "date", "metric", "group", "value"])
    people = pd.DataFrame({"person": np.arange(10), "score": rng.uniform(350, 950, 10)}) if snapshot else None
    started = dt.datetime(2024, 5, 1, 12, 0, 0)
    return Result(scenario=scenario, seed=seed, metrics=metrics, started_at=started,
                  finished_at=started + dt.timedelta(seconds=3), snapshot=people)


@pytest.fixture
def result() -> Result:
    return make_result()
