"""The audit metrics of docs/model.md, per step, for the whole population and per group.

Use ``Recorder`` once per run: ``record(t, state)`` after each step, ``frame()`` at the end for the
long table (step, date, metric, group, value). Groups are ``all`` and ``dimension=value`` for the
dimensions region, urban, occupation, minority and dissent_decile.

Every metric is a ratio of two sums (or a quantile), so it is computed from per-cell sums: each
person falls in one cell of region x urban x occupation x minority x dissent decile, one
``bincount`` per quantity gives the cell sums, and each group's sum adds up its cells. Quantiles
and the Gini index come from 1-point score histograms per group. Counts of people and events are
scaled to the real population by population.represents / population.people.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .context import Context
from .kernels.graph import active_degree
from .scenario.schema import MEASURES
from .stages.behaviour import expressed_dissent
from .state import CAUSE, CAUSES, EVENT, MEASURE, NOT_APPLIED, State

SCORE_BINS = 601  # one bin per score point, 350..950
WRONGFUL_CAUSES = CAUSES[1:]


class Recorder:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        people = ctx.society.people
        soc = ctx.society
        dims = {
            "region": (people["region"], list(soc.region_names)),
            "urban": (people["urban"], ["0", "1"]),
            "occupation": (people["occupation"], list(soc.occupation_names)),
            "minority": (people["minority"], ["0", "1"]),
            "dissent_decile": (ctx.dissent_decile - 1, [str(d) for d in range(1, 11)]),
        }
        # One cell per combination; a group is a set of cells.
        cell = np.zeros(soc.n, np.int64)
        sizes = []
        for ids, labels in dims.values():
            cell = cell * len(labels) + ids.astype(np.int64)
            sizes.append(len(labels))
        self.cell = cell
        self.n_cells = int(np.prod(sizes))
        cell_ids = np.arange(self.n_cells)
        self.labels = ["all"]
        group_of_cell = [np.zeros(self.n_cells, np.int64)]
        self.group_dimension = ["all"]
        # Each person's group within a dimension (0-based, compact); "all" has one group.
        self.person_group = {"all": np.zeros(soc.n, np.uint8)}
        stride = self.n_cells
        offset = 1
        for (name, (ids, labels)), size in zip(dims.items(), sizes):
            stride //= size
            group_of_cell.append((cell_ids // stride) % size + offset)
            self.labels += [f"{name}={label}" for label in labels]
            self.group_dimension += [name] * size
            self.person_group[name] = ids.astype(np.uint8)
            offset += size
        self.n_groups = offset
        # Each dimension's group index per cell, with the slice of group indices it fills.
        self.group_of_cell = [(g, int(g.min()), int(g.max()) + 1) for g in group_of_cell]
        self.scale = ctx.scenario.population.represents / soc.n
        self.steps_per_year = 365.25 / ctx.scenario.run.step_days
        self.top_dissent = ctx.dissent_decile == 10
        self.minority = people["minority"] == 1
        self.rows: list[tuple[int, str, np.ndarray]] = []

    # Sums per group (index 0 is "all", then each dimension's groups).
    def sums(self, values: np.ndarray) -> np.ndarray:
        per_cell = np.bincount(self.cell, weights=values.astype(np.float64, copy=False), minlength=self.n_cells)
        return np.concatenate(
            [np.bincount(g, weights=per_cell, minlength=hi)[lo:hi] for g, lo, hi in self.group_of_cell]
        )

    def _add(self, t: int, metric: str, values: np.ndarray) -> None:
        self.rows.append((t, metric, values))

    def _ratio(self, t: int, metric: str, numerator: np.ndarray, denominator: np.ndarray) -> None:
        num, den = self.sums(numerator), self.sums(denominator)
        self._add(t, metric, np.divide(num, den, out=np.full(self.n_groups, np.nan), where=den > 0))

    def _score_distribution(self, t: int, score: np.ndarray, member: np.ndarray) -> None:
        bins = np.clip(np.rint(score - 350.0), 0, SCORE_BINS - 1).astype(np.int64)
        quantiles = {"score_p10": 0.1, "score_p50": 0.5, "score_p90": 0.9}
        out = {name: np.full(self.n_groups, np.nan) for name in [*quantiles, "score_gini"]}
        values = np.arange(SCORE_BINS) + 350.0
        for name, groups in self.person_group.items():
            first = self.group_dimension.index(name)
            size = self.group_dimension.count(name)
            hist = np.bincount(
                groups[member].astype(np.int64) * SCORE_BINS + bins[member], minlength=size * SCORE_BINS
            ).reshape(size, SCORE_BINS)
            counts = hist.sum(axis=1)
            cdf = np.cumsum(hist, axis=1)
            for qname, q in quantiles.items():
                idx = (cdf >= (q * counts)[:, None]).argmax(axis=1)
                out[qname][first:first + size] = np.where(counts > 0, values[idx], np.nan)
            mass = np.cumsum(hist * values, axis=1)
            total = mass[:, -1]
            lorenz = np.divide(mass, total[:, None], out=np.zeros_like(mass), where=total[:, None] > 0)
            previous = np.hstack([np.zeros((size, 1)), lorenz[:, :-1]])
            share = np.divide(hist, counts[:, None], out=np.zeros_like(mass), where=counts[:, None] > 0)
            gini = 1.0 - (share * (previous + lorenz)).sum(axis=1)
            out["score_gini"][first:first + size] = np.where(counts > 0, gini, np.nan)
        for name, values_by_group in out.items():
            self._add(t, name, values_by_group)

    def record(self, t: int, state: State) -> None:
        ctx = self.ctx
        n = ctx.society.n
        ones = np.ones(n)
        sc, s = state.scoring, state.sanctions
        member = sc.member

        self._ratio(t, "score_mean", np.where(member, sc.score, 0.0), member)
        self._score_distribution(t, sc.score, member)

        listed = s.lists != 0
        self._ratio(t, "blacklist_share", listed, ones)
        self._add(t, "blacklist_count", self.sums(listed) * self.scale)
        self._add(t, "blacklist_entries", self.sums(s.list_entries) * self.scale)
        self._add(t, "blacklist_exits", self.sums(s.list_exits) * self.scale)
        under = s.cause != NOT_APPLIED
        for measure in MEASURES:
            self._ratio(t, f"sanctioned_share.{measure}", under[MEASURE[measure]], ones)
        self._add(t, "flight_denials", self.sums(s.flight_denials) * self.scale)
        self._add(t, "rail_denials", self.sums(s.rail_denials) * self.scale)

        sanctioned = s.sanctioned()
        self._ratio(t, "sanctioned_any_share", sanctioned, ones)
        causes = np.vstack([s.cause, s.court_cause[None, :]])
        has_true = (causes == CAUSE["true"]).any(axis=0)
        first_error = np.where(causes == CAUSE["true"], NOT_APPLIED, causes).min(axis=0)
        wrongful = sanctioned & ~has_true
        self._ratio(t, "wrongful_sanction_share", wrongful, sanctioned)
        for cause in WRONGFUL_CAUSES:
            self._ratio(t, f"wrongful_by_cause.{cause}", wrongful & (first_error == CAUSE[cause]), sanctioned)

        threshold = ctx.scenario.scoring.association.threshold
        through_contacts = member & (sc.score < threshold) & (sc.individual >= threshold)
        self._ratio(t, "association_only_penalty_share", through_contacts, member)

        minority_rate = self._rate(sanctioned & self.minority, self.minority)
        majority_rate = self._rate(sanctioned & ~self.minority, ~self.minority)
        self._add(t, "disparate_impact_ratio", np.divide(
            minority_rate, majority_rate, out=np.full(self.n_groups, np.nan), where=majority_rate > 0
        ))

        self._ratio(t, "expressed_dissent_ratio", expressed_dissent(ctx, state), ctx.society.people["dissent"])
        net = ctx.society.network
        degree = active_degree(net.indptr, state.responses.edge_active)
        self._ratio(
            t, "dissident_degree_ratio",
            np.where(self.top_dissent, degree, 0), np.where(self.top_dissent, state.responses.degree_at_start, 0),
        )
        self._ratio(t, "isolated_share", degree == 0, ones)

        crimes = state.behaviour.events[EVENT["crime"]]
        self._ratio(t, "crime_rate", crimes * (1000.0 * self.steps_per_year), ones)
        self._ratio(t, "detected_crime_share", state.surveillance.observed[0, EVENT["crime"]], crimes)
        self._ratio(t, "reward_share", s.rewards != 0, ones)
        self._ratio(t, "opt_in_share", member, ones)

    def _rate(self, hits: np.ndarray, population: np.ndarray) -> np.ndarray:
        num, den = self.sums(hits), self.sums(population)
        return np.divide(num, den, out=np.full(self.n_groups, np.nan), where=den > 0)

    def frame(self) -> pd.DataFrame:
        run = self.ctx.scenario.run
        labels = np.array(self.labels, dtype=object)
        parts = []
        for t, metric, values in self.rows:
            keep = ~np.isnan(values)
            parts.append(pd.DataFrame({
                "step": t,
                "date": run.start + dt.timedelta(days=run.step_days * t),
                "metric": metric,
                "group": labels[keep],
                "value": values[keep],
            }))
        if not parts:
            return pd.DataFrame({"step": [], "date": [], "metric": [], "group": [], "value": []})
        frame = pd.concat(parts, ignore_index=True)
        frame["date"] = pd.to_datetime(frame["date"])
        return frame
