"""Validation of one ticker's daily OHLCV frame.

Every check raises :class:`bt_lstm_mvo.errors.DataError` whose message names the source (file or
ticker), the column, how many rows break the rule, the first offending date, and the rule.

Rules: dates parse, are unique and increase; prices are finite numbers in (0, 1e12]; High >= Low,
and Open and Close lie inside [Low, High] (to a relative 1e-6, for rounding in adjusted
exports); Volume is a finite number >= 0; and (:func:`check_daily_moves`, on the prices really
used) no close moves by more than ``max_daily_move`` from one row to the next (the runner's default 10x:
a 1000x one-day spike is a data error, not a return).

Dates: a daily bar means the exchange's local date, so a timestamp with a time-zone offset
(yfinance writes ``2021-07-20 00:00:00-04:00``) keeps the date as written; it is never
converted to UTC (which would move one asset's bars by a day against the others).
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from bt_lstm_mvo.errors import DataError

PRICE_COLUMNS = ("Open", "High", "Low", "Close")
#: largest price accepted: beyond it returns and portfolio values overflow or lose all precision
MAX_PRICE = 1e12
#: relative slack of the Open/Close-inside-[Low, High] rule (rounding in adjusted exports)
RANGE_TOL = 1e-6
REQUIRED_COLUMNS = ("Date", *PRICE_COLUMNS, "Volume")
OPTIONAL_COLUMNS = ("Adj Close",)


def _did_you_mean(name: str, candidates) -> str:
    lowered = {str(c).strip().lower().replace("_", " "): c for c in candidates}
    key = name.lower()
    if key in lowered:
        return f" (found {lowered[key]!r}: column names are case- and spelling-sensitive)"
    close = difflib.get_close_matches(name, [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_columns(columns, source: str) -> None:
    """Required Yahoo columns are present (``Adj Close`` is optional: auto-adjusted exports)."""
    cols = [str(c) for c in columns]
    for req in REQUIRED_COLUMNS:
        if req not in cols:
            raise DataError(
                f"{source}: missing column {req!r}{_did_you_mean(req, cols)}; "
                f"expected Yahoo format {', '.join(REQUIRED_COLUMNS[:5])}, [Adj Close], Volume; "
                f"found {cols}"
            )


def parse_dates(raw: pd.Series, source: str) -> pd.DatetimeIndex:
    """Parse a ``Date`` column into tz-naive midnight timestamps of the local (exchange) date;
    reject unparsable values. ISO values (``2021-07-20``, ``2021-07-20 00:00:00-04:00``) keep the
    date as written, whatever their time or offset."""
    text = raw.astype(str).str.strip()
    if bool(text.str.match(r"^\d{4}-\d{2}-\d{2}(?:$|[ T])").all()):
        parsed = pd.to_datetime(text.str.slice(0, 10), errors="coerce", format="%Y-%m-%d")
    else:  # other formats, one value at a time: each keeps its own local date, whatever its offset
        parsed = pd.Series([_local_date(x) for x in text], index=raw.index, dtype="datetime64[ns]")
    bad = np.asarray(parsed.isna())
    if bad.any():
        first = raw[bad].iloc[0]
        raise DataError(
            f"{source}: column 'Date' has {int(bad.sum())} unparsable dates (first {first!r} at row "
            f"{int(np.argmax(bad)) + 1}); dates must look like 2021-07-20"
        )
    return pd.DatetimeIndex(parsed).normalize()


def _local_date(text: str):
    """One date string as its local (wall-clock) date; NaT when it is not a date."""
    try:
        ts = pd.Timestamp(text)
        if ts is pd.NaT or not 1900 <= ts.year <= 2200:  # "10" or "-1" are not the dates of a daily bar
            return pd.NaT
        ts = ts.as_unit("ns")
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    return ts.tz_localize(None).normalize() if ts.tz is not None else ts.normalize()


def _first_date(index: pd.DatetimeIndex, mask: np.ndarray) -> str:
    return index[mask][0].strftime("%Y-%m-%d")


def validate_frame(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check an OHLCV frame indexed by date (rules in the module doc). Returns it unchanged."""
    idx = pd.DatetimeIndex(df.index)
    if len(idx) == 0:
        raise DataError(f"{source}: no rows; the file must hold at least one dated price row")
    dup = np.asarray(idx.duplicated())
    if dup.any():
        raise DataError(
            f"{source}: column 'Date' has {int(dup.sum())} duplicate dates (first on "
            f"{_first_date(idx, dup)}); each date must appear once"
        )
    if not idx.is_monotonic_increasing:
        pos = int(np.argmax(np.diff(idx.asi8) < 0)) + 1
        raise DataError(
            f"{source}: column 'Date' is not sorted ({idx[pos].date()} comes after "
            f"{idx[pos - 1].date()}); dates must increase"
        )
    price_cols = [c for c in (*PRICE_COLUMNS, *OPTIONAL_COLUMNS) if c in df.columns]
    for col in price_cols:
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        nan = np.isnan(values)
        if nan.any():
            raise DataError(
                f"{source}: column {col!r} has {int(nan.sum())} missing or non-numeric prices "
                f"(first on {_first_date(idx, nan)}); prices must be numbers"
            )
        nonpos = values <= 0
        if nonpos.any():
            raise DataError(
                f"{source}: column {col!r} has {int(nonpos.sum())} non-positive prices (first on "
                f"{_first_date(idx, nonpos)}); prices must be > 0"
            )
        huge = ~np.isfinite(values) | (values > MAX_PRICE)
        if huge.any():
            raise DataError(
                f"{source}: column {col!r} has {int(huge.sum())} infinite or implausibly large prices (first "
                f"{values[huge][0]:g} on {_first_date(idx, huge)}); prices must be finite and <= {MAX_PRICE:g}"
            )
    high = df["High"].to_numpy(dtype=float)
    low = df["Low"].to_numpy(dtype=float)
    bad = high < low
    if bad.any():
        raise DataError(
            f"{source}: {int(bad.sum())} rows have High < Low (first on {_first_date(idx, bad)}, "
            f"High {high[bad][0]:g} < Low {low[bad][0]:g}); High must be >= Low"
        )
    for col in ("Open", "Close"):
        px = df[col].to_numpy(dtype=float)
        out = (px > high * (1 + RANGE_TOL)) | (px < low * (1 - RANGE_TOL))
        if out.any():
            raise DataError(
                f"{source}: {int(out.sum())} rows have {col} outside [Low, High] (first on {_first_date(idx, out)}, "
                f"{col} {px[out][0]:g} not in [{low[out][0]:g}, {high[out][0]:g}]); a bar's {col} must lie in its range"
            )
    vol = pd.to_numeric(df["Volume"], errors="coerce").to_numpy(dtype=float)
    badv = ~np.isfinite(vol) | (vol < 0)
    if badv.any():
        raise DataError(
            f"{source}: column 'Volume' has {int(badv.sum())} missing or negative values (first on "
            f"{_first_date(idx, badv)}); volume must be a finite number >= 0"
        )
    return df


def check_daily_moves(close: pd.Series, source: str, max_daily_move: float | None) -> None:
    """No close moves by more than ``max_daily_move`` (a factor) from one row to the next; run
    on the prices really used (adjusted ones, so a split is not a move). None: no check."""
    if max_daily_move is None or len(close) < 2:
        return
    idx = pd.DatetimeIndex(close.index)
    values = close.to_numpy(dtype=float)
    ratio = values[1:] / values[:-1]
    jump = np.concatenate([[False], (ratio > max_daily_move) | (ratio < 1.0 / max_daily_move)])
    if jump.any():
        first = int(np.argmax(jump))
        raise DataError(
            f"{source}: {int(jump.sum())} closes move by more than {max_daily_move:g}x from one row to the next "
            f"(first on {_first_date(idx, jump)}: {values[first - 1]:g} -> {values[first]:g}); fix the data, or "
            "raise data.max_daily_move (null turns the check off)"
        )
