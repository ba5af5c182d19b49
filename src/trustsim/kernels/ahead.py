"""Compile the person pass in a second process while this one builds the society: first runs only.

Use `compile_ahead(scenario)` at the start of a run whose step kernels are not in Numba's cache
yet (kernels/cache.py), and `wait()` on what it returns before the run's first step.

Numba compiles one function at a time, under a lock and mostly in Python, so one process never
compiles two kernels at once. The person pass is the largest kernel: about half of a first run's
compiling. The second process compiles it for the scenario's types, by stepping a blank society
of a few people once (Society.blank), and leaves it in Numba's cache. Meanwhile this process
compiles the society's kernels and the network pass and builds the society; its first step then
loads the person pass from the cache. If the second process fails, the first step compiles the
pass itself, as it would have without it: a run's results never depend on this.
"""

from __future__ import annotations

import subprocess
import sys

from ..context import Context
from ..metrics import Recorder
from ..scenario.schema import Scenario
from ..society.society import Society
from ..state import State
from ..step import step


class AheadCompile:
    """The process compiling the person pass; `wait` before the first step, `stop` on the way out."""

    def __init__(self, process: subprocess.Popen | None):
        self._process = process

    def wait(self) -> int | None:
        """Wait for the process to end; its exit status (None when there was none)."""
        status = None
        if self._process is not None:
            status = self._process.wait()
            self._process = None
        return status

    def stop(self) -> None:
        """End the process if it still runs (the run was interrupted or failed)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def compile_ahead(scenario: Scenario) -> AheadCompile:
    """Start compiling the person pass for this scenario's types in a second process."""
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", "from trustsim.kernels.ahead import main; main()"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        process.stdin.write(scenario.model_dump_json().encode())
        process.stdin.close()
    except OSError:
        return AheadCompile(None)  # no second process: the first step compiles the pass
    return AheadCompile(process)


def _people_only(name, work, *args):
    return work(*args) if name == "people" else None


def compile_person_pass(scenario: Scenario) -> None:
    """Compile (or load) the person pass for this scenario's types: one step of a blank society."""
    society = Society.blank(scenario)
    ctx = Context.build(scenario, society, seed=0)
    state = State.initial(society.n, 0, 0, ctx.n_cells, ctx.step_dtype)
    step(ctx, state, Recorder(ctx), 0, _people_only)


def main() -> None:
    """The second process: the scenario comes as JSON on standard input."""
    compile_person_pass(Scenario.model_validate_json(sys.stdin.read()))
