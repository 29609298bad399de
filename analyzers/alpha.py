"""Excess return of the strategy over a benchmark, per non-overlapping window (paper Table 2).

The benchmark is either a data feed added to cerebro (its close-to-close returns, tracked on
the strategy's clock like ``TimeReturn(data=...)``) or a returns Series given as a param (for
example another strategy's daily ``TimeReturn``). ``alpha`` of a window is the difference of
the compounded returns, ``prod(1 + r_s) - prod(1 + r_b)``, over the dates both series share;
the CAPM regression alpha/beta is an option (see :func:`bt_lstm_mvo.analyzers.metrics.capm_alpha_beta`).
"""

from __future__ import annotations

import backtrader as bt
import pandas as pd

from bt_lstm_mvo.analyzers.bt_analyzers import PortfolioReturnsAnalyzer, returns_from_timereturn
from bt_lstm_mvo.analyzers.metrics import as_return_series, capm_alpha_beta, excess_return_windows, total_return
from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.periods import check_number, iso_date


class BenchmarkReturn(bt.analyzers.TimeReturn):
    """``TimeReturn(data=...)`` that records nothing before the feed's first bar.

    Backtrader's ``TimeReturn`` reads ``data[0]`` even while the feed has no bar yet (it then
    sees a meaningless value), so a benchmark starting after the strategy's first bar got a
    bogus first return, and it keeps recording ``0.0`` after the feed has ended. Here, dates
    before the feed's first bar and after its last bar have no return; the feed's first return
    is ``close / open - 1`` with ``firstopen=True`` or ``0.0`` with ``firstopen=False``;
    in between, returns are close-to-close on the strategy's clock (``0.0`` on a strategy bar
    where the feed has no new bar, e.g. a weekend for an equity benchmark of a crypto
    strategy, so compounding over any window stays exact).
    """

    def start(self):
        super().start()
        self._value = None
        self._value_start = None
        self._seen_len = 0
        self._last_fresh_key = None

    def notify_fund(self, cash, value, fundvalue, shares):
        data = self.p.data
        self._value = float(data[0]) if len(data) else None

    def on_dt_over(self):
        data = self.p.data
        if self._lastvalue is not None:
            self._value_start = self._lastvalue
        elif len(data):
            self._value_start = float(data.open[0]) if self.p.firstopen else float(data[0])
        else:
            self._value_start = None

    def next(self):
        if self._value is None or not self._value_start:
            return
        self.rets[self.dtkey] = self._value / self._value_start - 1.0
        self._lastvalue = self._value
        if len(self.p.data) > self._seen_len:
            self._seen_len = len(self.p.data)
            self._last_fresh_key = self.dtkey

    def stop(self):
        super().stop()
        # drop the stale returns recorded after the feed's last bar
        for key in [k for k in self.rets if self._last_fresh_key is not None and k > self._last_fresh_key]:
            del self.rets[key]


class RollingAlpha(PortfolioReturnsAnalyzer):
    """Strategy vs benchmark: compounded excess return per window, optionally CAPM alpha/beta.

    Exactly one of ``data`` and ``benchmark_returns`` must be given. The strategy's returns are
    the broker's value-based returns (``TimeReturn``); both series are joined on their common
    dates, which are then split into ``n_windows`` consecutive windows as equal as possible
    (``np.array_split``) and/or into consecutive windows of ``window_length`` bars (the last
    one shorter when the count does not divide).

    Params:
        timeframe (``bt.TimeFrame.Days``), compression (1), fund (None), since (None),
            periods_per_year (None): as :class:`PortfolioReturnsAnalyzer` (``P`` annualises the
            CAPM alpha).
        data (None): benchmark data feed (added to cerebro); its close-to-close returns.
        benchmark_returns (None): benchmark returns as a pandas Series indexed by dates, or a
            mapping date -> return (e.g. another strategy's ``TimeReturn().get_analysis()``).
        firstopen (False): feed benchmark only: its first return is ``close / open - 1`` when
            True, ``0.0`` when False (like the strategy's, which starts from the cash value).
        n_windows (3): number of equal windows (the paper's Table 2 uses 3); None for none.
        window_length (None): length of fixed windows in bars; None for none.
        capm (False): also regress the strategy on the benchmark (OLS alpha/beta).
        risk_free (0.0): annual risk-free rate (decimal) for the CAPM regression.

    ``get_analysis()`` keys:
        benchmark: the feed's name, or ``"returns series"`` (plus its name if it has one).
        start, end, n_periods: common dates used (ISO) and their count.
        periods_per_year: the factor used (None when it could not be measured).
        total: ``{strategy_return, benchmark_return, alpha}`` over all common dates.
        windows: list of ``{start, end, n_periods, strategy_return, benchmark_return, alpha}``
            for the ``n_windows`` split (None when ``n_windows`` is None).
        fixed_windows: the same for ``window_length`` windows (None when not configured).
        capm: ``{alpha, alpha_simple, alpha_per_period, beta, r_squared, n_periods}`` (alpha
            compounded to a year, as empyrical; alpha_simple = per-period alpha x P), or None.
    """

    params = (
        ("data", None),
        ("benchmark_returns", None),
        ("firstopen", False),
        ("n_windows", 3),
        ("window_length", None),
        ("capm", False),
        ("risk_free", 0.0),
    )

    def _configure(self):
        super()._configure()
        feed, series = self.p.data, self.p.benchmark_returns
        if (feed is None) == (series is None):
            raise ConfigError(
                "RollingAlpha: give exactly one benchmark: data=<a data feed> or "
                "benchmark_returns=<a returns Series>"
            )
        self.n_windows = self.p.n_windows
        self.window_length = self.p.window_length
        if self.n_windows is None and self.window_length is None:
            raise ConfigError("RollingAlpha: set n_windows (e.g. 3) and/or window_length (bars)")
        for key, val in (("n_windows", self.n_windows), ("window_length", self.window_length)):
            if val is not None and (isinstance(val, bool) or not isinstance(val, int) or val < 1):
                raise ConfigError(f"RollingAlpha: {key} must be a positive integer or None, got {val!r}")
        self.capm = bool(self.p.capm)
        self.risk_free = check_number(self.p.risk_free, "RollingAlpha: risk_free")
        self.benchmark_series = None
        self.benchmark_tracker = None
        if series is not None:
            self.benchmark_series = as_return_series(series, "RollingAlpha benchmark_returns")
            label = getattr(series, "name", None)
            self.benchmark_name = f"returns series {label}" if label else "returns series"
        else:
            self.benchmark_tracker = BenchmarkReturn(
                data=feed,
                timeframe=self.p.timeframe,
                compression=self.p.compression,
                firstopen=self.p.firstopen,
            )
            self.benchmark_name = getattr(feed, "_name", "") or "data"

    def benchmark_returns(self) -> pd.Series:
        """The benchmark's returns (from the feed, or the configured Series)."""
        if self.benchmark_series is not None:
            return self.benchmark_series
        return returns_from_timereturn(self.benchmark_tracker.get_analysis())

    def stop(self):
        strat = self.portfolio_returns()
        bench = self.benchmark_returns()
        common = strat.index.intersection(bench.index).sort_values()
        r, b = strat.loc[common], bench.loc[common]
        ppy = self.annualisation_factor()
        rs, bs = total_return(r), total_return(b)
        self.rets = {
            "benchmark": self.benchmark_name,
            "start": iso_date(common[0]) if len(common) else None,
            "end": iso_date(common[-1]) if len(common) else None,
            "n_periods": len(common),
            "periods_per_year": ppy,
            "total": {
                "strategy_return": rs,
                "benchmark_return": bs,
                "alpha": rs - bs if rs is not None and bs is not None else None,
            },
            "windows": (
                excess_return_windows(r, b, n_windows=self.n_windows) if self.n_windows else None
            ),
            "fixed_windows": (
                excess_return_windows(r, b, window_length=self.window_length)
                if self.window_length
                else None
            ),
            "capm": (
                capm_alpha_beta(r, b, ppy, risk_free=self.risk_free)
                if self.capm and ppy is not None
                else None
            ),
        }
