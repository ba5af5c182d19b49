"""The explorer's runs: a changed scenario and its unchanged preset, same seed, one at a time, cached.

Use `run_pair(request)` for the two Results the page shows. Both run with the same seed, so they
share their random draws (common random numbers) and their difference is the levers' alone. Runs
are kept in a small process-wide cache keyed by (preset, changed levers, people, years, seed), so
moving a lever back, or a second browser tab asking the same, costs nothing, and the unchanged
preset runs once per size and seed. The cache's lock is held over the run too, so a second browser
tab (a thread of the same server) asking for the same run waits for it instead of repeating it;
`engine.simulate` itself lets one run at a time into Numba. `scenario_yaml` writes the changed
scenario as a file `trustsim run` accepts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from trustsim.engine import simulate
from trustsim.result import Result
from trustsim.scenario.loading import load_scenario
from trustsim.scenario.schema import Scenario

CACHE_SIZE = 24  # runs kept; a year of 20,000 people's metrics is a few MB

_LOCK = threading.Lock()
_CACHE: OrderedDict[tuple, Result] = OrderedDict()


@dataclass(frozen=True)
class Request:
    """What one press of Run asks for; `overrides` are the changed levers {dotted key: value}."""

    preset: str
    overrides: tuple[tuple[str, Any], ...]
    people: int
    years: float
    seed: int

    @classmethod
    def make(cls, preset: str, overrides: Mapping[str, Any], people: int, years: float, seed: int) -> "Request":
        return cls(preset, tuple(sorted(overrides.items())), int(people), float(years), int(seed))

    def sized(self) -> dict[str, Any]:
        """The size settings, as overrides."""
        return {"population.people": self.people, "run.years": self.years}

    def scenario(self, changed: bool = True) -> Scenario:
        """The changed scenario (or the unchanged preset) at the requested size; a UserError if invalid."""
        overrides = {**(dict(self.overrides) if changed else {}), **self.sized()}
        return load_scenario(self.preset, overrides)

    def key(self, changed: bool) -> tuple:
        return (self.preset, self.overrides if changed else (), self.people, self.years, self.seed)


def _run(key: tuple, scenario: Scenario, seed: int) -> Result:
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        result = simulate(scenario, seed=seed)
        _CACHE[key] = result
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        return result


def run_pair(request: Request) -> tuple[Result, Result]:
    """(changed, unchanged) runs of a request; both scenarios are validated before either runs."""
    changed, unchanged = request.scenario(True), request.scenario(False)
    base = _run(request.key(False), unchanged, request.seed)
    if not request.overrides:
        return base, base
    return _run(request.key(True), changed, request.seed), base


def cached(request: Request) -> bool:
    """Whether both runs of a request are already in the cache."""
    return request.key(True) in _CACHE and request.key(False) in _CACHE


def _nest(key: str, value: Any, into: dict[str, Any]) -> None:
    *parents, last = key.split(".")
    for part in parents:
        into = into.setdefault(part, {})
    into[last] = value


def scenario_yaml(request: Request, changed: Scenario) -> str:
    """The changed scenario as YAML: `base: PRESET` plus the changed keys, the size, and how to run it.

    A base's lists are replaced whole, not merged, so a changed sanction rule writes the whole list.
    """
    data: dict[str, Any] = {"base": request.preset, "name": f"{request.preset}_explored",
                            "description": f"{request.preset} with levers changed in trustsim explore"}
    for key, value in request.overrides:
        if key.startswith("sanctions.rules."):
            data.setdefault("sanctions", {})["rules"] = [
                r.model_dump(mode="json", exclude_none=True) for r in changed.sanctions.rules]
        else:
            _nest(key, value, data)
    for key, value in request.sized().items():
        _nest(key, value, data)
    head = (f"# Made with trustsim explore. Run it with the same seed to reproduce the page:\n"
            f"#   trustsim run THIS_FILE.yaml --seed {request.seed}\n")
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
