"""The family layer's kernels: household ids (layout.py) and kin ties to other households (family.py)."""

from __future__ import annotations

import numba
import numpy as np

from trustsim.rng import unit_jit
from trustsim.society.kernels.draws import draw_index, poisson_jit


@numba.njit(cache=True)
def households(block_starts, k, extra_mean, out):
    """Household id of each person: runs of 1 + Poisson(extra_mean) people, cut at block edges.

    Serial: a household's start depends on every earlier size.
    """
    n = out.shape[0]
    nb = 1
    h = -1
    left = 0
    for i in range(n):
        boundary = False
        while nb < block_starts.shape[0] and block_starts[nb] <= i:
            nb += 1
            boundary = True
        if left == 0 or boundary:
            h += 1
            left = 1 + poisson_jit(k, np.uint64(h), extra_mean)
        out[i] = h
        left -= 1


@numba.njit(cache=True, nogil=True)
def kin_ties(start, stop, keys, offsets, region, region_lo, region_hi, household, same_region, local_share,
             half_window, tries, src, dst):
    """Each person's kin ties to other households: own region (often the neighbourhood) or another.

    dst is -1 where every attempt landed in one's own household.
    """
    n = region.shape[0]
    for i in range(start, stop):
        r = region[i]
        lo = region_lo[r]
        hi = region_hi[r]
        for t in range(offsets[i + 1] - offsets[i]):
            slot = offsets[i] + t
            src[slot] = i
            dst[slot] = -1
            for attempt in range(tries):
                idx = draw_index(i, t, attempt)
                u = unit_jit(keys[2], idx)
                if unit_jit(keys[0], idx) < same_region or hi - lo == n:
                    if unit_jit(keys[1], idx) < local_share:
                        a = max(lo, i - half_window)
                        b = min(hi, i + half_window + 1)
                    else:
                        a = lo
                        b = hi
                    j = a + int(u * (b - a))
                else:
                    j = int(u * (n - (hi - lo)))
                    if j >= lo:
                        j += hi - lo
                if household[j] != household[i]:
                    dst[slot] = j
                    break
