"""Yahoo-format CSV files: one ``<TICKER>.csv`` per ticker in a folder.

Format: ``Date,Open,High,Low,Close,Adj Close,Volume`` (yfinance's classic export). Files
without ``Adj Close`` (yfinance ``auto_adjust=True`` exports) are accepted; their prices are
taken as already adjusted.

Adjustment (default ``adjust=True``) mirrors yfinance ``auto_adjust=True``: Open, High, Low
and Close are multiplied by ``Adj Close / Close`` so that every price is split- and
dividend-adjusted and returns computed from them are total returns. ``adjust=False`` keeps
raw prices.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from bt_lstm_mvo.errors import DataError
from bt_lstm_mvo.feeds.validation import PRICE_COLUMNS, check_columns, parse_dates, validate_frame

OHLCV = ["Open", "High", "Low", "Close", "Volume"]


def csv_path(folder: Path, ticker: str) -> Path:
    return Path(folder) / f"{ticker}.csv"


def read_yahoo_csv(path: Path | str, adjust: bool = True) -> pd.DataFrame:
    """Read and validate one Yahoo CSV; return Open, High, Low, Close, Volume indexed by Date."""
    path = Path(path)
    source = path.name
    if not path.is_file():
        raise DataError(f"{path}: file not found; expected a Yahoo-format CSV named <TICKER>.csv")
    try:
        raw = pd.read_csv(path, dtype={"Date": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{source}: not a readable CSV ({exc})") from None
    check_columns(raw.columns, source)
    raw.index = parse_dates(raw["Date"], source)
    raw.index.name = "Date"
    frame = raw.drop(columns=["Date"])
    validate_frame(frame, source)
    frame = frame.astype({c: float for c in frame.columns if c in (*PRICE_COLUMNS, "Adj Close", "Volume")})
    if adjust and "Adj Close" in frame.columns:
        factor = frame["Adj Close"] / frame["Close"]
        for col in ("Open", "High", "Low"):
            frame[col] = frame[col] * factor
        frame["Close"] = frame["Adj Close"]
    return frame[OHLCV]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_csv_folder(
    folder: Path | str, tickers: Iterable[str], adjust: bool = True
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Load ``<folder>/<TICKER>.csv`` for each ticker. Returns (frames, sha256 per file)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"data folder {folder} does not exist; point the config's data_dir at a folder "
                        "of Yahoo-format CSVs (one <TICKER>.csv per ticker)")
    frames, hashes = {}, {}
    for ticker in tickers:
        path = csv_path(folder, ticker)
        if not path.is_file():
            available = sorted(p.stem for p in folder.glob("*.csv"))
            raise DataError(
                f"ticker {ticker!r}: file {path} not found; available tickers in {folder}: {available}"
            )
        frames[ticker] = read_yahoo_csv(path, adjust=adjust)
        hashes[ticker] = file_sha256(path)
    return frames, hashes


def write_yahoo_csv(frame: pd.DataFrame, path: Path | str) -> None:
    """Write a frame in the same Yahoo format, atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    if "Adj Close" not in out.columns:
        out["Adj Close"] = out["Close"]
    out = out[["Open", "High", "Low", "Close", "Adj Close", "Volume"]]
    out.index = pd.DatetimeIndex(out.index).strftime("%Y-%m-%d")
    out.index.name = "Date"
    tmp = path.with_suffix(path.suffix + ".tmp")
    out.to_csv(tmp, float_format="%.10g")
    tmp.replace(path)


def load_adjusted_closes(folder: Path | str, tickers: Iterable[str], start=None, end_exclusive=None,
                         sort_columns: bool = False) -> pd.DataFrame:
    """Adjusted closes (``Adj Close``) of ``<folder>/<TICKER>.csv``, validated, joined on the dates
    all tickers share; ``start`` inclusive, ``end_exclusive`` exclusive (yfinance's convention).
    Columns in ``tickers`` order, or alphabetical (as yfinance returns them) with ``sort_columns``."""
    frames, _ = load_csv_folder(folder, tickers, adjust=True)
    closes = pd.concat({t: f["Close"] for t, f in frames.items()}, axis=1, join="inner").sort_index()
    if start is not None:
        closes = closes.loc[closes.index >= pd.Timestamp(start)]
    if end_exclusive is not None:
        closes = closes.loc[closes.index < pd.Timestamp(end_exclusive)]
    if closes.empty:
        raise DataError(f"no dates shared by {list(frames)} in {start}..{end_exclusive} (exclusive) in {folder}")
    if sort_columns:
        closes = closes[sorted(closes.columns)]
    closes.index.name = "Date"
    return closes
