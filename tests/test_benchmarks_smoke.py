"""Smoke test of the benchmark suite: every benchmark function on tiny sizes, output structure only.

No timing assertions (timings on a shared machine are noise at these sizes); the numbers that
matter come from ``python benchmarks/run_benchmarks.py`` (see BENCHMARKS.md).
"""

from __future__ import annotations

import math
import re
import sys

import pytest

from benchmarks import cases
from benchmarks.report import render
from benchmarks.run_benchmarks import QUICK, changes, findings, parse_args
from benchmarks.timing import interleave, machine_info, summarise


@pytest.fixture(scope="module")
def tiny():
    return cases.synthetic_frames(3, 40, seed=0)


@pytest.fixture(scope="module")
def results(tiny):
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    res = {"quick": True, "skip_e2e": True, "sizes": QUICK, "machine": machine_info(), "seconds": 1.0,
           "load_avg_end": None, "e2e": None}
    res["overhead"] = [cases.overhead(tiny, "tiny synthetic", repeats=1, profile=True)]
    res["pieces"] = cases.per_bar_pieces(3, number=5)
    res["reference"] = cases.reference(tiny, "tiny synthetic", repeats=1)
    # the 100,000-bar case is estimated far over the cap, so it is skipped, not run
    res["scaling"] = cases.scaling(assets=(2,), bars=(20, 40, 100_000), budget_s=120.0, case_cap_s=60.0,
                                   repeats_cheap=1, probe_bars=10)
    res["memory"] = cases.memory_attribution(3, 30, depth=4)
    res["gc_pause"] = cases.gc_pause_effect(3, 30, repeats=1)
    res["lstm_training"] = cases.lstm_training(cases.synthetic_frames(2, 160, seed=3), hidden_size=4, epochs=1,
                                               batch_size=32)
    res["lstm_inference"] = cases.lstm_inference(short_bars=80, long_bars=160, n_assets=2, calls=2, trade_bars=5,
                                                 hidden_size=4, fit_epochs=1, strategy_repeats=1)
    assert torch.get_num_threads() == threads  # the LSTM benchmarks restore the thread count
    res["engine"] = {"peer_warm_up_s": {},
                     "cases": [cases.array_engine(tiny, "tiny synthetic", repeats=1, backtrader=True),
                               cases.array_engine(cases.synthetic_frames(4, 30, seed=1), "no backtrader", repeats=1,
                                                  backtrader=False)]}
    return res


def test_array_engine_structure(results):
    with_bt, alone = results["engine"]["cases"]
    assert abs(with_bt["final_rel_diff_backtrader"]) < 1e-9  # the same run on both engines
    assert abs(with_bt["final_rel_diff_loop"]) < 1e-6  # the loop's fixed point stops at 1e-12 per bar
    assert _finite(with_bt["engine_vs_loop_cpu"]) and _finite(with_bt["backtrader_vs_engine_cpu"])
    assert "backtrader_engine" not in alone["stats"] and "backtrader_vs_engine_cpu" not in alone
    assert with_bt["fastbroker_same_result"] is True and _finite(with_bt["fastbroker_vs_backbroker_cpu"])


def test_the_peers_run_the_same_workload(results):
    """pmorissette/bt and vectorbt (installed by requirements-dev.txt) run beside the engines and
    end within their cost convention of the engine: the difference is of the order of the
    commission times the turnover, far from an error in the adapter (a wrong weight, a missing
    bar, no commission: tested by the second case)."""
    with_bt, alone = results["engine"]["cases"]
    # bt only runs beside the Backtrader engine
    assert set(with_bt["peers"]) == {"bt", "vectorbt"} and set(alone["peers"]) == {"vectorbt"}
    for name in ("bt", "vectorbt"):
        assert 0 < abs(with_bt[f"final_rel_diff_{name}"]) < 2e-4
        assert _finite(with_bt[f"backtrader_vs_{name}_cpu"]) and _finite(with_bt[f"engine_vs_{name}_cpu"])
    text = render({**results, "engine": results["engine"]}, [], [])
    assert "pmorissette/bt" in text and "vectorbt" in text


def test_the_peer_adapters_are_not_trivially_close():
    """The tolerance above can fail: the adapters without the commission, or trading one asset,
    end far from the engine."""
    from benchmarks import peers

    px = cases.closes(cases.synthetic_frames(3, 60, seed=2))
    with_costs = peers.vectorbt_equal_weight(px, cases.RATE, cases.CASH)
    assert abs(peers.vectorbt_equal_weight(px, 0.0, cases.CASH) / with_costs - 1) > 2e-4
    bt_free = peers.bt_equal_weight(px, 0.0, cases.CASH)
    assert abs(bt_free / peers.bt_equal_weight(px, cases.RATE, cases.CASH) - 1) > 2e-4
    one = peers.bt_equal_weight(px.iloc[:, :1], cases.RATE, cases.CASH)
    assert abs(one / with_costs - 1) > 2e-4


def _finite(x) -> bool:
    return isinstance(x, float) and math.isfinite(x)


def test_interleave_and_summarise():
    calls = []
    samples = interleave({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=2)
    assert calls == ["a", "b", "a", "b"]
    s = summarise(samples["a"])
    assert s["n"] == 2 and s["cpu_s"] >= 0 and s["wall_s"] >= 0


def test_overhead_structure(results):
    ov = results["overhead"][0]
    assert set(ov["stats"]) == {"baseline", "equal_weight", "fixed_weights", "no_allocator_call"}
    assert ov["values_agree"]  # the baseline replays the same orders: same final value
    assert ov["orders"] == ov["completed_orders"] > 0 and ov["failed_orders"] == 0
    assert ov["ratio_cpu"]["baseline"] == pytest.approx(1.0)
    assert all(_finite(v) for v in ov["ratio_cpu"].values())
    prof = ov["profile"]["equal_weight"]
    assert 0.0 <= prof["ours_share"] <= 1.0 and prof["ours_s"] > 0
    assert ov["profile"]["baseline"]["ours_share"] < prof["ours_share"]
    assert set(results["pieces"]["us_per_call"]) >= {"validate_weights (general path)", "weights_array (fast path)"}


def test_reference_agrees(results):
    ref = results["reference"]
    assert abs(ref["final_rel_diff"]) < 1e-6 and ref["max_bar_rel_diff"] < 1e-6
    assert _finite(ref["ratio_cpu"])


def test_scaling_structure(results):
    sc = results["scaling"]
    assert [(c["assets"], c["bars"]) for c in sc["cases"]] == [(2, 20), (2, 40)]
    for c in sc["cases"]:
        assert c["orders"] == c["completed"] > 0
        assert c["peak_rss_mib"] >= c["rss_with_data_mib"] > 0
    assert [(d["bars"], d["bars2"]) for d in sc["doubling"]] == [(20, 40)]
    assert len(sc["cases"][1]["per_bar_blocks_us"]) == cases.DRIFT_BLOCKS  # 40 bars: drift is read
    assert sc["doubling"][0]["late_vs_early"] == sc["cases"][1]["late_vs_early"] > 0
    assert [(s["assets"], s["bars"]) for s in sc["skipped"]] == [(2, 100_000)]
    assert sc["skipped"][0]["estimate_s"] > 60.0


def test_doubling_pairs_the_runs_of_one_round():
    # the smaller case ran 3 rounds (a slow first one), the larger only the first: paired, the
    # ratio uses round 0 of both (adjacent in time); the ratio of the medians mixes rounds
    runs = [{"assets": 50, "bars": 1500, "cpu_all_s": [9.3, 8.2, 8.4], "cpu_s": 8.4, "wall_s": 8.4},
            {"assets": 50, "bars": 3000, "cpu_all_s": [19.2], "cpu_s": 19.2, "wall_s": 19.2},
            {"assets": 5, "bars": 1500, "cpu_all_s": [1.0, 1.2], "cpu_s": 1.1, "wall_s": 1.1},
            {"assets": 5, "bars": 3000, "cpu_all_s": [2.0, 2.6], "cpu_s": 2.3, "wall_s": 2.3}]
    got = {(d["assets"], d["bars"]): d for d in cases.doubling_ratios(runs)}
    assert set(got) == {(5, 1500), (50, 1500)}
    assert got[(50, 1500)]["rounds"] == 1 and math.isclose(got[(50, 1500)]["ratio_cpu"], 19.2 / 9.3)
    assert math.isclose(got[(50, 1500)]["ratio_cpu_medians"], 19.2 / 8.4)
    assert got[(5, 1500)]["rounds"] == 2 and math.isclose(got[(5, 1500)]["ratio_cpu"], (2.0 / 1.0 + 2.6 / 1.2) / 2)


def test_fitted_doubling_reads_the_slope_over_all_sizes():
    def case(n, b, cpu):
        return {"assets": n, "bars": b, "cpu_s": cpu, "cpu_all_s": [cpu], "wall_s": cpu}
    # 5 assets: exactly linear but the middle size ran 15% slow; 50 assets: cost ~ bars^1.3;
    # 200 assets: two sizes only (no fit); along the assets at 1500 bars: 5, 50, 200
    runs = [case(5, 1500, 1.0), case(5, 3000, 2.3), case(5, 6000, 4.0),
            case(50, 1500, 10.0), case(50, 3000, 10.0 * 2 ** 1.3), case(50, 6000, 10.0 * 4 ** 1.3),
            case(200, 1500, 40.0), case(200, 3000, 80.0)]
    got = {(g["along"], g["fixed"]): g for g in cases.fitted_doubling(runs)}
    assert set(got) == {("bars", 5), ("bars", 50), ("assets", 1500), ("assets", 3000)}
    pairs = {(d["assets"], d["bars"]): d["ratio_cpu"] for d in cases.doubling_ratios(runs)}
    assert pairs[(5, 1500)] > 2.2 > 2.0 > pairs[(5, 3000)]  # the slow middle case: one pair over, one under
    assert math.isclose(got[("bars", 5)]["doubling"], 2.0) and math.isclose(got[("bars", 5)]["exponent"], 1.0)
    # equally spaced in log size: the slope is the ends' (exactly 1); the middle sits (2/3) log 1.15 above the line
    assert math.isclose(got[("bars", 5)]["worst_residual"], 1.15 ** (2 / 3) - 1)
    assert math.isclose(got[("bars", 50)]["doubling"], 2 ** 1.3) and got[("bars", 50)]["worst_residual"] < 1e-9
    assert got[("assets", 1500)]["sizes"] == [5, 50, 200]
    assert math.isclose(got[("assets", 1500)]["exponent"], 1.0, abs_tol=1e-9)  # 1, 10, 40 s for 5, 50, 200


def test_per_bar_drift_reads_a_cost_that_grows_with_the_history():
    flat = [0.001 * i for i in range(1001)]  # 1 ms every bar
    growing = [0.001 * i + 1e-6 * i * i / 2 for i in range(1001)]  # bar i costs 1 ms + i us
    assert math.isclose(cases.per_bar_drift(flat)["late_vs_early"], 1.0)
    got = cases.per_bar_drift(growing)
    assert got["blocks_us"] == sorted(got["blocks_us"]) and 1.4 < got["late_vs_early"] < 1.6  # 1.75 ms / 1.25 ms
    assert cases.per_bar_drift(flat[:15]) == {"blocks_us": [], "late_vs_early": None}  # too short to cut


def test_gc_pause_runs_both_ways_in_fresh_processes(results):
    g = results["gc_pause"]
    on, off = g["runs"]["paused"][0], g["runs"]["not_paused"][0]
    assert on["paused"] and not off["paused"] and g["same_final_value"]
    assert on["orders"] == off["orders"] == g["orders"] > 0
    assert g["tracked_at_start"] > 10_000  # the runner's imports are loaded
    assert g["ratio_cpu_paired"] == on["cpu_s"] / off["cpu_s"]


def test_memory_attribution_structure(results):
    mem = results["memory"]
    assert mem["orders"] > 0 and mem["kib_per_order"] > 0
    assert sum(mem["share"].values()) == pytest.approx(1.0) and mem["share"]["backtrader"] > 0


def test_lstm_structure(results):
    lt = results["lstm_training"]
    assert set(lt["runs"]) == {"full_batch", "batch_32"} and lt["samples"] > 0
    assert all(_finite(r["seconds_per_epoch_median"]) for r in lt["runs"].values())
    assert _finite(lt["ratio_fit_vs_minimal"]) and lt["ratio_fit_vs_minimal"] > 0
    li = results["lstm_inference"]
    assert _finite(li["allocate"]["ratio"]) and _finite(li["strategy"]["ratio"])
    inf = li["inference"]
    for key in ("forward_us", "forward_cold_us", "forward_in_situ_us", "decide_us", "network_step_us"):
        assert _finite(inf[key]) and inf[key] > 0
    assert len(inf["runs_network_step_us"]) == 1 and _finite(inf["network_step_vs_forward"])
    assert inf["features_us"] == inf["decide_us"] - inf["network_step_us"]
    # the in-situ forward is part of the allocation step it was timed inside
    assert all(f < d for f, d in zip(inf["runs_forward_in_situ_us"], inf["runs_decide_us"], strict=True))


def test_sweep_not_available_is_reported(monkeypatch):
    monkeypatch.setitem(sys.modules, "bt_lstm_mvo.experiment.sweep", None)  # import fails
    out = cases.sweep_speedup()
    assert out["ok"] is False and out["error"].startswith("not measured: sweep not available")


def test_report_renders(results):
    big = {"assets": 200, "bars": 6000, "orders": 1_194_000, "cpu_s": 300.0, "wall_s": 310.0, "peak_rss_mib": 900.0}
    res = dict(results, sweep={"ok": False, "error": "not measured: sweep not available (test)"}, big=big)
    text = render(res, findings(res), changes(res))
    for heading in ("# Benchmarks", "## Machine", "## Summary: ratios vs goals", "## 1. Simulation overhead",
                    "## 2. Event-driven", "## 3. Scaling", "### Garbage collector", "## 4. LSTM", "## 5. End-to-end",
                    "## 6. The array engine"):
        assert heading in text
    assert "200 x 6000 on the Backtrader engine: CPU / the issue's 520 s | 0.58" in text
    assert "python benchmarks/run_benchmarks.py" in text and "--quick" in text
    assert "not measured: sweep not available" in text
    assert "LSTM allocation step with the network alone" in text  # the step's floor on this kernel, reported
    assert not re.search(r"\bnan\b", text, flags=re.IGNORECASE)


@pytest.mark.realdata
def test_the_shipped_sweep_case_runs_the_config_as_shipped(results, data_dir, tmp_path):
    """shipped_sweep_speedup reads a sweep config as a user writes it (here the shipped lambda sweep
    cut to 1 epoch, 2 grid points and 1 seed) and times 1 vs 2 workers on it; the report shows it."""
    import yaml

    raw = yaml.safe_load((cases.REPO_ROOT / "configs" / "sweep-lambda.yaml").read_text())
    raw["strategies"]["lstm"]["params"].update(epochs=1, hidden_size=4)
    raw["sweep"].update(grid={"params.lambda_penalty": [0, 10]}, seeds=[0], n_boot=100)
    path = tmp_path / "sweep-small.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = cases.shipped_sweep_speedup(data_dir, config=str(path))
    assert out["ok"] and out["tasks"] == 3 and out["failures"] == 0 and out["identical_metrics"]
    assert set(out["seconds"]) == {"one", "many_cold"} and _finite(out["speedup_cold"])
    res = dict(results, sweep_shipped=out)
    text = render(res, findings(res), [])
    assert "Sweep speed-up on the shipped" in text and "3 tasks" in text


def test_before_after_compares_the_two_paths_in_fresh_processes(results):
    """The path before issue 13 (PandasData, full mode) and the runner's (ArrayData, lean) end at
    the same value bit for bit; the report shows the side-by-side CPU ratio."""
    ba = cases.before_after(3, 60)
    assert ba["same_final_value"] and ba["orders"] > 0
    assert _finite(ba["ratio_cpu"]) and ba["before"]["cpu_s"] > 0 and ba["now"]["cpu_s"] > 0
    res = dict(results, before_after=ba)
    text = render(res, findings(res), [])
    assert "before issue 13 (PandasData, full mode), 3 x 60 side by side" in text
    assert "Before / after issue 13, side by side" in text


def test_from_json_rewrites_the_report_without_measuring(results, tmp_path):
    """--from-json renders the report of a saved results file; the numbers are the file's."""
    import json

    from benchmarks.run_benchmarks import main

    saved = tmp_path / "results.json"
    saved.write_text(json.dumps(results, default=str))
    out = tmp_path / "B.md"
    assert main(["--from-json", str(saved), "--out", str(out), "--json", str(tmp_path / "unused.json")]) == 0
    assert out.read_text() == render(results, findings(results), changes(results))
    assert not (tmp_path / "unused.json").exists()


def test_cli_flags():
    args = parse_args(["--quick", "--skip-e2e", "--out", "x.md", "--big"])
    assert args.quick and args.skip_e2e and args.out == "x.md" and args.big


@pytest.mark.realdata
def test_paper_config_variants_validate(data_dir):
    """The benchmark's modified configs/paper-split.yaml (one strategy, a sweep) is a valid config."""
    from benchmarks import cases

    cfg = cases._paper_config({"lstm": {"kind": "lstm", "seeds": [0]}}, data_dir,
                              sweep={"strategy": "lstm", "grid": {"params.lambda_penalty": [0, 50]}}, benchmarks=False)
    assert cfg.analysis.alpha_pair is None and list(cfg.strategies) == ["lstm"]


def test_fastest_repeat_ratio_is_the_fastest_step_over_the_fastest_forward():
    from benchmarks.report import fastest_repeat_ratio

    inf = {"runs_forward_us": [242, 250, 141, 255, 150], "runs_decide_us": [457, 468, 338, 337, 342]}
    assert fastest_repeat_ratio(inf) == (337 / 141, 337.0, 141.0)
    assert fastest_repeat_ratio({"runs_forward_us": [], "runs_decide_us": [1]}) is None
    assert fastest_repeat_ratio({}) is None
