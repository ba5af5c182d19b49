"""The arrays of one simulation, grouped by the stage that writes them.

Use this module to see what a stage may touch: each stage writes only the group named after it and
reads the rest. People are arrays indexed by person (the order of the Society); edges are indexed
like the Society's CSR ``indices``. Only what must outlive a step is kept per person: a step's
events and observations are drawn, scored and counted inside one pass and never stored, which is
what keeps a national run in memory. Groups are NamedTuples so that the Numba passes take them
whole.

Event, measure and cause codes live here because several stages index by them.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from .scenario.schema import EVENT_KINDS, MEASURES, REWARDS

N_EVENT_KINDS = len(EVENT_KINDS)
EVENT = {name: i for i, name in enumerate(EVENT_KINDS)}
# Which score dimension each event kind feeds.
EVENT_DIMENSION = {
    "missed_payment": "financial",
    "loan_default": "financial",
    "minor_violation": "legal",
    "judgment_default": "legal",
    "crime": "legal",
    "critical_post": "political",
    "alcohol_purchase": "consumption",
    "gaming_hours": "consumption",
    "approved_purchase": "consumption",
    "volunteering": "civic",
    "blood_donation": "civic",
}
# Acts seen by cameras: each sighting is a face search that can return a false match.
OFFLINE_KINDS = ("minor_violation", "crime")
MEASURE = {name: i for i, name in enumerate(MEASURES)}
REWARD = {name: i for i, name in enumerate(REWARDS)}
N_MEASURES = len(MEASURES)

# Why a measure or list entry was imposed: the audit's causes, in attribution order.
CAUSES = ("true", "false_match", "linkage_error", "association")
CAUSE = {name: i for i, name in enumerate(CAUSES)}
NOT_APPLIED = np.uint8(255)

# Outcomes of a person's appeal in one step (the sanctions stage reports them to the trace).
APPEAL_NONE, APPEAL_REFUSED, APPEAL_GRANTED = range(3)

# Bits of SanctionsState.lists: the lists one is on, and what changed this step.
COURT_LIST = np.uint8(1)
BLACKLIST = np.uint8(2)
LIST_ENTRY = np.uint8(4)  # entered a list this step, from being on none
LIST_EXIT = np.uint8(8)  # left the last list this step
CLEARED = np.uint8(16)  # an appeal against an erroneous entry succeeded this step

# SanctionsState.shown: what a person's contacts see of them in the responses stage, in one 32-bit
# word so that the network pass reads one array per tie: three flags in bits 0-2 and, above them,
# the published score in steps of 1/SHOWN_SCALE point (950 x 8192 < 2**23, so 26 bits in all).
MEMBER_FLAG = np.uint8(1)
LOW_FLAG = np.uint8(2)  # a member under the association threshold
SANCTIONED_FLAG = np.uint8(4)  # under any measure or on any list
SHOWN_FLAGS = 7
SHOWN_SHIFT = 3
SHOWN_SCALE = 8192.0


def shown(score, flags):
    """The word contacts see for a score and its flags; works on arrays and, jitted, inside the passes."""
    return (np.uint32(np.rint(score * SHOWN_SCALE)) << np.uint32(SHOWN_SHIFT)) | np.uint32(flags)


shown_jit = numba.njit(cache=True, inline="always")(shown)


@numba.njit(cache=True, inline="always")
def shown_score(word):
    """The score a contact sees in a shown word (a multiple of 1/SHOWN_SCALE)."""
    return (np.int64(word) >> SHOWN_SHIFT) / SHOWN_SCALE


class BehaviourState(NamedTuple):
    """Slow-moving personal circumstances (a step's events are drawn and used, never stored)."""

    shock_until: np.ndarray  # step type [person]: step an income shock ends (0: none)


class SurveillanceState(NamedTuple):
    """This step's totals that link people: face searches per cell and misfiled events per kind."""

    searches: np.ndarray  # int64 [cell, offline kind]: sightings searched against the cell's gallery
    misfiled: np.ndarray  # int64 [kind]: observed events filed under someone else


class ScoringState(NamedTuple):
    """The record, the points owed to errors, the score, and what contacts add to it."""

    raw: np.ndarray  # float32 [person]: weighted, decayed points of one's own record
    error_points: np.ndarray  # float32 [cause 1..2 -> 0..1, person]: part of raw owed to errors
    score: np.ndarray  # float32 [person]: the published score, 350..950
    social: np.ndarray  # float32 [person]: contacts' pull minus penalties, NaN without member contacts
    member: np.ndarray  # bool [person]: scored by the system


class SanctionsState(NamedTuple):
    """Measures, lists and rewards in force, with their timing and causes."""

    until: np.ndarray  # step type [measure, person]: earliest step a measure may lift (0: not applied)
    cause: np.ndarray  # uint8 [measure, person]: CAUSE code, NOT_APPLIED when off
    lists: np.ndarray  # uint8 [person]: COURT_LIST | BLACKLIST, and this step's LIST_ENTRY, LIST_EXIT, CLEARED
    court_since: np.ndarray  # step type [person]: step of court-list entry + 1 (0: not listed)
    court_cause: np.ndarray  # uint8 [person]
    rewards: np.ndarray  # uint8 [person]: bit per reward
    shown: np.ndarray  # uint32 [person]: what contacts see after this step, score and flags (shown())
    flight_denials: np.ndarray  # uint8 [person]: this step
    rail_denials: np.ndarray  # uint8 [person]: this step
    firm_listed_until: np.ndarray  # int32 [firm]: -1 when not listed

    def sanctioned(self) -> np.ndarray:
        """People under any measure or on any list."""
        return (self.shown & SANCTIONED_FLAG) != 0


class ResponsesState(NamedTuple):
    """How people adapt: fear of speaking, and the ties they still keep."""

    perceived_risk: np.ndarray  # float32 [person], 0..1
    edge_active: np.ndarray  # uint8 [(edge + 7) // 8]: bit e % 8 of byte e // 8 set while tie e is kept

    def active_ties(self, n_edges: int) -> np.ndarray:
        """bool [edge]: the ties still kept."""
        return np.unpackbits(self.edge_active, count=n_edges, bitorder="little").astype(bool)


class State(NamedTuple):
    behaviour: BehaviourState
    surveillance: SurveillanceState
    scoring: ScoringState
    sanctions: SanctionsState
    responses: ResponsesState

    @classmethod
    def initial(cls, n: int, n_edges: int, n_firms: int, n_cells: int, steps: np.dtype) -> "State":
        """Everyone unsanctioned and every tie kept; steps is the dtype of step numbers (step_dtype)."""
        return cls(
            behaviour=BehaviourState(shock_until=np.zeros(n, steps)),
            surveillance=SurveillanceState(
                searches=np.zeros((n_cells, len(OFFLINE_KINDS)), np.int64),
                misfiled=np.zeros(N_EVENT_KINDS, np.int64),
            ),
            scoring=ScoringState(
                raw=np.zeros(n, np.float32),
                error_points=np.zeros((2, n), np.float32),
                score=np.zeros(n, np.float32),
                social=np.full(n, np.nan, np.float32),
                member=np.zeros(n, bool),
            ),
            sanctions=SanctionsState(
                until=np.zeros((N_MEASURES, n), steps),
                cause=np.full((N_MEASURES, n), NOT_APPLIED, np.uint8),
                lists=np.zeros(n, np.uint8),
                court_since=np.zeros(n, steps),
                court_cause=np.full(n, NOT_APPLIED, np.uint8),
                rewards=np.zeros(n, np.uint8),
                shown=np.zeros(n, np.uint32),
                flight_denials=np.zeros(n, np.uint8),
                rail_denials=np.zeros(n, np.uint8),
                firm_listed_until=np.full(n_firms, -1, np.int32),
            ),
            responses=ResponsesState(
                perceived_risk=np.zeros(n, np.float32),
                edge_active=np.packbits(np.ones(n_edges, bool), bitorder="little"),
            ),
        )

    @property
    def nbytes(self) -> int:
        """Bytes held by the state's arrays."""
        return sum(array.nbytes for group in self for array in group)

    @staticmethod
    def bytes_per_person(mean_degree: float) -> float:
        """State bytes per person, for the memory estimate made before anything is allocated
        (step numbers counted at 4 bytes, the most they take)."""
        per_person = (
            4  # behaviour
            + 4 + 2 * 4 + 4 + 4 + 1  # scoring
            + N_MEASURES * (4 + 1) + 1 + 4 + 1 + 1 + 1 + 1 + 1  # sanctions
            + 4  # responses (per person)
        )
        return per_person + mean_degree / 8  # edge_active


def step_dtype(last_step: int) -> np.dtype:
    """The dtype of stored step numbers: 2 bytes while every step a run can record fits."""
    return np.dtype(np.uint16) if last_step < np.iinfo(np.uint16).max else np.dtype(np.int32)
