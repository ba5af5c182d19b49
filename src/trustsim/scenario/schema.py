"""The scenario schema: every parameter of the model, with its unit, range and meaning.

Use this module to see what a scenario may say. Each section mirrors a stage of the pipeline in
docs/model.md; a field's `description` is its one-line meaning, its `json_schema_extra["unit"]`
its unit, and its `ge`/`le` bounds its allowed range. Models forbid unknown keys, so a typo is an
error rather than a silently ignored setting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trustsim.scenario.uncertainty import PlausibleRange

OCCUPATIONS = (
    "civil_servant",
    "state_manager",
    "business_owner",
    "employee",
    "farmer",
    "student",
    "retired",
    "unemployed",
)
Occupation = Literal[
    "civil_servant",
    "state_manager",
    "business_owner",
    "employee",
    "farmer",
    "student",
    "retired",
    "unemployed",
]
DIMENSIONS = ("financial", "legal", "political", "consumption", "civic", "social")
MEASURES = (
    "internet_throttle",
    "flight_ban",
    "rail_ban",
    "job_ban",
    "id_block",
    "blacklist",
)
Measure = Literal["internet_throttle", "flight_ban", "rail_ban", "job_ban", "id_block", "blacklist"]
REWARDS = ("easy_loans", "visa_facilitation", "deposit_waiver")
Reward = Literal["easy_loans", "visa_facilitation", "deposit_waiver"]
EVENT_KINDS = (
    "missed_payment",
    "loan_default",
    "minor_violation",
    "judgment_default",
    "crime",
    "critical_post",
    "alcohol_purchase",
    "gaming_hours",
    "approved_purchase",
    "volunteering",
    "blood_donation",
)
EventKind = Literal[
    "missed_payment",
    "loan_default",
    "minor_violation",
    "judgment_default",
    "crime",
    "critical_post",
    "alcohol_purchase",
    "gaming_hours",
    "approved_purchase",
    "volunteering",
    "blood_donation",
]

# 2020 census, million people per province (shared/facts.md).
CENSUS_2020_PROVINCES: dict[str, float] = {
    "Guangdong": 126.01, "Shandong": 101.53, "Henan": 99.37, "Jiangsu": 84.75,
    "Sichuan": 83.67, "Hebei": 74.61, "Hunan": 66.44, "Zhejiang": 64.57, "Anhui": 61.03,
    "Hubei": 57.75, "Guangxi": 50.13, "Yunnan": 47.21, "Jiangxi": 45.19, "Liaoning": 42.59,
    "Fujian": 41.54, "Shaanxi": 39.53, "Guizhou": 38.56, "Shanxi": 34.92, "Chongqing": 32.05,
    "Heilongjiang": 31.85, "Xinjiang": 25.85, "Gansu": 25.02, "Shanghai": 24.87,
    "Inner Mongolia": 24.05, "Jilin": 24.07, "Beijing": 21.89, "Tianjin": 13.87,
    "Hainan": 10.08, "Ningxia": 7.20, "Qinghai": 5.92, "Tibet": 3.65,
}


# Relative minority share by province, about the 2020 census shares in percent (assumption where
# rounded); only the ratios matter, Population.minority_share sets the national level.
MINORITY_WEIGHT_2020: dict[str, float] = {
    "Tibet": 87.8, "Xinjiang": 57.8, "Qinghai": 49.5, "Guangxi": 37.5, "Guizhou": 36.4,
    "Ningxia": 35.9, "Yunnan": 33.1, "Inner Mongolia": 21.2, "Hainan": 16.0, "Liaoning": 15.7,
    "Gansu": 10.6, "Hunan": 10.0, "Jilin": 8.0, "Sichuan": 6.8, "Chongqing": 6.5, "Beijing": 5.0,
    "Hubei": 4.3, "Hebei": 4.0, "Heilongjiang": 3.5, "Guangdong": 1.5, "Shandong": 1.5, "Henan": 1.5,
    "Jiangsu": 1.5, "Zhejiang": 1.5, "Anhui": 1.5, "Jiangxi": 1.5, "Fujian": 1.5, "Shaanxi": 1.5,
    "Shanxi": 1.5, "Shanghai": 1.5, "Tianjin": 1.5,
}


def param(default: Any, unit: str, doc: str, **bounds: Any) -> Any:
    """A scenario parameter: its default, unit, one-line meaning and allowed range."""
    return Field(default, description=doc, json_schema_extra={"unit": unit}, **bounds)


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# --- 1. Society -------------------------------------------------------------------------------


class Traits(Section):
    """Latent traits: what people are, never seen by the system."""

    activist_share: float = param(
        0.01, "fraction", "share of people whose political dissent is in the activist tail", ge=0, le=0.5
    )
    dissent_tail_index: float = param(
        1.5, "Pareto shape", "tail index of dissent among activists (smaller: heavier tail)", gt=0.5, le=10
    )
    reliability_income_corr: float = param(
        0.4, "correlation", "correlation of financial reliability with log income", ge=-1, le=1
    )
    online_activity_mean: float = param(
        0.5, "0..1", "mean online activity (share of the most active person's posting rate)", ge=0, le=1
    )
    gamer_share: float = param(
        0.08, "fraction", "share of people with a heavy video-game habit", ge=0, le=1
    )
    drinker_share: float = param(0.25, "fraction", "share of people who buy alcohol regularly", ge=0, le=1)
    activist_floor: float = param(
        0.5, "0..1", "dissent level at which the activist tail starts; everyone else stays below it", gt=0, lt=1
    )
    dissent_baseline_scale: float = param(
        0.05, "0..1", "typical dissent of non-activists (scale of an exponential squeezed under the floor)", gt=0, le=1
    )
    law_abidance_mean: float = param(0.8, "0..1", "mean law-abidance", ge=0, le=1)
    law_reliability_corr: float = param(
        0.3, "correlation", "correlation of law-abidance with financial reliability (latent normal scale)", ge=-1, le=1
    )
    sociability_mean: float = param(
        0.5, "0..1", "mean sociability; its latent normal also sets the friend-degree propensity", ge=0, le=1
    )


class Firms(Section):
    """Organisations: firms owned by business owners, employing employees."""

    employees_mean: float = param(8.0, "people/firm", "mean employees per private firm", ge=1, le=1000)
    corruption_mean: float = param(
        0.05, "probability", "mean corruption propensity of a firm (Beta-distributed)", ge=0, le=1
    )
    corruption_concentration: float = param(
        4.0, "Beta a+b", "concentration of the corruption propensity's Beta distribution", gt=0, le=1000
    )
    size_sigma: float = param(
        1.2, "log-sd", "spread of the lognormal firm size (heavy tail of a few large employers)", ge=0, le=3
    )


class Population(Section):
    """Who the synthetic adults are: census marginals and latent traits."""

    people: int = param(100_000, "people", "number of simulated adults", ge=1)
    represents: float = param(
        1.105e9,
        "real people",
        "real adult population the simulated people stand for; count metrics scale by represents/people",
        gt=0,
    )
    regions: dict[str, float] = param(
        dict(CENSUS_2020_PROVINCES), "million people", "population of each region (2020 census)"
    )
    urban_share: float = param(0.6389, "fraction", "share living in urban areas (2020 census)", ge=0, le=1)
    female_share: float = param(0.4876, "fraction", "share of women (2020 census)", ge=0, le=1)
    share_60_plus: float = param(
        0.228, "fraction", "share aged 60+ among adults (2020 census: 18.70 / (63.35 + 18.70))", ge=0, le=1
    )
    minority_share: float = param(0.0889, "fraction", "share of ethnic minorities (2020 census)", ge=0, le=1)
    household_size: float = param(2.62, "people", "mean household size (2020 census)", ge=1, le=10)
    occupation_shares: dict[Occupation, float] = param(
        {
            "civil_servant": 0.05, "state_manager": 0.01, "business_owner": 0.06, "employee": 0.42,
            "farmer": 0.20, "student": 0.04, "retired": 0.17, "unemployed": 0.05,
        },
        "fraction",
        "share of adults in each occupation (assumption; normalised to sum to 1)",
    )
    income_median: float = param(32_000, "yuan/year", "median annual disposable income", gt=0)
    income_sigma: float = param(0.8, "log-sd", "spread of log income", ge=0, le=3)
    urban_income_ratio: float = param(
        2.56, "ratio", "urban over rural median income (2020 statistical bulletin)", ge=1, le=10
    )
    age_min: int = param(18, "years", "youngest simulated adult", ge=0, le=120)
    age_max: int = param(95, "years", "oldest simulated adult", ge=0, le=120)
    old_age_decay: float = param(
        12.0, "years", "e-folding of the age profile past 60 (assumption; 65+ and 80+ counts of 2020)", gt=0, le=100
    )
    retirement_age_male: int = param(60, "years", "statutory retirement age of men", ge=0, le=120)
    retirement_age_female: int = param(55, "years", "statutory retirement age of women (cadres)", ge=0, le=120)
    student_age_max: int = param(24, "years", "oldest age at which adults are students", ge=0, le=120)
    work_after_retirement: float = param(
        0.1, "relative", "affinity of working occupations past retirement age, relative to younger people", ge=0, le=1
    )
    urban_farmer_affinity: float = param(
        0.05, "relative", "affinity of urban people for farming, relative to rural people", ge=0, le=1
    )
    occupation_income: dict[Occupation, float] = param(
        {
            "civil_servant": 1.4, "state_manager": 2.5, "business_owner": 2.0, "employee": 1.1,
            "farmer": 0.8, "student": 0.3, "retired": 0.8, "unemployed": 0.4,
        },
        "ratio",
        "median income of each occupation relative to the others (assumption); medians are rescaled to income_median",
    )
    minority_weight: dict[str, float] = param(
        dict(MINORITY_WEIGHT_2020),
        "relative",
        "relative minority share of each region (about the 2020 census); rescaled to minority_share; absent: 1",
    )
    traits: Traits = Field(default_factory=Traits)
    firms: Firms = Field(default_factory=Firms)

    @field_validator("regions", "occupation_shares", "occupation_income", "minority_weight")
    @classmethod
    def _positive_shares(cls, shares: dict[str, float]) -> dict[str, float]:
        if not shares:
            raise ValueError("needs at least one entry")
        bad = [k for k, v in shares.items() if not v >= 0]
        if bad:
            raise ValueError(f"must be >= 0 (got {bad[0]}={shares[bad[0]]})")
        if sum(shares.values()) <= 0:
            raise ValueError("must not all be 0")
        return shares

    @model_validator(mode="after")
    def _age_range(self) -> "Population":
        if self.age_max < self.age_min:
            raise ValueError(f"age_max ({self.age_max}) must be >= age_min ({self.age_min})")
        if len(self.regions) > 255:
            raise ValueError(f"regions: at most 255 regions (got {len(self.regions)})")
        return self


class FamilyLayer(Section):
    """Family ties: everyone in a household, plus kin ties between households."""

    kin_ties_mean: float = param(
        1.5, "ties/person", "mean kin ties per person to members of other households", ge=0, le=50
    )
    kin_same_region: float = param(
        0.9, "fraction", "share of kin ties within one's own region (assumption)", ge=0, le=1
    )
    kin_local_share: float = param(
        0.5, "fraction", "share of same-region kin ties within one's neighbourhood (assumption)", ge=0, le=1
    )
    weight: float = param(1.0, "relative", "weight of a family tie in the pull of contacts", ge=0, le=100)


class FriendsLayer(Section):
    """Friendship: heavy-tailed degrees, homophily, clustering."""

    mean_degree: float = param(6.0, "ties/person", "mean number of friends", ge=0, le=500)
    degree_sigma: float = param(
        0.8, "log-sd", "spread of the lognormal friend-degree propensity (heavy tail)", ge=0, le=3
    )
    same_region: float = param(0.9, "fraction", "share of friends drawn from one's own region", ge=0, le=1)
    same_urban: float = param(0.8, "fraction", "share of friends with the same urban/rural status", ge=0, le=1)
    age_homophily: float = param(
        0.5, "0..1", "strength of age homophily among friends (0: none)", ge=0, le=1
    )
    dissent_homophily: float = param(
        0.5, "0..1", "strength of dissent homophily among friends (0: none)", ge=0, le=1
    )
    triadic_closure: float = param(
        0.3, "fraction", "share of friend ties made by closing triangles (drives clustering)", ge=0, le=1
    )
    local_share: float = param(
        0.5,
        "fraction",
        "share of directly drawn friends from one's neighbourhood (capped at same_region and same_urban)",
        ge=0, le=1,
    )
    age_scale: float = param(
        10.0, "years", "age gap over which full age homophily (1) cuts a tie's acceptance by a factor e", gt=0, le=100
    )
    homophily_tries: int = param(
        8, "draws", "candidates drawn per friend tie before the last one is taken regardless", ge=1, le=15
    )
    weight: float = param(1.0, "relative", "weight of a friend tie in the pull of contacts", ge=0, le=100)


class WorkLayer(Section):
    """Colleagues within firms and other workplaces."""

    mean_degree: float = param(4.0, "ties/person", "mean colleagues per working person", ge=0, le=500)
    state_unit_size: float = param(
        30.0, "people", "mean size of a state work unit (civil servants and state managers)", ge=1, le=100_000
    )
    farm_team_size: float = param(20.0, "people", "mean size of a village farm team", ge=1, le=100_000)
    weight: float = param(0.5, "relative", "weight of a work tie in the pull of contacts", ge=0, le=100)


class Network(Section):
    """The three network layers."""

    family: FamilyLayer = Field(default_factory=FamilyLayer)
    friends: FriendsLayer = Field(default_factory=FriendsLayer)
    work: WorkLayer = Field(default_factory=WorkLayer)
    neighbourhood_size: int = param(
        2000, "people", "people around one's home from whom local kin and friends are drawn", ge=2, le=10_000_000
    )


# --- 2. Behaviour -----------------------------------------------------------------------------


class Behaviour(Section):
    """Base rates of the true events of a step; traits, sanctions and responses scale them."""

    missed_payment_rate: float = param(
        0.02, "events/person/week", "missed payments for a person of average reliability", ge=0, le=10
    )
    loan_default_rate: float = param(
        0.0005, "events/person/week", "loan defaults for a person of average reliability", ge=0, le=1
    )
    income_shock_rate: float = param(
        0.002, "events/person/week", "income shocks (job loss, illness) that raise missed payments", ge=0, le=1
    )
    income_shock_weeks: int = param(26, "weeks", "how long an income shock lasts", ge=1, le=520)
    income_shock_factor: float = param(
        0.5, "fraction", "share of income kept during a shock; finance events rise as 1 / income kept", gt=0, le=1
    )
    minor_violation_rate: float = param(
        0.02, "events/person/week", "minor offline violations (jaywalking, littering)", ge=0, le=10
    )
    judgment_default_rate: float = param(
        0.0002, "events/person/week", "court judgments left unfulfilled, average law-abidance", ge=0, le=1
    )
    crime_rate: float = param(
        0.0003, "events/person/week", "crimes committed, average law-abidance, before deterrence", ge=0, le=1
    )
    posts_per_week: float = param(
        5.0, "posts/person/week", "online posts of a person of average online activity", ge=0, le=1000
    )
    approved_purchases_per_week: float = param(
        2.0, "purchases/person/week", "purchases of approved goods", ge=0, le=1000
    )
    alcohol_purchases_per_week: float = param(
        0.5, "purchases/drinker/week", "alcohol purchases of a regular drinker", ge=0, le=100
    )
    gaming_hours_per_week: float = param(
        20.0, "hours/gamer/week", "video-game hours of a heavy gamer", ge=0, le=168
    )
    volunteering_rate: float = param(0.02, "events/person/week", "volunteering acts", ge=0, le=10)
    blood_donation_rate: float = param(0.001, "events/person/week", "blood donations", ge=0, le=1)
    flight_attempts_per_week: float = param(
        0.01, "attempts/person/week", "attempts to buy a flight ticket", ge=0, le=10
    )
    rail_attempts_per_week: float = param(
        0.05, "attempts/person/week", "attempts to buy a high-speed-rail ticket", ge=0, le=10
    )
    banned_attempt_factor: float = param(
        0.5, "fraction", "ticket attempts a banned person still makes, relative to the unbanned", ge=0, le=1
    )
    firm_violation_rate: float = param(
        0.02, "events/firm/week", "corrupt acts of a firm at corruption propensity 1", ge=0, le=10
    )


# --- 3. Surveillance --------------------------------------------------------------------------


class GroupMultiplier(Section):
    """False-match multipliers by group (NIST IR 8280: 10-100x for some groups, 2-5x for women)."""

    minority: float = param(10.0, "x", "false-match multiplier for the minority group", ge=0, le=1000)
    female: float = param(2.0, "x", "false-match multiplier for women", ge=0, le=1000)


class FaceRecognition(Section):
    """One-to-many face search, modelled by its error rates only."""

    miss_rate: float = param(
        0.002, "probability", "share of searches that miss a person in the gallery (NIST 2018)", ge=0, le=1
    )
    false_positive_rate: float = param(
        0.003, "per search", "false-positive identification rate (NIST 2018, 12M gallery)", ge=0, le=1
    )
    group_multiplier: GroupMultiplier = Field(default_factory=GroupMultiplier)
    reference_gallery: float = param(
        12e6, "people", "gallery size at which false_positive_rate was measured (NIST 2018: 12 million)", gt=0
    )
    gallery_exponent: float = param(
        1.0,
        "-",
        "false positives grow as (gallery / reference_gallery)^this; the gallery is the region's real population "
        "(1: proportional, as for a fixed match threshold; 0: no growth with scale)",
        ge=0, le=2,
    )

    @field_validator("group_multiplier", mode="before")
    @classmethod
    def _scalar_is_minority(cls, value: Any) -> Any:
        """A bare number sets the minority multiplier, the differential users ask about most."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"minority": value}
        return value


class Surveillance(Section):
    """What the system observes: coverage and error rates, never a recognition model."""

    cameras: float = param(626e6, "cameras", "surveillance cameras in the country (IHS Markit)", ge=0)
    real_population: float = param(
        1411.78e6, "people", "real population the camera count is spread over (2020 census)", gt=0
    )
    cameras_per_person_63: float = param(
        0.5,
        "cameras/person",
        "camera density at which 63% of offline acts happen in view (coverage = 1 - exp(-density/this))",
        gt=0,
    )
    urban_camera_share: float = param(
        0.8, "fraction", "share of cameras in urban areas", ge=0, le=1
    )
    face_recognition: FaceRecognition = Field(default_factory=FaceRecognition)
    online_coverage: float = param(
        0.9, "fraction", "share of online acts tied to a real name and monitored", ge=0, le=1
    )
    commerce_coverage: float = param(
        0.6, "fraction", "share of purchases reported by the platforms", ge=0, le=1
    )
    credit_coverage: float = param(
        0.8, "fraction", "share of finance events reported to the credit system", ge=0, le=1
    )
    civic_coverage: float = param(
        0.5, "fraction", "share of civic acts (volunteering, blood donation) that are recorded", ge=0, le=1
    )
    court_coverage: float = param(
        1.0, "fraction", "share of unfulfilled court judgments that reach the record", ge=0, le=1
    )
    court_coverage_start: dt.date | None = param(
        None, "date", "date the court record opens (roll-out of the court list); none: the run's start"
    )
    court_coverage_ramp_years: float = param(
        0.0,
        "years",
        "roll-out: court coverage rises linearly from 0 at court_coverage_start to court_coverage over this time "
        "(0: in full at once)",
        ge=0, le=50,
    )
    linkage_error_rate: float = param(
        0.001, "probability", "chance an observed event is linked to the wrong person", ge=0, le=1
    )


# --- 4. Scoring -------------------------------------------------------------------------------


class Weights(Section):
    """Weight of each dimension's sub-score in the raw score."""

    financial: float = param(1.0, "relative", "weight of the financial sub-score", ge=0, le=100)
    legal: float = param(1.0, "relative", "weight of the legal sub-score", ge=0, le=100)
    political: float = param(1.0, "relative", "weight of the political sub-score", ge=0, le=100)
    consumption: float = param(1.0, "relative", "weight of the consumption sub-score", ge=0, le=100)
    civic: float = param(1.0, "relative", "weight of the civic sub-score", ge=0, le=100)
    social: float = param(1.0, "relative", "weight of the social sub-score", ge=0, le=100)


class EventPoints(Section):
    """Points each observed event adds to its dimension's sub-score (negative: a penalty)."""

    missed_payment: float = param(-10.0, "points/event", "financial: a missed payment", ge=-1000, le=1000)
    loan_default: float = param(-80.0, "points/event", "financial: a loan default", ge=-1000, le=1000)
    minor_violation: float = param(-5.0, "points/event", "legal: a minor violation", ge=-1000, le=1000)
    judgment_default: float = param(
        -100.0, "points/event", "legal: an unfulfilled court judgment", ge=-1000, le=1000
    )
    crime: float = param(-150.0, "points/event", "legal: a crime", ge=-1000, le=1000)
    critical_post: float = param(-8.0, "points/event", "political: a critical post", ge=-1000, le=1000)
    alcohol_purchase: float = param(-1.0, "points/event", "consumption: an alcohol purchase", ge=-1000, le=1000)
    gaming_hours: float = param(-0.3, "points/hour", "consumption: an hour of video games", ge=-1000, le=1000)
    approved_purchase: float = param(
        0.3, "points/event", "consumption: an approved purchase", ge=-1000, le=1000
    )
    volunteering: float = param(5.0, "points/event", "civic: a volunteering act", ge=-1000, le=1000)
    blood_donation: float = param(20.0, "points/event", "civic: a blood donation", ge=-1000, le=1000)


class Association(Section):
    """Friends and family: the pull toward contacts' scores and the cost of low-score contacts."""

    weight: float = param(
        0.2, "fraction", "pull of the score toward the weighted mean of contacts' scores", ge=0, le=1
    )
    contact_penalty: float = param(
        10.0, "points/contact", "points lost per contact under the threshold", ge=0, le=600
    )
    threshold: float = param(550.0, "score", "score under which a contact costs points", ge=350, le=950)


class Scoring(Section):
    """Sub-scores, their weights, and the mapping onto 350..950."""

    weights: Weights = Field(default_factory=Weights)
    points: EventPoints = Field(default_factory=EventPoints)
    half_life_weeks: float = param(
        52.0, "weeks", "half-life of an observed event's effect on its sub-score", gt=0, le=5200
    )
    gaming_free_hours: float = param(
        10.0, "hours/week", "video-game hours per week that cost nothing; each hour beyond costs points", ge=0, le=168
    )
    baseline: float = param(700.0, "score", "score of a person with a clean record", ge=350, le=950)
    spread: float = param(
        150.0, "points", "raw points that move the score most of the way (logistic scale)", gt=0, le=10000
    )
    association: Association = Field(default_factory=Association)


class Participation(Section):
    """Who is scored: everyone (mandatory) or those who opt in (voluntary)."""

    mode: Literal["voluntary", "mandatory"] = param(
        "mandatory", "-", "mandatory for all, or voluntary opt-in"
    )
    opt_in_rate: float = param(
        0.01, "probability/week", "weekly chance a non-member with everything to gain opts in", ge=0, le=1
    )
    benefit_sensitivity: float = param(
        2.0, "1/points*100", "how strongly opt-in rises with the expected score above the reward bar", ge=0, le=100
    )


# --- 5. Sanctions and rewards -----------------------------------------------------------------


class Condition(Section):
    """When a rule applies: all given parts must hold."""

    score_below: float | None = param(None, "score", "score strictly under this", ge=350, le=950)
    on_list: Literal["blacklist", "court_list"] | None = param(
        None, "-", "person is on this list"
    )
    event: EventKind | None = param(None, "-", "an observed event of this kind this step")

    @model_validator(mode="after")
    def _something(self) -> "Condition":
        if self.score_below is None and self.on_list is None and self.event is None:
            raise ValueError("a condition needs score_below, on_list or event")
        return self


class Rule(Section):
    """A sanction rule: a condition triggers a measure for at least min_weeks."""

    measure: Measure = param(..., "-", "the measure applied")
    when: Condition = param(..., "-", "the condition that triggers it")
    min_weeks: int = param(26, "weeks", "minimum duration once applied", ge=1, le=5200)
    exit_score_above: float | None = param(
        None, "score", "after min_weeks, lifted once the score is at or above this (else when the condition ends)",
        ge=350, le=950,
    )
    relatives: bool = param(False, "-", "apply the measure to the person's household too")


class Appeals(Section):
    """Due process for listed people."""

    rate: float = param(0.02, "probability/week", "weekly chance a sanctioned or listed person appeals", ge=0, le=1)
    success_rate: float = param(
        0.3, "probability", "chance an appeal against an erroneous entry clears it", ge=0, le=1
    )


class CourtList(Section):
    """The court list of dishonest judgment debtors."""

    enabled: bool = param(True, "-", "people with an observed unfulfilled judgment are listed")
    fulfil_rate: float = param(
        0.01, "probability/week", "weekly chance a listed debtor pays or complies and leaves the list", ge=0, le=1
    )
    term_weeks: int = param(
        104, "weeks", "fixed term after which an entry expires", ge=1, le=5200
    )


class Effects(Section):
    """How measures act back on behaviour."""

    throttle_online_factor: float = param(
        0.3, "fraction", "online activity kept under internet throttling", ge=0, le=1
    )
    job_ban_income_factor: float = param(
        0.7, "fraction", "income kept under a job ban", ge=0, le=1
    )
    blacklist_income_factor: float = param(
        0.85, "fraction", "income kept while on the public blacklist (lost business)", ge=0, le=1
    )


class Sanctions(Section):
    """Rules that map conditions to measures, the lists, appeals and effects."""

    rules: list[Rule] = param([], "-", "sanction rules, applied in order")
    court_list: CourtList = Field(default_factory=CourtList)
    blacklist_term_weeks: int = param(
        156, "weeks", "term after which a blacklist entry expires", ge=1, le=5200
    )
    appeals: Appeals = Field(default_factory=Appeals)
    effects: Effects = Field(default_factory=Effects)
    firm_listing: bool = param(
        True, "-", "firms with observed corruption are listed and their owners barred from management"
    )


class RewardRule(Section):
    """A reward for scores at or above a bar."""

    reward: Reward = param(..., "-", "the reward granted")
    score_at_least: float = param(..., "score", "score needed", ge=350, le=950)


class Rewards(Section):
    rules: list[RewardRule] = param([], "-", "reward rules")


# --- 6. Responses -----------------------------------------------------------------------------


class Chilling(Section):
    """Expressed dissent = latent dissent x (1 - perceived risk)."""

    strength: float = param(0.8, "0..1", "largest share of dissent that fear can silence", ge=0, le=1)
    surveillance_weight: float = param(
        0.5, "0..1", "how much observation coverage feeds perceived risk", ge=0, le=1
    )
    neighbourhood_weight: float = param(
        3.0, "per sanctioned-contact share", "how much sanctions among contacts feed perceived risk", ge=0, le=100
    )
    memory_weeks: float = param(12.0, "weeks", "time scale over which perceived risk adapts", gt=0, le=520)


class Distancing(Section):
    """People drop ties to low scorers when association costs points."""

    strength: float = param(
        0.05, "probability/week", "weekly chance of dropping a tie to a contact under the threshold", ge=0, le=1
    )
    family_factor: float = param(
        0.1, "fraction", "family ties are dropped at this fraction of the rate", ge=0, le=1
    )


class Compliance(Section):
    strength: float = param(
        0.5, "0..1", "largest cut in penalised purchases when they cost points", ge=0, le=1
    )


class Deterrence(Section):
    strength: float = param(
        0.5, "0..1", "cut in crime and violations per unit of detection probability", ge=0, le=1
    )


class Responses(Section):
    chilling: Chilling = Field(default_factory=Chilling)
    distancing: Distancing = Field(default_factory=Distancing)
    compliance: Compliance = Field(default_factory=Compliance)
    deterrence: Deterrence = Field(default_factory=Deterrence)


# --- Run --------------------------------------------------------------------------------------


class Run(Section):
    start: dt.date = param(dt.date(2020, 1, 1), "date", "calendar date of step 0")
    step_days: int = param(7, "days", "length of a step", ge=1, le=366)
    years: float = param(1.0, "years", "simulated time", gt=0, le=200)
    snapshot: bool = param(False, "-", "write person-level Parquet snapshots at the end")

    @property
    def steps(self) -> int:
        return max(1, round(self.years * 365.25 / self.step_days))


class Scenario(Section):
    """A whole scenario: a society, a system acting on it, and how long to run."""

    name: str = param("custom", "-", "short name of the scenario")
    description: str = param("", "-", "what the scenario is, in one or two sentences")
    population: Population = Field(default_factory=Population)
    network: Network = Field(default_factory=Network)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    surveillance: Surveillance = Field(default_factory=Surveillance)
    scoring: Scoring = Field(default_factory=Scoring)
    participation: Participation = Field(default_factory=Participation)
    sanctions: Sanctions = Field(default_factory=Sanctions)
    rewards: Rewards = Field(default_factory=Rewards)
    responses: Responses = Field(default_factory=Responses)
    run: Run = Field(default_factory=Run)
    uncertainty: dict[str, PlausibleRange] = param(
        {}, "-", "plausible range [lo, hi] and reason of each assumed parameter, by dotted key (docs/ensembles.md)"
    )
