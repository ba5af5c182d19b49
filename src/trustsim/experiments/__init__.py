"""Experiments over many runs: comparison of scenarios (compare.py), calibration (calibration.py)."""

from trustsim.experiments.calibration import Calibration, calibrate
from trustsim.experiments.compare import Comparison, compare

__all__ = ["Calibration", "Comparison", "calibrate", "compare"]
