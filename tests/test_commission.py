"""The proportional commission: arithmetic without cerebro, and inside it."""

from __future__ import annotations

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.strategies.commission import ProportionalCommission


def test_arithmetic_both_legs_and_fractional_size():
    c = ProportionalCommission()
    assert c.getcommission(2.5, 400.0) == pytest.approx(1.0)  # 0.1% of 1000
    assert c.getcommission(-2.5, 400.0) == pytest.approx(1.0)  # sells pay too
    assert c.getsize(60_000.0, 10_000.0) == pytest.approx(1 / 6)  # fractional BTC
    assert ProportionalCommission(commission=0.0025).getcommission(1, 1000) == pytest.approx(2.5)


@pytest.mark.parametrize("bad", [-0.001, 1.5, float("nan"), "0.1%"])
def test_bad_rate_is_a_clear_error(bad):
    with pytest.raises(ConfigError, match="commission must be a fraction in"):
        ProportionalCommission(commission=bad)


def _feed(prices):
    idx = pd.bdate_range("2021-01-04", periods=len(prices))
    df = pd.DataFrame({"Open": prices, "High": prices, "Low": prices, "Close": prices, "Volume": 1.0},
                      index=idx)
    return bt.feeds.PandasData(dataname=df)


def test_million_dollar_buy_pays_exactly_1000_inside_cerebro():
    cerebro = bt.Cerebro()
    cerebro.adddata(_feed(np.full(5, 250.0)), name="X")
    cerebro.broker.setcash(2_000_000.0)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=0.001))
    comms = []

    class Buy(bt.Strategy):
        def next(self):
            if len(self) == 1:
                self.buy(size=4000.0)  # 4000 * 250 = 1,000,000
            if len(self) == 3:
                self.sell(size=1.5)  # fractional sell: 375 traded, 0.375 commission

        def notify_order(self, order):
            if order.status == order.Completed:
                comms.append((order.executed.size, order.executed.comm))

    cerebro.addstrategy(Buy)
    cerebro.run()
    assert comms[0] == (4000.0, pytest.approx(1000.0, abs=1e-9))
    assert comms[1][0] == -1.5 and comms[1][1] == pytest.approx(0.375, abs=1e-12)
    assert cerebro.broker.getvalue() == pytest.approx(2_000_000.0 - 1000.0 - 0.375, abs=1e-6)


@pytest.mark.parametrize("percabs, rate", [(True, 0.001), (False, 0.1)])
def test_strategy_sizes_with_backtraders_own_setcommission(percabs, rate):
    """A plain cerebro with ``broker.setcommission`` (commtype None, resolved by Backtrader) is
    accepted, and the rate read is the fraction (0.1 percent with percabs=False is 0.001)."""
    import backtrader as bt

    from bt_lstm_mvo.feeds.bt_feeds import add_frames
    from bt_lstm_mvo.strategies.naive import EqualWeightStrategy
    from tests.test_strategy_base import synthetic_frames

    c = bt.Cerebro(stdstats=False)
    add_frames(c, synthetic_frames(n=30))
    c.broker.setcash(100_000.0)
    c.broker.setcommission(commission=rate, percabs=percabs)
    c.addstrategy(EqualWeightStrategy)
    s = c.run()[0]
    assert s.rate == pytest.approx(0.001, rel=1e-12)
    assert s.order_stats["Completed"] > 0 and not s.order_failures
