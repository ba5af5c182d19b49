"""The posterior: every headline figure conditioned on the public record (`trustsim posterior`).

Use `posterior(scenario, simulations=N, ...)`. In order, it:

1. loads the scenario, its plausible ranges (the prior) and its observations (or `observations=FILE`),
   and checks that every figure is inside the run;
2. runs the bank, N draws from the prior, through the Dask runner into OUT (bank.py; resumable);
3. turns each run into the figures' model values, adds the observation model's nuisance factors
   (observe.py), and holds a tenth of the bank out for the self-consistency checks;
4. fits an ensemble of neural posterior estimators on the rest (inference.py, `sbi`'s NPE), draws
   from it at the published figures, and weights the whole bank by the figures' likelihood, the
   second, emulator-free estimate with its effective sample size;
5. reruns the model at posterior draws: each headline metric's posterior-predictive median and 90%
   interval over time, beside the prior's (table `predictive`);
6. says what the record constrains (constraints.py): each parameter's contraction, the share of the
   prior each figure alone rules out, each headline interval with one figure left out, and the
   assumptions the record leaves open;
7. names the tipping regime with PRIM on the bank (tipping.py), with its prior and posterior mass;
8. checks itself: coverage, SBC and TARP on the held-out runs, each figure's posterior-predictive
   p-value, and whether the model can reproduce the record at all;
9. stores the draws, diagnostics, estimator checksum and versions in OUT/results.duckdb and writes
   OUT/posterior.html (pages.py) and OUT/posterior.json (the intervals other pages cite).

The bank is reusable: the same command with other `observations` or `only` retrains and reruns
only the posterior-predictive draws; the bank's runs are found in the store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trustsim import store
from trustsim.errors import UserError
from trustsim.experiments.ensembles import prepare
from trustsim.experiments.ensembles.runner import Evaluate, RunCounts, simulate_metrics
from trustsim.experiments.posterior import bank, constraints, inference, pages, summary
from trustsim.experiments.posterior.observe import observed, summaries
from trustsim.result import HEADLINE_METRICS
from trustsim.scenario.loading import read_observations
from trustsim.scenario.observations import check_dates, check_observations
from trustsim.scenario.schema.observations import Observations
from trustsim.scenario.schema import AUDIT_METRICS, Scenario
from trustsim.scenario.schema.ranges import PlausibleRange
from trustsim.version import __version__

__all__ = ["Posterior", "posterior", "HEADLINE"]

# The headline metrics of docs/posterior.md: the report's, and the network's fate.
HEADLINE = tuple(dict.fromkeys((*HEADLINE_METRICS, "dissident_degree_ratio")))
PREDICTIVE_TABLE = "predictive"
HELD_OUT = 0.1  # share of the bank kept for the self-consistency checks
MAX_HELD_OUT = 200
MIN_TRAINING_RUNS = 50
POSTERIOR_DRAWS = 4000  # drawn from the estimator for every summary but the reruns
PREDICTIVE_SEED = 1_000_000  # the reruns' seeds start here, apart from the bank's


@dataclass
class Posterior:
    """The outcome of `trustsim posterior`: what ran, what it found, and where it is written."""

    posterior_id: str
    scenario: Scenario
    observations: Observations
    bank_id: str
    predictive_id: str
    bank_counts: RunCounts
    predictive_counts: RunCounts
    headline: pd.DataFrame  # metric, prior/npe/weighted q05 q50 q95, agree
    fit: pd.DataFrame  # per figure: observed, prior and posterior-predictive bands, p-value, ruled-out share
    parameters: pd.DataFrame  # per parameter: prior and posterior q05 q50 q95, contraction
    leave_one_out: pd.DataFrame  # per figure left out and headline metric: q05 q50 q95, ess
    tipping: dict[str, Any] | None
    diagnostics: dict[str, float]
    statement: str
    open_assumptions: list[str]
    bands: pd.DataFrame  # the `predictive` table: kind, metric, grp, step, date, q05, q50, q95
    page: Path | None = None


def _conditioning(loaded: Scenario, observations: str | Path | None) -> Observations:
    where = str(observations) if observations is not None else loaded.name
    obs = read_observations(observations) if observations is not None else loaded.observations
    if not obs.figures:
        raise UserError(f"{loaded.name}: no observations to condition on; allowed: a scenario with an "
                        f"observations: section (docs/posterior.md), or --observations FILE")
    check_observations(obs, AUDIT_METRICS, where)
    check_dates(obs, loaded.run, where)
    return obs


def _held_out(n: int, seed: int) -> np.ndarray:
    """A fixed tenth of the runs (at most MAX_HELD_OUT), chosen by the seed alone."""
    k = min(MAX_HELD_OUT, int(round(HELD_OUT * n)))
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng([seed, 0x686F]).permutation(n)[:k]] = True
    return mask


def _posterior_id(bank_id: str, obs: Observations, members: int, seed: int, draws: int) -> str:
    """A hash of everything that decides the posterior, trustsim's version included (its code does too)."""
    spec = {"bank": bank_id, "observations": obs.model_dump(mode="json"), "members": members, "seed": seed,
            "draws": draws, "version": __version__}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def posterior(scenario: str | Scenario = "national_2020", simulations: int = 1000, *, seed: int = 0,
              people: int | None = None, years: float | None = None, overrides: Mapping[str, Any] | None = None,
              vary: Mapping[str, PlausibleRange] | None = None, only: Sequence[str] | None = None,
              observations: str | Path | None = None, draws: int = 100, members: int = 5,
              workers: int | None = None, scheduler: str | None = None, out: str | Path = "trustsim-posterior",
              progress: bool = False, evaluate: Evaluate = simulate_metrics) -> Posterior:
    """Condition the scenario's plausible ranges on its observations; writes OUT/posterior.html."""
    inference.require_extra()  # before any run: without the extra nothing is started or written
    if simulations < MIN_TRAINING_RUNS * 2:
        raise UserError(f"--simulations {simulations}; allowed: a whole number >= {MIN_TRAINING_RUNS * 2} "
                        f"(docs/posterior.md: 1000 or more for a posterior worth quoting)")
    if draws < 10 or members < 1:
        raise UserError(f"--draws {draws}, --members {members}; allowed: --draws >= 10, --members >= 1")
    loaded, ranges = prepare(scenario, people, years, overrides, vary, only)
    obs = _conditioning(loaded, observations)
    clash = set(obs.nuisance) & set(ranges)
    if clash:
        raise UserError(f"nuisance {sorted(clash)[0]}: also a parameter's range; allowed: another name")
    out = Path(out)
    store.check_directory(out)

    design = bank.prior_design(ranges, simulations, seed)
    bank_id, bank_counts = bank.run(loaded, design, out, workers=workers, scheduler=scheduler, progress=progress,
                                    evaluate=evaluate)
    b = bank.read(out, bank_id, ranges, obs, loaded)
    nu = bank.nuisance_unit(obs, b.samples, seed)
    x = summaries(b.values, obs, bank.nuisance_factors(obs, nu))
    x_obs, sd = observed(obs)
    theta = np.hstack([b.unit, nu])
    ok = np.isfinite(x).all(axis=1)
    if ok.sum() < MIN_TRAINING_RUNS:
        raise UserError(f"only {int(ok.sum())} of {len(b)} bank runs give every figure a value; allowed: "
                        f"a larger --simulations, or figures the runs can reproduce")
    names = [*ranges, *(f"nuisance.{n}" for n in obs.nuisance)]
    d = len(ranges)
    held = np.zeros(len(b), dtype=bool)
    held[np.flatnonzero(ok)] = _held_out(int(ok.sum()), seed)
    train = ok & ~held

    started = time.perf_counter()
    estimator = inference.fit_npe(theta[train], x[train], seeds=tuple(range(members)), noise_sd=sd)
    train_seconds = time.perf_counter() - started
    draws_u = estimator.sample(x_obs, POSTERIOR_DRAWS, seed)
    weights = np.zeros(len(b))
    weights[ok], ess = inference.likelihood_weights(x[ok], x_obs, sd)

    predictive = bank.predictive_design(ranges, draws_u[:draws, :d], seed + PREDICTIVE_SEED)
    pred_id, pred_counts = bank.run(loaded, predictive, out, workers=workers, scheduler=scheduler,
                                    progress=progress, evaluate=evaluate)
    pred = bank.read(out, pred_id, ranges, obs, loaded)
    pred_factors = bank.nuisance_factors(obs, draws_u[pred.samples, d:])
    x_pred = summaries(pred.values, obs, pred_factors)
    noise = np.random.default_rng([seed, 0x7070]).standard_normal(x_pred.shape) * sd  # replicates carry the error

    headline_metrics = [m for m in HEADLINE if m in b.finals]
    band_metrics = list(dict.fromkeys([*headline_metrics, *(o.metric for o in obs.figures.values())]))
    by_sample = pd.Series(weights, index=b.samples)
    bands = pd.concat([summary.bands(b.trajectories, "prior", band_metrics),
                       summary.bands(pred.trajectories, "posterior", band_metrics),
                       summary.bands(b.trajectories, "weighted", band_metrics, by_sample)], ignore_index=True)

    headline = summary.headline(b, pred, weights, ess, headline_metrics)
    implaus = inference.implausibility(x[ok], x_obs, sd)
    ruled = constraints.ruled_out_share(implaus)
    fit = summary.fit(obs, x, x_pred + noise, x_obs, ok, weights, ruled)
    contraction = constraints.contraction(theta[ok], draws_u)
    parameters = summary.parameters(names, ranges, obs, theta[ok], draws_u, weights[ok], contraction)
    loo = summary.leave_one_out(obs, theta, x, x_obs, sd, train, ok, b, headline_metrics)

    reasons = {**{k: r.reason for k, r in ranges.items()}, **{f"nuisance.{k}": r.reason for k, r in obs.nuisance.items()}}
    labels = {f"nuisance.{k}": f"the observation model's {k.replace('_', ' ')}" for k in obs.nuisance}
    statement = constraints.constraint_statement(names, contraction, [o.label for o in obs.figures.values()],
                                                 ruled, labels)
    open_list = constraints.open_assumptions(names, reasons, contraction, labels)
    values = pd.DataFrame(np.column_stack([r.from_unit(b.unit[:, j]) for j, r in enumerate(ranges.values())]),
                          columns=list(ranges))
    drawn = pd.DataFrame(np.column_stack([r.from_unit(draws_u[:, j]) for j, r in enumerate(ranges.values())]),
                         columns=list(ranges))
    box = summary.tipping_box(b, values, drawn, weights)
    diagnostics = summary.self_consistency(estimator, theta, x, sd, held, ok, b, headline_metrics, seed)
    diagnostics.update({"ess": ess, "bank_runs": float(len(b)), "bank_failed": float(b.failed),
                        "training_runs": float(train.sum()), "train_seconds": train_seconds,
                        "reproducible_share": float(np.mean(np.nanmax(implaus, axis=1) <= constraints.IMPLAUSIBLE)),
                        "disagreements": float((~headline["agree"] & headline["comparable"]).sum())})

    posterior_id = _posterior_id(bank_id, obs, members, seed, draws)
    result = Posterior(posterior_id, loaded, obs, bank_id, pred_id, bank_counts, pred_counts, headline, fit,
                       parameters, loo, box, diagnostics, statement, open_list, bands)
    result.page = pages.posterior_page(out, result, dict(zip(names, draws_u.T)), dict(zip(names, theta[ok].T)))
    _save(out, result, estimator, names, draws_u, b, theta, weights)
    return result


def _save(out: Path, result: Posterior, estimator: Any, names: Sequence[str], draws_u: np.ndarray, b: bank.Bank,
          theta: np.ndarray, weights: np.ndarray) -> None:
    """The posterior's tables in OUT/results.duckdb, each row tagged with the posterior's id.

    A posterior is a pure function of its id's inputs, so each table holds its rows once: they are
    stored under the posterior's id, and a second save (a rerun, a concurrent run, a run that died
    between two tables) adds only the tables still missing. The summary goes last.
    """
    pid = result.posterior_id
    tag = {"posterior_id": pid}
    draws = pd.DataFrame(draws_u, columns=list(names)).rename_axis("draw").reset_index()
    npe = draws.melt(id_vars="draw", var_name="parameter", value_name="unit").assign(
        estimator="npe", weight=1.0 / len(draws_u))
    bank_rows = pd.DataFrame(theta, columns=list(names)).assign(draw=b.samples).melt(
        id_vars="draw", var_name="parameter", value_name="unit")
    bank_rows = bank_rows.assign(estimator="weighted",
                                 weight=np.tile(weights, len(names)))
    store.append_rows(out, "posterior_draws", pd.concat([npe, bank_rows], ignore_index=True).assign(**tag), key=pid)
    store.append_rows(out, PREDICTIVE_TABLE, result.bands.assign(**tag), key=pid)
    store.append_rows(out, "posterior_diagnostics", pd.DataFrame(
        {"name": list(result.diagnostics), "value": [float(v) for v in result.diagnostics.values()]}).assign(**tag),
        key=pid)
    store.append_rows(out, "posterior_summary", pd.DataFrame({
        "posterior_id": [pid], "scenario": [result.scenario.name], "bank_id": [result.bank_id],
        "predictive_id": [result.predictive_id], "created_at": [dt.datetime.now(dt.timezone.utc)],
        "observations": [result.observations.model_dump_json()], "estimator_checksum": [estimator.checksum()],
        "versions": [json.dumps(estimator.versions(), sort_keys=True)], "members": [len(estimator.members)],
        "headline": [result.headline.to_json(orient="records")], "fit": [result.fit.to_json(orient="records")],
        "parameters": [result.parameters.to_json(orient="records")], "statement": [result.statement],
        "tipping": [json.dumps(_tipping_json(result.tipping))]}), key=pid)


def _tipping_json(tipping: dict[str, Any] | None) -> dict[str, Any] | None:
    """The tipping box as plain JSON: limits, coverage, density and the masses."""
    if tipping is None:
        return None
    box = tipping.get("box")
    out = {k: v for k, v in tipping.items() if k != "box"}
    if box is not None:  # an open side is null
        out.update({"limits": {k: [v if np.isfinite(v) else None for v in side] for k, side in box.limits.items()},
                    "coverage": box.coverage, "density": box.density, "prior_mass": box.prior_mass})
    return {k: (float(v) if isinstance(v, (float, np.floating)) and np.isfinite(v) else
                None if isinstance(v, (float, np.floating)) else v) for k, v in out.items()}
