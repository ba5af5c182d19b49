"""The draws the society's kernels share: normal and Poisson variates, weighted picks by
cumulative weights or alias tables, and Poisson counts per person.

Every random draw is inline and counter-based (trustsim.rng): a draw is a pure function of (key,
index), so a kernel gives the same result whatever the thread count, and a two-pass kernel
(count, then fill) sees the same draws in both passes. A draw's index packs (person, item,
attempt) as ``person << 24 | item << 4 | attempt`` (draw_index); a person makes fewer than 2**20
proposals of one kind and fewer than 16 attempts per proposal.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from trustsim.rng import mix64_jit, poisson_inverse, unit_jit

_TWO_PI = 2.0 * math.pi
_SQRT2 = math.sqrt(2.0)
# Above this mean the CDF inversion of rng.poisson_inverse underflows (exp(-lam)); a normal
# approximation is exact to well under one count there.
_POISSON_NORMAL_FROM = 500.0


@numba.njit(cache=True, inline="always")
def draw_index(person, item, attempt):
    return (np.uint64(person) << np.uint64(24)) | (np.uint64(item) << np.uint64(4)) | np.uint64(attempt)


@numba.njit(cache=True, inline="always")
def normal_jit(k, idx):
    """Standard normal by Box-Muller from two uniforms under key k and its remix."""
    u1 = unit_jit(k, idx)
    u2 = unit_jit(mix64_jit(k), idx)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(_TWO_PI * u2)


@numba.njit(cache=True, inline="always")
def poisson_jit(k, idx, lam):
    if lam < _POISSON_NORMAL_FROM:
        return poisson_inverse(unit_jit(k, idx), lam)
    return max(0, int(lam + math.sqrt(lam) * normal_jit(mix64_jit(k), idx) + 0.5))


@numba.njit(cache=True, inline="always")
def norm_cdf(x):
    return 0.5 * math.erfc(-x / _SQRT2)


@numba.njit(cache=True, inline="always")
def pick_weighted(cum, a, b, u):
    """Index j in [a, b) drawn with probability proportional to cum[j+1] - cum[j]."""
    target = cum[a] + u * (cum[b] - cum[a])
    lo = a
    hi = b - 1
    while lo < hi:
        mid = (lo + hi + 1) >> 1
        if cum[mid] <= target:
            lo = mid
        else:
            hi = mid - 1
    return lo


_COIN = 4294967295.0  # 2**32 - 1: an alias table's coin is stored as a 32-bit fraction


@numba.njit(cache=True, inline="always")
def _alias_entry(alias, prob):
    return (np.uint64(alias) << np.uint64(32)) | np.uint64(prob * _COIN)


@numba.njit(cache=True)
def alias_tables(cum, block_lo, block_hi, table):
    """Walker's alias tables (Vose's construction) for weighted draws within each block.

    Weights are cum[j+1] - cum[j]; within block [lo, hi), pick_alias draws j in O(1). Each slot's
    alias and coin share one uint64 (alias << 32 | coin), so a draw touches one cache line.
    """
    for b in range(block_lo.shape[0]):
        lo = block_lo[b]
        m = block_hi[b] - lo
        if m <= 0:
            continue
        total = cum[lo + m] - cum[lo]
        scaled = np.empty(m)
        small = np.empty(m, dtype=np.int64)
        large = np.empty(m, dtype=np.int64)
        ns = 0
        nl = 0
        for p in range(m):
            scaled[p] = (cum[lo + p + 1] - cum[lo + p]) * m / total
            if scaled[p] < 1.0:
                small[ns] = p
                ns += 1
            else:
                large[nl] = p
                nl += 1
        while ns > 0 and nl > 0:
            ns -= 1
            sp = small[ns]
            lp = large[nl - 1]
            table[lo + sp] = _alias_entry(lo + lp, min(scaled[sp], 1.0))
            scaled[lp] = scaled[lp] + scaled[sp] - 1.0
            if scaled[lp] < 1.0:
                nl -= 1
                small[ns] = lp
                ns += 1
        # Leftovers are 1 up to rounding.
        for q in range(nl):
            table[lo + large[q]] = _alias_entry(lo + large[q], 1.0)
        for q in range(ns):
            table[lo + small[q]] = _alias_entry(lo + small[q], 1.0)


@numba.njit(cache=True, inline="always")
def pick_alias(table, lo, hi, u):
    """Index in [lo, hi) by its block's alias table; u's integer part picks a slot, its fraction the coin."""
    x = u * (hi - lo)
    slot = min(int(x), hi - lo - 1)
    entry = table[lo + slot]
    if (x - slot) * _COIN < float(entry & np.uint64(0xFFFFFFFF)):
        return lo + slot
    return np.int64(entry >> np.uint64(32))


@numba.njit(cache=True, inline="always")
def pick_table(cdf, u):
    """Category j with cdf[j-1] <= u < cdf[j] (cdf ascending, last entry 1)."""
    j = 0
    last = cdf.shape[0] - 1
    while j < last and u >= cdf[j]:
        j += 1
    return j


@numba.njit(cache=True, nogil=True)
def poisson_counts(start, stop, k, cum, scale, out):
    """out[i] ~ Poisson(scale * w_i), with w_i = cum[i+1] - cum[i] (or 1 when cum is empty)."""
    for i in range(start, stop):
        w = cum[i + 1] - cum[i] if cum.shape[0] > 0 else 1.0
        out[i] = poisson_jit(k, np.uint64(i), scale * w)
