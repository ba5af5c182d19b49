"""Scenario sections of the synthetic society (docs/model.md, section 1): population, traits, firms, network.

Use this module for who the synthetic adults are (census marginals, occupations, incomes, latent
traits), the firms they work in, and the family, friends and work layers that tie them together.
The province tables are the defaults of `Population.regions` and `Population.minority_weight`.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from trustsim.scenario.schema.base import Occupation, Section, param


# 2020 census, million people per province (docs/sources.md).
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
