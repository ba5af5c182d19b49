"""The step loop: builds the society once, then runs every step's stages in order (step.py).

Use ``simulate`` to run a scenario (given ``checkpoint.Checkpoints``, it writes a checkpoint every
K steps, or carries on from one); ``run_steps`` to step through one and look at the state between
steps; ``estimate_bytes`` to know, before allocating anything, how much memory a run will need.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import psutil

from .checkpoint import Checkpoints
from .context import Context
from .errors import Interrupted, UserError
from .kernels.ahead import AheadCompile, compile_ahead
from .kernels.cache import step_kernels_cached
from .metrics import Recorder
from .result import Result
from .scenario.schema import Scenario
from .society import Society, build_society
from .society.codes import CODED
from .society.memory import built_bytes, estimate_bytes as build_peak_bytes, expected_degrees
from .stages import responses
from .state import BLACKLIST, COURT_LIST, LOW_FLAG, MEASURE, MEMBER_FLAG, State, shown
from .step import step, untimed
from .trace import Outcomes, Tracer, choose

# Per-step temporaries (per-thread sums, keys) are per cell, not per person; what remains is the
# per-person context (dissent decile) and allocator slack, set from benchmarks/bench_model.py.
TEMPORARY_BYTES_PER_PERSON = 8
# The runs of one process (browser sessions, a threaded Dask worker) take turns here: each run's
# passes already use every thread it is given (kernels/threads.py).
_ONE_RUN_AT_A_TIME = threading.Lock()


def estimate_bytes(scenario: Scenario) -> int:
    """Peak memory of a run, from its parameters alone: building the society, or stepping with the
    built society and the state, whichever needs more."""
    population, network = scenario.population, scenario.network
    degree = sum(expected_degrees(population, network).values())
    per_person = State.bytes_per_person(degree) + TEMPORARY_BYTES_PER_PERSON
    stepping = built_bytes(population, network) + per_person * population.people
    return int(max(build_peak_bytes(population, network), stepping))


def check_memory(scenario: Scenario, source: str = "scenario") -> None:
    """Refuse a run that would not fit in this machine's available memory."""
    need = estimate_bytes(scenario)
    have = psutil.virtual_memory().available
    if need > have:
        people = scenario.population.people
        most = int(people * have / need)
        raise UserError(
            f"{source}: population.people: {people:,} needs about {need / 2**30:.1f} GiB but "
            f"{have / 2**30:.1f} GiB is available; allowed: at most about {most:,} people on this machine"
        )


def initial_state(ctx: Context, recorder: Recorder, call=untimed) -> State:
    society = ctx.society
    state = State.initial(
        society.n, society.network.indices.shape[0], society.firms["owner"].shape[0], ctx.n_cells, ctx.step_dtype
    )
    baseline = ctx.scenario.scoring.baseline
    state.scoring.score[:] = baseline
    flags = 0
    if ctx.params.mandatory:
        state.scoring.member[:] = True
        flags = MEMBER_FLAG | (LOW_FLAG if baseline < ctx.params.association_threshold else 0)
    state.sanctions.shown[:] = shown(np.float32(baseline), flags)
    call("start", responses.start, ctx, state, recorder.network_sums)  # the first step's contacts' term
    return state


class Timings(dict):
    """Seconds spent per part of a run (society, each pass, metrics), for benchmarks/."""

    def timed(self, name: str, work, *args):
        start = time.perf_counter()
        out = work(*args)
        self[name] = self.get(name, 0.0) + time.perf_counter() - start
        return out


def _run(scenario: Scenario, seed: int, timings: Timings | None, society: Society | None = None,
         tracer: Tracer | None = None, checkpoints: Checkpoints | None = None, ahead: AheadCompile | None = None,
         ) -> Iterator[tuple[int, Context, State, Recorder]]:
    call = timings.timed if timings is not None else untimed
    if society is None:
        check_memory(scenario)
        society = call("society", build_society, scenario, seed)
    ctx = Context.build(scenario, society, seed)
    recorder = Recorder(ctx)
    state = initial_state(ctx, recorder, call)
    if ahead is not None:
        ahead.wait()  # the person pass, compiled meanwhile in a second process, is in the cache
    if tracer is not None:
        tracer.start(ctx, state)
    first = checkpoints.restore(ctx, state, recorder) if checkpoints is not None else 0
    for t in range(first, scenario.run.steps):
        step(ctx, state, recorder, t, call, tracer)
        yield t, ctx, state, recorder


def run_steps(scenario: Scenario, seed: int = 0, timings: Timings | None = None) -> Iterator[tuple[int, Context, State]]:
    """Build the society, then yield (step, context, state) after each step's stages have run."""
    for t, ctx, state, _ in _run(scenario, seed, timings):
        yield t, ctx, state


def simulate(scenario: Scenario, seed: int = 0, progress: bool = False, timings: Timings | None = None,
             checkpoints: Checkpoints | None = None) -> Result:
    """Run a scenario and return its audit metrics (and a person-level snapshot if asked for).

    With checkpoints, carry on from the last one and write one every K steps. Ctrl-C raises
    Interrupted, which says how many steps were done.

    With run.trace = N, N people are followed (trace.py): the run is made once, noting what happens
    to everyone, then again with the same seed, which reproduces it exactly, recording the chosen
    people's events into Result.trace and who they are into Result.traced_people."""
    call = timings.timed if timings is not None else untimed
    started = checkpoints.started_at if checkpoints is not None else dt.datetime.now(dt.timezone.utc)
    traced = scenario.run.trace
    steps = scenario.run.steps
    done = checkpoints.step if checkpoints is not None else 0
    ahead = None
    if not step_kernels_cached():
        if progress:
            print("Compiling trustsim's kernels: this first run takes about 20 seconds longer, once; "
                  "later runs start at once.", file=sys.stderr, flush=True)
        ahead = compile_ahead(scenario)
    try:
        with _ONE_RUN_AT_A_TIME, _progress(progress, steps * (2 if traced else 1), scenario.name, done) as advance:
            outcomes = None
            for t, ctx, state, recorder in _run(scenario, seed, timings, checkpoints=checkpoints, ahead=ahead):
                call("metrics", recorder.record, t)
                done = t + 1
                if checkpoints is not None:
                    checkpoints.after(t, ctx, state, recorder)
                if traced:
                    outcomes = outcomes or Outcomes(ctx.society.n)
                    call("outcomes", outcomes.update, state)
                advance()
            metrics = recorder.frame()
            last = snapshot(ctx, state) if scenario.run.snapshot else None
            trace = traced_people = None
            if traced:
                pools = outcomes.pools(ctx.people.decile, state.sanctions.rewards)
                people, reasons = choose(seed, ctx.society.n, traced, pools)
                tracer = Tracer(ctx.society.n, people, reasons)
                del state, recorder  # the second pass needs its own
                for _ in _run(scenario, seed, timings, society=ctx.society, tracer=tracer):
                    advance()
                trace = tracer.frame(scenario.run.start, scenario.run.step_days)
                traced_people = tracer.people_frame(ctx)
    except KeyboardInterrupt:
        raise Interrupted(done, steps) from None
    finally:
        if ahead is not None:
            ahead.stop()
    return Result(
        scenario=scenario,
        seed=seed,
        metrics=metrics,
        started_at=started,
        finished_at=dt.datetime.now(dt.timezone.utc),
        snapshot=last,
        trace=trace,
        traced_people=traced_people,
    )


def snapshot(ctx: Context, state: State) -> pd.DataFrame:
    """Person-level state at the end of a run: who they are and what the system did to them."""
    society = ctx.society
    people = society.people
    # Income and the traits in natural units, as float32 (as precise as their 16-bit codes).
    frame = pd.DataFrame({
        name: values if name not in CODED else society.value(name).astype(np.float32)
        for name, values in people.items()
    })
    frame["score"] = state.scoring.score
    frame["individual_score"] = ctx.to_score(state.scoring.raw)
    frame["member"] = state.scoring.member
    frame["lists"] = state.sanctions.lists & (COURT_LIST | BLACKLIST)
    frame["perceived_risk"] = state.responses.perceived_risk
    frame["committed"] = responses.committed(ctx)
    frame["punished_contacts"] = punished_contacts(ctx, state)
    frame["expressed_dissent"] = frame["dissent"] * (1.0 - ctx.params.chilling_strength * state.responses.perceived_risk)
    for measure, i in MEASURE.items():
        frame[f"cause.{measure}"] = state.sanctions.cause[i]
    frame["region"] = np.asarray(society.region_names, dtype=object)[people["region"]]
    return frame


def punished_contacts(ctx: Context, state: State) -> np.ndarray:
    """int64 [person]: active contacts under any measure or on any list (what chilling counts)."""
    net = ctx.society.network
    kept = state.responses.active_ties(net.indices.shape[0])
    owner = np.repeat(np.arange(ctx.society.n), net.degree())
    punished = state.sanctions.sanctioned()[net.indices] & kept
    return np.bincount(owner[punished], minlength=ctx.society.n)


class _progress:
    """A Rich progress bar over steps, or nothing when not asked for."""

    def __init__(self, enabled: bool, steps: int, name: str, done: int = 0):
        self.enabled = enabled
        self.steps = steps
        self.name = name
        self.done = done

    def __enter__(self):
        if not self.enabled:
            return lambda: None
        # Imported on use: only a shown bar needs it, and the import would slow every start.
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            transient=True,
        )
        self.bar.__enter__()
        task = self.bar.add_task(f"{self.name}: steps", total=self.steps, completed=self.done)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.__exit__(*exc)
        return False
