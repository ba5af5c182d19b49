"""Numba's on-disk cache of trustsim's kernels, stale after an edit to any module they draw on.

Numba checks a cached kernel against the one source file that defines it. But a kernel holds the
machine code of every helper it calls or inlines from other modules (the stages' helpers inside
the person pass, trustsim.rng's hash inside every draw), so after an edit to one of those alone,
Numba would load the old code, and a run would silently use it. An install rewrites every file,
so users of a release never meet this; a developer editing a stage in a clone would.

`install` (called by trustsim/__init__.py before any kernel is defined) puts `KernelSourceLocator`
first among Numba's cache locators. For a function defined inside trustsim, it is the locator
Numba would have chosen, with the digest of every trustsim module that uses Numba added to the
stamp a cached kernel is checked against: an edit to any of them recompiles the kernels, once.
Functions of other packages are left to Numba's own locators. Where Numba has no setting for the
locators (versions before it), nothing changes. It imports nothing of trustsim's.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numba
from numba.core import caching

PACKAGE = Path(__file__).resolve().parents[1]
_THIS = f"{__name__}.KernelSourceLocator"
# Numba's own locators, in its order, for a setting that names none.
_NUMBA_DEFAULT = "UserProvidedCacheLocator,InTreeCacheLocator,UserWideCacheLocator,IPythonCacheLocator,ZipCacheLocator"
_FOR_FILES = ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")


@functools.lru_cache(maxsize=1)
def kernel_sources_digest() -> str:
    """SHA-256 over the path and text of every module of the package that uses Numba."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_bytes()
        if b"numba" in text:
            digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + text)
    return digest.hexdigest()


class _Stamped:
    """One of Numba's locators, its source stamp extended by kernel_sources_digest."""

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def get_source_stamp(self):
        return (self._inner.get_source_stamp(), kernel_sources_digest())


class KernelSourceLocator:
    """The cache locator of trustsim's own kernels (see the module's docstring)."""

    @classmethod
    def from_function(cls, py_func, py_file):
        if not Path(py_file).resolve().is_relative_to(PACKAGE):
            return None
        for name in _FOR_FILES:
            inner = getattr(caching, name).from_function(py_func, py_file)
            if inner is not None:
                return _Stamped(inner)
        return None


def install() -> None:
    """Put KernelSourceLocator before the locators Numba is set to use (once per process)."""
    current = getattr(numba.config, "CACHE_LOCATOR_CLASSES", None)
    if current is None or _THIS in current:
        return
    numba.config.CACHE_LOCATOR_CLASSES = f"{_THIS},{current or _NUMBA_DEFAULT}"
