"""Building compressed sparse rows from tie proposals: the combined network and helper graphs.

Use `assemble` once, at the end of building a society, to turn every layer's ties into the one
combined CSR the engine reads; `symmetric_rows` for an intermediate graph (first-round friends).
Proposals are (src, dst) int32 arrays, dst -1 meaning no tie.

The combined rows are ordered by layer, then by neighbour, with each row's layer boundaries kept
as two uint8 counts per person (`layer_start`) rather than a layer byte per stored tie: 2 bytes a
person instead of about 12. The assembly counts each row's entries layer by layer, recording the
running counts at the family and work boundaries, then fills the layers in LAYERS order, so each
row's entries arrive already grouped by layer and no per-entry layer is ever stored. It then sorts
each layer's run by neighbour and drops repeats, a neighbour already kept under an earlier layer
included, so a pair tied in several layers is stored once under the first layer in LAYERS order.
It never holds more than the sources and the output: sources are released as soon as they are
written.
"""

from __future__ import annotations

import numpy as np

from trustsim.errors import UserError
from trustsim.kernels.threads import in_blocks
from trustsim.society.kernels import csr as sk
from trustsim.society.network import LAYERS

MAX_LAYER_COUNT = np.iinfo(np.uint8).max


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
    sk.fill_pairs(indptr, indices, src, dst)
    sk.shift_right(indptr)
    return indptr, indices


def assemble(n: int, household: np.ndarray, sources: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The combined CSR (indptr int64, indices int32) and layer_start (uint8, 2 x n).

    household: the family layer's household runs (layer 0). sources: entries
    ("pairs", src, dst, code) or ("rows", indptr, indices, code); the list is emptied as each
    source is written, so that its arrays can be freed. Raises ValueError when someone has more
    than 255 family and work ties proposed: the counts are taken before repeats are dropped, so
    the limit is checked before anything large is allocated.
    """
    # Filling in layer order is what groups each row's entries by layer.
    sources.sort(key=lambda source: source[3])
    indptr = np.zeros(n + 1, dtype=np.int64)
    layer_start = np.empty((len(LAYERS) - 1, n), dtype=np.uint8)
    sk.count_households(indptr, household)
    for code in range(len(LAYERS)):
        for kind, a, b, c in sources:
            if c != code:
                continue
            if kind == "pairs":
                sk.count_pairs(indptr, a, b)
            else:
                sk.count_rows(indptr, a)
        if code < layer_start.shape[0]:
            # indptr[i + 1] holds row i's count so far: its entries in layers 0..code.
            counts = indptr[1:]
            worst = int(counts.argmax())
            if counts[worst] > MAX_LAYER_COUNT:
                raise UserError(
                    f"network: person {worst} has {counts[worst]} {' and '.join(LAYERS[: code + 1])} ties proposed; "
                    f"allowed: at most {MAX_LAYER_COUNT} a person in these layers (lower the layers' mean_degree)"
                )
            layer_start[code] = counts
    np.cumsum(indptr, out=indptr)
    indices = np.empty(indptr[-1], dtype=np.int32)
    sk.fill_households(indptr, indices, household)
    while sources:
        kind, a, b, _ = sources.pop(0)
        if kind == "pairs":
            sk.fill_pairs(indptr, indices, a, b)
        else:
            sk.fill_rows(indptr, indices, a, b)
        del a, b
    sk.shift_right(indptr)
    kept = np.empty(n, dtype=np.int64)
    in_blocks(sk.sort_dedup_rows, indptr.shape[0] - 1, indptr, indices, layer_start, kept)
    nnz = sk.compact_rows(indptr, indices, kept)
    del kept
    # Shrink in place: no second copy of the largest array.
    indices.resize(nnz, refcheck=False)
    return indptr, indices, layer_start
