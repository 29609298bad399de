"""A plain Backtrader SMA-crossover script using the plugin's commission and analyzers.

Nothing here depends on the LSTM/MVO experiment: one Yahoo-format CSV, one ordinary strategy,
``ProportionalCommission`` added with ``cerebro.broker.addcommissioninfo(...)`` and the
analyzers added with ``cerebro.addanalyzer(...)``.

Usage::

    python examples/sma_crossover.py                      # SPY from the shared data folder
    python examples/sma_crossover.py path/to/QQQ.csv --start 2019-01-01 --end 2024-12-31

Prices: ``Adj Close`` (splits and dividends), with Open/High/Low scaled by
``Adj Close / Close`` so the bars stay consistent.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import backtrader as bt
import pandas as pd

from bt_lstm_mvo.analyzers import PaperMetrics, RollingAlpha, SortinoRatio, StressWindow
from bt_lstm_mvo.paths import shared_data_dir
from bt_lstm_mvo.strategies.commission import ProportionalCommission


def load_yahoo_csv(path: Path, start: str, end: str) -> pd.DataFrame:
    """OHLCV bars from a Yahoo CSV (``Date,Open,High,Low,Close,Adj Close,Volume``), adjusted."""
    raw = pd.read_csv(path, parse_dates=["Date"], index_col="Date")
    missing = {"Open", "High", "Low", "Close", "Adj Close", "Volume"} - set(raw.columns)
    if missing:
        raise SystemExit(f"{path}: missing columns {sorted(missing)}")
    raw = raw.loc[pd.Timestamp(start) : pd.Timestamp(end)]
    if len(raw) < 2:
        raise SystemExit(f"{path}: fewer than 2 rows between {start} and {end}")
    factor = raw["Adj Close"] / raw["Close"]
    return pd.DataFrame(
        {
            "open": raw["Open"] * factor,
            "high": raw["High"] * factor,
            "low": raw["Low"] * factor,
            "close": raw["Adj Close"],
            "volume": raw["Volume"].astype(float),
        },
        index=raw.index,
    )


class SmaCross(bt.Strategy):
    """Long when the fast SMA crosses above the slow one, flat when it crosses below."""

    params = (("fast", 10), ("slow", 30), ("target_percent", 0.95))

    def __init__(self):
        fast = bt.ind.SMA(period=self.p.fast)
        slow = bt.ind.SMA(period=self.p.slow)
        self.crossover = bt.ind.CrossOver(fast, slow)
        self.commission_paid = 0.0
        self.traded_value = 0.0
        self.n_fills = 0

    def notify_order(self, order):
        if order.status == order.Completed:
            self.commission_paid += order.executed.comm
            self.traded_value += abs(order.executed.size) * order.executed.price
            self.n_fills += 1

    def next(self):
        if not self.position and self.crossover > 0:
            self.order_target_percent(target=self.p.target_percent)
        elif self.position and self.crossover < 0:
            self.close()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "csv", nargs="?", help="Yahoo-format CSV (default: SPY.csv in the shared data folder)"
    )
    parser.add_argument("--start", default="2019-01-01")
    parser.add_argument("--end", default="2024-12-31")
    parser.add_argument("--fast", type=int, default=10)
    parser.add_argument("--slow", type=int, default=30)
    parser.add_argument("--cash", type=float, default=100_000.0)
    parser.add_argument("--commission", type=float, default=0.001, help="0.001 = 0.1%% of traded value")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    path = Path(args.csv) if args.csv else shared_data_dir() / "SPY.csv"
    if not path.is_file():
        raise SystemExit(f"{path}: file not found (pass a CSV path or set LMBT_DATA_DIR)")

    cerebro = bt.Cerebro(stdstats=False)
    data = bt.feeds.PandasData(dataname=load_yahoo_csv(path, args.start, args.end), name=path.stem)
    cerebro.adddata(data)
    cerebro.addstrategy(SmaCross, fast=args.fast, slow=args.slow)
    cerebro.broker.set_cash(args.cash)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=args.commission))

    cerebro.addanalyzer(bt.analyzers.TimeReturn, timeframe=bt.TimeFrame.Days, _name="daily_returns")
    cerebro.addanalyzer(PaperMetrics, _name="metrics")
    cerebro.addanalyzer(SortinoRatio, _name="sortino")
    cerebro.addanalyzer(SortinoRatio, variant="paper", _name="sortino_paper")
    cerebro.addanalyzer(
        StressWindow,
        windows={"2022": ("2022-01-01", "2022-12-31"), "covid_crash": ("2020-02-19", "2020-03-23")},
        _name="stress",
    )
    cerebro.addanalyzer(RollingAlpha, data=data, n_windows=3, capm=True, _name="alpha_vs_buy_hold")

    strat = cerebro.run()[0]
    results = {
        "csv": str(path),
        "start_cash": args.cash,
        "final_value": cerebro.broker.getvalue(),
        "commission_paid": strat.commission_paid,
        "traded_value": strat.traded_value,
        "fills": strat.n_fills,
        "analyzers": {
            name: strat.analyzers.getbyname(name).get_analysis()
            for name in ("metrics", "sortino", "sortino_paper", "stress", "alpha_vs_buy_hold")
        },
        "n_daily_returns": len(strat.analyzers.daily_returns.get_analysis()),
    }
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
