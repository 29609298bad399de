"""Conversion of aligned frames to Backtrader feeds, one ``PandasData`` per ticker."""

from __future__ import annotations

import backtrader as bt
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


def to_bt_feed(frame: pd.DataFrame, name: str) -> AlignedPandasData:
    """One Backtrader feed for an aligned frame (see :mod:`bt_lstm_mvo.feeds.calendar`)."""
    df = frame.copy()
    if "Tradable" not in df.columns:
        df["Tradable"] = True
    df["Tradable"] = df["Tradable"].astype(float)
    df.index = pd.DatetimeIndex(df.index)
    return AlignedPandasData(dataname=df, name=name)


def add_frames(cerebro: bt.Cerebro, frames: dict[str, pd.DataFrame]) -> list[AlignedPandasData]:
    """Add one feed per ticker to ``cerebro``, named by ticker, in the frames' order."""
    feeds = []
    for ticker, frame in frames.items():
        feed = to_bt_feed(frame, ticker)
        cerebro.adddata(feed, name=ticker)
        feeds.append(feed)
    return feeds
