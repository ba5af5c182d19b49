"""Benchmark of the reference workload (benchmarks/README.md) against peers and the machine.

Run `python benchmarks/bench_reference.py` (minutes; --quick runs tiny sizes in seconds as a smoke
test). In one run it measures, side by side: trustsim's fused kernel (trustsim.kernels.reference)
on an Erdős–Rényi graph in random order, the same graph reordered by reverse Cuthill-McKee, and a
graph with the locality of a real society; a NumPy + scipy.sparse baseline on the same graphs;
an idiomatic Mesa model (benchmarks/mesa_reference.py); and this machine's streaming bandwidth
and random-gather cost, which set the bound each kernel is held against. It rewrites only its own
section of benchmarks/RESULTS.md (between the reference markers) and never fails on a speed figure.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.util
import os
import platform
import statistics
import time

import numba
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee

from common import RESULTS, machine, peak_rss, reset_peak, use_source_tree, version, write_section

use_source_tree()

from trustsim import rng  # noqa: E402
from trustsim.kernels.reference import run_reference  # noqa: E402

MEAN_DEGREE = 10
L3_BYTES = 32 * 2**20  # this machine's (lscpu); the scores outgrow it past N = 8e6
STEPS = 50
RUNS = 3
# Bytes a person-step must move at mean degree 10 (the workload's own estimate): the CSR row
# (8 B offset + 40 B of neighbour ids), propensity and score read, new score written with its
# write-allocate, and 40 B of neighbour scores gathered.
IDEAL_BYTES = 96
# Arrays far larger than the 32 MiB L3 for the bandwidth and gather probes.
PROBE_ELEMENTS = 1 << 26
GATHERS = 1 << 24
TARGETS = {10**6: 60e6, 10**7: 40e6}  # person-steps/s, issue 6, locality-ordered graph
# Published figures for the reference workload (benchmarks/README.md), person-steps/s, ER graph in random order.
PUBLISHED = {
    ("Mesa 3.3 idiomatic (Network)", 10**4): 0.16e6,
    ("Mesa 3.3 idiomatic (Network)", 10**5): 0.08e6,
    ("NumPy + scipy.sparse", 10**5): 49e6,
    ("NumPy + scipy.sparse", 10**6): 46e6,
    ("NumPy + scipy.sparse", 10**7): 9.8e6,
    ("Numba prange, inline hash draws", 10**6): 62e6,
    ("Numba prange, inline hash draws", 10**7): 12.9e6,
    ("Starsim 3.7", 10**6): 13.5e6,
    ("Starsim 3.7", 10**7): 4.8e6,
}


# ---------------------------------------------------------------- graphs


def csr_from_pairs(n: int, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric CSR (int64 offsets, int32 sorted neighbours) of undirected pairs; self loops and
    duplicates dropped."""
    lo = np.minimum(a, b).astype(np.int64)
    hi = np.maximum(a, b).astype(np.int64)
    keep = lo != hi
    code = np.unique(lo[keep] * n + hi[keep])
    lo, hi = (code // n).astype(np.int32), (code % n).astype(np.int32)
    del code
    rows = np.concatenate([lo, hi])
    cols = np.concatenate([hi, lo])
    del lo, hi
    # COO to CSR is a counting sort, and scipy sorts each row's neighbours.
    m = sp.coo_array((np.ones(rows.shape[0], np.int8), (rows, cols)), shape=(n, n)).tocsr()
    m.sort_indices()
    return m.indptr.astype(np.int64), m.indices.astype(np.int32)


def erdos_renyi(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Erdős–Rényi graph of mean degree ~10 with people in random order."""
    m = n * MEAN_DEGREE // 2
    a = (rng.uniform(seed, "bench.er.a", 0, m) * n).astype(np.int32)
    b = (rng.uniform(seed, "bench.er.b", 0, m) * n).astype(np.int32)
    return csr_from_pairs(n, a, b)


def window_society(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A stand-in society when trustsim.society is unavailable: households of 1-4 consecutive
    people, fully tied, and four friends each drawn mostly within +-2,000 places (a
    neighbourhood), one in ten from anywhere; mean degree ~10."""
    size = 1 + (rng.uniform(seed, "bench.soc.household", 0, n) * 4).astype(np.int64)
    ends = np.cumsum(size)
    ends = np.append(ends[ends < n], n)
    starts = np.concatenate([[0], ends[:-1]])
    first = np.repeat(starts, ends - starts)
    # Household ties: each member to every earlier member of the household.
    person = np.arange(n, dtype=np.int64)
    rank = person - first
    src = np.repeat(person, rank)
    dst = first[src] + (np.arange(src.shape[0]) - np.repeat(np.cumsum(rank) - rank, rank))
    friends = 4
    who = np.repeat(person, friends)
    u = rng.uniform(seed, "bench.soc.friend", 0, who.shape[0])
    local = rng.uniform(seed, "bench.soc.local", 0, who.shape[0]) < 0.9
    offset = ((u - 0.5) * 4000).astype(np.int64)
    other = np.where(local, (who + offset) % n, (u * n).astype(np.int64))
    return csr_from_pairs(n, np.concatenate([src, who]), np.concatenate([dst, other]))


def society_graph(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The network of trustsim.society.build_society when it is available, else the stand-in."""
    try:
        from trustsim.scenario.schema import Scenario
        from trustsim.society import build_society

        scenario = Scenario()
        scenario.population.people = n
        net = build_society(scenario, seed).network
        return np.asarray(net.indptr, np.int64), np.asarray(net.indices, np.int32), "trustsim.society"
    except Exception as error:  # the society package is being written concurrently
        indptr, indices = window_society(n, seed)
        return indptr, indices, f"stand-in window society ({type(error).__name__}: {str(error)[:60]})"


@numba.njit(cache=True, parallel=True)
def _permute(indptr, indices, order, rank, new_indptr, new_indices):
    for k in numba.prange(order.shape[0]):
        old = order[k]
        a = new_indptr[k]
        b = new_indptr[k + 1]
        row = np.empty(b - a, np.int32)
        for e in range(b - a):
            row[e] = rank[indices[indptr[old] + e]]
        new_indices[a:b] = np.sort(row)


def reorder(indptr: np.ndarray, indices: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relabel the graph so that person order[k] becomes person k."""
    n = order.shape[0]
    rank = np.empty(n, np.int32)
    rank[order] = np.arange(n, dtype=np.int32)
    new_indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.diff(indptr)[order], out=new_indptr[1:])
    new_indices = np.empty_like(indices)
    _permute(indptr, indices, order.astype(np.int64), rank, new_indptr, new_indices)
    return new_indptr, new_indices


def rcm(indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = sp.csr_matrix((np.ones(indices.shape[0], np.int8), indices, indptr), shape=(indptr.shape[0] - 1,) * 2)
    return reorder(indptr, indices, reverse_cuthill_mckee(m, symmetric_mode=True))


def median_gap(indptr: np.ndarray, indices: np.ndarray) -> float:
    """Median |i - j| over stored ties, in people: a crude measure of memory locality."""
    rows = np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int64), np.diff(indptr))
    sample = slice(None, None, max(1, rows.shape[0] // 1_000_000))
    return float(np.median(np.abs(rows[sample] - indices[sample])))


# ---------------------------------------------------------------- machine probes


@numba.njit(cache=True, parallel=True)
def _triad(a, b, c):
    for i in numba.prange(a.shape[0]):
        a[i] = b[i] + np.float32(3.0) * c[i]


@numba.njit(cache=True, parallel=True)
def _gather(data, idx):
    total = 0.0
    for k in numba.prange(idx.shape[0]):
        total += data[np.uint32(idx[k])]
    return total


def machine_probes(elements: int, gathers: int) -> dict:
    """Streaming triad bandwidth (GB/s, STREAM counting: 12 B per element) and ns per random
    4-byte gather, each on 1 and 2 threads, best of 5."""
    b = np.ones(elements, np.float32)
    c = np.ones(elements, np.float32)
    a = np.empty_like(b)
    idx = (rng.uniform(0, "bench.gather", 0, gathers) * elements).astype(np.int32)
    _triad(a[:16], b[:16], c[:16])
    _gather(b[:16], idx[:16] % 16)
    out = {}
    for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        numba.set_num_threads(threads)
        out[f"triad_gbs_{threads}"] = 12 * elements / best_of(5, lambda: _triad(a, b, c)) / 1e9
        out[f"gather_ns_{threads}"] = best_of(5, lambda: _gather(b, idx)) / gathers * 1e9
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return out


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# ---------------------------------------------------------------- implementations


def numpy_reference(indptr, indices, propensity, steps, seed):
    """The workload as a NumPy user would vectorise it: a row-normalised scipy.sparse matrix for
    the neighbours' mean, np.random draws, in-place array operations."""
    n = indptr.shape[0] - 1
    deg = np.diff(indptr)
    weight = np.repeat(np.where(deg > 0, 1.0 / np.maximum(deg, 1), 0.0).astype(np.float32), deg)
    mean_of = sp.csr_array((weight, indices, indptr), shape=(n, n))
    isolated = deg == 0
    threshold = (0.01 * propensity).astype(np.float32)
    gen = np.random.default_rng(seed)
    scores = np.full(n, 650.0, np.float32)
    counts = np.zeros(steps, np.int64)
    for t in range(steps):
        pull = mean_of @ scores
        pull *= np.float32(0.2)
        delta = np.where(gen.random(n, dtype=np.float32) < threshold, np.float32(-30), np.float32(1))
        scores += delta
        pull[isolated] = np.float32(0.2) * scores[isolated]
        scores *= np.float32(0.8)
        scores += pull
        np.clip(scores, 350, 950, out=scores)
        counts[t] = np.count_nonzero(scores < 550)
    return scores, counts


def mesa_runner(indptr, indices, propensity, steps, seed):
    """A Mesa model built (untimed) and a function that steps it."""
    from mesa_reference import ScoreModel

    model = ScoreModel(indptr, indices, propensity, seed)

    def run():
        for _ in range(steps):
            model.step()

    return run


def timed(prepare, n, steps, runs) -> dict:
    """Median wall seconds of `runs` calls of prepare(r)() as person-steps/s, with the spread, the
    peak RSS during them, and person-steps per CPU-second (all threads): on a machine shared with
    other processes the wall figure drops with the CPU this process gets, the CPU figure less."""
    gc.collect()
    reset_peak()
    wall, cpu = [], []
    for r in range(runs):
        run = prepare(r)
        t0, c0 = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    med = statistics.median(wall)
    return {
        "rate": n * steps / med,
        "cpu_rate": n * steps / statistics.median(cpu),
        "spread": (max(wall) - min(wall)) / med,
        "rss": peak_rss(),
        "steps": steps,
    }


def time_stepping(fn, graph, propensity, steps, runs) -> dict:
    """Stepping alone, after one untimed warm-up of two steps (JIT compilation, first touch)."""
    indptr, indices = graph
    fn(indptr, indices, propensity, 2, 1)
    return timed(lambda r: lambda: fn(indptr, indices, propensity, steps, r), indptr.shape[0] - 1, steps, runs)


def time_mesa(graph, propensity, steps, runs) -> dict:
    indptr, indices = graph
    return timed(lambda r: mesa_runner(indptr, indices, propensity, steps, r), indptr.shape[0] - 1, steps, runs)


# ---------------------------------------------------------------- report


def fmt_rate(rate: float) -> str:
    return f"{rate / 1e6:.3g} M" if rate >= 1e5 else f"{rate / 1e6:.3f} M"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds: a smoke test (prints, never writes)")
    parser.add_argument("--no-write", action="store_true", help="print the section, leave RESULTS.md alone")
    args = parser.parse_args()

    if args.quick:
        sizes, mesa_sizes, steps, mesa_steps, runs = [2_000, 20_000], [500], 5, {500: 3}, 1
        probe, gathers = 1 << 20, 1 << 18
    else:
        sizes, mesa_sizes, steps, runs = [10**5, 10**6, 10**7], [10**4, 10**5], STEPS, RUNS
        # Mesa takes about a minute per 5 M person-steps: fewer steps, same person-steps/s figure.
        mesa_steps = {10**4: 20, 10**5: 5}
        probe, gathers = PROBE_ELEMENTS, GATHERS
    threads = numba.get_num_threads()
    print(f"numba threads: {threads}", flush=True)
    load_before = os.getloadavg()

    probes = machine_probes(probe, gathers)
    print(probes, flush=True)
    stream_bound = probes[f"triad_gbs_{min(2, threads)}"] * 1e9 / IDEAL_BYTES
    gather_bound = 1e9 / (MEAN_DEGREE * probes[f"gather_ns_{min(2, threads)}"])

    rows = []
    graphs_seen = []

    def record(impl, gname, graph, random_order, result):
        indptr, indices = graph
        n = indptr.shape[0] - 1
        # Past L3, a graph without locality pays a random gather per neighbour.
        gathered = random_order and 4 * n > L3_BYTES
        bound = min(stream_bound, gather_bound) if gathered else stream_bound
        result.update(
            impl=impl, graph=gname, n=n, bound=bound,
            bound_kind="gather" if gathered and gather_bound < stream_bound else "stream",
            arrays=(8 + 4 + 4 + 4) * n + 4 * indices.shape[0],  # offsets, propensity, 2 buffers, ids
        )
        rows.append(result)
        print(f"{impl:36s} {gname:24s} N={n:.0e} {fmt_rate(result['rate'])}ps/s "
              f"spread {result['spread']:.0%} per CPU-s {fmt_rate(result['cpu_rate'])} rss {result['rss'] / 2**20:.0f} MiB", flush=True)

    def describe(gname, graph, seconds):
        indptr, indices = graph
        n = indptr.shape[0] - 1
        graphs_seen.append(
            f"{gname} at N={n:.0e}: mean degree {indices.shape[0] / n:.2f}, median |i-j| of ties "
            f"{median_gap(indptr, indices):,.0f}, built in {seconds:.1f} s"
        )
        print(graphs_seen[-1], flush=True)

    for n in sizes:
        # Past 1e6 fewer steps keep the run within minutes; person-steps/s is the figure.
        kernel_steps = steps if n < 10**7 else 20
        propensity = rng.uniform(0, "bench.propensity", 0, n).astype(np.float32)
        t0 = time.perf_counter()
        er = erdos_renyi(n, 1)
        describe("ER, random order", er, time.perf_counter() - t0)
        t0 = time.perf_counter()
        er_rcm = rcm(*er)
        describe("ER, RCM order", er_rcm, time.perf_counter() - t0)
        t0 = time.perf_counter()
        soc_indptr, soc_indices, soc_source = society_graph(n, 1)
        society = (soc_indptr, soc_indices)
        describe(f"society ({soc_source})", society, time.perf_counter() - t0)
        shuffled = reorder(*society, np.argsort(rng.uniform(1, "bench.shuffle", 0, n)))
        describe("society, shuffled", shuffled, 0.0)
        graphs = [
            ("ER, random order", er, True, True),
            ("ER, RCM order", er_rcm, True, True),
            ("society", society, False, True),
            ("society, shuffled", shuffled, True, False),
        ]
        for gname, graph, random_order, with_numpy in graphs:
            r = time_stepping(run_reference, graph, propensity, kernel_steps, runs)
            record("trustsim kernel (Numba)", gname, graph, random_order, r)
            if with_numpy:
                np_steps = steps if n < 10**7 else 10  # NumPy at 1e7 takes a minute per 50 steps
                r = time_stepping(numpy_reference, graph, propensity, np_steps, runs)
                record("NumPy + scipy.sparse (1 thread)", gname, graph, random_order, r)
        del graphs, er, er_rcm, society, soc_indptr, soc_indices, shuffled
        gc.collect()

    # Mesa last: the Python heap it leaves behind would inflate every later peak-RSS figure.
    if importlib.util.find_spec("mesa") is None:
        graphs_seen.append("Mesa not installed (`pip install mesa`): its rows are skipped.")
    else:
        for n in mesa_sizes:
            propensity = rng.uniform(0, "bench.propensity", 0, n).astype(np.float32)
            er = erdos_renyi(n, 1)
            r = time_mesa(er, propensity, mesa_steps[n], runs)
            record("Mesa idiomatic (Network)", "ER, random order", er, True, r)

    load = (load_before[0], os.getloadavg()[0])
    text = report(args.quick, threads, load, probes, stream_bound, gather_bound, rows, graphs_seen)
    print(text)
    if not (args.quick or args.no_write):
        write_section("reference", text)
        print(f"wrote {RESULTS}")


def report(quick, threads, load, probes, stream_bound, gather_bound, rows, graphs_seen) -> str:
    t = threads
    lines = [
        "## Reference workload",
        "",
        f"Written by `python benchmarks/bench_reference.py{' --quick' if quick else ''}` on "
        f"{datetime.date.today().isoformat()}{' (QUICK: tiny sizes, smoke test only)' if quick else ''}.",
        "",
        f"- Machine: {machine()}; Numba threads: {threads}; 1-minute load average {load[0]:.1f} at the "
        f"start and {load[1]:.1f} at the end (above ~0.5, other processes share the cores and the figures drop).",
        f"- Python {platform.python_version()}, numpy {version('numpy')}, numba {version('numba')}, "
        f"scipy {version('scipy')}, mesa {version('mesa')}, networkx {version('networkx')}.",
        f"- Streaming triad: {probes['triad_gbs_1']:.1f} GB/s on 1 thread, {probes[f'triad_gbs_{min(2, t)}']:.1f} GB/s on "
        f"{min(2, t)}; random 4-byte gather: {probes['gather_ns_1']:.2f} ns on 1 thread, "
        f"{probes[f'gather_ns_{min(2, t)}']:.2f} ns on {min(2, t)} (arrays of {PROBE_ELEMENTS * 4 >> 20} MiB unless quick).",
        f"- Bounds: streaming {stream_bound / 1e6:.0f} M person-steps/s ({IDEAL_BYTES} B per person-step); "
        f"gathers in random order past L3 {gather_bound / 1e6:.0f} M person-steps/s ({MEAN_DEGREE} gathers per person-step).",
        "",
        "| implementation | graph | N | steps | person-steps/s (median of runs) | spread | per CPU-second | peak RSS | B/person (RSS) | B/person (arrays) | share of bound |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['impl']} | {r['graph']} | {r['n']:.0e} | {r['steps']} | {fmt_rate(r['rate'])} | {r['spread']:.0%} | {fmt_rate(r['cpu_rate'])} | "
            f"{r['rss'] / 2**20:,.0f} MiB | {r['rss'] / r['n']:,.0f} | {r['arrays'] / r['n']:.0f} | "
            f"{r['rate'] / r['bound']:.0%} of {r['bound_kind']} |"
        )
    lines += ["", "Targets of issue 6 (kernel on the society graph, in its locality order):", ""]
    for n, target in TARGETS.items():
        got = [r for r in rows if r["impl"] == "trustsim kernel (Numba)" and r["graph"] == "society" and r["n"] == n]
        if got:
            r = got[0]
            verdict = "met" if r["rate"] >= target else f"missed by {1 - r['rate'] / target:.0%}"
            lines.append(
                f"- N={n:.0e}: {fmt_rate(r['rate'])} person-steps/s against {fmt_rate(target)}: {verdict}; "
                f"{r['rate'] / r['bound']:.0%} of the measured streaming bound ({fmt_rate(r['bound'])}); "
                f"{fmt_rate(r['cpu_rate'])} per CPU-second."
            )
    lines += ["", "Graphs:", ""] + [f"- {g}" for g in graphs_seen]
    lines += ["", "Published figures (the reference workload, benchmarks/README.md; ER random order) beside ours:", ""]
    lines += ["| implementation | N | published | here |", "| --- | --- | --- | --- |"]
    mine = {
        "Mesa 3.3 idiomatic (Network)": "Mesa idiomatic (Network)",
        "NumPy + scipy.sparse": "NumPy + scipy.sparse (1 thread)",
        "Numba prange, inline hash draws": "trustsim kernel (Numba)",
    }
    for (impl, n), rate in PUBLISHED.items():
        here = [r["rate"] for r in rows if r["impl"] == mine.get(impl) and r["n"] == n and r["graph"].startswith("ER, random")]
        lines.append(f"| {impl} | {n:.0e} | {fmt_rate(rate)} | {fmt_rate(here[0]) if here else '-'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
