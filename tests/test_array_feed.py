"""``ArrayData`` (the runner's feed) against Backtrader's own ``PandasData`` (``AlignedPandasData``):
the same lines and the same runs, bit for bit, on the real data and on a union calendar."""

from __future__ import annotations

import inspect

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from bt_lstm_mvo.allocators.mvo import MVOAllocator
from bt_lstm_mvo.errors import DataError
from bt_lstm_mvo.feeds.bt_feeds import AlignedPandasData, ArrayData, add_frames
from bt_lstm_mvo.feeds.market import load_market
from bt_lstm_mvo.strategies.base import AllocationStrategy
from bt_lstm_mvo.strategies.commission import ProportionalCommission

LINES = ("datetime", "open", "high", "low", "close", "volume", "openinterest", "tradable")


class Record(bt.Strategy):
    def __init__(self):
        self.seen = []

    def next(self):
        self.seen.append(tuple(tuple(getattr(d.lines, ln)[0] for ln in LINES) for d in self.datas))


def _run(frames, feed_class, strategy, cheat_on_open=False, **params):
    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=cheat_on_open)
    add_frames(cerebro, frames, feed_class=feed_class)
    cerebro.broker.setcash(1e6)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=0.001))
    cerebro.addstrategy(strategy, **params)
    return cerebro.run()[0]


def _same(a, b):
    """Equal bit for bit, NaN included (openinterest is NaN in both)."""
    return np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True)


@pytest.fixture(scope="module", params=["intersection", "union"])
def frames(request, data_dir):
    m = load_market(["BTC-USD", "SPY", "GLD", "NVDA"], source="csv", data_dir=data_dir, start="2021-01-01",
                    end="2023-12-31", calendar=request.param)
    return m.frames


@pytest.mark.realdata
def test_every_line_of_every_bar_is_the_same(frames):
    a = _run(frames, ArrayData, Record).seen
    b = _run(frames, AlignedPandasData, Record).seen
    assert len(a) == len(b) > 700 and _same(a, b)
    if any("Tradable" in f and not f["Tradable"].all() for f in frames.values()):  # union calendar
        assert any(bar[1][-1] == 0.0 for bar in a)  # SPY's weekend rows are marked untradable


@pytest.mark.realdata
@pytest.mark.parametrize("execution", ["close", "next_open"])
def test_a_strategy_run_is_the_same(frames, execution):
    runs = []
    for cls in (ArrayData, AlignedPandasData):
        s = _run(frames, cls, AllocationStrategy, cheat_on_open=execution == "next_open",
                 allocator=MVOAllocator(estimation_window=120), trade_start="2021-07-01", refit=60,
                 execution=execution, cash_buffer=0.005 if execution == "next_open" else 0.0)
        runs.append(s)
    a, b = runs
    assert [x["value"] for x in a.bars] == [x["value"] for x in b.bars]
    assert a.fills == b.fills and len(a.fills) > 100
    assert a.order_stats == b.order_stats and a.broker.getvalue() == b.broker.getvalue()


@pytest.mark.realdata
def test_chunk_boundaries_change_nothing_and_the_chunk_is_freed(frames, monkeypatch):
    """ArrayData turns its arrays into Python lists a chunk at a time: with chunks of 7 rows (many
    boundaries, a short last chunk) every line of every bar is still PandasData's, and once loaded
    the feed keeps no Python lists."""
    whole = _run(frames, ArrayData, Record).seen
    monkeypatch.setattr(ArrayData, "_CHUNK", 7)
    cerebro = bt.Cerebro(stdstats=False)
    feeds = add_frames(cerebro, frames)
    cerebro.addstrategy(Record)
    chunked = cerebro.run()[0].seen
    assert len(chunked) % 7 != 0 and _same(chunked, whole)
    assert all(f._rows == [] for f in feeds)


def test_a_frame_edited_after_start_is_not_seen():
    idx = pd.bdate_range("2022-01-03", periods=30)
    frame = pd.DataFrame({"Open": 1.0, "High": 1.0, "Low": 1.0, "Close": np.arange(1.0, 31.0), "Volume": 1.0},
                         index=idx)

    class EditAfterFirstBar(Record):
        def next(self):
            super().next()
            frame["Close"] = -1.0  # in place, after the feed started

    cerebro = bt.Cerebro(stdstats=False, preload=False)
    feed = ArrayData(dataname=frame, name="A")
    feed._CHUNK = 4
    cerebro.adddata(feed)
    cerebro.addstrategy(EditAfterFirstBar)
    seen = cerebro.run()[0].seen
    assert [bar[0][4] for bar in seen] == list(np.arange(1.0, 31.0))


def test_lines_held_as_attributes_are_the_lines_backtrader_reads():
    """A started ArrayData holds its lines (and the lines' per-bar methods) as attributes: each is
    the object Backtrader's own lookup (``LineSeries.__getattr__``) gives, and no name the class
    defines is shadowed."""
    idx = pd.bdate_range("2022-01-03", periods=5)
    frame = pd.DataFrame({"Open": 1.0, "High": 2.0, "Low": 0.5, "Close": 1.5, "Volume": 10.0}, index=idx)
    feed = ArrayData(dataname=frame, name="A")
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(feed)
    cerebro.addstrategy(Record)
    cerebro.run()
    names = [*feed.lines.getlinealiases(), *ArrayData._LINES_METHODS]
    assert {"close", "datetime", "tradable", "buflen"} <= set(names) <= set(vars(feed))
    for name in names:
        held, looked_up = getattr(feed, name), bt.LineSeries.__getattr__(feed, name)
        assert held is looked_up or (inspect.ismethod(held) and held == looked_up), name  # the same objects

    class WithOwn(ArrayData):
        def volume(self):  # a class that defines a line's name keeps its own attribute
            return "own"

    own = WithOwn(dataname=frame, name="B")
    own._hold_lines()
    assert "volume" not in vars(own) and own.volume() == "own" and "close" in vars(own)


def test_missing_columns_and_non_frames_are_clear_errors():
    idx = pd.bdate_range("2022-01-03", periods=5)
    frame = pd.DataFrame({"Open": 1.0, "High": 1.0, "Low": 1.0}, index=idx)
    cerebro = bt.Cerebro()
    cerebro.adddata(ArrayData(dataname=frame, name="X"), name="X")
    cerebro.addstrategy(Record)
    with pytest.raises(DataError, match="column 'Close'"):
        cerebro.run()
    cerebro = bt.Cerebro()
    cerebro.adddata(ArrayData(dataname=[1, 2, 3], name="X"), name="X")
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        cerebro.run()


@pytest.mark.realdata
@pytest.mark.parametrize("execution", ["close", "next_open"])
def test_lean_mode_is_bit_identical_and_keeps_only_live_orders(frames, execution):
    """``lean=True`` (the runner's mode) drops Backtrader's finished orders and its empty per-order
    bookkeeping every bar; the run is the same bit for bit."""
    kw = dict(cheat_on_open=execution == "next_open", allocator=None, trade_start="2021-07-01",
              execution=execution, cash_buffer=0.005 if execution == "next_open" else 0.0)
    runs = {}
    for lean in (False, True):
        kw["allocator"] = MVOAllocator(estimation_window=120)
        runs[lean] = _run(frames, ArrayData, AllocationStrategy, **kw,
                          refit=60, lean=lean)
    full, lean = runs[False], runs[True]
    assert [x["value"] for x in lean.bars] == [x["value"] for x in full.bars]
    assert lean.fills == full.fills and lean.order_stats == full.order_stats
    assert lean.broker.getvalue() == full.broker.getvalue()
    per_bar = max(len(frames), 1) * 2
    assert len(full.broker.orders) >= sum(full.order_stats.values()) > 10 * per_bar  # everything kept
    assert len(lean.broker.orders) <= per_bar and len(lean._orders) <= 3 * per_bar  # only the last bar's
    assert not [k for k, q in lean.broker._pchildren.items() if not q]


@pytest.mark.parametrize("index", [
    pd.bdate_range("2019-01-01", periods=300),  # daily midnights: the whole-index path
    pd.date_range("1965-03-01", periods=50, freq="D"),  # before 1970
    pd.date_range("2020-01-01 09:30", periods=40, freq="37min"),  # intraday: row by row
    pd.date_range("2020-01-01", periods=40, freq="D", tz="America/New_York"),  # a time zone: row by row
    pd.DatetimeIndex([]),
], ids=["daily", "pre-1970", "intraday", "tz", "empty"])
def test_datetime_numbers_are_date2num_of_each_row(index):
    from bt_lstm_mvo.feeds.bt_feeds import datetime_numbers

    want = [bt.date2num(ts.to_pydatetime()) for ts in index]
    got = datetime_numbers(index)
    assert got.dtype == float and got.tolist() == want  # the same floats, bit for bit
