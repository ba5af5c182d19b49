"""The family layer's ties between households (kin); ties within a household are implicit.

Use `kin_ties` when building the network. Everyone in a household is tied to everyone else in it
(the CSR assembly writes those from the household runs). Each person also proposes Poisson
(kin_ties_mean / 2) kin ties, so each person has kin_ties_mean on average counting both ends:
within the own region with probability kin_same_region (then within the neighbourhood with
probability kin_local_share, else anywhere in the region), else anywhere outside it; never in the
own household.
"""

from __future__ import annotations

import numpy as np

from trustsim import rng
from trustsim.kernels.threads import in_blocks
from trustsim.scenario.schema import Network
from trustsim.society.csr import offsets_from_counts
from trustsim.society.kernels import draws
from trustsim.society.kernels import family as sk
from trustsim.society.layout import Layout

# Attempts to find someone outside one's own household before giving a kin tie up.
KIN_TRIES = 8


def household_degree(household: np.ndarray) -> float:
    """Mean ties per person within households: E[size - 1] over people."""
    sizes = np.bincount(household)
    return float((sizes * (sizes - 1)).sum()) / max(household.shape[0], 1)


def kin_ties(network: Network, layout: Layout, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(src, dst) int32 kin ties; dst -1 marks a tie given up."""
    fam = network.family
    counts = np.empty(layout.n, dtype=np.int32)
    in_blocks(draws.poisson_counts, layout.n, rng.key(seed, "society.kin_count"), np.zeros(0), fam.kin_ties_mean / 2.0,
              counts)
    offsets = offsets_from_counts(counts)
    del counts
    src = np.empty(offsets[-1], dtype=np.int32)
    dst = np.empty(offsets[-1], dtype=np.int32)
    keys = np.array([rng.key(seed, f"society.kin_{s}") for s in ("region", "local", "target")], dtype=np.uint64)
    in_blocks(
        sk.kin_ties, layout.n,
        keys, offsets, layout.region, layout.region_lo, layout.region_hi, layout.household,
        fam.kin_same_region, fam.kin_local_share, network.neighbourhood_size // 2, KIN_TRIES, src, dst,
    )
    return src, dst
