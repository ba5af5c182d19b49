"""Stage 6, responses: how people adapt to being watched and scored, in one pass over the network.

Writes only ``state.responses``, and the contacts' term of the next step's score
(``state.scoring.social``), which is read from the same edges. Per person, over their active ties:

- Chilling: perceived risk moves toward a target with time scale memory_weeks. The target is
  surveillance_weight x online coverage (only where critical posts cost points) plus
  neighbourhood_weight x the share of one's active contacts under any sanction, capped at 1.
  The behaviour stage turns it into expressed dissent = dissent x (1 - strength x risk).
- Distancing: where association costs points (a pull weight or a contact penalty), a member drops
  each tie to a member under the threshold with probability strength per week (family ties at
  family_factor of that). A dropped tie is gone in both directions for the rest of the run: the
  decision for the pair {a, b} uses two draws keyed by the pair, one per side, so both directions
  reach it without looking at each other.
- Friends and family, for the next step's score: a x (weighted mean score of the active member
  contacts that remain) - social weight x penalty x (how many of them are under the threshold).
  Contacts on a layer of weight 0 do not count.

Compliance and deterrence change event rates directly and live in the behaviour stage. The pass
also adds the network metrics (expressed dissent, active degree, isolation) to their cell sums.
"""

from __future__ import annotations

import numba
import numpy as np

from .. import rng
from .. import trace as tracing
from ..context import Context, metric_cell_jit
from ..metrics import DISSENT_SCALE, NETWORK
from ..rng import unit_jit
from ..state import LOW_FLAG, MEMBER_FLAG, SANCTIONED_FLAG, State
from .behaviour import expressed_dissent

STREAMS = ("responses.distancing",)
_EXPRESSED, _DEGREE, _ISOLATED = NETWORK["expressed"], NETWORK["degree"], NETWORK["isolated"]


@numba.njit(cache=True, inline="always")
def _drops(key, i, j, flags_i, flags_j, prob, n):
    """Who drops the tie {i, j} this step: 0 nobody, 1 i, 2 j, 3 both (the same tie from both ends)."""
    i_may = (flags_i & MEMBER_FLAG) and (flags_j & LOW_FLAG)
    j_may = (flags_j & MEMBER_FLAG) and (flags_i & LOW_FLAG)
    if not (i_may or j_may):
        return 0
    # Side 0 is the lower index, side 1 the higher, whichever end asks.
    pair = np.uint64(min(i, j)) * np.uint64(n) + np.uint64(max(i, j))
    i_side = np.uint64(0) if i < j else np.uint64(1)
    i_drops = i_may and unit_jit(key, pair * np.uint64(2) + i_side) < prob
    j_drops = j_may and unit_jit(key, pair * np.uint64(2) + (np.uint64(1) - i_side)) < prob
    return (1 if i_drops else 0) | (2 if j_drops else 0)


@numba.njit(cache=True, _nrt=False)  # no reference counting: see kernels/person_pass.py
def _network_chunk(p, people, sc, s, r, indptr, indices, layer_start, key, respond, lo, hi, acc, trace):
    flags = s.flags
    score = sc.score
    social = sc.social
    active = r.edge_active
    risk = r.perceived_risk
    n = indptr.shape[0] - 1
    distancing = respond and p.distancing
    for i in range(lo, hi):
        before = 0
        flagged = 0
        degree = 0
        low = 0
        weight_sum = 0.0
        score_sum = 0.0
        flags_i = flags[i]
        slot = trace.slot[i] if trace.on else -1
        row = indptr[i]
        # A row holds family, then work, then friends ties (Network.layer_start).
        for layer in range(3):
            first = row if layer == 0 else row + layer_start[layer - 1, i]
            last = row + layer_start[layer, i] if layer < 2 else indptr[i + 1]
            weight = p.layer_weight[layer]
            drop = p.drop_probability[layer]
            for e in range(first, last):
                if not (active[e >> 3] >> (e & 7)) & 1:
                    continue
                j = np.int64(indices[e])
                flags_j = flags[j]
                before += 1
                if flags_j & SANCTIONED_FLAG:
                    flagged += 1
                who = _drops(key, i, j, flags_i, flags_j, drop, n) if distancing else 0
                if who:
                    # Chunks start at edge multiples of 8 (Context.chunks): no byte spans two threads.
                    active[e >> 3] &= np.uint8(~(1 << (e & 7)) & 0xFF)
                    if slot >= 0:
                        tracing.add(trace, slot, tracing.TIE_DROPPED + layer, tracing.BY_THEM + who - 1, j)
                    continue
                degree += 1
                if flags_j & MEMBER_FLAG and weight > 0:
                    weight_sum += weight
                    score_sum += weight * score[j]
                    if flags_j & LOW_FLAG:
                        low += 1
        if weight_sum > 0:
            social[i] = p.association_weight * score_sum / weight_sum - p.social_penalty * low
        else:
            social[i] = np.nan
        if not respond:
            continue
        target = min(p.watched + p.neighbourhood_weight * (flagged / before if before else 0.0), 1.0)
        risk[i] += np.float32(p.adapt * (target - risk[i]))
        cell = metric_cell_jit(people.region[i], people.urban[i], people.occupation[i], people.minority[i],
                               people.decile[i], p.n_occupations)
        acc[cell, _EXPRESSED] += np.int64(round(expressed_dissent(p, people.dissent[i], risk[i]) * DISSENT_SCALE))
        acc[cell, _DEGREE] += degree
        if degree == 0:
            acc[cell, _ISOLATED] += 1
        if slot >= 0 and low:
            tracing.add(trace, slot, tracing.CONTACTS_LOW, tracing.NO_CAUSE, low)


@numba.njit(cache=True, parallel=True)
def network_pass(p, people, sc, s, r, indptr, indices, layer_start, key, respond, chunks, sums, trace):
    """The social term of the next score for everyone; with respond, chilling and distancing too."""
    for c in numba.prange(chunks.shape[0] - 1):
        _network_chunk(p, people, sc, s, r, indptr, indices, layer_start, key, respond, chunks[c], chunks[c + 1],
                       sums[numba.get_thread_id()], trace)


def step(ctx: Context, state: State, t: int, sums: np.ndarray, trace: tracing.TraceBuffer = tracing.OFF) -> None:
    """Chilling and distancing for step t, and the contacts' term of step t + 1's score; traced
    people's dropped ties and low contacts go to the trace buffer."""
    net = ctx.society.network
    network_pass(ctx.params, ctx.people, state.scoring, state.sanctions, state.responses, net.indptr, net.indices,
                 net.layer_start, rng.key(ctx.seed, STREAMS[0], t), True, ctx.chunks, sums, trace)


def start(ctx: Context, state: State, sums: np.ndarray) -> None:
    """The contacts' term of the first step's score, from everyone's starting score."""
    net = ctx.society.network
    network_pass(ctx.params, ctx.people, state.scoring, state.sanctions, state.responses, net.indptr, net.indices,
                 net.layer_start, np.uint64(0), False, ctx.chunks, sums, tracing.OFF)
