"""Stage 6, responses: how people adapt to being watched and scored, in one pass over the network.

Writes only ``state.responses``, and the contacts' term of the next step's score
(``state.scoring.social``), which is read from the same edges. Per person, over their active ties:

- Chilling: perceived risk r moves toward a personal target with time scale memory_weeks. The
  target is the expected cost of voicing one's own dissent d (docs/model.md, section 6):
  seen x (watched + stake x cost), capped at 1, where seen is the online monitoring coverage,
  cost = 1 - (1 - intensity(d)) x (1 - fear(k)) is the perceived chance that speaking costs points
  or a sanction (only where speech can), intensity(d) = 1 - exp(-d / intensity_scale), fear(k) =
  contacts_weight x (1 - (1 - first_contact)^k) for k punished active contacts, and stake = 1 +
  a state job + a business + relatives who share measures + closeness to a sanction bar. A fixed
  share of the most dissenting tenth (the committed) do not hold back: their target is
  -emboldening x (1 - (1 - first_contact)^k), so punishments around them make them speak more.
  The behaviour stage turns r into expressed dissent = d x (1 - strength x r).
- Distancing: where association costs points (a pull weight or a contact penalty), a member drops
  each tie to a member under the threshold with probability strength per week (family ties at
  family_factor of that). A dropped tie is gone in both directions for the rest of the run: the
  decision for the pair {a, b} uses two draws keyed by the pair, one per side, so both directions
  reach it without looking at each other.
- Friends and family, for the next step's score: a x (weighted mean score of the active member
  contacts that remain) - social weight x penalty x (how many of them are under the threshold).
  Contacts on a layer of weight 0 do not count.

Compliance and deterrence change event rates directly and live in the behaviour stage. The pass
also adds the network metrics (expressed dissent overall and by stake group, active degree,
isolation, ties kept by the sanctioned, scores across ties) to their cell sums.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .. import rng
from .. import trace as tracing
from ..context import N_DECILES, Context, group_rows
from ..kernels.threads import in_threads
from ..metrics import DISSENT_SCALE, NETWORK, STAKE_GROUPS, TIE_SCORE_SCALE, add
from ..rng import unit_jit
from ..scenario.schema import OCCUPATIONS
from ..society.codes import dissent_value_jit
from ..state import LOW_FLAG, MEMBER_FLAG, SANCTIONED_FLAG, SHOWN_FLAGS, SHOWN_SCALE, SHOWN_SHIFT, State, shown_score
from .behaviour import expressed_dissent

STREAMS = ("responses.distancing", "responses.committed")
DISTANCING, COMMITTED = range(2)
_EXPRESSED, _DEGREE, _ISOLATED = NETWORK["expressed"], NETWORK["degree"], NETWORK["isolated"]
_DEGREE_TOP = NETWORK["degree.top_decile"]
_SANCTIONED_DEGREE, _SANCTIONED_START = NETWORK["sanctioned_degree"], NETWORK["sanctioned_degree_start"]
_TIES, _OWN, _OTHER = NETWORK["ties"], NETWORK["tie_own"], NETWORK["tie_other"]
_OWN2, _OTHER2, _PRODUCT = NETWORK["tie_own2"], NETWORK["tie_other2"], NETWORK["tie_product"]
_STAKE_EXPRESSED = NETWORK["expressed.stake." + STAKE_GROUPS[0]]  # the groups' columns follow in order
_STAKE_LATENT = NETWORK["latent.stake." + STAKE_GROUPS[0]]
_COMMITTED, _NEAR_BAR, _STATE_JOB, _BUSINESS, _OTHER_STAKE = range(len(STAKE_GROUPS))
_CIVIL_SERVANT, _STATE_MANAGER = OCCUPATIONS.index("civil_servant"), OCCUPATIONS.index("state_manager")
_BUSINESS_OWNER = OCCUPATIONS.index("business_owner")
_TOP_DECILE = N_DECILES - 1
_SANCTIONED_BIT, _LOW_BIT = int(SANCTIONED_FLAG).bit_length() - 1, int(LOW_FLAG).bit_length() - 1


@numba.njit(cache=True, inline="always")
def bar_gap(p, score):
    """Points between a score and the highest sanction bar at or under it (0 under every bar; inf: no bars)."""
    bars = p.sanction_bars
    if bars.shape[0] == 0:
        return math.inf
    gap = 0.0
    for b in range(bars.shape[0]):
        if score >= bars[b]:
            gap = score - bars[b]
    return gap


@numba.njit(cache=True, inline="always")
def stake(p, occupation, relatives, gap):
    """What one stands to lose by speaking: 1, plus each source of stake that applies."""
    value = 1.0 + p.stake_near_bar * math.exp(-gap / p.bar_scale)
    if occupation == _CIVIL_SERVANT or occupation == _STATE_MANAGER:
        value += p.stake_state_job
    elif occupation == _BUSINESS_OWNER:
        value += p.stake_business
    if relatives:
        value += p.stake_relatives
    return value


@numba.njit(cache=True, inline="always")
def stake_group(p, committed, occupation, gap):
    """The report's stake group: the committed, near a bar, a state job, a business, or none of these."""
    if committed:
        return _COMMITTED
    if gap < p.bar_scale:
        return _NEAR_BAR
    if occupation == _CIVIL_SERVANT or occupation == _STATE_MANAGER:
        return _STATE_JOB
    if occupation == _BUSINESS_OWNER:
        return _BUSINESS
    return _OTHER_STAKE


@numba.njit(cache=True, inline="always")
def is_committed(p, key, decile, i):
    """Whether person i is one of the committed: a fixed draw among the most dissenting tenth."""
    return decile == _TOP_DECILE and unit_jit(key, i) < p.committed_share


@numba.njit(cache=True, inline="always")
def target_risk(p, dissent, member, committed, punished, stake_value):
    """The perceived risk person i moves toward (negative for the committed whom punishments embolden)."""
    # 0 with no punished contact (most people: no pow to pay), toward 1 with many
    example = 1.0 - p.first_contact_rest ** punished if punished else 0.0
    speech_costs = p.speech_risky and member
    if committed:
        return -p.emboldening * example if speech_costs else 0.0
    cost = 0.0
    if speech_costs:
        intensity = 1.0 - math.exp(-dissent / p.intensity_scale)
        cost = 1.0 - (1.0 - intensity) * (1.0 - p.contacts_weight * example)
    return min(p.seen * (p.watched + stake_value * cost), 1.0)


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


@numba.njit(cache=True, nogil=True, _nrt=False)  # no reference counting: see kernels/person_pass.py
def _network_share(p, people, sc, s, r, indptr, indices, layer_start, keys, respond, chunks, first, stride, acc,
                   trace):
    """The network pass over chunks first, first + stride, ..."""
    for c in range(first, chunks.shape[0] - 1, stride):
        _network_chunk(p, people, sc, s, r, indptr, indices, layer_start, keys, respond, chunks[c], chunks[c + 1],
                       acc, trace)


@numba.njit(cache=True, inline="always")
def _kept(active, e):
    """1 while tie e is kept, else 0."""
    return (active[e >> 3] >> (e & 7)) & 1


@numba.njit(cache=True, inline="always")
def _row_sums(active, indices, shown, row, work_start, friends_start, end, home_start, home_end):
    """Over the kept ties of a row, per layer (family, work, friends): how many there are, how many
    are to members, the sum of those members' shown scores (integer steps) and of their squares,
    and how many of them are low-scored; and how many family contacts share one's household
    (home_start..home_end-1). One loop with each tie's layer as a mask, and integer sums, so the
    loop has no branch and work's sums are the row's less family's and friends'."""
    kept = members = codes = squares = low = 0
    family_kept = family_members = family_codes = family_squares = family_low = 0
    friends_kept = friends_members = friends_codes = friends_squares = friends_low = 0
    home = 0
    for e in range(row, end):
        j = np.int64(indices[e])
        word = np.int64(shown[j])
        on = np.int64(_kept(active, e))
        family = -np.int64(e < work_start)  # all ones on a family tie, else 0
        friends = -np.int64(e >= friends_start)
        counted = word & MEMBER_FLAG & on  # 1: a member contact, still kept
        theirs = (word >> SHOWN_SHIFT) * counted
        square = theirs * theirs
        is_low = (word >> _LOW_BIT) & counted
        kept += on
        members += counted
        codes += theirs
        squares += square
        low += is_low
        family_kept += on & family
        family_members += counted & family
        family_codes += theirs & family
        family_squares += square & family
        family_low += is_low & family
        friends_kept += on & friends
        friends_members += counted & friends
        friends_codes += theirs & friends
        friends_squares += square & friends
        friends_low += is_low & friends
        home += on & family & (home_start <= j) & (j < home_end)
    family_sums = (family_kept, family_members, family_codes, family_squares, family_low)
    friends_sums = (friends_kept, friends_members, friends_codes, friends_squares, friends_low)
    work_sums = (kept - family_kept - friends_kept, members - family_members - friends_members,
                 codes - family_codes - friends_codes, squares - family_squares - friends_squares,
                 low - family_low - friends_low)
    return (family_sums, work_sums, friends_sums), home


@numba.njit(cache=True, _nrt=False, inline="always")
def _network_chunk(p, people, sc, s, r, indptr, indices, layer_start, keys, respond, lo, hi, acc, trace):
    shown = s.shown
    score = sc.score
    social = sc.social
    active = r.edge_active
    risk = r.perceived_risk
    household = people.household
    n = indptr.shape[0] - 1
    distancing = respond and p.distancing
    home_start = home_end = lo  # the household of i: people home_start..home_end-1 (chunks hold whole ones)
    for i in range(lo, hi):
        if i == home_end:
            home_start = i
            while home_end < hi and household[home_end] == household[i]:
                home_end += 1
        flags_i = shown[i] & SHOWN_FLAGS
        member_i = flags_i & MEMBER_FLAG
        low_i = (flags_i >> _LOW_BIT) & 1
        slot = trace.slot[i] if trace.on else -1
        row, end = indptr[i], indptr[i + 1]
        # Three sweeps over the row. The first reads every contact's word with no branch that waits
        # on it, so the reads overlap; distancing and the sums then find the words in the cache.
        flagged = 0  # punished contacts, before this step's distancing
        may_drop = 0  # ties that distancing may drop: a member and a low-scored contact, either way
        for e in range(row, end):
            word = shown[indices[e]]
            kept = _kept(active, e)
            flagged += ((word >> _SANCTIONED_BIT) & 1) * kept
            may_drop += (((word >> _LOW_BIT) & member_i) | (word & low_i)) & kept
        if distancing and may_drop:
            for e in range(row, end):
                if not _kept(active, e):
                    continue
                j = np.int64(indices[e])
                layer = (e >= row + layer_start[0, i]) + (e >= row + layer_start[1, i])
                who = _drops(keys[DISTANCING], i, j, flags_i, shown[j] & SHOWN_FLAGS, p.drop_probability[layer], n)
                if who:
                    # Chunks start at edge multiples of 8 (Context.chunks): no byte spans two threads.
                    active[e >> 3] &= np.uint8(~(1 << (e & 7)) & 0xFF)
                    if slot >= 0:
                        tracing.add(trace, slot, tracing.TIE_DROPPED + layer, tracing.BY_THEM + who - 1, j)
        degree = 0
        ties = 0
        other = 0  # sums over ties of contacts' shown scores, in integer steps: exact in any order
        other2 = 0
        weight_sum = 0.0
        score_sum = 0.0
        low = 0
        layers, home = _row_sums(active, indices, shown, row, row + layer_start[0, i], row + layer_start[1, i], end,
                                 home_start, home_end)
        relatives = home > 0
        for layer in range(3):
            kept, members, codes, squares, low_members = layers[layer]
            degree += kept
            if member_i:
                ties += members
                other += codes
                other2 += squares
            weight = p.layer_weight[layer]
            if weight > 0:
                weight_sum += weight * members
                score_sum += weight * codes
                low += low_members
        if weight_sum > 0:
            social[i] = p.association_weight * score_sum / (weight_sum * SHOWN_SCALE) - p.social_penalty * low
        else:
            social[i] = np.nan
        if not respond:
            continue
        occupation = people.occupation[i]
        dissent = dissent_value_jit(people.dissent[i])
        gap = bar_gap(p, score[i]) if member_i else math.inf
        committed = is_committed(p, keys[COMMITTED], people.decile[i], i)
        target = target_risk(p, dissent, member_i, committed, flagged, stake(p, occupation, relatives, gap))
        risk[i] += np.float32(p.adapt * (target - risk[i]))
        rows = group_rows(p.group_offset, people, i)
        expressed = np.int64(round(expressed_dissent(p, dissent, risk[i]) * DISSENT_SCALE))
        group = stake_group(p, committed, occupation, gap)
        add(acc, rows, _EXPRESSED, expressed)
        acc[0, _STAKE_EXPRESSED + group] += expressed
        acc[0, _STAKE_LATENT + group] += np.int64(round(dissent * DISSENT_SCALE))
        add(acc, rows, _DEGREE, degree)
        if people.decile[i] == _TOP_DECILE:
            add(acc, rows, _DEGREE_TOP, degree)
        if degree == 0:
            add(acc, rows, _ISOLATED, 1)
        if flags_i & SANCTIONED_FLAG:
            add(acc, rows, _SANCTIONED_DEGREE, degree)
            add(acc, rows, _SANCTIONED_START, indptr[i + 1] - row)
        if ties:
            # In fixed point, so that the groups' sums are exact whatever the thread count; one's own
            # score as contacts see it, like theirs.
            own = shown_score(shown[i])
            other = other / SHOWN_SCALE
            other2 = other2 / (SHOWN_SCALE * SHOWN_SCALE)
            add(acc, rows, _TIES, ties)
            add(acc, rows, _OWN, np.int64(round(ties * own * TIE_SCORE_SCALE)))
            add(acc, rows, _OWN2, np.int64(round(ties * own * own * TIE_SCORE_SCALE)))
            add(acc, rows, _OTHER, np.int64(round(other * TIE_SCORE_SCALE)))
            add(acc, rows, _OTHER2, np.int64(round(other2 * TIE_SCORE_SCALE)))
            add(acc, rows, _PRODUCT, np.int64(round(own * other * TIE_SCORE_SCALE)))
        if slot >= 0 and low:
            tracing.add(trace, slot, tracing.CONTACTS_LOW, tracing.NO_CAUSE, low)


def network_pass(p, people, sc, s, r, indptr, indices, layer_start, keys, respond, chunks, sums, trace):
    """The social term of the next score for everyone; with respond, chilling and distancing too."""
    def share(k, stride):
        _network_share(p, people, sc, s, r, indptr, indices, layer_start, keys, respond, chunks, k, stride, sums[k],
                       trace)

    in_threads(share, sums.shape[0])


def _keys(ctx: Context, t: int) -> np.ndarray:
    """This step's distancing key and the run's fixed key of who is committed."""
    return np.array([rng.key(ctx.seed, STREAMS[DISTANCING], t), rng.key(ctx.seed, STREAMS[COMMITTED], 0)],
                    np.uint64)


def step(ctx: Context, state: State, t: int, sums: np.ndarray, trace: tracing.TraceBuffer = tracing.OFF) -> None:
    """Chilling and distancing for step t, and the contacts' term of step t + 1's score; traced
    people's dropped ties and low contacts go to the trace buffer."""
    net = ctx.society.network
    network_pass(ctx.params, ctx.people, state.scoring, state.sanctions, state.responses, net.indptr, net.indices,
                 net.layer_start, _keys(ctx, t), True, ctx.chunks, sums, trace)


def start(ctx: Context, state: State, sums: np.ndarray) -> None:
    """The contacts' term of the first step's score, from everyone's starting score."""
    net = ctx.society.network
    network_pass(ctx.params, ctx.people, state.scoring, state.sanctions, state.responses, net.indptr, net.indices,
                 net.layer_start, _keys(ctx, 0), False, ctx.chunks, sums, tracing.OFF)


def committed(ctx: Context) -> np.ndarray:
    """bool [person]: the committed, who do not hold back (for snapshots and tests)."""
    draw = rng.uniform(ctx.seed, STREAMS[COMMITTED], 0, ctx.society.n)
    return (ctx.people.decile == _TOP_DECILE) & (draw < ctx.params.committed_share)
