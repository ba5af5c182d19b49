"""Numba kernels over the contact network (CSR rows, an active flag per stored edge).

Use these for every per-step pass over edges. Each kernel writes only its own row's outputs, with
sums taken in a fixed order within the row, so results are identical whatever the thread count.
Random draws come from trustsim.rng's counter-based hash, keyed by the undirected pair, so both
directions of an edge reach the same decision without looking at each other.
"""

from __future__ import annotations

import numba
import numpy as np

from ..rng import unit_jit


@numba.njit(cache=True, parallel=True)
def contact_stats(indptr, indices, edge_layer, edge_active, layer_weight, score, member, threshold):
    """Per person: weighted mean score of active member contacts (NaN if none), and how many of
    them are under the threshold."""
    n = indptr.shape[0] - 1
    mean = np.empty(n, np.float32)
    low = np.zeros(n, np.uint16)
    for i in numba.prange(n):
        wsum = 0.0
        ssum = 0.0
        n_low = 0
        for e in range(indptr[i], indptr[i + 1]):
            if not edge_active[e]:
                continue
            j = indices[e]
            if member[j]:
                w = layer_weight[edge_layer[e]]
                wsum += w
                ssum += w * score[j]
                if score[j] < threshold:
                    n_low += 1
        mean[i] = ssum / wsum if wsum > 0 else np.nan
        low[i] = min(n_low, 65535)
    return mean, low


@numba.njit(cache=True, parallel=True)
def flagged_contact_share(indptr, indices, edge_active, flag):
    """Per person: share of active contacts with flag set (0 for the isolated)."""
    n = indptr.shape[0] - 1
    share = np.zeros(n, np.float32)
    for i in numba.prange(n):
        d = 0
        f = 0
        for e in range(indptr[i], indptr[i + 1]):
            if edge_active[e]:
                d += 1
                if flag[indices[e]]:
                    f += 1
        if d > 0:
            share[i] = f / d
    return share


@numba.njit(cache=True, parallel=True)
def drop_ties(indptr, indices, edge_layer, edge_active, low, member, drop_prob_by_layer, key):
    """Distancing: a member drops a tie to a low-score contact with its layer's probability.

    The decision for the pair {a, b} uses two draws keyed by the pair, one for each side, so the
    edge is removed in both directions consistently. Returns the number of stored entries dropped.
    """
    n = indptr.shape[0] - 1
    dropped = np.zeros(n, np.int64)
    for i in numba.prange(n):
        for e in range(indptr[i], indptr[i + 1]):
            if not edge_active[e]:
                continue
            j = np.int64(indices[e])
            p = drop_prob_by_layer[edge_layer[e]]
            a = min(np.int64(i), j)
            b = max(np.int64(i), j)
            pair = np.uint64(a) * np.uint64(n) + np.uint64(b)
            a_drops = member[a] and low[b] and unit_jit(key, pair * np.uint64(2)) < p
            b_drops = member[b] and low[a] and unit_jit(key, pair * np.uint64(2) + np.uint64(1)) < p
            if a_drops or b_drops:
                edge_active[e] = False
                dropped[i] += 1
    return dropped.sum()


@numba.njit(cache=True, parallel=True)
def active_degree(indptr, edge_active):
    n = indptr.shape[0] - 1
    degree = np.zeros(n, np.int32)
    for i in numba.prange(n):
        d = 0
        for e in range(indptr[i], indptr[i + 1]):
            if edge_active[e]:
                d += 1
        degree[i] = d
    return degree
