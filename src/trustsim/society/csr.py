"""Building compressed sparse rows from tie proposals: the combined network and helper graphs.

Use `assemble` once, at the end of building a society, to turn every layer's ties into the one
combined CSR the engine reads; `symmetric_rows` for an intermediate graph (first-round friends).
Proposals are (src, dst) int32 arrays, dst -1 meaning no tie. The assembly counts each row's
entries, fills both directions of every tie, then sorts each row by (neighbour, layer) and keeps
the first entry of each neighbour, so a pair tied in two layers is stored once under the first
layer in LAYERS order. It never holds more than the sources and the output: sources are released
as soon as they are written.
"""

from __future__ import annotations

import numpy as np

from trustsim.kernels import society_kernels as sk

NO_LAYER = np.zeros(0, dtype=np.uint8)


def offsets_from_counts(counts: np.ndarray) -> np.ndarray:
    offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def symmetric_rows(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both directions of every proposed tie as CSR rows (unsorted, duplicates kept)."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    sk.count_pairs(indptr, src, dst)
    np.cumsum(indptr, out=indptr)
    indices = np.empty(indptr[-1], dtype=np.int32)
    sk.fill_pairs(indptr, indices, NO_LAYER, src, dst, 0)
    sk.shift_right(indptr)
    return indptr, indices


def assemble(n: int, household: np.ndarray, sources: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The combined CSR (indptr int64, indices int32, edge_layer uint8), rows sorted, no duplicates.

    household: the family layer's household runs (layer 0). sources: entries
    ("pairs", src, dst, code) or ("rows", indptr, indices, code); the list is emptied as each
    source is written, so that its arrays can be freed.
    """
    indptr = np.zeros(n + 1, dtype=np.int64)
    sk.count_households(indptr, household)
    for kind, a, b, _ in sources:
        if kind == "pairs":
            sk.count_pairs(indptr, a, b)
        else:
            sk.count_rows(indptr, a)
    np.cumsum(indptr, out=indptr)
    indices = np.empty(indptr[-1], dtype=np.int32)
    edge_layer = np.empty(indptr[-1], dtype=np.uint8)
    sk.fill_households(indptr, indices, edge_layer, household, 0)
    while sources:
        kind, a, b, code = sources.pop(0)
        if kind == "pairs":
            sk.fill_pairs(indptr, indices, edge_layer, a, b, code)
        else:
            sk.fill_rows(indptr, indices, edge_layer, a, b, code)
        del a, b
    sk.shift_right(indptr)
    kept = np.empty(n, dtype=np.int64)
    sk.sort_dedup_rows(indptr, indices, edge_layer, kept)
    nnz = sk.compact_rows(indptr, indices, edge_layer, kept)
    del kept
    # Shrink in place: no second copy of the largest arrays.
    indices.resize(nnz, refcheck=False)
    edge_layer.resize(nnz, refcheck=False)
    return indptr, indices, edge_layer
