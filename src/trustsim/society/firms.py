"""Organisations: private firms and the other workplaces that hold colleagues.

Use `build_workplaces` after `draw_people`. Within each region, employees in memory order are cut
into consecutive firms of lognormal size (mean Firms.employees_mean, spread Firms.size_sigma), so
a firm's staff live near each other; each firm is owned by a distinct business owner of its
region, spread evenly along it. Business owners left over are sole traders (firm -1), as are the
employees of a region without any business owner, which happens only in tiny populations. A
firm's corruption propensity is Beta(mean, concentration).

Civil servants and state managers form state work units, farmers village farm teams, each a run
of consecutive people of mean size WorkLayer.state_unit_size / farm_team_size (1 + Poisson).
These are workplaces for the work layer, not firms. Students, retired and unemployed people have
no workplace.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import betaincinv

from trustsim import rng
from trustsim.scenario.schema import OCCUPATIONS, Firms, WorkLayer
from trustsim.society.layout import Layout

EMPLOYEE = OCCUPATIONS.index("employee")
OWNER = OCCUPATIONS.index("business_owner")
STATE = (OCCUPATIONS.index("civil_servant"), OCCUPATIONS.index("state_manager"))
FARMER = OCCUPATIONS.index("farmer")
# Quadrature grid of the standard normal for the firm-size mean: +-8 sd, fine enough for rounding.
_Z_RANGE, _Z_POINTS = 8.0, 4001


@dataclass(frozen=True)
class Workplaces:
    """Members of every workplace: members[offsets[w]:offsets[w + 1]] (firms first, owner leading)."""

    members: np.ndarray  # int32
    offsets: np.ndarray  # int64


def _lognormal_location(mean: float, sigma: float) -> float:
    """mu such that max(1, round(exp(mu + sigma Z))) has mean `mean` (rounding biases it up)."""
    z = np.linspace(-_Z_RANGE, _Z_RANGE, _Z_POINTS)
    w = np.exp(-0.5 * z * z)
    w /= w.sum()

    def excess(mu: float) -> float:
        return float(w @ np.maximum(1.0, np.rint(np.exp(mu + sigma * z)))) - mean

    guess = np.log(mean) - 0.5 * sigma**2
    return brentq(excess, guess - 10.0, guess + 1.0) if mean > 1.0 else -np.inf


def _cut(count: int, seed: int, stream: str, region: int, mean: float, sigma: float | None, mu: float = 0.0) -> np.ndarray:
    """Sizes of consecutive groups covering `count` people: lognormal (mu, sigma) or 1 + Poisson."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    k = int(1.5 * count / mean) + 16
    while True:
        index = np.arange(k, dtype=np.uint64)
        if sigma is None:
            sizes = 1 + rng.poisson(seed, stream, region, np.full(k, mean - 1.0), index).astype(np.int64)
        else:
            z = rng.normal(seed, stream, region, index)
            sizes = np.maximum(1, np.rint(np.exp(mu + sigma * z))).astype(np.int64)
        total = np.cumsum(sizes)
        if total[-1] >= count:
            break
        k *= 2
    m = int(np.searchsorted(total, count)) + 1
    sizes = sizes[:m]
    sizes[-1] = count - (total[m - 2] if m > 1 else 0)
    return sizes


def _runs(people: np.ndarray, layout: Layout, seed: int, stream: str, mean: float) -> list[np.ndarray]:
    """Consecutive groups of `people` (sorted indices) within each region: the groups' sizes."""
    bounds = np.searchsorted(people, layout.region_lo), np.searchsorted(people, layout.region_hi)
    return [_cut(int(hi - lo), seed, stream, r, mean, None) for r, (lo, hi) in enumerate(zip(*bounds))]


def build_workplaces(firms_p: Firms, work: WorkLayer, layout: Layout, occupation: np.ndarray, seed: int):
    """Firms (owner, region, size, corruption), each person's firm, and all workplaces."""
    employees = np.flatnonzero(occupation == EMPLOYEE).astype(np.int32)
    owners = np.flatnonzero(occupation == OWNER).astype(np.int32)
    emp_lo = np.searchsorted(employees, layout.region_lo)
    emp_hi = np.searchsorted(employees, layout.region_hi)
    own_lo = np.searchsorted(owners, layout.region_lo)
    own_hi = np.searchsorted(owners, layout.region_hi)

    owner_of, region_of, sizes, staff = [], [], [], []
    mu = _lognormal_location(firms_p.employees_mean, firms_p.size_sigma)
    for r in range(len(layout.region_names)):
        count, available = int(emp_hi[r] - emp_lo[r]), int(own_hi[r] - own_lo[r])
        if count == 0 or available == 0:
            continue
        s = _cut(count, seed, "society.firm_size", r, firms_p.employees_mean, firms_p.size_sigma, mu)
        if s.shape[0] > available:
            # Fewer owners than firms: merge into one firm per owner, keeping the relative cuts.
            cuts = np.floor(np.cumsum(s[:available]) * count / s[:available].sum()).astype(np.int64)
            cuts[-1] = count
            s = np.diff(cuts, prepend=0)
        f = s.shape[0]
        pick = np.floor((np.arange(f) + 0.5) * available / f).astype(np.int64)
        owner_of.append(owners[own_lo[r] + pick])
        region_of.append(np.full(f, r, dtype=np.uint8))
        sizes.append(s)
        staff.append(employees[emp_lo[r] : emp_lo[r] + count])

    def cat(parts, dtype):
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    owner = cat(owner_of, np.int32)
    size = cat(sizes, np.int32)
    staff_all = cat(staff, np.int32)
    n_firms = owner.shape[0]
    firm = np.full(layout.n, -1, dtype=np.int32)
    firm_of_staff = np.repeat(np.arange(n_firms, dtype=np.int32), size)
    firm[staff_all] = firm_of_staff
    firm[owner] = np.arange(n_firms, dtype=np.int32)

    mean, conc = firms_p.corruption_mean, firms_p.corruption_concentration
    u = rng.uniform(seed, "society.firm_corruption", 0, n_firms)
    if 0.0 < mean < 1.0:
        corruption = betaincinv(mean * conc, (1.0 - mean) * conc, u).astype(np.float32)
    else:
        corruption = np.full(n_firms, mean, dtype=np.float32)
    firms = {"owner": owner, "region": cat(region_of, np.uint8), "size": size, "corruption": corruption}

    # Firm workplaces: the owner, then the staff.
    firm_members = np.empty(staff_all.shape[0] + n_firms, dtype=np.int32)
    firm_start = np.concatenate([[0], np.cumsum(size[:-1], dtype=np.int64)]) + np.arange(n_firms)
    firm_members[firm_start] = owner
    firm_members[np.arange(staff_all.shape[0]) + firm_of_staff + 1] = staff_all
    del firm_of_staff, staff_all

    state = np.flatnonzero(np.isin(occupation, STATE)).astype(np.int32)
    farmers = np.flatnonzero(occupation == FARMER).astype(np.int32)
    state_sizes = _runs(state, layout, seed, "society.state_unit_size", work.state_unit_size)
    farm_sizes = _runs(farmers, layout, seed, "society.farm_team_size", work.farm_team_size)
    all_sizes = np.concatenate([size.astype(np.int64) + 1, *state_sizes, *farm_sizes])
    offsets = np.zeros(all_sizes.shape[0] + 1, dtype=np.int64)
    np.cumsum(all_sizes, out=offsets[1:])
    members = np.concatenate([firm_members, state, farmers])
    return firms, firm, Workplaces(members, offsets)
