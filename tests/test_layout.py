"""The repository stands on its own: no file points at the briefing folder outside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Built from parts so that this file does not contain the string it looks for.
NEEDLE = "shared" + "/"


def tracked_files() -> list[Path]:
    """Every file git tracks, or every file outside .git when this is not a git checkout."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        return [ROOT / name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        return [p for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.relative_to(ROOT).parts]


def test_no_file_refers_to_the_briefing_folder():
    files = [p for p in tracked_files() if p.is_file()]
    assert len(files) > 50  # the listing found the repository
    offending = []
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="ignore")
        offending += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(text.splitlines(), 1) if NEEDLE in line]
    assert not offending, "files refer to a folder outside the repository: " + ", ".join(offending)
