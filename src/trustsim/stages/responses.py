"""Stage 6, responses: how people adapt to being watched and scored.

Writes only ``state.responses``. Per step:

- Chilling: perceived risk moves toward a target with time scale memory_weeks. The target is
  surveillance_weight x online coverage (only where critical posts cost points) plus
  neighbourhood_weight x the share of one's active contacts under any sanction, capped at 1.
  The behaviour stage turns it into expressed dissent = dissent x (1 - strength x risk).
- Distancing: where association costs points (a pull weight or a contact penalty), a member drops
  each tie to a contact under the threshold with probability strength per week (family ties at
  family_factor of that). A dropped tie is gone in both directions for the rest of the run.

Compliance and deterrence change event rates directly and live in the behaviour stage.
"""

from __future__ import annotations

import numpy as np

from .. import rng
from ..context import Context
from ..kernels.graph import drop_ties, flagged_contact_share
from ..state import State


def step(ctx: Context, state: State, t: int) -> None:
    sc = ctx.scenario
    net = ctx.society.network
    r = state.responses
    chilling = sc.responses.chilling

    speech_penalised = sc.scoring.weights.political > 0 and sc.scoring.points.critical_post < 0
    watched = chilling.surveillance_weight * sc.surveillance.online_coverage * speech_penalised
    sanctioned_around = flagged_contact_share(net.indptr, net.indices, r.edge_active, state.sanctions.sanctioned())
    target = np.minimum(watched + chilling.neighbourhood_weight * sanctioned_around, 1.0)
    adapt = 1.0 - np.exp(-ctx.weeks_per_step / chilling.memory_weeks)
    r.perceived_risk += (adapt * (target - r.perceived_risk)).astype(np.float32)

    association = sc.scoring.association
    distancing = sc.responses.distancing
    costs = association.weight > 0 or (association.contact_penalty > 0 and sc.scoring.weights.social > 0)
    if not costs or distancing.strength == 0:
        return
    member = state.scoring.member
    low = member & (state.scoring.score < association.threshold)
    weekly = np.array(
        [distancing.strength * (distancing.family_factor if name == "family" else 1.0) for name in net.LAYERS]
    )
    per_step = 1.0 - (1.0 - weekly) ** ctx.weeks_per_step
    drop_ties(
        net.indptr, net.indices, net.edge_layer, r.edge_active, low, member,
        per_step, rng.key(ctx.seed, "responses.distancing", t),
    )
