"""The tipping regime, named: the box of parameter settings where runs reach the high branch.

Use `high_branch` to mark the runs of a bimodal outcome (e.g. the final blacklist share) that
reached the high branch, `find_box` for the box of the prior bank (parameters in their own units)
that holds them, found with PRIM (Friedman and Fisher 1999; the BSD-licensed EMA Workbench's
`ema_workbench.analysis.prim`), and the `TippingBox` it returns for the box's limits, its share of
the prior (`prior_mass`), the posterior mass inside it (`mass` on weighted posterior draws) and a
plain-words description (`describe`).

The box is chosen on PRIM's peeling trajectory by a fixed rule, so the same bank always names the
same regime: among the boxes in which at least `min_density` of the runs are high, the one with
the largest coverage minus prior mass (the share of high runs it holds minus its share of the
bank; proportional to the weighted relative accuracy of subgroup discovery). That difference
grows while a peel removes mostly low runs and shrinks once it removes mostly high ones, so it
peaks where the box meets the regime's edges rather than at the densest, overfitted end of the
trajectory. A restriction whose quasi-p value (Bryant and Lempert 2010: the binomial chance of the
box's density if that restriction alone were lifted) is above MAX_QUASI_P is then dropped: PRIM
often trims a few percent off a parameter that does not matter, and a named regime must not name
it. The EMA Workbench gives a quasi-p value to each restricted side of a parameter, so each side is
a restriction of its own: an insignificant side is opened, and a parameter with both sides open is
not named.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_HIGH = 20  # fewer high runs than this: a box would describe noise, none is named
MIN_DENSITY = 0.5  # a regime's box: its runs reach the high branch more often than not
MAX_QUASI_P = 0.05  # the usual significance level of PRIM's quasi-p values
MIN_BRANCH = 10  # the automatic split leaves at least this many runs on either side


def _prim():
    """The EMA Workbench's PRIM module: part of the optional extra 'posterior', so imported on use."""
    with warnings.catch_warnings():
        # At import the EMA Workbench warns about optional extras that PRIM does not use.
        warnings.filterwarnings("ignore", message="ipyparallel not installed", category=UserWarning)
        warnings.filterwarnings("ignore", message="altair based interactive inspection not available",
                                category=ImportWarning)
        from ema_workbench.analysis import prim
    return prim


def split_point(final_values: np.ndarray) -> float:
    """Where a bimodal outcome splits: the geometric middle of the largest gap between its log values.

    Only finite values count. A value <= 0 is placed one decade below the smallest positive value,
    so an all-zero low branch sits apart from any positive one. Only gaps that leave at least
    MIN_BRANCH runs on either side are candidates, so one outlying run never makes a branch.
    Returns inf (no run above it) when no such gap exists. The rule assumes a bimodal outcome: on
    a unimodal one the largest gap is somewhere in a tail, and a threshold should be given instead.
    """
    x = np.asarray(final_values, dtype=np.float64)
    x = x[np.isfinite(x)]
    positive = x[x > 0]
    if len(x) < 2 * MIN_BRANCH or len(positive) == 0:
        return math.inf
    floor = positive.min() / 10
    logs = np.sort(np.log10(np.maximum(x, floor)))
    gaps = np.diff(logs)[MIN_BRANCH - 1:len(logs) - MIN_BRANCH]
    if len(gaps) == 0 or gaps.max() <= 0:
        return math.inf
    i = MIN_BRANCH - 1 + int(np.argmax(gaps))
    return float(10 ** ((logs[i] + logs[i + 1]) / 2))


def high_branch(final_values: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Which runs reached the high branch: final value above `threshold` (default `split_point`'s).

    A NaN (a failed run) is never high.
    """
    x = np.asarray(final_values, dtype=np.float64)
    cut = split_point(x) if threshold is None else threshold
    return x > cut


def _inside(values: pd.DataFrame, limits: Mapping[str, tuple[float, float]]) -> np.ndarray:
    inside = np.ones(len(values), dtype=bool)
    for key, (lo, hi) in limits.items():
        column = values[key].to_numpy(dtype=np.float64)
        inside &= (column >= lo) & (column <= hi)
    return inside


def _number(x: float, unit: str) -> str:
    return f"{x:.3g} {unit}" if unit else f"{x:.3g}"


@dataclass(frozen=True)
class TippingBox:
    """A box of parameter settings where runs reach the high branch, and how it was found.

    limits holds only the restricted parameters, most significant first (PRIM's quasi-p order),
    each as (lo, hi) in its own units and closed; a side the box leaves open is -inf or inf, so
    posterior draws beyond the bank's range still count. coverage is the share of the bank's high
    runs inside the box, density the share of the box's runs that are high, prior_mass the share
    of the bank inside it.
    """

    limits: dict[str, tuple[float, float]]
    coverage: float
    density: float
    prior_mass: float

    def mass(self, values: pd.DataFrame, weights: np.ndarray | None = None) -> float:
        """The (weighted) share of the rows of `values` inside the box: e.g. its posterior mass."""
        inside = _inside(values, self.limits)
        if weights is None:
            return float(inside.mean())
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != inside.shape or np.any(weights < 0) or not weights.sum() > 0:
            raise ValueError("weights must be one non-negative number per row, not all zero")
        return float(weights[inside].sum() / weights.sum())

    def describe(self, labels: Mapping[str, str] | None = None, units: Mapping[str, str] | None = None) -> str:
        """The box in plain words, e.g. "points per critical post below -11 and the low-contact ...".

        labels maps a dotted key to plain words (else the key), units a key to its unit (else none).
        """
        parts = []
        for key, (lo, hi) in self.limits.items():
            name = labels.get(key, key) if labels else key
            unit = units.get(key, "") if units else ""
            if math.isinf(lo):
                parts.append(f"{name} below {_number(hi, unit)}")
            elif math.isinf(hi):
                parts.append(f"{name} above {_number(lo, unit)}")
            else:
                parts.append(f"{name} between {lo:.3g} and {_number(hi, unit)}")
        where = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return (f"{where}: {round(100 * self.prior_mass)}% of the prior, where {round(100 * self.density)}% "
                f"of the runs reach the high branch, holding {round(100 * self.coverage)}% of those that do")


def find_box(values: pd.DataFrame, high: np.ndarray, min_density: float = MIN_DENSITY, min_high: int = MIN_HIGH,
             peel_alpha: float = 0.05, min_mass: float = 0.05) -> TippingBox | None:
    """The box of the bank where runs reach the high branch, or None when there is none to name.

    values holds the bank's parameters in their own units (one column per dotted key), high which
    runs reached the high branch. peel_alpha is the share PRIM peels off per step and min_mass the
    smallest share of the bank a box may keep (PRIM's defaults). The box is chosen on the peeling
    trajectory, and its insignificant restrictions dropped, as the module docstring says; coverage,
    density and prior mass are those of the box that is left. None when fewer than `min_high` runs
    are high, when no box on the trajectory reaches `min_density`, or when no significant restriction
    is left (the high runs are not set apart from the rest of the bank).
    """
    high = np.asarray(high, dtype=bool)
    if high.shape != (len(values),):
        raise ValueError(f"high has shape {high.shape}, values {len(values)} rows")
    if high.sum() < min_high:
        return None
    if high.all():
        return None  # every run is high: nothing sets them apart (and PRIM wants both classes)
    # Positional column names: the EMA Workbench's PRIM drops a column named "scenario", and dotted
    # keys stay ours.
    keys = list(values.columns)
    x = pd.DataFrame(values.to_numpy(dtype=np.float64), columns=[f"x{j}" for j in range(len(keys))])
    # PRIM's threshold is both what counts as a case of interest (y >= threshold, here the high runs)
    # and the density its final box must reach, else it returns the unrestricted box. Every peel and
    # paste raises the density, so the final box is the densest on the trajectory and the check
    # rejects only trajectories with no box at min_density, which the rule below rejects anyway.
    threshold = min(max(float(min_density), 1e-9), 1.0)
    prim = _prim()
    with warnings.catch_warnings():
        # The Workbench's own use of a pandas keyword pandas deprecates; nothing of ours to act on.
        warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.drop is deprecated")
        box = prim.Prim(x, high.astype(np.int64), threshold=threshold, threshold_type=prim.ABOVE,
                        peel_alpha=peel_alpha, paste_alpha=peel_alpha, mass_min=min_mass).find_box()
    trajectory = box.peeling_trajectory
    score = np.where(trajectory["density"].to_numpy(dtype=np.float64) >= min_density,
                     trajectory["coverage"].to_numpy(dtype=np.float64)
                     - trajectory["mass"].to_numpy(dtype=np.float64), -np.inf)
    best = int(np.argmax(score))  # the first (largest) box among equals
    if not np.isfinite(score[best]):
        return None
    box_lims, quasi_p = box.box_lims[best], box.qp[best]  # qp: restricted parameters only
    kept: list[tuple[float, str, tuple[float, float]]] = []
    for name, (qp_lo, qp_hi) in quasi_p.items():
        # A quasi-p value of -1 marks a side PRIM left at the bank's range; an insignificant side opens.
        lo_kept = 0 <= qp_lo <= MAX_QUASI_P
        hi_kept = 0 <= qp_hi <= MAX_QUASI_P
        if not (lo_kept or hi_kept):
            continue
        lo = float(box_lims.loc[0, name]) if lo_kept else -math.inf
        hi = float(box_lims.loc[1, name]) if hi_kept else math.inf
        significance = min(qp for qp, on in ((qp_lo, lo_kept), (qp_hi, hi_kept)) if on)
        kept.append((significance, str(name), (lo, hi)))
    if not kept:
        return None
    kept.sort(key=lambda entry: entry[0])  # most significant first; stable among equals
    limits = {keys[int(name[1:])]: bounds for _, name, bounds in kept}
    inside = _inside(values, limits)
    return TippingBox(limits=limits, coverage=float(high[inside].sum() / high.sum()),
                      density=float(high[inside].mean()), prior_mass=float(inside.mean()))
