"""Counter-based random numbers: a draw is a pure function of (seed, stream, step, index).

Use this module for every random draw in trustsim. Nothing keeps generator state, so the same seed
gives the same numbers whatever the thread count, chunking or order of evaluation, and two
scenarios run with the same seed share their draws (common random numbers): their difference is
the policy's alone.

A stream is named by a string (``"behaviour.crime"``); its id is a stable hash of the name, so a
new stream never shifts the draws of another. ``key(seed, stream, step)`` folds the first three
parts into one 64-bit key; ``bits(key, index)`` hashes the index under that key. The mixing
function is SplitMix64's finaliser, a bijection on 64-bit integers with full avalanche.

The same ``mix64`` serves NumPy arrays (vectorised) and Numba kernels (``mix64_jit``, inlined), so
the hot loops draw inline without a second implementation.
"""

from __future__ import annotations

import functools
import zlib

import numba
import numpy as np
from scipy.special import ndtri

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def mix64(z):
    """SplitMix64 finaliser: a 64-bit bijection; works on uint64 arrays and, jitted, on scalars."""
    z = (z ^ (z >> _S30)) * _C1
    z = (z ^ (z >> _S27)) * _C2
    return z ^ (z >> _S31)


mix64_jit = numba.njit(cache=True)(mix64)


def stream_id(name: str) -> int:
    """Stable 32-bit id of a named stream."""
    return zlib.crc32(name.encode("utf-8"))


_MASK = (1 << 64) - 1


@functools.lru_cache(maxsize=4096)
def _stream_key(seed: int, stream: str) -> np.uint64:
    """(seed, stream) folded: the part of a key that every step of a run shares."""
    z = np.uint64(mix64_jit(np.uint64((seed + int(_GOLDEN)) & _MASK)))  # the sum wraps as uint64 arithmetic does
    return np.uint64(mix64_jit(z ^ np.uint64(stream_id(stream))))


def key(seed: int, stream: str, step: int = 0) -> np.uint64:
    """The 64-bit key of one (seed, stream, step): the only state a draw needs besides its index.
    Scalars go through mix64_jit: one-element arrays through mix64 cost 30 us a key."""
    return np.uint64(mix64_jit(_stream_key(seed, stream) ^ np.uint64(step & _MASK)))


def bits(k: np.uint64, index: np.ndarray) -> np.ndarray:
    """64 random bits for each index under key k."""
    return mix64(index.astype(np.uint64) * _GOLDEN ^ np.uint64(k))


def _indices(n_or_index: int | np.ndarray) -> np.ndarray:
    if isinstance(n_or_index, (int, np.integer)):
        return np.arange(int(n_or_index), dtype=np.uint64)
    return np.asarray(n_or_index)


def uniform(seed: int, stream: str, step: int, n_or_index: int | np.ndarray) -> np.ndarray:
    """Uniform floats in [0, 1), one per index (or per 0..n-1)."""
    b = bits(key(seed, stream, step), _indices(n_or_index))
    return (b >> _S11).astype(np.float64) * _TO_UNIT


def normal(seed: int, stream: str, step: int, n_or_index: int | np.ndarray) -> np.ndarray:
    """Standard normal draws by inversion, one per index."""
    u = uniform(seed, stream, step, n_or_index)
    return ndtri(np.maximum(u, _TO_UNIT))


@numba.njit(cache=True)
def unit_jit(k, i):
    """Uniform in [0, 1) for index i under key k, inside a Numba kernel."""
    return (mix64_jit(np.uint64(i) * _GOLDEN ^ k) >> _S11) * _TO_UNIT


@numba.njit(cache=True)
def poisson_inverse(u, lam):
    """Poisson draw from one uniform by inversion of the CDF (exact; fast for the small rates used)."""
    if u < 1.0 - lam:  # then u < exp(-lam) too: the usual zero, without an exp
        return 0
    p = np.exp(-lam)
    cdf = p
    k = 0
    while u > cdf and k < 10_000:
        k += 1
        p *= lam / k
        cdf += p
        if p == 0.0:
            break
    return k


@numba.njit(cache=True, nogil=True)  # small arrays (firms): a parallel loop would cost more to compile than it saves
def _poisson_many(k, index, lam):
    out = np.empty(index.shape[0], dtype=np.int32)
    for j in range(index.shape[0]):
        out[j] = poisson_inverse(unit_jit(k, index[j]), lam[j])
    return out


def poisson(seed: int, stream: str, step: int, lam: np.ndarray, index: np.ndarray | None = None) -> np.ndarray:
    """Poisson counts with means lam, one per index (default 0..len(lam)-1)."""
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    idx = np.arange(lam.shape[0], dtype=np.uint64) if index is None else np.asarray(index, dtype=np.uint64)
    return _poisson_many(key(seed, stream, step), idx, lam)


def keys(seed: int, streams: tuple[str, ...], step: int) -> np.ndarray:
    """The keys of several streams for one step, as a uint64 array for the Numba passes."""
    return np.array([key(seed, stream, step) for stream in streams], dtype=np.uint64)
