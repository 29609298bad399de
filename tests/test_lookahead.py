"""No look-ahead: change every price after a date T; every weight decided at or before T is
unchanged, bit for bit (fit once at the start, and walk-forward refits)."""

from __future__ import annotations

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from bt_lstm_mvo.allocators.mvo import MVOAllocator
from bt_lstm_mvo.feeds.bt_feeds import add_frames
from bt_lstm_mvo.feeds.calendar import align
from bt_lstm_mvo.feeds.synthetic import generate_market
from bt_lstm_mvo.strategies.base import AllocationStrategy
from bt_lstm_mvo.strategies.commission import ProportionalCommission
from tests import helpers

TICKERS = ["BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA"]


def market(perturb_after=None, seed=3):
    frames = generate_market(TICKERS, start="2019-01-01", end="2021-06-30", seed=7)
    frames = {t: f[["Open", "High", "Low", "Close", "Volume"]] for t, f in frames.items()}
    aligned = align(frames, "intersection")
    if perturb_after is None:
        return aligned
    return helpers.perturb_after(aligned, perturb_after, seed=seed)


def targets(frames, make_allocator, execution="close", **params):
    cerebro = bt.Cerebro(cheat_on_open=execution == "next_open")
    add_frames(cerebro, frames)
    cerebro.broker.setcash(1e6)
    cerebro.broker.addcommissioninfo(ProportionalCommission())
    cerebro.addstrategy(AllocationStrategy, allocator=make_allocator(), execution=execution,
                        cash_buffer=0.005 if execution == "next_open" else 0.0, **params)
    s = cerebro.run()[0]
    return pd.DataFrame([r["target"] for r in s.rebalances],
                        index=pd.DatetimeIndex([r["date"] for r in s.rebalances])), s


def assert_past_unchanged(make_allocator, T, **params):
    base, s0 = targets(market(), make_allocator, **params)
    pert, s1 = targets(market(perturb_after=T), make_allocator, **params)
    past = base.index <= T
    assert past.sum() > 5 and (~past).sum() > 5
    assert np.array_equal(base[past].to_numpy(), pert[past].to_numpy())  # bit for bit
    assert not np.array_equal(base[~past].to_numpy(), pert[~past].to_numpy())  # the test can fail
    held0 = [b["held"] for b in s0.bars if pd.Timestamp(b["date"]) <= T]
    held1 = [b["held"] for b in s1.bars if pd.Timestamp(b["date"]) <= T]
    assert held0 == held1


@pytest.mark.parametrize("execution", ["close", "next_open"])
def test_mvo_walk_forward_has_no_lookahead(execution):
    T = pd.Timestamp("2020-11-15")
    assert_past_unchanged(lambda: MVOAllocator(estimation_window=250), T, trade_start="2020-03-02",
                          refit=40, schedule="weekly", execution=execution)


def test_mvo_fit_once_perturbing_after_the_fit():
    # fit once at the trading start: weights then only change if the fit saw the future
    T = pd.Timestamp("2020-03-02")
    base, _ = targets(market(), MVOAllocator, trade_start=T, schedule="monthly")
    pert, _ = targets(market(perturb_after=T), MVOAllocator, trade_start=T, schedule="monthly")
    assert np.array_equal(base.to_numpy(), pert.to_numpy())
