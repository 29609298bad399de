"""Self-financing sizing arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from bt_lstm_mvo.strategies.sizing import plan_rebalance
from bt_lstm_mvo.vocab import CASH_SAFETY as SAFETY


def test_from_cash_reaches_weights_of_post_cost_value():
    plan = plan_rebalance(np.zeros(3), 1000.0, np.array([0.5, 0.3, 0.2]), 0.001)
    # V' = 1000 / (1 + 0.001) when fully invested from cash
    assert plan.post_value == pytest.approx(1000.0 / 1.001, rel=1e-9)
    assert plan.target_values == pytest.approx(np.array([0.5, 0.3, 0.2]) * plan.post_value, rel=1e-6)
    assert plan.trades.sum() * 1.001 <= 1000.0


def test_sells_fund_buys_and_cash_never_negative():
    rng = np.random.default_rng(0)
    for _ in range(200):
        h = rng.uniform(0, 100, 5)
        cash = rng.uniform(0, 10)
        w = rng.dirichlet(np.ones(5)) * rng.uniform(0.9, 1.0)
        rate = rng.uniform(0, 0.01)
        plan = plan_rebalance(h, cash, w, rate)
        sells = -plan.trades[plan.trades < 0].sum()
        buys = plan.trades[plan.trades > 0].sum()
        cash_after = cash + sells - buys - rate * np.abs(plan.trades).sum()
        assert cash_after >= -1e-12
        assert cash_after <= cash + h.sum()


def test_untradable_assets_keep_holdings_and_cash_buffer():
    h = np.array([50.0, 50.0])
    plan = plan_rebalance(h, 0.0, np.array([0.0, 1.0]), 0.0, tradable=np.array([False, True]))
    assert plan.trades[0] == 0.0
    assert plan.trades[1] <= 0.0 + 1e-12  # no cash to buy more
    plan = plan_rebalance(np.zeros(2), 100.0, np.array([0.5, 0.5]), 0.0, cash_buffer=0.1)
    assert plan.trades.sum() == pytest.approx(90.0 - SAFETY * 100, abs=1e-6)


def test_small_trades_skipped():
    plan = plan_rebalance(np.array([50.0, 50.0]), 0.0, np.array([0.5001, 0.4999]), 0.0, min_trade_value=1.0)
    assert not plan.trades.any()
