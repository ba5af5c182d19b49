"""Numba kernels that generate the synthetic society: per-person draws, tie proposals, CSR assembly.

Use these only through trustsim.society, which prepares their tables and keys. Every random draw
is inline and counter-based (trustsim.rng): a draw is a pure function of (key, index), so a
kernel gives the same result whatever the thread count, and a two-pass kernel (count, then fill)
sees the same draws in both passes. Parallel loops write disjoint slots only; the few scatter
loops (CSR counting and filling) are serial on purpose, since their order is part of the result.

A draw's index packs (person, item, attempt) as ``person << 24 | item << 4 | attempt``; a person
makes fewer than 2**20 proposals of one kind and fewer than 16 attempts per proposal.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from trustsim.kernels.search import first_at_least
from trustsim.rng import mix64_jit, poisson_inverse, unit_jit
from trustsim.society.codes import dissent_code_jit, dissent_value_jit, unit_code_jit

_TWO_PI = 2.0 * math.pi
_SQRT2 = math.sqrt(2.0)
# Above this mean the CDF inversion of rng.poisson_inverse underflows (exp(-lam)); a normal
# approximation is exact to well under one count there.
_POISSON_NORMAL_FROM = 500.0
# Runs up to this length are sorted by insertion, which beats quicksort on short runs.
_SHORT_RUN = 32


# --- draws ------------------------------------------------------------------------------------


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


# --- people -----------------------------------------------------------------------------------


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
def demographics(start, stop, keys, urban, region, household, age_cdf, age_min, female_share, occ_cdf,
                 log_loc, income_sigma, minority_p, age, female, occupation, income, minority):
    """Age, sex, occupation (given age, sex, urban), income (given urban, occupation), minority.

    occ_cdf[(age - age_min) * 4 + urban * 2 + female] is the occupation CDF of that cell;
    log_loc[urban, occupation] the median log income; minority is drawn per household.
    """
    for i in range(start, stop):
        idx = np.uint64(i)
        a = pick_table(age_cdf, unit_jit(keys[0], idx))
        f = 1 if unit_jit(keys[1], idx) < female_share else 0
        u = urban[i]
        o = pick_table(occ_cdf[a * 4 + u * 2 + f], unit_jit(keys[2], idx))
        age[i] = a + age_min
        female[i] = f
        occupation[i] = o
        income[i] = math.exp(log_loc[u, o] + income_sigma * normal_jit(keys[3], idx))
        minority[i] = 1 if unit_jit(keys[4], np.uint64(household[i])) < minority_p[region[i]] else 0


@numba.njit(cache=True, nogil=True)
def latent_traits(start, stop, keys, income, log_mean, log_sd, rel_corr, law_loc, law_corr, activist_share,
                  activist_floor, tail_index, baseline_scale, online_loc, gamer_loc, drinker_loc,
                  sociability_loc, reliability, law_abidance, dissent, online, gaming, drinking,
                  sociability):
    """Latent traits in [0, 1], each the normal CDF of a latent normal unless stated, stored as
    16-bit codes (society/codes.py).

    sociability's latent normal is keys[7]'s draw, reused by friend_weights.
    """
    rel_rest = math.sqrt(max(0.0, 1.0 - rel_corr * rel_corr))
    law_rest = math.sqrt(max(0.0, 1.0 - law_corr * law_corr))
    floor_ratio = baseline_scale / activist_floor
    for i in range(start, stop):
        idx = np.uint64(i)
        z_inc = (math.log(income[i]) - log_mean) / log_sd
        z_rel = rel_corr * z_inc + rel_rest * normal_jit(keys[0], idx)
        reliability[i] = unit_code_jit(norm_cdf(z_rel))
        law_abidance[i] = unit_code_jit(norm_cdf(law_loc + law_corr * z_rel + law_rest * normal_jit(keys[1], idx)))
        u = unit_jit(keys[3], idx)
        if unit_jit(keys[2], idx) < activist_share:
            # Pareto tail X = u**(-1/alpha) >= 1 mapped onto [floor, 1): 1 - d = (1 - floor) / X.
            d = 1.0 - (1.0 - activist_floor) * (1.0 - u) ** (1.0 / tail_index)
        else:
            # Exponential of scale baseline_scale, squeezed under the floor.
            d = activist_floor * (1.0 - (1.0 - u) ** floor_ratio)
        dissent[i] = dissent_code_jit(d)
        online[i] = unit_code_jit(norm_cdf(online_loc + normal_jit(keys[4], idx)))
        gaming[i] = unit_code_jit(norm_cdf(gamer_loc + normal_jit(keys[5], idx)))
        drinking[i] = unit_code_jit(norm_cdf(drinker_loc + normal_jit(keys[6], idx)))
        sociability[i] = unit_code_jit(norm_cdf(sociability_loc + normal_jit(keys[7], idx)))


# --- tie proposals ----------------------------------------------------------------------------


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


@numba.njit(cache=True, nogil=True)
def poisson_counts(start, stop, k, cum, scale, out):
    """out[i] ~ Poisson(scale * w_i), with w_i = cum[i+1] - cum[i] (or 1 when cum is empty)."""
    for i in range(start, stop):
        w = cum[i + 1] - cum[i] if cum.shape[0] > 0 else 1.0
        out[i] = poisson_jit(k, np.uint64(i), scale * w)


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


@numba.njit(cache=True, inline="always")
def _work_step(members, a, s, p, household, q):
    """Next member after position q (cyclic) in workplace [a, a+s) not in p's household, or -1."""
    hp = household[members[a + p]]
    for _ in range(s - 1):
        q = q + 1 if q + 1 < s else 0
        if q == p:
            return -1
        if household[members[a + q]] != hp:
            return q
    return -1


@numba.njit(cache=True, inline="always")
def _work_reach(k, members, a, s, p, half_degree):
    """How many colleagues member p ties to: all later ones (small place) or about half_degree."""
    if 2.0 * half_degree >= s - 1:
        return -1  # complete: ties to every later member
    whole = int(half_degree)
    m = whole + (1 if unit_jit(k, np.uint64(members[a + p])) < half_degree - whole else 0)
    return min(m, (s - 1) // 2)


@numba.njit(cache=True, nogil=True)
def work_ties(start, stop, k, members, wp_off, household, half_degree, counts, src, dst, fill):
    """Colleague ties within each workplace, skipping one's own household (already family).

    A workplace with at most 2 * half_degree + 1 members is complete; a larger one is a ring in
    member order where each member ties to about half_degree next colleagues, so degrees are
    about 2 * half_degree and ties stay local. With fill False, counts[member slot] gets the
    number of ties; with fill True, ties are written from the offsets in counts.
    """
    for w in range(start, stop):
        a = wp_off[w]
        s = wp_off[w + 1] - a
        for p in range(s):
            reach = _work_reach(k, members, a, s, p, half_degree)
            c = 0
            slot = counts[a + p] if fill else 0
            if reach < 0:
                hp = household[members[a + p]]
                for q in range(p + 1, s):
                    if household[members[a + q]] != hp:
                        if fill:
                            src[slot + c] = members[a + p]
                            dst[slot + c] = members[a + q]
                        c += 1
            else:
                q = p
                for _ in range(reach):
                    q = _work_step(members, a, s, p, household, q)
                    if q < 0:
                        break
                    if fill:
                        src[slot + c] = members[a + p]
                        dst[slot + c] = members[a + q]
                    c += 1
            if not fill:
                counts[a + p] = c


# --- CSR assembly -----------------------------------------------------------------------------


@numba.njit(cache=True)
def count_pairs(deg, src, dst):
    """deg[i + 1] += ties of i among the pairs (both ends; dst -1 is no tie)."""
    for e in range(src.shape[0]):
        b = dst[e]
        if b >= 0:
            deg[src[e] + 1] += 1
            deg[b + 1] += 1


@numba.njit(cache=True)
def count_households(deg, household):
    n = household.shape[0]
    i = 0
    while i < n:
        j = i
        while j < n and household[j] == household[i]:
            j += 1
        for q in range(i, j):
            deg[q + 1] += j - i - 1
        i = j


@numba.njit(cache=True)
def count_rows(deg, indptr):
    for i in range(indptr.shape[0] - 1):
        deg[i + 1] += indptr[i + 1] - indptr[i]


@numba.njit(cache=True)
def fill_pairs(cursor, indices, src, dst):
    """Write both directions of each pair at the row cursors (cursor[i] = next free slot of row i)."""
    for e in range(src.shape[0]):
        a = src[e]
        b = dst[e]
        if b >= 0:
            indices[cursor[a]] = b
            cursor[a] += 1
            indices[cursor[b]] = a
            cursor[b] += 1


@numba.njit(cache=True)
def fill_households(cursor, indices, household):
    n = household.shape[0]
    i = 0
    while i < n:
        j = i
        while j < n and household[j] == household[i]:
            j += 1
        for p in range(i, j):
            for q in range(i, j):
                if q != p:
                    indices[cursor[p]] = q
                    cursor[p] += 1
        i = j


@numba.njit(cache=True)
def fill_rows(cursor, indices, src_indptr, src_indices):
    for i in range(src_indptr.shape[0] - 1):
        for e in range(src_indptr[i], src_indptr[i + 1]):
            indices[cursor[i]] = src_indices[e]
            cursor[i] += 1


@numba.njit(cache=True)
def shift_right(indptr):
    """After a fill that used indptr[i] as row i's cursor (now row i's end), restore the starts."""
    for i in range(indptr.shape[0] - 1, 0, -1):
        indptr[i] = indptr[i - 1]
    indptr[0] = 0


@numba.njit(cache=True, inline="always")
def _sift_down(a, lo, root, end):
    """Restore the max-heap a[lo:end] (root's children at 2 root + 1, 2 root + 2, relative to lo)."""
    v = a[lo + root]
    while True:
        child = 2 * root + 1
        if child >= end - lo:
            break
        if child + 1 < end - lo and a[lo + child + 1] > a[lo + child]:
            child += 1
        if a[lo + child] <= v:
            break
        a[lo + root] = a[lo + child]
        root = child
    a[lo + root] = v


@numba.njit(cache=True, inline="always")
def _sort_run(indices, lo, hi):
    """Sort indices[lo:hi]: insertion for short runs, heapsort for long ones (a hand-written heapsort
    compiles in a fraction of the seconds Numba's generic quicksort for ndarray.sort takes)."""
    if hi - lo <= _SHORT_RUN:
        for p in range(lo + 1, hi):
            v = indices[p]
            q = p - 1
            while q >= lo and indices[q] > v:
                indices[q + 1] = indices[q]
                q -= 1
            indices[q + 1] = v
        return
    size = hi - lo
    for root in range(size // 2 - 1, -1, -1):
        _sift_down(indices, lo, root, hi)
    for end in range(hi - 1, lo, -1):
        top = indices[lo]
        indices[lo] = indices[end]
        indices[end] = top
        _sift_down(indices, lo, 0, end)


@numba.njit(cache=True, nogil=True)
def sort_dedup_rows(start, stop, indptr, indices, layer_start, kept):
    """Sort each layer's run of each row by neighbour, keep each neighbour once, at the row's front.

    On entry row i holds its family, work and friends entries in that order, the runs ending
    layer_start[0, i] and layer_start[1, i] entries in; on exit the same holds for the kept
    entries, and kept[i] is the row's new length. A neighbour already kept in an earlier layer is
    dropped, so the first layer in LAYERS order wins a pair tied in several. Rows are
    independent; writes never pass the entry being read, so it works in place.
    """
    for i in range(start, stop):
        a = indptr[i]
        ends = (a + np.int64(layer_start[0, i]), a + np.int64(layer_start[1, i]), indptr[i + 1])
        out = a
        family_end = a  # kept family: [a, family_end); kept work: [family_end, work_end)
        work_end = a
        lo = a
        for s in range(3):
            hi = ends[s]
            _sort_run(indices, lo, hi)
            q0 = a
            q1 = family_end
            prev = -1
            for p in range(lo, hi):
                v = indices[p]
                if v == prev:
                    continue
                prev = v
                # Earlier layers' kept runs are sorted and v only grows: two merge cursors.
                while q0 < family_end and indices[q0] < v:
                    q0 += 1
                if q0 < family_end and indices[q0] == v:
                    continue
                while q1 < work_end and indices[q1] < v:
                    q1 += 1
                if q1 < work_end and indices[q1] == v:
                    continue
                indices[out] = v
                out += 1
            if s == 0:
                family_end = out
            if s <= 1:
                work_end = out
            lo = hi
        layer_start[0, i] = family_end - a
        layer_start[1, i] = work_end - a
        kept[i] = out - a


@numba.njit(cache=True)
def compact_rows(indptr, indices, kept):
    """Move each row's kept entries down to close the gaps; rewrite indptr. Returns the new nnz."""
    out = 0
    for i in range(indptr.shape[0] - 1):
        a = indptr[i]
        for p in range(kept[i]):
            indices[out + p] = indices[a + p]
        indptr[i] = out
        out += kept[i]
    indptr[indptr.shape[0] - 1] = out
    return out


# --- measures ---------------------------------------------------------------------------------


@numba.njit(cache=True, inline="always")
def _layer_run(indptr, layer_start, code, i):
    """[lo, hi) of row i's entries in layer `code` (its neighbours, sorted)."""
    a = indptr[i]
    lo = a if code == 0 else a + np.int64(layer_start[code - 1, i])
    hi = indptr[i + 1] if code == layer_start.shape[0] else a + np.int64(layer_start[code, i])
    return lo, hi


@numba.njit(cache=True, nogil=True)
def layer_row_counts(start, stop, indptr, layer_start, code, out):
    for i in range(start, stop):
        lo, hi = _layer_run(indptr, layer_start, code, i)
        out[i + 1] = hi - lo


@numba.njit(cache=True, nogil=True)
def layer_select(start, stop, indptr, indices, layer_start, code, new_indptr, out):
    for i in range(start, stop):
        lo, hi = _layer_run(indptr, layer_start, code, i)
        c = new_indptr[i]
        for e in range(lo, hi):
            out[c + e - lo] = indices[e]


@numba.njit(cache=True, nogil=True)
def per_entry(start, stop, indptr, layer_start, values, out):
    """out[e] = values[layer of entry e]."""
    for i in range(start, stop):
        for code in range(layer_start.shape[0] + 1):
            lo, hi = _layer_run(indptr, layer_start, code, i)
            for e in range(lo, hi):
                out[e] = values[code]


@numba.njit(cache=True, inline="always")
def _in_run(indices, lo, hi, j):
    """Whether j is in the sorted run indices[lo:hi]."""
    k = first_at_least(indices, lo, hi, j)
    return k < hi and indices[k] == j


@numba.njit(cache=True)
def _has_edge(indptr, indices, layer_start, code, i, j):
    """Whether i and j are tied in layer `code` (-1: any), by binary search of i's sorted runs."""
    for c in range(layer_start.shape[0] + 1):
        if code < 0 or c == code:
            lo, hi = _layer_run(indptr, layer_start, c, i)
            if _in_run(indices, lo, hi, j):
                return True
    return False


@numba.njit(cache=True, nogil=True)
def local_clustering(start, stop, indptr, indices, layer_start, code, nodes, out):
    """Local clustering coefficient of each node in one layer (code -1: all); NaN under degree 2."""
    for s in range(start, stop):
        i = nodes[s]
        if code < 0:
            lo = indptr[i]
            hi = indptr[i + 1]
        else:
            lo, hi = _layer_run(indptr, layer_start, code, i)
        d = hi - lo
        if d < 2:
            out[s] = np.nan
            continue
        links = 0
        for e in range(lo, hi):
            j = indices[e]
            for f in range(e + 1, hi):
                if _has_edge(indptr, indices, layer_start, code, j, indices[f]):
                    links += 1
        out[s] = 2.0 * links / (d * (d - 1.0))


@numba.njit(cache=True, nogil=True)
def near_counts(start, stop, indptr, indices, window, out):
    """out[i] = entries of row i whose neighbour lies within `window` indices of i."""
    for i in range(start, stop):
        c = 0
        for e in range(indptr[i], indptr[i + 1]):
            if abs(np.int64(indices[e]) - i) < window:
                c += 1
        out[i] = c
