"""Lambda sensitivity of the LSTM allocator (the paper's section 4.7 claim), out of sample.

Claim tested: a higher downside penalty lambda gives lower turnover and drawdown and a lower
return. Method (correct mode, no look-ahead):

* data: ``Adj Close`` of BTC-USD, ETH-USD, SPY, GLD, NVDA from ``lmbt.paths.shared_data_dir()``
  (or ``--data-dir``), joined on the dates all five trade (the paper's calendar);
* for each lambda and seed: ``LSTMAllocator(loss="paper", lambda_penalty=lambda, seed=seed)``
  fitted once on the training period (default 2019-01-01 .. 2022-12-31, raw-return targets);
* evaluation: on every day ``t`` from the last training day to the day before the last test day,
  ``allocate(closes up to t)`` gives ``w_t``, applied to the returns of ``t + 1``; before
  trading, the previous weights drift with the day's returns, and the cost is
  ``fee_rate * sum |w_t - w_{t-1}^drifted|`` (0.1%; the first day buys from cash);
  net return ``(1 - cost_t) * (1 + w_t . r_{t+1}) - 1``;
* metrics per run: total return ``prod(1 + r) - 1``; annualised downside deviation
  ``sqrt(mean(min(r, 0)^2) * 252)``; max drawdown of compounded wealth (starting at 1);
  average daily turnover ``mean_t sum |w_t - w_{t-1}^drifted|`` excluding the initial purchase.
  The table shows mean ± std (sample std, ddof=1) over seeds; an equal-weight portfolio
  rebalanced daily under the same cost model is shown for reference.

Usage::

    python scripts/lambda_study.py [--lambdas 0 50] [--seeds 3] [--epochs 50] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
TICKERS = ("BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA")
PERIODS_PER_YEAR = 252

log = logging.getLogger("lambda_study")


def simulate(
    weights: pd.DataFrame, asset_returns: pd.DataFrame, fee_rate: float
) -> tuple[pd.Series, pd.Series]:
    """Net daily returns and turnover of target ``weights`` (row t) held over ``asset_returns`` (row t).

    ``weights`` row ``t`` is decided at the close before the day of ``asset_returns`` row ``t``.
    """
    w = weights.to_numpy(dtype=float)
    r = asset_returns.to_numpy(dtype=float)
    held = np.zeros(w.shape[1])
    net, turnover = [], []
    for t in range(len(w)):
        traded = float(np.abs(w[t] - held).sum())
        gross = float(w[t] @ r[t])
        net.append((1.0 - fee_rate * traded) * (1.0 + gross) - 1.0)
        turnover.append(traded)
        grown = w[t] * (1.0 + r[t])  # holdings drift over the day (cash part stays 1 - sum w)
        held = grown / (1.0 + gross)
    return pd.Series(net, index=asset_returns.index), pd.Series(turnover, index=asset_returns.index)


def metrics(net: pd.Series, turnover: pd.Series) -> dict:
    r = net.to_numpy()
    wealth = np.cumprod(1.0 + r)
    peak = np.maximum.accumulate(np.concatenate([[1.0], wealth]))[1:]
    return {
        "total_return": float(wealth[-1] - 1.0),
        "downside_deviation": float(math.sqrt(np.mean(np.minimum(r, 0.0) ** 2) * PERIODS_PER_YEAR)),
        "max_drawdown": float(np.min(wealth / peak - 1.0)),
        "avg_daily_turnover": float(turnover.iloc[1:].mean()),
    }


def evaluate(alloc, closes: pd.DataFrame, first_decision: pd.Timestamp, fee_rate: float) -> dict:
    """Allocate day by day from ``first_decision`` and simulate; returns metrics and weights."""
    positions = np.nonzero(closes.index >= first_decision)[0][:-1]
    rows = []
    for pos in positions:
        window = closes.iloc[max(0, pos + 1 - alloc.lookback) : pos + 1]
        rows.append(alloc.allocate(window).to_numpy())
    weights = pd.DataFrame(rows, index=closes.index[positions + 1], columns=closes.columns)
    asset_returns = closes.pct_change().iloc[positions + 1]
    net, turnover = simulate(weights, asset_returns, fee_rate)
    out = metrics(net, turnover)
    out["mean_max_weight"] = float(weights.max(axis=1).mean())
    out["mean_weights"] = weights.mean().to_dict()
    return out


def _mean_std(values: list[float], pct: bool) -> str:
    scale = 100.0 if pct else 1.0
    mean = float(np.mean(values)) * scale
    std = float(np.std(values, ddof=1)) * scale if len(values) > 1 else 0.0
    unit = "%" if pct else ""
    return f"{mean:.2f}{unit} ± {std:.2f}{unit}"


METRIC_KEYS = ("total_return", "downside_deviation", "max_drawdown", "avg_daily_turnover", "mean_max_weight")


def markdown_table(results: dict, reference: dict | None) -> str:
    lines = [
        "| lambda | seeds | total return | downside dev. (ann.) | max drawdown | avg daily turnover "
        "| mean max weight |",
        "|---|---|---|---|---|---|---|",
    ]
    for lam, runs in results.items():
        cells = [_mean_std([m[k] for m in runs], pct=True) for k in METRIC_KEYS]
        lines.append(f"| {lam:g} | {len(runs)} | " + " | ".join(cells) + " |")
    if reference is not None:
        cells = [f"{reference[k] * 100:.2f}%" for k in METRIC_KEYS]
        lines.append("| equal weight (ref.) | - | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def weights_table(results: dict) -> str:
    """Mean weight per asset over the test days, averaged over seeds."""
    assets = list(next(iter(results.values()))[0]["mean_weights"])
    lines = ["| lambda | " + " | ".join(assets) + " |", "|---|" + "---|" * len(assets)]
    for lam, runs in results.items():
        cells = [f"{np.mean([m['mean_weights'][a] for m in runs]) * 100:.1f}%" for a in assets]
        lines.append(f"| {lam:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder of Yahoo CSVs (default: shared data)")
    parser.add_argument("--lambdas", type=float, nargs="+", default=[0.0, 50.0])
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0 .. n-1)")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=64, help="0 = full batch")
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--train-start", default="2019-01-01")
    parser.add_argument("--train-end", default="2022-12-31", help="inclusive")
    parser.add_argument("--test-end", default="2024-12-31", help="inclusive")
    parser.add_argument("--fee-rate", type=float, default=0.001)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import torch

    from bt_lstm_mvo.allocators.lstm import LSTMAllocator
    from bt_lstm_mvo.allocators.lstm.notebook import load_adj_closes

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    closes = load_adj_closes(TICKERS, args.data_dir, start=args.train_start)
    closes = closes.loc[: pd.Timestamp(args.test_end)]
    train = closes.loc[: pd.Timestamp(args.train_end)]
    first_decision = train.index[-1]
    log.info(
        "train %s .. %s (%d rows), test returns %s .. %s (%d days)",
        train.index[0].date(), train.index[-1].date(), len(train),
        closes.index[len(train)].date(), closes.index[-1].date(), len(closes) - len(train),
    )
    results: dict[float, list[dict]] = {}
    for lam in args.lambdas:
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            alloc = LSTMAllocator(
                loss="paper", lambda_penalty=lam, seed=seed, epochs=args.epochs,
                batch_size=args.batch_size or None, learning_rate=args.learning_rate,
                progress=False, device="cpu",
            ).fit(train)
            fit_s = time.perf_counter() - t0
            m = evaluate(alloc, closes, first_decision, args.fee_rate)
            results.setdefault(lam, []).append(m)
            log.info(
                "lambda %g seed %d: fit %.1fs (%.3f s/epoch), total %.1f%%, maxDD %.1f%%, turnover %.2f%%",
                lam, seed, fit_s, alloc.train_seconds_per_epoch_, 100 * m["total_return"],
                100 * m["max_drawdown"], 100 * m["avg_daily_turnover"],
            )
    test = closes.iloc[len(train) - 1 :]
    n = len(closes.columns)
    ew_weights = pd.DataFrame(1.0 / n, index=test.index[1:], columns=closes.columns)
    net, turnover = simulate(ew_weights, test.pct_change().iloc[1:], args.fee_rate)
    reference = metrics(net, turnover)
    reference["mean_max_weight"] = 1.0 / n
    print(
        f"Out of sample {test.index[1].date()} .. {test.index[-1].date()} ({len(test) - 1} days), "
        f"trained {train.index[0].date()} .. {train.index[-1].date()}; epochs {args.epochs}, "
        f"batch {args.batch_size or 'full'}, lr {args.learning_rate}, fee {args.fee_rate:.2%} on |dw| "
        f"(drift-adjusted); mean ± std over {args.seeds} seeds\n"
    )
    print(markdown_table(results, reference))
    print("\nMean weight over the test days (mean over seeds):\n")
    print(weights_table(results))
    print(f"\nwall time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
