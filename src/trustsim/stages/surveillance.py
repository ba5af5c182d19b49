"""Stage 3, surveillance: what the system observes, and why.

Writes only ``state.surveillance`` (a step's face searches per cell and misfiled events per
kind, for the next step). Every observed event carries its cause: true (the right person, for an
act they did), false_match (a face search pinned someone else's act on them) or linkage_error
(record linkage filed someone's observed event under them). Nothing here recognises a face or reads a text: each
channel is a coverage probability and each error a rate, as in docs/model.md.

- Offline acts (minor violations, crimes) are seen with the person's camera coverage times
  (1 - miss rate); other kinds at their channel's coverage. Court coverage rolls out linearly from
  court_coverage_start over court_coverage_ramp_years.
- Each seen event is misfiled with the linkage error rate. By Poisson thinning, a person's events
  of a kind split into independent Poisson counts: seen and filed right (mean x coverage x
  (1 - rate)), misfiled (mean x coverage x rate) and unseen. A misfiled event lands on a uniformly
  random person, so each person receives misfiled events of a kind as Poisson with mean (misfiled
  events of the kind last step) / people.
- Each sighting of an offline act is a one-to-many face search; each returns a false match with
  the false-positive identification rate, pinned on a person of the same region and urban/rural
  cell with probability proportional to their group multiplier: Poisson per person with mean
  searches (last step's) x rate x weight / (cell's total weight). The rate grows with the
  gallery searched (the region's real population) as (gallery / reference)^exponent.

Sightings and misfiled events link people across the population, so they are counted in one
step and drawn on in the next: the person pass (kernels/person_pass.py) counts each step's
sightings per search cell and misfiled events per kind, and the following step's false matches
and misfiled events received are drawn from those totals (face searches and record linkage run
in batches after the events, so what they pin on someone lands a step later; the run's first
step has none yet).
"""

from __future__ import annotations

import numba
import numpy as np

from .. import rng
from ..context import CHANNEL, Context
from ..rng import poisson_inverse, unit_jit
from ..scenario.schema import EVENT_KINDS, Scenario
from ..state import EVENT, N_EVENT_KINDS, OFFLINE_KINDS, State

STREAMS = tuple(f"surveillance.observed.{kind}" for kind in EVENT_KINDS) + (
    "surveillance.misfiled",
    "surveillance.misfiled_kind",
    "surveillance.unseen_crime",
    *(f"surveillance.false_match.{kind}" for kind in OFFLINE_KINDS),
    "surveillance.linkage_in",
    "surveillance.linkage_in_kind",
)
MISFILED = N_EVENT_KINDS
MISFILED_KIND = MISFILED + 1
UNSEEN_CRIME = MISFILED + 2
FALSE_MATCH = MISFILED + 3
LINKAGE_IN = FALSE_MATCH + len(OFFLINE_KINDS)
LINKAGE_IN_KIND = LINKAGE_IN + 1
_CRIME = EVENT["crime"]
_MAX_SPLIT = 64  # draws per person for the kinds of their misfiled events (index i * 64 + j)


def court_rollout(scenario: Scenario, t: int) -> float:
    """Share of court_coverage in force in step t (at the step's middle): 0 before
    court_coverage_start, rising linearly over court_coverage_ramp_years, then 1."""
    sur, run = scenario.surveillance, scenario.run
    start = sur.court_coverage_start or run.start
    days = (run.start - start).days + run.step_days * (t + 0.5)
    ramp = sur.court_coverage_ramp_years * 365.25
    if ramp <= 0:
        return float(days >= 0)
    return min(max(days / ramp, 0.0), 1.0)


def coverage(ctx: Context, t: int) -> np.ndarray:
    """Probability that one event of each kind is seen in step t (offline kinds: per person)."""
    sur = ctx.scenario.surveillance
    by_channel = {
        "offline": np.nan, "court": sur.court_coverage * court_rollout(ctx.scenario, t),
        "credit": sur.credit_coverage, "online": sur.online_coverage,
        "commerce": sur.commerce_coverage, "civic": sur.civic_coverage,
    }
    return np.array([by_channel[CHANNEL[kind]] for kind in EVENT_KINDS])


@numba.njit(cache=True, inline="always")
def kind_coverage(p, cover, urban, k):
    return p.offline_coverage[urban] if p.offline_row[k] >= 0 else cover[k]


@numba.njit(cache=True, inline="always")
def filed_right(p, keys, cover, urban, means, k, i):
    """Person i's events of kind k that are seen and filed under them."""
    mean = means[k] * kind_coverage(p, cover, urban, k) * (1.0 - p.linkage_rate)
    return poisson_inverse(unit_jit(keys[k], i), mean)


@numba.njit(cache=True, inline="always")
def _pick(u, weights):
    """Index drawn with probability proportional to weights, from one uniform."""
    target = u * weights.sum()
    acc = 0.0
    for k in range(weights.shape[0] - 1):
        acc += weights[k]
        if target < acc:
            return k
    return weights.shape[0] - 1


@numba.njit(cache=True, inline="always")
def misfiled_out(p, keys, cover, urban, means, i, scratch, counts):
    """Add person i's misfiled events, by kind, to counts; return how many there are."""
    if p.linkage_rate <= 0.0:
        return 0
    for k in range(means.shape[0]):
        scratch[k] = means[k] * kind_coverage(p, cover, urban, k)
    total = poisson_inverse(unit_jit(keys[MISFILED], i), scratch.sum() * p.linkage_rate)
    for j in range(min(total, _MAX_SPLIT)):
        counts[_pick(unit_jit(keys[MISFILED_KIND], i * _MAX_SPLIT + j), scratch)] += 1
    return total


@numba.njit(cache=True, inline="always")
def unseen_crimes(p, keys, cover, urban, means, i):
    mean = means[_CRIME] * (1.0 - kind_coverage(p, cover, urban, _CRIME))
    return poisson_inverse(unit_jit(keys[UNSEEN_CRIME], i), mean)


@numba.njit(cache=True, inline="always")
def search_cell(people, i):
    """The face-search cell of person i (their region and urban/rural area): the gallery a sighting
    of them is searched against, and where others' searches may falsely match them."""
    return people.region[i] * 2 + people.urban[i]


@numba.njit(cache=True, inline="always")
def false_matches(p, keys, false_match_rate, people, i, row):
    """False matches of offline kind `row` pinned on person i this step."""
    weight = p.false_match_weight[people.minority[i] * 2 + people.female[i]]
    cell = search_cell(people, i)
    return poisson_inverse(unit_jit(keys[FALSE_MATCH + row], i), false_match_rate[cell, row] * weight)


@numba.njit(cache=True, inline="always")
def count_links(p, people, i, right, out, misfiled_here, sightings, misfiled):
    """Add person i's sightings of offline acts (right: filed under them, out: misfiled) to their
    search cell, and their misfiled events by kind, for the next step's draws."""
    cell = search_cell(people, i)
    for row in range(p.offline_kinds.shape[0]):
        k = p.offline_kinds[row]
        sightings[cell, row] += right[k] + out[k]  # every sighting is searched, whoever it is filed under
    if misfiled_here:
        for k in range(out.shape[0]):
            misfiled[k] += out[k]


@numba.njit(cache=True, inline="always")
def misfiled_in(p, keys, misfiled, i, counts):
    """Add the events misfiled under person i, by kind, to counts."""
    total = misfiled.sum()
    if total == 0:
        return
    received = poisson_inverse(unit_jit(keys[LINKAGE_IN], i), total / p.n)
    for j in range(min(received, _MAX_SPLIT)):
        counts[_pick(unit_jit(keys[LINKAGE_IN_KIND], i * _MAX_SPLIT + j), misfiled)] += 1


def false_match_rate(ctx: Context, state: State) -> np.ndarray:
    """float64 [cell, offline kind]: expected false matches per unit of group weight this step."""
    searches = state.surveillance.searches * ctx.false_positive_rate[:, None]
    mass = ctx.false_match_mass[:, None]
    return np.divide(searches, mass, out=np.zeros_like(searches, dtype=np.float64), where=mass > 0)


def firm_observations(ctx: Context, t: int) -> np.ndarray:
    """Observed corrupt acts per firm this step (credit coverage thins the firm's acts)."""
    rates = ctx.scenario.behaviour
    corruption = ctx.society.firms["corruption"].astype(np.float64)
    mean = rates.firm_violation_rate * ctx.weeks_per_step * corruption * ctx.scenario.surveillance.credit_coverage
    return rng.poisson(ctx.seed, "surveillance.firm", t, mean)
