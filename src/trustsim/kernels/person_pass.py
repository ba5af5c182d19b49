"""The per-person pass of a step: stages 2 to 5 and the person-level metrics, one household at a time.

Use it from step.py only. For each household, in order:

1. behaviour     income shocks, then each person's expected events and ticket attempts
2. surveillance  their events seen and filed right, false matches and misfiled events received;
                 sightings per search cell and misfiled events, counted for the next step
3. scoring       the record, the individual and published scores, participation
4. sanctions     court list, rules (relatives within the household), firms, lifting, appeals,
                 denied tickets, rewards; a granted appeal strikes the error points (scoring)
5. metrics       each person's quantities added to their cell's sums and score histograms

A person's events exist only inside this loop: nothing of a step's draws is stored, except for
the people a run traces (trace.py), whose events go to their own rows of the trace buffer. Each stage's
mechanics are the Numba functions of its module in stages/; this pass only calls them in order.
Chunks of whole households run in parallel; each person's draws are keyed by their index, and all
sums are integers, so results do not depend on the thread count.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from ..context import group_rows
from ..metrics import PERSON, SCORE_SCALE, add, add_score
from ..state import (
    BLACKLIST, CAUSE, CLEARED, COURT_LIST, EVENT, LIST_ENTRY, LIST_EXIT, N_EVENT_KINDS, N_MEASURES,
    NOT_APPLIED, SANCTIONED_FLAG,
)
from ..stages import behaviour, sanctions, scoring, surveillance
from .. import trace as tracing
from .search import first_at_least
from .threads import in_threads

_TRUE, _FALSE_MATCH, _LINKAGE = np.uint8(CAUSE["true"]), np.uint8(CAUSE["false_match"]), np.uint8(CAUSE["linkage_error"])
_CRIME = EVENT["crime"]
_MEMBER, _SCORE, _LISTED, _ENTRIES, _EXITS = (PERSON[k] for k in ("member", "score", "listed", "entries", "exits"))
_UNDER = PERSON["under.internet_throttle"]  # the measures' columns follow in MEASURES order
_FLIGHT, _RAIL, _SANCTIONED = PERSON["flight_denials"], PERSON["rail_denials"], PERSON["sanctioned"]
_SANCTIONED_MINORITY = PERSON["sanctioned.minority"]
_WRONGFUL = PERSON["wrongful"]  # followed by wrongful.<cause> for false_match, linkage_error, association
_THROUGH, _CRIMES, _DETECTED, _REWARDED = (PERSON[k] for k in ("through_contacts", "crimes", "detected_crimes", "rewarded"))


@numba.njit(cache=True, inline="always")
def _wrongful(s, i):
    """(any true cause, first erroneous cause) over person i's measures and court entry."""
    has_true = s.court_cause[i] == _TRUE
    first_error = NOT_APPLIED if has_true else s.court_cause[i]
    for m in range(N_MEASURES):
        c = s.cause[m, i]
        if c == _TRUE:
            has_true = True
        else:
            first_error = min(first_error, c)
    return has_true, first_error


@numba.njit(cache=True, inline="always")
def _record_metrics(p, people, sc, s, i, individual, crimes, detected, sums, hist):
    rows = group_rows(p.group_offset, people, i)
    score = sc.score[i]
    if sc.member[i]:
        add(sums, rows, _MEMBER, 1)
        add(sums, rows, _SCORE, np.int64(round(score * SCORE_SCALE)))
        add_score(hist, rows, score)
        if score < p.association_threshold and individual >= p.association_threshold:
            add(sums, rows, _THROUGH, 1)
        if s.rewards[i]:
            add(sums, rows, _REWARDED, 1)
    if crimes:
        add(sums, rows, _CRIMES, crimes)
        add(sums, rows, _DETECTED, detected)
    lists = s.lists[i]
    if lists & (COURT_LIST | BLACKLIST):
        add(sums, rows, _LISTED, 1)
    if lists & LIST_ENTRY:
        add(sums, rows, _ENTRIES, 1)
    if lists & LIST_EXIT:
        add(sums, rows, _EXITS, 1)
    if not s.shown[i] & SANCTIONED_FLAG:
        return
    add(sums, rows, _SANCTIONED, 1)
    if people.minority[i]:
        add(sums, rows, _SANCTIONED_MINORITY, 1)
    for m in range(N_MEASURES):
        if s.cause[m, i] != NOT_APPLIED:
            add(sums, rows, _UNDER + m, 1)
    add(sums, rows, _FLIGHT, s.flight_denials[i])
    add(sums, rows, _RAIL, s.rail_denials[i])
    has_true, first_error = _wrongful(s, i)
    if not has_true and first_error != NOT_APPLIED:
        add(sums, rows, _WRONGFUL, 1)
        add(sums, rows, _WRONGFUL + first_error, 1)  # causes 1..3 follow the wrongful column in order


class Scratch(NamedTuple):
    """One thread's working arrays: per event kind, and per member of the household at hand."""

    means: np.ndarray
    misfiled_kinds: np.ndarray
    right: np.ndarray
    false_match: np.ndarray
    linkage: np.ndarray
    out: np.ndarray
    event_cause: np.ndarray
    individual: np.ndarray
    kept: np.ndarray
    deterred: np.ndarray
    held: np.ndarray
    appealed: np.ndarray
    crimes: np.ndarray
    detected: np.ndarray


    @staticmethod
    def new(max_household: int) -> "Scratch":
        return Scratch(
            np.empty(N_EVENT_KINDS), np.empty(N_EVENT_KINDS), np.zeros(N_EVENT_KINDS, np.int64),
            np.zeros(N_EVENT_KINDS, np.int64), np.zeros(N_EVENT_KINDS, np.int64), np.zeros(N_EVENT_KINDS, np.int64),
            np.empty((max_household, N_EVENT_KINDS), np.uint8), np.empty(max_household), np.empty(max_household), np.empty(max_household, np.uint8),
            np.zeros(max_household, np.uint8), np.zeros(max_household, np.uint8), np.zeros(max_household, np.int64),
            np.zeros(max_household, np.int64),
        )


# Compiled without reference counting: the pass allocates nothing, and Numba's counting of the
# arrays in the NamedTuples handed to every inlined call cost more than the model itself
# (measured: 80 ns of 86 in the behaviour stage's means, and threads contending for the counts).
@numba.njit(cache=True, nogil=True, _nrt=False)
def _households(p, rules, people, b, sc, s, risk, behaviour_keys, surveillance_keys, scoring_keys,
                sanctions_keys, cover, false_match_rate, misfiled, owners, owner_until, t, chunks, first, stride,
                sums, histograms, sightings, misfiled_next, work, trace):
    """Stages 1-5 for the households of chunks first, first + stride, ... of chunks."""
    means, scratch, right, false_match, linkage, out = (
        work.means, work.misfiled_kinds, work.right, work.false_match, work.linkage, work.out)
    event_cause, individual, kept, deterred, held, appealed, crimes, detected = (
        work.event_cause, work.individual, work.kept, work.deterred, work.held, work.appealed, work.crimes, work.detected)
    for c in range(first, chunks.shape[0] - 1, stride):
        lo, end = chunks[c], chunks[c + 1]
        at = first_at_least(owners, 0, owners.shape[0], lo)  # the chunk's first barred owner
        while lo < end:
            hi = lo + 1
            while hi < end and people.household[hi] == people.household[lo]:
                hi += 1
            for j in range(hi - lo):
                i = lo + j
                # 1. behaviour
                b.shock_until[i], kept[j] = behaviour.expected(p, people, b, sc, s, risk, behaviour_keys, i, t, means)
                deterred[j] = behaviour.deterred(s, i)
                # 2. surveillance
                urban = people.urban[i]
                out[:] = 0
                misfiled_here = surveillance.misfiled_out(p, surveillance_keys, cover, urban, means, i, scratch, out)
                false_match[:] = 0
                for row in range(p.offline_kinds.shape[0]):
                    false_match[p.offline_kinds[row]] = surveillance.false_matches(
                        p, surveillance_keys, false_match_rate, people, i, row)
                linkage[:] = 0
                surveillance.misfiled_in(p, surveillance_keys, misfiled, i, linkage)
                for k in range(N_EVENT_KINDS):
                    right[k] = surveillance.filed_right(p, surveillance_keys, cover, urban, means, k, i)
                    if right[k] > 0:
                        event_cause[j, k] = _TRUE
                    elif false_match[k] > 0:
                        event_cause[j, k] = _FALSE_MATCH
                    elif linkage[k] > 0:
                        event_cause[j, k] = _LINKAGE
                    else:
                        event_cause[j, k] = NOT_APPLIED
                surveillance.count_links(p, people, i, right, out, misfiled_here, sightings, misfiled_next)
                detected[j] = right[_CRIME]
                crimes[j] = right[_CRIME] + out[_CRIME] + surveillance.unseen_crimes(
                    p, surveillance_keys, cover, urban, means, i)
                # 3. scoring
                scoring.record(p, sc, i, right, false_match, linkage)
                individual[j] = scoring.to_score(p, sc.raw[i])
                sc.score[i] = scoring.published(p, individual[j], sc.social[i])
                if not sc.member[i] and scoring.joins(p, scoring_keys, i, individual[j]):
                    sc.member[i] = True
                if trace.on and trace.slot[i] >= 0:
                    tracing.person_step(trace, trace.slot[i], right, false_match, linkage, individual[j], sc.social[i],
                                        sc.score[i])
            # 4. sanctions
            at = sanctions.household(p, rules, sanctions_keys, behaviour_keys, people, sc, s, lo, hi, t, event_cause,
                                     individual, kept, deterred, held, appealed, owners, owner_until, at)
            for j in range(hi - lo):
                i = lo + j
                if s.lists[i] & CLEARED:
                    scoring.strike_errors(sc, i)
                if trace.on and trace.slot[i] >= 0:
                    tracing.appeal(trace, trace.slot[i], appealed[j])
                # 5. metrics
                _record_metrics(p, people, sc, s, i, individual[j], crimes[j], detected[j], sums, histograms)
            lo = hi


def person_pass(p, rules, people, b, sc, s, risk, behaviour_keys, surveillance_keys, scoring_keys, sanctions_keys,
                cover, false_match_rate, surveillance_state, owners, owner_until, t, chunks, max_household,
                sums, histograms, trace):
    """Stages 1-5 for everyone, one share of the chunks per thread (kernels/threads.py), each adding
    to its own row of sums and histograms. The step's sightings per search cell and misfiled events
    replace surveillance_state's, for the next step's false matches and misfiled events received."""
    count = sums.shape[0]
    sightings = np.zeros((count,) + surveillance_state.searches.shape, np.int64)
    misfiled_next = np.zeros((count,) + surveillance_state.misfiled.shape, np.int64)

    def share(k, stride):
        _households(p, rules, people, b, sc, s, risk, behaviour_keys, surveillance_keys, scoring_keys,
                    sanctions_keys, cover, false_match_rate, surveillance_state.misfiled, owners, owner_until, t,
                    chunks, k, stride, sums[k], histograms[k], sightings[k], misfiled_next[k],
                    Scratch.new(max_household), trace)

    in_threads(share, count)
    surveillance_state.searches[:] = sightings.sum(axis=0)
    surveillance_state.misfiled[:] = misfiled_next.sum(axis=0)
