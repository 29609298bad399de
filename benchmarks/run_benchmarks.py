"""Run every benchmark once and write BENCHMARKS.md (and benchmarks/results.json).

Usage (from the repository root)::

    python benchmarks/run_benchmarks.py [--quick] [--skip-e2e] [--out BENCHMARKS.md]

Full sizes take about 10 minutes on 2 cores; ``--quick`` uses small sizes (about 2 minutes);
``--skip-e2e`` leaves out the end-to-end ``runner.py configs/paper-split.yaml`` run. Needs the real data
folder (``$LMBT_DATA_DIR`` or ``../shared/data``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the project's packages importable
    sys.path.insert(0, str(ROOT))

from benchmarks import cases  # noqa: E402
from benchmarks.report import GOALS, fastest_repeat_ratio, render, shipped_sweep_measured  # noqa: E402
from benchmarks.timing import CPUWatch, machine_info  # noqa: E402
from bt_lstm_mvo.malloc import DEFAULT_KEEP_MIB, keep_freed_memory  # noqa: E402

FULL = {
    "overhead_repeats": 7,
    "overhead_repeats_synthetic": 5,
    "overhead_synthetic": (5, 1000),
    "reference_repeats": 3,
    "pieces_calls": 500,
    "scaling_assets": (5, 50, 200),
    "scaling_bars": (1500, 3000, 6000),
    "scaling_budget_s": 240.0,
    "scaling_case_cap_s": 120.0,
    "gc_pause": {"n_assets": 200, "n_bars": 500, "repeats": 2},
    "lstm_epochs": 10,
    "inference": {"short_bars": 600, "long_bars": 6000, "calls": 100, "trade_bars": 300, "strategy_repeats": 5},
    "sweep": {"epochs": 10, "lambdas": (0.0, 10.0, 25.0), "seeds": (0, 1)},
    "engine": {"sizes": ("paper", (50, 2000), (200, 6000)), "repeats": 3, "backtrader_max_orders": 150_000,
               "backtrader_repeats": 2},
}
QUICK = {
    "overhead_repeats": 3,
    "overhead_repeats_synthetic": 3,
    "overhead_synthetic": (5, 500),
    "reference_repeats": 2,
    "pieces_calls": 200,
    "scaling_assets": (5, 20, 50),
    "scaling_bars": (250, 500, 1000),
    "scaling_budget_s": 60.0,
    "scaling_case_cap_s": 30.0,
    "gc_pause": {"n_assets": 20, "n_bars": 200, "repeats": 1},
    "lstm_epochs": 3,
    "memory": {"n_assets": 5, "n_bars": 100},
    "inference": {"short_bars": 600, "long_bars": 3000, "calls": 30, "trade_bars": 100, "strategy_repeats": 1},
    "sweep": {"epochs": 2, "lambdas": (10.0,), "seeds": (0, 1)},
    "engine": {"sizes": ("paper", (20, 500)), "repeats": 2, "backtrader_max_orders": 20_000},
}

log = logging.getLogger("benchmarks")


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="run_benchmarks.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (about 5 minutes)")
    ap.add_argument("--skip-e2e", action="store_true", help="leave out the end-to-end runner.py run")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"), help="Markdown output (default BENCHMARKS.md)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results.json"), help="raw results (JSON)")
    ap.add_argument("--data-dir", default=None, help="folder of the paper tickers' CSVs (default: shared data)")
    ap.add_argument("--big", action="store_true",
                    help="also run the shipped lambda sweep (1 and 2 workers) and 200 assets x 6000 bars on the "
                         "Backtrader engine (about 17 more minutes)")
    ap.add_argument("--from-json", default=None, metavar="PATH",
                    help="measure nothing: write the report again from a results file of an earlier run")
    return ap.parse_args(argv)


def run_all(sizes: dict, quick: bool, skip_e2e: bool, data_dir=None, big: bool = False) -> dict:
    """Every section in order; returns the plain results dict the report is built from."""
    t0 = time.perf_counter()
    res: dict = {"quick": quick, "skip_e2e": skip_e2e, "sizes": sizes, "machine": machine_info()}
    # as the runner does (runtime.malloc_keep_mib): the in-process sections run with it
    res["malloc_keep_mib"] = DEFAULT_KEEP_MIB if keep_freed_memory(DEFAULT_KEEP_MIB) else None

    res["load"] = {}
    watch: dict = {}

    def stage(name):
        if watch:
            res["load"][watch["name"]] = watch["w"].read()
        watch.update(name=name, w=CPUWatch())
        log.info("[%5.0f s] %s", time.perf_counter() - t0, name)

    stage("1. overhead (paper data)")
    paper = cases.paper_frames(data_dir)
    res["overhead"] = [cases.overhead(paper, "paper data (real, 2019-2024)", sizes["overhead_repeats"])]
    stage("1. overhead (synthetic data)")
    n, b = sizes["overhead_synthetic"]
    res["overhead"].append(cases.overhead(cases.synthetic_frames(n, b, seed=0), "synthetic (generate_assets)",
                                          sizes["overhead_repeats_synthetic"], profile=False))
    res["pieces"] = cases.per_bar_pieces(5, sizes["pieces_calls"])
    stage("2. reference")
    res["reference"] = cases.reference(paper, "paper data (real, 2019-2024)", sizes["reference_repeats"])
    stage("3. scaling")
    res["scaling"] = cases.scaling(sizes["scaling_assets"], sizes["scaling_bars"], sizes["scaling_budget_s"],
                                   sizes["scaling_case_cap_s"])
    res["memory"] = cases.memory_attribution(**sizes.get("memory", {}))
    stage("3. garbage collector (lean mode's pause on / off)")
    res["gc_pause"] = cases.gc_pause_effect(**sizes["gc_pause"])
    stage("4. LSTM training")
    res["lstm_training"] = cases.lstm_training(paper, epochs=sizes["lstm_epochs"])
    res["lstm_training"]["malloc"] = cases.malloc_effect(epochs=sizes["lstm_epochs"], data_dir=data_dir)
    stage("4. LSTM inference")
    res["lstm_inference"] = cases.lstm_inference(**sizes["inference"])
    if skip_e2e:
        res["e2e"] = None
    elif quick:
        stage("5. end-to-end (in-process, reduced)")
        res["e2e"] = cases.e2e_in_process(data_dir, seeds=(0,), epochs=3)
    else:
        stage("5. end-to-end (runner.py configs/paper-split.yaml)")
        res["e2e"] = cases.e2e_runner(data_dir=data_dir)
    stage("5. sweep")
    sw = sizes["sweep"]
    res["sweep"] = cases.sweep_speedup(data_dir, epochs=sw["epochs"], lambdas=sw["lambdas"], seeds=sw["seeds"])
    stage("6. array engine")
    en = sizes["engine"]
    res["engine"] = cases.array_engine_section(en["sizes"], en["repeats"], data_dir, en["backtrader_max_orders"],
                                               backtrader_repeats=en.get("backtrader_repeats", 1))
    if big:
        stage("5. sweep (configs/sweep-lambda.yaml, as shipped)")
        res["sweep_shipped"] = cases.shipped_sweep_speedup(data_dir)
        stage("7. before / after issue 13 at 50 x 2000")
        res["before_after"] = cases.before_after(50, 2000)
        stage("7. 200 x 6000 on the Backtrader engine")
        res["big"] = cases._run_worker(200, 6000, timeout=3000)
    res["load_avg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    stage("done")
    res["seconds"] = time.perf_counter() - t0
    return res


def _ok(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def findings(res: dict) -> list[str]:
    """Plain-language findings, every number taken from ``res``."""
    out = []
    pieces = (res.get("pieces") or {}).get("us_per_call", {})
    for ov in res.get("overhead", []):
        per_bar = {k: v["cpu_s"] / ov["bars"] * 1e6 for k, v in ov["stats"].items()}
        base = per_bar["baseline"]
        ew, fw = ov["ratio_cpu"]["equal_weight"], ov["ratio_cpu"]["fixed_weights"]
        text = (f"- **Overhead, {ov['label']}**: AllocationStrategy costs {ew:.2f}x the minimal strategy with "
                f"EqualWeight and {fw:.2f}x with FixedWeights (goal <= {GOALS['overhead']}; paired estimates "
                f"{ov['ratio_cpu_paired']['equal_weight']:.2f}x and {ov['ratio_cpu_paired']['fixed_weights']:.2f}x). "
                f"Per bar (CPU, medians): Backtrader itself {base:,.0f} us for {ov['orders'] / ov['bars']:.1f} "
                "orders")
        if "no_allocator_call" in per_bar:
            machinery = per_bar["no_allocator_call"] - base
            ew_if = per_bar["equal_weight"] - per_bar["no_allocator_call"]
            fw_if = per_bar["fixed_weights"] - per_bar["no_allocator_call"]
            text += (f"; our strategy's own machinery (records, sizing, orders, notifications) {machinery:,.0f} us "
                     f"({ov['ratio_cpu']['no_allocator_call']:.2f}x in all); the allocator interface (`allocate_values`"
                     f" on the price buffer, the weight check) {ew_if:+,.0f} us with EqualWeight and {fw_if:+,.0f} us "
                     "with FixedWeights")
            below = min(ew_if, fw_if) < 0
            text += ": below zero, i.e. not measurable against this run's noise between variants." if below else "."
        else:
            text += f"; ours {per_bar['equal_weight'] - base:,.0f} us (EqualWeight)."
        fw_us = pieces.get("FixedWeights.allocate_values (the strategy's path)")
        ew_us = pieces.get("EqualWeight.allocate_values (the strategy's path)")
        if fw > ew and _ok(fw_us) and _ok(ew_us) and fw_us > 2 * ew_us:
            text += (f" FixedWeights costs more because of the allocator itself: `FixedWeights.allocate_values` takes "
                     f"{fw_us:.0f} us per call in isolation vs {ew_us:.0f} us for `EqualWeight.allocate_values` "
                     "(`allocators/naive.py`).")
        out.append(text)
    ov = next((o for o in res.get("overhead", []) if "profile" in o), None)
    if ov:
        p = ov["profile"]["equal_weight"]
        st = ov["stats"]
        out.append(f"- **Where the time goes** (cProfile, {ov['label']}): our code is {100 * p['ours_share']:.0f}% "
                   f"of the AllocationStrategy run and Backtrader (its broker, order objects, lines and the "
                   f"feed: the plugin's `ArrayData`, preloaded from lists) "
                   f"{100 * p['backtrader_share']:.0f}% (profiled; section 1 splits our part between the "
                   "strategy's bookkeeping and the allocator interface without the profiler). Cyclic-GC pauses were "
                   f"{st['equal_weight']['gc_s']:.3f} s per run (median) vs {st['baseline']['gc_s']:.3f} s for "
                   "the minimal strategy: our per-bar records (`bars`, `fills`, `rebalances`) are live objects the "
                   "collector scans.")
    ref = res.get("reference")
    if ref:
        out.append(f"- **Event-driven vs vectorised**: the Backtrader run is {ref['ratio_cpu']:.0f}x slower than the "
                   f"vectorised reference ({ref['stats']['event_driven']['cpu_s']:.2f} s vs "
                   f"{ref['stats']['reference']['cpu_s']:.3f} s CPU) and agrees with it to "
                   f"{abs(ref['final_rel_diff']):.1e} (final value, relative). Almost all of that factor is "
                   "Backtrader's per-order event machinery (see section 1: the minimal strategy replaying the same "
                   "orders is most of the cost); it buys order-level realism (fills, commissions, rejections).")
    sc = res.get("scaling")
    if sc:
        ratios = [d["ratio_cpu"] for d in sc["doubling"] if _ok(d["ratio_cpu"])]
        per = [c["us_per_asset_bar"] for c in sc["cases"]]
        if ratios:
            missed = [f"{d['assets']} assets {d['bars']}->{d['bars2']}" for d in sc["doubling"]
                      if d["ratio_cpu"] > GOALS["doubling"]]
            text = (f"- **Scaling**: doubling the bars costs {min(ratios):.2f}x to {max(ratios):.2f}x "
                    f"(goal <= {GOALS['doubling']}" + (f"; over it: {', '.join(missed)}" if missed else "; all met")
                    + f"). The cost per asset x bar, i.e. per order since every asset trades every bar, is "
                    f"between {min(per):.0f} and {max(per):.0f} us in every case run, from 5 to "
                    f"{max(c['assets'] for c in sc['cases'])} assets")
            text += (": time is linear in the number of orders, with no term growing with the history." if not missed
                     else ".")
            multi = [c for c in sc["cases"] if len(c.get("cpu_all_s", [])) > 1]
            if missed and multi:
                worst = max(multi, key=lambda c: max(c["cpu_all_s"]) / min(c["cpu_all_s"]))
                spread = max(worst["cpu_all_s"]) / min(worst["cpu_all_s"]) - 1
                excess = max(ratios) / GOALS["doubling"] - 1
                text += (f" One case's rounds differ by {100 * spread:.0f}% in this run ({worst['assets']} x "
                         f"{worst['bars']} took " + ", ".join(f"{v:.2f}" for v in worst["cpu_all_s"])
                         + f" s, round by round; section 3), against {100 * excess:.0f}% over the goal for the "
                         "worst pair: " + ("the miss is within the machine's drift during the section."
                                           if spread >= excess else "more than this run's drift explains."))
            elif missed:
                text += " Each case ran once, so this run cannot tell a miss from the machine's drift."
            drift = [d["late_vs_early"] for d in sc["doubling"] if _ok(d.get("late_vs_early"))]
            if drift:
                text += (f" Within each longer run, the per-bar cost of its second half is {min(drift):.2f}x to "
                         f"{max(drift):.2f}x that of its first half (section 3, drift column): "
                         + ("no run got more than 10% slower per bar as its history grew (below 1: the machine "
                            "sped up during the run), so the misses are the machine's drift, not a per-bar cost "
                            "of the history." if max(drift) <= 1.1
                            else "above 1.10 somewhere, so a per-bar cost may grow with the history."))
            fitted = sc.get("fitted", [])
            if fitted:
                over = [g for g in fitted if g["doubling"] > GOALS["doubling"]]
                text += (" Fitted over all the sizes that ran (section 3: log CPU on log size, one point per case), "
                         "doubling costs " + ", ".join(
                             f"{g['doubling']:.2f}x along the {g['along']} at {g['fixed']:,} {g['fixed_by']}"
                             for g in fitted)
                         + (f" (goal <= {GOALS['doubling']}: all met" if not over
                            else f" (goal <= {GOALS['doubling']}: {len(over)} over it")
                         + f"; the worst case is {100 * max(g['worst_residual'] for g in fitted):.0f}% off its line).")
            out.append(text)
        mem = res.get("memory")
        big = max(sc["cases"], key=lambda c: c["orders"]) if sc["cases"] else None
        if mem and big:
            out.append(f"- **Memory** grows with the number of orders: the largest case run ({big['assets']} x "
                       f"{big['bars']}, {big['orders']:,} orders) peaked at {big['peak_rss_mib']:,.0f} MiB "
                       f"({big['run_mem_mib'] * 1024 / big['orders']:.1f} KiB per order above the data). "
                       f"tracemalloc on a small run ({mem['assets']} x {mem['bars']}) charges "
                       f"{100 * mem['share']['backtrader']:.0f}% "
                       f"of the memory still held after the run to Backtrader (in lean mode, the runner's, only "
                       f"the live orders are kept; the rest is its lines and trade history) and "
                       f"{100 * mem['share']['ours']:.0f}% to our code (the `bars`, `fills` and `rebalances` "
                       "records, which still grow with the orders).")
        if sc["skipped"]:
            names = ", ".join(f"{s['assets']}x{s['bars']} (~{s['estimate_s']:.0f} s)" for s in sc["skipped"])
            out.append(f"- **Not measured in this run** (over the per-case cap or the section's time budget; the "
                       f"estimates are the probe runs' per-bar cost times the bars, not measurements): {names}. With "
                       "daily rebalancing every asset is traded every bar, so a case costs about its number of "
                       "orders times Backtrader's per-order cost (see the us/(asset x bar) column).")
    lt = res.get("lstm_training") or {}
    if lt.get("ratio_fit_vs_minimal") is not None:
        r = lt["ratio_fit_vs_minimal"]
        text = (f"- **LSTM training**: `LSTMAllocator.fit` takes {r:.2f}x a minimal PyTorch loop per epoch on the same "
                f"tensors (goal <= {GOALS['training']}; {'met' if r <= GOALS['training'] else 'missed'}). Inside its "
                "seeded section torch's deterministic mode no longer fills every new tensor with a marker value "
                "(`torch.utils.deterministic.fill_uninitialized_memory`, a debugging aid; the weights are "
                "bit-identical either way, tested).")
        mal = lt.get("malloc") or {}
        if mal.get("ok"):
            text += (f" Keeping freed memory ({mal['keep_mib']} MiB, as the runner does) makes each epoch "
                     f"{mal['ratio_default_vs_kept']:.2f}x faster than glibc's defaults in a fresh process "
                     f"({mal['page_faults_per_epoch']['default']:.0f} vs {mal['page_faults_per_epoch']['kept']:.0f} "
                     "page faults per epoch).")
        out.append(text)
    li = res.get("lstm_inference")
    if li:
        a, st = li["allocate"], li["strategy"]
        text = (f"- **LSTM inference vs history length** ({li['long_bars']} vs {li['short_bars']} bars): "
                f"`allocate` {a['ratio']:.2f}x and the strategy's per-bar cost {st['ratio']:.2f}x "
                f"(goal ~1, <= {GOALS['flat']}). `allocate` reads only the trailing `lookback` = {li['lookback']} "
                "rows, and the strategy hands it only those rows.")
        runs = st.get("runs_us") or {}
        if st["ratio"] > GOALS["flat"] and runs.get("short") and runs.get("long"):
            text += (f" The strategy's per-run medians ranged {min(runs['short'])}-{max(runs['short'])} us (short "
                     f"history) and {min(runs['long'])}-{max(runs['long'])} us (long) over {st['repeats']} runs each")
            if max(runs["short"]) >= min(runs["long"]):
                text += (": the ranges overlap, so the gap is within this machine's run-to-run spread rather than "
                         "a cost that grows with the history (`allocate` alone is flat).")
            else:
                text += (": every long-history run was slower. `allocate` alone is flat, so the extra cost is in "
                         "the work around it (Backtrader's per-bar processing and our per-bar records over longer "
                         "line buffers), not in the model; it is not explained further here.")
        out.append(text)
        inf = li.get("inference")
        if inf:
            fastest = fastest_repeat_ratio(inf)
            met = inf["ratio"] <= GOALS["forward"] and (fastest is None or fastest[0] <= GOALS["forward"])
            verdict = "meets" if met else "misses"
            spread = ""
            if fastest is not None:
                spread = (f" Over the fastest repeat of each ({fastest[1]:.0f} us against {fastest[2]:.0f} us) it is "
                          f"{fastest[0]:.2f}x; the forward's repeats were {inf['runs_forward_us']} us")
                spread += (", so a slow phase of the machine moved the ratio of medians: both must meet the goal."
                           if (fastest[0] <= GOALS["forward"]) != (inf["ratio"] <= GOALS["forward"]) else ".")
            out.append(f"- **LSTM allocation step vs the raw forward**: {inf['decide_us']:.0f} us per bar inside the "
                       f"strategy against {inf['forward_us']:.0f} us for the network alone, {inf['ratio']:.2f}x "
                       f"(medians).{spread} This {verdict} the goal (<= {GOALS['forward']}). The strategy hands "
                       "`allocate_values` a view of its price buffer, no DataFrame, and the features are carried on "
                       "from the previous bar "
                       "(`allocators/lstm/stream.py:FeatureStream`: only the new row is computed, in Python floats; "
                       "equal to a fresh `feature_tail` to 1e-12 and to the offline pandas features to 1e-9); what is "
                       "left beside the forward is that row, the window checks, the softmax and the weight check, and "
                       "the cache misses the bar's work between two forwards causes the network.")
            if inf.get("forward_in_situ_us") is not None:
                out[-1] += (" Timed where `allocate_values` runs it (`infer_logits`, the same kernel and output), "
                            "the forward takes "
                            f"{inf['forward_in_situ_us']:.0f} us ({inf['in_situ_vs_forward']:.2f}x the warm forward; "
                            f"alone after reading {inf['cold_cache_mib']:.0f} MiB of other memory, "
                            f"{inf['forward_cold_us']:.0f} us), so the step is "
                            f"{inf['ratio_vs_in_situ']:.2f}x the forward as it runs inside the strategy.")
                gap = inf["decide_us"] - inf["forward_us"]
                if not met and gap > 0:
                    share = (inf["forward_in_situ_us"] - inf["forward_us"]) / gap
                    out[-1] += (f" {share:.0%} of the gap to the warm forward is the forward itself running slower "
                                "inside the strategy (caches filled by Backtrader's per-bar work in between)")
                    out[-1] += (", and that alone is over the goal: no change to the features can meet it on this path."
                                if inf["in_situ_vs_forward"] >= GOALS["forward"] else ".")
            if inf.get("network_step_us") is not None:
                floor = inf["network_step_vs_forward"]
                left = GOALS["forward"] * inf["forward_us"] - inf["network_step_us"]
                out[-1] += (f" With `allocate_values` replaced by the network alone on a fixed window (the same "
                            "`_forward`: to torch, `infer_logits`, softmax; no features), the step costs "
                            f"{inf['network_step_us']:.0f} us, {floor:.2f}x the warm forward; the features and checks "
                            f"add {inf['features_us']:.0f} us.")
                if not met:
                    out[-1] += (" The network alone inside the strategy is already over the goal, so only a "
                                "cheaper kernel call, not the features, could meet it."
                                if floor >= GOALS["forward"] else
                                f" The goal leaves {left:.0f} us for the features and checks.")
    sw = res.get("sweep")
    if sw and sw.get("ok"):
        sec = sw["seconds"]
        cold, warm = sw.get("speedup_cold"), sw.get("speedup_warm")
        text = (f"- **Sweep**: {sw['workers']} workers give {cold:.2f}x over 1 worker including worker start-up"
                + (f" and {warm:.2f}x with the workers already started" if _ok(warm) else "")
                + (f" (goal >= {GOALS['sweep']}" if not shipped_sweep_measured(res)
                   else f" (the goal, >= {GOALS['sweep']}, is set on the shipped lambda sweep below")
                + f"; {sw['tasks']} tasks of about {sw['task_seconds']:.1f} s).")
        if _ok(warm):
            text += (f" Starting the worker processes (imports, data load) cost about "
                     f"{sec['many_cold'] - sec['many_warm']:.1f} s of the cold sweep.")
        if min(x for x in (cold, warm) if _ok(x)) < GOALS["sweep"]:
            m = res["machine"]
            cpu = sw.get("cpu", {})
            others = max((c.get("others_cpus") or 0.0 for c in cpu.values()), default=0.0)
            ours = {k: c.get("ours_cpus") for k, c in cpu.items()}
            if others >= 0.3:
                text += (f" Other processes kept up to {others:.1f} of the machine's {m['usable_cpus']} CPUs busy "
                         "during these sweeps, so the two workers could not each get a whole core.")
            if _ok(ours.get("many_warm")):
                text += (f" The workers kept {ours['many_warm']:.2f} CPUs busy in the warm run: what is left is "
                         "the sweep's own serial part (dispatch, aggregation, the last task running alone when the "
                         "tasks do not divide evenly or differ in length)")
                text += (", and, for the cold run, the start-up above, which tasks this short cannot amortise."
                         if _ok(cold) and cold < GOALS["sweep"] else ".")
        out.append(text)
    elif sw:
        out.append(f"- **Sweep**: {sw.get('error')}.")
    shipped = res.get("sweep_shipped")
    if shipped and shipped.get("ok"):
        sec, cold = shipped["seconds"], shipped["speedup_cold"]
        verdict = "meets" if cold >= GOALS["sweep"] else "misses"
        text = (f"- **The shipped lambda sweep** (`{shipped['config']}`: {shipped['tasks']} tasks of about "
                f"{shipped['task_seconds']:.1f} s, as a user runs it): {shipped['workers']} workers, started cold, "
                f"take {sec['many_cold']:.1f} s against {sec['one']:.1f} s for 1 worker, {cold:.2f}x; this "
                f"{verdict} the goal (>= {GOALS['sweep']}).")
        cpu = shipped.get("cpu") or {}
        one, many = cpu.get("one") or {}, cpu.get("many_cold") or {}
        if cold < GOALS["sweep"] and _ok(one.get("ours_cpus")) and _ok(many.get("ours_cpus")):
            extra = many["ours_cpus"] * many["wall_s"] - one["ours_cpus"] * one["wall_s"]
            text += (f" The two workers kept {many['ours_cpus']:.2f} CPUs busy, so the shortfall is not idle "
                     f"time: they did {extra:.0f} CPU seconds more work than 1 worker for the same tasks (each "
                     "worker's start-up imports, and the tasks running slower two at a time on this machine's 2 "
                     "cores; this run does not split the two).")
        out.append(text)
    elif shipped:
        out.append(f"- **The shipped lambda sweep**: {shipped.get('error')}.")
    eng = (res.get("engine") or {}).get("cases", [])
    if eng:
        worst = max(eng, key=lambda c: c["engine_vs_loop_cpu"])
        verdict = "meets" if worst["engine_vs_loop_cpu"] <= GOALS["engine_vs_loop"] else "misses"
        text = (f"- **Array engine**: from {min(c['engine_vs_loop_cpu'] for c in eng):.2f}x to "
                f"{worst['engine_vs_loop_cpu']:.2f}x the plain numpy loop (worst: {worst['label']}); this {verdict} "
                f"the goal (<= {GOALS['engine_vs_loop']} at every size). It does more than the loop: it asks the "
                "allocator at every bar and checks its weights, solves the post-cost value exactly and keeps "
                "every record the analyzers need.")
        vs = [c for c in eng if c.get("backtrader_vs_engine_cpu") is not None]
        if vs:
            text += " Against the Backtrader engine: " + "; ".join(
                f"{c['backtrader_vs_engine_cpu']:.0f}x faster at {c['assets']} x {c['bars']} (final values equal to "
                f"{abs(c['final_rel_diff_backtrader']):.0e})" for c in vs) + "."
        out.append(text)
        with_bt = [c for c in eng if c.get("backtrader_vs_bt_cpu") is not None]
        goal_case = next((c for c in with_bt if (c["assets"], c["bars"]) == (50, 2000)), None)
        if with_bt:
            text = ("- **Peers**: the Backtrader engine takes " + "; ".join(
                f"{c['backtrader_vs_bt_cpu']:.2f}x pmorissette/bt's CPU time at {c['assets']} x {c['bars']}"
                for c in with_bt) + f" (goal <= {GOALS['backtrader_vs_bt']} at 50 x 2000")
            if goal_case is not None:
                met = goal_case["backtrader_vs_bt_cpu"] <= GOALS["backtrader_vs_bt"]
                text += "; met)." if met else "; missed)."
                if met and goal_case.get("minimal_vs_bt_cpu") is not None:
                    text += (f" The minimal hand-written Backtrader strategy replaying the same orders takes "
                             f"{goal_case['minimal_vs_bt_cpu']:.2f}x bt's time on Backtrader's `BackBroker`; our "
                             f"engine is under it ({goal_case['backtrader_vs_minimal_cpu']:.2f}x) by lean mode and "
                             "`FastBroker`. Each of these ran once (one repeat at this size), and bt's time relative "
                             "to Backtrader's moves from run to run, so this ratio is the noisiest in the file.")
                if not met:
                    text += (" The gap is Backtrader's own per-order machinery (order objects, three cloned "
                             "notifications per order, the broker's per-order checks; see the profile), which bt "
                             "does not have: it keeps positions as array columns")
                    if goal_case.get("minimal_vs_bt_cpu") is not None:
                        text += (f". The minimal hand-written Backtrader strategy replaying the same orders on the "
                                 f"same feed takes {goal_case['minimal_vs_bt_cpu']:.2f}x bt's time by itself, and "
                                 f"our engine {goal_case['backtrader_vs_minimal_cpu']:.2f}x the minimal strategy's "
                                 f"(goal <= {GOALS['overhead']})")
                        if goal_case["minimal_vs_bt_cpu"] > GOALS["backtrader_vs_bt"]:
                            text += (": no strategy on Backtrader's broker can meet the goal against bt on this "
                                     "workload without replacing Backtrader's order objects")
                    text += "."
            else:
                text += "; 50 x 2000 not run)."
            out.append(text)
        fb = [c for c in eng if c.get("fastbroker_vs_backbroker_cpu") is not None]
        if fb:
            out.append("- **FastBroker**: the Backtrader engine on the runner's `FastBroker` takes " + "; ".join(
                f"{c['fastbroker_vs_backbroker_cpu']:.2f}x its time on Backtrader's `BackBroker` at {c['assets']} x "
                f"{c['bars']}" for c in fb) + " (same fills and final value: "
                + ("yes" if all(c.get("fastbroker_same_result") for c in fb) else "NO") + ").")
        vb = [c for c in eng if c.get("engine_vs_vectorbt_cpu") is not None]
        if vb:
            out.append("- **Array engine vs vectorbt** (numba-compiled, compile time excluded): " + "; ".join(
                f"{c['engine_vs_vectorbt_cpu']:.2f}x its CPU time at {c['assets']} x {c['bars']}" for c in vb)
                + ". Final values differ from both peers by their cost convention (section 6).")
    big = res.get("big")
    if big:
        out.append(f"- **{big['assets']} x {big['bars']} on the Backtrader engine** ({big['orders']:,} orders, lean "
                   f"mode, `ArrayData`, `FastBroker`): {big['cpu_s']:,.0f} s CPU and a peak RSS of "
                   f"{big['peak_rss_mib']:,.0f} MiB, "
                   f"against 520 s and 8.2 GB in the issue before this work (a cross-run comparison).")
    ba = res.get("before_after")
    if ba:
        verdict = "meets" if ba["ratio_cpu"] <= GOALS["big_cpu_vs_issue"] else "misses"
        now, before = ba["now"], ba["before"]
        out.append(f"- **Before / after issue 13, side by side** ({ba['assets']} x {ba['bars']}, {ba['orders']:,} "
                   "orders, fresh processes): the runner's path (`ArrayData`, lean mode, `FastBroker`) takes "
                   f"{now['cpu_s']:.1f} s CPU against {before['cpu_s']:.1f} s for the path before this work "
                   f"(Backtrader's `PandasData`, full mode, `BackBroker`), {ba['ratio_cpu']:.2f}x, which {verdict} "
                   "the CPU goal "
                   f"(<= {GOALS['big_cpu_vs_issue']}); run memory {now['run_mem_mib']:,.0f} MiB against "
                   f"{before['run_mem_mib']:,.0f} MiB; "
                   f"final values {'identical' if ba['same_final_value'] else '**different**'}.")
    return out


def _load1(load) -> str:
    return f"{load[0]:.1f}" if load else "n/a"


def changes(res: dict) -> list[str]:
    pieces = (res.get("pieces") or {}).get("us_per_call", {})
    general = pieces.get("validate_weights (general path)")
    fast = pieces.get("weights_array (fast path)")
    cost = (f" (this run: {general:.0f} us per call for the general path vs {fast:.0f} us for the fast path)"
            if _ok(general) and _ok(fast) else "")
    return [
        "Profiling showed that most of our per-bar cost was pandas bookkeeping and numpy scalars, not the "
        "rebalancing arithmetic. Changed (behaviour, records and results unchanged; the strategy, reference, "
        "look-ahead, LSTM-strategy and sizing tests pass):",
        "",
        "- weight validation: `validate_weights` (pandas `reindex` + `fillna` + `clip` per "
        "bar) is now the fallback only. `allocators.base.weights_array` accepts, with numpy, the common case "
        "of a float Series indexed exactly by the feeds' assets that meets the contract, and returns the same "
        f"weights; anything else still goes through `validate_weights`, so its error messages are unchanged{cost}. "
        "Weights then stay a numpy array until the orders are sent (targets in `rebalances` are still "
        "`{asset: weight}` dicts).",
        "- `strategies/base.py`, history window: dates are kept as `datetime64[ns]`, the column `Index` is made "
        "once, and each window's index is a slice of one `DatetimeIndex` viewing the date buffer (rows are never "
        "rewritten; where pandas would copy instead of view, each window builds its own index as before).",
        "- `feeds/bt_feeds.py`: a started `ArrayData` holds its lines (`close`, `datetime`, ...) and the lines' "
        "per-bar methods as attributes, the objects Backtrader's `LineSeries.__getattr__` would forward to, so "
        "the broker's and feed's reads (about 17 per order) skip that miss.",
        "- `strategies/base.py`, orders: sizes go to `buy`/`sell` as Python floats instead of numpy scalars, so "
        "Backtrader's own per-order arithmetic (positions, cash, commission) runs on floats; the same IEEE values.",
        "- `strategies/base.py`, small things: positions are valued once per bar (the bar record and the "
        "rebalance share them), the feeds' `tradable` lines are looked up once, a feed whose datetime number "
        "equals the clock's is known to be fresh without a date conversion (time-zone-free feeds only), and "
        "the fills of one bar share one date conversion in `notify_order`.",
        "- `strategies/sizing.py`: `plan_rebalance`'s fixed-point loop and its trades work on masked copies of the "
        "weights and holdings made once (fewer array operations per iteration, bit-identical results), and the "
        "minimum-trade filter only runs when one is set.",
        "- an optional array path of the allocator contract: an allocator class that defines `allocate_values` "
        "next to its `allocate` (the LSTM, EqualWeight, FixedWeights and BuyAndHold do) gets a view of the "
        "strategy's price buffer and returns an array, with no DataFrame or Series per bar; the LSTM's features "
        "are numpy (`allocators/lstm/features.py:feature_tail`, equal to the offline pandas features to 1e-9) "
        "and, from one daily decision to the next, carried on one row at a time (`allocators/lstm/stream.py`: "
        "`FeatureStream`, equal to `feature_tail` to 1e-12; its weights equal `allocate`'s to 1e-6 (tested), bit for "
        "bit on a fresh window). A subclass "
        "that overrides `allocate` alone keeps the DataFrame path.",
        "- `strategies/records.py`: `bars`, `rebalances` and `fills` are stored column-wise (float arrays, shared "
        "objects) and read as the lists of dicts they replace, about a tenth of the memory per row; the strategy "
        "appends each bar's held and target weights as lists in asset order.",
        "- `strategies/broker.py`: `FastBroker`, the runner's broker, is Backtrader's `BackBroker` with each "
        "order's three notification copies made without `copy.copy`, its params held as attributes, and its "
        "orders made by `FastBuyOrder`/`FastSellOrder` (Backtrader's `Order.__init__` with the end of session "
        "converted once per bar for all feeds) (the same fills, values, notifications and order attributes "
        "bit for bit, `tests/test_broker.py`); the Backtrader engine in "
        "sections 3, 6 and 7 runs on it, section 1 on `BackBroker` (both sides).",
        "- `strategies/gc_pause.py`: lean mode freezes the objects that exist when the run starts (`gc.freeze` "
        "from the strategy's start to its stop), so the collector's full collections skip them; the benchmark's "
        "own timings freeze the heap anyway, so only section 3's garbage-collector table shows its effect.",
        "",
        "What is left of our overhead is split in section 1 and the findings (`no_allocator_call`) between the "
        "strategy's own bookkeeping (per-bar records, sizing, order notifications) and, for the allocators "
        "without an array path (MVO, a user's own), the pandas objects of the allocator contract (a DataFrame "
        "window in, a Series out, every bar).",
    ]


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("experiment", "allocators", "strategies", "feeds"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.from_json:
        res = json.loads(Path(args.from_json).read_text())
        if res.get("scaling"):  # derived from the saved runs, so an older file gets today's estimator
            res["scaling"]["doubling"] = cases.doubling_ratios(res["scaling"]["cases"])
            res["scaling"]["fitted"] = cases.fitted_doubling(res["scaling"]["cases"])
    else:
        sizes = QUICK if args.quick else FULL
        res = run_all(sizes, args.quick, args.skip_e2e, args.data_dir, big=args.big)
    text = render(res, findings(res), changes(res))
    out = Path(args.out)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    if args.json and not args.from_json:
        jpath = Path(args.json)
        jtmp = jpath.with_suffix(".tmp")
        jtmp.write_text(json.dumps(res, indent=1, default=str))
        jtmp.replace(jpath)
    log.info("wrote %s (%.0f s)", out, res["seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
