"""Pure performance metrics on a series of simple periodic returns.

Conventions:
* ``returns`` are simple (not log) returns per bar, as a 1-D array-like or pandas Series.
* ``periods_per_year`` annualises; :func:`periods_per_year_from_index` measures it from the
  dates (about 252 for a business-day calendar, 365 for a 7-day one).
* Undefined values (zero volatility, no downside, empty input) are returned as ``None``,
  never NaN, so results stay JSON-able.

Implemented: total return, CAGR, annualised volatility, Sharpe, Sortino (standard and the
paper's variant), max drawdown and the underwater series, Calmar.

Sortino variants:
* ``"standard"`` (Sortino & van der Meer; empyrical, QuantStats): downside deviation is the
  root mean square of ``min(r - target, 0)`` over *all* periods.
* ``"paper"`` (the reference notebook, PAPER_NOTES step 11): ``mean(r) / std(r[r < 0])`` with
  the population std of the negative periods only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

SORTINO_VARIANTS = ("standard", "paper")


def _arr(returns) -> np.ndarray:
    a = np.asarray(returns, dtype=float).ravel()
    return a[~np.isnan(a)]


def _none_if_bad(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def periods_per_year_from_index(index: Sequence | pd.DatetimeIndex) -> float:
    """Bars per year measured from the dates: (n - 1) / (span in days / 365.25).

    A business-day calendar gives about 252, a 7-day one about 365.
    """
    idx = pd.DatetimeIndex(index)
    if len(idx) < 2:
        raise ValueError("periods_per_year_from_index: need at least 2 dates")
    span_days = (idx[-1] - idx[0]).total_seconds() / 86400.0
    if span_days <= 0:
        raise ValueError("periods_per_year_from_index: dates must increase")
    return (len(idx) - 1) / (span_days / 365.25)


def total_return(returns) -> float | None:
    """Compounded return: prod(1 + r) - 1."""
    a = _arr(returns)
    if a.size == 0:
        return None
    return _none_if_bad(float(np.prod(1.0 + a) - 1.0))


def cagr(returns, periods_per_year: float) -> float | None:
    """Compound annual growth rate: (1 + total)^(periods_per_year / n) - 1."""
    a = _arr(returns)
    if a.size == 0:
        return None
    growth = float(np.prod(1.0 + a))
    if growth <= 0:
        return -1.0
    return _none_if_bad(growth ** (periods_per_year / a.size) - 1.0)


def annual_volatility(returns, periods_per_year: float, ddof: int = 1) -> float | None:
    """Standard deviation of returns times sqrt(periods_per_year) (sample std by default)."""
    a = _arr(returns)
    if a.size <= ddof:
        return None
    return _none_if_bad(float(np.std(a, ddof=ddof)) * math.sqrt(periods_per_year))


def sharpe_ratio(
    returns, periods_per_year: float, risk_free: float = 0.0, ddof: int = 1
) -> float | None:
    """mean(r - rf_per_period) / std(r - rf_per_period) * sqrt(periods_per_year).

    ``risk_free`` is an annual rate, converted per period as ``risk_free / periods_per_year``.
    ``ddof=1`` (sample std) matches empyrical/QuantStats; the paper's notebook uses ``ddof=0``.
    """
    a = _arr(returns) - risk_free / periods_per_year
    if a.size <= ddof:
        return None
    sd = float(np.std(a, ddof=ddof))
    if sd == 0.0:
        return None
    return _none_if_bad(float(np.mean(a)) / sd * math.sqrt(periods_per_year))


def downside_deviation(returns, periods_per_year: float, target: float = 0.0) -> float | None:
    """Annualised root mean square of min(r - target, 0) over all periods."""
    a = _arr(returns)
    if a.size == 0:
        return None
    short = np.minimum(a - target, 0.0)
    return _none_if_bad(math.sqrt(float(np.mean(short**2))) * math.sqrt(periods_per_year))


def sortino_ratio(
    returns, periods_per_year: float, target: float = 0.0, variant: str = "standard"
) -> float | None:
    """Sortino ratio; ``variant`` is ``"standard"`` (default) or ``"paper"`` (see module doc).

    ``target`` is the per-period minimum acceptable return (standard variant only).
    """
    if variant not in SORTINO_VARIANTS:
        raise ValueError(f"sortino_ratio: variant must be one of {SORTINO_VARIANTS}, got {variant!r}")
    a = _arr(returns)
    if a.size == 0:
        return None
    if variant == "paper":
        neg = a[a < 0]
        if neg.size == 0:
            return None
        sd = float(np.std(neg, ddof=0))
        if sd == 0.0:
            return None
        return _none_if_bad(float(np.mean(a)) / sd * math.sqrt(periods_per_year))
    dd = math.sqrt(float(np.mean(np.minimum(a - target, 0.0) ** 2)))
    if dd == 0.0:
        return None
    return _none_if_bad(float(np.mean(a - target)) / dd * math.sqrt(periods_per_year))


def underwater(returns) -> pd.Series | np.ndarray:
    """Drawdown from the running peak of compounded wealth (<= 0), same index as the input.

    Wealth starts at 1 before the first return, so a first-day loss is a drawdown.
    """
    a = np.asarray(returns, dtype=float)
    wealth = np.cumprod(1.0 + np.nan_to_num(a))
    peak = np.maximum.accumulate(np.concatenate([[1.0], wealth]))[1:]
    dd = wealth / peak - 1.0
    if isinstance(returns, pd.Series):
        return pd.Series(dd, index=returns.index, name="drawdown")
    return dd


def max_drawdown(returns) -> float | None:
    """Most negative drawdown of compounded wealth (a number <= 0)."""
    a = _arr(returns)
    if a.size == 0:
        return None
    return _none_if_bad(float(np.min(underwater(a))))


def calmar_ratio(returns, periods_per_year: float) -> float | None:
    """CAGR / |max drawdown|; ``None`` when there was no drawdown."""
    mdd = max_drawdown(returns)
    g = cagr(returns, periods_per_year)
    if mdd is None or g is None or mdd == 0.0:
        return None
    return _none_if_bad(g / abs(mdd))
