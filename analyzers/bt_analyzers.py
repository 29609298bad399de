"""Backtrader analyzers over the portfolio's value-based returns: Sortino and the paper's summary.

Every analyzer here is a thin adapter: a ``bt.analyzers.TimeReturn`` sub-analyzer (created in
``__init__``, as backtrader's own ``SharpeRatio`` does) records the broker's value-based
returns, by default one per day (``timeframe=Days``), and ``stop()`` applies the pure functions
of :mod:`bt_lstm_mvo.analyzers.metrics` to that series. They work in any cerebro with any strategy: add
them with ``cerebro.addanalyzer(...)``.

Conventions:

* The first return is ``value at the close of bar 1 / starting cash - 1`` (that is how
  ``TimeReturn`` starts); it is ``0.0`` unless an order fills on bar 1. Bars before the
  strategy's warm-up ends are included (normally zero returns while flat).
* Dates of daily (or coarser) returns are normalised to midnight and reported as ISO strings
  (``"2022-01-03"``).
* ``periods_per_year=None`` measures the annualisation factor from the return dates
  (:func:`bt_lstm_mvo.analyzers.metrics.periods_per_year_from_index`: about 252 on an exchange calendar,
  365 on a 7-day one).
* ``get_analysis()`` returns a plain, JSON-able dict; an undefined number is ``None``.
"""

from __future__ import annotations

import math

import backtrader as bt
import pandas as pd

from bt_lstm_mvo.analyzers.metrics import (
    SORTINO_VARIANTS,
    as_return_series,
    iso_date,
    performance_summary,
    periods_per_year_from_index,
    sortino_ratio,
)
from bt_lstm_mvo.errors import ConfigError


def returns_from_timereturn(analysis) -> pd.Series:
    """``TimeReturn().get_analysis()`` (datetime -> return) as a float Series on normalised dates."""
    return as_return_series(analysis, "TimeReturn analysis")


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


def measured_periods_per_year(returns: pd.Series, configured: float | None) -> float | None:
    """``configured`` if given, else bars per year measured from the dates (None if < 2 dates)."""
    if configured is not None:
        return configured
    if len(returns) < 2:
        return None
    return float(periods_per_year_from_index(returns.index))


class PortfolioReturnsAnalyzer(bt.Analyzer):
    """Base class: owns a ``TimeReturn`` sub-analyzer on the broker's portfolio value.

    Params:
        timeframe (``bt.TimeFrame.Days``): period of the returns (as ``TimeReturn``).
        compression (1): periods per return for sub-day timeframes (as ``TimeReturn``).
        fund (None): ``None`` follows the broker's fund mode; ``True``/``False`` forces it.
        since (None): if set (a date), only returns earned after the close of that date count,
            e.g. the strategy's first trading bar, so warm-up bars spent in cash do not dilute
            the metrics.
    """

    params = (
        ("timeframe", bt.TimeFrame.Days),
        ("compression", 1),
        ("fund", None),
        ("since", None),
    )

    def __init__(self):
        self.timereturn = bt.analyzers.TimeReturn(
            timeframe=self.p.timeframe, compression=self.p.compression, fund=self.p.fund
        )

    def portfolio_returns(self) -> pd.Series:
        """The portfolio's returns so far, as a Series on (normalised) dates (after ``since``)."""
        rets = returns_from_timereturn(self.timereturn.get_analysis())
        if self.p.since is not None:
            rets = rets[rets.index > pd.Timestamp(self.p.since)]
        return rets


class SortinoRatio(PortfolioReturnsAnalyzer):
    """Sortino ratio of the portfolio's value-based returns.

    ``"standard"``: ``mean(r - target) / sqrt(mean(min(r - target, 0)^2)) * sqrt(P)`` over all
    periods (Sortino & van der Meer; equals ``empyrical.sortino_ratio``). ``"paper"``: the
    reference notebook's ``mean(r) / std(r[r < 0]) * sqrt(P)`` (population std of the negative
    periods only; ``target`` ignored).

    Params:
        timeframe (``bt.TimeFrame.Days``), compression (1), fund (None): as ``TimeReturn``.
        target (0.0): minimum acceptable return *per period* (e.g. per day).
        variant ("standard"): ``"standard"`` or ``"paper"``.
        periods_per_year (None): annualisation factor ``P``; ``None`` measures it from the
            return dates.

    ``get_analysis()`` keys:
        sortino_ratio: the ratio, or None when undefined (no downside, fewer than 2 returns).
        variant, target: as configured.
        periods_per_year: the factor used (None when it could not be measured).
        n_periods: number of returns.
        start, end: ISO dates of the first and last return (None when there is none).
    """

    params = (
        ("target", 0.0),
        ("variant", "standard"),
        ("periods_per_year", None),
    )

    def __init__(self):
        super().__init__()
        if self.p.variant not in SORTINO_VARIANTS:
            raise ConfigError(
                f"SortinoRatio: variant must be one of {SORTINO_VARIANTS}, got {self.p.variant!r}"
            )
        self.variant = self.p.variant
        self.target = float(self.p.target)
        self.periods_per_year = check_periods_per_year(self.p.periods_per_year, "SortinoRatio")

    def stop(self):
        rets = self.portfolio_returns()
        ppy = measured_periods_per_year(rets, self.periods_per_year)
        value = None
        if ppy is not None:
            value = sortino_ratio(rets.to_numpy(), ppy, target=self.target, variant=self.variant)
        self.rets = {
            "sortino_ratio": value,
            "variant": self.variant,
            "target": self.target,
            "periods_per_year": ppy,
            "n_periods": len(rets),
            "start": iso_date(rets.index[0]) if len(rets) else None,
            "end": iso_date(rets.index[-1]) if len(rets) else None,
        }


class PaperMetrics(PortfolioReturnsAnalyzer):
    """The paper's Table 1 metric set, plus CAGR and Calmar, on the portfolio's returns.

    Formulas (:mod:`bt_lstm_mvo.analyzers.metrics`): total return ``prod(1 + r) - 1``; CAGR
    ``(1 + total) ** (P / n) - 1``; volatility ``std(r, ddof) * sqrt(P)``; Sharpe
    ``mean(r - rf/P) / std(r - rf/P, ddof) * sqrt(P)``; Sortino by ``sortino_variant``; max
    drawdown on compounded wealth (a number <= 0); Calmar ``CAGR / |max drawdown|``.
    To reproduce the notebook's step 11 use ``ddof=0, sortino_variant="paper",
    periods_per_year=252``.

    Params:
        timeframe (``bt.TimeFrame.Days``), compression (1), fund (None): as ``TimeReturn``.
        sortino_variant ("standard"): ``"standard"`` or ``"paper"``.
        target (0.0): per-period minimum acceptable return of the standard Sortino.
        risk_free (0.0): annual risk-free rate (decimal) for the Sharpe ratio.
        ddof (1): delta degrees of freedom of the std (1: sample, as empyrical; 0: the paper).
        periods_per_year (None): annualisation factor; ``None`` measures it from the dates.

    ``get_analysis()`` keys:
        total_return, cagr, annual_volatility, sharpe_ratio, sortino_ratio, max_drawdown,
        calmar_ratio: the metrics (None when undefined).
        sortino_variant, periods_per_year, n_periods, start, end: what they were computed on.
    """

    params = (
        ("sortino_variant", "standard"),
        ("target", 0.0),
        ("risk_free", 0.0),
        ("ddof", 1),
        ("periods_per_year", None),
    )

    def __init__(self):
        super().__init__()
        if self.p.sortino_variant not in SORTINO_VARIANTS:
            raise ConfigError(
                f"PaperMetrics: sortino_variant must be one of {SORTINO_VARIANTS}, "
                f"got {self.p.sortino_variant!r}"
            )
        if self.p.ddof not in (0, 1):
            raise ConfigError(f"PaperMetrics: ddof must be 0 or 1, got {self.p.ddof!r}")
        self.sortino_variant = self.p.sortino_variant
        self.target = float(self.p.target)
        self.risk_free = float(self.p.risk_free)
        self.ddof = int(self.p.ddof)
        self.periods_per_year = check_periods_per_year(self.p.periods_per_year, "PaperMetrics")

    def stop(self):
        rets = self.portfolio_returns()
        self.rets = performance_summary(
            rets,
            periods_per_year=self.periods_per_year,
            sortino_variant=self.sortino_variant,
            target=self.target,
            risk_free=self.risk_free,
            ddof=self.ddof,
        )
