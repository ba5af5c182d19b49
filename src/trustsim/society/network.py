"""The combined contact network: one CSR over all layers, each row ordered by layer.

Use a `Network` to read contacts: `indptr` (int64, n + 1) and `indices` (int32) are the CSR of
the undirected graph (every tie stored in both rows, no self loops, no duplicates). Each row holds
its family ties, then its work ties, then its friends, each run sorted by neighbour;
`layer_start` (uint8, 2 x n) says where the runs meet: row i's work ties start at
indptr[i] + layer_start[0, i] and its friends at indptr[i] + layer_start[1, i]. Two bytes a person
say what a layer byte per stored tie would (about 12 a person), so a person has at most 255
family and work ties. A pair tied in several layers is stored once, under the first layer in
LAYERS order. `edge_layers` spells out each entry's layer, for inspection and tests.
`layer` and `combined` give scipy matrices for linear algebra; `clustering` and `locality`
measure the graph. The arrays are read-only: a stage that changes ties works on its own copy.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from trustsim import rng
from trustsim.kernels.threads import in_blocks
from trustsim.society.kernels import network as sk

LAYERS = ("family", "work", "friends")


class Network:
    LAYERS = LAYERS

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, layer_start: np.ndarray):
        for array in (indptr, indices, layer_start):
            array.flags.writeable = False
        self.indptr = indptr
        self.indices = indices
        self.layer_start = layer_start

    @property
    def n(self) -> int:
        return self.indptr.shape[0] - 1

    def code(self, name: str) -> int:
        if name not in LAYERS:
            raise ValueError(f"unknown layer {name!r}; layers are {', '.join(LAYERS)}")
        return LAYERS.index(name)

    def degree(self, layer: str | None = None) -> np.ndarray:
        """Ties per person (int32), in all layers or one."""
        if layer is None:
            return np.diff(self.indptr).astype(np.int32)
        return np.diff(self._layer_indptr(self.code(layer))).astype(np.int32)

    def _layer_indptr(self, code: int) -> np.ndarray:
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        in_blocks(sk.layer_row_counts, self.n, self.indptr, self.layer_start, code, indptr)
        np.cumsum(indptr, out=indptr)
        return indptr

    def edge_layers(self) -> np.ndarray:
        """The layer of each stored entry (uint8, an index into LAYERS), computed on each call."""
        out = np.empty(self.indices.shape[0], dtype=np.uint8)
        in_blocks(sk.per_entry, self.n, self.indptr, self.layer_start, np.arange(len(LAYERS), dtype=np.uint8), out)
        return out

    def layer(self, name: str) -> sp.csr_matrix:
        """One layer's adjacency matrix (data 1.0, float32), rows sorted."""
        code = self.code(name)
        indptr = self._layer_indptr(code)
        indices = np.empty(indptr[-1], dtype=np.int32)
        in_blocks(sk.layer_select, self.n, self.indptr, self.indices, self.layer_start, code, indptr, indices)
        data = np.ones(indices.shape[0], dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(self.n, self.n))

    def combined(self, weights: dict[str, float] | None = None) -> sp.csr_matrix:
        """All layers in one matrix, rows sorted; data is each tie's layer weight (default 1)."""
        weights = weights or {}
        unknown = set(weights) - set(LAYERS)
        if unknown:
            raise ValueError(f"unknown layer {sorted(unknown)[0]!r}; layers are {', '.join(LAYERS)}")
        table = np.array([weights.get(name, 1.0) for name in LAYERS], dtype=np.float32)
        data = np.empty(self.indices.shape[0], dtype=np.float32)
        in_blocks(sk.per_entry, self.n, self.indptr, self.layer_start, table, data)
        # Our rows are ordered by layer; scipy's canonical order is by column, sorted on a copy.
        matrix = sp.csr_matrix((data, self.indices.copy(), self.indptr.copy()), shape=(self.n, self.n))
        matrix.sort_indices()
        return matrix

    def clustering(self, layer: str | None = None, sample: int = 20_000, seed: int = 0) -> float:
        """Mean local clustering coefficient over a fixed sample of people with degree >= 2."""
        code = -1 if layer is None else self.code(layer)
        k = min(sample, self.n)
        nodes = np.unique((rng.uniform(seed, "society.clustering_sample", 0, k) * self.n).astype(np.int64))
        out = np.empty(nodes.shape[0])
        in_blocks(sk.local_clustering, nodes.shape[0], self.indptr, self.indices, self.layer_start, code, nodes, out)
        return float(np.nanmean(out)) if np.isfinite(out).any() else float("nan")

    def locality(self, window: int = 4096) -> float:
        """Share of stored ties whose two ends lie within `window` places of each other in memory."""
        near = np.empty(self.n, dtype=np.int64)
        in_blocks(sk.near_counts, self.n, self.indptr, self.indices, window, near)
        return float(near.sum()) / max(int(self.indptr[-1]), 1)

    def median_distance(self, sample: int = 100_000, seed: int = 0) -> float:
        """Median |i - j| over the ties of a fixed sample of people."""
        rows = np.unique((rng.uniform(seed, "society.distance_sample", 0, min(sample, self.n)) * self.n).astype(np.int64))
        lo, counts = self.indptr[rows], self.indptr[rows + 1] - self.indptr[rows]
        owner = np.repeat(rows, counts)
        if owner.size == 0:
            return float("nan")
        first = np.repeat(np.cumsum(counts) - counts, counts)
        entries = np.arange(owner.size) - first + np.repeat(lo, counts)
        return float(np.median(np.abs(self.indices[entries].astype(np.int64) - owner)))

    @property
    def nbytes(self) -> int:
        return self.indptr.nbytes + self.indices.nbytes + self.layer_start.nbytes
