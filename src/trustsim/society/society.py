"""A built society: its people, firms and network, and the checks of how it matches the scenario.

Use the `Society` that build_society returns as the engine's read-only input: `people` holds one
compact array per attribute (indexed by person, in memory order; income and the traits as 16-bit
codes, which `value` reads in natural units), `firms` one array per firm attribute, `network` the
combined contact graph. `summary` compares each marginal with its scenario target; `to_networkx`
gives a small sample for plotting and inspection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from trustsim import rng
from trustsim.scenario.schema import OCCUPATIONS, Scenario
from trustsim.society import codes
from trustsim.society.firms import FARMER, STATE
from trustsim.society.layout import URBAN
from trustsim.society.memory import expected_degrees
from trustsim.society.network import LAYERS, Network
from trustsim.society.people import OLD_AGE

# The people's and firms' arrays and their dtypes: what build_society stores and what the run's
# kernels are compiled for (checked on every Society).
PEOPLE_DTYPES = {
    "age": np.uint8, "female": np.uint8, "region": np.uint8, "urban": np.uint8, "occupation": np.uint8,
    "minority": np.uint8, "household": np.int32, "firm": np.int32,
    **{name: np.uint16 for name in ("income", "reliability", "law_abidance", "dissent", "online_activity", "gaming",
                                    "drinking", "sociability")},
}
PEOPLE_KEYS = tuple(PEOPLE_DTYPES)
FIRM_DTYPES = {"owner": np.int32, "region": np.uint8, "size": np.int32, "corruption": np.float32}
LOCALITY_WINDOW = 4096  # indices: a 16 KiB span of float32 scores, well inside the L2 cache


@dataclass
class Society:
    n: int
    people: dict[str, np.ndarray]
    region_names: list[str]
    firms: dict[str, np.ndarray]
    network: Network
    scenario: Scenario
    occupation_names: tuple[str, ...] = field(default=OCCUPATIONS)

    def __post_init__(self) -> None:
        for columns, dtypes in ((self.people, PEOPLE_DTYPES), (self.firms, FIRM_DTYPES)):
            wrong = {k: str(v.dtype) for k, v in columns.items() if v.dtype != dtypes.get(k)}
            if wrong or columns.keys() != dtypes.keys():
                raise TypeError(f"society arrays {sorted(columns)} do not match their declared dtypes: {wrong}")
        for array in (*self.people.values(), *self.firms.values()):
            array.flags.writeable = False

    @classmethod
    def blank(cls, scenario: Scenario, people: int = 4) -> "Society":
        """A household of `people` alike people, with no firm and no tie: the arrays of a built
        society at no cost, for compiling a scenario's kernels without building it (kernels/ahead.py)."""
        columns = {k: np.zeros(people, dtype) for k, dtype in PEOPLE_DTYPES.items()}
        for k in codes.CODED:
            columns[k][:] = 32768  # mid-range, so that no trait's mean is 0
        columns["firm"][:] = -1
        firms = {k: np.zeros(0, dtype) for k, dtype in FIRM_DTYPES.items()}
        network = Network(np.zeros(people + 1, np.int64), np.zeros(0, np.int32), np.zeros((2, people), np.uint8))
        return cls(people, columns, list(scenario.population.regions), firms, network, scenario)

    def value(self, name: str) -> np.ndarray:
        """A people column in natural units: income and the traits decoded from their 16-bit codes."""
        return codes.value(name, self.people[name])

    @property
    def nbytes(self) -> int:
        """Bytes held by people's arrays and the network (firms are counted per firm, not person)."""
        return sum(a.nbytes for a in self.people.values()) + self.network.nbytes

    def workplace_member(self) -> np.ndarray:
        """Whether each person belongs to a workplace (a firm, a state unit or a farm team)."""
        occ = self.people["occupation"]
        return (self.people["firm"] >= 0) | np.isin(occ, STATE) | (occ == FARMER)

    def summary(self) -> pd.DataFrame:
        """Each marginal against its scenario target (NaN where the scenario sets none)."""
        pop, net = self.scenario.population, self.scenario.network
        p = self.people
        n = max(self.n, 1)
        rows: list[tuple[str, float, float]] = []
        shares = np.array([pop.regions[k] for k in self.region_names])
        counts = np.bincount(p["region"], minlength=len(self.region_names))
        for name, target, count in zip(self.region_names, shares / shares.sum(), counts):
            rows.append((f"region_share.{name}", target, count / n))
        rows += [
            ("urban_share", pop.urban_share, float(np.mean(p["urban"] == URBAN))),
            ("female_share", pop.female_share, float(p["female"].mean())),
            ("minority_share", pop.minority_share, float(p["minority"].mean())),
            ("share_60_plus", pop.share_60_plus, float(np.mean(p["age"] >= OLD_AGE))),
            ("mean_household_size", pop.household_size, self.n / max(int(p["household"][-1]) + 1, 1)),
        ]
        occ_total = sum(pop.occupation_shares.values())
        occ_counts = np.bincount(p["occupation"], minlength=len(OCCUPATIONS))
        for o, name in enumerate(OCCUPATIONS):
            rows.append((f"occupation_share.{name}", pop.occupation_shares.get(name, 0.0) / occ_total, occ_counts[o] / n))
        rows.append(("activist_share", pop.traits.activist_share, float(np.mean(self.value("dissent") >= pop.traits.activist_floor))))
        rows.append(("mean_firm_size", pop.firms.employees_mean, float(self.firms["size"].mean()) if self.firms["size"].size else np.nan))

        expected = expected_degrees(pop, net)
        degree = {name: self.network.degree(name) for name in LAYERS}
        member = self.workplace_member()
        rows += [
            ("mean_degree.family", expected["household"] + expected["kin"], float(degree["family"].mean())),
            ("mean_degree.work", net.work.mean_degree, float(degree["work"][member].mean()) if member.any() else np.nan),
            ("mean_degree.friends", net.friends.mean_degree, float(degree["friends"].mean())),
            ("mean_degree.all", np.nan, float(self.network.degree().mean())),
            ("clustering.friends", np.nan, self.network.clustering("friends")),
            ("same_region_share.friends", net.friends.same_region, self.tie_share("friends", "region")),
            ("same_urban_share.friends", net.friends.same_urban, self.tie_share("friends", "urban")),
            (f"locality.within_{LOCALITY_WINDOW}", np.nan, self.network.locality(LOCALITY_WINDOW)),
            ("locality.median_distance", np.nan, self.network.median_distance()),
        ]
        return pd.DataFrame(rows, columns=["marginal", "target", "value"])

    def tie_share(self, layer: str, attribute: str) -> float:
        """Share of a layer's ties whose two ends have the same value of an attribute."""
        m = self.network.layer(layer).tocoo()
        values = self.people[attribute]
        return float(np.mean(values[m.row] == values[m.col])) if m.nnz else float("nan")

    def to_networkx(self, sample: int = 1000, seed: int = 0) -> nx.Graph:
        """Induced subgraph on about `sample` people: random seeds and their contacts.

        Nodes carry the people's attributes, edges their layer name.
        """
        indptr, indices = self.network.indptr, self.network.indices
        mean_degree = indptr[-1] / max(self.n, 1)
        n_seeds = max(1, min(self.n, int(sample / (1.0 + mean_degree))))
        seeds = np.unique((rng.uniform(seed, "society.networkx_sample", 0, n_seeds) * self.n).astype(np.int64))
        lo, counts = indptr[seeds], indptr[seeds + 1] - indptr[seeds]
        first = np.repeat(np.cumsum(counts) - counts, counts)
        entries = np.arange(counts.sum()) - first + np.repeat(lo, counts)
        contacts = np.setdiff1d(indices[entries], seeds)
        # Seeds first, then contacts in a fixed random order, up to `sample` people.
        order = np.argsort(rng.uniform(seed, "society.networkx_order", 0, contacts.astype(np.uint64)), kind="stable")
        nodes = np.sort(np.concatenate([seeds, contacts[order[: max(0, sample - seeds.size)]]]))
        # Matrix data: layer code + 1, so slicing carries each tie's layer along.
        layer_codes = self.network.combined({name: code + 1.0 for code, name in enumerate(LAYERS)})
        sub = layer_codes[nodes][:, nodes].tocoo()
        keep = sub.row < sub.col
        g = nx.Graph()
        columns = {k: codes.value(k, v[nodes]).tolist() for k, v in self.people.items()}
        g.add_nodes_from((int(i), {k: columns[k][pos] for k in PEOPLE_KEYS}) for pos, i in enumerate(nodes))
        g.add_edges_from(
            (int(nodes[a]), int(nodes[b]), {"layer": LAYERS[int(c) - 1]})
            for a, b, c in zip(sub.row[keep], sub.col[keep], sub.data[keep])
        )
        return g
