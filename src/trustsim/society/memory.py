"""What building a society costs in memory, known before anything is allocated.

Use `estimate_bytes` to refuse a population too large for the machine, and `built_bytes` for
what the society holds once built (what a run keeps beside its state). The first is the peak of
build_society, reached when the combined network is assembled: the people's arrays, every layer's
tie proposals, the combined CSR (before duplicates are dropped) and its per-person layer counts
are alive together. It is computed from the scenario's expected degrees, plus the interpreter and
libraries.
"""

from __future__ import annotations

from trustsim.scenario.schema import Network, Population

# Bytes per person of the people's arrays: six uint8 (age, female, region, urban, occupation,
# minority), household, firm (int32), income and seven traits (uint16 codes, society/codes.py).
PERSON_BYTES = 6 * 1 + 2 * 4 + 8 * 2
INDPTR_BYTES = 8
ENTRY_BYTES = 4  # int32 neighbour
LAYER_START_BYTES = 2  # uint8 family and family + work counts
PAIR_BYTES = 8  # a proposed tie: int32 src and dst
# Python, NumPy, SciPy, pandas and Numba's compiled kernels, as measured at start-up.
RUNTIME_BYTES = 400 * 2**20
_WORKING = ("civil_servant", "state_manager", "employee", "farmer")


def expected_degrees(population: Population, network: Network) -> dict[str, float]:
    """Expected ties per person in each layer, counting overlaps in each layer."""
    lam = population.household_size - 1.0
    shares = population.occupation_shares
    total = sum(shares.values())
    employees = shares.get("employee", 0.0) / total
    owners = min(shares.get("business_owner", 0.0) / total, employees / population.firms.employees_mean)
    working = sum(shares.get(o, 0.0) for o in _WORKING) / total + owners
    return {
        "household": (2 * lam + lam * lam) / (1 + lam),
        "kin": network.family.kin_ties_mean,
        "work": working * network.work.mean_degree,
        "friends": network.friends.mean_degree,
    }


def built_bytes(population: Population, network: Network) -> int:
    """Bytes of a built society's arrays (people and network), plus the interpreter and libraries."""
    entries = sum(expected_degrees(population, network).values())
    per_person = PERSON_BYTES + INDPTR_BYTES + LAYER_START_BYTES + ENTRY_BYTES * entries
    return int(population.people * per_person) + RUNTIME_BYTES


def estimate_bytes(population: Population, network: Network) -> int:
    """Peak bytes of build_society for these scenario sections."""
    d = expected_degrees(population, network)
    entries = sum(d.values())
    t = network.friends.triadic_closure
    per_person = (
        PERSON_BYTES
        + INDPTR_BYTES
        + LAYER_START_BYTES
        + ENTRY_BYTES * entries
        # proposals alive during assembly: kin, work and closure pairs, first-round friend rows
        + PAIR_BYTES * (d["kin"] + d["work"] + d["friends"] * t) / 2
        + INDPTR_BYTES
        + 4 * d["friends"] * (1 - t)
    )
    return int(population.people * per_person) + RUNTIME_BYTES
