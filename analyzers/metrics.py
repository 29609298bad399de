"""Pure performance metrics on a series of simple periodic returns.

Conventions:
* ``returns`` are simple (not log) returns per bar, as a 1-D array-like or pandas Series.
  NaN values are dropped before computing.
* ``periods_per_year`` annualises; the plugin's one rule for measuring it when unset is in
  :mod:`bt_lstm_mvo.periods` (about 252 for a business-day calendar, 365 for a 7-day one).
* ``risk_free`` is an *annual* rate (decimal), converted per period as
  ``risk_free / periods_per_year``. empyrical takes a per-period rate, so
  ``sharpe_ratio(r, P, risk_free=x) == empyrical.sharpe_ratio(r, risk_free=x / P, annualization=P)``.
* ``target`` (Sortino) is a *per-period* minimum acceptable return, like empyrical's
  ``required_return``.
* Volatility and Sharpe use the sample std (``ddof=1``) like empyrical and QuantStats; pass
  ``ddof=0`` for the population std of the paper's notebook.
* CAGR uses the bar count, ``years = n / periods_per_year`` (empyrical ``cagr`` and QuantStats
  0.0.86 ``cagr``), not the calendar span.
* Drawdowns are measured on compounded wealth that starts at 1 *before* the first return, so a
  first-period loss is a drawdown (empyrical and QuantStats do the same).
* Undefined values (zero volatility, no downside, empty input) are returned as ``None``,
  never NaN, so results stay JSON-able. Dates in returned dicts are ISO strings.

Implemented: total return, CAGR, annualised volatility, Sharpe, Sortino (standard and the
paper's variant), downside deviation, max drawdown and the underwater series, Calmar, excess
returns over non-overlapping windows, CAPM alpha/beta, statistics inside a date window, and a
one-call summary. Turnover is measured from the fills, by the ``PortfolioWeights`` analyzer.

Sortino variants:
* ``"standard"`` (Sortino & van der Meer; empyrical, QuantStats): downside deviation is the
  root mean square of ``min(r - target, 0)`` over *all* periods.
* ``"paper"`` (the reference notebook, PAPER_NOTES step 11): ``mean(r) / std(r[r < 0])`` with
  the population std of the negative periods only (``target`` is ignored).

CAPM alpha (:func:`capm_alpha_beta`): OLS of ``r - rf`` on ``b - rf``. ``alpha`` is the
per-period intercept annualised by compounding, ``(1 + a) ** periods_per_year - 1``, as
``empyrical.alpha_beta``; ``alpha_simple = a * periods_per_year`` is QuantStats' ``greeks``
convention. Both are returned.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bt_lstm_mvo.errors import ConfigError, DataError
from bt_lstm_mvo.periods import iso_date, periods_per_year_from_index
from bt_lstm_mvo.vocab import SORTINO_VARIANTS, check_choice

#: window status values of :func:`window_stats`
WINDOW_OK = "ok"
WINDOW_PARTIAL = "partial"
WINDOW_OUTSIDE = "outside traded period"


def _arr(returns) -> np.ndarray:
    a = np.asarray(returns, dtype=float).ravel()
    return a[~np.isnan(a)]


def _none_if_bad(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None




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
        raise ConfigError(f"sortino_ratio: variant must be one of {SORTINO_VARIANTS}, got {variant!r}")
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


# --------------------------------------------------------------------------- helpers on dated series




def as_return_series(returns, name: str = "returns") -> pd.Series:
    """A float Series indexed by increasing dates, NaN dropped.

    Accepts a Series with a DatetimeIndex (or parseable labels) or a mapping ``date -> return``
    such as ``bt.analyzers.TimeReturn().get_analysis()``. Dates are normalised to midnight
    when that keeps them unique (daily or coarser bars), so a TimeReturn key of
    ``2022-01-03 23:59:59.999989`` matches a price index date of ``2022-01-03``.
    """
    if isinstance(returns, pd.Series):
        ser = returns.astype(float)
    elif hasattr(returns, "items"):
        ser = pd.Series(dict(returns.items()), dtype=float)
    else:
        raise DataError(
            f"{name}: expected a pandas Series indexed by dates or a mapping date -> return, "
            f"got {type(returns).__name__}"
        )
    if not isinstance(ser.index, pd.DatetimeIndex) and pd.api.types.is_numeric_dtype(ser.index):
        raise DataError(f"{name}: index must hold dates, got a numeric index ({ser.index.dtype})")
    try:
        idx = pd.DatetimeIndex(ser.index)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: index must hold dates ({exc})") from exc
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    norm = idx.normalize()
    if norm.is_unique:
        idx = norm
    ser = pd.Series(ser.to_numpy(dtype=float), index=idx, name=ser.name).sort_index()
    if not ser.index.is_unique:
        raise DataError(f"{name}: dates must be unique (found duplicated dates)")
    return ser.dropna()


def _common(returns, benchmark) -> tuple[pd.Series, pd.Series]:
    """Both series restricted to the dates where both have a value (inner join)."""
    r = as_return_series(returns, "returns")
    b = as_return_series(benchmark, "benchmark")
    common = r.index.intersection(b.index).sort_values()
    return r.loc[common], b.loc[common]


def _paired_arrays(returns, benchmark) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(returns, "items") or hasattr(benchmark, "items"):
        r, b = _common(returns, benchmark)
        return r.to_numpy(), b.to_numpy()
    r = np.asarray(returns, dtype=float).ravel()
    b = np.asarray(benchmark, dtype=float).ravel()
    if r.shape != b.shape:
        raise DataError(
            f"returns and benchmark arrays must have the same length, got {r.size} and {b.size}; "
            "pass dated Series to align them on common dates"
        )
    ok = ~(np.isnan(r) | np.isnan(b))
    return r[ok], b[ok]


# --------------------------------------------------------------------------- benchmark comparison


def capm_alpha_beta(
    returns, benchmark, periods_per_year: float, risk_free: float = 0.0
) -> dict:
    """CAPM regression (OLS) of the strategy's excess returns on the benchmark's.

    ``r - rf = a + beta * (b - rf) + e`` with ``rf = risk_free / periods_per_year`` (annual
    rate, simple de-annualisation). Dated Series are aligned on their common dates; plain
    arrays must have equal length. Pairs with a NaN are dropped.

    Returns a dict:
        alpha: ``(1 + a) ** periods_per_year - 1`` (compounded annualisation; equals
            ``empyrical.alpha_beta(r, b, risk_free=rf, annualization=periods_per_year)[0]``).
        alpha_simple: ``a * periods_per_year`` (QuantStats ``greeks`` convention).
        alpha_per_period: the OLS intercept ``a``.
        beta: ``cov(r, b) / var(b)``.
        r_squared: squared correlation of the two series.
        n_periods: number of paired observations used.
    Every number is ``None`` when undefined (fewer than 2 pairs, constant benchmark).
    """
    r, b = _paired_arrays(returns, benchmark)
    out = {
        "alpha": None,
        "alpha_simple": None,
        "alpha_per_period": None,
        "beta": None,
        "r_squared": None,
        "n_periods": int(r.size),
    }
    if r.size < 2:
        return out
    rf = risk_free / periods_per_year
    y = r - rf
    x = b - rf
    xc = x - x.mean()
    var_x = float(np.mean(xc * xc))
    if var_x < 1e-30:
        return out
    beta = float(np.mean(xc * y)) / var_x
    a = float(np.mean(y - beta * x))
    yc = y - y.mean()
    var_y = float(np.mean(yc * yc))
    out["beta"] = _none_if_bad(beta)
    out["alpha_per_period"] = _none_if_bad(a)
    out["alpha_simple"] = _none_if_bad(a * periods_per_year)
    out["alpha"] = _none_if_bad((1.0 + a) ** periods_per_year - 1.0) if a > -1.0 else None
    if var_y > 0.0:
        out["r_squared"] = _none_if_bad(float(np.mean(xc * yc)) ** 2 / (var_x * var_y))
    return out


def excess_return_windows(
    strategy_returns, benchmark_returns, n_windows: int | None = 3, window_length: int | None = None
) -> list[dict]:
    """Compounded strategy vs benchmark return over consecutive non-overlapping windows.

    The two series are joined on their common dates (inner join, NaN dropped). Then either
    ``window_length`` is given (a number of common bars: windows of that many bars from the
    first date, the last one holding the remainder and possibly shorter) or the common dates
    are split into ``n_windows`` windows as equal as possible (``np.array_split``; the first
    windows get one extra bar when the count does not divide). ``window_length`` wins when
    both are given.

    Each window is a dict: ``start``, ``end`` (ISO dates of its first and last bar),
    ``n_periods``, ``strategy_return`` and ``benchmark_return`` (``prod(1 + r) - 1`` inside the
    window), ``alpha`` (= strategy_return - benchmark_return, a difference of compounded
    returns, not a regression alpha). A window with no bars (more windows than common dates)
    has ``n_periods = 0`` and ``None`` elsewhere.
    """
    r, b = _common(strategy_returns, benchmark_returns)
    n = len(r)
    if window_length is not None:
        if isinstance(window_length, bool) or not isinstance(window_length, (int, np.integer)) \
                or window_length < 1:
            raise ConfigError(f"window_length must be a positive number of bars, got {window_length!r}")
        positions = [np.arange(i, min(i + int(window_length), n)) for i in range(0, n, int(window_length))]
    else:
        if isinstance(n_windows, bool) or not isinstance(n_windows, (int, np.integer)) or n_windows < 1:
            raise ConfigError(f"n_windows must be a positive integer, got {n_windows!r}")
        positions = np.array_split(np.arange(n), int(n_windows))
    windows = []
    for pos in positions:
        if len(pos) == 0:
            windows.append(
                {"start": None, "end": None, "n_periods": 0, "strategy_return": None,
                 "benchmark_return": None, "alpha": None}
            )
            continue
        rs = total_return(r.iloc[pos])
        bs = total_return(b.iloc[pos])
        alpha = rs - bs if rs is not None and bs is not None else None
        windows.append(
            {
                "start": iso_date(r.index[pos[0]]),
                "end": iso_date(r.index[pos[-1]]),
                "n_periods": int(len(pos)),
                "strategy_return": rs,
                "benchmark_return": bs,
                "alpha": _none_if_bad(alpha) if alpha is not None else None,
            }
        )
    return windows


# --------------------------------------------------------------------------- date windows


def window_stats(
    returns,
    start,
    end,
    periods_per_year: float | None = None,
    edge_slack_days: int = 4,
) -> dict:
    """Return, max drawdown and annualised volatility of ``returns`` inside ``[start, end]``.

    Both ends are inclusive dates. The window's return is ``prod(1 + r) - 1`` over the returns
    dated inside it (the first one runs from the previous bar's close), its drawdown is measured
    on wealth starting at 1 at the window's start, its volatility is the sample std times
    ``sqrt(periods_per_year)``. ``periods_per_year=None`` measures it from the dates of the
    *whole* series (a short window would give a noisy estimate).

    ``status`` is ``"ok"`` when the traded period (first..last date of ``returns``) covers the
    window, ``"partial"`` when it covers only part of it (``start``/``end`` then give the dates
    actually covered), ``"outside traded period"`` when no return falls inside the window (all
    numbers ``None``). Calendar gaps up to ``edge_slack_days`` at either edge (a weekend plus a
    holiday: 2022-01-01 is a Saturday) do not make a window partial.

    Returns a dict with keys ``requested_start``, ``requested_end``, ``start``, ``end``,
    ``n_periods``, ``status``, ``total_return``, ``max_drawdown``, ``annual_volatility``,
    ``sharpe_ratio``, ``sortino_ratio`` (standard variant, target 0), ``periods_per_year``.
    """
    ser = as_return_series(returns)
    w_start = pd.Timestamp(start).normalize()
    w_end = pd.Timestamp(end).normalize()
    if w_end < w_start:
        raise ConfigError(f"window: end {iso_date(w_end)} is before start {iso_date(w_start)}")
    if periods_per_year is None and len(ser) >= 2:
        periods_per_year = periods_per_year_from_index(ser.index)
    day = ser.index.normalize()
    inside = ser[(day >= w_start) & (day <= w_end)]
    out = {
        "requested_start": iso_date(w_start),
        "requested_end": iso_date(w_end),
        "start": None,
        "end": None,
        "n_periods": int(len(inside)),
        "status": WINDOW_OUTSIDE,
        "total_return": None,
        "max_drawdown": None,
        "annual_volatility": None,
        "sharpe_ratio": None,
        "sortino_ratio": None,
        "periods_per_year": _none_if_bad(periods_per_year) if periods_per_year is not None else None,
    }
    if inside.empty:
        return out
    slack = pd.Timedelta(days=edge_slack_days)
    first, last = day[0], day[-1]
    covered = first <= w_start + slack and last >= w_end - slack
    out.update(
        start=iso_date(inside.index[0]),
        end=iso_date(inside.index[-1]),
        status=WINDOW_OK if covered else WINDOW_PARTIAL,
        total_return=total_return(inside),
        max_drawdown=max_drawdown(inside),
        annual_volatility=(
            annual_volatility(inside, periods_per_year) if periods_per_year is not None else None
        ),
        sharpe_ratio=sharpe_ratio(inside, periods_per_year) if periods_per_year is not None else None,
        sortino_ratio=sortino_ratio(inside, periods_per_year) if periods_per_year is not None else None,
    )
    return out


def performance_summary(
    returns,
    periods_per_year: float | None = None,
    sortino_variant: str = "standard",
    target: float = 0.0,
    risk_free: float = 0.0,
    ddof: int = 1,
) -> dict:
    """The paper's Table 1 metric set plus CAGR and Calmar, in one JSON-able dict.

    ``periods_per_year=None`` measures it from the dates of ``returns`` (a Series with a
    DatetimeIndex or a mapping date -> return); undated input needs ``periods_per_year``.

    Keys: ``total_return``, ``cagr``, ``annual_volatility``, ``sharpe_ratio``,
    ``sortino_ratio``, ``downside_deviation``, ``max_drawdown``, ``calmar_ratio``, ``sortino_variant``,
    ``periods_per_year``, ``n_periods``, ``start``, ``end`` (ISO dates; None when undated).
    """
    check_choice(sortino_variant, SORTINO_VARIANTS, "sortino_variant")
    dated = isinstance(returns, pd.Series) and isinstance(returns.index, pd.DatetimeIndex)
    if dated or (not isinstance(returns, pd.Series) and hasattr(returns, "items")):
        ser = as_return_series(returns)
        start, end = (iso_date(ser.index[0]), iso_date(ser.index[-1])) if len(ser) else (None, None)
        if periods_per_year is None and len(ser) >= 2:
            periods_per_year = periods_per_year_from_index(ser.index)
        values = ser.to_numpy()
    else:
        values = _arr(returns)
        start = end = None
    out = {
        "total_return": total_return(values),
        "cagr": None,
        "annual_volatility": None,
        "sharpe_ratio": None,
        "sortino_ratio": None,
        "downside_deviation": None,
        "max_drawdown": max_drawdown(values),
        "calmar_ratio": None,
        "sortino_variant": sortino_variant,
        "periods_per_year": None,
        "n_periods": int(values.size),
        "start": start,
        "end": end,
    }
    if periods_per_year is None:
        return out
    ppy = float(periods_per_year)
    out.update(
        cagr=cagr(values, ppy),
        annual_volatility=annual_volatility(values, ppy, ddof=ddof),
        sharpe_ratio=sharpe_ratio(values, ppy, risk_free=risk_free, ddof=ddof),
        sortino_ratio=sortino_ratio(values, ppy, target=target, variant=sortino_variant),
        downside_deviation=downside_deviation(values, ppy, target=target),
        calmar_ratio=calmar_ratio(values, ppy),
        periods_per_year=_none_if_bad(ppy),
    )
    return out


# --------------------------------------------------------------------------- tearsheet pieces


def monthly_returns(returns) -> pd.DataFrame:
    """Compounded return of each calendar month: one row per year, columns 1..12 (NaN where the
    series has no return that month). Same numbers as ``quantstats.stats.monthly_returns``."""
    ser = as_return_series(returns)
    grouped = (1.0 + ser).groupby([ser.index.year, ser.index.month]).prod() - 1.0
    table = grouped.unstack().reindex(columns=range(1, 13))
    table.index.name, table.columns.name = "year", "month"
    return table


def yearly_returns(returns) -> pd.Series:
    """Compounded return of each calendar year (QuantStats' ``EOY`` column)."""
    ser = as_return_series(returns)
    out = (1.0 + ser).groupby(ser.index.year).prod() - 1.0
    out.index.name = "year"
    return out


def rolling_sharpe(returns, window: int, periods_per_year: float) -> pd.Series:
    """``mean / std(ddof=1) * sqrt(P)`` over trailing ``window`` returns (NaN before it fills)."""
    ser = as_return_series(returns)
    roll = ser.rolling(window)
    return roll.mean() / roll.std() * math.sqrt(periods_per_year)


def rolling_volatility(returns, window: int, periods_per_year: float) -> pd.Series:
    """``std(ddof=1) * sqrt(P)`` over trailing ``window`` returns (NaN before it fills)."""
    ser = as_return_series(returns)
    return ser.rolling(window).std() * math.sqrt(periods_per_year)


def worst_drawdowns(returns, n: int = 5) -> list[dict]:
    """The ``n`` deepest drawdown episodes of compounded wealth (starting at 1 before the first
    return), deepest first: ``start`` (first date below the previous peak), ``valley`` (the
    trough), ``recovery`` (first date back at the peak, None if not yet), ``depth`` (<= 0) and
    ``days`` (calendar days from the start to the recovery, or to the last date)."""
    ser = as_return_series(returns)
    if ser.empty:
        return []
    wealth = np.concatenate([[1.0], np.cumprod(1.0 + ser.to_numpy())])
    peak = np.maximum.accumulate(wealth)
    under = wealth[1:] < peak[1:] * (1 - 1e-12)
    dates = ser.index
    episodes, i = [], 0
    while i < len(under):
        if not under[i]:
            i += 1
            continue
        j = i
        while j < len(under) and under[j]:
            j += 1
        depth_rel = wealth[1 + i: 1 + j] / peak[1 + i: 1 + j] - 1.0
        k = i + int(np.argmin(depth_rel))
        recovered = j < len(under)
        end = dates[j] if recovered else dates[-1]
        episodes.append({
            "start": iso_date(dates[i]), "valley": iso_date(dates[k]),
            "recovery": iso_date(dates[j]) if recovered else None,
            "depth": float(depth_rel.min()), "days": int((end - dates[i]).days),
        })
        i = j
    return sorted(episodes, key=lambda e: e["depth"])[:n]
