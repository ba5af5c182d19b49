"""The arrays of one simulation, grouped by the stage that writes them.

Use this module to see what a stage may touch: each stage module writes only the group named after
it and reads the rest. People are arrays indexed by person (the order of the Society); edges are
indexed like the Society's CSR ``indices``. Dtypes are compact on purpose: state is most of the
memory at national scale.

Event and measure codes live here because several stages index by them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .scenario.schema import DIMENSIONS, EVENT_KINDS, MEASURES, REWARDS

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
DIMENSION = {name: i for i, name in enumerate(DIMENSIONS)}
MEASURE = {name: i for i, name in enumerate(MEASURES)}
REWARD = {name: i for i, name in enumerate(REWARDS)}
N_MEASURES = len(MEASURES)

# Why a measure or list entry was imposed: the audit's causes, in attribution order.
CAUSES = ("true", "false_match", "linkage_error", "association")
CAUSE = {name: i for i, name in enumerate(CAUSES)}
NOT_APPLIED = np.uint8(255)

# Bits of SanctionsState.lists.
COURT_LIST = np.uint8(1)
BLACKLIST = np.uint8(2)


@dataclass
class BehaviourState:
    """True events of the current step, and slow-moving personal circumstances."""

    events: np.ndarray  # uint16 [kind, person]: true events this step
    flight_attempts: np.ndarray  # uint16 [person]
    rail_attempts: np.ndarray  # uint16 [person]
    shock_until: np.ndarray  # int32 [person]: step an income shock ends (-1: none)
    firm_events: np.ndarray  # uint16 [firm]: corrupt acts this step


@dataclass
class SurveillanceState:
    """What the system observed this step, split by cause, and the coverage people live under."""

    observed: np.ndarray  # uint16 [cause 0..2, kind, person]: true, false_match, linkage_error
    firm_observed: np.ndarray  # uint16 [firm]


@dataclass
class ScoringState:
    """Sub-scores with decay, the points owed to errors, and the score."""

    subscores: np.ndarray  # float32 [dimension, person]: weighted-free decayed points
    error_points: np.ndarray  # float32 [cause 1..2 -> 0..1, person]: weighted raw points from errors
    corrections: np.ndarray  # float32 [person]: error points struck off by successful appeals
    individual: np.ndarray  # float32 [person]: score from one's own record alone
    score: np.ndarray  # float32 [person]: the published score, 350..950
    low_contacts: np.ndarray  # uint16 [person]: active contacts under the threshold last step
    member: np.ndarray  # bool [person]: scored by the system


@dataclass
class SanctionsState:
    """Measures, lists and rewards in force, with their timing and causes."""

    until: np.ndarray  # int32 [measure, person]: earliest step a measure may lift (-1: not applied)
    cause: np.ndarray  # uint8 [measure, person]: CAUSE code, NOT_APPLIED when off
    lists: np.ndarray  # uint8 [person]: COURT_LIST | BLACKLIST bits
    court_since: np.ndarray  # int32 [person]: step of court-list entry (-1: not listed)
    court_cause: np.ndarray  # uint8 [person]
    rewards: np.ndarray  # uint8 [person]: bit per reward
    firm_listed_until: np.ndarray  # int32 [firm]
    flight_denials: np.ndarray  # uint16 [person]: this step
    rail_denials: np.ndarray  # uint16 [person]: this step
    list_entries: np.ndarray  # bool [person]: entered a list this step
    list_exits: np.ndarray  # bool [person]: left every list this step
    cleared: np.ndarray  # bool [person]: an appeal against an erroneous entry succeeded this step

    def sanctioned(self) -> np.ndarray:
        """People under any measure or on any list."""
        return (self.cause != NOT_APPLIED).any(axis=0) | (self.lists != 0)


@dataclass
class ResponsesState:
    """How people adapt: fear of speaking, and the ties they still keep."""

    perceived_risk: np.ndarray  # float32 [person], 0..1
    edge_active: np.ndarray  # bool [edge]
    degree_at_start: np.ndarray  # int32 [person]


@dataclass
class State:
    behaviour: BehaviourState
    surveillance: SurveillanceState
    scoring: ScoringState
    sanctions: SanctionsState
    responses: ResponsesState

    @classmethod
    def initial(cls, n: int, n_edges: int, n_firms: int, degree: np.ndarray) -> "State":
        return cls(
            behaviour=BehaviourState(
                events=np.zeros((N_EVENT_KINDS, n), np.uint16),
                flight_attempts=np.zeros(n, np.uint16),
                rail_attempts=np.zeros(n, np.uint16),
                shock_until=np.full(n, -1, np.int32),
                firm_events=np.zeros(n_firms, np.uint16),
            ),
            surveillance=SurveillanceState(
                observed=np.zeros((3, N_EVENT_KINDS, n), np.uint16),
                firm_observed=np.zeros(n_firms, np.uint16),
            ),
            scoring=ScoringState(
                subscores=np.zeros((len(DIMENSIONS), n), np.float32),
                error_points=np.zeros((2, n), np.float32),
                corrections=np.zeros(n, np.float32),
                individual=np.zeros(n, np.float32),
                score=np.zeros(n, np.float32),
                low_contacts=np.zeros(n, np.uint16),
                member=np.zeros(n, bool),
            ),
            sanctions=SanctionsState(
                until=np.full((N_MEASURES, n), -1, np.int32),
                cause=np.full((N_MEASURES, n), NOT_APPLIED, np.uint8),
                lists=np.zeros(n, np.uint8),
                court_since=np.full(n, -1, np.int32),
                court_cause=np.full(n, NOT_APPLIED, np.uint8),
                rewards=np.zeros(n, np.uint8),
                firm_listed_until=np.full(n_firms, -1, np.int32),
                flight_denials=np.zeros(n, np.uint16),
                rail_denials=np.zeros(n, np.uint16),
                list_entries=np.zeros(n, bool),
                list_exits=np.zeros(n, bool),
                cleared=np.zeros(n, bool),
            ),
            responses=ResponsesState(
                perceived_risk=np.zeros(n, np.float32),
                edge_active=np.ones(n_edges, bool),
                degree_at_start=degree.astype(np.int32),
            ),
        )

    @staticmethod
    def bytes_per_person(mean_degree: float) -> float:
        """State bytes per person, for the memory estimate made before anything is allocated."""
        per_person = (
            N_EVENT_KINDS * 2 + 2 + 2 + 4  # behaviour
            + 3 * N_EVENT_KINDS * 2  # surveillance
            + len(DIMENSIONS) * 4 + 2 * 4 + 4 + 4 + 4 + 2 + 1  # scoring
            + N_MEASURES * (4 + 1) + 1 + 4 + 1 + 1 + 2 + 2 + 1 + 1 + 1  # sanctions
            + 4 + 4  # responses (per person)
        )
        return per_person + mean_degree * 1  # edge_active
