"""Binary search inside Numba kernels, for sorted runs of an array.

Use `first_at_least` where a kernel needs np.searchsorted's left insertion point: Numba's generic
searchsorted adds a second or more to a first run's compilation, this compiles in a fraction.
"""

from __future__ import annotations

import numba


@numba.njit(cache=True, inline="always")
def first_at_least(a, lo, hi, value):
    """The first index k in [lo, hi) with a[k] >= value in the sorted a[lo:hi] (hi when none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo
