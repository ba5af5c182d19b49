"""What the record constrains: how far the observations narrow each assumption, and which rule out most.

Use `contraction` for each parameter's posterior contraction (1 - posterior variance / prior
variance, in unit-cube coordinates), `ruled_out_share` for the share of the prior bank each
observation rules out by itself (implausibility above a cut-off) and all of them together,
`open_assumptions` for the plain-words list of the assumptions the record leaves open, and
`constraint_statement` for the short paragraph a report or the command line prints. Everything
here works on arrays already computed by the posterior's core (the bank in unit-cube coordinates,
posterior draws or weights, the implausibility matrix); nothing simulates or reads files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

OPEN_BELOW = 0.1  # a contraction below this: the record leaves the assumption open
IMPLAUSIBLE = 3.0  # Pukelsheim's three-sigma rule: a setting this many sds off a figure is ruled out


def _weighted_variance(x: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    if weights is None:
        return x.var(axis=0)
    w = weights / weights.sum()
    mean = w @ x
    return w @ (x - mean) ** 2


def contraction(prior_u: np.ndarray, posterior_u: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Per parameter, 1 - posterior variance / prior variance, both in unit-cube coordinates.

    prior_u is the prior bank (n, d); posterior_u are posterior draws (m, d), weighted by
    `weights` (m,) when given (likelihood weighting: the bank itself with its weights). The prior
    variance is the bank's own sample variance rather than the uniform's exact 1/12, so that the
    posterior equal to the bank gives exactly 0 and a bank that is not exactly uniform (a Latin
    hypercube, a Sobol' design, a pruned bank) is compared with itself. 1 is a point mass; a value
    below 0 (a posterior wider than the bank) is sampling noise and is returned as it is.
    """
    prior_u = np.asarray(prior_u, dtype=np.float64)
    posterior_u = np.asarray(posterior_u, dtype=np.float64)
    if prior_u.ndim != 2 or posterior_u.ndim != 2 or prior_u.shape[1] != posterior_u.shape[1]:
        raise ValueError(f"prior {prior_u.shape} and posterior {posterior_u.shape} must be (n, d) with the same d")
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (posterior_u.shape[0],) or np.any(weights < 0) or not weights.sum() > 0:
            raise ValueError("weights must be one non-negative number per posterior draw, not all zero")
    prior_var = prior_u.var(axis=0)
    if np.any(prior_var <= 0):
        raise ValueError(f"parameters {np.flatnonzero(prior_var <= 0).tolist()} do not vary in the prior bank")
    return 1.0 - _weighted_variance(posterior_u, weights) / prior_var


def ruled_out_share(implausibility: np.ndarray, threshold: float = IMPLAUSIBLE) -> np.ndarray:
    """The share of the prior bank each observation rules out alone, then all of them together.

    implausibility is (n_bank, k): |model - observed| / total sd of each run for each observation.
    Returns k + 1 shares: entry j is the share of runs whose implausibility for observation j alone
    exceeds `threshold`; the last is the share ruled out by at least one observation (the maximum
    over observations above the threshold). A NaN (a run that could not produce the figure) rules
    nothing out: the share is of the runs shown implausible, not of those left unknown.
    """
    implausibility = np.asarray(implausibility, dtype=np.float64)
    if implausibility.ndim != 2 or implausibility.shape[0] == 0:
        raise ValueError(f"implausibility must be (n_bank, k) with n_bank > 0, got {implausibility.shape}")
    out = implausibility > threshold  # NaN compares False
    return np.append(out.mean(axis=0), out.any(axis=1).mean())


def _label(key: str, labels: Mapping[str, str] | None) -> str:
    return labels.get(key, key) if labels else key


def _narrows(c: float) -> str:
    percent = round(100 * c)
    return f"the record narrows it by {percent}%" if percent > 0 else "the record does not narrow it"


def open_assumptions(names: Sequence[str], reasons: Mapping[str, str], contraction: np.ndarray,
                     labels: Mapping[str, str] | None = None, *, threshold: float = OPEN_BELOW) -> list[str]:
    """The assumptions the record leaves open (contraction below `threshold`), least narrowed first.

    names are the dotted keys in the order of `contraction`; reasons maps a key to its plausible
    range's one-line reason (missing or empty: none said); labels maps a key to plain words (else
    the key is shown alone). Each line reads, e.g., "how many points a critical post costs
    (scoring.points.critical_post): the record narrows it by 3%; its range: <reason>".
    """
    c = np.asarray(contraction, dtype=np.float64)
    if c.shape != (len(names),):
        raise ValueError(f"{len(names)} names but contraction has shape {c.shape}")
    lines = []
    for j in np.argsort(c, kind="stable"):
        if not c[j] < threshold:
            break
        key = names[j]
        head = f"{labels[key]} ({key})" if labels and key in labels else key
        reason = reasons.get(key, "")
        lines.append(f"{head}: {_narrows(float(c[j]))}" + (f"; its range: {reason}" if reason else ""))
    return lines


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def constraint_statement(names: Sequence[str], contraction: np.ndarray, observations: Sequence[str],
                         ruled_out: np.ndarray, labels: Mapping[str, str] | None = None, *,
                         threshold: float = OPEN_BELOW, most: int = 3) -> str:
    """A short paragraph: what the record narrows most, what it leaves open, which figure rules out most.

    names and contraction as in `open_assumptions`; observations are the figures' labels in the
    order of `ruled_out` (the k + 1 shares of `ruled_out_share`; no observations: the last
    sentence is left out). Names up to `most` parameters narrowed by `threshold` or more, largest
    first, and every parameter narrowed less (open).
    """
    c = np.asarray(contraction, dtype=np.float64)
    ruled_out = np.asarray(ruled_out, dtype=np.float64)
    if c.shape != (len(names),):
        raise ValueError(f"{len(names)} names but contraction has shape {c.shape}")
    if ruled_out.shape != (len(observations) + 1,):
        raise ValueError(f"{len(observations)} observations need {len(observations) + 1} shares, got {ruled_out.shape}")
    order = np.argsort(-c, kind="stable")
    narrowed = [j for j in order if c[j] >= threshold]
    left_open = [names[j] for j in order[::-1] if not c[j] >= threshold]
    percent = round(100 * threshold)
    sentences = []
    if narrowed:
        top = [f"{_label(names[j], labels)} (by {round(100 * c[j])}%)" for j in narrowed[:most]]
        sentences.append(f"The record narrows most: {_join(top)}.")
    else:
        sentences.append(f"The record narrows none of the {len(names)} assumptions by {percent}% or more.")
    if left_open:
        named = [_label(key, labels) for key in left_open[:most]]
        if len(left_open) > most:  # the full list is open_assumptions'; a paragraph names a few
            named.append(f"{len(left_open) - most} more")
        sentences.append(f"It leaves open {len(left_open)} of the {len(names)} assumptions, each narrowed by less "
                         f"than {percent}%: {_join(named)}.")
    else:
        sentences.append("It leaves none of them open.")
    if observations:
        j = int(np.argmax(ruled_out[:-1]))
        sentences.append(f"Of the observations, {observations[j]} rules out the most by itself: "
                         f"{round(100 * ruled_out[j])}% of the plausible settings; together they rule out "
                         f"{round(100 * ruled_out[-1])}%.")
    return " ".join(sentences)
