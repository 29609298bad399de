"""Backtrader runs against the independent vectorised simulator (tests/reference_sim.py) on real data.

Five paper tickers, 2019-01-02..2024-12-30, intersection calendar, rebalanced every bar at the
close, 0.1% commission. Issue requirement: final values within 0.05%.
"""

from __future__ import annotations

import backtrader as bt
import pandas as pd
import pytest

from bt_lstm_mvo.feeds.market import load_market
from bt_lstm_mvo.strategies.commission import ProportionalCommission
from bt_lstm_mvo.strategies.naive import FixedWeightsStrategy
from tests.reference_sim import simulate

PAPER = ["BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA"]
CASES = {
    "equal": dict.fromkeys(PAPER, 0.2),
    "btc90": {"BTC-USD": 0.9, "ETH-USD": 0.025, "SPY": 0.025, "GLD": 0.025, "NVDA": 0.025},
}


@pytest.fixture(scope="module")
def market(data_dir):
    return load_market(PAPER, source="csv", data_dir=data_dir, start="2019-01-02", end="2024-12-30")


def _run(market, weights, execution="close", cash_buffer=0.0):
    cerebro = bt.Cerebro(cheat_on_open=execution == "next_open")
    market.add_to(cerebro)
    cerebro.broker.setcash(1_000_000.0)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=0.001))
    cerebro.addstrategy(FixedWeightsStrategy, weights=weights, execution=execution, cash_buffer=cash_buffer)
    strat = cerebro.run()[0]
    return cerebro.broker.getvalue(), strat


@pytest.mark.realdata
@pytest.mark.parametrize("case", list(CASES))
def test_close_execution_matches_reference(market, case):
    weights = CASES[case]
    ref_values, ref_paid = simulate(market.closes(), pd.Series(weights), rate=0.001, cash=1_000_000.0)
    value, strat = _run(market, weights)
    rel = value / ref_values.iloc[-1] - 1
    print(f"{case}: backtrader {value:,.2f} reference {ref_values.iloc[-1]:,.2f} rel diff {rel:.2e}")
    assert abs(rel) < 5e-4  # the bound (0.05%)
    assert abs(rel) < 1e-7  # what the arithmetic actually achieves
    bars = pd.Series([b["value"] for b in strat.bars], index=market.index)
    assert (bars / ref_values - 1).abs().max() < 1e-7
    assert strat.total_commission == pytest.approx(ref_paid, rel=1e-6)
    assert strat.order_stats["Completed"] == sum(strat.order_stats.values())


@pytest.mark.realdata
def test_next_open_995_invested_has_no_rejected_orders(market):
    value, strat = _run(market, CASES["equal"], execution="next_open", cash_buffer=0.005)
    assert strat.order_stats["Completed"] > 7000
    assert strat.order_stats["Margin"] == strat.order_stats["Rejected"] == strat.order_stats["Canceled"] == 0
    assert not strat.order_failures
    invested = [1 - b["cash"] / b["value"] for b in strat.bars[2:]]
    assert min(invested) > 0.99
