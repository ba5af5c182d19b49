"""What an ensemble runs: its points in parameter space, its seeds, and the id that names it.

Use `seeds_design` (one scenario, K seeds), `uncertainty_design` (Latin hypercube or scrambled
Sobol' points over the plausible ranges, S seeds at each) or `sensitivity_design` (SALib's Morris
trajectories or Saltelli/Sobol' sample, every point at one seed, so that common random numbers
leave only the parameters' effects). A `Design` lists its runs as (sample, seed, values); its
`ensemble_id` is a hash of everything that decides the runs' results (the scenario, the ranges, the
method and its options, the seeds and the metrics), so running the same command again names the
same ensemble and finds the runs it already stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.stats import qmc

from trustsim.errors import UserError
from trustsim.scenario.schema.ranges import PlausibleRange

Kind = Literal["ensemble", "uncertainty", "sensitivity", "posterior"]
MORRIS_LEVELS = 4  # grid levels of a Morris trajectory (SALib's default)
# Runs in one design: far beyond any analysis (each run takes seconds), far below a design whose
# points alone would fill the memory before the first run.
MAX_RUNS = 1_000_000


@dataclass(frozen=True)
class Design:
    """The runs of one ensemble: row i of `points` runs with each seed of `seeds`."""

    kind: Kind
    method: str  # "seeds", "lhs", "sobol" (uncertainty) or "morris", "sobol" (sensitivity)
    keys: tuple[str, ...]
    ranges: tuple[tuple[float, float], ...]
    points: np.ndarray  # (samples, len(keys))
    seeds: tuple[int, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    seed_per_sample: bool = False  # sample i runs once, with seed seeds[0] + i (a bank: chance varies too)

    @property
    def problem(self) -> dict[str, Any]:
        """The parameter space as SALib describes it."""
        return {"num_vars": len(self.keys), "names": list(self.keys), "bounds": [list(r) for r in self.ranges]}

    @property
    def size(self) -> int:
        return len(self.points) * (1 if self.seed_per_sample else len(self.seeds))

    def seeds_of(self, sample: int) -> tuple[int, ...]:
        return (self.seeds[0] + sample,) if self.seed_per_sample else self.seeds

    def runs(self) -> Iterator[tuple[int, int, dict[str, float]]]:
        """(sample, seed, {key: value}) for every run, sample by sample."""
        for sample, row in enumerate(self.points):
            values = {k: float(v) for k, v in zip(self.keys, row)}
            for seed in self.seeds_of(sample):
                yield sample, seed, values

    def ensemble_id(self, scenario_json: str, metrics: Sequence[str]) -> str:
        """A short hash of everything that decides this ensemble's results."""
        spec = {"kind": self.kind, "method": self.method, "keys": self.keys, "ranges": self.ranges,
                "points": self.points.round(15).tolist(), "seeds": self.seeds, "options": dict(self.options),
                "metrics": list(metrics), "scenario": json.loads(scenario_json)}
        if self.seed_per_sample:  # kept out of the spec otherwise, so earlier ensembles keep their ids
            spec["seed_per_sample"] = True
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _check_size(runs: int, given: str) -> None:
    if runs > MAX_RUNS:
        raise UserError(f"{given}: {runs:,} runs; allowed: at most {MAX_RUNS:,} runs in one design")


def _space(ranges: Mapping[str, PlausibleRange]) -> tuple[tuple[str, ...], tuple[tuple[float, float], ...]]:
    if not ranges:
        raise UserError("no plausible ranges to sample; allowed: a scenario with an uncertainty: section, or --vary KEY=LO:HI")
    return tuple(ranges), tuple((r.lo, r.hi) for r in ranges.values())


def seeds_design(seeds: int, seed: int) -> Design:
    """The scenario as it is, under seeds seed .. seed+K-1."""
    if seeds < 1:
        raise UserError(f"--seeds {seeds}; allowed: a whole number >= 1")
    _check_size(seeds, f"--seeds {seeds}")
    return Design("ensemble", "seeds", (), (), np.zeros((1, 0)), tuple(range(seed, seed + seeds)))


def uncertainty_design(ranges: Mapping[str, PlausibleRange], samples: int, seeds_per_sample: int, seed: int,
                       method: str = "lhs") -> Design:
    """N points over the ranges (Latin hypercube or scrambled Sobol'), each run with the same S seeds."""
    if samples < 1 or seeds_per_sample < 1:
        raise UserError(f"--samples {samples}, --seeds-per-sample {seeds_per_sample}; allowed: whole numbers >= 1")
    _check_size(samples * seeds_per_sample, f"--samples {samples} with --seeds-per-sample {seeds_per_sample}")
    keys, bounds = _space(ranges)
    sampler = (qmc.LatinHypercube(d=len(keys), seed=seed) if method == "lhs"
               else qmc.Sobol(d=len(keys), scramble=True, seed=seed))
    points = from_unit(ranges, sampler.random(samples))
    return Design("uncertainty", method, keys, bounds, points, tuple(range(seed, seed + seeds_per_sample)))


def from_unit(ranges: Mapping[str, PlausibleRange], unit: np.ndarray) -> np.ndarray:
    """Points of the unit cube (one column per range) as values of the ranges (log ranges evenly in the log)."""
    return np.column_stack([r.from_unit(unit[:, j]) for j, r in enumerate(ranges.values())])


def sensitivity_design(ranges: Mapping[str, PlausibleRange], method: str, samples: int, seed: int) -> Design:
    """SALib's sample: Morris with `samples` trajectories, or Sobol' (Saltelli) with base size `samples`.

    Every point runs at the one seed: with common random numbers a parameter that cannot act
    changes nothing, so its elementary effects and indices are exactly zero.
    """
    from SALib.sample import morris, sobol  # on use: only sensitivity needs it; it would slow every start

    if samples < 1:
        raise UserError(f"--samples {samples}; allowed: a whole number >= 1")
    keys, bounds = _space(ranges)
    per_sample = len(keys) + (1 if method == "morris" else 2)  # a trajectory's points, or Saltelli's N x (D + 2)
    _check_size(samples * per_sample, f"--samples {samples} over {len(keys)} ranges ({method})")
    problem = {"num_vars": len(keys), "names": list(keys), "bounds": [list(b) for b in bounds]}
    if method == "morris":
        points = morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)
        options: dict[str, Any] = {"num_levels": MORRIS_LEVELS, "samples": samples}
    elif method == "sobol":
        points = sobol.sample(problem, samples, calc_second_order=False, scramble=True, seed=seed)
        options = {"calc_second_order": False, "samples": samples}
    else:
        raise UserError(f"--method {method}: unknown; allowed: morris, sobol")
    return Design("sensitivity", method, keys, bounds, np.asarray(points, dtype=float), (seed,), options)


def is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0
