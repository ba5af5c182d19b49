"""Numba's cache of trustsim's kernels follows edits to the modules a kernel draws on (kernels/source_stamp.py).

Numba alone checks a cached kernel against its own source file only, so an edit to a helper it
inlines from another module would leave the old machine code in use. Here a copy of the package
caches a kernel that draws with trustsim.rng's hash, rng.py's mixing constant is edited, and the
same call must give the new value, the one a run with an empty cache gives.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import trustsim

PROBE = "import numpy as np; from trustsim.society.kernels.draws import normal_jit; print(repr(normal_jit(np.uint64(5), np.uint64(7))))"
OLD, NEW = "_C1 = np.uint64(0xBF58476D1CE4E5B9)", "_C1 = np.uint64(0xBF58476D1CE4E5B7)"


def probe(root: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}  # the copy's own __pycache__
    env["PYTHONPATH"] = str(root)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def copy_package(where: Path) -> Path:
    shutil.copytree(Path(trustsim.__file__).parent, where / "trustsim", ignore=shutil.ignore_patterns("__pycache__"))
    return where / "trustsim"


def test_an_edit_to_a_module_a_cached_kernel_inlines_recompiles_it(tmp_path):
    package = copy_package(tmp_path / "edited")
    before = probe(tmp_path / "edited")
    assert any(package.joinpath("society", "kernels", "__pycache__").glob("draws.normal_jit-*.nbi"))  # cached
    assert probe(tmp_path / "edited") == before  # and loaded from the cache, unchanged
    rng = package / "rng.py"
    text = rng.read_text()
    assert OLD in text
    rng.write_text(text.replace(OLD, NEW))
    after = probe(tmp_path / "edited")
    fresh = copy_package(tmp_path / "fresh")
    (fresh / "rng.py").write_text(text.replace(OLD, NEW))
    assert after != before
    assert after == probe(tmp_path / "fresh")
