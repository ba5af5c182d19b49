"""Measures on a built network: one layer's rows, per-entry values, clustering and locality."""

from __future__ import annotations

import numba
import numpy as np

from trustsim.kernels.search import first_at_least


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
