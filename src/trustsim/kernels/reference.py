"""The reference workload (described in benchmarks/README.md) as one fused Numba kernel.

Use this to compare trustsim's kernel style with other frameworks and with the machine's limits
(benchmarks/bench_reference.py); it is not part of the model's step path. Each step, for every
person, from the previous step's scores: a violation with probability 0.01 * propensity (drawn
inline with trustsim.rng's counter-based hash, stream "reference.violation"), score -30 on a
violation else +1, a 0.8/0.2 pull toward the mean of the neighbours' previous scores (the
isolated keep their own), a clip to [350, 950], and a count of the people under 550.

One pass over the CSR rows per step does all of it, writing into the other buffer of a pair.
The neighbour sum is accumulated in float64: float32 scores in [350, 950] sum exactly in float64
for any row shorter than millions, so the sum does not depend on the order of the neighbours and
a plain NumPy/SciPy implementation reproduces the kernel bit for bit. The count is an integer
reduction, so results are identical whatever the thread count.
"""

from __future__ import annotations

import numba
import numpy as np

from ..rng import key, unit_jit

STREAM = "reference.violation"
START = 650.0
LOW = 350.0
HIGH = 950.0
THRESHOLD = 550.0
VIOLATION_RATE = 0.01
PENALTY = -30.0
REWARD = 1.0
OWN_WEIGHT = 0.8
PULL_WEIGHT = 0.2


# error_model="numpy": a division by a zero degree is masked by the select below, so the
# Python-style ZeroDivisionError check (a branch per person) is not wanted. Every index is
# unsigned because Numba guards signed indices against negative wraparound, a compare and a
# select per neighbour.
@numba.njit(cache=True, parallel=True, error_model="numpy")
def step_reference(indptr, indices, propensity, prev, out, k):
    """One synchronous step from prev into out; returns how many people end under THRESHOLD."""
    n = indptr.shape[0] - 1
    one = np.uint64(1)
    low = 0
    for i in numba.prange(n):
        row = np.uint64(i)
        start = np.uint64(indptr[row])
        end = np.uint64(indptr[row + one])
        # Two accumulators halve the chain of dependent adds; the float64 sum is exact, so the
        # split changes nothing in the result.
        even = 0.0
        odd = 0.0
        e = start
        while e + one < end:
            even += prev[np.uint64(indices[e])]
            odd += prev[np.uint64(indices[e + one])]
            e += np.uint64(2)
        if e < end:
            even += prev[np.uint64(indices[e])]
        own = np.float64(prev[row])
        violated = unit_jit(k, row) < VIOLATION_RATE * np.float64(propensity[row])
        own += PENALTY if violated else REWARD
        deg = np.int64(end - start)
        pulled = OWN_WEIGHT * own + PULL_WEIGHT * ((even + odd) / deg)
        s = np.float32(pulled if deg > 0 else own)
        s = min(max(s, np.float32(LOW)), np.float32(HIGH))
        out[row] = s
        low += s < THRESHOLD
    return low


@numba.njit(cache=True)
def _run(indptr, indices, propensity, keys, scores, spare, counts):
    # The step loop lives in compiled code so that each step costs only the parallel launch.
    for t in range(keys.shape[0]):
        counts[t] = step_reference(indptr, indices, propensity, scores, spare, keys[t])
        scores, spare = spare, scores
    return scores


def step_keys(seed: int, steps: int) -> np.ndarray:
    """The counter-based key of each step's violation draws."""
    return np.array([key(seed, STREAM, t) for t in range(steps)], dtype=np.uint64)


def run_reference(indptr, indices, propensity, steps: int, seed: int):
    """Run the reference workload from scores of 650; returns (final float32 scores, int64 count
    of people under 550 after each step)."""
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    propensity = np.ascontiguousarray(propensity, dtype=np.float32)
    n = indptr.shape[0] - 1
    scores = np.full(n, START, dtype=np.float32)
    spare = np.empty_like(scores)
    counts = np.zeros(steps, dtype=np.int64)
    scores = _run(indptr, indices, propensity, step_keys(seed, steps), scores, spare, counts)
    return scores, counts
