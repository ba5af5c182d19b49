"""The friends layer: heavy-tailed degrees, homophily, locality and triadic closure.

Use `friend_ties` when building the network. Each person has a friend-degree propensity
w = exp(sigma z - sigma^2 / 2) (z: the latent normal of sociability, sigma: degree_sigma, mean
1). Friends come in two rounds:

1. Direct ties: each person proposes Poisson(w (1 - triadic_closure) mean_degree / 2) ties, each
   to a candidate drawn with probability proportional to w (so degrees are heavy-tailed, a
   Chung-Lu graph). An activist first turns, with probability dissent_homophily, to a fellow
   activist of the region. Otherwise the candidate is a neighbour (the window of
   neighbourhood_size people around one) with probability p_local = min(local_share,
   same_region, same_urban), else from the region and urban status chosen so that, neighbours
   included, a share same_region of candidates is in one's region and same_urban has one's
   urban status. A candidate is accepted with probability
   exp(-age_homophily |age gap| / age_scale) (1 - dissent_homophily |dissent gap|); after
   homophily_tries candidates the last one is kept.
2. Triadic closure: each person proposes Poisson(w triadic_closure mean_degree / 2) ties to a
   random friend of a random first-round friend (a direct tie for people without one), closing
   triangles; this is what gives the layer a realistic clustering coefficient. A candidate who
   is already a friend is redrawn, and one of another region or urban status is kept only with
   the probability that gives closing ties the same homophily as direct ones (_keep_other).
"""

from __future__ import annotations

import numpy as np

from trustsim import rng
from trustsim.kernels.threads import in_blocks
from trustsim.scenario.schema import Network, Traits
from trustsim.society.codes import dissent_value
from trustsim.society.csr import offsets_from_counts, symmetric_rows
from trustsim.society.kernels import draws
from trustsim.society.kernels import friends as sk
from trustsim.society.layout import Layout
from trustsim.society.traits import SOCIABILITY_STREAM

_TARGET_STREAMS = ("pool", "pool_pick", "local", "region", "urban", "target", "other_region", "accept")


def _mix(p_local: float, share: float) -> float:
    """Probability of 'same' among non-local draws so that the overall share is `share`."""
    return 1.0 if p_local >= 1.0 else (share - p_local) / (1.0 - p_local)


def _keep_other(share: float) -> float:
    """Acceptance of a friend of a friend who differs (region or urban status) from oneself.

    Two independent hops agree with probability about r = share^2 + (1 - share)^2; keeping
    differing candidates with probability r (1 - share) / (share (1 - r)) restores the direct
    ties' share among closing ties.
    """
    if share >= 1.0:
        return 0.0
    if share <= 0.0:
        return 1.0
    r = share**2 + (1.0 - share) ** 2
    return min(1.0, r * (1.0 - share) / (share * (1.0 - r)))


def friend_ties(network: Network, traits: Traits, layout: Layout, age: np.ndarray, dissent: np.ndarray, seed: int):
    """First-round friends as symmetric CSR rows, and the triadic-closure ties as (src, dst).

    dissent holds the people's dissent codes (society/codes.py)."""
    fr = network.friends
    n = layout.n
    cum = np.empty(n + 1, dtype=np.float64)
    sk.friend_weights(rng.key(seed, SOCIABILITY_STREAM), fr.degree_sigma, cum)

    # Block weights per urban status, cumulated over regions, to draw another region's people.
    block_cum = np.zeros((2, len(layout.region_names) + 1))
    for x in (0, 1):
        np.cumsum(cum[layout.block_hi[:, x]] - cum[layout.block_lo[:, x]], out=block_cum[x, 1:])
    pool = np.flatnonzero(dissent_value(dissent) >= traits.activist_floor).astype(np.int32)
    pool_lo = np.searchsorted(pool, layout.region_lo)
    pool_hi = np.searchsorted(pool, layout.region_hi)
    p_local = min(fr.local_share, fr.same_region, fr.same_urban)
    table = np.empty(n, dtype=np.uint64)
    draws.alias_tables(cum, layout.block_lo.ravel(), layout.block_hi.ravel(), table)
    trait_key = np.empty(n, dtype=np.uint32)
    in_blocks(sk.trait_keys, n, age, dissent, trait_key)
    shared = (
        cum, table, layout.region, layout.urban, trait_key, dissent, layout.block_lo, layout.block_hi, block_cum,
        pool, pool_lo, pool_hi, traits.activist_floor, p_local, _mix(p_local, fr.same_region),
        _mix(p_local, fr.same_urban), network.neighbourhood_size // 2, fr.age_homophily, fr.age_scale,
        fr.dissent_homophily, fr.homophily_tries,
    )

    def proposals(stream: str, share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        counts = np.empty(n, dtype=np.int32)
        in_blocks(draws.poisson_counts, n, rng.key(seed, stream), cum, share * fr.mean_degree / 2.0, counts)
        offsets = offsets_from_counts(counts)
        del counts
        return offsets, np.empty(offsets[-1], dtype=np.int32), np.empty(offsets[-1], dtype=np.int32)

    def keys(prefix: str) -> np.ndarray:
        return np.array([rng.key(seed, f"{prefix}.{s}") for s in _TARGET_STREAMS], dtype=np.uint64)

    offsets, src, dst = proposals("society.friends_count", 1.0 - fr.triadic_closure)
    in_blocks(sk.friend_ties, n, keys("society.friends"), offsets, *shared, src, dst)
    f_indptr, f_indices = symmetric_rows(n, src, dst)
    del offsets, src, dst

    offsets, src, dst = proposals("society.closure_count", fr.triadic_closure)
    closure_keys = np.array(
        [rng.key(seed, f"society.closure.{s}") for s in ("friend", "friend_of_friend", "region", "urban")],
        dtype=np.uint64,
    )
    in_blocks(
        sk.closure_ties, n,
        keys("society.closure_direct"), closure_keys, offsets, f_indptr, f_indices, *shared,
        _keep_other(fr.same_region), _keep_other(fr.same_urban), src, dst,
    )
    return (f_indptr, f_indices), (src, dst)
