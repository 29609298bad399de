"""Broker realism, checked: Backtrader against the independent reference simulator for every cost
model alone and all combined, at the close and the next open, and the Margin/Rejected/Canceled
orders of every shipped config.

Usage::

    python scripts/broker_check.py --data-dir ../shared/data --json reproduction/broker-check.json

The model grid is the one ``tests/test_broker_realism.py`` asserts (equal weight on the paper's
five assets, 2019-2024, rebalanced daily; the volume-cap case buys once and carries what a tiny cap
leaves). Rejections: every shipped config whose results ``reproduction/`` stores is counted from
those results; ``config.yaml`` and ``configs/paper.yaml`` are run here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: stored pieces of reproduction/ and the shipped config each ran
STORED = {"paper-replication": "configs/paper-replication.yaml", "paper-real": "configs/paper-split.yaml",
          "walk-forward": "configs/walk-forward.yaml", "sweep-lambda": "configs/sweep-lambda.yaml",
          "robustness": "configs/robustness.yaml", "costs": "configs/costs.yaml"}
RUN_HERE = ["config.yaml", "configs/paper.yaml"]


def model_grid(data_dir: Path) -> list[dict]:
    from tests.reference_costs import simulate_costs
    from tests.test_broker_realism import _GRID, PAPER, WEIGHTS, _market, _run, _setup

    rows = []
    for calendar, case, execution in _GRID:
        market = _market(data_dir, calendar)
        models, rate, once, buffer = _setup(case)
        t0 = time.perf_counter()
        value, strat = _run(market, models, execution, rate, once, buffer)
        seconds = time.perf_counter() - t0
        ref, paid, _ = simulate_costs(market.frames, WEIGHTS, models, execution=execution, rate=rate, once=once,
                                      cash_buffer=buffer, min_trade_value=0.01)
        bad = sum(v for k, v in strat.order_stats.items() if k != "Completed")
        rows.append({"calendar": calendar, "case": case, "execution": execution, "backtrader": value,
                     "reference": float(ref.iloc[-1]), "rel_diff": value / float(ref.iloc[-1]) - 1,
                     "costs": sum(f["commission"] for f in strat.fills), "reference_costs": paid,
                     "fills": strat.order_stats["Completed"], "margin_rejected_canceled": bad,
                     "capped_orders": len(strat.unfilled), "seconds": seconds,
                     "models": {a: models[a] for a in PAPER}})
        print(f"{calendar:12s} {case:18s} {execution:9s} rel {rows[-1]['rel_diff']:+.1e}", file=sys.stderr,
              flush=True)
    return rows


def _count(res: dict) -> dict:
    """(runs, fills, Margin/Rejected/Canceled) of a stored results.json of any mode."""
    if res.get("mode") == "study":
        recs = [r for r in res["records"] if r["status"] == "ok"]
        levels = [lv for r in recs for lv in [*r["levels"].values(), *r.get("presets", {}).values()]]
        return {"runs": len(levels), "fills": None, "margin_rejected_canceled": sum(lv["order_failures"]
                                                                                 for lv in levels)}
    runs = [run for s in res.get("strategies", {}).values() for run in s.get("runs", [])]
    runs += [b for b in (res.get("benchmarks") or {}).values() if isinstance(b, dict) and "order_stats" in b]
    fills = sum(run["order_stats"].get("Completed", 0) for run in runs)
    bad = sum(v for run in runs for k, v in run["order_stats"].items() if k != "Completed")
    return {"runs": len(runs), "fills": fills, "margin_rejected_canceled": bad}


def rejections(data_dir: Path, store: Path) -> list[dict]:
    import runner

    rows = []
    for piece, config in STORED.items():
        path = store / f"{piece}.json"
        if path.is_file():
            res = json.loads(path.read_text())
            if "strategies" in res or res.get("mode") == "study":
                rows.append({"config": config, "source": f"reproduction/{piece}.json", **_count(res)})
    for config in RUN_HERE:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            extra = [] if config == "config.yaml" else ["--data-dir", str(data_dir)]
            if runner.main([str(ROOT / config), *extra, "--out", str(out), "--quiet"]) != 0:
                raise SystemExit(f"{config} failed")
            rows.append({"config": config, "source": "run by this script",
                         **_count(json.loads((out / "results.json").read_text()))})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=None, help="folder of Yahoo CSVs (default ../shared/data)")
    ap.add_argument("--json", type=Path, default=ROOT / "reproduction" / "broker-check.json")
    args = ap.parse_args(argv)
    from bt_lstm_mvo.paths import shared_data_dir

    os.chdir(ROOT)
    data_dir = args.data_dir or Path(os.path.relpath(shared_data_dir(), ROOT))
    t0 = time.perf_counter()
    load = os.getloadavg()
    out = {"models": model_grid(data_dir), "rejections": rejections(data_dir, args.json.parent),
           "seconds": time.perf_counter() - t0, "load_average": {"start": load, "end": os.getloadavg()},
           "command": "python scripts/broker_check.py --data-dir ../shared/data"}
    args.json.write_text(json.dumps(out, indent=1, allow_nan=False))
    print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
