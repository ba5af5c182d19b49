"""Stage 5, sanctions and rewards: the lists, the rules, appeals, denied tickets and rewards.

Writes only ``state.sanctions``. Per step, in this order:

1. Court list of dishonest judgment debtors: a member with an observed unfulfilled judgment is
   listed; a listed debtor leaves by paying (fulfil rate) or when the fixed term ends.
2. Rules, in scenario order: where a rule's condition holds for a member, its measure applies for
   at least min_weeks (extended while the condition keeps holding); with ``relatives`` the
   person's household gets it too. Each application records its cause: true, or the first of
   false_match, linkage_error, association without which the condition would not have held.
3. Firms with observed corruption are listed for the blacklist term and their owners barred from
   management (a job ban) while the firm is listed.
4. A measure lifts once its minimum duration is over, no rule holds any more, and the score is
   back above the rule's exit bar if it has one.
5. Appeals: a sanctioned or listed person appeals at the appeal rate; an appeal against an
   erroneous entry succeeds with the success rate and lifts every erroneously caused entry and measure (the
   scoring stage then strikes the error points off the record).
6. Denied tickets: every flight attempt under a flight ban or ID block, and every rail attempt
   under a rail ban, is denied and counted.
7. Rewards: members at or above a reward's bar get it this step.
"""

from __future__ import annotations

import numpy as np

from .. import rng
from ..context import Context
from ..scenario.schema import Condition
from ..state import (
    BLACKLIST, CAUSE, COURT_LIST, EVENT, MEASURE, N_MEASURES, NOT_APPLIED, REWARD, State,
)
from .scoring import counterfactual_scores

TRUE = np.uint8(CAUSE["true"])
FALSE_MATCH = np.uint8(CAUSE["false_match"])
LINKAGE = np.uint8(CAUSE["linkage_error"])
ASSOCIATION = np.uint8(CAUSE["association"])


def _steps(ctx: Context, weeks: float) -> int:
    return max(1, round(weeks / ctx.weeks_per_step))


def _event_cause(observed: np.ndarray) -> np.ndarray:
    """Cause of an observed event given its [cause, person] counts: true wins over errors."""
    return np.where(observed[0] > 0, TRUE, np.where(observed[1] > 0, FALSE_MATCH, LINKAGE)).astype(np.uint8)


class _Evaluator:
    """Evaluates rule conditions for this step, with the cause of each holding."""

    def __init__(self, ctx: Context, state: State):
        self.ctx = ctx
        self.state = state
        self._counterfactual = None

    def score_below(self, bar: float) -> tuple[np.ndarray, np.ndarray]:
        if self._counterfactual is None:
            self._counterfactual = counterfactual_scores(self.ctx, self.state)
        without_false_match, true_with_association, true_alone = self._counterfactual
        cause = np.where(
            true_alone < bar, TRUE,
            np.where(without_false_match >= bar, FALSE_MATCH,
                     np.where(true_with_association >= bar, LINKAGE, ASSOCIATION)),
        ).astype(np.uint8)
        return self.state.scoring.score < bar, cause

    def on_list(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        s = self.state.sanctions
        if name == "court_list":
            return s.court_since >= 0, s.court_cause
        blacklist = s.cause[MEASURE["blacklist"]]
        return blacklist != NOT_APPLIED, blacklist

    def event(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        observed = self.state.surveillance.observed[:, EVENT[kind]]
        return observed.any(axis=0), _event_cause(observed)

    def __call__(self, condition: Condition) -> tuple[np.ndarray, np.ndarray]:
        parts = []
        if condition.score_below is not None:
            parts.append(self.score_below(condition.score_below))
        if condition.on_list is not None:
            parts.append(self.on_list(condition.on_list))
        if condition.event is not None:
            parts.append(self.event(condition.event))
        holds = np.logical_and.reduce([h for h, _ in parts])
        # All parts true: a true cause. Otherwise the first erroneous cause in attribution order.
        erroneous = np.stack([np.where(c == TRUE, NOT_APPLIED, c) for _, c in parts]).min(axis=0)
        return holds, np.where(erroneous == NOT_APPLIED, TRUE, erroneous).astype(np.uint8)


def _apply(state: State, measure: int, who: np.ndarray, cause: np.ndarray, until: int | np.ndarray) -> None:
    s = state.sanctions
    # Few people are hit in a step: work on their indices, not on whole arrays.
    idx = np.flatnonzero(who)
    until_idx = until[idx] if isinstance(until, np.ndarray) else until
    s.until[measure, idx] = np.maximum(s.until[measure, idx], until_idx)
    # A measure that holds again for a truer reason is re-attributed to it.
    s.cause[measure, idx] = np.minimum(s.cause[measure, idx], cause[idx])


def step(ctx: Context, state: State, t: int) -> None:
    sc = ctx.scenario.sanctions
    s = state.sanctions
    member = state.scoring.member
    n = ctx.society.n
    was_listed = s.lists != 0

    _court_list(ctx, state, t)

    evaluate = _Evaluator(ctx, state)
    holds_any = np.zeros((N_MEASURES, n), bool)
    exit_bar = np.full(N_MEASURES, np.nan)
    household = ctx.society.people["household"]
    for rule in sc.rules:
        m = MEASURE[rule.measure]
        holds, cause = evaluate(rule.when)
        holds &= member
        _apply(state, m, holds, cause, t + _steps(ctx, rule.min_weeks))
        holds_any[m] |= holds
        if rule.relatives:
            hit = np.zeros(int(household.max()) + 1, bool)
            hit[household[holds]] = True
            relatives = hit[household] & ~holds
            _apply(state, m, relatives, np.full(n, ASSOCIATION), t + _steps(ctx, rule.min_weeks))
            holds_any[m] |= relatives
        if rule.exit_score_above is not None:
            exit_bar[m] = np.fmax(exit_bar[m], rule.exit_score_above)

    if sc.firm_listing:
        newly = state.surveillance.firm_observed > 0
        s.firm_listed_until[newly] = t + _steps(ctx, sc.blacklist_term_weeks)
        listed_firms = s.firm_listed_until > t
        owners = ctx.society.firms["owner"][listed_firms]
        barred = np.zeros(n, bool)
        barred[owners] = True
        until = np.zeros(n, np.int32)
        until[owners] = s.firm_listed_until[listed_firms]
        _apply(state, MEASURE["job_ban"], barred, np.full(n, TRUE), until)
        holds_any[MEASURE["job_ban"]] |= barred
    s.firm_listed_until[s.firm_listed_until <= t] = -1

    score = state.scoring.score
    for m in range(N_MEASURES):
        lift = (s.cause[m] != NOT_APPLIED) & (s.until[m] <= t) & ~holds_any[m]
        if not np.isnan(exit_bar[m]):
            lift &= score >= exit_bar[m]
        s.cause[m, lift] = NOT_APPLIED
        s.until[m, lift] = -1

    _appeals(ctx, state, t)

    s.lists[:] = np.where(s.court_since >= 0, COURT_LIST, 0) | np.where(
        s.cause[MEASURE["blacklist"]] != NOT_APPLIED, BLACKLIST, 0
    )
    listed = s.lists != 0
    s.list_entries[:] = listed & ~was_listed
    s.list_exits[:] = was_listed & ~listed

    under = s.cause != NOT_APPLIED
    flight_banned = under[MEASURE["flight_ban"]] | under[MEASURE["id_block"]]
    s.flight_denials[:] = np.where(flight_banned, state.behaviour.flight_attempts, 0)
    s.rail_denials[:] = np.where(under[MEASURE["rail_ban"]], state.behaviour.rail_attempts, 0)

    s.rewards[:] = 0
    for rule in ctx.scenario.rewards.rules:
        earned = member & (score >= rule.score_at_least)
        s.rewards[earned] |= np.uint8(1 << REWARD[rule.reward])


def _court_list(ctx: Context, state: State, t: int) -> None:
    court = ctx.scenario.sanctions.court_list
    s = state.sanctions
    if not court.enabled:
        return
    listed_before = s.court_since >= 0
    fulfilled = rng.bernoulli(ctx.seed, "sanctions.fulfil", t, np.full(ctx.society.n, court.fulfil_rate * ctx.weeks_per_step))
    expired = listed_before & (t - s.court_since >= _steps(ctx, court.term_weeks))
    leave = listed_before & (fulfilled | expired)
    s.court_since[leave] = -1
    s.court_cause[leave] = NOT_APPLIED

    observed = state.surveillance.observed[:, EVENT["judgment_default"]]
    new = state.scoring.member & observed.any(axis=0) & (s.court_since < 0)
    s.court_since[new] = t
    s.court_cause[new] = _event_cause(observed)[new]


def _appeals(ctx: Context, state: State, t: int) -> None:
    appeals = ctx.scenario.sanctions.appeals
    s = state.sanctions
    n = ctx.society.n
    erroneous = (s.court_cause != TRUE) & (s.court_cause != NOT_APPLIED)
    erroneous |= ((s.cause != TRUE) & (s.cause != NOT_APPLIED)).any(axis=0)
    appealing = s.sanctioned() & rng.bernoulli(ctx.seed, "sanctions.appeal", t, np.full(n, appeals.rate * ctx.weeks_per_step))
    granted = appealing & erroneous & rng.bernoulli(ctx.seed, "sanctions.appeal_granted", t, np.full(n, appeals.success_rate))
    s.cleared[:] = granted
    if not granted.any():
        return
    court_wrong = granted & (s.court_cause != TRUE)
    s.court_since[court_wrong] = -1
    s.court_cause[court_wrong] = NOT_APPLIED
    wrong = granted[None, :] & (s.cause != TRUE)
    s.cause[wrong] = NOT_APPLIED
    s.until[wrong] = -1
