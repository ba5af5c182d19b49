"""What every benchmark script shares: the machine's description, package versions, peak memory,
and rewriting one's own marked section of RESULTS.md.

Use it from a script in this folder (``from common import ...``); each script owns the section
between its ``<!-- name:start -->`` and ``<!-- name:end -->`` markers and nothing else.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"


def use_source_tree() -> None:
    """Import trustsim from the clone when it is not installed."""
    if importlib.util.find_spec("trustsim") is None:
        sys.path.insert(0, str(HERE.parent / "src"))


def version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def versions(*names: str) -> str:
    return ", ".join([f"Python {platform.python_version()}", *(f"{n} {version(n)}" for n in names)])


def machine() -> str:
    model = platform.processor() or "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        found = re.search(r"Model name:\s*(.+)", out)
        model = found.group(1).strip() if found else model
        l3 = re.search(r"L3 cache:\s*(.+)", out)
        model += f", L3 {l3.group(1).strip()}" if l3 else ""
    except (OSError, subprocess.CalledProcessError):
        pass
    memory = psutil.virtual_memory().total / 2**30
    return f"{model}; {os.cpu_count()} logical CPUs; {memory:.0f} GiB memory"


def reset_peak() -> None:
    """Reset the kernel's record of peak resident memory (Linux), so the peak covers what follows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return psutil.Process().memory_info().rss


def write_section(name: str, text: str) -> None:
    """Replace this script's section of RESULTS.md (between its markers), or append it."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}\n"
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if start in old and end in old:
        head, rest = old.split(start, 1)
        new = head + block.rstrip("\n") + rest.split(end, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + block
    RESULTS.write_text(new)
