"""Experiments over many runs: comparison of scenarios (compare.py), calibration."""

from trustsim.experiments.compare import Comparison, compare  # noqa: F401
from trustsim.experiments.calibration import Calibration, calibrate  # noqa: F401
