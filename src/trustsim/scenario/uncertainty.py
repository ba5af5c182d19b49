"""Plausible ranges: how far each assumed parameter of a scenario could reasonably lie from its value.

A scenario's `uncertainty:` section maps a dotted key to a `PlausibleRange` (`range: [lo, hi]`
and a one-line `reason`); `--vary KEY=LO:HI` adds or overrides one from the command line. These
ranges are separate from the allowed ranges of the schema (schema.py): an allowed range says what
the model accepts, a plausible range what the evidence leaves open. Use `check_ranges` to validate
ranges against a scenario (the key exists, is a number, and LO < HI both lie in its allowed range),
`parse_vary` for the command line, `ranges_of` for a scenario's ranges with --vary applied, and
`with_values` for the scenario at one point of the ranges. Ensembles, uncertainty and sensitivity
analysis (experiments/ensembles/) sample these ranges.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from annotated_types import Ge, Gt, Le, Lt

from trustsim.errors import UserError
from trustsim.scenario.fields import allowed_at, apply_overrides, check_path, field_at, type_words, unwrap
from trustsim.scenario.schema.ranges import PlausibleRange


def parse_vary(items: Iterable[str]) -> dict[str, PlausibleRange]:
    """`KEY=LO:HI` strings from the command line as {dotted key: PlausibleRange}."""
    out: dict[str, PlausibleRange] = {}
    for item in items:
        key, sep, span = item.partition("=")
        lo, colon, hi = span.partition(":")
        if not sep or not key.strip() or not colon:
            raise UserError(f"--vary {item}: not KEY=LO:HI; allowed: e.g. --vary scoring.association.weight=0.1:0.5")
        words = [t for t in (lo, hi) if not _is_number(t)]
        if words:
            raise UserError(f"--vary {item}: {words[0]!r} is not a number; allowed: LO and HI as numbers, the range "
                            f"of a numeric parameter (a date or a word cannot be varied)")
        pair = (float(lo), float(hi))
        if not all(np.isfinite(pair)):
            raise UserError(f"--vary {item}: LO and HI must be finite; allowed: e.g. "
                            f"--vary scoring.association.weight=0.1:0.5")
        if not pair[0] < pair[1]:
            raise UserError(f"--vary {item}: LO ({pair[0]:g}) >= HI ({pair[1]:g}); allowed: LO < HI")
        out[key.strip()] = PlausibleRange(range=pair, reason="--vary on the command line")
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bounds(info: Any) -> tuple[float | None, bool, float | None, bool]:
    """(low, low inclusive, high, high inclusive) of a field's allowed range."""
    low = high = None
    low_in = high_in = True
    for m in info.metadata if info is not None else ():
        if isinstance(m, Ge):
            low = m.ge
        elif isinstance(m, Gt):
            low, low_in = m.gt, False
        elif isinstance(m, Le):
            high = m.le
        elif isinstance(m, Lt):
            high, high_in = m.lt, False
    return low, low_in, high, high_in


def is_integer(scenario: Any, key: str) -> bool:
    """Whether the parameter at key holds a whole number (sampled values are then rounded)."""

    _, annotation = field_at(check_path(scenario, key, None, "uncertainty"))
    return unwrap(annotation) is int


def check_ranges(scenario: Any, ranges: Mapping[str, PlausibleRange], where: str) -> None:
    """Refuse a range whose key is not a numeric field of the scenario or that leaves its allowed range."""

    for key, rng in ranges.items():
        label = f"{where}: uncertainty {key} = [{rng.lo:g}, {rng.hi:g}]"
        parts = check_path(scenario, key, list(rng.range), f"{where}, uncertainty")
        info, annotation = field_at(parts)
        if unwrap(annotation) not in (int, float):
            raise UserError(f"{label}: {key} holds {type_words(annotation)}, not a number; "
                            f"allowed: the dotted key of a numeric parameter")
        low, low_in, high, high_in = _bounds(info)
        outside = [v for v in rng.range
                   if (low is not None and (v < low or (v == low and not low_in)))
                   or (high is not None and (v > high or (v == high and not high_in)))]
        if outside:
            raise UserError(f"{label}: {outside[0]:g} is outside the allowed range; allowed: {allowed_at(parts)}")


def ranges_of(scenario: Any, vary: Mapping[str, PlausibleRange] | None = None,
              only: Iterable[str] | None = None) -> dict[str, PlausibleRange]:
    """The scenario's plausible ranges, with --vary's added or replacing them, checked; `only` keeps those keys."""
    ranges = {**scenario.uncertainty, **(vary or {})}
    if vary:
        check_ranges(scenario, vary, "--vary")
    if only is not None:
        keep = list(only)
        unknown = [k for k in keep if k not in ranges]
        if unknown:
            raise UserError(f"{unknown[0]}: no plausible range for it; allowed: {', '.join(ranges) or 'none'}")
        ranges = {k: ranges[k] for k in keep}
    return ranges


def with_values(scenario: Any, values: Mapping[str, float]) -> Any:
    """The scenario with each key set to its value (whole-number fields rounded)."""

    fixed = {k: (round(v) if is_integer(scenario, k) else float(v)) for k, v in values.items()}
    return apply_overrides(scenario, fixed, scenario.name)
