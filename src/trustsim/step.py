"""One step of a run: the stages in order, as two passes over people.

Stages, once per step (default one week), each writing only its own group of ``state.State``:

1. behaviour     (stages/behaviour.py)     income shocks and the expected events of each person
2. surveillance  (stages/surveillance.py)  events seen, misfiled and falsely matched, with causes
3. scoring       (stages/scoring.py)       the record, the score, friends and family, participation
4. sanctions     (stages/sanctions.py)     lists, rules, appeals, denied tickets, rewards
5. responses     (stages/responses.py)     chilling and distancing
6. metrics       (metrics.py)              the audit metrics, overall and per group

They run as two passes over people, so that a step's events are never stored:

- ``people``: kernels/person_pass.py runs stages 1-4 for each household and adds each person to
  the metrics' cell sums; it also counts what links people across the population (sightings per
  face-search cell, misfiled events per kind), which the next step's false matches and misfiled
  events received draw on (stages/surveillance.py);
- ``network``: stages/responses.py walks the contact network once for chilling, distancing and
  the contacts' term of the next score.

Use ``step`` for step t of a built context and state: engine.py runs it in its step loop, and
kernels/ahead.py once on a blank society, to compile the person pass ahead of a first run.
"""

from __future__ import annotations

from . import rng
from .context import Context
from .kernels.person_pass import person_pass
from .metrics import Recorder
from .stages import behaviour, responses, sanctions, scoring, surveillance
from .state import State
from .trace import OFF, Tracer


def untimed(name: str, work, *args):
    """Call work(*args): what `step` does with each pass when nobody times them."""
    return work(*args)


def step(ctx: Context, state: State, recorder: Recorder, t: int, call=untimed, tracer: Tracer | None = None) -> None:
    """Run step t's stages on state, adding its metrics to the recorder's sums (and the traced
    people's events to the tracer's buffer). Each pass goes through call(name, work, *args)."""
    trace = OFF if tracer is None else tracer.buffer
    seed = ctx.seed
    behaviour_keys = rng.keys(seed, behaviour.STREAMS, t)
    surveillance_keys = rng.keys(seed, surveillance.STREAMS, t)
    cover = surveillance.coverage(ctx, t)
    recorder.clear()
    owners, owner_until = sanctions.list_firms(ctx, state, t, surveillance.firm_observations(ctx, t))
    call(
        "people", person_pass, ctx.params, ctx.rules, ctx.people, state.behaviour, state.scoring, state.sanctions,
        state.responses.perceived_risk, behaviour_keys, surveillance_keys,
        rng.keys(seed, scoring.STREAMS, t), rng.keys(seed, sanctions.STREAMS, t), cover,
        surveillance.false_match_rate(ctx, state), state.surveillance, owners, owner_until, t,
        ctx.chunks, ctx.max_household, recorder.person_sums, recorder.histograms, trace,
    )
    call("network", responses.step, ctx, state, t, recorder.network_sums, trace)
    if tracer is not None:
        call("trace", tracer.drain, ctx, state, t)
