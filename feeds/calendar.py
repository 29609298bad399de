"""Calendar alignment of several tickers' daily frames.

Crypto trades 7 days a week, equities 5. Two policies:

* ``intersection`` (the paper's choice): keep only the dates on which every ticker has a bar.
* ``union``: every date on which any ticker trades, from the first date on which all tickers
  have started to the last date on which none has ended. A ticker without a bar on a date
  gets a stale row: Open = High = Low = Close = its previous close, Volume 0 and
  ``Tradable = False``; strategies must not trade it on that bar.

Each aligned frame has columns Open, High, Low, Close, Volume, Tradable and the same index.
"""

from __future__ import annotations

import pandas as pd

from bt_lstm_mvo.errors import ConfigError, DataError
from bt_lstm_mvo.vocab import CALENDAR_POLICIES


def filter_dates(frames: dict[str, pd.DataFrame], start=None, end=None) -> dict[str, pd.DataFrame]:
    """Keep rows with start <= date <= end (inclusive); an empty result is an error."""
    lo = pd.Timestamp(start) if start is not None else None
    hi = pd.Timestamp(end) if end is not None else None
    if lo is not None and hi is not None and hi < lo:
        raise ConfigError(f"date range: end {hi.date()} is before start {lo.date()}; end must be >= start")
    out = {}
    for ticker, df in frames.items():
        sub = df.loc[lo:hi]
        if sub.empty:
            span = f"{df.index[0].date()}..{df.index[-1].date()}" if len(df) else "no rows"
            raise DataError(
                f"{ticker}: no rows between {lo.date() if lo is not None else '-'} and "
                f"{hi.date() if hi is not None else '-'} (its data covers {span}); widen the date range"
            )
        out[ticker] = sub
    return out


def align(frames: dict[str, pd.DataFrame], policy: str = "intersection") -> dict[str, pd.DataFrame]:
    """Put every frame on one calendar according to ``policy`` (see module doc)."""
    if policy not in CALENDAR_POLICIES:
        raise ConfigError(f"calendar: must be one of {list(CALENDAR_POLICIES)}, got {policy!r}")
    if not frames:
        raise ConfigError("tickers: at least one ticker is required")
    indices = {t: pd.DatetimeIndex(df.index) for t, df in frames.items()}
    if policy == "intersection":
        common = None
        for idx in indices.values():
            common = idx if common is None else common.intersection(idx)
        if common is None or len(common) == 0:
            spans = {t: f"{i[0].date()}..{i[-1].date()}" for t, i in indices.items()}
            raise DataError(f"no dates shared by all tickers ({spans}); the intersection calendar is empty")
        out = {}
        for t, df in frames.items():
            sub = df.loc[common].copy()
            sub["Tradable"] = True
            out[t] = sub
        return out

    first = max(i[0] for i in indices.values())
    last = min(i[-1] for i in indices.values())
    if last < first:
        raise DataError("no period in which all tickers have data; the union calendar is empty")
    union = None
    for idx in indices.values():
        union = idx if union is None else union.union(idx)
    union = union[(union >= first) & (union <= last)]
    out = {}
    for t, df in frames.items():
        # reindex over the union, starting from the ticker's last bar at or before `first`
        # so a stale first row has a previous close to carry.
        before = df.loc[:first]
        seed = before.iloc[[-1]] if len(before) else df.iloc[[0]]
        base = pd.concat([seed, df.loc[first:]]) if seed.index[0] < first else df.loc[first:]
        re = base.reindex(base.index.union(union))
        tradable = re["Close"].notna()
        close = re["Close"].ffill()
        for col in ("Open", "High", "Low"):
            re[col] = re[col].where(tradable, close)
        re["Close"] = close
        re["Volume"] = re["Volume"].where(tradable, 0.0)
        re["Tradable"] = tradable
        out[t] = re.loc[union]
    return out
