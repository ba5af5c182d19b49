"""What every stage reads and none writes: the scenario, the society, the seed, and constants derived
from them once (step length, normalisers, coverage, multipliers, the rules as arrays).

Use this module when a stage needs a quantity that is fixed for the whole run: compute it here
once, not in the step path. ``People`` and ``Params`` are NamedTuples so that the Numba passes take
them whole. Per-person quantities are derived inside the passes from the people's own arrays and
the scalars here, rather than stored: at national scale every stored byte per person is 1.4 GB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from .errors import UserError
from .scenario.schema import EVENT_KINDS, MEASURES, OCCUPATIONS, REWARDS, Scenario
from .society import Society
from .state import EVENT, EVENT_DIMENSION, MEASURE, OFFLINE_KINDS, REWARD, step_dtype

# Which channel observes each event kind; "offline" is the camera network.
CHANNEL = {
    "missed_payment": "credit", "loan_default": "credit", "minor_violation": "offline",
    "judgment_default": "court", "crime": "offline", "critical_post": "online",
    "alcohol_purchase": "commerce", "gaming_hours": "commerce", "approved_purchase": "commerce",
    "volunteering": "civic", "blood_donation": "civic",
}
N_DECILES = 10
# The dimensions the audit metrics are broken down by (metrics.py), in the order of their groups.
DIMENSIONS = ("region", "urban", "occupation", "minority", "dissent_decile")
MAX_HOUSEHOLD = 64  # relatives' rules mark a household's members in one 64-bit mask
# Codes of Rules.on_list.
ON_NO_LIST, ON_COURT_LIST, ON_BLACKLIST = 0, 1, 2


class People(NamedTuple):
    """The society's per-person arrays the passes read, and each person's dissent decile.

    income and the seven traits are uint16 codes: the passes read them through the ``*_value_jit``
    functions of society/codes.py."""

    female: np.ndarray
    region: np.ndarray
    urban: np.ndarray
    occupation: np.ndarray
    minority: np.ndarray
    household: np.ndarray
    income: np.ndarray
    reliability: np.ndarray
    law_abidance: np.ndarray
    dissent: np.ndarray
    online_activity: np.ndarray
    gaming: np.ndarray
    drinking: np.ndarray
    sociability: np.ndarray
    decile: np.ndarray  # uint8, 0..9: rank of latent dissent


class Rules(NamedTuple):
    """The sanction rules as arrays, one entry per rule in scenario order."""

    measure: np.ndarray  # int64
    score_below: np.ndarray  # float64, NaN: no score part
    on_list: np.ndarray  # int64: ON_NO_LIST, ON_COURT_LIST or ON_BLACKLIST
    event: np.ndarray  # int64: EVENT code, -1: no event part
    min_steps: np.ndarray  # int64
    relatives: np.ndarray  # bool


class Params(NamedTuple):
    """Every constant of the step path. Rates are per step; norms are 1 / population mean.

    The sanction rules, whose number varies, are in Rules."""

    n: int
    # behaviour
    base_rate: np.ndarray  # float64 [kind]: mean events per step at trait scale 1
    unreliability_norm: float
    lawlessness_norm: float
    crime_norm: float
    online_norm: float
    drinking_norm: float
    gaming_norm: float
    sociability_norm: float
    income_norm: float
    shock_probability: float
    shock_steps: int
    shock_factor: float
    job_ban_income_factor: float
    blacklist_income_factor: float
    penalised_cut: float  # members' cut in penalised purchases (alcohol)
    gaming_cut: float
    approved_boost: float
    deterrence: float
    throttle_online_factor: float
    chilling_strength: float
    flight_rate: float
    rail_rate: float
    banned_attempt_factor: float
    # surveillance
    offline_coverage: np.ndarray  # float64 [urban]
    linkage_rate: float
    false_match_weight: np.ndarray  # float64 [minority * 2 + female]
    offline_kinds: np.ndarray  # int64 [offline kind]: EVENT codes
    offline_row: np.ndarray  # int64 [kind]: row in the offline kinds, -1 for other kinds
    # scoring
    decay: float
    points: np.ndarray  # float64 [kind]
    kind_weight: np.ndarray  # float64 [kind]: weight of the kind's dimension
    gaming_kind: int
    free_hours: float  # per step
    logit_baseline: float
    spread: float
    association_weight: float
    association_threshold: float
    social_penalty: float  # points per low contact, times the social weight
    mandatory: bool
    opt_in_probability: float
    benefit_sensitivity: float
    reward_floor: float  # the lowest reward bar, what voluntary members hope to reach
    # sanctions
    court_enabled: bool
    fulfil_probability: float
    court_term_steps: int
    blacklist_term_steps: int  # how long a firm stays listed
    # What can make any rule hold, to pass over the many people no rule can touch.
    rule_score_ceiling: float  # the highest score_below (0: none)
    rule_event_kinds: np.ndarray  # bool [kind]: kinds some rule's condition names
    rule_on_list: bool  # some rule's condition names a list
    exit_bar: np.ndarray  # float64 [measure], NaN: lifts when no rule holds
    reward_bar: np.ndarray  # float64 [reward], NaN: not granted
    appeal_probability: float
    appeal_success: float
    # responses
    layer_weight: np.ndarray  # float64 [layer]
    seen: float  # chance one's speech is seen (online monitoring coverage)
    watched: float  # perceived risk from being watched alone, per unit of seen
    speech_risky: bool  # speech can cost points or trigger a rule
    intensity_scale: float
    contacts_weight: float
    first_contact_rest: float  # 1 - first_contact: the share of the gap each punished contact leaves
    stake_state_job: float  # 0 where no rule imposes a job ban
    stake_business: float  # 0 where neither firm listing nor a blacklist rule
    stake_relatives: float  # 0 where no rule applies to relatives
    stake_near_bar: float
    bar_scale: float
    sanction_bars: np.ndarray  # float64 [bar], ascending: the rules' score_below values
    committed_share: float
    emboldening: float
    adapt: float  # share of the gap to the target risk closed per step
    distancing: bool
    drop_probability: np.ndarray  # float64 [layer], per step
    # metrics groups: "all" is row 0, then each dimension's values from its offset (DIMENSIONS order)
    group_offset: np.ndarray


def _normaliser(values: np.ndarray) -> float:
    """1 / mean, so that rate x value / mean keeps the population's mean rate at the base rate."""
    mean = float(values.mean(dtype=np.float64)) if values.size else 0.0
    return 1.0 / mean if mean > 0 else 0.0


def to_steps(weeks: float, scenario: Scenario) -> int:
    """A duration in weeks as a whole number of steps, at least one."""
    return max(1, round(weeks / (scenario.run.step_days / 7.0)))


def group_sizes(n_regions: int) -> tuple[int, ...]:
    """How many values each of the metrics' DIMENSIONS has."""
    return (n_regions, 2, len(OCCUPATIONS), 2, N_DECILES)


@numba.njit(cache=True, inline="always")
def group_rows(group_offset, people, i):
    """The metrics rows of person i's groups: all, then their value of each dimension."""
    return (np.int64(0), group_offset[0] + people.region[i], group_offset[1] + people.urban[i],
            group_offset[2] + people.occupation[i], group_offset[3] + people.minority[i],
            group_offset[4] + people.decile[i])


@dataclass
class Context:
    scenario: Scenario
    society: "Society"
    seed: int
    weeks_per_step: float
    params: Params
    rules: Rules
    people: People
    false_positive_rate: np.ndarray  # float64 [cell]: per search, at the region's gallery size
    false_match_mass: np.ndarray  # float64 [cell]: sum of false-match weights of the cell's people
    n_cells: int  # region x urban cells where face searches run
    chunks: np.ndarray  # int64 [chunk + 1]: person ranges of the passes (see _chunks)
    step_dtype: np.dtype  # of stored step numbers (state.step_dtype)
    max_household: int  # people in the largest household

    @classmethod
    def build(cls, scenario: Scenario, society: "Society", seed: int) -> "Context":
        people = society.people
        n = society.n
        # Codes rank as the dissent they stand for (the code is monotone in it).
        ranks = np.argsort(np.argsort(people["dissent"], kind="stable"), kind="stable")
        decile = ((ranks * N_DECILES) // max(n, 1)).astype(np.uint8)
        view = People(**{name: people[name] for name in People._fields if name != "decile"}, decile=decile)
        values = _params(scenario, society)
        rules = _rules(scenario)
        max_household = int(np.bincount(people["household"]).max()) if n else 1
        if max_household > MAX_HOUSEHOLD:
            raise UserError(
                f"population.household_size: a household of {max_household} people was drawn; "
                f"allowed: households of at most {MAX_HOUSEHOLD} people (a smaller household_size)"
            )

        face = scenario.surveillance.face_recognition
        # Searches run against the region's gallery; false positives grow with its size.
        gallery = np.array([scenario.population.regions[name] * 1e6 for name in society.region_names])
        regional_fpir = np.minimum(
            face.false_positive_rate * (gallery / face.reference_gallery) ** face.gallery_exponent, 1.0
        )
        n_cells = 2 * len(society.region_names)
        search_cell = people["region"].astype(np.int64) * 2 + people["urban"]
        weight = values.false_match_weight[people["minority"].astype(np.int64) * 2 + people["female"]]
        return cls(
            scenario=scenario,
            society=society,
            seed=seed,
            weeks_per_step=scenario.run.step_days / 7.0,
            params=values,
            rules=rules,
            people=view,
            false_positive_rate=np.repeat(regional_fpir, 2),
            false_match_mass=np.bincount(search_cell, weights=weight, minlength=n_cells),
            n_cells=n_cells,
            chunks=_chunks(people["household"], society.network.indptr),
            step_dtype=step_dtype(_last_step(scenario, values, rules)),
            max_household=max_household,
        )

    def to_score(self, raw: np.ndarray) -> np.ndarray:
        """Map raw points onto 350..950: a clean record (raw 0) gets the baseline score."""
        p = self.params
        return (350.0 + 600.0 / (1.0 + np.exp(-(p.logit_baseline + raw / p.spread)))).astype(np.float32)


def _chunks(household: np.ndarray, indptr: np.ndarray, size: int = 8192) -> np.ndarray:
    """Person ranges of about `size` people for the passes' threads. A cut never splits a
    household (the sanctions stage treats one whole) and falls where a row's ties start at a
    multiple of 8, so that no byte of the tie bits (ResponsesState.edge_active) spans two chunks."""
    n = household.shape[0]
    starts = np.arange(1, n)
    valid = starts[(household[1:] != household[:-1]) & (indptr[1:-1] % 8 == 0)]
    at = np.searchsorted(valid, np.arange(size, n, size))
    cuts = valid[at[at < valid.shape[0]]]
    return np.unique(np.concatenate([[0], cuts, [n]])).astype(np.int64)


def _last_step(scenario: Scenario, p: Params, rules: Rules) -> int:
    """The largest step number the state may record: the run's end plus the longest duration."""
    longest = max([*rules.min_steps, p.court_term_steps + 1, p.shock_steps, p.blacklist_term_steps])
    return scenario.run.steps + int(longest)


def _floats(values) -> np.ndarray:
    return np.array(values, np.float64)


def _rules(scenario: Scenario) -> Rules:
    rules = scenario.sanctions.rules
    lists = {None: ON_NO_LIST, "court_list": ON_COURT_LIST, "blacklist": ON_BLACKLIST}
    return Rules(
        measure=np.array([MEASURE[r.measure] for r in rules], np.int64),
        score_below=np.array([np.nan if r.when.score_below is None else r.when.score_below for r in rules]),
        on_list=np.array([lists[r.when.on_list] for r in rules], np.int64),
        event=np.array([-1 if r.when.event is None else EVENT[r.when.event] for r in rules], np.int64),
        min_steps=np.array([to_steps(r.min_weeks, scenario) for r in rules], np.int64),
        relatives=np.array([r.relatives for r in rules], bool),
    )


def _params(scenario: Scenario, society: "Society") -> Params:
    people = society.people
    sc = scenario
    weeks = sc.run.step_days / 7.0
    rates, sur, scoring, sanctions = sc.behaviour, sc.surveillance, sc.scoring, sc.sanctions
    responses, traits = sc.responses, sc.population.traits
    n = society.n

    # Cameras are spread over the real population, urban areas taking urban_camera_share.
    urban_share = float(people["urban"].mean()) if n else 0.0
    density_urban = sur.cameras * sur.urban_camera_share / max(urban_share * sur.real_population, 1.0)
    density_rural = sur.cameras * (1 - sur.urban_camera_share) / max((1 - urban_share) * sur.real_population, 1.0)
    density = np.array([density_rural, density_urban])
    offline_coverage = (1 - np.exp(-density / sur.cameras_per_person_63)) * (1 - sur.face_recognition.miss_rate)
    multiplier = sur.face_recognition.group_multiplier
    false_match_weight = np.array([1.0, multiplier.female, multiplier.minority, multiplier.minority * multiplier.female])

    law = society.value("law_abidance")
    rel = society.value("reliability")
    base = {
        "missed_payment": rates.missed_payment_rate,
        "loan_default": rates.loan_default_rate,
        "minor_violation": rates.minor_violation_rate,
        "judgment_default": rates.judgment_default_rate,
        "crime": rates.crime_rate,
        "critical_post": rates.posts_per_week,
        "alcohol_purchase": rates.alcohol_purchases_per_week * traits.drinker_share,
        "gaming_hours": rates.gaming_hours_per_week * traits.gamer_share,
        "approved_purchase": rates.approved_purchases_per_week,
        "volunteering": rates.volunteering_rate,
        "blood_donation": rates.blood_donation_rate,
    }
    points, weights = scoring.points, scoring.weights
    consumption_scored = weights.consumption > 0
    comply = responses.compliance.strength
    association = scoring.association

    rules = sanctions.rules
    exit_bar = np.full(len(MEASURES), np.nan)
    for rule in rules:
        if rule.exit_score_above is not None:
            exit_bar[MEASURE[rule.measure]] = np.fmax(exit_bar[MEASURE[rule.measure]], rule.exit_score_above)
    reward_bar = np.full(len(REWARDS), np.nan)
    for reward in sc.rewards.rules:
        reward_bar[REWARD[reward.reward]] = np.fmin(reward_bar[REWARD[reward.reward]], reward.score_at_least)
    bars = [r.score_at_least for r in sc.rewards.rules]

    baseline_share = min(max((scoring.baseline - 350.0) / 600.0, 1e-6), 1 - 1e-6)
    chilling, distancing = responses.chilling, responses.distancing
    stake = chilling.stake
    measures = {r.measure for r in rules}
    speech_penalised = weights.political > 0 and points.critical_post < 0
    costs = association.weight > 0 or (association.contact_penalty > 0 and weights.social > 0)
    weekly_drop = np.array([
        distancing.strength * (distancing.family_factor if name == "family" else 1.0)
        for name in society.network.LAYERS
    ])
    offline_row = np.full(len(EVENT_KINDS), -1, np.int64)
    for row, kind in enumerate(OFFLINE_KINDS):
        offline_row[EVENT[kind]] = row
    return Params(
        n=n,
        base_rate=_floats([base[k] * weeks for k in EVENT_KINDS]),
        unreliability_norm=_normaliser(1 - rel),
        lawlessness_norm=_normaliser(1 - law),
        crime_norm=_normaliser((1 - law) ** 2),
        online_norm=_normaliser(society.value("online_activity")),
        drinking_norm=_normaliser(society.value("drinking")),
        gaming_norm=_normaliser(society.value("gaming")),
        sociability_norm=_normaliser(society.value("sociability")),
        income_norm=_normaliser(society.value("income")),
        shock_probability=min(rates.income_shock_rate * weeks, 1.0),
        shock_steps=to_steps(rates.income_shock_weeks, sc),
        shock_factor=rates.income_shock_factor,
        job_ban_income_factor=sanctions.effects.job_ban_income_factor,
        blacklist_income_factor=sanctions.effects.blacklist_income_factor,
        penalised_cut=comply * (consumption_scored and points.alcohol_purchase < 0),
        gaming_cut=comply * (consumption_scored and points.gaming_hours < 0),
        approved_boost=comply * (consumption_scored and points.approved_purchase > 0),
        deterrence=responses.deterrence.strength,
        throttle_online_factor=sanctions.effects.throttle_online_factor,
        chilling_strength=chilling.strength,
        flight_rate=rates.flight_attempts_per_week * weeks,
        rail_rate=rates.rail_attempts_per_week * weeks,
        banned_attempt_factor=rates.banned_attempt_factor,
        offline_coverage=_floats(offline_coverage),
        linkage_rate=sur.linkage_error_rate,
        false_match_weight=_floats(false_match_weight),
        offline_kinds=np.array([EVENT[k] for k in OFFLINE_KINDS], np.int64),
        offline_row=offline_row,
        decay=0.5 ** (weeks / scoring.half_life_weeks),
        points=_floats([getattr(points, k) for k in EVENT_KINDS]),
        kind_weight=_floats([getattr(weights, EVENT_DIMENSION[k]) for k in EVENT_KINDS]),
        gaming_kind=EVENT["gaming_hours"],
        free_hours=scoring.gaming_free_hours * weeks,
        logit_baseline=float(np.log(baseline_share / (1 - baseline_share))),
        spread=scoring.spread,
        association_weight=association.weight,
        association_threshold=association.threshold,
        social_penalty=weights.social * association.contact_penalty,
        mandatory=sc.participation.mode == "mandatory",
        opt_in_probability=min(sc.participation.opt_in_rate * weeks, 1.0),
        benefit_sensitivity=sc.participation.benefit_sensitivity,
        reward_floor=min(bars) if bars else scoring.baseline,
        court_enabled=sanctions.court_list.enabled,
        fulfil_probability=min(sanctions.court_list.fulfil_rate * weeks, 1.0),
        court_term_steps=to_steps(sanctions.court_list.term_weeks, sc),
        blacklist_term_steps=to_steps(sanctions.blacklist_term_weeks, sc),
        rule_score_ceiling=max([r.when.score_below or 0.0 for r in rules], default=0.0),
        rule_event_kinds=np.array([k in {r.when.event for r in rules} for k in EVENT_KINDS]),
        rule_on_list=any(r.when.on_list is not None for r in rules),
        exit_bar=_floats(exit_bar),
        reward_bar=_floats(reward_bar),
        appeal_probability=min(sanctions.appeals.rate * weeks, 1.0),
        appeal_success=sanctions.appeals.success_rate,
        layer_weight=_floats([getattr(sc.network, name).weight for name in society.network.LAYERS]),
        seen=sur.online_coverage,
        watched=chilling.surveillance_weight,
        speech_risky=bool(speech_penalised or "critical_post" in {r.when.event for r in rules}),
        intensity_scale=chilling.intensity_scale,
        contacts_weight=chilling.contacts_weight,
        first_contact_rest=1.0 - chilling.first_contact,
        stake_state_job=stake.state_job * ("job_ban" in measures),
        stake_business=stake.business * (sanctions.firm_listing or "blacklist" in measures),
        stake_relatives=stake.relatives * any(r.relatives for r in rules),
        stake_near_bar=stake.near_bar,
        bar_scale=stake.bar_scale,
        sanction_bars=_floats(sorted({r.when.score_below for r in rules if r.when.score_below is not None})),
        committed_share=chilling.committed.share,
        emboldening=chilling.committed.emboldening,
        adapt=1.0 - np.exp(-weeks / chilling.memory_weeks),
        distancing=bool(costs and distancing.strength > 0),
        drop_probability=_floats(1.0 - (1.0 - weekly_drop) ** weeks),
        group_offset=np.cumsum((1,) + group_sizes(len(society.region_names))[:-1]).astype(np.int64),
    )
