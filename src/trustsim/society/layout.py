"""Where people live: region, urban or rural, household; together they fix the memory order.

Use `build_layout` first when building a society: every other part of the society is drawn in
this order and indexed by it. People are sorted by region (in the scenario's order), urban before
rural within a region, and households are contiguous runs inside such a block. A person's
neighbourhood is the window of Network.neighbourhood_size people around them in this order, so
ties drawn from it (kin, friends, colleagues) sit near each other in memory and a gather over
one's contacts stays mostly within cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trustsim import rng
from trustsim.scenario.schema import Population
from trustsim.society.kernels import family as sk

URBAN, RURAL = 1, 0


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split `total` into integer parts proportional to weights (largest remainder; exact sum)."""
    weights = np.asarray(weights, dtype=np.float64)
    if total == 0 or weights.sum() <= 0:
        return np.zeros(weights.shape[0], dtype=np.int64)
    quota = total * weights / weights.sum()
    parts = np.floor(quota).astype(np.int64)
    short = total - int(parts.sum())
    order = np.argsort(-(quota - parts), kind="stable")
    parts[order[:short]] += 1
    return parts


@dataclass(frozen=True)
class Layout:
    """The order of people and the blocks it is made of.

    block_lo[r, x], block_hi[r, x]: the index range of region r's people with urban status x
    (1 urban, 0 rural); urban comes first within a region.
    """

    n: int
    region_names: list[str]
    region_lo: np.ndarray  # int64 (R,)
    region_hi: np.ndarray  # int64 (R,)
    block_lo: np.ndarray  # int64 (R, 2)
    block_hi: np.ndarray  # int64 (R, 2)
    region: np.ndarray  # uint8 (n,)
    urban: np.ndarray  # uint8 (n,)
    household: np.ndarray  # int32 (n,)

    @property
    def region_counts(self) -> np.ndarray:
        return self.region_hi - self.region_lo


def build_layout(population: Population, seed: int) -> Layout:
    """Regions and urban blocks by exact apportionment, then households of mean household_size."""
    n = population.people
    names = list(population.regions)
    counts = apportion(n, np.array([population.regions[k] for k in names]))
    urban_counts = apportion(round(n * population.urban_share), counts.astype(np.float64))
    region_hi = np.cumsum(counts)
    region_lo = region_hi - counts
    block_lo = np.empty((len(names), 2), dtype=np.int64)
    block_hi = np.empty((len(names), 2), dtype=np.int64)
    block_lo[:, URBAN] = region_lo
    block_hi[:, URBAN] = region_lo + urban_counts
    block_lo[:, RURAL] = block_hi[:, URBAN]
    block_hi[:, RURAL] = region_hi

    region = np.repeat(np.arange(len(names), dtype=np.uint8), counts)
    urban = np.repeat(
        np.tile(np.array([URBAN, RURAL], dtype=np.uint8), len(names)),
        np.stack([urban_counts, counts - urban_counts], axis=1).ravel(),
    )
    starts = np.unique(np.concatenate([block_lo.ravel(), [n]]))
    household = np.empty(n, dtype=np.int32)
    sk.households(starts, rng.key(seed, "society.household_size"), population.household_size - 1.0, household)
    return Layout(n, names, region_lo, region_hi, block_lo, block_hi, region, urban, household)
