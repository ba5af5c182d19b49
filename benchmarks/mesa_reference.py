"""The reference workload written as a Mesa user would write it: agents on a network space.

Use this only as the Mesa side of benchmarks/bench_reference.py. Each person is a CellAgent on a
cell of mesa.discrete_space.Network (built from a networkx graph); a step is two passes over the
agents, so that every agent reads its neighbours' previous scores (synchronous update): `compute`
draws the violation and takes the mean of the neighbouring cells' agents' scores, `commit` stores
the new score. Draws come from the model's own random generator, as in any Mesa model.
"""

from __future__ import annotations

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import CellAgent, Network


class Person(CellAgent):
    def __init__(self, model, cell, propensity):
        super().__init__(model)
        self.cell = cell
        self.propensity = propensity
        self.score = 650.0
        self.next_score = 650.0

    def compute(self):
        score = self.score - 30.0 if self.random.random() < 0.01 * self.propensity else self.score + 1.0
        neighbours = [agent.score for cell in self.cell.neighborhood for agent in cell.agents]
        if neighbours:
            score = 0.8 * score + 0.2 * sum(neighbours) / len(neighbours)
        self.next_score = min(max(score, 350.0), 950.0)

    def commit(self):
        self.score = self.next_score


class ScoreModel(mesa.Model):
    def __init__(self, indptr, indices, propensity, seed=0):
        super().__init__(seed=seed)
        n = indptr.shape[0] - 1
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        rows = np.repeat(np.arange(n), np.diff(indptr))
        upper = rows < indices
        graph.add_edges_from(zip(rows[upper].tolist(), indices[upper].tolist()))
        self.grid = Network(graph, capacity=1, random=self.random)
        for i in range(n):
            Person(self, self.grid[i], float(propensity[i]))
        self.low = []

    def step(self):
        self.agents.do("compute")
        self.agents.do("commit")
        self.low.append(sum(1 for agent in self.agents if agent.score < 550.0))
