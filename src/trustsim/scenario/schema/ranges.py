"""Plausible ranges: how far an assumed parameter could reasonably lie from its value.

`PlausibleRange` is the type of each entry of a scenario's `uncertainty:` section and of an
observation model's `nuisance:` ranges; scenario/uncertainty.py checks them against a scenario,
reads `--vary` and sets a scenario at one point of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class PlausibleRange(BaseModel):
    """A plausible range [lo, hi] for one parameter, with the reason for it."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # as every section

    range: tuple[float, float] = Field(description="lowest and highest plausible value, lo < hi")
    reason: str = Field("", description="one line: why this range (a source, or why it is an assumption)")
    log: bool = Field(False, description="sample evenly in log(value): for a rate whose range spans decades")

    @model_validator(mode="before")
    @classmethod
    def _bare_pair(cls, value: Any) -> Any:
        """`key: [lo, hi]` is short for `key: {range: [lo, hi]}`."""
        if isinstance(value, (list, tuple)):
            return {"range": value}
        return value

    @field_validator("range")
    @classmethod
    def _ordered(cls, pair: tuple[float, float]) -> tuple[float, float]:
        if not pair[0] < pair[1]:
            raise ValueError(f"lo ({pair[0]:g}) must be < hi ({pair[1]:g})")
        return pair

    @model_validator(mode="after")
    def _positive_on_log(self) -> PlausibleRange:
        if self.log and not self.range[0] > 0:
            raise ValueError(f"a log range needs lo > 0, got {self.range[0]:g}")
        return self

    def from_unit(self, u):
        """The value at u in [0, 1] of the range (evenly in the log when `log`)."""
        return self.lo * (self.hi / self.lo) ** u if self.log else self.lo + (self.hi - self.lo) * u

    def to_unit(self, value):
        """Where a value lies in the range, 0 at lo and 1 at hi (in the log when `log`)."""
        value = np.asarray(value, dtype=float)
        if self.log:
            return np.log(value / self.lo) / np.log(self.hi / self.lo)
        return (value - self.lo) / (self.hi - self.lo)

    @property
    def lo(self) -> float:
        return self.range[0]

    @property
    def hi(self) -> float:
        return self.range[1]
