"""The work layer: colleague ties within each workplace.

Use `work_ties` after `build_workplaces`. A workplace small enough is complete; a larger one is a
ring in member order (members are neighbours in memory) where each member ties to about h next
colleagues, skipping its own household (already family), so degrees are about 2h and teams are
clustered. h is solved from the workplace size distribution so that the mean degree of workplace
members is WorkLayer.mean_degree, counting the small complete workplaces at their own size.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from trustsim import rng
from trustsim.kernels.threads import in_blocks
from trustsim.scenario.schema import WorkLayer
from trustsim.society.csr import offsets_from_counts
from trustsim.society.firms import Workplaces
from trustsim.society.kernels import work as sk


def expected_degree(sizes: np.ndarray, weight: np.ndarray, half: float) -> float:
    """Mean degree over members of workplaces of these sizes (weight: workplaces of each size)."""
    complete = 2.0 * half >= sizes - 1
    whole, frac = np.floor(half), half - np.floor(half)
    cap = (sizes - 1) // 2
    ring = 2.0 * ((1 - frac) * np.minimum(whole, cap) + frac * np.minimum(whole + 1, cap))
    deg = np.where(complete, sizes - 1, ring)
    people = weight * sizes
    return float((people * deg).sum() / max(people.sum(), 1))


def solve_half_degree(offsets: np.ndarray, target: float) -> float:
    counts = np.bincount(np.diff(offsets))
    sizes = np.flatnonzero(counts)
    weight = counts[sizes].astype(np.float64)
    top = max(float(sizes.max(initial=1) - 1) / 2.0, 0.0)
    if target <= 0 or top == 0:
        return 0.0
    if expected_degree(sizes, weight, top) <= target:
        return top
    return brentq(lambda h: expected_degree(sizes, weight, h) - target, 0.0, top)


def work_ties(work: WorkLayer, places: Workplaces, household: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(src, dst) int32 colleague ties."""
    half = solve_half_degree(places.offsets, work.mean_degree)
    k = rng.key(seed, "society.work_reach")
    counts = np.zeros(places.members.shape[0], dtype=np.int64)
    empty = np.zeros(0, dtype=np.int32)
    workplaces = places.offsets.shape[0] - 1
    in_blocks(sk.work_ties, workplaces, k, places.members, places.offsets, household, half, counts, empty, empty, False)
    offsets = offsets_from_counts(counts)
    del counts
    src = np.empty(offsets[-1], dtype=np.int32)
    dst = np.empty(offsets[-1], dtype=np.int32)
    in_blocks(sk.work_ties, workplaces, k, places.members, places.offsets, household, half, offsets, src, dst, True)
    return src, dst
