"""The synthetic society: people, latent traits, firms and the family, work and friends layers.

Use `build_society(scenario, seed)` to generate one (docs/model.md, section 1, says how), and
`estimate_bytes(population, network)` to know its peak memory before building it.
"""

from trustsim.society.build import build_society
from trustsim.society.memory import estimate_bytes
from trustsim.society.network import Network
from trustsim.society.society import Society

__all__ = ["Network", "Society", "build_society", "estimate_bytes"]
