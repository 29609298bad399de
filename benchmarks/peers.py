"""The peers of BENCHMARKS.md: pmorissette/bt and vectorbt on the benchmark's workload.

The workload is the one of section 6: a daily rebalance to equal weights at the close, with a
0.1% commission on every fill, CASH to start, no trade on the last bar (as the array engine
and the plain numpy loop, whose last bar is a valuation only). Both libraries come with the
``bench`` extra (``pip install -e .[bench]``; pinned in requirements-dev.txt), never with the
run-time dependencies.

Cost conventions differ, so final values agree closely but not exactly:

* the array engine, the numpy loop and Backtrader trade to ``w * V_post``, the value left
  after the rebalance's own costs (self-financing, never short of cash);
* bt's ``Rebalance`` and vectorbt's ``targetpercent`` trade to ``w * V_pre`` and take the
  commission from cash afterwards (cash ends slightly negative after each rebalance).

The difference is of the order of the commission times the turnover per bar, compounded;
``benchmarks.cases.array_engine`` reports it next to the timings.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pandas as pd

PEERS = ("bt", "vectorbt")


def versions() -> dict[str, str | None]:
    """Installed version of each peer (None: not installed)."""
    out = {}
    for name in PEERS:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def bt_equal_weight(px: pd.DataFrame, rate: float, cash: float) -> float:
    """pmorissette/bt: ``RunDaily, SelectAll, WeighEqually, Rebalance`` with a proportional
    commission, fractional positions; the last bar only values the portfolio. Final value."""
    import bt

    last = px.index[-1]

    class NotLast(bt.Algo):
        def __call__(self, target):
            return target.now != last

    strategy = bt.Strategy("equal_weight", [bt.algos.RunDaily(), NotLast(), bt.algos.SelectAll(),
                                            bt.algos.WeighEqually(), bt.algos.Rebalance()])
    test = bt.Backtest(strategy, px, initial_capital=cash, integer_positions=False, progress_bar=False,
                       commissions=lambda quantity, price: abs(quantity) * price * rate)
    test.run()
    return float(test.strategy.values.iloc[-1])


def vectorbt_equal_weight(px: pd.DataFrame, rate: float, cash: float) -> float:
    """vectorbt: ``Portfolio.from_orders`` with ``size_type="targetpercent"`` on every bar but the
    last, one group sharing cash, sells before buys (``call_seq="auto"``). Final value."""
    import vectorbt as vbt

    size = np.full(px.shape, 1.0 / px.shape[1])
    size[-1] = np.nan  # no order on the last bar
    pf = vbt.Portfolio.from_orders(px, size=size, size_type="targetpercent", fees=rate, init_cash=cash,
                                   cash_sharing=True, group_by=True, call_seq="auto", freq="1D")
    return float(pf.final_value())


def warm_up(rate: float, cash: float) -> dict[str, float]:
    """Run each installed peer once on a tiny market (vectorbt compiles its numba kernels on
    first use); returns the seconds each took, reported apart from the timings."""
    import time

    px = pd.DataFrame(np.linspace(10.0, 11.0, 20)[:, None] * np.array([[1.0, 2.0]]),
                      index=pd.bdate_range("2020-01-01", periods=20), columns=["A", "B"])
    out = {}
    for name, fn in (("bt", bt_equal_weight), ("vectorbt", vectorbt_equal_weight)):
        if versions()[name] is None:
            continue
        t0 = time.perf_counter()
        fn(px, rate, cash)
        out[name] = time.perf_counter() - t0
    return out
