"""An annual cash-rate series from a CSV file (for ``broker.interest_csv``).

The file has a ``Date`` column and one rate column (an annual fraction: 0.04 = 4%; a column
named ``rate`` if there are several). Each rate is in force from its date until the next one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bt_lstm_mvo.errors import DataError


def load_rates(path) -> pd.Series:
    """The rate series of ``path`` (module docstring); a one-line DataError otherwise."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"broker.interest_csv: {str(p)!r} is not a file")
    try:
        df = pd.read_csv(p)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: cannot be read as CSV ({type(exc).__name__}: {str(exc).splitlines()[0]})") from exc
    if "Date" not in df.columns:
        raise DataError(f"{p}: needs a 'Date' column, columns are {list(df.columns)}")
    others = [c for c in df.columns if c != "Date"]
    column = "rate" if "rate" in others else (others[0] if len(others) == 1 else None)
    if column is None:
        raise DataError(f"{p}: needs one rate column (or one named 'rate'), columns are {list(df.columns)}")
    dates = pd.to_datetime(df["Date"], errors="coerce")
    if dates.isna().any():
        i = int(np.argmax(dates.isna().to_numpy()))
        raise DataError(f"{p}: Date {df['Date'].iloc[i]!r} (row {i + 2}) is not a date")
    if not dates.is_monotonic_increasing or dates.duplicated().any():
        raise DataError(f"{p}: dates must be unique and increasing")
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values <= -1) | (values >= 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{p}: {column} on {dates.iloc[i].date()} is {str(df[column].iloc[i])!r}; rates must be annual "
                        "fractions in (-1, 1) (0.04 = 4%)")
    return pd.Series(values, index=pd.DatetimeIndex(dates), name=column)
