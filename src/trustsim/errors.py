"""Errors caused by what a user gave us: the command line prints them on one line and exits 2."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input (file, field, value): shown as one line, never a traceback."""
