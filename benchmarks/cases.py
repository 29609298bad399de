"""The benchmark functions, one per section of BENCHMARKS.md. Each returns a plain dict.

Sizes are arguments so that ``tests/test_benchmarks_smoke.py`` can run every function on tiny
inputs; :mod:`benchmarks.run_benchmarks` chooses the real sizes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

import backtrader as bt
import numpy as np
import pandas as pd

from benchmarks.timing import (
    REPO_ROOT,
    interleave,
    measure,
    median,
    per_call,
    profile_attribution,
    ratio,
    summarise,
)
from bt_lstm_mvo.allocators.base import validate_weights, weights_array
from bt_lstm_mvo.allocators.naive import EqualWeight, FixedWeights
from bt_lstm_mvo.feeds.bt_feeds import add_frames
from bt_lstm_mvo.feeds.market import load_market
from bt_lstm_mvo.feeds.synthetic import generate_assets
from bt_lstm_mvo.paths import shared_data_dir
from bt_lstm_mvo.strategies.base import AllocationStrategy, _History
from bt_lstm_mvo.strategies.broker import FastBroker
from bt_lstm_mvo.strategies.commission import ProportionalCommission
from bt_lstm_mvo.strategies.sizing import plan_rebalance

PAPER = ["BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA"]
CASH = 1_000_000.0
RATE = 0.001
OHLCV = ["Open", "High", "Low", "Close", "Volume"]


# ----------------------------------------------------------------------------- data


def paper_frames(data_dir=None) -> dict[str, pd.DataFrame]:
    """The five paper tickers, 2019-01-01..2024-12-30, intersection calendar (real Yahoo CSVs)."""
    folder = Path(data_dir) if data_dir is not None else shared_data_dir()
    market = load_market(PAPER, source="csv", data_dir=folder, start="2019-01-01", end="2024-12-30")
    return market.frames


def synthetic_frames(n_assets: int, n_bars: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """``generate_assets`` frames reduced to OHLCV (business-day calendar, all aligned)."""
    return {t: f[OHLCV] for t, f in generate_assets(n_assets, n_bars, seed).items()}


def closes(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.DataFrame({t: f["Close"] for t, f in frames.items()})


# ----------------------------------------------------------------------------- strategies


class ConstantWeights(AllocationStrategy):
    """Diagnostic: AllocationStrategy minus the allocator interface (no window frame, no allocate call,
    no weight validation per bar): the target is ``weights`` (an array in feed order) on every bar.
    Everything else (schedule, records, sizing, orders, notifications) is the real strategy's.

    Params:
        weights (None): target weights, a sequence in feed order.
    """

    params = (("weights", None),)

    def _decide(self, date):
        return np.asarray(self.p.weights, dtype=float)


class PrecomputedOrders(bt.Strategy):
    """Minimal hand-written baseline: at each bar's close, issue the given orders (cheat-on-close).

    Params:
        orders (None): mapping bar index -> list of (data index, signed size), sells first.
    """

    params = (("orders", None),)

    def __init__(self):
        self.orders = self.p.orders or {}
        self.bar = 0

    def start(self):
        self.broker.set_coc(True)

    def next(self):
        for i, size in self.orders.get(self.bar, ()):
            if size > 0:
                self.buy(data=self.datas[i], size=size)
            else:
                self.sell(data=self.datas[i], size=-size)
        self.bar += 1


class BarClock(AllocationStrategy):
    """AllocationStrategy that notes this process's CPU time at the start of every bar (one
    ``time.process_time`` call and one array append per bar), so a run's per-bar cost can be read
    along its history: :func:`per_bar_drift`."""

    def __init__(self):
        super().__init__()
        self.clock = array("d")

    def next(self):
        self.clock.append(time.process_time())
        super().next()


DRIFT_BLOCKS = 10


def per_bar_drift(clock, blocks: int = DRIFT_BLOCKS) -> dict:
    """Per-bar CPU cost along one run: the run's bars cut into ``blocks`` equal blocks, each block's
    mean CPU us per bar; ``late_vs_early``: the median block of the second half over the median of the
    first half. A cost that grows with the history (anything per bar that is linear in the bars so
    far) shows as a ratio above 1 within one run, whatever the machine did between two runs."""
    t = np.asarray(clock, dtype=float)
    if len(t) < 2 * blocks + 1:
        return {"blocks_us": [], "late_vs_early": None}
    edges = np.linspace(0, len(t) - 1, blocks + 1).round().astype(int)
    per = [(t[b] - t[a]) / (b - a) * 1e6 for a, b in zip(edges[:-1], edges[1:])]
    half = blocks // 2
    return {"blocks_us": [round(float(v), 1) for v in per],
            "late_vs_early": ratio(median(per[half:]), median(per[:half]))}


def build_cerebro(frames: dict[str, pd.DataFrame], strategy, feed_class=None, broker_class=None,
                  **params) -> bt.Cerebro:
    """A fresh Cerebro: one feed per frame (``ArrayData`` unless ``feed_class``), CASH, 0.1%
    ProportionalCommission, no observers; Backtrader's ``BackBroker`` unless ``broker_class``
    (the runner's :class:`~bt_lstm_mvo.strategies.broker.FastBroker`)."""
    cerebro = bt.Cerebro(stdstats=False)
    if broker_class is not None:
        cerebro.broker = broker_class()
    add_frames(cerebro, frames, feed_class)
    cerebro.broker.setcash(CASH)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=RATE))
    cerebro.addstrategy(strategy, **params)
    return cerebro


def run_cerebro(frames, strategy, feed_class=None, broker_class=None, **params):
    """Build and run; returns (final broker value, strategy instance)."""
    cerebro = build_cerebro(frames, strategy, feed_class, broker_class, **params)
    strat = cerebro.run()[0]
    return cerebro.broker.getvalue(), strat


def orders_from_fills(strat, frames) -> dict[int, list[tuple[int, float]]]:
    """The orders an AllocationStrategy run filled, per bar, in the order they were issued."""
    index = next(iter(frames.values())).index
    bar_of = {d: i for i, d in enumerate(index.date)}
    col = {name: i for i, name in enumerate(frames)}
    orders: dict[int, list[tuple[int, float]]] = {}
    for f in strat.fills:
        orders.setdefault(bar_of[f["date"]], []).append((col[f["asset"]], f["size"]))
    return orders


# ----------------------------------------------------------------------------- 1. overhead


def overhead(frames: dict[str, pd.DataFrame], label: str, repeats: int = 5, profile: bool = True) -> dict:
    """AllocationStrategy (EqualWeight / FixedWeights, daily at the close) vs PrecomputedOrders.

    A fourth, diagnostic variant (:class:`ConstantWeights`) is the same strategy without the
    per-bar allocator interface (window DataFrame, ``allocate``, weight validation), to split our
    overhead between the strategy's own machinery and the pandas objects of the allocator contract.

    The baseline replays exactly the orders (same sizes, sells then buys) that the EqualWeight
    run issued, so the two must end at the same broker value; the ratio isolates what our
    strategy adds on top of Backtrader processing the same orders. Timed: building the Cerebro
    (same feeds for all variants) plus ``cerebro.run()``.
    """
    assets = list(frames)
    n_bars = len(next(iter(frames.values())))
    weights = dict.fromkeys(assets, 1.0 / len(assets))
    value_ew, strat_ew = run_cerebro(frames, AllocationStrategy, allocator=EqualWeight(), lean=True)
    orders = orders_from_fills(strat_ew, frames)
    n_orders = sum(len(v) for v in orders.values())

    variants = {
        "baseline": lambda: run_cerebro(frames, PrecomputedOrders, orders=orders)[0],
        "equal_weight": lambda: run_cerebro(frames, AllocationStrategy, allocator=EqualWeight(), lean=True)[0],
        "fixed_weights": lambda: run_cerebro(frames, AllocationStrategy, allocator=FixedWeights(weights), lean=True)[0],
        "no_allocator_call": lambda: run_cerebro(frames, ConstantWeights, allocator=EqualWeight(),
                                                 weights=[1.0 / len(assets)] * len(assets))[0],
    }
    samples = interleave(variants, repeats)
    finals = {name: float(s[0].result) for name, s in samples.items()}
    stats = {name: summarise(s) for name, s in samples.items()}
    base = stats["baseline"]
    out = {
        "label": label,
        "assets": len(assets),
        "bars": n_bars,
        "orders": n_orders,
        "repeats": repeats,
        "completed_orders": int(strat_ew.order_stats.get("Completed", 0)),
        "failed_orders": len(strat_ew.order_failures),
        "final_values": finals,
        "values_agree": all(abs(v / finals["baseline"] - 1) < 1e-9 for v in finals.values()),
        "stats": stats,
        "ratio_cpu": {k: ratio(v["cpu_s"], base["cpu_s"]) for k, v in stats.items()},
        "ratio_wall": {k: ratio(v["wall_s"], base["wall_s"]) for k, v in stats.items()},
        # each repeat's variant / the baseline run just before it, median over repeats
        "ratio_cpu_paired": {k: median([a.cpu_s / b.cpu_s for a, b in zip(v, samples["baseline"])])
                             for k, v in samples.items()},
        "overhead_us_per_bar": {
            k: (v["cpu_s"] - base["cpu_s"]) / n_bars * 1e6 for k, v in stats.items() if k != "baseline"
        },
    }
    if profile:
        out["profile"] = {
            "equal_weight": profile_attribution(
                build_cerebro(frames, AllocationStrategy, allocator=EqualWeight(), lean=True).run),
            "baseline": profile_attribution(build_cerebro(frames, PrecomputedOrders, orders=orders).run),
        }
    return out


def per_bar_pieces(n_assets: int = 5, number: int = 300) -> dict:
    """Median µs per call of the pieces AllocationStrategy runs each bar (outside Backtrader).

    Includes the general ``allocators.base.validate_weights`` next to ``weights_array``, whose
    numpy fast path for aligned weights the strategy uses per bar.
    """
    assets = [f"A{i:03d}" for i in range(n_assets)]
    rng = np.random.default_rng(0)
    hist = _History(assets)
    for d in pd.bdate_range("2019-01-01", periods=1500):
        hist.append(d, rng.uniform(50, 150, n_assets))
    window = hist.frame(1)
    ew, fw = EqualWeight(), FixedWeights(dict.fromkeys(assets, 1.0 / n_assets))
    w = ew.allocate(window)
    h = rng.uniform(0, 1e5, n_assets)
    pieces = {
        "history window frame (1 row)": lambda: hist.frame(1),
        "EqualWeight.allocate": lambda: ew.allocate(window),
        "FixedWeights.allocate": lambda: fw.allocate(window),
        "EqualWeight.allocate_values (the strategy's path)": lambda: ew.allocate_values(hist.values[:1], hist.columns),
        "FixedWeights.allocate_values (the strategy's path)": lambda: fw.allocate_values(hist.values[:1], hist.columns),
        "weights_array (array)": lambda: weights_array(np.full(n_assets, 1.0 / n_assets), hist.columns),
        "validate_weights (general path)": lambda: validate_weights(w, assets),
        "weights_array (fast path)": lambda: weights_array(w, hist.columns),
        "plan_rebalance": lambda: plan_rebalance(h, 1e4, w.to_numpy(), RATE),
    }
    return {"assets": n_assets, "us_per_call": {k: per_call(fn, number) * 1e6 for k, fn in pieces.items()}}


# ----------------------------------------------------------------------------- 2. reference


def reference(frames: dict[str, pd.DataFrame], label: str, repeats: int = 3) -> dict:
    """Event-driven FixedWeights run vs ``tests.reference_sim.simulate`` on the same weights."""
    from tests.reference_sim import simulate

    px = closes(frames)
    weights = dict.fromkeys(px.columns, 1.0 / px.shape[1])
    w = pd.Series(weights)

    def event():
        return run_cerebro(frames, AllocationStrategy, allocator=FixedWeights(weights), lean=True)

    def vector():
        return simulate(px, w, rate=RATE, cash=CASH)

    samples = interleave({"event_driven": event, "reference": vector}, repeats)
    stats = {k: summarise(v) for k, v in samples.items()}
    value, strat = samples["event_driven"][0].result
    ref_values, ref_paid = samples["reference"][0].result
    bars = pd.Series([b["value"] for b in strat.bars], index=px.index)
    return {
        "label": label,
        "assets": px.shape[1],
        "bars": len(px),
        "stats": stats,
        "ratio_cpu": ratio(stats["event_driven"]["cpu_s"], stats["reference"]["cpu_s"]),
        "ratio_wall": ratio(stats["event_driven"]["wall_s"], stats["reference"]["wall_s"]),
        "final_event": float(value),
        "final_reference": float(ref_values.iloc[-1]),
        "final_rel_diff": float(value / ref_values.iloc[-1] - 1),
        "max_bar_rel_diff": float((bars / ref_values - 1).abs().max()),
        "commission_event": float(strat.total_commission),
        "commission_reference": float(ref_paid),
    }


# ----------------------------------------------------------------------------- 3. scaling


def scaling_worker(n_assets: int, n_bars: int, seed: int = 0, before: bool = False) -> dict:
    """One scaling case in this (fresh) process: generate, build, run; time and memory.
    ``before``: the path before issue 13 (Backtrader's ``PandasData``, via
    :class:`AlignedPandasData`, the full mode that keeps every order, and ``BackBroker``) instead of
    the runner's (``ArrayData``, lean mode, ``FastBroker``)."""
    from benchmarks.timing import peak_rss_mib, rss_mib
    from bt_lstm_mvo.feeds.bt_feeds import AlignedPandasData

    rss_start = rss_mib()
    t0 = time.perf_counter()
    frames = synthetic_frames(n_assets, n_bars, seed)
    gen_s = time.perf_counter() - t0
    rss_data = rss_mib()
    sample = measure(lambda: run_cerebro(frames, BarClock, AlignedPandasData if before else None,
                                         None if before else FastBroker, allocator=EqualWeight(), lean=not before))
    value, strat = sample.result
    drift = per_bar_drift(strat.clock)
    return {
        "path": "before" if before else "now",
        "assets": n_assets,
        "bars": n_bars,
        "generate_s": gen_s,
        "wall_s": sample.wall_s,
        "cpu_s": sample.cpu_s,
        "gc_s": sample.gc_s,
        "orders": int(sum(strat.order_stats.values())),
        "completed": int(strat.order_stats.get("Completed", 0)),
        "final_value": float(value),
        "rss_start_mib": rss_start,
        "rss_with_data_mib": rss_data,
        "peak_rss_mib": peak_rss_mib(),
        "per_bar_blocks_us": drift["blocks_us"],
        "late_vs_early": drift["late_vs_early"],
    }


def memory_attribution(n_assets: int = 5, n_bars: int = 200, depth: int = 8) -> dict:
    """Which code allocated the memory still held after a run (``tracemalloc``, small case).

    Each block still alive after ``cerebro.run()`` (with the strategy kept) is charged to the
    innermost frame of its allocation traceback that is in Backtrader or in our code
    (pandas/numpy/stdlib frames are charged to their caller there).
    """
    import tracemalloc

    from benchmarks.timing import _category

    frames = synthetic_frames(n_assets, n_bars, seed=0)
    cerebro = build_cerebro(frames, AllocationStrategy, allocator=EqualWeight(), lean=True)
    tracemalloc.start(depth)
    try:
        strat = cerebro.run()[0]
        snap = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    by: dict[str, float] = {"backtrader": 0.0, "ours": 0.0, "other": 0.0}
    for stat in snap.statistics("traceback"):
        owner = "other"
        for frame in reversed(stat.traceback):  # innermost first
            cat = _category(frame.filename)
            if cat in ("backtrader", "ours"):
                owner = cat
                break
        by[owner] += stat.size
    orders = int(sum(strat.order_stats.values()))
    total = sum(by.values())
    return {"assets": n_assets, "bars": n_bars, "orders": orders, "mib": {k: v / 2**20 for k, v in by.items()},
            "share": {k: v / total for k, v in by.items()} if total else {},
            "kib_per_order": total / 1024 / orders if orders else None}


def _in_fresh_process(call: str, what: str, timeout: float) -> dict:
    """Run ``call`` (a call of a function of this module returning a JSON-able dict) in a fresh
    interpreter at the repository root; its result."""
    module, func = __name__, call.split("(", 1)[0]
    code = f"import json; from {module} import {func}; print('RESULT ' + json.dumps({call}))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH"))
                                                       if p)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{what} failed (rc {proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def _run_worker(n_assets: int, n_bars: int, timeout: float, before: bool = False) -> dict:
    return _in_fresh_process(f"scaling_worker({int(n_assets)}, {int(n_bars)}, before={bool(before)})",
                             f"scaling case {n_assets}x{n_bars}", timeout)


def gc_pause_worker(n_assets: int, n_bars: int, paused: bool) -> dict:
    """One lean run in this (fresh) process with the runner's imports (torch, the experiment
    package) loaded and the heap as the runner has it (no freeze by the benchmark), with or without
    lean mode's :mod:`~bt_lstm_mvo.strategies.gc_pause`."""
    import gc

    import bt_lstm_mvo.allocators.lstm  # noqa: F401 -- the runner's heap: torch, pandas, PyPortfolioOpt...
    import bt_lstm_mvo.allocators.mvo  # noqa: F401
    import bt_lstm_mvo.experiment.cli  # noqa: F401
    from bt_lstm_mvo.strategies import gc_pause

    if not paused:
        gc_pause.pause = lambda: False
    frames = synthetic_frames(n_assets, n_bars, 0)
    tracked = len(gc.get_objects())
    sample = measure(lambda: run_cerebro(frames, AllocationStrategy, None, FastBroker, allocator=EqualWeight(),
                                         lean=True), freeze=False)
    value, strat = sample.result
    return {"paused": paused, "assets": n_assets, "bars": n_bars, "cpu_s": sample.cpu_s, "wall_s": sample.wall_s,
            "gc_s": sample.gc_s, "gen2_collections": sample.gc_collections.get(2, 0), "tracked_at_start": tracked,
            "final_value": float(value), "orders": int(sum(strat.order_stats.values()))}


def _gc_worker(n_assets: int, n_bars: int, paused: bool, timeout: float) -> dict:
    return _in_fresh_process(f"gc_pause_worker({int(n_assets)}, {int(n_bars)}, {bool(paused)})",
                             f"gc case {n_assets}x{n_bars}", timeout)


def gc_pause_effect(n_assets: int = 200, n_bars: int = 500, repeats: int = 2, timeout: float = 900) -> dict:
    """Lean mode's garbage-collector pause on and off, fresh processes with the runner's imports,
    interleaved (on, off, on, off...): CPU, GC time and full collections; the same final value."""
    runs = {True: [], False: []}
    for _ in range(repeats):
        for paused in (True, False):
            runs[paused].append(_gc_worker(n_assets, n_bars, paused, timeout))
    on, off = runs[True], runs[False]
    return {"assets": n_assets, "bars": n_bars, "repeats": repeats, "orders": on[0]["orders"],
            "tracked_at_start": on[0]["tracked_at_start"],
            "cpu_s": {"paused": median([r["cpu_s"] for r in on]), "not_paused": median([r["cpu_s"] for r in off])},
            "gc_s": {"paused": median([r["gc_s"] for r in on]), "not_paused": median([r["gc_s"] for r in off])},
            "gen2": {"paused": median([r["gen2_collections"] for r in on]),
                     "not_paused": median([r["gen2_collections"] for r in off])},
            # each round's paused run / the unpaused run just after it
            "ratio_cpu_paired": median([a["cpu_s"] / b["cpu_s"] for a, b in zip(on, off)]),
            "same_final_value": len({r["final_value"] for r in on + off}) == 1,
            "runs": {"paused": on, "not_paused": off}}


def before_after(n_assets: int = 50, n_bars: int = 2000, repeats: int = 1, timeout: float = 1800) -> dict:
    """The Backtrader engine before issue 13 (PandasData, full mode) and now (ArrayData, lean
    mode) on the same market, each in a fresh subprocess, interleaved: CPU and peak RSS, side by
    side in one run (the 200 x 6000 case compares with the issue's figure across runs only)."""
    runs: dict[str, list[dict]] = {"before": [], "now": []}
    for _ in range(repeats):
        for path in runs:
            runs[path].append(_run_worker(n_assets, n_bars, timeout, before=path == "before"))
    out = {"assets": n_assets, "bars": n_bars, "repeats": repeats, "orders": runs["now"][0]["orders"]}
    for path, rs in runs.items():
        out[path] = {"cpu_s": median([r["cpu_s"] for r in rs]), "peak_rss_mib": max(r["peak_rss_mib"] for r in rs),
                     "run_mem_mib": max(r["peak_rss_mib"] - r["rss_with_data_mib"] for r in rs),
                     "final_value": rs[0]["final_value"], "cpu_all_s": [round(r["cpu_s"], 2) for r in rs]}
    out["ratio_cpu"] = ratio(out["now"]["cpu_s"], out["before"]["cpu_s"])
    out["ratio_run_mem"] = ratio(out["now"]["run_mem_mib"], out["before"]["run_mem_mib"])
    out["same_final_value"] = out["now"]["final_value"] == out["before"]["final_value"]
    return out


def scaling(assets=(5, 50, 200), bars=(1500, 3000, 6000), budget_s: float = 240.0, case_cap_s: float = 120.0,
            cheap_s: float = 12.0, repeats_cheap: int = 3, probe_bars: int = 150) -> dict:
    """Time and peak memory of a daily EqualWeight rebalance per (assets, bars), one subprocess per case.

    Plan first, then run. A short probe run (``probe_bars``) per asset count gives its CPU cost per
    bar (its fixed costs make that a slight over-estimate); a case's estimate is that rate x bars.
    Cases are planned cheapest first, so that as many cases as possible (and every asset count's
    smaller sizes) fit; a case whose estimate exceeds ``case_cap_s``, or that would take the
    planned section past ``budget_s``, is skipped and reported with its estimate. Cases estimated
    under ``cheap_s`` run ``repeats_cheap`` times; repeats are interleaved over all cases and the
    median is used.
    ``cpu_s``/``wall_s`` exclude data generation and interpreter start-up.
    """
    t_start = time.perf_counter()
    rate: dict[int, float] = {}  # CPU seconds per bar, per asset count, from the probe
    for n in assets:
        probe = _run_worker(n, probe_bars, timeout=max(case_cap_s, 120))
        rate[n] = probe["cpu_s"] / probe_bars
    planned = time.perf_counter() - t_start
    chosen: list[tuple[int, int, int, float]] = []  # (assets, bars, repeats, estimate)
    skipped: list[dict] = []
    order = sorted(((n, b) for n in assets for b in bars), key=lambda nb: rate[nb[0]] * nb[1])
    for n, b in order:
        est = rate[n] * b
        reps = repeats_cheap if est < cheap_s else 1
        if est > case_cap_s:
            skipped.append({"assets": n, "bars": b, "estimate_s": est, "why": f"estimate > {case_cap_s:.0f} s cap"})
        elif planned + reps * est > budget_s:
            skipped.append({"assets": n, "bars": b, "estimate_s": est,
                            "why": f"would take the section past its {budget_s:.0f} s budget"})
        else:
            chosen.append((n, b, reps, est))
            planned += reps * est
    chosen.sort(key=lambda c: (assets.index(c[0]), c[1]))
    runs: dict[tuple[int, int], list[dict]] = {(n, b): [] for n, b, _, _ in chosen}
    for rep in range(max((c[2] for c in chosen), default=0)):
        for n, b, reps, est in chosen:
            if rep < reps:
                runs[(n, b)].append(_run_worker(n, b, timeout=max(3 * est, 120)))
    cases_out = []
    for n, b, _, est in chosen:
        rs = runs[(n, b)]
        case = dict(rs[-1])
        case.update(
            repeats=len(rs),
            cpu_s=median([r["cpu_s"] for r in rs]),
            wall_s=median([r["wall_s"] for r in rs]),
            cpu_all_s=[round(r["cpu_s"], 3) for r in rs],
            peak_rss_mib=max(r["peak_rss_mib"] for r in rs),
            estimate_s=est,
            late_vs_early=_median_known([r.get("late_vs_early") for r in rs]),
        )
        case["us_per_bar"] = case["cpu_s"] / b * 1e6
        case["us_per_asset_bar"] = case["us_per_bar"] / n
        case["run_mem_mib"] = case["peak_rss_mib"] - case["rss_with_data_mib"]
        cases_out.append(case)
    return {"cases": cases_out, "skipped": skipped, "doubling": doubling_ratios(cases_out),
            "fitted": fitted_doubling(cases_out),
            "seconds": time.perf_counter() - t_start,
            "budget_s": budget_s, "case_cap_s": case_cap_s, "probe_bars": probe_bars,
            "drift_blocks": DRIFT_BLOCKS}


def _median_known(values):
    known = [v for v in values if v is not None]
    return median(known) if known else None


def doubling_ratios(cases_out: list[dict]) -> list[dict]:
    """time(2 x bars) / time(bars) for each asset count and pair of sizes that both ran.

    ``ratio_cpu`` (the goal's) pairs the two cases' runs of the same round: round ``r`` runs every
    case once, in order of assets then bars, so the two runs of a pair are adjacent in time and
    share the machine's state; it is the median over the rounds both ran. ``ratio_cpu_medians``
    divides the cases' medians instead, which mixes rounds when one case ran more often.
    ``late_vs_early``: the longer run's own per-bar drift (:func:`per_bar_drift`), free of drift
    between runs."""
    got = {(c["assets"], c["bars"]): c for c in cases_out}
    out = []
    for (n, b), lo in sorted(got.items()):
        hi = got.get((n, 2 * b))
        if hi is None:
            continue
        rounds = min(len(lo["cpu_all_s"]), len(hi["cpu_all_s"]))
        out.append({"assets": n, "bars": b, "bars2": 2 * b, "rounds": rounds,
                    "ratio_cpu": median([hi["cpu_all_s"][r] / lo["cpu_all_s"][r] for r in range(rounds)]),
                    "ratio_cpu_medians": ratio(hi["cpu_s"], lo["cpu_s"]),
                    "ratio_wall": ratio(hi["wall_s"], lo["wall_s"]),
                    "late_vs_early": hi.get("late_vs_early")})
    return out


def fitted_doubling(cases_out: list[dict], min_sizes: int = 3) -> list[dict]:
    """The cost's growth along the bars (for each asset count) and along the assets (for each bar
    count), over every size that ran: the least-squares slope ``exponent`` of log(median CPU) on
    log(size), one point per case, and ``doubling`` = 2 ** exponent, what doubling that size costs.
    Each case weighs once whatever its repeats, and one slow case moves the slope less than it
    moves the ratio of the pair it belongs to. Needs ``min_sizes`` sizes (with two, the slope is
    the pair's own ratio, already in :func:`doubling_ratios`). ``worst_residual``: the case
    furthest from the fitted line, as a fraction (0.05: 5% off the line)."""
    out = []
    for along, fixed_by in (("bars", "assets"), ("assets", "bars")):
        groups: dict[int, list[dict]] = {}
        for c in cases_out:
            groups.setdefault(c[fixed_by], []).append(c)
        for fixed, cs in sorted(groups.items()):
            cs = sorted(cs, key=lambda c: c[along])
            if len({c[along] for c in cs}) < min_sizes:
                continue
            x = np.log([float(c[along]) for c in cs])
            y = np.log([float(c["cpu_s"]) for c in cs])
            slope, icpt = np.polyfit(x, y, 1)
            out.append({"along": along, "fixed_by": fixed_by, "fixed": fixed, "sizes": [c[along] for c in cs],
                        "exponent": float(slope), "doubling": float(2.0 ** slope),
                        "worst_residual": float(np.max(np.abs(np.expm1(y - (icpt + slope * x)))))})
    return out


# ----------------------------------------------------------------------------- 4. LSTM


def _torch_threads(n: int):
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    return old


def minimal_training_epochs(train: pd.DataFrame, hidden_size: int = 64, epochs: int = 10) -> list[float]:
    """Seconds per epoch of the minimal PyTorch loop a user would write for the same model on the same
    tensors (full batch): ``nn.LSTM`` + ``nn.Linear`` + softmax, the paper loss, Adam, gradient clipping;
    no validation, logging or checks. The inputs are built as ``LSTMAllocator.fit`` builds them."""
    import torch

    from bt_lstm_mvo.allocators.lstm import LSTMConfig
    from bt_lstm_mvo.allocators.lstm.features import MinMaxScaler, feature_array, sample_rows, windows
    from bt_lstm_mvo.allocators.lstm.losses import portfolio_loss

    cfg = LSTMConfig(hidden_size=hidden_size, epochs=epochs)
    spec = cfg.feature_spec
    feats = feature_array(train.to_numpy(dtype=float), spec)
    rows = sample_rows(feats, spec.window)
    scaled = MinMaxScaler.fit(feats[rows[0] - spec.window + 1: rows[-1] + 1]).transform(feats)
    x = torch.from_numpy(windows(scaled, rows, spec.window).astype(np.float32))
    y = torch.from_numpy(feats[rows + 1, 0::spec.n_features_per_asset].astype(np.float32))
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(x.shape[2], hidden_size, batch_first=True)
    head = torch.nn.Linear(hidden_size, y.shape[1])
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=cfg.learning_rate)
    out = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        opt.zero_grad()
        _, (h, _) = lstm(x)
        loss = portfolio_loss(torch.softmax(head(h[-1]), dim=-1), y, kind=cfg.loss, lambda_penalty=cfg.lambda_penalty,
                              turnover_cost=cfg.turnover_cost)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, max_norm=cfg.grad_clip_norm or 1.0)
        opt.step()
        out.append(time.perf_counter() - t0)
    return out


def lstm_training(frames: dict[str, pd.DataFrame], train_fraction: float = 0.8, hidden_size: int = 64,
                  epochs: int = 10, batch_size: int = 64, threads: int = 1) -> dict:
    """Seconds per epoch of ``LSTMAllocator.fit`` on the training part of ``frames``: full batch vs mini-batch."""
    import torch

    from bt_lstm_mvo.allocators.lstm import LSTMAllocator

    px = closes(frames)
    train = px.iloc[: int(len(px) * train_fraction)]
    old = _torch_threads(threads)
    try:
        out = {"rows": len(train), "hidden_size": hidden_size, "epochs": epochs, "torch_threads": threads,
               "torch_device": "cpu", "runs": {}}
        for name, bs in (("full_batch", None), (f"batch_{batch_size}", batch_size)):
            alloc = LSTMAllocator(hidden_size=hidden_size, epochs=epochs, batch_size=bs, progress=False,
                                  device="cpu", seed=0)
            sample = measure(lambda a=alloc: a.fit(train))
            secs = [h["seconds"] for h in alloc.history_]
            out["samples"] = alloc.n_train_samples_
            out["runs"][name] = {
                "batch_size": bs,
                "seconds_per_epoch_median": median(secs),
                "seconds_per_epoch_mean": float(alloc.train_seconds_per_epoch_),
                "fit_wall_s": sample.wall_s,
                "fit_cpu_s": sample.cpu_s,
            }
        runs = list(out["runs"].values())
        out["ratio_minibatch_vs_full"] = ratio(runs[1]["seconds_per_epoch_median"], runs[0]["seconds_per_epoch_median"])
        minimal = minimal_training_epochs(train, hidden_size, epochs)
        out["minimal_loop"] = {"seconds_per_epoch_median": median(minimal)}
        out["ratio_fit_vs_minimal"] = ratio(runs[0]["seconds_per_epoch_median"], median(minimal))
        out["torch_version"] = torch.__version__
        return out
    finally:
        torch.set_num_threads(old)


def malloc_fit_worker(keep_mib: int, epochs: int = 10, data_dir=None) -> dict:
    """In this (fresh) process: ``keep_freed_memory(keep_mib)`` (0 = glibc's defaults), then
    ``LSTMAllocator.fit`` (full batch, 1 thread) on the training part of the paper data; the
    median epoch seconds and the minor page faults of the fit."""
    import resource

    from bt_lstm_mvo.malloc import keep_freed_memory

    applied = keep_freed_memory(keep_mib)
    import torch

    from bt_lstm_mvo.allocators.lstm import LSTMAllocator

    torch.set_num_threads(1)
    px = closes(paper_frames(data_dir))
    train = px.iloc[: int(len(px) * 0.8)]
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    alloc = LSTMAllocator(hidden_size=64, epochs=epochs, progress=False, device="cpu", seed=0).fit(train)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return {"keep_mib": keep_mib, "applied": applied, "samples": alloc.n_train_samples_,
            "seconds_per_epoch_median": median(h["seconds"] for h in alloc.history_),
            "page_faults_per_epoch": faults / epochs}


def malloc_effect(keep_mib: int = 512, epochs: int = 10, repeats: int = 2, data_dir=None,
                  timeout: float = 600) -> dict:
    """:func:`malloc_fit_worker` in fresh processes, glibc's defaults and ``keep_mib`` interleaved."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH"))
                                                       if p)}
    runs: dict[str, list[dict]] = {"default": [], "kept": []}
    for _ in range(repeats):
        for name, mib in (("default", 0), ("kept", keep_mib)):
            code = ("import json; from benchmarks.cases import malloc_fit_worker; "
                    f"print('RESULT ' + json.dumps(malloc_fit_worker({int(mib)}, {int(epochs)}, {str(data_dir)!r} "
                    f"if {data_dir is not None} else None)))")
            proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                                  timeout=timeout, env=env)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode != 0 or not lines:
                return {"ok": False, "error": f"malloc case failed (rc {proc.returncode}): {proc.stderr[-500:]}"}
            runs[name].append(json.loads(lines[-1][len("RESULT "):]))
    epoch = {k: median(r["seconds_per_epoch_median"] for r in v) for k, v in runs.items()}
    faults = {k: median(r["page_faults_per_epoch"] for r in v) for k, v in runs.items()}
    return {"ok": True, "keep_mib": keep_mib, "applied": runs["kept"][0]["applied"], "epochs": epochs,
            "samples": runs["kept"][0]["samples"], "seconds_per_epoch": epoch, "page_faults_per_epoch": faults,
            "ratio_default_vs_kept": ratio(epoch["default"], epoch["kept"]), "runs": runs}


def timed_lstm_strategy():
    """LSTMStrategy subclass that records the CPU time (this thread) of each ``next`` from ``trade_start`` on.

    Built on demand so that importing this module (e.g. in the scaling subprocesses) does not import torch.
    """
    from bt_lstm_mvo.strategies.lstm import LSTMStrategy

    class TimedLSTMStrategy(LSTMStrategy):
        def __init__(self):
            super().__init__()
            self.bar_seconds: list[float] = []
            self.decide_seconds: list[float] = []  # the allocation step: window + allocate + validation

        def _decide(self, date):
            t0 = time.thread_time()
            out = super()._decide(date)
            self.decide_seconds.append(time.thread_time() - t0)
            return out

        def next(self):
            t0 = time.thread_time()
            super().next()
            if self.trade_start is None or self.datetime.date(0) >= self.trade_start:
                self.bar_seconds.append(time.thread_time() - t0)

    return TimedLSTMStrategy


COLD_CACHE_BYTES = 8 * 2**20  # memory read between two timed forwards in the "cold" timing (> L2, like a bar)


def lstm_inference(short_bars: int = 600, long_bars: int = 6000, n_assets: int = 5, calls: int = 100,
                   trade_bars: int = 300, hidden_size: int = 64, fit_epochs: int = 2, threads: int = 1,
                   strategy_repeats: int = 2) -> dict:
    """Per-call cost of ``LSTMAllocator.allocate`` and per-bar cost inside the strategy, short vs long history;
    and the strategy's allocation step (``_decide``: the window, ``allocate_values``, the weight check) against
    the network's raw forward on one input window, measured interleaved.

    One allocator is fitted (``fit_epochs`` epochs) on the first ``short_bars`` bars of a synthetic
    market of ``long_bars`` bars, then (a) ``allocate`` is called on the first ``short_bars`` vs all
    ``long_bars`` rows, interleaved; (b) a pre-fitted LSTM strategy (daily rebalance, no refit)
    runs on the short and on the long market, trading only the last ``trade_bars`` bars, and the
    median CPU time (``time.thread_time``; torch runs on this one thread) of its ``next`` over
    those bars is compared; (c) the allocation step (``_decide``) of those runs against the raw
    forward, warm and alone, against the forward timed inside the strategy, and against the step of a
    run whose ``allocate_values`` is the network alone on a fixed window (``network_step``: the least
    the step costs on this kernel; ``features_us``, the rest, is what the features and checks add).
    """
    import torch

    from bt_lstm_mvo.allocators.lstm import LSTMAllocator
    from bt_lstm_mvo.allocators.lstm.features import feature_array

    frames = synthetic_frames(n_assets, long_bars, seed=1)
    px = closes(frames)
    old = _torch_threads(threads)
    try:
        alloc = LSTMAllocator(hidden_size=hidden_size, epochs=fit_epochs, progress=False, device="cpu", seed=0)
        alloc.fit(px.iloc[:short_bars])
        short, long_ = px.iloc[:short_bars], px
        t_short, t_long = [], []
        for _ in range(calls):
            for hist, acc in ((short, t_short), (long_, t_long)):
                t0 = time.thread_time()
                alloc.allocate(hist)
                acc.append(time.thread_time() - t0)
        allocate = {"short_us": median(t_short) * 1e6, "long_us": median(t_long) * 1e6,
                    "ratio": ratio(median(t_long), median(t_short)), "calls": calls}

        timed = timed_lstm_strategy()

        def strategy_run(n):
            sub = {t: f.iloc[:n] for t, f in frames.items()}
            start = next(iter(sub.values())).index[n - trade_bars]
            _, strat = measure(lambda: run_cerebro(sub, timed, allocator=alloc, fit=False, trade_start=start)).result
            return strat.bar_seconds, strat.decide_seconds

        x_fixed = torch.from_numpy(alloc.scaler_.transform(
            feature_array(px.iloc[:short_bars].to_numpy(), alloc.feature_spec)[-alloc.feature_spec.window:])
            .astype("float32")).unsqueeze(0)
        sweep = np.ones(COLD_CACHE_BYTES // 8)

        def raw_forward(cold: bool = False):
            """The network alone on one fixed input window, as ``allocate`` calls it (logits, to numpy);
            ``cold``: after reading ``COLD_CACHE_BYTES`` of other memory before each call (untimed), as
            Backtrader's per-bar work does between two bars."""
            with torch.inference_mode():
                for _ in range(20):
                    alloc.model_.logits(x_fixed)[0].to("cpu").numpy()
                times = []
                for _ in range(calls):
                    if cold:
                        sweep.sum()
                    t0 = time.thread_time()
                    alloc.model_.logits(x_fixed)[0].to("cpu").numpy()
                    times.append(time.thread_time() - t0)
            return median(times)

        # the forward as allocate runs it (infer_logits: the kernel and output of logits), timed inside the strategy
        in_situ: list[float] = []
        inner = alloc.model_.infer_logits  # what allocate calls

        def timed_logits(x):
            t0 = time.thread_time()
            out = inner(x)
            in_situ.append(time.thread_time() - t0)
            return out

        # the allocation step with the network alone: allocate_values replaced by its forward (``_forward``:
        # to torch, infer_logits, softmax) on the fixed window, no features, so the step's floor on this kernel
        fixed64 = x_fixed[0].numpy().astype(float)
        fixed32 = x_fixed[0].numpy()

        def network_only(values, columns, dates=None):
            return alloc._forward(fixed32, fixed64, None, copy=True)

        per_bar = {"short": [], "long": []}
        decide, forward, forward_cold, forward_in_situ, network_step = [], [], [], [], []
        for _ in range(strategy_repeats):  # forward, strategy runs and their decision steps interleaved
            forward.append(raw_forward())
            forward_cold.append(raw_forward(cold=True))
            for key, n in (("short", short_bars), ("long", long_bars)):
                alloc.model_.infer_logits = timed_logits  # an instance attribute, removed below
                try:
                    bars, steps = strategy_run(n)
                finally:
                    del alloc.model_.infer_logits
                per_bar[key].append(median(bars))
                decide.append(median(steps))
                forward_in_situ.append(median(in_situ[-len(steps):]))
            alloc.allocate_values = network_only  # an instance attribute, removed below
            try:
                network_step.append(median(strategy_run(short_bars)[1]))
            finally:
                del alloc.allocate_values
        strategy = {"short_us": median(per_bar["short"]) * 1e6, "long_us": median(per_bar["long"]) * 1e6,
                    "trade_bars": trade_bars, "repeats": strategy_repeats,
                    "runs_us": {k: [round(v * 1e6) for v in vs] for k, vs in per_bar.items()}}
        strategy["ratio"] = ratio(strategy["long_us"], strategy["short_us"])
        forward_us, decide_us = median(forward) * 1e6, median(decide) * 1e6
        cold_us, in_situ_us = median(forward_cold) * 1e6, median(forward_in_situ) * 1e6
        network_us = median(network_step) * 1e6
        inference = {"forward_us": forward_us, "decide_us": decide_us, "ratio": ratio(decide_us, forward_us),
                     "forward_cold_us": cold_us, "forward_in_situ_us": in_situ_us,
                     "ratio_vs_in_situ": ratio(decide_us, in_situ_us),
                     "in_situ_vs_forward": ratio(in_situ_us, forward_us),
                     "network_step_us": network_us, "network_step_vs_forward": ratio(network_us, forward_us),
                     "features_us": decide_us - network_us,
                     "runs_network_step_us": [round(v * 1e6) for v in network_step],
                     "cold_cache_mib": COLD_CACHE_BYTES / 2**20,
                     "runs_forward_us": [round(v * 1e6) for v in forward],
                     "runs_forward_cold_us": [round(v * 1e6) for v in forward_cold],
                     "runs_forward_in_situ_us": [round(v * 1e6) for v in forward_in_situ],
                     "runs_decide_us": [round(v * 1e6) for v in decide]}
        return {"inference": inference, "assets": n_assets, "short_bars": short_bars, "long_bars": long_bars,
                "lookback": alloc.lookback,
                "hidden_size": hidden_size, "torch_threads": threads, "allocate": allocate, "strategy": strategy}
    finally:
        torch.set_num_threads(old)


# ----------------------------------------------------------------------------- 5. end to end + sweep


def e2e_runner(config: str = "configs/paper-split.yaml", data_dir=None, timeout: float = 900.0) -> dict:
    """``python runner.py CONFIG --data-dir DIR --quiet --out TMP`` in a subprocess: wall, CPU, peak RSS."""
    folder = str(data_dir if data_dir is not None else shared_data_dir())
    with tempfile.TemporaryDirectory(prefix="lmbt-bench-") as tmp:
        out_dir = Path(tmp) / "out"
        argv = [config, "--data-dir", folder, "--quiet", "--out", str(out_dir)]
        code = (
            "import json, resource, sys, time; import runner; t = time.perf_counter(); "
            f"rc = runner.main({argv!r}); w = time.perf_counter() - t; "
            "u = resource.getrusage(resource.RUSAGE_SELF); "
            "from benchmarks.timing import peak_rss_mib; "
            "print('RESULT ' + json.dumps({'rc': rc, 'wall_s': w, 'cpu_s': u.ru_utime + u.ru_stime, "
            "'user_s': u.ru_utime, 'sys_s': u.ru_stime, 'peak_rss_mib': peak_rss_mib()}))"
        )
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=timeout)
        total = time.perf_counter() - t0
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            return {"ok": False, "command": _command(argv), "error": proc.stderr[-2000:], "process_wall_s": total}
        res = json.loads(lines[-1][len("RESULT "):])
        res.update(ok=res["rc"] == 0, command=_command(argv), process_wall_s=total)
        res["runs"] = _run_seconds(out_dir / "results.json")
        return res


def _command(argv) -> str:
    return "python runner.py " + " ".join(argv[:-1]) + " <tmp>"


def _run_seconds(path: Path) -> dict:
    """Seconds per strategy run (and LSTM seconds per epoch) from a results.json."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    out = {}
    for name, entry in data.get("strategies", {}).items():
        for i, run in enumerate(entry.get("runs", [])):
            alloc = run.get("allocator") or {}
            out[f"{name}[{i}]"] = {"seconds": run.get("seconds"),
                                   "train_seconds_per_epoch": alloc.get("train_seconds_per_epoch"),
                                   "epochs": alloc.get("epochs_run")}
    return out


def _paper_config(strategies: dict, data_dir, sweep: dict | None = None, benchmarks: bool = True):
    """configs/paper-split.yaml read from the shared CSV folder, with ``strategies`` (and ``sweep``) replaced."""
    import yaml

    from bt_lstm_mvo.experiment.config import parse_config

    raw = yaml.safe_load((REPO_ROOT / "configs" / "paper-split.yaml").read_text())
    raw["data"]["source"] = "csv"
    raw["data"]["data_dir"] = str(data_dir if data_dir is not None else shared_data_dir())
    raw["strategies"] = strategies
    pair = (raw.get("analysis") or {}).get("alpha_pair")
    if pair and any(name not in strategies for name in pair):  # Table 2 needs both strategies
        raw["analysis"]["alpha_pair"] = None
    raw["buy_and_hold_benchmarks"] = benchmarks
    if sweep is not None:
        raw["sweep"] = sweep
    return parse_config(raw, source="benchmarks (configs/paper-split.yaml, modified)")


def e2e_in_process(data_dir=None, seeds=(0,), epochs: int = 5) -> dict:
    """``experiment.run_experiment`` in this process on configs/paper-split.yaml with fewer seeds/epochs."""
    from bt_lstm_mvo.experiment.run import run_experiment

    old = _torch_threads(1)
    try:
        strategies = {
            "lstm": {"kind": "lstm", "schedule": "daily", "seeds": list(seeds),
                     "params": {"window": 30, "hidden_size": 64, "epochs": epochs}},
            "mvo": {"kind": "mvo", "schedule": "daily", "params": {"objective": "max_sharpe"}},
            "equal_weight": {"kind": "equal_weight", "schedule": "daily"},
        }
        cfg = _paper_config(strategies, data_dir)
        sample = measure(lambda: run_experiment(cfg, progress=False))
        result = sample.result
        runs = {f"{name}[{i}]": {"seconds": r.seconds,
                                 "train_seconds_per_epoch": (r.allocator or {}).get("train_seconds_per_epoch"),
                                 "epochs": (r.allocator or {}).get("epochs_run")}
                for name, rs in result.runs.items() for i, r in enumerate(rs)}
        return {"ok": True, "what": (f"experiment.experiment.run_experiment on configs/paper-split.yaml (CSV data) "
                                     f"with "
                                     f"strategies lstm (seeds {list(seeds)}, {epochs} epochs, hidden 64), mvo "
                                     f"(max_sharpe, daily), equal_weight, plus the 5 buy-and-hold references; "
                                     f"no report/plots; torch threads 1"),
                "wall_s": sample.wall_s, "cpu_s": sample.cpu_s, "runs": runs}
    finally:
        _torch_threads(old)


def sweep_speedup(data_dir=None, epochs: int = 20, lambdas=(0.0, 10.0), seeds=(0, 1), backend: str = "loky",
                  workers: int = 2, warm: bool = True) -> dict:
    """``experiment.sweep.run_sweep`` with 1 worker and with ``workers`` workers on the same LSTM grid.

    Order: 1 worker (joblib runs the tasks in this process), ``workers`` workers "cold" (the worker
    processes start: imports, data load), then, when ``warm``, ``workers`` workers again (joblib
    reuses the started processes and their loaded data). Speed-ups are ratios of
    ``SweepResult.seconds`` (wall). Each run also records the CPUs used meanwhile by this process
    tree and by other processes (:class:`benchmarks.timing.CPUWatch`).
    """
    try:
        from bt_lstm_mvo.experiment.sweep import run_sweep
    except ImportError as exc:
        return {"ok": False, "error": f"not measured: sweep not available ({exc})"}
    strategies = {"lstm": {"kind": "lstm", "schedule": "daily", "seeds": list(seeds),
                           "params": {"window": 30, "hidden_size": 64, "epochs": epochs}}}
    sweep = {"strategy": "lstm", "grid": {"params.lambda_penalty": list(lambdas)}, "seeds": list(seeds),
             "backend": backend, "workers": workers, "torch_threads": 1}
    cfg = _paper_config(strategies, data_dir, sweep=sweep, benchmarks=False)
    out = _sweep_runs(run_sweep, cfg, backend, workers, warm)
    out.update(epochs=epochs, grid=list(lambdas), seeds=list(seeds))
    return out


def shipped_sweep_speedup(data_dir=None, config: str = "configs/sweep-lambda.yaml", workers: int = 2,
                          warm: bool = False) -> dict:
    """:func:`sweep_speedup` on a shipped sweep config as a user runs it (its grid, seeds, epochs,
    baseline and significance tests), reading the shared CSVs: 1 worker, then ``workers`` cold
    (and warm, when ``warm``)."""
    import yaml

    try:
        from bt_lstm_mvo.experiment.config import parse_config
        from bt_lstm_mvo.experiment.sweep import run_sweep
    except ImportError as exc:
        return {"ok": False, "error": f"not measured: sweep not available ({exc})"}
    raw = yaml.safe_load((REPO_ROOT / config).read_text())
    raw["data"]["data_dir"] = str(data_dir if data_dir is not None else shared_data_dir())
    cfg = parse_config(raw, source=config)
    out = _sweep_runs(run_sweep, cfg, cfg.sweep.backend, workers, warm)
    out.update(config=config, grid={k: list(v) for k, v in cfg.sweep.grid.items()}, seeds=list(cfg.sweep.seeds))
    return out


def _sweep_runs(run_sweep, cfg, backend: str, workers: int, warm: bool) -> dict:
    from benchmarks.timing import CPUWatch

    order = [("one", 1), ("many_cold", workers)] + ([("many_warm", workers)] if warm else [])
    runs, cpu = {}, {}
    for name, n in order:
        watch = CPUWatch()
        runs[name] = run_sweep(cfg, workers=n, backend=backend)
        cpu[name] = watch.read()

    def metrics(res):
        return {r["task_id"]: r["metrics"] for r in res.records}

    first = runs["one"]
    sec = {k: r.seconds for k, r in runs.items()}
    out = {
        "ok": True, "backend": backend, "workers": workers,
        "tasks": len(first.records) + len(first.failures) + (first.baseline is not None),
        "failures": sum(len(r.failures) for r in runs.values()), "seconds": sec, "cpu": cpu,
        "task_seconds": median([r["seconds"] for r in first.records]),
        "identical_metrics": all(metrics(r) == metrics(first) for r in runs.values()),
        "errors": [f["error"] for r in runs.values() for f in r.failures][:3],
        "speedup_cold": ratio(sec["one"], sec["many_cold"]),
    }
    if warm:
        out["speedup_warm"] = ratio(sec["one"], sec["many_warm"])
    return out


# ----------------------------------------------------------------------------- array engine


def numpy_loop(px: np.ndarray, w: np.ndarray, rate: float = RATE, cash: float = CASH) -> tuple[float, np.ndarray]:
    """The plain numpy loop a quant writes for a daily fixed-weight rebalance with a proportional
    cost: the post-cost value by fixed-point iteration, then trade to it. (final value, values)."""
    units = np.zeros(px.shape[1])
    values = np.empty(len(px))
    for t in range(len(px)):
        p = px[t]
        h = units * p
        value = cash + h.sum()
        values[t] = value
        if t == len(px) - 1:
            break
        post = value
        for _ in range(50):
            new = value - rate * np.abs(w * post - h).sum()
            if abs(new - post) <= 1e-12 * value:
                post = new
                break
            post = new
        trades = w * post - h
        cash -= trades.sum() + rate * np.abs(trades).sum()
        units = units + trades / p
    return float(values[-1]), values


def array_engine(frames: dict[str, pd.DataFrame], label: str, repeats: int = 3, backtrader: bool = True,
                 peers: bool = True, backtrader_repeats: int = 1) -> dict:
    """The array engine (decisions + simulation) vs the plain numpy loop, vs the Backtrader engine
    (``backtrader``) and vs the installed peers (``peers``: vectorbt always, pmorissette/bt with
    the Backtrader engine only, as both are slow), on a daily equal-weight rebalance with a 0.1%
    commission, interleaved. Final values of the peers differ by their cost convention
    (:mod:`benchmarks.peers`). With the Backtrader engine, the minimal hand-written Backtrader
    strategy (:class:`PrecomputedOrders`) replays the orders of an untimed Backtrader-engine run
    on the same feed, and everything runs ``backtrader_repeats`` times instead of ``repeats``."""
    from benchmarks import peers as peer_lib
    from bt_lstm_mvo.engine import bars_from_frames, decide, simulate

    bars = bars_from_frames(frames)
    px = bars.close
    w = np.full(px.shape[1], 1.0 / px.shape[1])

    def engine():
        return simulate(bars, decide(bars, EqualWeight()), commission=RATE, cash=CASH, min_trade_value=0.0)

    def loop():
        return numpy_loop(px, w)

    fns = {"array_engine": engine, "numpy_loop": loop}
    if backtrader:
        fns["backtrader_engine"] = lambda: run_cerebro(frames, AllocationStrategy, broker_class=FastBroker,
                                                       allocator=EqualWeight(), lean=True, min_trade_value=0.0)
        # the same engine on Backtrader's BackBroker: what FastBroker saves
        fns["backtrader_engine_backbroker"] = lambda: run_cerebro(frames, AllocationStrategy, allocator=EqualWeight(),
                                                                  lean=True, min_trade_value=0.0)
        orders = orders_from_fills(fns["backtrader_engine"]()[1], frames)  # untimed
        fns["minimal_backtrader"] = lambda: run_cerebro(frames, PrecomputedOrders, orders=orders)
    installed = peer_lib.versions() if peers else {}
    frame = closes(frames)
    if installed.get("vectorbt"):
        fns["vectorbt"] = lambda: peer_lib.vectorbt_equal_weight(frame, RATE, CASH)
    if installed.get("bt") and backtrader:
        fns["bt"] = lambda: peer_lib.bt_equal_weight(frame, RATE, CASH)
    samples = interleave(fns, repeats if not backtrader else backtrader_repeats)
    stats = {k: summarise(v) for k, v in samples.items()}
    sim = samples["array_engine"][0].result
    final_loop = samples["numpy_loop"][0].result[0]
    out = {
        "label": label, "assets": px.shape[1], "bars": len(px), "stats": stats,
        "engine_vs_loop_cpu": ratio(stats["array_engine"]["cpu_s"], stats["numpy_loop"]["cpu_s"]),
        "final_engine": sim.final_value, "final_loop": final_loop,
        "final_rel_diff_loop": sim.final_value / final_loop - 1,
        "peers": {k: v for k, v in installed.items() if k in fns},
    }
    if backtrader:
        value, _ = samples["backtrader_engine"][0].result
        out["backtrader_vs_engine_cpu"] = ratio(stats["backtrader_engine"]["cpu_s"], stats["array_engine"]["cpu_s"])
        out["final_backtrader"] = float(value)
        out["final_rel_diff_backtrader"] = sim.final_value / float(value) - 1
        out["final_minimal"] = float(samples["minimal_backtrader"][0].result[0])
        out["final_rel_diff_minimal"] = out["final_minimal"] / float(value) - 1
        out["backtrader_vs_minimal_cpu"] = ratio(stats["backtrader_engine"]["cpu_s"],
                                                 stats["minimal_backtrader"]["cpu_s"])
        back_value, back = samples["backtrader_engine_backbroker"][0].result
        out["fastbroker_vs_backbroker_cpu"] = ratio(stats["backtrader_engine"]["cpu_s"],
                                                    stats["backtrader_engine_backbroker"]["cpu_s"])
        fast_fills = samples["backtrader_engine"][0].result[1].fills
        out["fastbroker_same_result"] = bool(float(back_value) == float(value) and list(back.fills) == list(fast_fills))
    for name in out["peers"]:
        out[f"final_{name}"] = float(samples[name][0].result)
        out[f"final_rel_diff_{name}"] = out[f"final_{name}"] / sim.final_value - 1
        out[f"engine_vs_{name}_cpu"] = ratio(stats["array_engine"]["cpu_s"], stats[name]["cpu_s"])
        if backtrader:
            out[f"backtrader_vs_{name}_cpu"] = ratio(stats["backtrader_engine"]["cpu_s"], stats[name]["cpu_s"])
            out[f"minimal_vs_{name}_cpu"] = ratio(stats["minimal_backtrader"]["cpu_s"], stats[name]["cpu_s"])
    return out


def array_engine_section(sizes, repeats: int = 3, data_dir=None, backtrader_max_orders: int = 150_000,
                         peers: bool = True, backtrader_repeats: int = 1) -> dict:
    """:func:`array_engine` at each size (``"paper"`` or ``(assets, bars)``); the Backtrader engine
    (and pmorissette/bt) join the comparison where the run has at most ``backtrader_max_orders``
    orders. The installed peers run once first on a tiny market, untimed (vectorbt compiles its
    numba kernels then); those seconds are reported as ``peer_warm_up_s``."""
    from benchmarks import peers as peer_lib

    out = {"peer_versions": peer_lib.versions(), "peer_warm_up_s": peer_lib.warm_up(RATE, CASH) if peers else {}}
    out["cases"] = []
    for size in sizes:
        if size == "paper":
            frames, label = paper_frames(data_dir), "paper data (real, 2019-2024)"
        else:
            n, b = size
            frames, label = synthetic_frames(n, b, seed=0), f"synthetic {n} x {b}"
        n_orders = len(frames) * len(next(iter(frames.values())))
        out["cases"].append(array_engine(frames, label, repeats, backtrader=n_orders <= backtrader_max_orders,
                                         peers=peers, backtrader_repeats=backtrader_repeats))
    return out
