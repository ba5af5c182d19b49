"""Checkpoints of a long run, so that a crash or a kill loses at most K steps: DIR/checkpoint/.

Use `Checkpoints.start` for a new run that writes one every K steps, `Checkpoints.resume` to carry
on from the one in DIR, and pass either to `engine.simulate`; `close(finished=True)` removes the
checkpoint once the run is saved. One run at a time owns DIR/checkpoint: it holds an advisory
lock on DIR/checkpoint/lock for as long as it runs (the kernel drops it if the process dies).

A checkpoint, DIR/checkpoint/state.npz, written whole and renamed into place, holds what the run
has changed: every array of the state (state.py), the metrics recorded so far (metrics.Recorder's
per-step group sums, `saved`; this step's sums are empty between steps), and the next step, which with the seed is the
whole random-number position (draws are counter-based, rng.py). The society is never changed by a
run, so it is rebuilt from (scenario, seed) on resume and checked against a fingerprint of the
one the run built. A checkpoint from another trustsim version, another scenario or a society
that does not rebuild the same is refused with one line.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from trustsim.errors import UserError
from trustsim.scenario.schema import Scenario
from trustsim.version import __version__

FOLDER, STATE, LOCK = "checkpoint", "state.npz", "lock"
FORMAT = 2  # 2: the metrics as per-step group sums, not rows
SUGGESTED_EVERY = 13  # steps: a quarter of a year of weekly steps


def fingerprint(society) -> str:
    """A CRC-32 of every array of the society, to check that a rebuild is the same society."""
    crc = 0
    arrays = [*(society.people[k] for k in sorted(society.people)), *(society.firms[k] for k in sorted(society.firms)),
              society.network.indptr, society.network.indices, society.network.layer_start]
    for array in arrays:
        crc = zlib.crc32(np.ascontiguousarray(array).view(np.uint8).reshape(-1), crc)
    return f"{society.n}:{crc:08x}"


class Checkpoints:
    """The checkpoint of one run in DIR: claimed (locked) for the run, written every `every` steps."""

    def __init__(self, directory: Path, meta: dict[str, Any], saved: bool):
        self.directory = Path(directory)
        self.folder = self.directory / FOLDER
        self.meta = meta
        self.saved = saved  # a checkpoint file exists (written by this run or the one resumed)
        self._lock = self._claim()

    # --- opening -------------------------------------------------------------------------------

    @classmethod
    def start(cls, directory: str | Path, scenario: Scenario, seed: int, every: int,
              source: dict[str, Any] | None = None) -> "Checkpoints":
        """Claim DIR/checkpoint for a new run; refused if DIR holds an unfinished run's checkpoint."""
        directory = Path(directory)
        folder = directory / FOLDER
        if (folder / STATE).exists():
            meta = _read_meta(folder)
            raise UserError(f"{folder}: holds the checkpoint of an unfinished run ({meta.get('scenario_name')}, "
                            f"seed {meta.get('seed')}, at step {meta.get('step')}); allowed: `trustsim resume "
                            f"{directory}`, or another --out directory")
        if scenario.run.trace:
            raise UserError("run.trace: a run with case files cannot be checkpointed yet (the outcomes its first pass "
                            "notes are not saved); allowed: run.trace = 0 with --checkpoint-every, or no checkpoints")
        meta = {"format": FORMAT, "version": __version__, "scenario_name": scenario.name,
                "scenario_json": scenario.model_dump_json(), "seed": int(seed), "every": int(every), "step": 0,
                "steps": scenario.run.steps, "started_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                "society": None, "source": source or {}}
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"{folder}: cannot write a checkpoint ({exc.strerror}); allowed: a writable --out") from None
        return cls(directory, meta, saved=False)

    @classmethod
    def resume(cls, directory: str | Path) -> "Checkpoints":
        """The checkpoint in DIR, claimed; refused if from another version or in use."""
        folder = Path(directory) / FOLDER
        if not (folder / STATE).is_file():
            raise UserError(f"{directory}: no checkpoint here; allowed: a directory written by "
                            f"`trustsim run --checkpoint-every K --out DIR` whose run did not finish")
        meta = _read_meta(folder)
        if meta.get("format") != FORMAT or meta.get("version") != __version__:
            raise UserError(f"{folder}: written by trustsim {meta.get('version')}; allowed: a checkpoint of "
                            f"trustsim {__version__} (resume it with the version that wrote it, or start the run again)")
        return cls(Path(directory), meta, saved=True)

    def _claim(self) -> int:
        try:
            fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UserError(f"{self.folder}: cannot write a checkpoint ({exc.strerror}); allowed: a writable --out") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UserError(f"{self.folder}: in use by a run still going; allowed: wait for it, or another --out") from None
        return fd

    # --- what the engine calls ------------------------------------------------------------------

    @property
    def scenario(self) -> Scenario:
        return Scenario.model_validate_json(self.meta["scenario_json"])

    @property
    def seed(self) -> int:
        return int(self.meta["seed"])

    @property
    def step(self) -> int:
        """The next step to run: 0 before the first checkpoint."""
        return int(self.meta["step"])

    @property
    def started_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.meta["started_at"])

    def restore(self, ctx, state, recorder) -> int:
        """Put the checkpoint's state and metrics into a freshly built run; returns the next step."""
        if not self.saved:
            return 0
        built = fingerprint(ctx.society)
        if built != self.meta["society"]:
            raise UserError(f"{self.folder}: the society rebuilt from the scenario and seed differs from the "
                            f"checkpoint's ({built} != {self.meta['society']}); allowed: start the run again")
        with np.load(self.folder / STATE) as saved:
            for name, array in _arrays(state):
                np.copyto(array, saved[name], casting="no")
            recorder.restore(saved)
        return self.step

    def after(self, t: int, ctx, state, recorder) -> None:
        """Called once step t is recorded: write a checkpoint when one is due."""
        done = t + 1
        if done % self.meta["every"] or done >= self.meta["steps"]:
            return
        if self.meta["society"] is None:
            self.meta["society"] = fingerprint(ctx.society)
        self.write(state, recorder, done)

    def write(self, state, recorder, step: int) -> None:
        """Write the state after `step` steps, atomically: whole in a temporary file, then renamed."""
        meta = {**self.meta, "step": step}
        arrays = dict(_arrays(state))
        arrays.update(recorder.saved())
        arrays["meta"] = np.array(json.dumps(meta))
        temp = self.folder / f".{STATE}.{os.getpid()}.tmp"
        try:
            with open(temp, "wb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, self.folder / STATE)
        except OSError as exc:
            kept = f"the checkpoint at step {self.step} is kept" if self.saved else "no checkpoint was kept"
            raise UserError(f"{self.folder}: cannot write a checkpoint at step {step} ({exc.strerror}); {kept}; "
                            f"allowed: a --out with free space") from None
        finally:
            temp.unlink(missing_ok=True)
        self.meta, self.saved = meta, True

    def close(self, finished: bool) -> None:
        """Let go of the checkpoint: removed once the run is saved (or when none was written)."""
        if finished or not self.saved:
            shutil.rmtree(self.folder, ignore_errors=True)
        os.close(self._lock)


def _arrays(state):
    """(name, array) for every array of the state, named group.field."""
    for group_name, group in zip(type(state)._fields, state):
        for field, array in zip(type(group)._fields, group):
            yield f"{group_name}.{field}", array


def _read_meta(folder: Path) -> dict[str, Any]:
    try:
        with np.load(folder / STATE) as saved:
            return json.loads(str(saved["meta"]))
    except Exception as exc:  # a damaged file is the user's to remove: say so in one line
        raise UserError(f"{folder / STATE}: not a readable checkpoint ({exc.__class__.__name__}); "
                        f"allowed: a checkpoint written by trustsim, or remove {folder}") from None
