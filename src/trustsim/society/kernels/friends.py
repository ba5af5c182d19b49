"""The friends layer's kernels: degree propensities, homophily keys, direct friend ties and triadic closure."""

from __future__ import annotations

import math

import numba
import numpy as np

from trustsim.rng import unit_jit
from trustsim.society.codes import dissent_value_jit
from trustsim.society.kernels.draws import draw_index, normal_jit, pick_alias, pick_weighted


@numba.njit(cache=True)
def friend_weights(k_soc, sigma, cum):
    """Cumulative friend-degree propensity: w_i = exp(sigma z_i - sigma^2 / 2), mean 1.

    Serial: a running sum, whose rounding depends on the order.
    """
    total = 0.0
    cum[0] = 0.0
    for i in range(cum.shape[0] - 1):
        total += math.exp(sigma * normal_jit(k_soc, np.uint64(i)) - 0.5 * sigma * sigma)
        cum[i + 1] = total


# trait_key packs what homophily compares into one uint32 (one memory access per candidate):
# age << 24 | dissent in 24-bit fixed point.
_DISSENT_BITS = 24
_DISSENT_SCALE = float(2**_DISSENT_BITS - 1)
_DISSENT_MASK = np.uint32(2**_DISSENT_BITS - 1)


@numba.njit(cache=True, nogil=True)
def trait_keys(start, stop, age, dissent, out):
    for i in range(start, stop):
        d = dissent_value_jit(dissent[i])
        out[i] = (np.uint32(age[i]) << np.uint32(_DISSENT_BITS)) | np.uint32(d * _DISSENT_SCALE + 0.5)


@numba.njit(cache=True)
def friend_target(i, t, keys, cum, table, region, urban, trait_key, dissent, blk_lo, blk_hi, block_cum,
                  pool, pool_lo, pool_hi, activist_floor, p_local, p_region, p_urban, half_window,
                  age_homophily, age_scale, dissent_homophily, tries):
    """One friend drawn for person i: a like-minded activist, a neighbour, or by region and urban mix.

    Candidates are weighted by friend-degree propensity (cumulated in cum for a neighbourhood
    window, alias tables for a whole block) and accepted with probability
    exp(-ha |age gap| / age_scale) (1 - hd |dissent gap|); the last attempt is kept
    regardless. Returns -1 when every attempt drew i itself.
    """
    r = region[i]
    u_i = urban[i]
    ki = trait_key[i]
    idx0 = draw_index(i, t, 0)
    if dissent_value_jit(dissent[i]) >= activist_floor and unit_jit(keys[0], idx0) < dissent_homophily:
        count = pool_hi[r] - pool_lo[r]
        if count > 1:
            j = pool[pool_lo[r] + int(unit_jit(keys[1], idx0) * count)]
            return j if j != i else -1
    last = -1
    for attempt in range(tries):
        idx = draw_index(i, t, attempt)
        u = unit_jit(keys[5], idx)
        if unit_jit(keys[2], idx) < p_local:
            a = max(blk_lo[r, u_i], i - half_window)
            b = min(blk_hi[r, u_i], i + half_window + 1)
            j = pick_weighted(cum, a, b, u)
        else:
            x = u_i if unit_jit(keys[4], idx) < p_urban else 1 - u_i
            if unit_jit(keys[3], idx) < p_region:
                rr = r
            else:
                # Another region, weighted by its block of urban status x.
                own = block_cum[x, r + 1] - block_cum[x, r]
                v = unit_jit(keys[6], idx) * (block_cum[x, -1] - own)
                if v >= block_cum[x, r]:
                    v += own
                rr = 0
                hi_r = block_cum.shape[1] - 2
                while rr < hi_r and block_cum[x, rr + 1] <= v:
                    rr += 1
            if blk_hi[rr, x] <= blk_lo[rr, x]:
                rr = r
                x = u_i
            j = pick_alias(table, blk_lo[rr, x], blk_hi[rr, x], u)
        if j == i:
            continue
        last = j
        kj = trait_key[j]
        age_gap = abs(float(ki >> np.uint32(_DISSENT_BITS)) - float(kj >> np.uint32(_DISSENT_BITS)))
        dissent_gap = abs(float(ki & _DISSENT_MASK) - float(kj & _DISSENT_MASK)) / _DISSENT_SCALE
        accept = math.exp(-age_homophily * age_gap / age_scale) * (1.0 - dissent_homophily * dissent_gap)
        if unit_jit(keys[7], idx) < accept:
            return j
    return last


@numba.njit(cache=True, nogil=True)
def friend_ties(start, stop, keys, offsets, cum, table, region, urban, trait_key, dissent, blk_lo, blk_hi, block_cum, pool,
                pool_lo, pool_hi, activist_floor, p_local, p_region, p_urban, half_window,
                age_homophily, age_scale, dissent_homophily, tries, src, dst):
    """First-round friend ties, drawn directly (friend_target)."""
    for i in range(start, stop):
        for t in range(offsets[i + 1] - offsets[i]):
            slot = offsets[i] + t
            src[slot] = i
            dst[slot] = friend_target(i, t, keys, cum, table, region, urban, trait_key, dissent, blk_lo, blk_hi,
                                      block_cum, pool, pool_lo, pool_hi, activist_floor, p_local,
                                      p_region, p_urban, half_window, age_homophily, age_scale,
                                      dissent_homophily, tries)


@numba.njit(cache=True, nogil=True)
def closure_ties(start, stop, fallback_keys, closure_keys, offsets, f_indptr, f_indices, cum, table, region, urban, trait_key, dissent,
                 blk_lo, blk_hi, block_cum, pool, pool_lo, pool_hi, activist_floor, p_local, p_region,
                 p_urban, half_window, age_homophily, age_scale, dissent_homophily, tries, keep_region,
                 keep_urban, src, dst):
    """Triadic closure: a friend of a random first-round friend; people without one draw directly.

    A candidate who is already a friend is redrawn; one from another region (urban status) is
    kept with probability keep_region (keep_urban), which gives closing ties the direct ties'
    homophily. After `tries` candidates the last one not oneself is kept.
    """
    for i in range(start, stop):
        a = f_indptr[i]
        deg = f_indptr[i + 1] - a
        for t in range(offsets[i + 1] - offsets[i]):
            slot = offsets[i] + t
            src[slot] = i
            dst[slot] = -1
            if deg == 0:
                dst[slot] = friend_target(i, t, fallback_keys, cum, table, region, urban, trait_key, dissent, blk_lo,
                                          blk_hi, block_cum, pool, pool_lo, pool_hi, activist_floor,
                                          p_local, p_region, p_urban, half_window, age_homophily,
                                          age_scale, dissent_homophily, tries)
                continue
            for attempt in range(tries):
                idx = draw_index(i, t, attempt)
                j = f_indices[a + int(unit_jit(closure_keys[0], idx) * deg)]
                bj = f_indptr[j]
                k = f_indices[bj + int(unit_jit(closure_keys[1], idx) * (f_indptr[j + 1] - bj))]
                if k == i:
                    continue
                dst[slot] = k
                known = False
                for e in range(a, a + deg):
                    if f_indices[e] == k:
                        known = True
                        break
                if known:
                    continue
                if region[k] != region[i] and unit_jit(closure_keys[2], idx) >= keep_region:
                    continue
                if urban[k] != urban[i] and unit_jit(closure_keys[3], idx) >= keep_urban:
                    continue
                break
