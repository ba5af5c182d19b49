"""The people's kernels: demographics (age, sex, occupation, income, minority) and latent traits."""

from __future__ import annotations

import math

import numba
import numpy as np

from trustsim.rng import unit_jit
from trustsim.society.codes import dissent_code_jit, unit_code_jit
from trustsim.society.kernels.draws import norm_cdf, normal_jit, pick_table


@numba.njit(cache=True, nogil=True)
def demographics(start, stop, keys, urban, region, household, age_cdf, age_min, female_share, occ_cdf,
                 log_loc, income_sigma, minority_p, age, female, occupation, income, minority):
    """Age, sex, occupation (given age, sex, urban), income (given urban, occupation), minority.

    occ_cdf[(age - age_min) * 4 + urban * 2 + female] is the occupation CDF of that cell;
    log_loc[urban, occupation] the median log income; minority is drawn per household.
    """
    for i in range(start, stop):
        idx = np.uint64(i)
        a = pick_table(age_cdf, unit_jit(keys[0], idx))
        f = 1 if unit_jit(keys[1], idx) < female_share else 0
        u = urban[i]
        o = pick_table(occ_cdf[a * 4 + u * 2 + f], unit_jit(keys[2], idx))
        age[i] = a + age_min
        female[i] = f
        occupation[i] = o
        income[i] = math.exp(log_loc[u, o] + income_sigma * normal_jit(keys[3], idx))
        minority[i] = 1 if unit_jit(keys[4], np.uint64(household[i])) < minority_p[region[i]] else 0


@numba.njit(cache=True, nogil=True)
def latent_traits(start, stop, keys, income, log_mean, log_sd, rel_corr, law_loc, law_corr, activist_share,
                  activist_floor, tail_index, baseline_scale, online_loc, gamer_loc, drinker_loc,
                  sociability_loc, reliability, law_abidance, dissent, online, gaming, drinking,
                  sociability):
    """Latent traits in [0, 1], each the normal CDF of a latent normal unless stated, stored as
    16-bit codes (society/codes.py).

    sociability's latent normal is keys[7]'s draw, reused by friend_weights.
    """
    rel_rest = math.sqrt(max(0.0, 1.0 - rel_corr * rel_corr))
    law_rest = math.sqrt(max(0.0, 1.0 - law_corr * law_corr))
    floor_ratio = baseline_scale / activist_floor
    for i in range(start, stop):
        idx = np.uint64(i)
        z_inc = (math.log(income[i]) - log_mean) / log_sd
        z_rel = rel_corr * z_inc + rel_rest * normal_jit(keys[0], idx)
        reliability[i] = unit_code_jit(norm_cdf(z_rel))
        law_abidance[i] = unit_code_jit(norm_cdf(law_loc + law_corr * z_rel + law_rest * normal_jit(keys[1], idx)))
        u = unit_jit(keys[3], idx)
        if unit_jit(keys[2], idx) < activist_share:
            # Pareto tail X = u**(-1/alpha) >= 1 mapped onto [floor, 1): 1 - d = (1 - floor) / X.
            d = 1.0 - (1.0 - activist_floor) * (1.0 - u) ** (1.0 / tail_index)
        else:
            # Exponential of scale baseline_scale, squeezed under the floor.
            d = activist_floor * (1.0 - (1.0 - u) ** floor_ratio)
        dissent[i] = dissent_code_jit(d)
        online[i] = unit_code_jit(norm_cdf(online_loc + normal_jit(keys[4], idx)))
        gaming[i] = unit_code_jit(norm_cdf(gamer_loc + normal_jit(keys[5], idx)))
        drinking[i] = unit_code_jit(norm_cdf(drinker_loc + normal_jit(keys[6], idx)))
        sociability[i] = unit_code_jit(norm_cdf(sociability_loc + normal_jit(keys[7], idx)))
