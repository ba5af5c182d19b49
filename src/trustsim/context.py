"""What every stage reads and none writes: the scenario, the society, the seed, and constants derived
from them once (step length, normalisers, per-person coverage and multipliers).

Use this module when a stage needs a quantity that is fixed for the whole run: compute it here
once, not in the step path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .scenario.schema import DIMENSIONS, EVENT_KINDS, Scenario
from .state import EVENT_DIMENSION

if TYPE_CHECKING:
    from .society import Society


def _normaliser(values: np.ndarray) -> float:
    """1 / mean, so that rate x value / mean keeps the population's mean rate at the base rate."""
    mean = float(values.mean(dtype=np.float64)) if values.size else 0.0
    return 1.0 / mean if mean > 0 else 0.0


@dataclass
class Context:
    scenario: Scenario
    society: "Society"
    seed: int
    weeks_per_step: float
    decay: float  # per-step decay of sub-scores
    points: np.ndarray  # float64 [kind]: points per observed event
    event_dimension: np.ndarray  # int [kind]
    dimension_weights: np.ndarray  # float64 [dimension]
    layer_weights: np.ndarray  # float32 [layer]
    offline_coverage: np.ndarray  # float32 [person]: chance an offline act is seen and recognised
    false_match_weight: np.ndarray  # float32 [person]: relative chance of being a false match
    false_positive_rate: np.ndarray  # float64 [cell]: per search, at the cell's regional gallery size
    cell: np.ndarray  # int32 [person]: region x urban cell where face searches run
    n_cells: int
    unreliability_scale: np.ndarray  # float32 [person]: (1 - reliability), mean 1
    lawlessness_scale: np.ndarray  # float32 [person]: (1 - law_abidance), mean 1
    crime_scale: np.ndarray  # float32 [person]: (1 - law_abidance)^2, mean 1
    online_scale: np.ndarray  # float32 [person]
    drinking_scale: np.ndarray  # float32 [person]
    gaming_scale: np.ndarray  # float32 [person]
    sociability_scale: np.ndarray  # float32 [person]
    income_scale: np.ndarray  # float32 [person]
    dissent_decile: np.ndarray  # uint8 [person], 1..10
    logit_baseline: float

    @classmethod
    def build(cls, scenario: Scenario, society: "Society", seed: int) -> "Context":
        people = society.people
        sur = scenario.surveillance
        weeks = scenario.run.step_days / 7.0
        n = society.n

        # Cameras are spread over the real population, urban areas taking urban_camera_share.
        urban_share = float(people["urban"].mean()) if n else 0.0
        density_urban = sur.cameras * sur.urban_camera_share / max(urban_share * sur.real_population, 1.0)
        density_rural = sur.cameras * (1 - sur.urban_camera_share) / max((1 - urban_share) * sur.real_population, 1.0)
        density = np.where(people["urban"] == 1, density_urban, density_rural)
        coverage = (1 - np.exp(-density / sur.cameras_per_person_63)) * (1 - sur.face_recognition.miss_rate)

        multiplier = sur.face_recognition.group_multiplier
        fm_weight = np.where(people["minority"] == 1, multiplier.minority, 1.0) * np.where(
            people["female"] == 1, multiplier.female, 1.0
        )

        face = sur.face_recognition
        # Searches run against the region's gallery; false positives grow with its size.
        gallery = np.array([scenario.population.regions[name] * 1e6 for name in society.region_names])
        regional_fpir = np.minimum(
            face.false_positive_rate * (gallery / face.reference_gallery) ** face.gallery_exponent, 1.0
        )

        law = people["law_abidance"].astype(np.float64)
        rel = people["reliability"].astype(np.float64)
        income = people["income"].astype(np.float64)

        def scaled(values: np.ndarray) -> np.ndarray:
            return (values * _normaliser(values)).astype(np.float32)

        ranks = np.argsort(np.argsort(people["dissent"], kind="stable"), kind="stable")
        decile = (1 + (ranks * 10) // max(n, 1)).astype(np.uint8)

        scoring = scenario.scoring
        baseline_share = (scoring.baseline - 350.0) / 600.0
        baseline_share = min(max(baseline_share, 1e-6), 1 - 1e-6)
        layers = scenario.network
        return cls(
            scenario=scenario,
            society=society,
            seed=seed,
            weeks_per_step=weeks,
            decay=0.5 ** (weeks / scoring.half_life_weeks),
            points=np.array([getattr(scoring.points, k) for k in EVENT_KINDS], np.float64),
            event_dimension=np.array([DIMENSIONS.index(EVENT_DIMENSION[k]) for k in EVENT_KINDS]),
            dimension_weights=np.array([getattr(scoring.weights, d) for d in DIMENSIONS], np.float64),
            layer_weights=np.array(
                [getattr(layers, name).weight for name in society.network.LAYERS], np.float32
            ),
            offline_coverage=coverage.astype(np.float32),
            false_match_weight=fm_weight.astype(np.float32),
            false_positive_rate=np.repeat(regional_fpir, 2),
            cell=(people["region"].astype(np.int32) * 2 + people["urban"]).astype(np.int32),
            n_cells=2 * len(society.region_names),
            unreliability_scale=scaled(1 - rel),
            lawlessness_scale=scaled(1 - law),
            crime_scale=scaled((1 - law) ** 2),
            online_scale=scaled(people["online_activity"].astype(np.float64)),
            drinking_scale=scaled(people["drinking"].astype(np.float64)),
            gaming_scale=scaled(people["gaming"].astype(np.float64)),
            sociability_scale=scaled(people["sociability"].astype(np.float64)),
            income_scale=scaled(income),
            dissent_decile=decile,
            logit_baseline=float(np.log(baseline_share / (1 - baseline_share))),
        )

    def to_score(self, raw: np.ndarray) -> np.ndarray:
        """Map raw points onto 350..950: a clean record (raw 0) gets the baseline score."""
        spread = self.scenario.scoring.spread
        return (350.0 + 600.0 / (1.0 + np.exp(-(self.logit_baseline + raw / spread)))).astype(np.float32)
