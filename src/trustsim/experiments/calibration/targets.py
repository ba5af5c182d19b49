"""The published record the calibration fits: the court list's public counts, 2014 to 2018-05.

Use `PUBLISHED` for every figure (a `Target`: its series, date, value or band, source, and whether it
is fitted or only a check) and `SERIES` for what each series is in the model's audit metrics.

What is compared (every count scaled to the real adult population, represents / people):

- people listed: cumulative listings, the sum of ``blacklist_entries`` over steps. The published
  figures count listings, not people on the list now: 20% of the 2014-03 figure had already paid
  and left, and by 2018 15-27% of all listings were paid or complied. ``blacklist_count`` (on a
  list now) is drawn in the report beside it.
- listings ended (paid or complied): cumulative ``blacklist_exits``; by 2018-05 as a share of
  listings, a band of 15-27%. In the model an entry also ends at its term or on a successful
  appeal; the band is applied to all exits, so it bounds the term from below.
- flight and high-speed-rail attempts blocked: cumulative sums of ``flight_denials`` and
  ``rail_denials`` (per step).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass


SERIES = {
    "listings": ("people listed (cumulative listings)", "sum of blacklist_entries"),
    "exits": ("listings ended: paid or complied (cumulative)", "sum of blacklist_exits"),
    "exit_share": ("share of listings ended", "sum of blacklist_exits / sum of blacklist_entries"),
    "flights": ("flight attempts blocked (cumulative)", "sum of flight_denials"),
    "rail": ("high-speed-rail attempts blocked (cumulative)", "sum of rail_denials"),
}


@dataclass(frozen=True)
class Target:
    """One published figure: a series' value at a date (or over [since, date]), or a band."""

    series: str
    date: dt.date
    value: float
    source: str
    low: float | None = None  # a band: any model value in [low, high] fits exactly
    high: float | None = None
    since: dt.date | None = None  # a count over a window rather than since the start
    fitted: bool = True
    weight: float = 1.0

    @property
    def label(self) -> str:
        when = f"{self.since:%Y-%m}..{self.date:%Y-%m}" if self.since else f"{self.date:%Y-%m}"
        return f"{SERIES[self.series][0]}, {when}"

    def published_text(self) -> str:
        if self.low is not None:
            return f"{_fmt(self.low, self.series)} - {_fmt(self.high, self.series)}"
        return _fmt(self.value, self.series)


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


M = 1e6
PUBLISHED: tuple[Target, ...] = (
    Target("listings", _month_end(2014, 3), 0.0755 * M, "docs/sources.md: 0.0755 M listed by 2014-03"),
    Target("listings", _month_end(2015, 12), 3.08 * M, "docs/sources.md"),
    Target("listings", _month_end(2017, 2), 6.73 * M, "docs/sources.md"),
    Target("listings", _month_end(2018, 5), 10.89 * M, "docs/sources.md"),
    Target("exits", _month_end(2014, 3), 0.2 * 0.0755 * M,
           "docs/sources.md: about 20% of the 2014-03 listings removed after paying; under a simulated person at the "
           "default size", fitted=False),
    Target("exits", _month_end(2017, 2), 1.0 * M, "docs/sources.md: about 1 million paid or complied by early 2017"),
    Target("exit_share", _month_end(2018, 5), 0.21, "docs/sources.md: 15-27% of all listings paid or complied by 2018",
           low=0.15, high=0.27),
    Target("flights", _month_end(2015, 12), 3.76 * M, "docs/sources.md"),
    Target("flights", _month_end(2017, 2), 6.15 * M, "docs/sources.md"),
    Target("flights", _month_end(2017, 12), 9.36 * M, "docs/sources.md"),
    Target("flights", _month_end(2018, 5), 11.60 * M, "docs/sources.md"),
    Target("rail", _month_end(2015, 12), 0.60 * M, "docs/sources.md"),
    Target("rail", _month_end(2017, 2), 2.22 * M, "docs/sources.md"),
    Target("rail", _month_end(2017, 12), 3.67 * M, "docs/sources.md"),
    Target("rail", _month_end(2018, 5), 4.41 * M, "docs/sources.md"),
    Target("flights", _month_end(2014, 8), 108_000,
           "docs/sources.md: 108,000 blocked flight attempts in July-August 2014",
           since=dt.date(2014, 7, 1), fitted=False),
)

COUNT_SERIES = ("listings", "exits", "flights", "rail")
SHARE_RESOLUTION = 0.01  # the floor e for a share, in place of half a person


def _fmt(value: float | None, series: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if series == "exit_share":
        return f"{100 * value:.1f}%"
    return f"{value / M:.3g} M" if abs(value) >= 0.1 * M else f"{value:,.0f}"
