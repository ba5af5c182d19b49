"""trustsim's version, in a module of its own so that any layer may read it (the store and
checkpoints record it with each run) without importing the package's public API."""

__version__ = "0.1.0"  # read by pyproject.toml (setuptools dynamic version)
