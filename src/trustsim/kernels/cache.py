"""Whether the step's compiled kernels are already in Numba's on-disk cache.

Use `step_kernels_cached` before a run to decide whether to tell the user that this first run
compiles (tens of seconds, once per install) and that later runs start at once. It reads Numba's
cache index without compiling anything; if Numba's cache layout ever changes, it answers True
(no notice) rather than fail a run.
"""

from __future__ import annotations


def step_kernels_cached() -> bool:
    """True when every kernel of the step's passes has a compiled version in the cache."""
    from ..kernels.person_pass import _households
    from ..stages.responses import _network_share

    try:
        kernels = (_households, _network_share)
        return all(bool(kernel._cache._cache_file._load_index()) for kernel in kernels)
    except (AttributeError, OSError):
        return True
