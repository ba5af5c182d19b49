"""trustsim: an executable model of a state social-credit system, run on synthetic people.

The public API, and nothing else:
    load_scenario(name_or_path, overrides=None) -> Scenario   a preset or YAML file, validated
    presets() -> [(name, description)]                          the shipped presets
    simulate(scenario, seed=0, progress=False) -> Result        run it
    save(results, dir) -> [run_id]                              add runs to dir's results and rewrite its report
    open_results(dir, run_id=None) -> Result                    read a saved run back
    list_runs(dir) -> DataFrame                                 the runs saved in dir
    build_society(scenario, seed) -> Society                    the synthetic population alone
    compare(scenarios, seeds=3, ...) -> Comparison              scenarios side by side, common random numbers
    calibrate(scenario="judicial_lists", trials=60, ...) -> Calibration   fit to the published court-list counts
    ensemble(scenario, seeds=10, ...) -> Analysis               one scenario under many seeds, on Dask
    uncertainty(scenario, samples=64, ...) -> Analysis          median and 90% interval over the plausible ranges
    sensitivity(scenario, method="morris", ...) -> Analysis     which assumptions drive the results (SALib)
"""

# Before any kernel is defined: Numba's cache must see edits to any module a kernel draws on.
from trustsim.kernels import source_stamp

source_stamp.install()

from trustsim.engine import simulate  # noqa: E402
from trustsim.experiments.calibration import calibrate  # noqa: E402
from trustsim.experiments.compare import compare  # noqa: E402
from trustsim.experiments.ensembles import ensemble, sensitivity, uncertainty  # noqa: E402
from trustsim.result import Result  # noqa: E402
from trustsim.scenario import Scenario, load_scenario, presets  # noqa: E402
from trustsim.society import Society, build_society  # noqa: E402
from trustsim.store import list_runs, open_results, save  # noqa: E402
from trustsim.version import __version__  # noqa: E402

__all__ = [
    "__version__",
    "Result",
    "Scenario",
    "Society",
    "build_society",
    "calibrate",
    "compare",
    "ensemble",
    "list_runs",
    "load_scenario",
    "open_results",
    "presets",
    "save",
    "sensitivity",
    "simulate",
    "uncertainty",
]
