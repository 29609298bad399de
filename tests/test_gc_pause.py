"""Lean mode keeps the garbage collector off the start-up objects during a run (``gc_pause``), gives them
back at the end, and never touches objects someone else froze."""

from __future__ import annotations

import gc

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from bt_lstm_mvo.allocators.naive import EqualWeight
from bt_lstm_mvo.errors import AllocationError
from bt_lstm_mvo.feeds.bt_feeds import ArrayData, add_frames
from bt_lstm_mvo.strategies import gc_pause
from bt_lstm_mvo.strategies.base import AllocationStrategy
from bt_lstm_mvo.strategies.commission import ProportionalCommission


class Watched(AllocationStrategy):
    """Records the number of frozen objects at each bar; raises at bar ``fail_at`` if given."""

    params = (("fail_at", None),)

    def __init__(self):
        super().__init__()
        self.frozen = []

    def next(self):
        self.frozen.append(gc.get_freeze_count())
        if self.p.fail_at is not None and len(self.frozen) == self.p.fail_at:
            raise AllocationError("stop here")
        super().next()


def _frames(n=80):
    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2020-01-01", periods=n)
    out = {}
    for name in ("A", "B"):
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
        out[name] = pd.DataFrame({"Open": close, "High": close, "Low": close, "Close": close, "Volume": 1e6},
                                 index=idx)
    return out


def _run(**params):
    cerebro = bt.Cerebro(stdstats=False)
    add_frames(cerebro, _frames(), feed_class=ArrayData)
    cerebro.broker.setcash(1e5)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=0.001))
    cerebro.addstrategy(Watched, allocator=EqualWeight(), **params)
    return cerebro.run()[0]


@pytest.fixture(autouse=True)
def _no_frozen_objects():
    """Each test starts and ends with nothing frozen in this (shared) test process."""
    gc.unfreeze()
    gc_pause._paused_here = False
    yield
    gc.unfreeze()
    gc_pause._paused_here = False


def test_lean_run_freezes_during_the_run_and_unfreezes_at_stop():
    strat = _run(lean=True)
    assert len(strat.frozen) == 80 and min(strat.frozen) > 1000  # the start-up objects, at every bar
    assert gc.get_freeze_count() == 0  # given back: the next collection sees them again
    assert _run(lean=False).frozen == [0] * 80  # full mode leaves the collector alone


def test_results_do_not_depend_on_the_pause(monkeypatch):
    paused = _run(lean=True)
    monkeypatch.setattr(gc_pause, "pause", lambda: False)
    plain = _run(lean=True)
    assert plain.frozen == [0] * 80
    assert [b["value"] for b in paused.bars] == [b["value"] for b in plain.bars]
    assert paused.fills == plain.fills


def test_objects_frozen_by_someone_else_stay_frozen():
    gc.freeze()  # an application that freezes its own start-up objects (e.g. before forking workers)
    theirs = gc.get_freeze_count()
    assert theirs > 0
    strat = _run(lean=True)
    # not frozen again by the run (the count only falls, as frozen objects are freed), not unfrozen at its end
    assert max(strat.frozen) <= theirs and 0.9 * theirs < gc.get_freeze_count() <= theirs


def test_a_run_that_raised_is_unfrozen_by_the_next_run():
    with pytest.raises(AllocationError, match="stop here"):
        _run(lean=True, fail_at=10)  # Backtrader does not call stop(): the objects stay frozen
    assert gc.get_freeze_count() > 0
    _run(lean=True)
    assert gc.get_freeze_count() == 0


def test_no_freeze_when_the_collector_is_disabled():
    gc.disable()
    try:
        assert _run(lean=True).frozen == [0] * 80
    finally:
        gc.enable()


def test_the_runner_gives_the_objects_back_when_a_run_raises():
    """The runner's backtest (lean mode) unfreezes in a ``finally``: Backtrader skips ``stop`` on an error."""
    from bt_lstm_mvo.allocators.replay import ReplayAllocator
    from bt_lstm_mvo.experiment.run import analyzer_specs, market_for, run_backtest, split_for
    from tests.test_study import _small_mvo_config

    cfg = _small_mvo_config()
    market = market_for(cfg)
    start, folds = split_for(cfg, market.index)
    only_first = pd.DataFrame([[0.2, 0.3, 0.5]], index=[market.index[market.index >= start][0]],
                              columns=market.tickers)  # no decision for the second rebalance
    with pytest.raises(AllocationError, match="no decision recorded"):
        run_backtest(market, "mvo", cfg.strategies["mvo"], cfg.broker, start,
                     analyzers=analyzer_specs(cfg, start, folds), folds=folds, allocator=ReplayAllocator(only_first))
    assert gc.get_freeze_count() == 0
