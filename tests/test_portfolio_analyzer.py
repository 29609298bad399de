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
