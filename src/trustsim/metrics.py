"""The audit metrics of docs/model.md, per step, for the whole population and per group.

Use ``Recorder`` once per run: the passes add each person's quantities to the sums of each of their
groups (and to the groups' score histograms), ``record(t)`` turns a step's sums into metrics,
``frame()`` gives the long table (step, date, metric, group, value). Groups are ``all`` and
``dimension=value`` for the dimensions region, urban, occupation, minority and dissent_decile;
expressed_dissent_ratio also has the stake groups (``stake=near_bar`` ...), which only the ``all``
row sums, since people move between them.

Every metric is a ratio of two sums (or a quantile), so it is computed from the groups' sums: each
person adds into six rows (``all`` and one per dimension), so recording a step costs as many
operations as there are groups, not people. Sums are integers (scores and dissent in fixed point),
so they are exact whatever the thread count. Quantiles and the Gini index come from 1-point score
histograms per group. Counts of people and events are scaled to the real population by
population.represents / population.people.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

from .context import DIMENSIONS, N_DECILES, Context, group_sizes
from .scenario.schema import MEASURES
from .state import CAUSES

SCORE_BINS = 601  # one bin per score point, 350..950
SCORE_SCALE = 256.0  # fixed point of score sums
DISSENT_SCALE = float(2**20)  # fixed point of dissent sums
WRONGFUL_CAUSES = CAUSES[1:]
# Counts of people or events, multiplied by population.represents / population.people so that they
# read at the scale of the real adult population the simulated people stand for.
SCALED_COUNTS = ("blacklist_count", "blacklist_entries", "blacklist_exits", "flight_denials", "rail_denials")

# Columns of the per-group sums the person pass fills.
PERSON_SUMS = (
    "member", "score", "listed", "entries", "exits", *(f"under.{m}" for m in MEASURES),
    "flight_denials", "rail_denials", "sanctioned", "sanctioned.minority", "wrongful",
    *(f"wrongful.{c}" for c in WRONGFUL_CAUSES),
    "through_contacts", "crimes", "detected_crimes", "rewarded",
)
# What one stands to lose by speaking, as the report groups it (stages/responses.py, stake_group):
# the committed (who do not hold back whatever their stake), else a score at or within bar_scale
# above a sanction bar, a state job, a business, or none of these.
STAKE_GROUPS = ("committed", "near_bar", "state_job", "business", "other")
TIE_SCORE_SCALE = 16.0  # fixed point of score sums and products over ties (inside int64 at 1e9 ties)
# Columns of the per-group sums the network pass fills (the stake groups' in the "all" row only).
NETWORK_SUMS = (
    "expressed", "degree", "degree.top_decile", "isolated", "sanctioned_degree", "sanctioned_degree_start",
    "ties", "tie_own", "tie_other", "tie_own2", "tie_other2", "tie_product",
    *(f"expressed.stake.{g}" for g in STAKE_GROUPS), *(f"latent.stake.{g}" for g in STAKE_GROUPS),
)
PERSON = {name: i for i, name in enumerate(PERSON_SUMS)}
NETWORK = {name: i for i, name in enumerate(NETWORK_SUMS)}


@numba.njit(cache=True, inline="always")
def add(sums, rows, column, value):
    """Add value to a column of each of a person's group rows (context.group_rows)."""
    for r in rows:
        sums[r, column] += value


@numba.njit(cache=True, inline="always")
def add_score(hist, rows, score):
    """Count a score in the histogram of each of a person's groups."""
    b = min(max(int(round(score - 350.0)), 0), SCORE_BINS - 1)
    for r in rows:
        hist[r, b] += 1


SCORE_SUMMARY = ("score_p10", "score_p50", "score_p90", "score_gini")
_QUANTILES = (0.1, 0.5, 0.9)


@numba.njit(cache=True)
def score_summary(hist, out):
    """Each group's score quantiles (SCORE_SUMMARY order) and Gini index from its 1-point histogram,
    NaN for an empty group: one pass for the totals, one for the quantiles and the Lorenz curve."""
    for g in range(hist.shape[0]):
        count = 0
        mass = 0.0
        for b in range(SCORE_BINS):
            count += hist[g, b]
            mass += hist[g, b] * (350.0 + b)
        if count == 0:
            out[g, :] = np.nan
            continue
        q = 0
        cdf = 0
        running = 0.0
        below = 0.0  # the Lorenz curve at the bin's lower edge
        area = 0.0
        for b in range(SCORE_BINS):
            h = hist[g, b]
            if h == 0:  # nothing changes: the same quantiles, and the curve adds no area
                continue
            cdf += h
            while q < len(_QUANTILES) and cdf >= _QUANTILES[q] * count:
                out[g, q] = 350.0 + b
                q += 1
            running += h * (350.0 + b)
            lorenz = running / mass
            area += h / count * (below + lorenz)
            below = lorenz
        out[g, len(_QUANTILES)] = 1.0 - area


class Recorder:
    """A run's metric sums: filled by the passes each step, kept per step as group sums (O(groups),
    not O(people)), and turned into the metrics table once, at the end (``frame``)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        soc = ctx.society
        labels_of = {
            "region": list(soc.region_names),
            "urban": ["0", "1"],
            "occupation": list(soc.occupation_names),
            "minority": ["0", "1"],
            "dissent_decile": [str(d) for d in range(1, N_DECILES + 1)],
        }
        assert [len(labels_of[d]) for d in DIMENSIONS] == list(group_sizes(len(soc.region_names)))
        self.labels = ["all"] + [f"{d}={label}" for d in DIMENSIONS for label in labels_of[d]]
        self.n_groups = len(self.labels)
        # Stake groups are not dimensions (a score moves people between them): only the speech metric
        # has them, summed in the "all" row.
        self.stake_labels = [f"stake={g}" for g in STAKE_GROUPS]
        self.group_offset = ctx.params.group_offset

        people = ctx.people
        top_decile = people.decile == N_DECILES - 1
        self.population = self.per_group()
        self.minority_population = self.per_group(people.minority == 1)
        self.majority_population = self.population - self.minority_population
        self.latent_dissent = self.per_group(np.rint(soc.value("dissent") * DISSENT_SCALE))
        self.degree_at_start = self.per_group(np.where(top_decile, soc.network.degree(), 0))
        self.scale = ctx.scenario.population.represents / soc.n
        self.steps_per_year = 365.25 / ctx.scenario.run.step_days

        # This step's sums, one slice per thread, which the passes add to.
        threads = numba.get_num_threads()
        self.person_sums = np.zeros((threads, self.n_groups, len(PERSON_SUMS)), np.int64)
        self.network_sums = np.zeros((threads, self.n_groups, len(NETWORK_SUMS)), np.int64)
        self.histograms = np.zeros((threads, self.n_groups, SCORE_BINS), np.int64)
        # Every step's sums, kept until frame(): steps 0..recorded-1 are filled.
        steps = ctx.scenario.run.steps
        self.kept = {
            "person": np.zeros((steps, self.n_groups, len(PERSON_SUMS)), np.int64),
            "network": np.zeros((steps, self.n_groups, len(NETWORK_SUMS)), np.int64),
            "scores": np.zeros((steps, self.n_groups, len(SCORE_SUMMARY))),
        }
        self.recorded = 0

    def per_group(self, weights: np.ndarray | None = None) -> np.ndarray:
        """A per-person quantity (default 1) summed over each group, in float64."""
        people = self.ctx.people
        weights = np.ones(people.region.shape[0]) if weights is None else np.asarray(weights, np.float64)
        total = np.zeros(self.n_groups)
        total[0] = weights.sum()
        for offset, values in zip(self.group_offset, (people.region, people.urban, people.occupation,
                                                      people.minority, people.decile)):
            sums = np.bincount(values, weights=weights)
            total[offset:offset + sums.shape[0]] += sums
        return total

    def clear(self) -> None:
        """Zero the sums before a step's passes add to them."""
        self.person_sums[:] = 0
        self.network_sums[:] = 0
        self.histograms[:] = 0

    def record(self, t: int) -> None:
        """Keep step t's sums (steps are recorded in order)."""
        assert t == self.recorded, (t, self.recorded)
        self.person_sums.sum(axis=0, out=self.kept["person"][t])
        self.network_sums.sum(axis=0, out=self.kept["network"][t])
        score_summary(self.histograms.sum(axis=0), self.kept["scores"][t])
        self.recorded = t + 1

    def saved(self) -> dict[str, np.ndarray]:
        """The steps recorded so far, for a checkpoint."""
        return {f"metrics.{name}": values[:self.recorded] for name, values in self.kept.items()}

    def restore(self, saved) -> None:
        """Take back the steps a checkpoint recorded (what ``saved`` gave)."""
        for name, values in self.kept.items():
            done = saved[f"metrics.{name}"]
            values[:done.shape[0]] = done
        self.recorded = done.shape[0]

    @staticmethod
    def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(np.shape(num), np.shape(den))
        return np.divide(num, den, out=np.full(shape, np.nan), where=den > 0)

    def metrics(self) -> dict[str, np.ndarray]:
        """Every metric at every recorded step: [step, group] (the stake groups follow the others)."""
        done = self.recorded
        g = self.kept["person"][:done].astype(np.float64)
        col = {name: g[:, :, i] for name, i in PERSON.items()}
        network = self.kept["network"][:done].astype(np.float64)
        net = {name: network[:, :, i] for name, i in NETWORK.items()}
        pop = self.population
        ratio = self._divide
        out: dict[str, np.ndarray] = {}

        out["score_mean"] = ratio(col["score"] / SCORE_SCALE, col["member"])
        for i, name in enumerate(SCORE_SUMMARY):
            out[name] = self.kept["scores"][:done, :, i]
        out["blacklist_share"] = ratio(col["listed"], pop)
        out["blacklist_count"] = col["listed"]
        out["blacklist_entries"] = col["entries"]
        out["blacklist_exits"] = col["exits"]
        for measure in MEASURES:
            out[f"sanctioned_share.{measure}"] = ratio(col[f"under.{measure}"], pop)
        out["flight_denials"] = col["flight_denials"]
        out["rail_denials"] = col["rail_denials"]
        out["sanctioned_any_share"] = ratio(col["sanctioned"], pop)
        out["wrongful_sanction_share"] = ratio(col["wrongful"], col["sanctioned"])
        for cause in WRONGFUL_CAUSES:
            out[f"wrongful_by_cause.{cause}"] = ratio(col[f"wrongful.{cause}"], col["sanctioned"])
        out["association_only_penalty_share"] = ratio(col["through_contacts"], col["member"])
        minority_rate = ratio(col["sanctioned.minority"], self.minority_population)
        majority_rate = ratio(col["sanctioned"] - col["sanctioned.minority"], self.majority_population)
        out["disparate_impact_ratio"] = ratio(minority_rate, majority_rate)

        out["expressed_dissent_ratio"] = ratio(net["expressed"], self.latent_dissent)
        out["dissident_degree_ratio"] = ratio(net["degree.top_decile"], self.degree_at_start)
        out["isolated_share"] = ratio(net["isolated"], pop)
        out["sanctioned_tie_loss"] = 1.0 - ratio(net["sanctioned_degree"], net["sanctioned_degree_start"])
        out["score_tie_correlation"] = self._tie_correlation(net)

        out["crime_rate"] = ratio(col["crimes"] * (1000.0 * self.steps_per_year), pop)
        out["detected_crime_share"] = ratio(col["detected_crimes"], col["crimes"])
        out["reward_share"] = ratio(col["rewarded"], pop)
        out["opt_in_share"] = ratio(col["member"], pop)

        for name in SCALED_COUNTS:
            out[name] = out[name] * self.scale
        no_stakes = np.full((done, len(STAKE_GROUPS)), np.nan)
        by_stake = {"expressed_dissent_ratio": ratio(
            network[:, 0, [NETWORK[f"expressed.stake.{g}"] for g in STAKE_GROUPS]],
            network[:, 0, [NETWORK[f"latent.stake.{g}"] for g in STAKE_GROUPS]])}
        return {name: np.concatenate([values, by_stake.get(name, no_stakes)], axis=1) for name, values in out.items()}

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

    def frame(self) -> pd.DataFrame:
        """The long table of every recorded step: step, date, metric, group, value (NaN left out),
        ordered by step, then metric, then group."""
        run = self.ctx.scenario.run
        metrics = self.metrics()
        values = np.stack(list(metrics.values()), axis=1)  # [step, metric, group]
        step, metric, group = np.nonzero(~np.isnan(values))
        labels = np.array(self.labels + self.stake_labels, dtype=object)
        start = np.datetime64(run.start, "s")
        return pd.DataFrame({
            "step": step.astype(np.int64),
            "date": start + step.astype(np.int64) * np.timedelta64(run.step_days, "D"),
            "metric": pd.array(list(metrics), dtype="str").take(metric),  # a string per row, built once per name
            "group": pd.Series(labels[group], dtype=object),
            "value": values[step, metric, group],
        })
