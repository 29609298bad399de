"""Timing helpers: interleaved runs, medians, GC accounting, profile attribution, machine info.

Conventions:
* Every timed call starts after ``gc.collect()`` and ``gc.freeze()`` (not timed; see
  :func:`measure`), so each run starts from the same heap state and its GC pauses come from the
  objects it creates; the cyclic GC stays enabled during the call (as in real use) and its
  pauses are recorded separately (``gc_s``) through ``gc.callbacks``.
* ``cpu_s`` is ``time.process_time()`` of this process (all its threads), ``wall_s`` is
  ``time.perf_counter()``; per-call micro timings use ``time.thread_time()``. On a shared machine
  CPU time is the steadier measure of single-threaded work; wall time is what parallel work
  (sweeps) is judged by.
* Ratios are ratios of medians over interleaved repeats (A B A B ...), all within one run.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import gc
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Sample:
    """One timed call."""

    wall_s: float
    cpu_s: float
    gc_s: float = 0.0
    gc_collections: dict = field(default_factory=dict)  # generation -> count
    result: object = None


class _GCClock:
    """Sums the time spent in cyclic-GC collections while active."""

    def __init__(self):
        self.seconds = 0.0
        self.counts = {0: 0, 1: 0, 2: 0}
        self._t0 = None

    def __call__(self, phase, info):
        if phase == "start":
            self._t0 = time.perf_counter()
        elif self._t0 is not None:
            self.seconds += time.perf_counter() - self._t0
            self.counts[info["generation"]] = self.counts.get(info["generation"], 0) + 1
            self._t0 = None

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)
        return False


def measure(fn: Callable[[], object], freeze: bool = True) -> Sample:
    """Time one call of ``fn`` (wall, CPU and GC pauses).

    Before the call (untimed): ``gc.collect()`` then ``gc.freeze()``, so the collections during
    the call scan only the objects the call itself creates, not the long-lived heap of imported
    libraries (torch, pandas...): otherwise one full collection of that heap costs a few tenths
    of a second, lands at random in one variant or another, and swamps the differences measured.
    The heap is unfrozen afterwards. ``freeze=False``: the heap as a plain process has it (for
    timing what the collector itself costs).
    """
    gc.collect()
    if freeze:
        gc.freeze()
    try:
        with _GCClock() as clock:
            w0, c0 = time.perf_counter(), time.process_time()
            result = fn()
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    finally:
        if freeze:
            gc.unfreeze()
    return Sample(wall, cpu, clock.seconds, dict(clock.counts), result)


def interleave(variants: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[Sample]]:
    """Run the variants in turn (A B C A B C ...) ``repeats`` times; samples per variant."""
    out: dict[str, list[Sample]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            out[name].append(measure(fn))
    return out


def median(values) -> float:
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else float("nan")


def summarise(samples: list[Sample]) -> dict:
    """Medians (and the spread) of a variant's samples, plain floats."""
    return {
        "n": len(samples),
        "wall_s": median([s.wall_s for s in samples]),
        "cpu_s": median([s.cpu_s for s in samples]),
        "gc_s": median([s.gc_s for s in samples]),
        "cpu_min_s": min(s.cpu_s for s in samples),
        "cpu_max_s": max(s.cpu_s for s in samples),
        "wall_all_s": [round(s.wall_s, 4) for s in samples],
        "cpu_all_s": [round(s.cpu_s, 4) for s in samples],
        "gen2_collections": median([s.gc_collections.get(2, 0) for s in samples]),
    }


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def per_call(fn: Callable[[], object], number: int) -> float:
    """Median CPU seconds (this thread) per call of ``fn`` over ``number`` calls timed one by one."""
    times = []
    for _ in range(number):
        t0 = time.thread_time()
        fn()
        times.append(time.thread_time() - t0)
    return median(times)


# ----------------------------------------------------------------------------- profiling


def _category(filename: str) -> str:
    if "site-packages/backtrader" in filename:
        return "backtrader"
    if "site-packages/pandas" in filename:
        return "pandas"
    if "site-packages/numpy" in filename:
        return "numpy"
    if "site-packages/torch" in filename:
        return "torch"
    if filename.startswith(str(REPO_ROOT)) and "/.venv/" not in filename and "/benchmarks/" not in filename:
        return "ours"
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    return "other"


def profile_attribution(fn: Callable[[], object], top: int = 8) -> dict:
    """cProfile ``fn`` and split its time between our code and Backtrader.

    ``ours_s`` is the inclusive time of our functions called by Backtrader (strategy hooks,
    commission scheme) minus the inclusive time of the Backtrader functions they call back
    (``buy``/``sell``/``getvalue``...): our code plus the pandas/numpy it calls. The rest of the
    profiled time is Backtrader's own work (feeds, broker, order objects, lines) plus the
    libraries it calls. ``by_tottime`` adds up exclusive time per library. Profiling inflates
    function-call-heavy code, so read the shares as approximate.
    """
    prof = cProfile.Profile()
    gc.collect()
    gc.freeze()  # as in measure(): collections of the imported libraries' heap are not the run's cost
    prof.enable()
    try:
        fn()
    finally:
        prof.disable()
        gc.unfreeze()
    stats = pstats.Stats(prof).stats
    total = sum(v[2] for v in stats.values())
    ours_in = bt_back = 0.0
    own: dict[str, float] = {}
    by_tottime: dict[str, float] = {}
    for callee, (_cc, _nc, tt, ct, callers) in stats.items():
        cat = _category(callee[0])
        by_tottime[cat] = by_tottime.get(cat, 0.0) + tt
        for caller, (_ccc, _ncc, _ttc, ctc) in callers.items():
            ccat = _category(caller[0])
            if ccat == "backtrader" and cat == "ours":
                ours_in += ctc
            if ccat == "ours" and cat == "backtrader":
                bt_back += ctc
        if cat == "ours":
            name = f"{Path(callee[0]).relative_to(REPO_ROOT)}:{callee[2]}"
            own[name] = own.get(name, 0.0) + ct
    top_bt = sorted(
        ((f"{Path(k[0]).name}:{k[2]}", v[2]) for k, v in stats.items() if _category(k[0]) == "backtrader"),
        key=lambda kv: -kv[1],
    )[:top]
    ours = max(ours_in - bt_back, 0.0)
    return {
        "profiled_s": total,
        "ours_s": ours,
        "ours_share": ours / total if total else float("nan"),
        "backtrader_share": 1.0 - ours / total if total else float("nan"),
        "by_tottime": {k: v for k, v in sorted(by_tottime.items(), key=lambda kv: -kv[1])},
        "top_ours_cumulative": sorted(own.items(), key=lambda kv: -kv[1])[:top],
        "top_backtrader_tottime": top_bt,
    }


# ----------------------------------------------------------------------------- machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def _git(*args) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def machine_info() -> dict:
    """What the numbers were measured on (CPU, cores, RAM, versions, date, load)."""
    import backtrader
    import numpy
    import pandas

    try:
        import torch

        torch_version, torch_threads = torch.__version__, torch.get_num_threads()
    except ImportError:  # pragma: no cover - torch is a project dependency
        torch_version, torch_threads = None, None
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    status = _git("status", "--porcelain")
    return {
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "ram_gib": _mem_total_gib(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "backtrader": backtrader.__version__,
        "torch": torch_version,
        "torch_threads_default": torch_threads,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "load_avg_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def _machine_busy_s() -> float | None:
    """CPU seconds all CPUs of the machine have spent busy since boot (``/proc/stat``)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(x) for x in fields[:8]]  # user nice system idle iowait irq softirq steal
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def _descendants_cpu_s() -> float:
    """CPU seconds used so far by the live descendants of this process (e.g. joblib/loky workers)."""
    me = os.getpid()
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    hz = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2 :].split()  # fields after "pid (comm) "
        parent[int(entry.name)] = int(rest[1])
        cpu[int(entry.name)] = (int(rest[11]) + int(rest[12])) / hz
    total = 0.0
    for pid in cpu:
        p, seen = parent.get(pid), 0
        while p and p != me and seen < 64:
            p, seen = parent.get(p), seen + 1
        if p == me and pid != me:
            total += cpu[pid]
    return total


def _waited_children_cpu_s() -> float:
    """CPU seconds of this process's children that have exited and been waited for."""
    import resource

    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


class CPUWatch:
    """Average CPUs used during a section: by the whole machine, by this process tree, by others.

    ``others_cpus`` = machine busy - this process - its descendants (live ones, and exited ones
    it has waited for), per second of wall time:
    the other engineers' load that this section competed with. Linux only (None elsewhere).
    """

    def __init__(self):
        self.t0 = time.perf_counter()
        self.machine0 = _machine_busy_s()
        self.self0 = time.process_time()
        self.children0 = _descendants_cpu_s() if self.machine0 is not None else 0.0
        self.waited0 = _waited_children_cpu_s()

    def read(self) -> dict:
        wall = time.perf_counter() - self.t0
        machine = _machine_busy_s()
        if machine is None or self.machine0 is None or wall <= 0:
            return {"wall_s": wall, "machine_cpus": None, "ours_cpus": None, "others_cpus": None}
        ours = (time.process_time() - self.self0) + max(_descendants_cpu_s() - self.children0, 0.0)
        ours += _waited_children_cpu_s() - self.waited0  # subprocesses that ran and exited meanwhile
        busy = machine - self.machine0
        return {"wall_s": wall, "machine_cpus": busy / wall, "ours_cpus": ours / wall,
                "others_cpus": max(busy - ours, 0.0) / wall}


def rss_mib() -> float | None:
    """Current resident set size of this process (Linux), MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mib() -> float | None:
    """Peak resident set size of this process so far, MiB.

    ``VmHWM`` from ``/proc/self/status`` (Linux): unlike ``ru_maxrss`` it is not inherited from
    the parent across fork/exec, so a subprocess reports its own peak. Elsewhere ``ru_maxrss``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024
