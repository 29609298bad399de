"""Yahoo download through yfinance (optional extra ``yahoo``) into a CSV cache.

The cache holds one Yahoo-format ``<TICKER>.csv`` per ticker (the format :mod:`bt_lstm_mvo.feeds.csv_source`
reads), so a folder filled once is reused offline afterwards. A ticker is downloaded only
when its cache file is missing or ``refresh=True``. Files are written atomically.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from bt_lstm_mvo.errors import ConfigError, DataError
from bt_lstm_mvo.feeds.csv_source import csv_path, write_yahoo_csv


def _download(ticker: str, start, end) -> pd.DataFrame:  # pragma: no cover - needs network
    try:
        import yfinance as yf
    except ImportError:
        raise ConfigError(
            "source 'yahoo' needs the optional package yfinance: pip install 'bt-lstm-mvo[yahoo]', "
            "or use source 'csv' with a data_dir of Yahoo CSVs"
        ) from None
    df = yf.download(ticker, start=start, end=end, auto_adjust=False, progress=False, actions=False)
    if df is None or df.empty:
        raise DataError(f"yahoo: no data returned for ticker {ticker!r} ({start}..{end})")
    if isinstance(df.columns, pd.MultiIndex):
        df.columns = df.columns.get_level_values(0)
    df.index = pd.DatetimeIndex(df.index).tz_localize(None).normalize()
    return df


def fill_cache(
    tickers: Iterable[str], cache_dir: Path | str, start=None, end=None, refresh: bool = False,
    downloader=_download,
) -> Path:
    """Make sure ``cache_dir`` holds a CSV per ticker; download the missing ones."""
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    for ticker in tickers:
        path = csv_path(cache, ticker)
        if path.is_file() and not refresh:
            continue
        write_yahoo_csv(downloader(ticker, start, end), path)
    return cache
