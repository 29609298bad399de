"""The runner's work: load the config, run the experiment, print and write the results."""

from __future__ import annotations

import sys
import time

from experiment.config import load_config
from experiment.experiment import run_experiment, summary_metrics


def _fmt(x, pct=True):
    if x is None:
        return "n/a"
    return f"{100 * x:.2f}%" if pct else f"{x:.2f}"


def summary_table(result) -> str:
    cfg = result.config
    ppy = result.periods_per_year
    rows = ["| Strategy | Total return | CAGR | Max drawdown | Sharpe | Sortino | Volatility |",
            "|---|---|---|---|---|---|---|"]
    lines = [(name, runs[0].returns) for name, runs in result.runs.items()]
    lines += [(b.name, b.returns) for b in result.benchmarks.values()]
    for name, rets in lines:
        m = summary_metrics(rets, ppy, cfg.analysis.sortino_variant)
        rows.append(f"| {name} | {_fmt(m['total_return'])} | {_fmt(m['cagr'])} | {_fmt(m['max_drawdown'])} | "
                    f"{_fmt(m['sharpe'], False)} | {_fmt(m['sortino'], False)} | {_fmt(m['volatility'])} |")
    return "\n".join(rows)


def run_cli(args) -> int:
    cfg = load_config(args.config)
    t0 = time.perf_counter()

    def stage(msg):
        if not args.quiet:
            print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    result = run_experiment(cfg, data_dir=args.data_dir, progress=not args.quiet, stage=stage)
    print(f"Data: {result.market.label}")
    print(f"Test period: {result.trade_start.date()}..{result.market.index[-1].date()}")
    print(summary_table(result))
    return 0
