"""People's observable attributes: age, sex, occupation, income, minority status.

Use `draw_people` after the layout. Marginals come from the census figures in the scenario;
the tables here make the joint distribution coherent: ages follow a flat adult profile that
decays past 60 with share_60_plus matched, occupations depend on age, sex and urban status
(retired past retirement age, students young, farmers rural) with the national shares matched by
raking, incomes are lognormal around occupation and urban medians with the national median and
the urban/rural median ratio matched, and minority status is drawn per household with a regional
concentration rescaled to the national share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

from trustsim import rng
from trustsim.kernels.threads import in_blocks
from trustsim.scenario.schema import OCCUPATIONS, Population
from trustsim.society.kernels import people as sk
from trustsim.society.layout import URBAN, Layout

OLD_AGE = 60  # the boundary of Population.share_60_plus
_RAKING_ROUNDS = 500  # at most; raking stops once the scales settle to within _RAKING_SETTLED
_RAKING_SETTLED = 1e-13  # relative change of every scale in a round: the shares are then exact to ~1e-13
_TINY = np.finfo(float).tiny


def age_distribution(population: Population) -> np.ndarray:
    """P(age = age_min + k): flat to 59, then decaying by old_age_decay, with share_60_plus matched."""
    ages = np.arange(population.age_min, population.age_max + 1)
    old = ages >= OLD_AGE
    weight = np.where(old, np.exp(-(ages - OLD_AGE) / population.old_age_decay), 1.0)
    p = np.zeros(ages.shape[0])
    for group, share in ((old, population.share_60_plus), (~old, 1.0 - population.share_60_plus)):
        if group.any():
            p[group] = share * weight[group] / weight[group].sum()
    return p / p.sum()


def occupation_table(population: Population, age_p: np.ndarray, urban_share: float) -> tuple[np.ndarray, np.ndarray]:
    """P(occupation | age, urban, female) as cells (age * 4 + urban * 2 + female, occupation).

    A prior affinity of each cell for each occupation, raked so that the national shares match.
    Returns the table and the mass of each cell.
    """
    ages = np.arange(population.age_min, population.age_max + 1)
    mass = (
        age_p[:, None, None]
        * np.array([1.0 - urban_share, urban_share])[None, :, None]
        * np.array([1.0 - population.female_share, population.female_share])[None, None, :]
    )
    retire_age = np.array([population.retirement_age_male, population.retirement_age_female])
    retired = ages[:, None, None] >= retire_age[None, None, :]  # (age, 1, sex)
    affinity = np.ones(mass.shape + (len(OCCUPATIONS),))
    for o, name in enumerate(OCCUPATIONS):
        if name == "retired":
            affinity[..., o] = np.broadcast_to(retired, mass.shape)
        elif name == "student":
            affinity[..., o] = (ages <= population.student_age_max)[:, None, None]
        else:
            affinity[..., o] = np.where(retired, population.work_after_retirement, 1.0)
            if name == "farmer":
                affinity[:, URBAN, :, o] *= population.urban_farmer_affinity
    target = np.array([population.occupation_shares.get(o, 0.0) for o in OCCUPATIONS])
    target = target / target.sum()
    scale = target.copy()
    for _ in range(_RAKING_ROUNDS):
        p = affinity * scale
        p /= np.maximum(p.sum(axis=-1, keepdims=True), _TINY)
        current = np.einsum("ijk,ijko->o", mass, p)
        settled = scale
        scale = np.where(current > 0, scale * target / np.maximum(current, _TINY), scale)
        if np.all(np.abs(scale - settled) <= _RAKING_SETTLED * np.abs(settled)):
            break
    return p.reshape(-1, len(OCCUPATIONS)), mass.reshape(-1)


def _mixture_median(loc: np.ndarray, weight: np.ndarray, sigma: float) -> float:
    """Median of a mixture of normals N(loc_c, sigma) with weights (log-income scale)."""
    keep = weight > 0
    loc, weight = loc[keep], weight[keep] / weight[keep].sum()
    sigma = max(sigma, 1e-9)
    lo, hi = loc.min() - 10 * sigma - 1, loc.max() + 10 * sigma + 1
    return brentq(lambda m: float(weight @ ndtr((m - loc) / sigma)) - 0.5, lo, hi)


@dataclass(frozen=True)
class IncomeModel:
    """Median log income by (urban, occupation), and the population's log-income mean and sd."""

    log_loc: np.ndarray  # (2, occupations)
    log_mean: float
    log_sd: float


def income_model(population: Population, cell_p: np.ndarray, cell_mass: np.ndarray) -> IncomeModel:
    n_occ = len(OCCUPATIONS)
    # Mass of each (urban, occupation) from the occupation table's cells (age, urban, female).
    joint = (cell_p * cell_mass[:, None]).reshape(-1, 2, 2, n_occ).sum(axis=(0, 2))
    log_factor = np.log([population.occupation_income.get(o, 1.0) for o in OCCUPATIONS])
    sigma = population.income_sigma
    # Each status's median with unit base, then bases setting the urban/rural ratio of medians.
    q = np.array([_mixture_median(log_factor, joint[x], sigma) if joint[x].sum() > 0 else 0.0 for x in (0, 1)])
    base = -q + np.array([0.0, np.log(population.urban_income_ratio)])
    log_loc = base[:, None] + log_factor[None, :]
    overall = _mixture_median(log_loc.ravel(), joint.ravel(), sigma)
    log_loc += np.log(population.income_median) - overall
    w = joint.ravel() / joint.sum()
    mean = float(w @ log_loc.ravel())
    var = sigma**2 + float(w @ (log_loc.ravel() - mean) ** 2)
    return IncomeModel(log_loc, mean, float(np.sqrt(var)) if var > 0 else 1.0)


def minority_probability(population: Population, counts: np.ndarray, names: list[str]) -> np.ndarray:
    """Per-region minority probability: min(1, c * weight), c set so the national share matches."""
    weight = np.array([population.minority_weight.get(k, 1.0) for k in names], dtype=np.float64)
    if weight.sum() <= 0:
        weight[:] = 1.0
    target = population.minority_share * counts.sum()

    def excess(c: float) -> float:
        return float(counts @ np.minimum(1.0, c * weight)) - target

    if target <= 0:
        return np.zeros_like(weight)
    hi = 1.0 / weight[weight > 0].min()
    c = hi if excess(hi) <= 0 else brentq(excess, 0.0, hi)
    return np.minimum(1.0, c * weight)


def draw_people(population: Population, layout: Layout, seed: int) -> tuple[dict[str, np.ndarray], IncomeModel]:
    """Age, female, occupation, income and minority of each person, in layout order."""
    n = layout.n
    age_p = age_distribution(population)
    urban_share = float(layout.urban.sum(dtype=np.int64)) / max(n, 1)
    cell_p, cell_mass = occupation_table(population, age_p, urban_share)
    income = income_model(population, cell_p, cell_mass)
    out = {
        "age": np.empty(n, dtype=np.uint8),
        "female": np.empty(n, dtype=np.uint8),
        "occupation": np.empty(n, dtype=np.uint8),
        "income": np.empty(n, dtype=np.float32),
        "minority": np.empty(n, dtype=np.uint8),
    }
    keys = np.array(
        [rng.key(seed, f"society.{s}") for s in ("age", "female", "occupation", "income", "minority")],
        dtype=np.uint64,
    )
    age_cdf = np.cumsum(age_p)
    age_cdf[-1] = 1.0
    occ_cdf = np.cumsum(cell_p, axis=1)
    occ_cdf[:, -1] = 1.0
    in_blocks(
        sk.demographics, layout.n,
        keys, layout.urban, layout.region, layout.household, age_cdf, population.age_min,
        population.female_share, occ_cdf, income.log_loc, population.income_sigma,
        minority_probability(population, layout.region_counts, layout.region_names),
        out["age"], out["female"], out["occupation"], out["income"], out["minority"],
    )
    return out, income
