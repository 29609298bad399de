"""The market as arrays: one (bars x assets) float array per OHLCV field and a tradable mask.

The array engine reads nothing else. :func:`bars_from_frames` takes the aligned frames a
``Market`` holds (ticker -> DataFrame with Open, High, Low, Close, Volume and, on a union
calendar, Tradable); every frame must share one index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bt_lstm_mvo.errors import DataError

FIELDS = ("Open", "High", "Low", "Close", "Volume")


@dataclass(frozen=True)
class Bars:
    """Aligned daily bars of ``names`` on ``dates`` (row t of every array is bar t)."""

    dates: pd.DatetimeIndex
    names: tuple[str, ...]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    tradable: np.ndarray  # bool: the asset has a real bar at t (False on a union calendar's stale rows)

    @property
    def shape(self) -> tuple[int, int]:
        return self.close.shape


def bars_from_frames(frames: dict[str, pd.DataFrame]) -> Bars:
    """:class:`Bars` from one OHLCV DataFrame per asset (a missing ``Tradable`` column: all True)."""
    if not frames:
        raise DataError("array engine: no assets given")
    names = tuple(frames)
    index = frames[names[0]].index
    for name, f in frames.items():
        if not f.index.equals(index):
            raise DataError(f"array engine: {name!r} is not on the first asset's dates; align the frames first "
                            "(bt_lstm_mvo.feeds.calendar.align)")
        missing = [k for k in FIELDS if k not in f.columns]
        if missing:
            raise DataError(f"array engine: {name!r} has no {missing} column(s)")

    def field(key):
        return np.column_stack([frames[n][key].to_numpy(dtype=float) for n in names])

    tradable = np.column_stack([frames[n]["Tradable"].to_numpy(dtype=bool) if "Tradable" in frames[n]
                                else np.ones(len(index), dtype=bool) for n in names])
    close = field("Close")
    bad = ~np.isfinite(close) | (close <= 0)
    if bad.any():
        t, i = np.argwhere(bad)[0]
        raise DataError(f"feed {names[i]!r}: close is {float(close[t, i])!r} on {index[t].date()}; "
                        "prices must be finite and > 0")
    return Bars(pd.DatetimeIndex(index), names, field("Open"), field("High"), field("Low"), close, field("Volume"),
                tradable)
