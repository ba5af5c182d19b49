"""The simulation bank: runs drawn from the prior, stored like every ensemble, and read back for inference.

Use `prior_design` for the bank's N draws (a Latin hypercube over the plausible ranges, log ranges
evenly in the log, each draw with its own seed so that chance varies as the assumptions do),
`predictive_design` for reruns at posterior draws, `run` to run what is not yet stored (the Dask
runner of experiments/ensembles, so a bank resumes like any ensemble), and `read` for a bank's
complete runs as a `Bank`: parameters in the unit cube, the figures' model values and every
metric over time.

The observation model's nuisance factors (scenario/observations.py) change no run: they are drawn
per bank run here, from their own seeded stream, when the bank is read. So conditioning the same
bank on other figures, or on other nuisance ranges, needs no new run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from trustsim.experiments.ensembles import analysis
from trustsim.experiments.ensembles.design import Design, from_unit
from trustsim.experiments.ensembles.runner import Evaluate, RunCounts, run_design, simulate_metrics
from trustsim.experiments.posterior.observe import model_values
from trustsim.scenario.schema.observations import Observations
from trustsim.scenario.schema import AUDIT_METRICS, Scenario
from trustsim.scenario.schema.ranges import PlausibleRange

NUISANCE_STREAM = 0x6E75  # the nuisance draws' own stream, apart from every run's seeds


def prior_design(ranges: Mapping[str, PlausibleRange], simulations: int, seed: int) -> Design:
    """N draws from the prior: a Latin hypercube over the ranges, draw i run with seed seed + i."""
    d = len(ranges)
    unit = qmc.LatinHypercube(d=d, seed=seed).random(simulations)
    keys = tuple(ranges)
    return Design("posterior", "prior", keys, tuple((r.lo, r.hi) for r in ranges.values()), from_unit(ranges, unit),
                  (seed,), {"log": [k for k, r in ranges.items() if r.log]}, seed_per_sample=True)


def predictive_design(ranges: Mapping[str, PlausibleRange], unit: np.ndarray, seed: int) -> Design:
    """Reruns of the model at posterior draws (rows of `unit`, the model's parameters only)."""
    keys = tuple(ranges)
    return Design("posterior", "predictive", keys, tuple((r.lo, r.hi) for r in ranges.values()),
                  from_unit(ranges, unit), (seed,), {"log": [k for k, r in ranges.items() if r.log]},
                  seed_per_sample=True)


def runnable(scenario: Scenario) -> Scenario:
    """The scenario as its runs see it: without its plausible ranges and observations, which change no
    run, so that editing a figure or a reason keeps the bank's id and its stored runs."""
    return scenario.model_copy(update={"uncertainty": {}, "observations": Observations()})


def run(scenario: Scenario, design: Design, out: Path, *, workers: int | None, scheduler: str | None,
        progress: bool, evaluate: Evaluate = simulate_metrics) -> tuple[str, RunCounts]:
    """Run the design's runs not yet in OUT (every audit metric, group all, every step)."""
    return run_design(runnable(scenario), design, out, AUDIT_METRICS, workers=workers, scheduler=scheduler,
                      progress=progress, evaluate=evaluate)


@dataclass
class Bank:
    """The complete runs of a bank, row i of every array one run."""

    samples: np.ndarray  # the design's sample index of each run
    unit: np.ndarray  # (runs, parameters): where each run's parameters lie in their ranges, 0..1
    values: pd.DataFrame  # (runs, figures): each figure's model value, before any nuisance factor
    finals: pd.DataFrame  # (runs, metrics): each metric's value at the last step
    trajectories: pd.DataFrame  # long: sample, seed, step, date, metric, value
    failed: int  # runs of the design stored as failed

    def __len__(self) -> int:
        return len(self.samples)


def read(out: Path, ensemble_id: str, ranges: Mapping[str, PlausibleRange], observations: Observations,
         scenario: Scenario) -> Bank:
    """The bank's complete runs, with the figures' model values."""
    runs = analysis.load_runs(out, ensemble_id)
    complete = runs[runs["status"] == "complete"].sort_values("sample")
    traj = analysis.trajectories(out, ensemble_id)
    samples = complete["sample"].to_numpy(dtype=int)
    unit = np.column_stack([r.to_unit(complete["parameters"].map(lambda p, k=k: p[k]).to_numpy(dtype=float))
                            for k, r in ranges.items()]) if len(complete) else np.empty((0, len(ranges)))
    values = model_values(traj, observations, scenario.run.start, scenario.run.step_days) if len(traj) else \
        pd.DataFrame(columns=list(observations.figures))
    last = traj[traj["step"] == traj["step"].max()]
    finals = last.pivot_table(index="sample", columns="metric", values="value") if len(traj) else pd.DataFrame()
    return Bank(samples, unit, values.reindex(samples), finals.reindex(samples), traj,
                int((runs["status"] == "failed").sum()))


def nuisance_unit(observations: Observations, samples: np.ndarray, seed: int) -> np.ndarray:
    """Each run's nuisance factors in the unit cube: a pure function of (seed, sample), so any subset agrees."""
    m = len(observations.nuisance)
    if not m or not len(samples):
        return np.empty((len(samples), m))
    size = int(samples.max()) + 1
    table = np.random.default_rng([seed, NUISANCE_STREAM]).random((size, m))
    return table[samples]


def nuisance_factors(observations: Observations, unit: np.ndarray) -> dict[str, np.ndarray]:
    """The factors' values from their unit-cube coordinates (columns in `observations.nuisance` order)."""
    return {name: r.from_unit(unit[:, j]) for j, (name, r) in enumerate(observations.nuisance.items())}
