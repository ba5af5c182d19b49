"""Where the step's time goes, line by line: a sampling profile of the compiled passes.

Run `python benchmarks/bench_profile.py` (Linux with `perf` and binutils; about three minutes,
most of it compiling the kernels once, with line tables, in a private cache). It runs national_2020
at 1e6 people on one thread, samples the process with `perf record -e cpu-clock` while it steps,
and attributes each sample to the source file and line of trustsim's compiled code it fell in, and
to the line of a pass's own body it was spent under, or names the library symbol outside it (libm's
exp, the interpreter). The machine code is a normal run's: only line tables are added (without
the bounds checks and noinline marks that Numba's full debug info brings), with each pasted-in
helper's line named in its own file (Numba names the pass's file for all of them).

It prints the breakdown and rewrites the profile section of RESULTS.md (`--no-write`: print only).
Without perf, it says so and exits 0.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine, use_source_tree, versions, write_section

use_source_tree()

PEOPLE = 1_000_000
STEPS = 8


def _name_inlined_files() -> None:
    """Make Numba's line tables name the file each line comes from. Numba pastes the stages'
    helpers into the pass (inline="always") and keeps their line numbers, but names the pass's
    file for all of them; here each location whose source file differs gets a lexical block of
    its own file."""
    from numba.core import cpu, debuginfo, lowering

    lower_inst = lowering.Lower.lower_inst

    def lower_inst_in_its_file(self, inst):
        self.debuginfo.source_file = os.path.abspath(self.loc.filename)
        return lower_inst(self, inst)

    def location(self, line):
        scope = self.subprograms[-1]
        source = getattr(self, "source_file", self.filepath)
        if source != self.filepath:
            files = self.__dict__.setdefault("files", {})
            if source not in files:
                difile = self.module.add_debug_info(
                    "DIFile", {"directory": os.path.dirname(source), "filename": os.path.basename(source)})
                files[source] = self.module.add_debug_info(
                    "DILexicalBlockFile", {"scope": scope, "file": difile, "discriminator": 0})
            scope = files[source]
        return self.module.add_debug_info("DILocation", {"line": line, "column": 1, "scope": scope})

    lowering.Lower.lower_inst = lower_inst_in_its_file
    debuginfo.DIBuilder._di_location = location

    # Numba's debug info would also turn on bounds checks, longer variable lifetimes and noinline
    # on every function: other machine code. Keep those as a run has them.
    finalize = cpu.CPUTargetOptions.finalize

    def finalize_as_a_run_does(self, flags, options):
        finalize(self, flags, options)
        flags.boundscheck = False
        flags.dbg_extend_lifetimes = False

    pre_lower = lowering.Lower.pre_lower

    def pre_lower_inlinable(self):
        pre_lower(self)
        self.builder.function.attributes.discard("noinline")

    cpu.CPUTargetOptions.finalize = finalize_as_a_run_does
    lowering.Lower.pre_lower = pre_lower_inlinable


def _dispatchers() -> list:
    """Every compiled Numba function of trustsim in this process."""
    from numba.core.registry import CPUDispatcher

    found = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("trustsim"):
            for value in vars(module).values():
                if isinstance(value, CPUDispatcher) and value.overloads:
                    found[id(value)] = value
    return list(found.values())


def _child(people: int, steps: int, out: Path) -> None:
    """Inside the profiled process: compile, write each kernel's object code and address, signal
    ready, wait for perf to attach, then step."""
    _name_inlined_files()
    import trustsim
    from trustsim import engine
    from trustsim.kernels import person_pass
    from trustsim.stages import responses

    scenario = trustsim.load_scenario("national_2020", {"population.people": people, "run.years": (steps + 1) * 7 / 365.25})
    run = engine._run(scenario, 0, None)
    next(run)  # compiles and runs the first step
    kernels = {person_pass._households, responses._network_share}
    with open(out / "kernels.txt", "w") as listing:
        for dispatcher in _dispatchers():
            for number, cres in enumerate(dispatcher.overloads.values()):
                library = cres.library
                name = cres.fndesc.llvm_func_name
                obj = out / f"{dispatcher.__module__}.{dispatcher.__name__}.{number}.o"
                obj.write_bytes(library._get_compiled_object())
                address = library.get_pointer_to_function(name)
                listing.write(f"{dispatcher.__name__} {int(dispatcher in kernels)} {address:x} {name} {obj}\n")
    # The compiler leaves millions of objects behind; a run with compiled kernels in its cache
    # starts without them (and collects nothing while stepping), so keep them out of the collector.
    gc.collect()
    gc.freeze()
    (out / "ready").write_text("1")
    while not (out / "go").exists():
        time.sleep(0.05)
    for _ in run:
        pass


def _symbol_offsets(obj: Path) -> dict[str, int]:
    text = subprocess.run(["nm", "--defined-only", str(obj)], capture_output=True, text=True, check=True).stdout
    return {parts[2]: int(parts[0], 16) for parts in (line.split() for line in text.splitlines()) if len(parts) == 3}


def _code_section(obj: Path) -> tuple[str, int]:
    """Name and size of the object's code section (Numba's large code model uses .ltext)."""
    for line in subprocess.run(["objdump", "-h", str(obj)], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[1] in (".ltext", ".text") and int(parts[2], 16) > 0:
            return parts[1], int(parts[2], 16)
    return ".text", 0


def _function(mangled: str) -> str:
    """'trustsim.stages.behaviour.event_means' from Numba's mangled _ZN8trustsim6stages9behaviour11event_meansB..."""
    if not mangled.startswith("_ZN"):
        return mangled
    parts, k = [], 3
    while k < len(mangled) and mangled[k].isdigit():
        digits = k
        while mangled[k].isdigit():
            k += 1
        size = int(mangled[digits:k])
        parts.append(mangled[k:k + size])
        k += size
    return ".".join(parts) or mangled


def _frames(obj: Path, section: str, offsets: list[int]) -> dict[int, list[tuple[str, str, int]]]:
    """offset -> inline chain [(function, file, line)], innermost first."""
    chains: dict[int, list[tuple[str, str, int]]] = {}
    for first in range(0, len(offsets), 2000):
        args = ["addr2line", "-e", str(obj), "-j", section, "-a", "-i", "-f"]
        out = subprocess.run(args + [f"{o:x}" for o in offsets[first:first + 2000]],
                             capture_output=True, text=True, check=True).stdout.splitlines()
        chain: list[tuple[str, str, int]] = []
        k = 0
        while k < len(out):
            if out[k].startswith("0x"):  # -a: each address's frames follow a line of its own
                chain = chains.setdefault(int(out[k], 16), [])
                k += 1
                continue
            path, _, line = out[k + 1].rpartition(":")
            number = line.split()[0]
            chain.append((_function(out[k]), path, int(number) if number.isdigit() else 0))
            k += 2
    return chains


def _label(path: str, line: int) -> str:
    """'stage.py:line  source text', shortened."""
    try:
        text = Path(path).read_text().splitlines()[line - 1].strip()
    except (OSError, IndexError):
        text = ""
    return f"{Path(path).name}:{line} {text[:60]}".rstrip()


def profile(people: int, steps: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="trustsim-profile-"))
    env = dict(os.environ, NUMBA_DEBUGINFO="1", NUMBA_CACHE_DIR=str(work / "cache"), NUMBA_NUM_THREADS="1")
    child = subprocess.Popen([sys.executable, __file__, "--child", str(work), "--people", str(people),
                              "--steps", str(steps)], env=env)
    try:
        return _attribute(work, _sample(work, child))
    finally:
        if child.poll() is None:
            child.kill()
        shutil.rmtree(work, ignore_errors=True)


def _sample(work: Path, child: subprocess.Popen) -> str:
    """perf's samples of the child's steps, once it has compiled: `perf script` lines."""
    while not (work / "ready").exists():
        if child.poll() is not None:
            raise SystemExit("profiled run failed")
        time.sleep(0.1)  # the child compiles meanwhile: leave it the core
    perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000", "-p", str(child.pid),
                             "-o", str(work / "perf.data")], stderr=subprocess.DEVNULL)
    (work / "go").write_text("1")
    child.wait()
    perf.wait()
    return subprocess.run(["perf", "script", "-i", str(work / "perf.data"), "-F", "ip,sym,dso"],
                          capture_output=True, text=True).stdout


def _attribute(work: Path, script: str) -> dict:
    """Each sample to the compiled function, source file and line it fell in (or the symbol outside)."""
    objects = []  # (function, is a pass's kernel, load address of its code, section, size, object file)
    for line in (work / "kernels.txt").read_text().splitlines():
        name, kernel, address, symbol, obj = line.split()
        section, size = _code_section(Path(obj))
        base = int(address, 16) - _symbol_offsets(Path(obj)).get(symbol, 0)
        objects.append((name, kernel == "1", base, section, size, Path(obj)))
    samples = {o[5]: collections.Counter() for o in objects}
    outside = collections.Counter()
    total = 0
    for row in script.splitlines():
        parts = row.split(None, 1)
        if not parts:
            continue
        total += 1
        ip = int(parts[0], 16)
        home = next((o for o in objects if o[2] <= ip < o[2] + o[4]), None)
        if home:
            samples[home[5]][ip - home[2]] += 1
        else:
            outside[parts[1].split("(")[0].strip() if len(parts) > 1 else "?"] += 1
    by_pass = collections.Counter()  # a pass's own code, by the line of its body it was spent under
    by_function = collections.Counter()
    by_line = collections.Counter()
    for name, kernel, _, section, _, obj in objects:
        counts = samples[obj]
        chains = _frames(obj, section, sorted(counts))
        for offset, n in counts.items():
            chain = [f for f in chains.get(offset, []) if f[2]] or [(name, "?", 0)]
            function, path, line = chain[0]
            kernel_name = name if kernel else function.split(".")[-1]
            by_function[f"{kernel_name}: {Path(path).name if line else '(no line: loop control, spills)'}"] += n
            by_line[_label(path, line)] += n
            if kernel:
                by_pass[(name, _label(chain[-1][1], chain[-1][2]))] += n
    return {"total": total, "outside": outside.most_common(8), "functions": by_function.most_common(25),
            "lines": by_line.most_common(25), "passes": by_pass.most_common(25)}


def section(result: dict, people: int, steps: int) -> str:
    total = result["total"]
    lines = [
        "## Where the step's time goes (bench_profile.py)",
        "",
        f"`python benchmarks/bench_profile.py`, {datetime.date.today().isoformat()}; {machine()}; "
        f"{versions('numpy', 'numba')}. national_2020, {people:,} people, {steps} steps on one thread, "
        f"{total:,} samples of `perf record -e cpu-clock` (2 kHz), of the same machine code a run uses, "
        "with line tables added. Each sample is attributed to the source file and line its instruction "
        "was compiled from (the stages' helpers are pasted into the passes, so a stage's module names "
        "its share of a pass), and to the line of the pass's own body it was spent under. A load that "
        "misses the cache often shows on the next instruction, the line that uses the value.",
        "",
    ]
    inside = sum(n for _, n in result["functions"])
    lines += [f"trustsim's compiled code: {inside / total:.1%} of the samples; outside it: "
              + "; ".join(f"`{s}` {n / total:.1%}" for s, n in result["outside"]) + "."]
    for key, title in (("functions", "pass and source file (the stage's module)"), ("lines", "source line"),
                       ("passes", "line of a pass's own body (code inlined into it)")):
        lines += ["", f"By {title}:", "", "| where | share of all samples |", "| --- | --- |"]
        for where, n in result[key]:
            label = f"{where[0]}: {where[1]}" if isinstance(where, tuple) else where
            lines.append(f"| `{label}` | {n / total:.1%} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=float, default=PEOPLE)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--quick", action="store_true", help="20,000 people, 3 steps; prints, never writes")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    people, steps = (20_000, 3) if args.quick else (int(args.people), args.steps)
    if args.child:
        _child(people, steps, Path(args.child))
        return
    if not all(shutil.which(tool) for tool in ("perf", "addr2line", "nm", "objdump")):
        print("bench_profile: needs perf and binutils (addr2line, nm, objdump); skipped")
        return
    text = section(profile(people, steps), people, steps)
    print(text)
    if not (args.quick or args.no_write):
        write_section("profile", text)


if __name__ == "__main__":
    main()
