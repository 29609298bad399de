"""One entry point for market data: load, validate, filter, align.

``load_market`` returns a :class:`Market`: aligned OHLCV frames per ticker plus what a report
needs to say where the data came from (source label, synthetic flag, fingerprint).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import backtrader as bt
import pandas as pd

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.feeds import calendar as cal
from bt_lstm_mvo.feeds.bt_feeds import add_frames
from bt_lstm_mvo.feeds.csv_source import DEFAULT_MAX_DAILY_MOVE, check_tickers, frame_from_dataframe, load_csv_folder
from bt_lstm_mvo.vocab import CALENDAR_POLICIES, SOURCES


@dataclass
class Market:
    """Aligned daily data for several tickers.

    Attributes:
        frames: ticker -> DataFrame (Open, High, Low, Close, Volume, Tradable), same index.
        source: "csv", "synthetic" or "yahoo".
        label: human description for reports (says "synthetic" for generated data).
        calendar: "intersection" or "union".
        fingerprint: JSON-able dict (file hashes or generator seed, tickers, dates).
    """

    frames: dict[str, pd.DataFrame]
    source: str
    label: str
    calendar: str
    fingerprint: dict = field(default_factory=dict)

    @property
    def tickers(self) -> list[str]:
        return list(self.frames)

    @property
    def index(self) -> pd.DatetimeIndex:
        return next(iter(self.frames.values())).index

    @property
    def synthetic(self) -> bool:
        return self.source == "synthetic"

    def closes(self) -> pd.DataFrame:
        """Close prices, one column per ticker (stale rows carry the previous close)."""
        return pd.DataFrame({t: f["Close"] for t, f in self.frames.items()})

    def add_to(self, cerebro: bt.Cerebro):
        """Add one Backtrader feed per ticker, named by ticker."""
        return add_frames(cerebro, self.frames)


def _fingerprint(source: str, tickers, frames, extra: dict) -> dict:
    idx = next(iter(frames.values())).index
    fp = {
        "source": source,
        "tickers": list(tickers),
        "first_date": idx[0].strftime("%Y-%m-%d"),
        "last_date": idx[-1].strftime("%Y-%m-%d"),
        "bars": len(idx),
        **extra,
    }
    fp["digest"] = hashlib.sha256(json.dumps(fp, sort_keys=True).encode()).hexdigest()[:16]
    return fp


def load_market(
    tickers,
    source: str = "synthetic",
    data_dir: str | Path | None = None,
    start=None,
    end=None,
    calendar: str = "intersection",
    adjust: bool = True,
    seed: int = 42,
    refresh: bool = False,
    max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE,
    columns: dict[str, str] | None = None,
    file_format: str = "csv",
    frames: dict[str, pd.DataFrame] | None = None,
) -> Market:
    """Load ``tickers`` from ``source``, filter to [start, end], align on ``calendar``.

    ``max_daily_move``: the largest factor a close may move from one row to the next
    (:func:`bt_lstm_mvo.feeds.validation.check_daily_moves`); None turns the check off.
    ``columns`` maps Yahoo column names to a file's own headers; ``file_format`` is ``csv`` or
    ``parquet`` (source ``csv``). Source ``frames`` takes ``frames``: one DataFrame per ticker
    with the Yahoo columns (``Date`` a column or the index), checked like a file.
    """
    tickers = check_tickers(tickers)
    if not tickers:
        raise ConfigError("tickers: at least one ticker is required")
    dupes = sorted({t for t in tickers if tickers.count(t) > 1})
    if dupes:
        raise ConfigError(f"tickers: {dupes} listed more than once; each ticker must appear once")
    if source not in SOURCES:
        raise ConfigError(f"data.source: must be one of {list(SOURCES)}, got {source!r}")
    if calendar not in CALENDAR_POLICIES:
        raise ConfigError(f"data.calendar: must be one of {list(CALENDAR_POLICIES)}, got {calendar!r}")

    if source == "synthetic":
        from bt_lstm_mvo.feeds.synthetic import SYNTHETIC_LABEL, generate_market

        gen_start = start or "2019-01-01"
        gen_end = end or "2024-12-31"
        frames = generate_market(tickers=tickers, start=gen_start, end=gen_end, seed=seed)
        frames = {t: f[["Open", "High", "Low", "Close", "Volume"]] for t, f in frames.items()}
        label = SYNTHETIC_LABEL
        extra = {"generator": "feeds.synthetic.generate_market", "seed": seed}
    elif source == "frames":
        if not isinstance(frames, dict) or not frames:
            raise ConfigError("data.source: 'frames' needs the DataFrames, one per ticker: "
                              "bt_lstm_mvo.run(config, frames={'SPY': df, ...}) or load_market(..., frames=...)")
        missing = [t for t in tickers if t not in frames]
        if missing:
            raise ConfigError(f"data.tickers: no DataFrame given for {missing}; frames has {sorted(frames)}")
        frames = {t: frame_from_dataframe(frames[t], f"frames[{t!r}]", adjust=adjust, max_daily_move=max_daily_move,
                                          columns=columns) for t in tickers}
        label = "DataFrames given to the API" + (" (adjusted prices)" if adjust else " (raw prices)")
        extra = {"adjusted": adjust}
    else:
        if data_dir is None:
            raise ConfigError(f"data.data_dir: required for source {source!r} (a folder of <TICKER>.csv)")
        folder = Path(data_dir)
        if source == "yahoo":
            from bt_lstm_mvo.feeds.yahoo import fill_cache

            fill_cache(tickers, folder, start=start, end=end, refresh=refresh)
        frames, hashes = load_csv_folder(folder, tickers, adjust=adjust, max_daily_move=max_daily_move,
                                         columns=columns, file_format=file_format)
        label = f"{'Yahoo Finance via yfinance, cached in' if source == 'yahoo' else 'CSV files in'} {folder}"
        label += " (adjusted prices)" if adjust else " (raw prices)"
        extra = {"folder": str(folder), "sha256": hashes, "adjusted": adjust}

    frames = cal.filter_dates(frames, start, end)
    aligned = cal.align(frames, calendar)
    fp = _fingerprint(source, tickers, aligned, {**extra, "calendar": calendar})
    return Market(frames=aligned, source=source, label=label, calendar=calendar, fingerprint=fp)
