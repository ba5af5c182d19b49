"""Numba kernels on several threads: one call of a nogil kernel per thread.

Use `in_threads` to run a step's pass whose kernel takes (first, stride) and walks the chunks
first, first + stride, ... of Context.chunks, and `in_blocks` to run a society kernel over
contiguous blocks of its range. Each share runs on its own Python thread (the caller runs the
first), and Numba releases the GIL inside the kernel, so the shares run at once.

Why not Numba's prange: a prange kernel is compiled twice over (the kernel, then a parallel
wrapper that LLVM optimises again with the whole kernel inlined), which was about 35 of the 86
seconds of a first run's compilation; and Numba's default threading layer aborts the process when
two threads enter prange kernels at once. Plain nogil kernels are reentrant, and a share writes only
its own per-thread sums, so results do not depend on the thread count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(numba.config.NUMBA_NUM_THREADS - 1, 1), thread_name_prefix="trustsim")
        return _pool


def in_threads(share: Callable[[int, int], None], count: int) -> None:
    """Run share(k, count) for k = 0..count-1 at once, the caller taking k = 0; wait for all."""
    futures = [_executor().submit(share, k, count) for k in range(1, count)]
    try:
        share(0, count)
    finally:
        for future in futures:
            future.result()


def in_blocks(kernel: Callable, n: int, *args) -> None:
    """Run kernel(lo, hi, *args) over 0..n-1 split into one contiguous block per thread (kernels
    whose every index writes its own slots, as the society's are)."""
    count = max(1, min(numba.get_num_threads(), n))  # Numba's setting for the calling thread
    bounds = [n * k // count for k in range(count + 1)]
    in_threads(lambda k, _: kernel(bounds[k], bounds[k + 1], *args), count)
