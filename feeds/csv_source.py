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
    OPTIONAL_COLUMNS,
    PRICE_COLUMNS,
    REQUIRED_COLUMNS,
    check_columns,
    check_daily_moves,
    parse_dates,
    validate_frame,
)
from bt_lstm_mvo.files import file_problem, read_bytes
from bt_lstm_mvo.names import check_ticker
from bt_lstm_mvo.text import one_line
from bt_lstm_mvo.vocab import FILE_FORMATS, check_choice

#: largest CSV read (a daily file of decades is a few MB)
MAX_CSV_BYTES = 200_000_000
#: the runner's default for the largest one-row move of a close (a factor)
DEFAULT_MAX_DAILY_MOVE = 10.0

OHLCV = ["Open", "High", "Low", "Close", "Volume"]


def csv_path(folder: Path, ticker: str, file_format: str = "csv") -> Path:
    """``<folder>/<TICKER>.<csv|parquet>`` for a ticker of the allowed character set (never a path)."""
    return Path(folder) / f"{check_ticker(ticker)}.{check_choice(file_format, FILE_FORMATS, 'data.format')}"


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
                   max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE,
                   columns: dict[str, str] | None = None) -> pd.DataFrame:
    """Read and validate one Yahoo CSV; return Open, High, Low, Close, Volume indexed by Date.

    ``columns`` maps Yahoo names to the file's own headers (``{"Close": "close", "Date":
    "timestamp"}``) for files with other headers.
    """
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
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DataError(f"{source}: not a readable CSV ({one_line(exc)})") from None
    header = _renamed(rows[0] if rows else [], columns, source)
    _check_layout([header, *rows[1:]], source)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataError(f"{source}: not a readable CSV ({one_line(exc)})") from None
    raw.columns = header
    return table_to_frame(raw, source, adjust=adjust, max_daily_move=max_daily_move)


def read_parquet_prices(path: Path | str, adjust: bool = True,
                        max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE,
                        columns: dict[str, str] | None = None) -> pd.DataFrame:
    """One ``<TICKER>.parquet`` with the Yahoo columns (``Date`` a column or the index): the same
    checks and result as :func:`read_yahoo_csv`. Needs pyarrow (the ``parquet`` extra)."""
    path = Path(path)
    source = path.name
    problem = file_problem(path)
    if problem:
        raise DataError(f"{path}: parquet file {problem}")
    try:
        raw = pd.read_parquet(path)
    except ImportError as exc:
        raise ConfigError(f"{source}: reading parquet needs pyarrow (pip install 'bt-lstm-mvo[parquet]'): "
                          f"{one_line(exc)}") from None
    except Exception as exc:  # pyarrow raises its own types for a corrupt or foreign file
        raise DataError(f"{source}: not a readable parquet file ({type(exc).__name__}: {one_line(exc)})") from None
    return frame_from_dataframe(raw, source, adjust=adjust, max_daily_move=max_daily_move, columns=columns)


def frame_from_dataframe(df: pd.DataFrame, source: str, adjust: bool = True,
                         max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE,
                         columns: dict[str, str] | None = None) -> pd.DataFrame:
    """A user's DataFrame of one ticker (Yahoo columns; ``Date`` a column or the index) through
    the same checks as a CSV file; ``source`` names it in errors."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{source}: expected a pandas DataFrame of prices, got {type(df).__name__}")
    raw = df.copy()
    header = _renamed([str(c) for c in raw.columns], columns, source)
    raw.columns = header
    if "Date" not in header:
        if raw.index.nlevels != 1:
            raise DataError(f"{source}: the index has {raw.index.nlevels} levels; give the dates as a plain index "
                            "or a 'Date' column")
        raw = raw.reset_index()
        raw.columns = ["Date", *header]
    _check_layout([list(raw.columns)], source)
    raw["Date"] = [d.isoformat() if hasattr(d, "isoformat") else str(d) for d in raw["Date"]]
    return table_to_frame(raw, source, adjust=adjust, max_daily_move=max_daily_move)


def _renamed(header: list[str], columns: dict[str, str] | None, source: str) -> list[str]:
    """The header with the file's names replaced by the Yahoo names ``columns`` maps them from."""
    if not columns:
        return list(header)
    allowed = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    unknown = [k for k in columns if k not in allowed]
    if unknown:
        raise ConfigError(f"data.columns: {unknown[0]!r} is not a Yahoo column; map from {list(allowed)}")
    back = {v: k for k, v in columns.items()}
    missing = [v for v in columns.values() if v not in header]
    if missing:
        raise DataError(f"{source}: data.columns maps to {missing[0]!r}, which is not in the header {header}")
    return [back.get(c, c) for c in header]


def table_to_frame(raw: pd.DataFrame, source: str, adjust: bool = True,
                   max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE) -> pd.DataFrame:
    """Validate a table with a ``Date`` column and the Yahoo price columns; return Open, High,
    Low, Close, Volume indexed by Date (adjusted by ``Adj Close / Close`` with ``adjust``)."""
    raw = raw.copy()
    raw.index = parse_dates(raw["Date"].astype(str), source)
    raw.index.name = "Date"
    frame = raw.drop(columns=["Date"])
    for c in (*PRICE_COLUMNS, "Adj Close", "Volume"):
        if c in frame.columns:
            frame[c] = pd.to_numeric(frame[c].replace("", None), errors="coerce")
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
    max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE, columns: dict[str, str] | None = None,
    file_format: str = "csv",
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Load ``<folder>/<TICKER>.csv`` (or ``.parquet``) for each ticker, with ``columns`` mapping
    Yahoo names to the files' own headers. Returns (frames, sha256 per file)."""
    tickers = check_tickers(tickers)
    folder = Path(folder)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise DataError(f"data folder {folder} {what}; point the config's data_dir at a folder "
                        "of Yahoo-format CSVs (one <TICKER>.csv per ticker)")
    frames, hashes = {}, {}
    for ticker in tickers:
        path = csv_path(folder, ticker, file_format)
        problem = file_problem(path)
        if problem == "not found":
            available = sorted(p.stem for p in folder.glob(f"*.{file_format}"))
            raise DataError(
                f"ticker {ticker!r}: file {path} not found; available tickers in {folder}: {available}"
            )
        reader = read_parquet_prices if file_format == "parquet" else read_yahoo_csv
        frames[ticker] = reader(path, adjust=adjust, max_daily_move=max_daily_move, columns=columns)
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
