"""Assembling the network's CSR: counting and filling rows from tie pairs, households and other
CSRs, then sorting each row's layer runs and keeping each neighbour once.

The scatter loops (counting and filling) are serial on purpose, since their order is part of the
result; sort_dedup_rows works on independent rows, in blocks.
"""

from __future__ import annotations

import numba
import numpy as np

# Runs up to this length are sorted by insertion, which beats quicksort on short runs.
_SHORT_RUN = 32


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
