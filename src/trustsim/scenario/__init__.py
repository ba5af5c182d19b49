"""Scenarios: the schema of every parameter (schema/) and how files become one (loading.py)."""

from trustsim.scenario.loading import load_scenario, presets
from trustsim.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "presets"]
