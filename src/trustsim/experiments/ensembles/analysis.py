"""Reading an ensemble back from the results directory and summarising it.

Use `load_runs` for the ensemble's runs (one row each: sample, seed, parameters, status, message),
`trajectories` for their metrics over time, `finals` for each run's last value of each metric;
then `bands` (median and 5-95% band over time), `intervals` (median and 90% interval of the final
values, with the share of their variance due to seeds and to assumptions) and `indices` (SALib's
Morris or Sobol' indices, in the long form of the `sensitivity` table). Everything is read with
SQL from DIR/results.duckdb, where the store keeps `runs`, `metrics` and `ensemble_runs`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from trustsim.experiments.ensembles.design import MORRIS_LEVELS, Design
from trustsim.store import DB

INTERVAL = (0.05, 0.95)  # the 90% interval every page and table gives


def _sql(directory: str | Path, query: str, params: Sequence[object], columns: Sequence[str]) -> pd.DataFrame:
    path = Path(directory) / DB
    if not path.is_file():  # nothing stored yet (every run lost): an empty table of the right shape
        return pd.DataFrame(columns=list(columns))
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(query, list(params)).df()
    finally:
        con.close()


def load_runs(directory: str | Path, ensemble_id: str) -> pd.DataFrame:
    """The ensemble's stored runs: run_id, sample, seed, parameters (dict), status, message."""
    runs = _sql(directory, "SELECT e.run_id, e.sample, e.seed, e.parameters, r.status, r.message "
                "FROM ensemble_runs e JOIN runs r USING (run_id) WHERE e.ensemble_id = ? ORDER BY e.sample, e.seed",
                [ensemble_id], ["run_id", "sample", "seed", "parameters", "status", "message"])
    runs["parameters"] = runs["parameters"].map(json.loads)
    return runs


def trajectories(directory: str | Path, ensemble_id: str) -> pd.DataFrame:
    """The complete runs' metrics: sample, seed, step, date, metric, value."""
    return _sql(directory, "SELECT e.sample, e.seed, m.step, m.date, m.metric, m.value FROM ensemble_runs e "
                "JOIN runs r USING (run_id) JOIN metrics m USING (run_id) "
                "WHERE e.ensemble_id = ? AND r.status = 'complete' AND m.grp = 'all' "
                "ORDER BY e.sample, e.seed, m.metric, m.step", [ensemble_id],
                ["sample", "seed", "step", "date", "metric", "value"])


def finals(traj: pd.DataFrame) -> pd.DataFrame:
    """Each run's value at its last step: index (sample, seed), one column per metric."""
    last = traj[traj["step"] == traj["step"].max()]
    return last.pivot_table(index=["sample", "seed"], columns="metric", values="value", dropna=False)


def bands(traj: pd.DataFrame) -> pd.DataFrame:
    """Per metric and step: the median and the 5-95% band across runs."""
    grouped = traj.groupby(["metric", "step", "date"])["value"]
    out = grouped.quantile([INTERVAL[0], 0.5, INTERVAL[1]]).unstack()
    out.columns = ["low", "median", "high"]
    return out.reset_index()


def intervals(final: pd.DataFrame) -> pd.DataFrame:
    """Per metric: median and 90% interval of the final values, and where their variance comes from.

    By the law of total variance, Var(Y) = E[Var(Y | sample)] + Var(E[Y | sample]): the first part
    is the seeds' (the same assumptions, other chances), the second the assumptions'. Both need at
    least two seeds per sample; with one, the seed share is left undefined (NaN).
    """
    rows = []
    for metric in final.columns:
        y = final[metric].dropna()
        if y.empty:
            continue
        by_sample = y.groupby(level="sample")
        total = float(y.var(ddof=0))
        seeds = float(by_sample.var(ddof=0).mean()) if by_sample.size().min() > 1 else float("nan")
        seed_share = min(1.0, seeds / total) if total > 0 else (0.0 if seeds == seeds else float("nan"))
        rows.append({"metric": metric, "median": float(y.median()), "low": float(y.quantile(INTERVAL[0])),
                     "high": float(y.quantile(INTERVAL[1])), "runs": len(y), "seed_share": seed_share,
                     "assumption_share": 1 - seed_share})
    return pd.DataFrame(rows)


def indices(design: Design, final: pd.DataFrame, ensemble_id: str, seed: int) -> pd.DataFrame:
    """SALib's indices of each metric: rows (ensemble_id, metric, parameter, method, statistic, value, conf).

    Needs every run of the design: a metric with a missing or undefined value (a failed run, a share
    of nobody) is left out.
    """
    from SALib.analyze import morris, sobol  # on use: only sensitivity needs it; it would slow every start

    order = pd.MultiIndex.from_tuples([(s, design.seeds[0]) for s in range(len(design.points))],
                                      names=["sample", "seed"])
    rows = []
    for metric in final.columns:
        y = final[metric].reindex(order).to_numpy(dtype=float)
        if not np.isfinite(y).all():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if design.method == "morris":
                # Unscaled elementary effects: a step's change of y over the step's share of the range
                # (SALib's delta), so mu* is a change per whole plausible range, exact for a straight line.
                res = morris.analyze(design.problem, design.points, y, num_levels=MORRIS_LEVELS, seed=seed)
                stats = {"mu_star": ("mu_star", "mu_star_conf"), "sigma": ("sigma", None)}
            else:
                res = sobol.analyze(design.problem, y, calc_second_order=False, seed=seed)
                stats = {"S1": ("S1", "S1_conf"), "ST": ("ST", "ST_conf")}
        for i, name in enumerate(design.keys):
            for statistic, (value, conf) in stats.items():
                rows.append({"ensemble_id": ensemble_id, "metric": metric, "parameter": name,
                             "method": design.method, "statistic": statistic, "value": float(res[value][i]),
                             "conf": float(res[conf][i]) if conf else float("nan")})
    return pd.DataFrame(rows, columns=["ensemble_id", "metric", "parameter", "method", "statistic", "value", "conf"])


def ranking(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric's parameters, most influential first (by mu* for Morris, ST for Sobol')."""
    part = table[table["metric"] == metric]
    key = "mu_star" if (part["method"] == "morris").any() else "ST"
    wide = part.pivot_table(index="parameter", columns="statistic", values=["value", "conf"], dropna=False)
    wide.columns = [f"{s}" if v == "value" else f"{s}_conf" for v, s in wide.columns]
    return wide.sort_values(key, ascending=False).reset_index()
