"""PortfolioWeights agrees with the strategy's own records, and works with any strategy."""

from __future__ import annotations

import json

import backtrader as bt
import pytest

from bt_lstm_mvo.analyzers.portfolio import PortfolioWeights
from bt_lstm_mvo.feeds.bt_feeds import add_frames
from bt_lstm_mvo.strategies.commission import ProportionalCommission
from bt_lstm_mvo.strategies.naive import EqualWeightStrategy
from tests.test_strategy_base import synthetic_frames


def _cerebro(frames):
    c = bt.Cerebro()
    add_frames(c, frames)
    c.broker.setcash(100_000.0)
    c.broker.addcommissioninfo(ProportionalCommission())
    c.addanalyzer(PortfolioWeights, _name="pw")
    return c


def test_matches_allocation_strategy_records():
    frames = synthetic_frames(n=60)
    c = _cerebro(frames)
    c.addstrategy(EqualWeightStrategy, schedule="weekly")
    s = c.run()[0]
    a = s.analyzers.pw.get_analysis()
    json.dumps(a)
    assert a["commission"] == pytest.approx(s.total_commission, rel=1e-12)
    held = list(a["held"].values())
    assert held == [b["held"] for b in s.bars]
    assert a["final_target"] == s.rebalances[-1]["target"]
    assert len(a["target"]) == len(s.rebalances)
    expected_turnover = sum(r["traded_value"] / r["value"] for r in s.rebalances)
    assert a["turnover"]["total"] == pytest.approx(expected_turnover, rel=1e-9)
    assert a["orders"] == dict(s.order_stats)
    assert 240 < a["turnover"]["annualised"] / a["turnover"]["mean_daily"] < 265


def test_works_with_a_plain_strategy():
    frames = synthetic_frames(n=30, assets=("A",))

    class Once(bt.Strategy):
        def next(self):
            if len(self) == 1:
                self.buy(size=100.0)

    c = _cerebro(frames)
    c.addstrategy(Once)
    s = c.run()[0]
    a = s.analyzers.pw.get_analysis()
    assert a["target"] is None and a["final_target"] is None
    assert 0 < a["final_held"]["A"] < 1
    assert a["orders"] == {"Completed": 1}
    assert a["commission"] == pytest.approx(0.001 * a["traded_value"])


def test_since_drops_warm_up_returns():
    import pandas as pd

    from bt_lstm_mvo.analyzers import PaperMetrics
    from bt_lstm_mvo.analyzers.metrics import total_return

    frames = synthetic_frames(n=60)
    start = frames["A"].index[20]
    c = _cerebro(frames)
    c.addstrategy(EqualWeightStrategy, trade_start=start)
    c.addanalyzer(PaperMetrics, since=start, _name="pm")
    c.addanalyzer(bt.analyzers.TimeReturn, _name="tr")
    s = c.run()[0]
    pm = s.analyzers.pm.get_analysis()
    values = pd.Series([b["value"] for b in s.bars], index=[pd.Timestamp(b["date"]) for b in s.bars])
    test = values[values.index >= start].pct_change().iloc[1:]
    assert pm["n_periods"] == len(test) == 39
    assert pm["start"] == test.index[0].date().isoformat()
    assert pm["total_return"] == pytest.approx(total_return(test), rel=1e-12)


@pytest.mark.parametrize("execution", ["close", "next_open"])
def test_holdings_positions_and_transactions(execution):
    """Positions after each bar's fills and transactions, checked against the broker and the
    strategy's own records (independent bookkeeping)."""
    import pandas as pd

    from bt_lstm_mvo.analyzers import Holdings

    frames = synthetic_frames(n=60)
    c = bt.Cerebro(stdstats=False, cheat_on_open=execution == "next_open")
    add_frames(c, frames)
    c.broker.setcash(100_000.0)
    c.broker.addcommissioninfo(ProportionalCommission())
    c.addstrategy(EqualWeightStrategy, schedule="weekly", execution=execution)
    c.addanalyzer(Holdings, _name="h")
    s = c.run()[0]
    h = s.analyzers.h
    pos, tx = h.positions(), h.transactions()
    json.dumps(h.get_analysis())
    assert list(pos.columns) == ["A", "B", "C", "cash"] and isinstance(pos.index, pd.DatetimeIndex)
    assert {"amount", "price", "symbol"} <= set(tx.columns)
    assert len(tx) == s.order_stats["Completed"] == len(s.fills)
    assert tx["commission"].sum() == pytest.approx(s.total_commission, rel=1e-12)
    # the last row: what the broker holds at the end
    for d in s.datas:
        assert pos.iloc[-1][d._name] == pytest.approx(s.broker.getposition(d).size * d.close[0], rel=1e-9)
    assert pos.iloc[-1]["cash"] == pytest.approx(s.broker.getcash(), rel=1e-9, abs=1e-6)  # cash is ~0
    if execution == "close":  # after-trade value = the value before the close's trades - their commission
        values = pd.Series([b["value"] for b in s.bars], index=pd.to_datetime([b["date"] for b in s.bars]))
        comm = tx.groupby(level=0)["commission"].sum().reindex(values.index, fill_value=0.0)
        assert (pos.sum(axis=1) - (values - comm)).abs().max() < 1e-6


def test_analyzers_give_pandas_objects():
    """Besides their dicts (Backtrader's convention), the analyzers hand out DataFrames."""
    import pandas as pd

    from bt_lstm_mvo.analyzers import PaperMetrics, StressWindow, TearsheetStats

    frames = synthetic_frames(n=160)
    c = _cerebro(frames)
    c.addstrategy(EqualWeightStrategy)
    c.addanalyzer(PaperMetrics, _name="pm")
    c.addanalyzer(TearsheetStats, rolling_bars=20, _name="ts")
    c.addanalyzer(StressWindow, windows={"w": (str(frames["A"].index[10].date()), str(frames["A"].index[50].date()))},
                  _name="sw")
    s = c.run()[0]
    rets = s.analyzers.pm.portfolio_returns()
    assert isinstance(rets.index, pd.DatetimeIndex) and len(rets) == 160
    ts = s.analyzers.ts
    assert ts.monthly_frame().shape[1] == 12 and isinstance(ts.rolling_frame().index, pd.DatetimeIndex)
    assert list(ts.drawdowns_frame().columns) == ["start", "valley", "recovery", "depth", "days"]
    held = s.analyzers.pw.held_frame()
    assert held.shape == (160, 3) and isinstance(held.index, pd.DatetimeIndex)
    assert s.analyzers.sw.windows_frame().loc["w", "status"] == "ok"
