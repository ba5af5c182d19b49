"""The audit metrics of docs/model.md, per step, for the whole population and per group.

Use ``Recorder`` once per run: the passes add each person's quantities to its per-cell sums (and
score histograms), ``record(t)`` turns a step's sums into metrics, ``frame()`` gives the long table
(step, date, metric, group, value). Groups are ``all`` and ``dimension=value`` for the dimensions
region, urban, occupation, minority and dissent_decile; expressed_dissent_ratio also has the stake
groups (``stake=near_bar`` ...), which are not cells since people move between them.

Every metric is a ratio of two sums (or a quantile), so it is computed from per-cell sums: each
person falls in one cell of region x urban x occupation x minority x dissent decile, the passes add
into the cell's row, and each group's sum adds up its cells. Sums are integers (scores and
dissent in fixed point), so they are exact whatever the thread count. Quantiles and the Gini index
come from 1-point score histograms per group. Counts of people and events are scaled to the real
population by population.represents / population.people.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

from .context import N_DECILES, Context, metric_cell
from .scenario.schema import MEASURES
from .state import CAUSES

SCORE_BINS = 601  # one bin per score point, 350..950
SCORE_SCALE = 256.0  # fixed point of score sums
DISSENT_SCALE = float(2**20)  # fixed point of dissent sums
WRONGFUL_CAUSES = CAUSES[1:]
DIMENSIONS = ("region", "urban", "occupation", "minority", "dissent_decile")
# Counts of people or events, multiplied by population.represents / population.people so that they
# read at the scale of the real adult population the simulated people stand for.
SCALED_COUNTS = ("blacklist_count", "blacklist_entries", "blacklist_exits", "flight_denials", "rail_denials")

# Columns of the per-cell sums the person pass fills.
PERSON_SUMS = (
    "member", "score", "listed", "entries", "exits", *(f"under.{m}" for m in MEASURES),
    "flight_denials", "rail_denials", "sanctioned", "wrongful", *(f"wrongful.{c}" for c in WRONGFUL_CAUSES),
    "through_contacts", "crimes", "detected_crimes", "rewarded",
)
# What one stands to lose by speaking, as the report groups it (stages/responses.py, stake_group):
# the committed (who do not hold back whatever their stake), else a score at or within bar_scale
# above a sanction bar, a state job, a business, or none of these.
STAKE_GROUPS = ("committed", "near_bar", "state_job", "business", "other")
TIE_SCORE_SCALE = 16.0  # fixed point of score sums and products over ties (inside int64 at 1e9 ties)
# Columns of the per-cell sums the network pass fills.
NETWORK_SUMS = (
    "expressed", "degree", "isolated", "sanctioned_degree", "sanctioned_degree_start",
    "ties", "tie_own", "tie_other", "tie_own2", "tie_other2", "tie_product",
    *(f"expressed.stake.{g}" for g in STAKE_GROUPS), *(f"latent.stake.{g}" for g in STAKE_GROUPS),
)
PERSON = {name: i for i, name in enumerate(PERSON_SUMS)}
NETWORK = {name: i for i, name in enumerate(NETWORK_SUMS)}


@numba.njit(cache=True, inline="always")
def add_score(hist, group_offset, people, i, score):
    """Count person i's score in the histogram of each of their groups."""
    b = min(max(int(round(score - 350.0)), 0), SCORE_BINS - 1)
    hist[0, b] += 1
    hist[group_offset[0] + people.region[i], b] += 1
    hist[group_offset[1] + people.urban[i], b] += 1
    hist[group_offset[2] + people.occupation[i], b] += 1
    hist[group_offset[3] + people.minority[i], b] += 1
    hist[group_offset[4] + people.decile[i], b] += 1


class Recorder:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        people = ctx.society.people
        soc = ctx.society
        labels_of = {
            "region": list(soc.region_names),
            "urban": ["0", "1"],
            "occupation": list(soc.occupation_names),
            "minority": ["0", "1"],
            "dissent_decile": [str(d) for d in range(1, N_DECILES + 1)],
        }
        sizes = [len(labels_of[d]) for d in DIMENSIONS]
        self.n_cells = int(np.prod(sizes))
        # Each cell's value in each dimension, in the order metric_cell nests them.
        values = np.unravel_index(np.arange(self.n_cells), sizes)
        self.labels = ["all"] + [f"{d}={label}" for d in DIMENSIONS for label in labels_of[d]]
        self.n_groups = len(self.labels)
        # Stake groups are not cells (a score moves between them): only the speech metric has them.
        self.stake_labels = [f"stake={g}" for g in STAKE_GROUPS]
        self.group_offset = np.cumsum([1] + sizes[:-1]).astype(np.int64)
        membership = np.zeros((self.n_cells, self.n_groups))
        membership[:, 0] = 1
        for offset, value in zip(self.group_offset, values):
            membership[np.arange(self.n_cells), offset + value] = 1
        self.membership = membership
        minority_cell = values[DIMENSIONS.index("minority")] == 1
        self.minority_membership = membership * minority_cell[:, None]
        self.majority_membership = membership * ~minority_cell[:, None]
        self.top_dissent_membership = membership * (values[DIMENSIONS.index("dissent_decile")] == N_DECILES - 1)[:, None]

        cell = metric_cell(
            people["region"].astype(np.int64), people["urban"], people["occupation"], people["minority"],
            ctx.people.decile, len(soc.occupation_names),
        )
        self.population = self.membership.T @ np.bincount(cell, minlength=self.n_cells)
        self.minority_population = self.minority_membership.T @ np.bincount(cell, minlength=self.n_cells)
        self.majority_population = self.majority_membership.T @ np.bincount(cell, minlength=self.n_cells)
        latent = np.rint(soc.value("dissent") * DISSENT_SCALE)
        self.latent_dissent = self.membership.T @ np.bincount(cell, weights=latent, minlength=self.n_cells)
        degree = np.bincount(cell, weights=soc.network.degree(), minlength=self.n_cells)
        self.degree_at_start = self.top_dissent_membership.T @ degree

        threads = numba.get_num_threads()
        self.person_sums = np.zeros((threads, self.n_cells, len(PERSON_SUMS)), np.int64)
        self.network_sums = np.zeros((threads, self.n_cells, len(NETWORK_SUMS)), np.int64)
        self.histograms = np.zeros((threads, self.n_groups, SCORE_BINS), np.int64)
        self.scale = ctx.scenario.population.represents / soc.n
        self.steps_per_year = 365.25 / ctx.scenario.run.step_days
        self.rows: list[tuple[int, str, np.ndarray]] = []

    def clear(self) -> None:
        """Zero the sums before a step's passes add to them."""
        self.person_sums[:] = 0
        self.network_sums[:] = 0
        self.histograms[:] = 0

    def _add(self, t: int, metric: str, values: np.ndarray, by_stake: np.ndarray | None = None) -> None:
        if metric in SCALED_COUNTS:
            values = values * self.scale
        if by_stake is None:
            by_stake = np.full(len(self.stake_labels), np.nan)
        self.rows.append((t, metric, np.concatenate([values, by_stake])))

    @staticmethod
    def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)

    def record(self, t: int) -> None:
        """Turn this step's sums into metric rows."""
        cells = self.person_sums.sum(axis=0).astype(np.float64)
        g = self.membership.T @ cells
        col = {name: g[:, i] for name, i in PERSON.items()}
        network = self.membership.T @ self.network_sums.sum(axis=0).astype(np.float64)
        pop = self.population
        add, ratio = self._add, self._divide

        add(t, "score_mean", ratio(col["score"] / SCORE_SCALE, col["member"]))
        self._score_distribution(t, self.histograms.sum(axis=0))
        add(t, "blacklist_share", ratio(col["listed"], pop))
        add(t, "blacklist_count", col["listed"])
        add(t, "blacklist_entries", col["entries"])
        add(t, "blacklist_exits", col["exits"])
        for measure in MEASURES:
            add(t, f"sanctioned_share.{measure}", ratio(col[f"under.{measure}"], pop))
        add(t, "flight_denials", col["flight_denials"])
        add(t, "rail_denials", col["rail_denials"])
        add(t, "sanctioned_any_share", ratio(col["sanctioned"], pop))
        add(t, "wrongful_sanction_share", ratio(col["wrongful"], col["sanctioned"]))
        for cause in WRONGFUL_CAUSES:
            add(t, f"wrongful_by_cause.{cause}", ratio(col[f"wrongful.{cause}"], col["sanctioned"]))
        add(t, "association_only_penalty_share", ratio(col["through_contacts"], col["member"]))

        sanctioned = cells[:, PERSON["sanctioned"]]
        minority_rate = ratio(self.minority_membership.T @ sanctioned, self.minority_population)
        majority_rate = ratio(self.majority_membership.T @ sanctioned, self.majority_population)
        add(t, "disparate_impact_ratio", ratio(minority_rate, majority_rate))

        net = {name: network[:, i] for name, i in NETWORK.items()}
        stake_totals = network[0]  # the "all" row: every cell
        by_stake = ratio(np.array([stake_totals[NETWORK[f"expressed.stake.{g}"]] for g in STAKE_GROUPS]),
                         np.array([stake_totals[NETWORK[f"latent.stake.{g}"]] for g in STAKE_GROUPS]))
        add(t, "expressed_dissent_ratio", ratio(net["expressed"], self.latent_dissent), by_stake)
        top_degree = self.top_dissent_membership.T @ self.network_sums.sum(axis=0)[:, NETWORK["degree"]].astype(np.float64)
        add(t, "dissident_degree_ratio", ratio(top_degree, self.degree_at_start))
        add(t, "isolated_share", ratio(net["isolated"], pop))
        add(t, "sanctioned_tie_loss", 1.0 - ratio(net["sanctioned_degree"], net["sanctioned_degree_start"]))
        add(t, "score_tie_correlation", self._tie_correlation(net))

        add(t, "crime_rate", ratio(col["crimes"] * (1000.0 * self.steps_per_year), pop))
        add(t, "detected_crime_share", ratio(col["detected_crimes"], col["crimes"]))
        add(t, "reward_share", ratio(col["rewarded"], pop))
        add(t, "opt_in_share", ratio(col["member"], pop))

    def _tie_correlation(self, net: dict[str, np.ndarray]) -> np.ndarray:
        """Pearson correlation of the scores at the two ends of active ties between members (each
        tie seen from both ends; a group's value covers the ties of its members)."""
        ties = net["ties"]
        sums = {k: net[k] / TIE_SCORE_SCALE for k in ("tie_own", "tie_other", "tie_own2", "tie_other2", "tie_product")}
        mean_own = self._divide(sums["tie_own"], ties)
        mean_other = self._divide(sums["tie_other"], ties)
        cov = self._divide(sums["tie_product"], ties) - mean_own * mean_other
        var_own = self._divide(sums["tie_own2"], ties) - mean_own**2
        var_other = self._divide(sums["tie_other2"], ties) - mean_other**2
        spread = np.sqrt(np.clip(var_own, 0, None) * np.clip(var_other, 0, None))
        return self._divide(cov, spread)

    def _score_distribution(self, t: int, hist: np.ndarray) -> None:
        quantiles = {"score_p10": 0.1, "score_p50": 0.5, "score_p90": 0.9}
        values = np.arange(SCORE_BINS) + 350.0
        counts = hist.sum(axis=1)
        cdf = np.cumsum(hist, axis=1)
        for name, q in quantiles.items():
            idx = (cdf >= (q * counts)[:, None]).argmax(axis=1)
            self._add(t, name, np.where(counts > 0, values[idx], np.nan))
        mass = np.cumsum(hist * values, axis=1)
        total = mass[:, -1]
        lorenz = np.divide(mass, total[:, None], out=np.zeros_like(mass), where=total[:, None] > 0)
        previous = np.hstack([np.zeros((hist.shape[0], 1)), lorenz[:, :-1]])
        share = np.divide(hist, counts[:, None], out=np.zeros_like(mass), where=counts[:, None] > 0)
        gini = 1.0 - (share * (previous + lorenz)).sum(axis=1)
        self._add(t, "score_gini", np.where(counts > 0, gini, np.nan))

    def frame(self) -> pd.DataFrame:
        """The long table of every recorded row, built once from whole columns (not a frame per metric and step)."""
        run = self.ctx.scenario.run
        if not self.rows:
            return pd.DataFrame({"step": [], "date": [], "metric": [], "group": [], "value": []})
        labels = np.array(self.labels + self.stake_labels, dtype=object)
        keeps = [~np.isnan(values) for _, _, values in self.rows]
        counts = np.array([keep.sum() for keep in keeps])
        step = np.repeat(np.array([t for t, _, _ in self.rows], dtype=np.int64), counts)
        start = np.datetime64(run.start, "s")
        return pd.DataFrame({
            "step": step,
            "date": start + step * np.timedelta64(run.step_days, "D"),
            "metric": np.repeat(np.array([m for _, m, _ in self.rows], dtype=object), counts),
            "group": pd.Series(np.concatenate([labels[keep] for keep in keeps]), dtype=object),
            "value": np.concatenate([values[keep] for (_, _, values), keep in zip(self.rows, keeps)]),
        })
