"""LSTMStrategy inside Backtrader: features equal the offline ones, no look-ahead, constant
per-bar window, checkpoint reuse without retraining."""

from __future__ import annotations

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from bt_lstm_mvo.allocators.lstm import LSTMAllocator, compute_features
from bt_lstm_mvo.feeds.bt_feeds import add_frames
from bt_lstm_mvo.feeds.calendar import align
from bt_lstm_mvo.feeds.synthetic import generate_market
from bt_lstm_mvo.strategies.commission import ProportionalCommission
from bt_lstm_mvo.strategies.lstm import LSTMStrategy
from tests import helpers

TICKERS = ["BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA"]
TINY = {"hidden_size": 8, "epochs": 3, "progress": False, "seed": 1, "device": "cpu"}
START = pd.Timestamp("2021-03-01")


def frames(perturb_after=None):
    raw = generate_market(TICKERS, start="2019-01-01", end="2021-12-31", seed=5)
    aligned = align({t: f[["Open", "High", "Low", "Close", "Volume"]] for t, f in raw.items()}, "intersection")
    return aligned if perturb_after is None else helpers.perturb_after(aligned, perturb_after, seed=0)


class Spy(LSTMAllocator):
    """Records the window length and scaled features of every allocate call."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.seen = []

    def allocate(self, history):
        w = super().allocate(history)
        self.seen.append((len(history), self.last_features_.copy()))
        return w


def run(data, allocator=None, checkpoint=None, **params):
    cerebro = bt.Cerebro()
    add_frames(cerebro, data)
    cerebro.broker.setcash(1e6)
    cerebro.broker.addcommissioninfo(ProportionalCommission())
    cerebro.addstrategy(LSTMStrategy, allocator=allocator, checkpoint=checkpoint, trade_start=START, **params)
    s = cerebro.run()[0]
    targets = pd.DataFrame([r["target"] for r in s.rebalances], index=[r["date"] for r in s.rebalances])
    return s, targets


def test_features_match_offline_and_window_is_constant():
    data = frames()
    alloc = Spy(TINY)
    s, _ = run(data, allocator=alloc, schedule="weekly")
    closes = pd.DataFrame({t: f["Close"] for t, f in data.items()})
    offline = alloc.scaler_.transform(compute_features(closes).to_numpy())
    offline = pd.DataFrame(offline, index=closes.index)
    assert len(alloc.seen) > 30
    assert {n for n, _ in alloc.seen} == {alloc.lookback}  # per-bar cost independent of history length
    for _, feats in alloc.seen:
        ref = offline.loc[feats.index].to_numpy()
        assert np.max(np.abs(feats.to_numpy() - ref)) < 1e-9
    assert s.fits[0]["last"] == START.date()


@pytest.mark.parametrize("refit", [None, 60])
def test_no_lookahead_fit_once_and_walk_forward(refit):
    T = pd.Timestamp("2021-07-15")
    _, base = run(frames(), allocator=LSTMAllocator(TINY), refit=refit)
    _, pert = run(frames(perturb_after=T), allocator=LSTMAllocator(TINY), refit=refit)
    past = base.index <= T.date()
    assert past.sum() > 50
    assert np.array_equal(base[past].to_numpy(), pert[past].to_numpy())
    assert not np.array_equal(base[~past].to_numpy(), pert[~past].to_numpy())


def test_checkpoint_reused_in_another_cerebro_without_training(tmp_path):
    data = frames()
    s, first = run(data, allocator=LSTMAllocator(TINY), schedule="monthly")
    path = s.allocator.save(tmp_path / "model")
    s2, second = run(data, checkpoint=str(path), schedule="monthly")
    assert s2.fits == []  # not retrained
    assert np.array_equal(first.to_numpy(), second.to_numpy())


def test_the_array_path_trades_exactly_as_the_dataframe_path():
    """LSTMStrategy with a plain LSTMAllocator (allocate_values, no per-bar DataFrame) and with a
    subclass that overrides allocate (the DataFrame path): the same targets and values, bit for bit."""
    data = frames()
    fast, _ = run(data, allocator=LSTMAllocator(TINY))
    slow, _ = run(data, allocator=Spy(TINY))
    assert slow.allocator.seen  # the override was called: the DataFrame path ran
    assert [r["target"] for r in fast.rebalances] == [r["target"] for r in slow.rebalances]
    assert [b["value"] for b in fast.bars] == [b["value"] for b in slow.bars]
