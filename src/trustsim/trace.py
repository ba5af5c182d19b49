"""Case files: chosen synthetic people followed through a run, event by event.

Use this module through ``engine.simulate`` (``run.trace`` in the scenario, ``--trace N`` on the
command line). It owns:

- the trace's event and cause names (``EVENTS``, ``TRACE_CAUSES``), documented in docs/model.md;
- ``TraceBuffer``, the per-step event buffer the Numba passes write for traced people only: row
  ``slot`` of each array belongs to one traced person, so threads never share a row and no atomic
  is needed; ``OFF`` is the buffer of an untraced run, which every pass skips with one branch;
- ``Tracer``, which drains the buffer after each step and adds what the state itself shows (list
  entries and exits, measures applied and lifted, denied tickets, rewards, expressed dissent);
- ``Outcomes`` and ``choose``: whom to follow. Half are drawn uniformly with a counter-based rule;
  half are chosen for what happened to them in a first, untraced pass (wrongful sanctions by
  cause, the most dissenting tenth, the blacklisted, the rewarded). The engine then runs the same
  seed again, which reproduces the run exactly, recording only the chosen people.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numba
import numpy as np
import pandas as pd

from . import rng
from .scenario.schema import EVENT_KINDS, MEASURES, OCCUPATIONS, REWARDS
from .society.codes import dissent_value
from .society.network import LAYERS
from .state import (
    APPEAL_GRANTED as GRANTED_OUTCOME, APPEAL_REFUSED as REFUSED_OUTCOME, BLACKLIST, CAUSES, COURT_LIST, MEASURE,
    NOT_APPLIED, SANCTIONED_FLAG, State,
)

LISTS = ("court_list", "blacklist")
TICKETS = ("flight", "rail")

# Event names in the order a step's events are told: what was seen, the score, what the system
# did, what the person did, and how their circle and their speech changed.
EVENTS: tuple[str, ...] = (
    *(f"observed.{kind}" for kind in EVENT_KINDS),
    "score.individual", "score.contacts", "score.published",
    *(f"list_entry.{name}" for name in LISTS),
    *(f"measure_applied.{m}" for m in MEASURES),
    *(f"measure_recaused.{m}" for m in MEASURES),
    "appeal.granted", "appeal.refused",
    *(f"measure_lifted.{m}" for m in MEASURES),
    *(f"list_exit.{name}" for name in LISTS),
    *(f"ticket_denied.{name}" for name in TICKETS),
    *(f"reward_gained.{r}" for r in REWARDS),
    *(f"reward_lost.{r}" for r in REWARDS),
    "joined",
    *(f"tie_dropped.{layer}" for layer in LAYERS),
    "contacts.low",
    "dissent.latent", "dissent.expressed",
    "trace.overflow",
)
CODE = {name: i for i, name in enumerate(EVENTS)}
OBSERVED = CODE[f"observed.{EVENT_KINDS[0]}"]
SCORE_INDIVIDUAL, SCORE_CONTACTS, SCORE_PUBLISHED = (CODE[f"score.{k}"] for k in ("individual", "contacts", "published"))
LIST_ENTRY, LIST_EXIT = CODE["list_entry.court_list"], CODE["list_exit.court_list"]
APPLIED, RECAUSED, LIFTED = (CODE[f"measure_{k}.{MEASURES[0]}"] for k in ("applied", "recaused", "lifted"))
APPEAL_GRANTED, APPEAL_REFUSED = CODE["appeal.granted"], CODE["appeal.refused"]
DENIED = CODE["ticket_denied.flight"]
GAINED, LOST = CODE[f"reward_gained.{REWARDS[0]}"], CODE[f"reward_lost.{REWARDS[0]}"]
JOINED = CODE["joined"]
TIE_DROPPED = CODE[f"tie_dropped.{LAYERS[0]}"]
CONTACTS_LOW = CODE["contacts.low"]
LATENT, EXPRESSED, OVERFLOW = CODE["dissent.latent"], CODE["dissent.expressed"], CODE["trace.overflow"]

# The cause column: the audit's causes, then who dropped a tie.
TRACE_CAUSES: tuple[str, ...] = (*CAUSES, "by_them", "by_contact", "by_both")
BY_THEM = len(CAUSES)
NO_CAUSE = NOT_APPLIED

# Rows one traced person may write in one step; the rest are counted in a trace.overflow event.
ROWS_PER_STEP = 128


class TraceBuffer(NamedTuple):
    """One step's events of the traced people, written by the Numba passes."""

    on: bool  # False in an untraced run: the passes test this before anything else
    slot: np.ndarray  # int32 [person]: row of a traced person, -1 for everyone else
    count: np.ndarray  # int32 [slot]: rows written this step (may exceed the capacity)
    code: np.ndarray  # uint16 [slot, row]: index into EVENTS
    cause: np.ndarray  # uint8 [slot, row]: index into TRACE_CAUSES, NO_CAUSE when none
    value: np.ndarray  # float64 [slot, row]


def _buffer(on: bool, slot: np.ndarray, slots: int, rows: int) -> TraceBuffer:
    return TraceBuffer(on, slot, np.zeros(slots, np.int32), np.zeros((slots, rows), np.uint16),
                       np.zeros((slots, rows), np.uint8), np.zeros((slots, rows), np.float64))


OFF = _buffer(False, np.full(1, -1, np.int32), 1, 1)


@numba.njit(cache=True, inline="always")
def add(buf, slot, code, cause, value):
    """Append one event to a traced person's rows (counted, not written, past the capacity)."""
    k = buf.count[slot]
    if k < buf.code.shape[1]:
        buf.code[slot, k] = code
        buf.cause[slot, k] = cause
        buf.value[slot, k] = value
    buf.count[slot] = k + 1


@numba.njit(cache=True, inline="always")
def person_step(buf, slot, right, false_match, linkage, individual, social, published):
    """A traced person's observed events by kind and cause, and the three parts of their score."""
    for k in range(right.shape[0]):
        if right[k]:
            add(buf, slot, OBSERVED + k, 0, right[k])
        if false_match[k]:
            add(buf, slot, OBSERVED + k, 1, false_match[k])
        if linkage[k]:
            add(buf, slot, OBSERVED + k, 2, linkage[k])
    add(buf, slot, SCORE_INDIVIDUAL, NO_CAUSE, individual)
    if not np.isnan(social):
        add(buf, slot, SCORE_CONTACTS, NO_CAUSE, social)
    add(buf, slot, SCORE_PUBLISHED, NO_CAUSE, published)


@numba.njit(cache=True, inline="always")
def appeal(buf, slot, outcome):
    """A traced person's appeal this step, from the sanctions stage's outcome code."""
    if outcome == GRANTED_OUTCOME:
        add(buf, slot, APPEAL_GRANTED, NO_CAUSE, 1.0)
    elif outcome == REFUSED_OUTCOME:
        add(buf, slot, APPEAL_REFUSED, NO_CAUSE, 1.0)


class Outcomes:
    """What happened to everyone in the first pass, as bits per person, for choosing whom to follow."""

    BITS = ("false_match", "linkage_error", "association", "blacklist")

    def __init__(self, n: int):
        self.ever = np.zeros(n, np.uint8)

    def update(self, state: State) -> None:
        """Mark the people wrongly sanctioned this step (by their first erroneous cause, as the audit
        counts them) and those on the blacklist; only sanctioned people are looked at."""
        s = state.sanctions
        who = np.flatnonzero(s.shown & SANCTIONED_FLAG)
        if who.size == 0:
            return
        causes = np.vstack([s.cause[:, who], s.court_cause[who][None, :]])
        has_true = (causes == 0).any(axis=0)
        first_error = np.where(causes == 0, NOT_APPLIED, causes).min(axis=0)
        wrong = ~has_true & (first_error != NOT_APPLIED)
        self.ever[who[wrong]] |= (np.uint8(1) << (first_error[wrong] - 1)).astype(np.uint8)
        self.ever[who[(s.lists[who] & BLACKLIST) != 0]] |= np.uint8(1 << 3)

    def pools(self, decile: np.ndarray, rewards: np.ndarray) -> dict[str, np.ndarray]:
        """The people of each outcome, in the order stories are told."""
        pools = {name: np.flatnonzero(self.ever & (1 << b)) for b, name in enumerate(self.BITS)}
        pools["dissident"] = np.flatnonzero(decile == decile.max()) if decile.size else np.zeros(0, np.int64)
        pools["rewarded"] = np.flatnonzero(rewards)
        return pools


def choose(seed: int, n: int, count: int, pools: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """Whom to follow: count - count // 2 drawn uniformly, count // 2 from the pools in turn (each by
    the same seeded draw); a share no pool can fill goes to the uniform half. Returns the people,
    sorted, and why each was chosen."""
    count = min(count, n)
    u = rng.uniform(seed, "trace.choose", 0, n)
    reason: dict[int, str] = {}
    queues = {name: iter(pool[np.argsort(u[pool], kind="stable")].tolist()) for name, pool in pools.items()}
    wanted = count // 2
    while len(reason) < wanted and queues:
        for name in list(queues):
            person = next((p for p in queues[name] if p not in reason), None)
            if person is None:
                del queues[name]
            elif len(reason) < wanted:
                reason[person] = name
    for person in np.argsort(u, kind="stable").tolist():
        if len(reason) >= count:
            break
        reason.setdefault(person, "random")
    people = np.array(sorted(reason), dtype=np.int64)
    return people, [reason[p] for p in people.tolist()]


class Tracer:
    """The traced people of one run: their buffer, the state they had last step, and their events."""

    def __init__(self, n: int, people: np.ndarray, reasons: list[str]):
        self.people = np.asarray(people, dtype=np.int64)
        self.reasons = reasons
        slot = np.full(n, -1, np.int32)
        slot[self.people] = np.arange(self.people.size, dtype=np.int32)
        self.buffer = _buffer(True, slot, max(self.people.size, 1), ROWS_PER_STEP)
        self._parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def start(self, ctx, state: State) -> None:
        """Remember the starting state of the traced people, and their latent dissent."""
        self._last = self._view(state)
        slots = np.arange(self.people.size)
        self._pending = [(slots, np.full(slots.size, LATENT), np.full(slots.size, NO_CAUSE),
                          dissent_value(ctx.people.dissent[self.people]))]

    def _view(self, state: State) -> dict[str, np.ndarray]:
        """What the state shows of the traced people now (indexing by person copies it)."""
        s, idx = state.sanctions, self.people
        return {
            "lists": s.lists[idx] & (COURT_LIST | BLACKLIST), "court_cause": s.court_cause[idx],
            "cause": s.cause[:, idx], "rewards": s.rewards[idx], "member": state.scoring.member[idx],
        }

    def drain(self, ctx, state: State, t: int) -> None:
        """Take step t's events out of the buffer and add what the state shows changed."""
        buf, slots = self.buffer, np.arange(self.people.size)
        parts = self._pending
        self._pending = []
        written = np.minimum(buf.count[: slots.size], buf.code.shape[1])
        mask = np.arange(buf.code.shape[1])[None, :] < written[:, None]
        parts.append((np.broadcast_to(slots[:, None], mask.shape)[mask], buf.code[: slots.size][mask],
                      buf.cause[: slots.size][mask], buf.value[: slots.size][mask]))
        lost = buf.count[: slots.size] - written
        parts.append(_rows(slots, lost > 0, OVERFLOW, NO_CAUSE, lost))
        buf.count[:] = 0

        now, last = self._view(state), self._last
        list_cause = (np.stack([now["court_cause"], now["cause"][MEASURE["blacklist"]]]),
                      np.stack([last["court_cause"], last["cause"][MEASURE["blacklist"]]]))
        for li, bit in enumerate((COURT_LIST, BLACKLIST)):
            on, was = (now["lists"] & bit) != 0, (last["lists"] & bit) != 0
            parts.append(_rows(slots, on & ~was, LIST_ENTRY + li, list_cause[0][li], 1.0))
            parts.append(_rows(slots, was & ~on, LIST_EXIT + li, list_cause[1][li], 1.0))
        cause, before = now["cause"], last["cause"]
        for m in range(cause.shape[0]):
            c, b = cause[m], before[m]
            parts.append(_rows(slots, (b == NOT_APPLIED) & (c != NOT_APPLIED), APPLIED + m, c, 1.0))
            parts.append(_rows(slots, (b != NOT_APPLIED) & (c != NOT_APPLIED) & (b != c), RECAUSED + m, c, 1.0))
            parts.append(_rows(slots, (b != NOT_APPLIED) & (c == NOT_APPLIED), LIFTED + m, b, 1.0))
        s = state.sanctions
        for k, denials in enumerate((s.flight_denials[self.people], s.rail_denials[self.people])):
            parts.append(_rows(slots, denials > 0, DENIED + k, NO_CAUSE, denials))
        for r in range(len(REWARDS)):
            has, had = (now["rewards"] >> r) & 1, (last["rewards"] >> r) & 1
            parts.append(_rows(slots, (has == 1) & (had == 0), GAINED + r, NO_CAUSE, 1.0))
            parts.append(_rows(slots, (has == 0) & (had == 1), LOST + r, NO_CAUSE, 1.0))
        parts.append(_rows(slots, now["member"] & ~last["member"], JOINED, NO_CAUSE, 1.0))
        risk = state.responses.perceived_risk[self.people].astype(np.float64)
        expressed = dissent_value(ctx.people.dissent[self.people]) * (1.0 - ctx.params.chilling_strength * risk)
        parts.append((slots, np.full(slots.size, EXPRESSED), np.full(slots.size, NO_CAUSE), expressed))
        self._last = now
        slot, code, why, value = (np.concatenate([np.asarray(p[i]) for p in parts]) for i in range(4))
        self._parts.append((t, slot.astype(np.int64), code.astype(np.int64), why.astype(np.int64),
                            value.astype(np.float64)))

    def frame(self, start: dt.date, step_days: int) -> pd.DataFrame:
        """trace(person, step, date, event, cause, value): one row per event, in the order told."""
        steps = [np.full(p[1].size, p[0], np.int64) for p in self._parts]
        slot, code, why, value = (np.concatenate([p[i] for p in self._parts]) if self._parts else np.zeros(0, np.int64)
                                  for i in range(1, 5))
        step = np.concatenate(steps) if steps else np.zeros(0, np.int64)
        order = np.lexsort((code, step, self.people[slot] if slot.size else slot))
        slot, code, why, value, step = slot[order], code[order], why[order], value[order], step[order]
        names = np.array(EVENTS, dtype=object)
        causes = np.array([*TRACE_CAUSES, *([None] * (256 - len(TRACE_CAUSES)))], dtype=object)
        return pd.DataFrame({
            "person": self.people[slot],
            "step": step,
            "date": pd.to_datetime(start) + pd.to_timedelta(step * step_days, unit="D"),
            "event": names[code],
            "cause": causes[why],
            "value": value.astype(np.float64),
        })

    def people_frame(self, ctx) -> pd.DataFrame:
        """traced_people(person, chosen_for, region, urban, age, female, occupation, minority,
        dissent_decile): who each traced person is."""
        people, idx = ctx.society.people, self.people
        return pd.DataFrame({
            "person": idx,
            "chosen_for": self.reasons,
            "region": np.asarray(ctx.society.region_names, dtype=object)[people["region"][idx]],
            "urban": people["urban"][idx].astype(bool),
            "age": people["age"][idx].astype(np.int64),
            "female": people["female"][idx].astype(bool),
            "occupation": np.asarray(OCCUPATIONS, dtype=object)[people["occupation"][idx]],
            "minority": people["minority"][idx].astype(bool),
            "dissent_decile": ctx.people.decile[idx].astype(np.int64) + 1,
        })


def _rows(slots: np.ndarray, where: np.ndarray, code: int, cause, value):
    """The rows (slot, code, cause, value) of the traced people where `where` holds."""
    cause = np.broadcast_to(cause, slots.shape)[where]
    value = np.broadcast_to(value, slots.shape)[where]
    return slots[where], np.full(cause.size, code), cause, value
