"""Whether the step's compiled kernels are already in this process or in Numba's on-disk cache.

Use `step_kernels_cached` before a run to decide whether it compiles first (tens of seconds, once
per install): engine.simulate then tells the user so and compiles the person pass ahead
(kernels/ahead.py). It reads Numba's cache index without compiling anything; if Numba's cache
layout ever changes, it answers True (no notice) rather than fail a run.
"""

from __future__ import annotations

from ..stages.responses import _network_share
from .person_pass import _households


def step_kernels_cached() -> bool:
    """True when every kernel of the step's passes is compiled in this process or in the cache
    (a process that has run once never compiles again, even where the cache cannot be written)."""
    try:
        kernels = (_households, _network_share)
        return all(kernel.signatures or bool(kernel._cache._cache_file._load_index()) for kernel in kernels)
    except (AttributeError, OSError):
        return True
