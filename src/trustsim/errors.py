"""Errors caused by what a user gave (or did): the command line prints them on one line, exit code 2
(130 for Ctrl-C); and warnings about input that works but is not the best choice, one line too."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input (file, field, value): shown as one line, never a traceback."""


class Interrupted(Exception):
    """A run stopped by Ctrl-C: how many of its steps were done (the command line exits 130)."""

    def __init__(self, done: int, steps: int, message: str | None = None):
        super().__init__(message or f"interrupted after step {done} of {steps}")
        self.done = done
        self.steps = steps


class InputWarning(UserWarning):
    """Input that works but is not the best choice (e.g. a Sobol' sample that is not a power of two):
    shown as one line, `trustsim: warning: ...`, and the command goes on."""
