"""Validation of one ticker's daily OHLCV frame.

Every check raises :class:`bt_lstm_mvo.errors.DataError` whose message names the source (file or
ticker), the column, how many rows break the rule, the first offending date, and the rule.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from bt_lstm_mvo.errors import DataError

PRICE_COLUMNS = ("Open", "High", "Low", "Close")
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
    """Parse a ``Date`` column into tz-naive midnight timestamps; reject unparsable values."""
    parsed = pd.to_datetime(raw, errors="coerce", utc=False, format="mixed")
    bad = np.asarray(parsed.isna())
    if bad.any():
        first = raw[bad].iloc[0]
        raise DataError(
            f"{source}: column 'Date' has {int(bad.sum())} unparsable dates (first {first!r} at row "
            f"{int(np.argmax(bad)) + 1}); dates must look like 2021-07-20"
        )
    idx = pd.DatetimeIndex(parsed)
    if idx.tz is not None:
        idx = idx.tz_convert(None)
    return idx.normalize()


def _first_date(index: pd.DatetimeIndex, mask: np.ndarray) -> str:
    return index[mask][0].strftime("%Y-%m-%d")


def validate_frame(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check an OHLCV frame indexed by date. Returns it unchanged when valid."""
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
    high = df["High"].to_numpy(dtype=float)
    low = df["Low"].to_numpy(dtype=float)
    bad = high < low
    if bad.any():
        raise DataError(
            f"{source}: {int(bad.sum())} rows have High < Low (first on {_first_date(idx, bad)}, "
            f"High {high[bad][0]:g} < Low {low[bad][0]:g}); High must be >= Low"
        )
    vol = pd.to_numeric(df["Volume"], errors="coerce").to_numpy(dtype=float)
    badv = np.isnan(vol) | (vol < 0)
    if badv.any():
        raise DataError(
            f"{source}: column 'Volume' has {int(badv.sum())} missing or negative values (first on "
            f"{_first_date(idx, badv)}); volume must be >= 0"
        )
    return df
