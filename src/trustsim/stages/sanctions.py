"""Stage 5, sanctions and rewards: the lists, the rules, appeals, denied tickets and rewards.

Writes only ``state.sanctions``. Per step, in this order, one household at a time (relatives share
a household, so a household is the unit that rules with ``relatives`` act on):

1. Court list of dishonest judgment debtors: a member with an observed unfulfilled judgment is
   listed; a listed debtor leaves by paying (fulfil rate) or when the fixed term ends.
2. Rules, in scenario order: where a rule's condition holds for a member, its measure applies for
   at least min_weeks (extended while the condition keeps holding); with ``relatives`` the
   person's household gets it too. Each application records its cause: true, or the first of
   false_match, linkage_error, association without which the condition would not have held. A
   measure that holds again for a truer reason is re-attributed to it.
3. Firms with observed corruption are listed for the blacklist term and their owners barred from
   management (a job ban) while the firm is listed.
4. A measure lifts once its minimum duration is over, no rule holds any more, and the score is
   back above the rule's exit bar if it has one.
5. Appeals: a sanctioned or listed person appeals at the appeal rate; an appeal against an
   erroneous entry succeeds with the success rate and lifts every erroneously caused entry and
   measure (the scoring stage then strikes the error points off the record).
6. Denied tickets: every flight attempt under a flight ban or ID block, and every rail attempt
   under a rail ban, is denied and counted.
7. Rewards: members at or above a reward's bar get it this step.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..context import ON_BLACKLIST, ON_COURT_LIST, Context
from ..rng import unit_jit
from ..state import (
    APPEAL_GRANTED, APPEAL_NONE, APPEAL_REFUSED, BLACKLIST, CAUSE, CLEARED, COURT_LIST, EVENT, LIST_ENTRY, LIST_EXIT, LOW_FLAG, MEASURE, MEMBER_FLAG,
    N_MEASURES, NOT_APPLIED, SANCTIONED_FLAG, State, shown_jit,
)
from . import behaviour
from .scoring import score_cause

STREAMS = ("sanctions.fulfil", "sanctions.appeal", "sanctions.appeal_granted")
FULFIL, APPEAL, GRANTED = range(3)
TRUE = np.uint8(CAUSE["true"])
ASSOCIATION = np.uint8(CAUSE["association"])
_JUDGMENT = EVENT["judgment_default"]
_BLACKLIST, _JOB_BAN = MEASURE["blacklist"], MEASURE["job_ban"]
_FLIGHT_BAN, _RAIL_BAN, _ID_BLOCK = MEASURE["flight_ban"], MEASURE["rail_ban"], MEASURE["id_block"]


def list_firms(ctx: Context, state: State, t: int, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """List firms with observed corruption; return the owners barred this step (sorted) and until when."""
    s = state.sanctions
    if ctx.scenario.sanctions.firm_listing:
        s.firm_listed_until[observed > 0] = t + ctx.params.blacklist_term_steps
    listed = s.firm_listed_until > t
    owners = ctx.society.firms["owner"][listed].astype(np.int64)
    until = s.firm_listed_until[listed]
    s.firm_listed_until[s.firm_listed_until <= t] = -1
    order = np.argsort(owners, kind="stable")
    return owners[order], until[order]


@numba.njit(cache=True, inline="always")
def _erroneous_first(cause, worst):
    """Fold one part's cause into the first erroneous cause found so far (NOT_APPLIED: none)."""
    return worst if cause == TRUE else min(worst, cause)


@numba.njit(cache=True, inline="always")
def _condition(p, rules, sc, s, r, i, event_cause, individual):
    """Whether rule r's condition holds for person i, and its cause."""
    holds = True
    first_error = NOT_APPLIED
    bar = rules.score_below[r]
    if not math.isnan(bar):
        holds &= sc.score[i] < bar
        if holds:
            first_error = _erroneous_first(score_cause(p, sc, i, individual, bar), first_error)
    if rules.on_list[r] == ON_COURT_LIST:
        holds &= s.court_since[i] > 0
        first_error = _erroneous_first(s.court_cause[i], first_error)
    elif rules.on_list[r] == ON_BLACKLIST:
        holds &= s.cause[_BLACKLIST, i] != NOT_APPLIED
        first_error = _erroneous_first(s.cause[_BLACKLIST, i], first_error)
    kind = rules.event[r]
    if kind >= 0:
        holds &= event_cause[kind] != NOT_APPLIED
        first_error = _erroneous_first(event_cause[kind], first_error)
    return holds, (TRUE if first_error == NOT_APPLIED else first_error)


@numba.njit(cache=True, inline="always")
def _may_hold(p, sc, s, i, event_cause):
    """False when no rule's condition can hold for person i this step (most people, most steps)."""
    if sc.score[i] < p.rule_score_ceiling:
        return True
    if p.rule_on_list and (s.court_since[i] > 0 or s.cause[_BLACKLIST, i] != NOT_APPLIED):
        return True
    for kind in range(event_cause.shape[0]):
        if p.rule_event_kinds[kind] and event_cause[kind] != NOT_APPLIED:
            return True
    return False


@numba.njit(cache=True, inline="always")
def _applied(s, i):
    """Bitmask of the measures person i is under."""
    mask = 0
    for m in range(N_MEASURES):
        if s.cause[m, i] != NOT_APPLIED:
            mask |= 1 << m
    return mask


@numba.njit(cache=True, inline="always")
def _apply(s, measure, i, cause, until):
    s.until[measure, i] = max(s.until[measure, i], until)
    s.cause[measure, i] = min(s.cause[measure, i], cause)


@numba.njit(cache=True, inline="always")
def _court_list(p, keys, sc, s, i, t, judgment_cause):
    if s.court_since[i] > 0:
        fulfilled = unit_jit(keys[FULFIL], i) < p.fulfil_probability
        if fulfilled or t + 1 - s.court_since[i] >= p.court_term_steps:
            s.court_since[i] = 0
            s.court_cause[i] = NOT_APPLIED
    if sc.member[i] and judgment_cause != NOT_APPLIED and s.court_since[i] == 0:
        s.court_since[i] = t + 1
        s.court_cause[i] = judgment_cause


@numba.njit(cache=True, inline="always")
def _appeal(p, keys, s, i):
    """Appeals: APPEAL_GRANTED when person i's appeal against an erroneous entry is granted (and
    lifted), APPEAL_REFUSED when they appealed in vain, APPEAL_NONE when they did not appeal."""
    sanctioned = s.court_since[i] > 0
    erroneous = s.court_cause[i] != TRUE and s.court_cause[i] != NOT_APPLIED
    for m in range(N_MEASURES):
        if s.cause[m, i] != NOT_APPLIED:
            sanctioned = True
            erroneous |= s.cause[m, i] != TRUE
    if not (sanctioned and unit_jit(keys[APPEAL], i) < p.appeal_probability):
        return APPEAL_NONE
    if not (erroneous and unit_jit(keys[GRANTED], i) < p.appeal_success):
        return APPEAL_REFUSED
    if s.court_cause[i] != TRUE:
        s.court_since[i] = 0
        s.court_cause[i] = NOT_APPLIED
    for m in range(N_MEASURES):
        if s.cause[m, i] != TRUE:
            s.cause[m, i] = NOT_APPLIED
            s.until[m, i] = 0
    return APPEAL_GRANTED


@numba.njit(cache=True, inline="always")
def household(p, rules, keys, behaviour_keys, people, sc, s, lo, hi, t, event_cause, individual, kept, deterred, held,
              appealed, owners, owner_until, at):
    """Stages 1-7 for the household of people lo..hi-1; returns the next index into owners.

    event_cause[j, kind]: cause of person lo + j's observed events (NOT_APPLIED: none);
    individual[j]: their individual score; kept[j], deterred[j]: their share of income kept and the
    bans that deter their travel (behaviour.travel_means);
    held: scratch of one measure bitmask per member; appealed: scratch of each member's appeal
    outcome (APPEAL_NONE, APPEAL_REFUSED or APPEAL_GRANTED), for the trace; owners / owner_until: barred firm owners,
    sorted, read from index at.
    """
    member = sc.member
    score = sc.score
    size = hi - lo
    if p.court_enabled:
        for j in range(size):
            _court_list(p, keys, sc, s, lo + j, t, event_cause[j, _JUDGMENT])
    held[:size] = 0
    appealed[:size] = APPEAL_NONE

    candidates = 0
    for j in range(size):
        if _may_hold(p, sc, s, lo + j, event_cause[j]):
            candidates |= 1 << j
    for r in range(rules.measure.shape[0] if candidates else 0):
        m = rules.measure[r]
        until = t + rules.min_steps[r]
        hit_mask = 0
        for j in range(size):
            if not (candidates >> j) & 1:
                continue
            i = lo + j
            holds, cause = _condition(p, rules, sc, s, r, i, event_cause[j], individual[j])
            if holds and member[i]:
                _apply(s, m, i, cause, until)
                held[j] |= 1 << m
                hit_mask |= 1 << j
        if rules.relatives[r] and hit_mask:
            for j in range(size):
                if not (hit_mask >> j) & 1:
                    _apply(s, m, lo + j, ASSOCIATION, until)
                    held[j] |= 1 << m

    for j in range(size):
        i = lo + j
        while at < owners.shape[0] and owners[at] < i:
            at += 1
        while at < owners.shape[0] and owners[at] == i:
            _apply(s, _JOB_BAN, i, TRUE, owner_until[at])
            held[j] |= 1 << _JOB_BAN
            at += 1

    for j in range(size):
        i = lo + j
        was_listed = (s.lists[i] & (COURT_LIST | BLACKLIST)) != 0
        applied = _applied(s, i)
        lists = np.uint8(0)
        if applied or s.court_since[i] > 0:
            for m in range(N_MEASURES):
                if not (applied >> m) & 1 or s.until[m, i] > t or (held[j] >> m) & 1:
                    continue
                if math.isnan(p.exit_bar[m]) or score[i] >= p.exit_bar[m]:
                    s.cause[m, i] = NOT_APPLIED
                    s.until[m, i] = 0
            appealed[j] = _appeal(p, keys, s, i)
            if appealed[j] == APPEAL_GRANTED:
                lists |= CLEARED
            applied = _applied(s, i)
            if s.court_since[i] > 0:
                lists |= COURT_LIST
            if (applied >> _BLACKLIST) & 1:
                lists |= BLACKLIST
        listed = (lists & (COURT_LIST | BLACKLIST)) != 0
        if listed and not was_listed:
            lists |= LIST_ENTRY
        if was_listed and not listed:
            lists |= LIST_EXIT
        s.lists[i] = lists

        flight_banned = (applied >> _FLIGHT_BAN) & 1 or (applied >> _ID_BLOCK) & 1
        rail_banned = (applied >> _RAIL_BAN) & 1
        s.flight_denials[i] = 0
        s.rail_denials[i] = 0
        if flight_banned or rail_banned:
            flight, rail = behaviour.travel_means(p, people, i, kept[j], deterred[j])
            if flight_banned:
                s.flight_denials[i] = behaviour.attempts(behaviour_keys, behaviour.FLIGHT, i, flight)
            if rail_banned:
                s.rail_denials[i] = behaviour.attempts(behaviour_keys, behaviour.RAIL, i, rail)

        rewards = np.uint8(0)
        flags = np.uint8(0)
        if member[i]:
            flags |= MEMBER_FLAG
            if score[i] < p.association_threshold:
                flags |= LOW_FLAG
            for reward in range(p.reward_bar.shape[0]):
                if score[i] >= p.reward_bar[reward]:
                    rewards |= np.uint8(1 << reward)
        if listed or applied:
            flags |= SANCTIONED_FLAG
        s.rewards[i] = rewards
        s.shown[i] = shown_jit(score[i], flags)
    return at
