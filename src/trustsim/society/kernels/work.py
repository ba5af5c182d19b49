"""The work layer's kernel: colleague ties within each workplace."""

from __future__ import annotations

import numba
import numpy as np

from trustsim.rng import unit_jit


@numba.njit(cache=True, inline="always")
def _work_step(members, a, s, p, household, q):
    """Next member after position q (cyclic) in workplace [a, a+s) not in p's household, or -1."""
    hp = household[members[a + p]]
    for _ in range(s - 1):
        q = q + 1 if q + 1 < s else 0
        if q == p:
            return -1
        if household[members[a + q]] != hp:
            return q
    return -1


@numba.njit(cache=True, inline="always")
def _work_reach(k, members, a, s, p, half_degree):
    """How many colleagues member p ties to: all later ones (small place) or about half_degree."""
    if 2.0 * half_degree >= s - 1:
        return -1  # complete: ties to every later member
    whole = int(half_degree)
    m = whole + (1 if unit_jit(k, np.uint64(members[a + p])) < half_degree - whole else 0)
    return min(m, (s - 1) // 2)


@numba.njit(cache=True, nogil=True)
def work_ties(start, stop, k, members, wp_off, household, half_degree, counts, src, dst, fill):
    """Colleague ties within each workplace, skipping one's own household (already family).

    A workplace with at most 2 * half_degree + 1 members is complete; a larger one is a ring in
    member order where each member ties to about half_degree next colleagues, so degrees are
    about 2 * half_degree and ties stay local. With fill False, counts[member slot] gets the
    number of ties; with fill True, ties are written from the offsets in counts.
    """
    for w in range(start, stop):
        a = wp_off[w]
        s = wp_off[w + 1] - a
        for p in range(s):
            reach = _work_reach(k, members, a, s, p, half_degree)
            c = 0
            slot = counts[a + p] if fill else 0
            if reach < 0:
                hp = household[members[a + p]]
                for q in range(p + 1, s):
                    if household[members[a + q]] != hp:
                        if fill:
                            src[slot + c] = members[a + p]
                            dst[slot + c] = members[a + q]
                        c += 1
            else:
                q = p
                for _ in range(reach):
                    q = _work_step(members, a, s, p, household, q)
                    if q < 0:
                        break
                    if fill:
                        src[slot + c] = members[a + p]
                        dst[slot + c] = members[a + q]
                    c += 1
            if not fill:
                counts[a + p] = c
