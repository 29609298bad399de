"""Stress windows: return, max drawdown and volatility inside named date windows (paper Table 4).

A window outside the traded period is reported as such (``status = "outside traded period"``,
numbers ``None``), never as zeros; a partly covered window gives the dates actually covered.
Each window is flagged when it overlaps the model's training period: a window inside the
training data is not an out-of-sample stress test (PAPER_NOTES: the paper's 2022 window lies
inside its training period).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from bt_lstm_mvo.analyzers.bt_analyzers import PortfolioReturnsAnalyzer
from bt_lstm_mvo.analyzers.metrics import window_stats
from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.periods import iso_date, to_date

DEFAULT_WINDOWS = {"2022": ("2022-01-01", "2022-12-31")}


def _timestamp(value, what: str) -> pd.Timestamp:
    return to_date(value, f"StressWindow: {what}")


def _period_bounds(period, what: str) -> tuple[pd.Timestamp | None, pd.Timestamp]:
    """(start, end) of a ``(start, end)`` pair or a mapping with ``start``/``end`` keys."""
    if isinstance(period, Mapping):
        start, end = period.get("start"), period.get("end")
    else:
        try:
            start, end = period
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"StressWindow: {what} must be a (start, end) pair, got {period!r}") from exc
    if end is None:
        raise ConfigError(f"StressWindow: {what} needs an end date, got {period!r}")
    return (_timestamp(start, f"{what} start") if start is not None else None,
            _timestamp(end, f"{what} end"))


class StressWindow(PortfolioReturnsAnalyzer):
    """Return, max drawdown and annualised volatility inside one or more named date windows.

    Inside each window (both ends inclusive): ``total_return = prod(1 + r) - 1`` over the
    returns dated inside it, ``max_drawdown`` on wealth starting at 1 at the window's start,
    ``annual_volatility = std(r, ddof=1) * sqrt(P)`` (see
    :func:`bt_lstm_mvo.analyzers.metrics.window_stats`).

    Training overlap (duck-typed, looked up in ``stop()`` so a strategy may set it while
    running): the ``training_end`` param if given; else the strategy attribute
    ``training_end_`` (a date); else ``training_period_`` (a ``(start, end)`` pair or a mapping
    with ``start``/``end``). A window overlaps training when it starts on or before the
    training end (and, with a known training start, ends on or after it). With none of these,
    ``overlaps_training`` is None (unknown).

    Params:
        timeframe (``bt.TimeFrame.Days``), compression (1), fund (None), since (None),
            periods_per_year (None): as :class:`PortfolioReturnsAnalyzer` (the volatility
            inside a window is annualised with the run's factor).
        windows (``{"2022": ("2022-01-01", "2022-12-31")}``): name -> (start, end) dates.
        training_end (None): last date of the data a model was trained on.
        edge_slack_days (4): calendar days a window's edge may fall outside the traded
            period (weekends, holidays) before the window counts as ``"partial"``.

    ``get_analysis()`` keys:
        training_end: ISO date used for the overlap flag (None when unknown).
        training_start: ISO date when known from ``training_period_``, else None.
        training_source: ``"param"``, ``"strategy.training_end_"``,
            ``"strategy.training_period_"`` or None.
        windows: name -> dict with ``requested_start``, ``requested_end``, ``start``, ``end``
            (dates covered by returns), ``n_periods``, ``status`` (``"ok"``, ``"partial"`` or
            ``"outside traded period"``), ``total_return``, ``max_drawdown``,
            ``annual_volatility``, ``periods_per_year``, ``overlaps_training``.
    """

    params = (
        ("windows", DEFAULT_WINDOWS),
        ("training_end", None),
        ("edge_slack_days", 4),
    )

    def _configure(self):
        super()._configure()
        windows = self.p.windows
        if not isinstance(windows, Mapping) or not windows:
            raise ConfigError(
                "StressWindow: windows must be a non-empty mapping name -> (start, end), "
                f"got {windows!r}"
            )
        self.windows = {}
        for name, period in windows.items():
            start, end = _period_bounds(period, f"window {name!r}")
            if start is None:
                raise ConfigError(f"StressWindow: window {name!r} needs a start date, got {period!r}")
            if end < start:
                raise ConfigError(
                    f"StressWindow: window {name!r} ends ({iso_date(end)}) before it starts "
                    f"({iso_date(start)})"
                )
            self.windows[str(name)] = (start, end)
        self.training_end = (
            _timestamp(self.p.training_end, "training_end") if self.p.training_end is not None else None
        )
        slack = self.p.edge_slack_days
        if isinstance(slack, bool) or not isinstance(slack, int) or slack < 0:
            raise ConfigError(f"StressWindow: edge_slack_days must be an integer >= 0, got {slack!r}")
        self.edge_slack_days = slack

    def windows_frame(self) -> pd.DataFrame:
        """One row per window (its ``get_analysis()["windows"]`` entries), after ``stop``."""
        return pd.DataFrame.from_dict(self.rets["windows"], orient="index")

    def training_bounds(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None, str | None]:
        """(training start or None, training end or None, where it came from)."""
        if self.training_end is not None:
            return None, self.training_end, "param"
        end = getattr(self.strategy, "training_end_", None)
        if end is not None:
            return None, _timestamp(end, "strategy.training_end_"), "strategy.training_end_"
        period = getattr(self.strategy, "training_period_", None)
        if period is not None:
            start, end = _period_bounds(period, "strategy.training_period_")
            return start, end, "strategy.training_period_"
        return None, None, None

    def stop(self):
        rets = self.portfolio_returns()
        t_start, t_end, source = self.training_bounds()
        out = {}
        for name, (start, end) in self.windows.items():
            stats = window_stats(
                rets,
                start,
                end,
                periods_per_year=self.annualisation_factor(),
                edge_slack_days=self.edge_slack_days,
            )
            if t_end is None:
                overlaps = None
            else:
                overlaps = bool(start <= t_end and (t_start is None or end >= t_start))
            stats["overlaps_training"] = overlaps
            out[name] = stats
        self.rets = {
            "training_end": iso_date(t_end),
            "training_start": iso_date(t_start),
            "training_source": source,
            "windows": out,
        }
