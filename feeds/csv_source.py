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

import csv
import hashlib
import io
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from bt_lstm_mvo.errors import ConfigError, DataError
from bt_lstm_mvo.feeds.validation import (
    PRICE_COLUMNS,
    check_columns,
    check_daily_moves,
    parse_dates,
    validate_frame,
)
from bt_lstm_mvo.files import file_problem, read_bytes
from bt_lstm_mvo.names import check_ticker
from bt_lstm_mvo.text import one_line

#: largest CSV read (a daily file of decades is a few MB)
MAX_CSV_BYTES = 200_000_000
#: the runner's default for the largest one-row move of a close (a factor)
DEFAULT_MAX_DAILY_MOVE = 10.0

OHLCV = ["Open", "High", "Low", "Close", "Volume"]


def csv_path(folder: Path, ticker: str) -> Path:
    """``<folder>/<TICKER>.csv`` for a ticker of the allowed character set (never a path)."""
    return Path(folder) / f"{check_ticker(ticker)}.csv"


def _check_layout(rows: list[list[str]], source: str) -> None:
    """Header columns unique and complete; every row one value per column (pandas would shift or
    silently drop the fields of a row that has more or fewer)."""
    header = rows[0] if rows else []
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise DataError(f"{source}: column(s) {dupes} appear more than once in the header; each column must "
                        "appear once")
    check_columns(header, source)
    for line, row in enumerate(rows[1:], start=2):
        if row and len(row) != len(header):
            raise DataError(f"{source}: row {line} has {len(row)} fields, the header has {len(header)}; every row "
                            "must have one value per column")


def read_yahoo_csv(path: Path | str, adjust: bool = True,
                   max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE) -> pd.DataFrame:
    """Read and validate one Yahoo CSV; return Open, High, Low, Close, Volume indexed by Date."""
    path = Path(path)
    source = path.name
    data = read_bytes(path, "CSV file", DataError, MAX_CSV_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{source}: not a text CSV (byte {exc.start} is not UTF-8)") from None
    if not text.strip():
        raise DataError(f"{source}: the file is empty; expected a Yahoo-format header (Date,Open,High,Low,Close,"
                        "Adj Close,Volume) and one row per day")
    try:
        _check_layout(list(csv.reader(io.StringIO(text, newline=""))), source)
    except csv.Error as exc:
        raise DataError(f"{source}: not a readable CSV ({one_line(exc)})") from None
    try:
        raw = pd.read_csv(io.StringIO(text), dtype={"Date": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataError(f"{source}: not a readable CSV ({one_line(exc)})") from None
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
    check_daily_moves(frame["Close"], source, max_daily_move)
    return frame[OHLCV]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_tickers(tickers) -> list[str]:
    """A list of allowed tickers (a bare string is a mistake: ``'SPY'`` is not ``['SPY']``)."""
    if isinstance(tickers, (str, bytes)) or not isinstance(tickers, Iterable):
        raise ConfigError(f"tickers: expected a list of tickers such as ['SPY'], got {tickers!r}")
    return [check_ticker(t) for t in tickers]


def load_csv_folder(
    folder: Path | str, tickers: Iterable[str], adjust: bool = True,
    max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE,
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Load ``<folder>/<TICKER>.csv`` for each ticker. Returns (frames, sha256 per file)."""
    tickers = check_tickers(tickers)
    folder = Path(folder)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise DataError(f"data folder {folder} {what}; point the config's data_dir at a folder "
                        "of Yahoo-format CSVs (one <TICKER>.csv per ticker)")
    frames, hashes = {}, {}
    for ticker in tickers:
        path = csv_path(folder, ticker)
        problem = file_problem(path)
        if problem == "not found":
            available = sorted(p.stem for p in folder.glob("*.csv"))
            raise DataError(
                f"ticker {ticker!r}: file {path} not found; available tickers in {folder}: {available}"
            )
        frames[ticker] = read_yahoo_csv(path, adjust=adjust, max_daily_move=max_daily_move)
        try:
            hashes[ticker] = file_sha256(path)
        except OSError as exc:  # the file went away (or stopped being readable) while the run started
            raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
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
