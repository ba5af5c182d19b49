"""Numba kernel of the scoring stage's record keeping: decay, then the points of this step's
observed events, and the points owed to false matches and linkage errors.

Use it from stages/scoring.py only; docs/model.md section 4 states the rule. One pass over
people; each person's sums are taken in a fixed order, so results do not depend on threads.
"""

from __future__ import annotations

import numba


@numba.njit(cache=True, inline="always")
def _counted(count, is_gaming, free_hours):
    """Events that earn points: gaming hours only beyond the free allowance."""
    return max(count - free_hours, 0.0) if is_gaming else count


@numba.njit(cache=True, parallel=True)
def accumulate_record(observed, points, dim_of_kind, weight_of_kind, gaming_kind, free_hours, decay,
                      subscores, error_points, corrections):
    """observed: uint16 [cause, kind, person]; updates subscores, error_points, corrections in place."""
    kinds = observed.shape[1]
    n = observed.shape[2]
    for i in numba.prange(n):
        for d in range(subscores.shape[0]):
            subscores[d, i] *= decay
        corrections[i] *= decay
        false_match_points = error_points[0, i] * decay
        linkage_points = error_points[1, i] * decay
        for k in range(kinds):
            true = float(observed[0, k, i])
            false_match = float(observed[1, k, i])
            linkage = float(observed[2, k, i])
            if true == 0.0 and false_match == 0.0 and linkage == 0.0:
                continue
            gaming = k == gaming_kind
            total = true + false_match + linkage
            counted = _counted(total, gaming, free_hours)
            subscores[dim_of_kind[k], i] += points[k] * counted
            weighted = weight_of_kind[k] * points[k]
            false_match_points += weighted * (counted - _counted(total - false_match, gaming, free_hours))
            linkage_points += weighted * (
                _counted(true + linkage, gaming, free_hours) - _counted(true, gaming, free_hours)
            )
        error_points[0, i] = false_match_points
        error_points[1, i] = linkage_points
