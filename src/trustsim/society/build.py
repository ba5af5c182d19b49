"""Building a synthetic society from a scenario: the one entry point, `build_society`.

Use `build_society(scenario, seed)` once per run. It runs, in order: the layout (regions, urban
blocks, households), the people's attributes, their latent traits, firms and workplaces, then the
network layers (kin, colleagues, friends), and assembles them into one CSR. Every draw comes from
trustsim.rng under a "society.*" stream, so a seed fixes the society whatever the thread count.
Temporaries are released as soon as the next step no longer needs them; see memory.py for the
peak.
"""

from __future__ import annotations

from trustsim.scenario.schema import Scenario
from trustsim.society.codes import income_code
from trustsim.society.csr import assemble
from trustsim.society.family import kin_ties
from trustsim.society.firms import build_workplaces
from trustsim.society.friends import friend_ties
from trustsim.society.layout import build_layout
from trustsim.society.network import LAYERS, Network
from trustsim.society.people import draw_people
from trustsim.society.society import PEOPLE_KEYS, Society
from trustsim.society.traits import draw_traits
from trustsim.society.work import work_ties


def build_society(scenario: Scenario, seed: int = 0) -> Society:
    """A synthetic society of scenario.population.people adults and their contact network."""
    pop, net = scenario.population, scenario.network
    layout = build_layout(pop, seed)
    people, income_model = draw_people(pop, layout, seed)
    people.update(draw_traits(pop.traits, people["income"], income_model, seed))
    # Reliability leans on income as drawn; only then is income stored as its 16-bit code.
    people["income"] = income_code(people["income"])
    people.update(region=layout.region, urban=layout.urban, household=layout.household)
    firms, people["firm"], places = build_workplaces(pop.firms, net.work, layout, people["occupation"], seed)

    kin = kin_ties(net, layout, seed)
    work = work_ties(net.work, places, layout.household, seed)
    del places
    (f_indptr, f_indices), closure = friend_ties(net, pop.traits, layout, people["age"], people["dissent"], seed)
    family, colleagues, friends = (LAYERS.index(name) for name in ("family", "work", "friends"))
    sources = [
        ("pairs", *kin, family),
        ("pairs", *work, colleagues),
        ("rows", f_indptr, f_indices, friends),
        ("pairs", *closure, friends),
    ]
    del kin, work, f_indptr, f_indices, closure
    network = Network(*assemble(layout.n, layout.household, sources))
    return Society(
        n=layout.n,
        people={k: people[k] for k in PEOPLE_KEYS},
        region_names=list(layout.region_names),
        firms=firms,
        network=network,
        scenario=scenario,
    )
