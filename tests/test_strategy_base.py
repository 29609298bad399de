"""The rebalancing base strategy: engine modes, schedules, policies, windows, calendars."""

from __future__ import annotations

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from bt_lstm_mvo.allocators.base import Allocator
from bt_lstm_mvo.allocators.naive import EqualWeight
from bt_lstm_mvo.errors import AllocationError, ConfigError
from bt_lstm_mvo.feeds.bt_feeds import add_frames
from bt_lstm_mvo.feeds.calendar import align
from bt_lstm_mvo.strategies.base import AllocationStrategy
from bt_lstm_mvo.strategies.commission import ProportionalCommission
from bt_lstm_mvo.strategies.naive import BuyAndHoldStrategy, EqualWeightStrategy, FixedWeightsStrategy


def synthetic_frames(n=120, assets=("A", "B", "C"), seed=0, freq="B"):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2021-01-01", periods=n, freq=freq, name="Date")
    out = {}
    for i, a in enumerate(assets):
        close = 50.0 * (i + 1) * np.exp(np.cumsum(rng.normal(0.0005, 0.02, n)))
        opn = close * np.exp(rng.normal(0, 0.01, n))
        out[a] = pd.DataFrame({"Open": opn, "High": np.maximum(opn, close) * 1.01,
                               "Low": np.minimum(opn, close) * 0.99, "Close": close,
                               "Volume": 1e6}, index=idx)
    return align(out, "intersection")


def run(frames, strategy=None, cash=100_000.0, rate=0.001, analyzers=(), cheat=False,
        cerebro_kw=None, **params):
    if strategy is None:
        strategy = AllocationStrategy if "allocator" in params else EqualWeightStrategy
    cerebro = bt.Cerebro(cheat_on_open=cheat, **(cerebro_kw or {}))
    add_frames(cerebro, frames)
    cerebro.broker.setcash(cash)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=rate))
    cerebro.addstrategy(strategy, **params)
    for a in analyzers:
        cerebro.addanalyzer(a)
    strat = cerebro.run()[0]
    return cerebro, strat


class Recorder(Allocator):
    """Equal weight, remembering every window it was shown (patched-allocator test idea)."""

    requires_fit = True

    def __init__(self, lookback=None):
        self.lookback = lookback
        self.windows = []
        self.fit_windows = []

    def fit(self, history):
        self.fit_windows.append((len(history), history.index[0], history.index[-1]))
        return self

    def allocate(self, history):
        self.windows.append((len(history), history.index[-1]))
        return pd.Series(1.0 / history.shape[1], index=history.columns)


@pytest.mark.parametrize("execution", ["close", "next_open"])
def test_engine_modes_give_identical_results(execution):
    frames = synthetic_frames()
    results = []
    for preload in (True, False):
        for runonce in (True, False):
            cerebro, s = run(frames, execution=execution, cheat=execution == "next_open",
                             cash_buffer=0.005 if execution == "next_open" else 0.0,
                             cerebro_kw={"preload": preload, "runonce": runonce})
            results.append((cerebro.broker.getvalue(), [b["value"] for b in s.bars], len(s.fills)))
    assert all(r == results[0] for r in results[1:])
    assert results[0][2] > 100


def test_allocator_sees_only_the_past_and_lookback_rows():
    frames = synthetic_frames(n=60)
    rec = Recorder(lookback=10)
    _, s = run(frames, allocator=rec, trade_start="2021-01-15")
    dates = frames["A"].index
    first_trade = dates[dates >= "2021-01-15"][0]
    assert rec.fit_windows == [(list(dates).index(first_trade) + 1, dates[0], first_trade)]
    assert [w[1] for w in rec.windows] == list(dates[dates >= first_trade])
    assert all(n == 10 for n, _ in rec.windows)
    assert s.training_end_ == first_trade.date()
    assert all(f["date"] >= first_trade.date() for f in s.fills)


def test_walk_forward_refits_on_expanding_and_rolling_windows():
    frames = synthetic_frames(n=60)
    rec = Recorder(lookback=5)
    run(frames, allocator=rec, refit=20)
    assert [n for n, _, _ in rec.fit_windows] == [1, 21, 41]
    rec = Recorder(lookback=5)
    run(frames, allocator=rec, refit=20, fit_window=15, trade_start=frames["A"].index[20])
    assert [n for n, _, _ in rec.fit_windows] == [15, 15]


def test_schedules_monthly_weekly_every_n_and_never():
    frames = synthetic_frames(n=130)
    dates = frames["A"].index
    _, s = run(frames, schedule="monthly")
    assert len(s.rebalances) == len({(d.year, d.month) for d in dates})
    _, s = run(frames, schedule="weekly")
    assert len(s.rebalances) == len({tuple(d.isocalendar())[:2] for d in dates})
    _, s = run(frames, schedule=10)
    assert len(s.rebalances) == len(range(0, len(dates), 10))
    _, s = run(frames, strategy=BuyAndHoldStrategy, asset="B")
    assert len(s.rebalances) == 1 and {f["asset"] for f in s.fills} == {"B"}
    # buy-and-hold: weights drift, final value tracks the asset
    growth = frames["B"]["Close"].iloc[-1] / frames["B"]["Close"].iloc[0]
    assert s.bars[-1]["value"] / 100_000 == pytest.approx(growth / 1.001, rel=1e-6)


def test_constant_mix_pays_for_drift_but_buy_and_hold_does_not():
    frames = synthetic_frames(n=80)
    _, mix = run(frames, strategy=FixedWeightsStrategy, weights={"A": 0.5, "B": 0.5})
    _, hold = run(frames, strategy=FixedWeightsStrategy, weights={"A": 0.5, "B": 0.5}, schedule="never")
    assert mix.total_commission > hold.total_commission > 0
    assert len(hold.rebalances) == 1


def test_drift_threshold_skips_small_rebalances():
    frames = synthetic_frames(n=80)
    _, every = run(frames)
    _, lazy = run(frames, drift_threshold=0.05)
    assert 0 < len(lazy.fills) < len(every.fills)
    # the rule, bar by bar: after the first rebalance, trade exactly when the weights held at that bar's
    # close (the bar's record) are more than 0.05 away from the target (equal weight) somewhere
    traded = {r["date"] for r in lazy.rebalances}
    first = min(traded)
    for bar in lazy.bars:
        if bar["date"] > first:
            gap = max(abs(w - 1 / 3) for w in bar["held"].values())
            assert (bar["date"] in traded) == (gap > 0.05), (bar["date"], gap)
    assert len(traded) > 1


class Failing(Allocator):
    def __init__(self, fail_after):
        self.calls = 0
        self.fail_after = fail_after

    def allocate(self, history):
        self.calls += 1
        if self.calls > self.fail_after:
            raise AllocationError("solver failed")
        return pd.Series([0.7, 0.3, 0.0], index=history.columns)


def test_failure_policies_are_recorded():
    frames = synthetic_frames(n=20)
    with pytest.raises(AllocationError, match="solver failed"):
        run(frames, allocator=Failing(3))
    _, s = run(frames, allocator=Failing(3), on_failure="hold")
    assert len(s.fallbacks) == 20 - 3
    assert s.fallbacks[0]["used"] == "previous target" and "solver failed" in s.fallbacks[0]["reason"]
    assert s.rebalances[-1]["target"] == {"A": 0.7, "B": 0.3, "C": 0.0}
    _, s = run(frames, allocator=Failing(0), on_failure="equal_weight")
    assert s.fallbacks[0]["used"] == "equal weight"
    assert s.rebalances[0]["target"]["C"] == pytest.approx(1 / 3)


class Buggy(Allocator):
    def allocate(self, history):
        return history["no such column"]  # a programming error, not a failure to decide


def test_failure_policies_do_not_swallow_programming_errors():
    frames = synthetic_frames(n=20)
    with pytest.raises(KeyError, match="no such column"):
        run(frames, allocator=Buggy(), on_failure="equal_weight")


class Bad(Allocator):
    def allocate(self, history):
        return pd.Series([0.8, 0.8, 0.0], index=history.columns)


def test_invalid_weights_and_params_are_clear_errors():
    frames = synthetic_frames(n=10)
    with pytest.raises(AllocationError, match="weights sum to 1.6; they must sum to <= 1"):
        run(frames, allocator=Bad())
    with pytest.raises(ConfigError, match="execution: must be one of"):
        run(frames, execution="vwap")
    with pytest.raises(ConfigError, match="schedule"):
        run(frames, schedule="fortnightly")
    with pytest.raises(ConfigError, match="cheat_on_open=True"):
        run(frames, execution="next_open")
    with pytest.raises(ConfigError, match="allocator"):
        run(frames, strategy=AllocationStrategy, allocator="equal")


def test_union_calendar_never_trades_stale_equity():
    rng = np.random.default_rng(1)
    raw = {}
    for name, idx in (("C", pd.date_range("2021-01-01", periods=90)),
                      ("E", pd.bdate_range("2021-01-01", periods=64))):
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, len(idx))))
        raw[name] = pd.DataFrame({"Open": close, "High": close, "Low": close, "Close": close,
                                  "Volume": 1.0}, index=idx)
    frames = align(raw, "union")
    _, s = run(frames)
    equity_fill_days = {f["date"].weekday() for f in s.fills if f["asset"] == "E"}
    assert equity_fill_days and max(equity_fill_days) < 5
    assert any(f["date"].weekday() >= 5 for f in s.fills if f["asset"] == "C")
    assert sum(s.order_stats.values()) == s.order_stats["Completed"]


def test_other_analyzers_and_other_strategies_in_same_cerebro():
    frames = synthetic_frames(n=50)
    cerebro = bt.Cerebro()
    add_frames(cerebro, frames)
    cerebro.broker.addcommissioninfo(ProportionalCommission())
    cerebro.addstrategy(EqualWeightStrategy)
    cerebro.addanalyzer(bt.analyzers.TimeReturn, _name="tr")
    cerebro.addanalyzer(bt.analyzers.DrawDown, _name="dd")
    s = cerebro.run()[0]
    assert len(s.analyzers.tr.get_analysis()) == 50
    assert s.order_stats["Completed"] > 0 and not s.order_failures


def test_history_matches_feed_closes():
    frames = synthetic_frames(n=30)
    _, s = run(frames)
    hist = s.history()
    expected = pd.DataFrame({a: f["Close"] for a, f in frames.items()})
    assert np.array_equal(hist.to_numpy(), expected.to_numpy())
    assert list(hist.index) == list(expected.index)


def test_equal_weight_allocator_contract():
    w = EqualWeight().allocate(pd.DataFrame(np.ones((3, 4)), columns=list("abcd")))
    assert w.sum() == pytest.approx(1.0) and (w == 0.25).all()


def test_single_feed_cerebro():
    frames = synthetic_frames(n=40, assets=("ONLY",))
    cerebro, s = run(frames)
    assert s.order_stats["Completed"] >= 1 and not s.order_failures
    assert s.fills[0]["date"] == frames["ONLY"].index[0].date()
    assert min(b["held"]["ONLY"] for b in s.bars[1:]) > 0.999  # fully invested, nothing left to trade
