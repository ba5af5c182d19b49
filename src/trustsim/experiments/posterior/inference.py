"""The statistics of `trustsim posterior`: from a bank of simulations to a posterior over the
scenario's uncertain parameters, and the checks that say whether to trust it.

It owns two estimators and their diagnostics, as pure functions on NumPy arrays that know nothing
of the model:
- `fit_npe` trains an ensemble of neural posterior estimators (sbi's NPE, a masked autoregressive
  flow) once on the whole bank; `NPEEnsemble.sample` then draws from the posterior for any
  observed vector at no further simulation cost;
- `likelihood_weights` weights each bank run by the Gaussian likelihood of the observations, the
  emulator-free estimate to hold the first against (`weighted_quantiles` turns it into intervals,
  `implausibility` into history matching's per-observation distances);
- `coverage`, `sbc`, `tarp` and `c2st` test an ensemble on held-out bank runs used as pretend
  observations, or against reference samples.

Use it from the posterior command (or a benchmark) once the caller has mapped every parameter's
range, log ranges included, onto the unit cube u in [0,1]^d, so that the prior is uniform there,
and has transformed the summaries x (n, k) it conditions on (logs and the like) and their
measurement standard deviations sd (k,). torch and sbi are the optional extra 'posterior':
this module imports them inside its functions only, so that importing it never needs them.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import io
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

from trustsim.errors import UserError

MISSING_EXTRA = "trustsim posterior needs the optional extra 'posterior': pip install 'trustsim[posterior]'"
# How far inside the cube a design point on its face is moved before the probit map, which sends
# 0 and 1 to infinity (a Sobol' design's first point is 0): about 4.75 standard deviations.
EDGE = 1e-6


def require_extra() -> None:
    """Raise the one-line UserError naming the extra when torch, sbi or the EMA Workbench (PRIM) is missing."""
    try:
        import sbi  # noqa: F401
        import torch  # noqa: F401
        if importlib.util.find_spec("ema_workbench") is None:  # found, not imported: it warns at import
            raise ImportError("ema_workbench")
    except ImportError:
        raise UserError(MISSING_EXTRA) from None


# --- the neural estimator ------------------------------------------------------------------------


def _to_probit(u: NDArray) -> NDArray:
    """Unit cube -> R^d by the normal quantile: the uniform prior becomes a standard normal one."""
    return ndtri(np.clip(u, EDGE, 1.0 - EDGE))


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """torch on one thread, for bit-identical sums whatever the machine's core count."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class _NoTracker:
    """sbi's training logger that logs nothing: its default writes TensorBoard files into
    ./sbi-logs of whatever directory the command runs in."""

    log_dir = None

    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        pass

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        pass

    def log_params(self, params: dict[str, Any]) -> None:
        pass

    def add_figure(self, name: str, figure: Any, step: int | None = None) -> None:
        pass

    def flush(self) -> None:
        pass


def _member_seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


@dataclass
class NPEEnsemble:
    """Neural posterior estimators trained on one bank, one per training seed, drawn from as an
    equal mixture (a single flow is often overconfident; members disagree where data are thin).

    Each member models p(z | x) in probit coordinates z = Phi^-1(u), where the uniform prior on
    the cube is a standard normal: the flow's support is all of R^d, so every draw maps back
    inside the cube and none is rejected or piles up on a face. x enters standardised by
    `x_mean` and `x_scale`. The members are sbi DirectPosteriors (`.posterior_estimator` is the
    flow).
    """

    members: list[Any]
    seeds: tuple[int, ...]
    x_mean: NDArray[np.float64]
    x_scale: NDArray[np.float64]
    noise_sd: NDArray[np.float64] | None
    train_seconds: float
    epochs: list[int]  # each member's, to tell early stopping from max_epochs

    def _x_tensor(self, x_obs: ArrayLike) -> Any:
        import torch

        x = np.atleast_2d(np.asarray(x_obs, dtype=np.float64))
        if x.shape[1] != self.x_mean.shape[0]:
            raise ValueError(f"x_obs has {x.shape[1]} summaries, the estimator was trained on {self.x_mean.shape[0]}")
        if not np.all(np.isfinite(x)):
            raise ValueError("x_obs has non-finite values")
        return torch.as_tensor((x - self.x_mean) / self.x_scale, dtype=torch.float32)

    def sample_batched(self, x_obs: ArrayLike, n: int, seed: int) -> NDArray[np.float64]:
        """n draws from the posterior of each row of x_obs (b, k): an array (n, b, d) in the cube.

        Member i gives n // m draws (the first n % m members one more), from torch's generator
        seeded by (seed, its training seed); the draws of each observation are then shuffled, so
        that any first few are a fair mixture.
        """
        import torch

        x = self._x_tensor(x_obs)
        m = len(self.members)
        counts = [n // m + (i < n % m) for i in range(m)]
        parts = []
        with torch.random.fork_rng(devices=[]), _one_thread(), torch.no_grad():
            for member, member_seed, count in zip(self.members, self.seeds, counts):
                if count == 0:
                    continue
                torch.manual_seed(_member_seed(seed, member_seed))
                # sbi caps draws x observations per batch at 1e5 anyway; asked for that, it does not warn.
                z = member.sample_batched((count,), x=x, show_progress_bars=False,
                                          max_sampling_batch_size=max(1, 100_000 // x.shape[0]))
                parts.append(z.reshape(count, x.shape[0], -1).double().numpy())
        u = ndtr(np.concatenate(parts, axis=0))
        order = np.random.default_rng(seed).permuted(np.broadcast_to(np.arange(n)[:, None], (n, x.shape[0])), axis=0)
        return np.take_along_axis(u, order[:, :, None], axis=0)

    def sample(self, x_obs: ArrayLike, n: int, seed: int) -> NDArray[np.float64]:
        """n draws (n, d) in the unit cube from the posterior given one observed vector x_obs (k,)."""
        return self.sample_batched(np.asarray(x_obs, dtype=np.float64)[None, :], n, seed)[:, 0, :]

    def log_prob(self, u: ArrayLike, x_obs: ArrayLike) -> NDArray[np.float64]:
        """Log density of the mixture at the points u (m, d) of the cube given x_obs (k,)."""
        import torch

        u = np.atleast_2d(np.asarray(u, dtype=np.float64))
        z = _to_probit(u)
        x = self._x_tensor(x_obs)
        theta = torch.as_tensor(z, dtype=torch.float32)
        with _one_thread(), torch.no_grad():
            # norm_posterior=False: the support is all of R^d, so no mass leaks to renormalise.
            logs = np.stack([member.log_prob(theta, x=x, norm_posterior=False).double().numpy()
                             for member in self.members])
        mixture = np.logaddexp.reduce(logs, axis=0) - np.log(len(self.members))
        # Change of variables u = Phi(z): p(u) = p(z) / prod phi(z_i).
        log_phi = -0.5 * z**2 - 0.5 * np.log(2 * np.pi)
        return mixture - log_phi.sum(axis=1)

    def checksum(self) -> str:
        """sha256 over every member's weights (state_dict order) and the standardisation: equal
        checksums mean the same estimator."""
        digest = hashlib.sha256()
        for array in (self.x_mean, self.x_scale):
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        for member in self.members:
            for name, tensor in member.posterior_estimator.state_dict().items():
                digest.update(name.encode())
                digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()

    @staticmethod
    def versions() -> dict[str, str]:
        """The versions a checksum is reproducible with."""
        return {name: importlib.metadata.version(name) for name in ("torch", "sbi", "numpy")}


def _check_bank(u: NDArray, x: NDArray) -> None:
    if u.ndim != 2 or x.ndim != 2 or u.shape[0] != x.shape[0]:
        raise ValueError(f"u (n, d) and x (n, k) must have the same rows; got {u.shape} and {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x has non-finite values in {int((~np.isfinite(x)).any(axis=1).sum())} rows: "
                         "exclude those runs (and say so) before fitting")
    if not np.all((u >= 0) & (u <= 1)):
        raise ValueError("u must lie in the unit cube [0, 1]^d")


def fit_npe(u: ArrayLike, x: ArrayLike, seeds: Sequence[int] = (0, 1, 2, 3, 4), *,
            noise_sd: ArrayLike | None = None, flow: str = "maf", max_epochs: int = 300, stop_after_epochs: int = 20,
            hidden_features: int = 50, num_transforms: int = 5, batch_size: int = 100,
            learning_rate: float = 1e-3) -> NPEEnsemble:
    """Train one neural posterior estimator per seed on the bank (u (n, d) in the cube, x (n, k)).

    Each member is sbi's NPE with a masked autoregressive flow (`flow`, any name sbi's
    posterior_nn takes: "maf" trains in seconds to minutes on a few thousand runs on one core
    and represents Gaussian-like posteriors exactly; "nsf" did no better on the two-branch toy of
    benchmarks/bench_posterior_toys.py at 1,500 runs, at about twice the time per epoch), early
    stopped on a held-out tenth of the bank after `stop_after_epochs` without improvement, or at
    `max_epochs` (sbi warns then). The same inputs and seeds give bit-identical networks in the
    same environment: torch's generator is seeded per member (weights, validation split,
    batches) and training runs on one thread.

    noise_sd (k,): the measurement standard deviation of each observation. The bank's summaries
    are the model's own, but an observed vector is the truth plus measurement error; each member
    trains on x + noise_sd * N(0, 1) (a fresh draw per member, from its seed), so that the
    likelihood it learns includes that error. Without it the estimator answers for an exact
    observation: too narrow, and an observation off the model's manifold (as every noisy one
    is) lies outside what it was trained on. Give the same sd to `likelihood_weights` and the
    two estimate the same posterior.

    Rows with non-finite x raise ValueError: the caller excludes them, and reports it.
    """
    require_extra()
    import torch
    from sbi.inference import NPE
    from sbi.neural_nets import posterior_nn

    u = np.asarray(u, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    _check_bank(u, x)
    sd = None if noise_sd is None else np.broadcast_to(np.asarray(noise_sd, dtype=np.float64), (x.shape[1],)).copy()
    if sd is not None and not np.all(sd > 0):
        raise ValueError("noise_sd must be > 0 for every summary")
    if not seeds:
        raise ValueError("seeds must name at least one member")
    x_mean = x.mean(axis=0)
    # The spread of the noisy x each member trains on, so that x_obs is standardised alike.
    x_scale = np.sqrt(x.var(axis=0) + (0.0 if sd is None else sd**2))
    if np.any(x_scale == 0):
        raise ValueError(f"summaries {np.flatnonzero(x_scale == 0).tolist()} are constant over the bank: "
                         "they carry no information, drop them")
    z = torch.as_tensor(_to_probit(u), dtype=torch.float32)
    d = u.shape[1]
    prior = torch.distributions.Independent(torch.distributions.Normal(torch.zeros(d), torch.ones(d)), 1)
    members, epochs = [], []
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]), _one_thread():
        for seed in seeds:
            noisy = x if sd is None else x + sd * np.random.default_rng(_member_seed(seed, 1)).standard_normal(x.shape)
            xs = torch.as_tensor((noisy - x_mean) / x_scale, dtype=torch.float32)
            torch.manual_seed(_member_seed(seed, 0))
            # Both sides arrive standardised (z is standard normal under the prior): no z-scoring inside.
            build = posterior_nn(flow, z_score_theta="none", z_score_x="none",
                                 hidden_features=hidden_features, num_transforms=num_transforms)
            inference = NPE(prior=prior, density_estimator=build, show_progress_bars=False, tracker=_NoTracker())
            # sbi prints a line on convergence whatever its settings; a library keeps stdout clean.
            with contextlib.redirect_stdout(io.StringIO()):
                estimator = inference.append_simulations(z, xs).train(
                    training_batch_size=batch_size, learning_rate=learning_rate,
                    stop_after_epochs=stop_after_epochs, max_num_epochs=max_epochs, show_train_summary=False)
            members.append(inference.build_posterior(estimator, prior=prior))
            epochs.append(int(inference.summary["epochs_trained"][-1]))
    return NPEEnsemble(members=members, seeds=tuple(int(s) for s in seeds), x_mean=x_mean, x_scale=x_scale,
                       noise_sd=sd, train_seconds=time.perf_counter() - start, epochs=epochs)


# --- the emulator-free estimate ------------------------------------------------------------------


def _check_obs(x_bank: NDArray, x_obs: NDArray, sd: NDArray) -> None:
    if x_bank.ndim != 2 or x_obs.shape != (x_bank.shape[1],) or sd.shape != x_obs.shape:
        raise ValueError(f"x_bank (n, k), x_obs (k,) and sd (k,) disagree: {x_bank.shape}, {x_obs.shape}, {sd.shape}")
    if not np.all(np.isfinite(x_obs)):
        raise ValueError("x_obs has non-finite values")
    if not np.all(sd > 0):
        raise ValueError("sd must be > 0 for every observation")


def likelihood_weights(x_bank: ArrayLike, x_obs: ArrayLike, sd: ArrayLike) -> tuple[NDArray[np.float64], float]:
    """Weights (n,) summing to 1, each run's Gaussian likelihood prod_j N(x_obs_j; x_bank_ij, sd_j),
    and their effective sample size 1 / sum(w^2), in [1, n].

    With a bank drawn from the prior, the weighted runs are a sample of the posterior (importance
    sampling with the prior as proposal): no emulator, so nothing to mistrain, but only as good
    as the effective sample size. Rows with a non-finite summary weigh 0.
    """
    x_bank = np.asarray(x_bank, dtype=np.float64)
    x_obs = np.asarray(x_obs, dtype=np.float64)
    sd = np.asarray(sd, dtype=np.float64)
    _check_obs(x_bank, x_obs, sd)
    finite = np.all(np.isfinite(x_bank), axis=1)
    if not finite.any():
        raise ValueError("no bank run has finite summaries")
    log_w = np.full(x_bank.shape[0], -np.inf)
    # In log space: with several precise observations the likelihoods underflow a float.
    log_w[finite] = -0.5 * (((x_bank[finite] - x_obs) / sd) ** 2).sum(axis=1)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    return w, float(1.0 / np.sum(w**2))


def weighted_quantiles(values: ArrayLike, weights: ArrayLike, qs: ArrayLike) -> NDArray[np.float64]:
    """Quantiles qs of values (n,) or (n, d) under weights (n,): shape (len(qs),) or (len(qs), d).

    Each value stands at the middle of its weight on the cumulative scale, interpolated
    linearly between (the equal-weight case gives numpy's 'hazen' quantiles); runs of zero weight
    are left out.
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    qs = np.asarray(qs, dtype=np.float64)
    if weights.shape != values.shape[:1] or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("weights must be (n,), non-negative, and not all 0")
    if np.any((qs < 0) | (qs > 1)):
        raise ValueError("qs must lie in [0, 1]")
    keep = weights > 0
    columns = values[keep].reshape(int(keep.sum()), -1)
    w = weights[keep]
    out = np.empty((qs.size, columns.shape[1]))
    for j in range(columns.shape[1]):
        order = np.argsort(columns[:, j], kind="stable")
        cum = np.cumsum(w[order])
        centre = (cum - 0.5 * w[order]) / cum[-1]
        out[:, j] = np.interp(qs, centre, columns[order, j])
    return out[:, 0] if values.ndim == 1 else out


def implausibility(x_bank: ArrayLike, x_obs: ArrayLike, sd: ArrayLike) -> NDArray[np.float64]:
    """|x_bank - x_obs| / sd (n, k): how many standard deviations each run misses each observation by
    (history matching rules a run out when one exceeds about 3)."""
    x_bank = np.asarray(x_bank, dtype=np.float64)
    x_obs = np.asarray(x_obs, dtype=np.float64)
    sd = np.asarray(sd, dtype=np.float64)
    _check_obs(x_bank, x_obs, sd)
    return np.abs(x_bank - x_obs) / sd


# --- diagnostics ---------------------------------------------------------------------------------


def _pretend_observations(estimator: NPEEnsemble, u_test: ArrayLike, x_test: ArrayLike,
                          seed: int) -> tuple[NDArray, NDArray]:
    """Held-out runs as observations: with the measurement noise the estimator was trained for
    added (seeded), since that is what an observation is; without it every check would pass a
    posterior that is too wide."""
    u_test = np.asarray(u_test, dtype=np.float64)
    x_test = np.asarray(x_test, dtype=np.float64)
    _check_bank(u_test, x_test)
    if estimator.noise_sd is not None:
        noise = np.random.default_rng(_member_seed(seed, 2)).standard_normal(x_test.shape)
        x_test = x_test + estimator.noise_sd * noise
    return u_test, x_test


def coverage(estimator: NPEEnsemble, u_test: ArrayLike, x_test: ArrayLike, level: float = 0.9,
             n_draws: int = 500, seed: int = 0) -> dict[str, Any]:
    """Empirical coverage of the central `level` marginal intervals on held-out runs (u_test (m, d),
    x_test (m, k)): the share of runs whose true parameter lies inside, per parameter and over
    all. A calibrated estimator gives `level`; less means overconfident."""
    u_test, x_test = _pretend_observations(estimator, u_test, x_test, seed)
    draws = estimator.sample_batched(x_test, n_draws, seed)
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
    inside = (u_test >= low) & (u_test <= high)
    return {"level": float(level), "overall": float(inside.mean()),
            "per_parameter": [float(c) for c in inside.mean(axis=0)], "n_test": int(u_test.shape[0])}


class _SbiView:
    """An ensemble as the posterior object sbi's diagnostics call (`sample_batched`), in the cube."""

    def __init__(self, estimator: NPEEnsemble, seed: int):
        self.estimator = estimator
        self.seed = seed

    def sample_batched(self, sample_shape: Any, x: Any, **_: Any) -> Any:
        import torch

        n = int(np.prod(tuple(sample_shape)))
        return torch.as_tensor(self.estimator.sample_batched(x.double().numpy(), n, self.seed), dtype=torch.float32)


def sbc(estimator: NPEEnsemble, u_test: ArrayLike, x_test: ArrayLike, n_draws: int = 500,
        seed: int = 0) -> dict[str, Any]:
    """Simulation-based calibration (sbi's run_sbc and check_sbc) on held-out runs: the rank of
    each true parameter among its posterior draws is uniform for a calibrated estimator.

    Returns the Kolmogorov-Smirnov p-value of that uniformity per parameter and the smallest;
    the C2ST accuracy of the ranks against uniform ones per parameter and the largest (0.5 is
    ideal); and the C2ST of the data-averaged posterior against the prior per parameter.
    """
    require_extra()
    import torch
    from sbi.diagnostics import check_sbc, run_sbc

    u_test, x_test = _pretend_observations(estimator, u_test, x_test, seed)
    thetas = torch.as_tensor(u_test, dtype=torch.float32)
    ranks, dap = run_sbc(thetas, torch.as_tensor(x_test, dtype=torch.float32), _SbiView(estimator, seed),
                         num_posterior_samples=n_draws, reduce_fns="marginals", show_progress_bar=False)
    prior = torch.as_tensor(np.random.default_rng(_member_seed(seed, 3)).random(u_test.shape), dtype=torch.float32)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        checks = check_sbc(ranks, prior, dap, num_posterior_samples=n_draws)
    ks = [float(p) for p in checks["ks_pvals"]]
    c2st_ranks = [float(a) for a in checks["c2st_ranks"]]
    return {"ks_pvalues": ks, "ks_pvalue_min": min(ks), "c2st_ranks": c2st_ranks,
            "c2st_ranks_max": max(c2st_ranks), "c2st_dap": [float(a) for a in checks["c2st_dap"]],
            "n_test": int(u_test.shape[0])}


def tarp(estimator: NPEEnsemble, u_test: ArrayLike, x_test: ArrayLike, n_draws: int = 500,
         seed: int = 0) -> dict[str, Any]:
    """Tests of Accuracy with Random Points (sbi's run_tarp and check_tarp) on held-out runs: a
    joint coverage check. ATC is about 0 for a calibrated estimator (below: too narrow, above:
    too wide); the KS p-value tests the expected coverage curve against the diagonal."""
    require_extra()
    import torch
    from sbi.diagnostics import check_tarp, run_tarp

    u_test, x_test = _pretend_observations(estimator, u_test, x_test, seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # the random reference points
        ecp, alpha = run_tarp(torch.as_tensor(u_test, dtype=torch.float32),
                              torch.as_tensor(x_test, dtype=torch.float32), _SbiView(estimator, seed),
                              num_posterior_samples=n_draws, show_progress_bar=False)
    atc, ks_pvalue = check_tarp(ecp, alpha)
    return {"atc": float(atc), "ks_pvalue": float(ks_pvalue), "n_test": int(u_test.shape[0])}


def c2st(a: ArrayLike, b: ArrayLike, seed: int = 0, classifier: str = "mlp") -> float:
    """Classifier two-sample test (sbi's c2st, 5-fold): the held-out accuracy of a classifier told
    to separate samples a (n, d) from b (m, d); 0.5 when they are alike, 1 when disjoint. The
    default MLP is the classifier of the sbi benchmark's figures."""
    require_extra()
    import torch
    from sbi.utils.metrics import c2st as sbi_c2st

    return float(sbi_c2st(torch.as_tensor(np.asarray(a), dtype=torch.float32),
                          torch.as_tensor(np.asarray(b), dtype=torch.float32), seed=seed, classifier=classifier))
