"""Dates and bars per year: the one annualisation rule of the plugin.

**The annualisation rule.** A figure that is annualised (CAGR, volatility, Sharpe, Sortino,
downside deviation, annual turnover, CAPM alpha) uses ``periods_per_year`` when it is set
(``analysis.periods_per_year`` in a config, the ``periods_per_year`` param of an analyzer);
when it is not set, it is *measured* from the bars of the run: :func:`periods_per_year_from_index`
over the dates of every bar the strategy saw (its whole clock, warm-up included), i.e.
``(bars - 1) / (calendar span in days / 365.25)``, about 252 on an exchange calendar and 365 on
a 7-day one. The analyzers apply the rule themselves (from their ``TimeReturn`` series before
any ``since`` cut), so the runner and a user's own cerebro over the same feeds give the same
factor and the same numbers. Windows inside a run (a stress window, a fold) use the run's factor.

The MVO estimator is the one exception and says so: it annualises its estimates over the
estimation window with the measured factor snapped to a standard calendar
(:func:`snapped_periods_per_year`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import pandas as pd

from bt_lstm_mvo.errors import ConfigError, DataError

#: conventional bars per year of a US exchange calendar (business days) and of crypto (every day)
EQUITY_BARS_PER_YEAR = 252
CRYPTO_BARS_PER_YEAR = 365
#: standard calendars a measured bars-per-year figure is snapped to when within 10% (MVO only)
STANDARD_PERIODS_PER_YEAR = (EQUITY_BARS_PER_YEAR, CRYPTO_BARS_PER_YEAR, 52, 12)
DAYS_PER_YEAR = 365.25


def periods_per_year_from_index(index: Sequence | pd.DatetimeIndex) -> float:
    """Bars per year measured from the dates: ``(n - 1) / (span in days / 365.25)``."""
    idx = pd.DatetimeIndex(index)
    if len(idx) < 2:
        raise DataError(f"periods_per_year_from_index: need at least 2 dates, got {len(idx)}")
    span_days = (idx[-1] - idx[0]).total_seconds() / 86400.0
    if span_days <= 0:
        raise DataError("periods_per_year_from_index: dates must increase (last date <= first date)")
    return (len(idx) - 1) / (span_days / DAYS_PER_YEAR)


def snapped_periods_per_year(index) -> float:
    """Bars per year measured from dates, snapped to 252/365/52/12 when within 10%.

    Otherwise the measured value is rounded to the nearest integer. Snapping keeps a short
    window with a holiday in it (measured 247.7, say) on the calendar it really uses.
    """
    measured = periods_per_year_from_index(index)
    for standard in STANDARD_PERIODS_PER_YEAR:
        if abs(measured / standard - 1.0) <= 0.10:
            return float(standard)
    return float(max(1, round(measured)))


def check_periods_per_year(value, owner: str) -> float | None:
    """``None`` (measure from the dates) or a positive finite number; ConfigError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value <= 0:
        raise ConfigError(
            f"{owner}: periods_per_year must be None (measured from the dates) or a positive "
            f"number such as 252, got {value!r}"
        )
    return float(value)


def to_date(value, what: str) -> pd.Timestamp:
    """A date param (``"2021-07-20"``, a date or a Timestamp) as a tz-naive midnight Timestamp;
    ConfigError naming ``what`` for anything else (a number is not a date: ``2023`` would be
    nanoseconds after 1970)."""
    ts = None
    if not isinstance(value, (bool, int, float)):
        try:
            ts = pd.Timestamp(value)
        except (TypeError, ValueError):
            ts = None
    if ts is None or ts is pd.NaT:
        raise ConfigError(f"{what}: must be a date such as 2021-07-20, got {value!r}")
    if ts.tz is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def check_number(value, what: str) -> float:
    """A finite real number (not a boolean); ConfigError naming ``what`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ConfigError(f"{what}: must be a finite number, got {value!r}")
    return float(value)


def iso_date(ts) -> str | None:
    """ISO string of a timestamp: ``YYYY-MM-DD`` when it falls on midnight, else full ISO."""
    if ts is None:
        return None
    ts = pd.Timestamp(ts)
    if ts is pd.NaT:
        return None
    if ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.isoformat()
