"""Numba kernels that generate the synthetic society, one module per part of the build.

- draws.py: the draws the others share (normal, Poisson, weighted picks, alias tables);
- people.py: demographics and latent traits;
- family.py: household ids and kin ties;
- work.py: colleague ties within workplaces;
- friends.py: friend ties, direct and by triadic closure;
- csr.py: assembling the combined network's rows;
- network.py: measures on a built network (layers, clustering, locality).

Use these only through trustsim.society, which prepares their tables and keys. Every random draw
is counter-based (draws.py), so a kernel gives the same result whatever the thread count.
Parallel kernels write disjoint slots only; the few scatter loops (CSR counting and filling) are
serial on purpose, since their order is part of the result.
"""
