"""Errors caused by what a user gave (or did): the command line prints them on one line, exit code 2
(130 for Ctrl-C)."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input (file, field, value): shown as one line, never a traceback."""


class Interrupted(Exception):
    """A run stopped by Ctrl-C: how many of its steps were done (the command line exits 130)."""

    def __init__(self, done: int, steps: int, message: str | None = None):
        super().__init__(message or f"interrupted after step {done} of {steps}")
        self.done = done
        self.steps = steps
