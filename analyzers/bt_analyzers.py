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

import backtrader as bt
import numpy as np
import pandas as pd

from bt_lstm_mvo.analyzers.metrics import (
    as_return_series,
    downside_deviation,
    monthly_returns,
    performance_summary,
    rolling_sharpe,
    rolling_volatility,
    sortino_ratio,
    worst_drawdowns,
    yearly_returns,
)
from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.periods import check_number, check_periods_per_year, iso_date, periods_per_year_from_index, to_date
from bt_lstm_mvo.vocab import SORTINO_VARIANTS, check_choice


def returns_from_timereturn(analysis) -> pd.Series:
    """``TimeReturn().get_analysis()`` (datetime -> return) as a float Series on normalised dates."""
    return as_return_series(analysis, "TimeReturn analysis")




class PortfolioReturnsAnalyzer(bt.Analyzer):
    """Base class: owns a ``TimeReturn`` sub-analyzer on the broker's portfolio value.

    Annualisation (:mod:`bt_lstm_mvo.periods`, the plugin's one rule): ``periods_per_year`` when
    given, else measured from the dates of *every* return ``TimeReturn`` recorded (the whole
    run, warm-up bars included, before the ``since`` cut), so a plain cerebro and the runner
    give the same factor for the same feeds.

    Params:
        timeframe (``bt.TimeFrame.Days``): period of the returns (as ``TimeReturn``).
        compression (1): periods per return for sub-day timeframes (as ``TimeReturn``).
        fund (None): ``None`` follows the broker's fund mode; ``True``/``False`` forces it.
        since (None): if set (a date), only returns earned after the close of that date count,
            e.g. the strategy's first trading bar, so warm-up bars spent in cash do not dilute
            the metrics.
        periods_per_year (None): annualisation factor; ``None`` measures it (see above).
    """

    params = (
        ("timeframe", bt.TimeFrame.Days),
        ("compression", 1),
        ("fund", None),
        ("since", None),
        ("periods_per_year", None),
    )

    def __init__(self):
        self.timereturn = bt.analyzers.TimeReturn(
            timeframe=self.p.timeframe, compression=self.p.compression, fund=self.p.fund
        )
        self._configure()

    def _configure(self):
        """Check and read the params (shared by ``__init__`` and :mod:`~bt_lstm_mvo.analyzers.replay`)."""
        owner = type(self).__name__
        self.since = to_date(self.p.since, f"{owner}: since") if self.p.since is not None else None
        self.configured_periods_per_year = check_periods_per_year(self.p.periods_per_year, owner)

    def all_returns(self) -> pd.Series:
        """Every return ``TimeReturn`` recorded (warm-up included), on normalised dates."""
        return returns_from_timereturn(self.timereturn.get_analysis())

    def portfolio_returns(self) -> pd.Series:
        """The portfolio's returns so far, as a Series on (normalised) dates (after ``since``)."""
        rets = self.all_returns()
        if self.since is not None:
            rets = rets[rets.index > self.since]
        return rets

    def annualisation_factor(self) -> float | None:
        """Bars per year by the plugin's rule (None with fewer than 2 dated returns)."""
        if self.configured_periods_per_year is not None:
            return self.configured_periods_per_year
        dates = self.all_returns().index
        return float(periods_per_year_from_index(dates)) if len(dates) >= 2 else None


class SortinoRatio(PortfolioReturnsAnalyzer):
    """Sortino ratio of the portfolio's value-based returns.

    ``"standard"``: ``mean(r - target) / sqrt(mean(min(r - target, 0)^2)) * sqrt(P)`` over all
    periods (Sortino & van der Meer; equals ``empyrical.sortino_ratio``). ``"paper"``: the
    reference notebook's ``mean(r) / std(r[r < 0]) * sqrt(P)`` (population std of the negative
    periods only; ``target`` ignored).

    Params:
        timeframe (``bt.TimeFrame.Days``), compression (1), fund (None), since (None),
            periods_per_year (None): as :class:`PortfolioReturnsAnalyzer`.
        target (0.0): minimum acceptable return *per period* (e.g. per day).
        variant ("standard"): ``"standard"`` or ``"paper"``.

    ``get_analysis()`` keys:
        sortino_ratio: the ratio, or None when undefined (no downside, fewer than 2 returns).
        downside_deviation: annualised ``sqrt(mean(min(r - target, 0)^2) * P)`` (None when
            undefined).
        variant, target: as configured.
        periods_per_year: the factor used (None when it could not be measured).
        n_periods: number of returns.
        start, end: ISO dates of the first and last return (None when there is none).
    """

    params = (
        ("target", 0.0),
        ("variant", "standard"),
    )

    def _configure(self):
        super()._configure()
        self.variant = check_choice(self.p.variant, SORTINO_VARIANTS, "SortinoRatio: variant")
        self.target = check_number(self.p.target, "SortinoRatio: target")

    def stop(self):
        rets = self.portfolio_returns()
        ppy = self.annualisation_factor()
        value = deviation = None
        if ppy is not None:
            value = sortino_ratio(rets.to_numpy(), ppy, target=self.target, variant=self.variant)
            deviation = downside_deviation(rets.to_numpy(), ppy, target=self.target)
        self.rets = {
            "sortino_ratio": value,
            "downside_deviation": deviation,
            "variant": self.variant,
            "target": self.target,
            "periods_per_year": ppy,
            "n_periods": len(rets),
            "start": iso_date(rets.index[0]) if len(rets) else None,
            "end": iso_date(rets.index[-1]) if len(rets) else None,
        }


class PaperMetrics(PortfolioReturnsAnalyzer):
    """The paper's Table 1 metric set, plus CAGR, Calmar and downside deviation.

    Formulas (:mod:`bt_lstm_mvo.analyzers.metrics`): total return ``prod(1 + r) - 1``; CAGR
    ``(1 + total) ** (P / n) - 1``; volatility ``std(r, ddof) * sqrt(P)``; Sharpe
    ``mean(r - rf/P) / std(r - rf/P, ddof) * sqrt(P)``; Sortino by ``sortino_variant``; downside
    deviation ``sqrt(mean(min(r - target, 0)^2) * P)``; max drawdown on compounded wealth (a
    number <= 0); Calmar ``CAGR / |max drawdown|``. ``P`` follows the plugin's annualisation
    rule (:class:`PortfolioReturnsAnalyzer`). To reproduce the notebook's step 11 use
    ``ddof=0, sortino_variant="paper", periods_per_year=252``.

    Params:
        timeframe (``bt.TimeFrame.Days``), compression (1), fund (None), since (None),
            periods_per_year (None): as :class:`PortfolioReturnsAnalyzer`.
        sortino_variant ("standard"): ``"standard"`` or ``"paper"``.
        target (0.0): per-period minimum acceptable return of the standard Sortino and of the
            downside deviation.
        risk_free (0.0): annual risk-free rate (decimal) for the Sharpe ratio.
        sortino_risk_free (False): add ``risk_free / P`` to the Sortino's and the downside
            deviation's ``target`` too (the runner's ``analysis.risk_free`` does).
        ddof (1): delta degrees of freedom of the std (1: sample, as empyrical; 0: the paper).

    ``get_analysis()`` keys:
        total_return, cagr, annual_volatility, sharpe_ratio, sortino_ratio, downside_deviation,
        max_drawdown, calmar_ratio: the metrics (None when undefined).
        sortino_variant, periods_per_year, n_periods, start, end: what they were computed on.

    :meth:`portfolio_returns` gives the daily returns the metrics were computed on, as a
    pandas Series on dates.
    """

    params = (
        ("sortino_variant", "standard"),
        ("target", 0.0),
        ("risk_free", 0.0),
        ("ddof", 1),
        ("sortino_risk_free", False),
    )

    def _configure(self):
        super()._configure()
        self.sortino_variant = check_choice(self.p.sortino_variant, SORTINO_VARIANTS,
                                            "PaperMetrics: sortino_variant")
        if self.p.ddof not in (0, 1):
            raise ConfigError(f"PaperMetrics: ddof must be 0 or 1, got {self.p.ddof!r}")
        self.target = check_number(self.p.target, "PaperMetrics: target")
        self.risk_free = check_number(self.p.risk_free, "PaperMetrics: risk_free")
        self.ddof = int(self.p.ddof)

    def stop(self):
        ppy = self.annualisation_factor()
        self.rets = performance_summary(
            self.portfolio_returns(),
            periods_per_year=ppy,
            sortino_variant=self.sortino_variant,
            target=self.target + (self.risk_free / ppy if self.p.sortino_risk_free and ppy else 0.0),
            risk_free=self.risk_free,
            ddof=self.ddof,
        )


class TearsheetStats(PortfolioReturnsAnalyzer):
    """What a tearsheet shows, on the portfolio's returns: monthly and yearly returns, rolling
    Sharpe and volatility, the worst drawdowns (the pure functions of
    :mod:`bt_lstm_mvo.analyzers.metrics`; QuantStats gives the same numbers).

    Params:
        timeframe, compression, fund, since, periods_per_year: as :class:`PortfolioReturnsAnalyzer`.
        rolling_bars (126): window of the rolling Sharpe and volatility (about six months).
        n_drawdowns (5): how many of the deepest drawdowns to list.

    ``get_analysis()`` keys:
        monthly: {year: {month (1-12): return}} (months without returns omitted);
        yearly: {year: return};
        rolling: {bars, periods_per_year, sharpe: {date: value}, volatility: {date: value}}
            (dates once the window is full);
        drawdowns: list of {start, valley, recovery, depth, days}, deepest first.
    """

    params = (("rolling_bars", 126), ("n_drawdowns", 5))

    def monthly_frame(self) -> pd.DataFrame:
        """Monthly returns as a DataFrame: one row per year, columns 1..12 (after ``stop``)."""
        return monthly_returns(self.portfolio_returns())

    def rolling_frame(self) -> pd.DataFrame:
        """Rolling Sharpe and volatility as a DataFrame on the return dates (after ``stop``)."""
        rolling = self.rets["rolling"]
        return pd.DataFrame({k: pd.Series(rolling[k], dtype=float) for k in ("sharpe", "volatility")}).rename(
            index=pd.Timestamp)

    def drawdowns_frame(self) -> pd.DataFrame:
        """The worst drawdowns, one row each (after ``stop``)."""
        return pd.DataFrame(self.rets["drawdowns"], columns=["start", "valley", "recovery", "depth", "days"])

    def _configure(self):
        super()._configure()
        for key in ("rolling_bars", "n_drawdowns"):
            value = getattr(self.p, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < (2 if key == "rolling_bars" else 1):
                raise ConfigError(f"TearsheetStats: {key} must be an integer >= "
                                  f"{2 if key == 'rolling_bars' else 1}, got {value!r}")
        self.rolling_bars, self.n_drawdowns = self.p.rolling_bars, self.p.n_drawdowns

    def stop(self):
        rets = self.portfolio_returns()
        ppy = self.annualisation_factor()
        monthly = monthly_returns(rets)
        self.rets = {
            "monthly": {int(y): {int(m): float(v) for m, v in row.items() if v == v} for y, row in monthly.iterrows()},
            "yearly": {int(y): float(v) for y, v in yearly_returns(rets).items()},
            "rolling": {"bars": self.rolling_bars, "periods_per_year": ppy, "sharpe": {}, "volatility": {}},
            "drawdowns": worst_drawdowns(rets, self.n_drawdowns),
        }
        if ppy is not None:
            for key, fn in (("sharpe", rolling_sharpe), ("volatility", rolling_volatility)):
                series = fn(rets, self.rolling_bars, ppy).dropna()
                self.rets["rolling"][key] = {iso_date(d): float(v) for d, v in series.items() if np.isfinite(v)}
