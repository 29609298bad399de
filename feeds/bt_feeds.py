"""Conversion of aligned frames to Backtrader feeds: one :class:`ArrayData` per ticker (or the
``PandasData`` subclass :class:`AlignedPandasData`, the same bars bit for bit).

``ArrayData`` is why the runner's feeds are cheap: Backtrader's ``PandasData`` reads every cell
of every bar with its own ``DataFrame.iloc`` call; ``ArrayData`` keeps the frame's columns as
numpy arrays and turns them into plain Python lists a chunk of rows at a time (``_CHUNK``), so
each bar is a few list lookups while the Python floats of only one chunk exist at once (as
whole-column lists they were about 300 bytes per asset and bar, most of a large run's peak
memory), and none once the feed is loaded.
"""

from __future__ import annotations

import backtrader as bt
import numpy as np
import pandas as pd


class AlignedPandasData(bt.feeds.PandasData):
    """``PandasData`` with an extra ``tradable`` line (0 on stale rows of the union calendar).

    Params:
        tradable ('Tradable'): column holding 1/True when the ticker really traded that day.
        The OHLCV params map the Yahoo column names.
    """

    lines = ("tradable",)
    params = (
        ("datetime", None),
        ("open", "Open"),
        ("high", "High"),
        ("low", "Low"),
        ("close", "Close"),
        ("volume", "Volume"),
        ("openinterest", None),
        ("tradable", "Tradable"),
    )


_ORDINAL_1970 = 719163  # date(1970, 1, 1).toordinal()


def datetime_numbers(index: pd.DatetimeIndex) -> np.ndarray:
    """Backtrader's datetime numbers of ``index``, as PandasData makes them bar by bar
    (Timestamp -> datetime -> ``bt.date2num``), as float64 (``tolist`` gives back the same floats).

    Time-zone-free midnights (daily bars) are their day's ordinal, which ``date2num`` returns exactly,
    computed for the whole index at once; any other index goes through ``date2num`` row by row.
    """
    if index.tz is None and len(index) and (index == index.normalize()).all():
        days = index.values.astype("datetime64[D]").astype(np.int64)
        return (days + _ORDINAL_1970).astype(float)
    return np.array([bt.date2num(ts.to_pydatetime()) for ts in index], dtype=float)


class ArrayData(bt.feed.DataBase):
    """A Backtrader feed preloaded from arrays, with the ``tradable`` line; a drop-in for
    :class:`AlignedPandasData` (the same lines, values and datetimes, bit for bit).

    ``dataname``: a DataFrame indexed by (tz-naive) dates with the columns named by the params
    (Yahoo names by default; ``Volume`` and ``Tradable`` optional: a missing ``Tradable`` means
    every row is tradable, a missing ``Volume`` leaves the line NaN as PandasData does). The
    frame is read once, in ``start``: later changes to it are not seen.

    Params: ``open``, ``high``, ``low``, ``close``, ``volume``, ``tradable``: column names.
    """

    lines = ("tradable",)
    params = (
        ("open", "Open"),
        ("high", "High"),
        ("low", "Low"),
        ("close", "Close"),
        ("volume", "Volume"),
        ("tradable", "Tradable"),
    )

    _FIELDS = ("open", "high", "low", "close", "volume", "tradable")
    _CHUNK = 1024  # rows turned into Python lists at a time

    #: names read through ``LineSeries.__getattr__`` (a miss forwarded to ``self.lines``) that
    #: :meth:`start` holds as attributes: Backtrader's own methods of the lines it calls every bar
    _LINES_METHODS = ("buflen", "getlinealiases", "_getlinealias")

    def start(self):
        super().start()
        self._hold_lines()
        df = self.p.dataname
        if not isinstance(df, pd.DataFrame):
            from bt_lstm_mvo.errors import DataError

            raise DataError(f"ArrayData: dataname must be a pandas DataFrame, got {type(df).__name__}")
        self._dt = datetime_numbers(pd.DatetimeIndex(df.index))
        self._columns = []
        for field in self._FIELDS:
            col = getattr(self.p, field)
            if col in df.columns:
                values = df[col].to_numpy(dtype=float, copy=True)  # later edits of the frame are not seen
            elif field == "tradable":
                values = np.ones(len(df))
            elif field == "volume":
                continue
            else:
                from bt_lstm_mvo.errors import DataError

                raise DataError(f"ArrayData {self._name!r}: column {col!r} ({field}) is missing; columns are "
                                f"{list(df.columns)}")
            self._columns.append((getattr(self.lines, field), values))
        self._columns.append((self.lines.datetime, self._dt))  # set last, as before
        self._i = -1
        self._chunk_end = 0  # rows [_chunk_start, _chunk_end) are in _rows as Python lists
        self._chunk_start = 0
        self._rows = []

    def _hold_lines(self) -> None:
        """Hold each line (``close``, ``datetime``, ...) and :attr:`_LINES_METHODS` as attributes.
        Backtrader reads ``data.close`` as a miss that ``LineSeries.__getattr__`` forwards to
        ``data.lines.close``, the same line object for the feed's whole life; its broker and feed do
        that about 17 times per order on a daily rebalance. Held as attributes, the reads find the
        same objects directly. A name the class itself defines is left alone, so no read changes."""
        lines, cls, held = self.lines, type(self), self.__dict__
        for name in (*lines.getlinealiases(), *self._LINES_METHODS):
            if not hasattr(cls, name):
                held[name] = getattr(lines, name)

    def _next_chunk(self, i: int) -> None:
        hi = min(i + self._CHUNK, len(self._dt))
        self._rows = [(line, values[i:hi].tolist()) for line, values in self._columns]
        self._chunk_start, self._chunk_end = i, hi

    def _load(self):
        self._i += 1
        i = self._i
        if i >= len(self._dt):
            self._rows = []  # loaded: the chunk's Python floats are no longer needed
            return False
        if i >= self._chunk_end:
            self._next_chunk(i)
        j = i - self._chunk_start
        for line, values in self._rows:
            line[0] = values[j]
        return True


def _feed_frame(frame: pd.DataFrame) -> pd.DataFrame:
    df = frame.copy()
    if "Tradable" not in df.columns:
        df["Tradable"] = True
    df["Tradable"] = df["Tradable"].astype(float)
    df.index = pd.DatetimeIndex(df.index)
    return df


def to_bt_feed(frame: pd.DataFrame, name: str, feed_class=None):
    """One Backtrader feed for an aligned frame (see :mod:`bt_lstm_mvo.feeds.calendar`):
    an :class:`ArrayData` (default) or ``feed_class`` (e.g. :class:`AlignedPandasData`)."""
    return (feed_class or ArrayData)(dataname=_feed_frame(frame), name=name)


def add_frames(cerebro: bt.Cerebro, frames: dict[str, pd.DataFrame], feed_class=None) -> list:
    """Add one feed per ticker to ``cerebro``, named by ticker, in the frames' order
    (:class:`ArrayData` feeds unless ``feed_class`` says otherwise)."""
    feeds = []
    for ticker, frame in frames.items():
        feed = to_bt_feed(frame, ticker, feed_class)
        cerebro.adddata(feed, name=ticker)
        feeds.append(feed)
    return feeds
