"""Causal decisions: when to fit and rebalance, and the target weights decided at each rebalance.

What an allocator decides depends on the prices it has seen and nothing else (not on the
portfolio, the costs or the fills), so the decisions of a run are computed once, bar by bar,
and any number of cost settings can then be simulated on them (:func:`~bt_lstm_mvo.engine.simulate.simulate`).

At a decision bar ``t`` the allocator gets the closes of rows ``0..t`` (the last ``lookback``
of them), a fit at ``t`` the rows up to ``t - fit_gap`` (the last ``fit_window``): rows after
``t`` are never read, which the look-ahead tests check by changing them.

Schedules, as sets of bars (the trading bars are those on or after ``trade_start``): ``daily``
every trading bar; ``N`` every N-th from the first; ``never`` the first only; ``weekly``,
``monthly``, ``quarterly`` the first trading bar and every bar that starts a new ISO week,
month or quarter relative to the bar before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bt_lstm_mvo.allocators.base import ALLOCATOR_FAILURES, Allocator, has_array_path, weights_array
from bt_lstm_mvo.engine.bars import Bars
from bt_lstm_mvo.errors import AllocationError, ConfigError, DataError
from bt_lstm_mvo.vocab import FAILURE_POLICIES, SCHEDULES, check_choice


@dataclass
class Decisions:
    """The rebalance bars and their target weights (asset order), plus the fit and fallback log."""

    rows: np.ndarray  # bar indices of the decisions, increasing
    targets: np.ndarray  # (len(rows), assets)
    fits: list[dict] = field(default_factory=list)
    fallbacks: list[dict] = field(default_factory=list)
    training_period: tuple | None = None  # (first, last) date of the first fit's rows

    def at(self) -> dict[int, np.ndarray]:
        return dict(zip(self.rows.tolist(), self.targets))


def due_rows(dates: pd.DatetimeIndex, first: int, schedule) -> np.ndarray:
    """Bar indices (>= ``first``) on which ``schedule`` rebalances."""
    n = len(dates)
    rows = np.arange(first, n)
    if not len(rows):
        return rows
    if isinstance(schedule, bool) or not (schedule in SCHEDULES or (isinstance(schedule, int) and schedule >= 1)):
        raise ConfigError(f"schedule: must be one of {list(SCHEDULES)} or a positive integer, got {schedule!r}")
    if schedule == "daily":
        return rows
    if schedule == "never":
        return rows[:1]
    if isinstance(schedule, int):
        return rows[::schedule]
    d = dates[first:]
    iso = d.isocalendar()
    key = {"weekly": iso.year.to_numpy() * 100 + iso.week.to_numpy(),
           "monthly": d.year * 12 + d.month,
           "quarterly": d.year * 4 + (d.month - 1) // 3}[schedule]
    key = np.asarray(key)
    new = np.r_[True, key[1:] != key[:-1]]
    return rows[new]


def fit_rows(dates: pd.DatetimeIndex, first: int, fit: bool, refit: int | None, refit_dates) -> list[int]:
    """Bar indices of the fits: the first trading bar (if ``fit``), then every ``refit`` trading
    bars, or the first trading bar on or after each of ``refit_dates``."""
    n = len(dates)
    if first >= n:
        return []
    out = [first] if fit else []
    if refit is not None:
        out += list(range(first + refit, n, refit))
    elif refit_dates:
        days = np.array([np.datetime64(pd.Timestamp(d).date(), "D") for d in refit_dates])
        bar_days = dates.values.astype("datetime64[D]")
        hits = np.searchsorted(bar_days, days, side="left")
        out += sorted({int(r) for r in hits if first < r < n})
    return sorted(set(out))


def decide(bars: Bars, allocator: Allocator, *, schedule="daily", trade_start=None, fit: bool = True,
           refit: int | None = None, refit_dates=None, fit_window: int | None = None, fit_gap: int = 0,
           on_failure: str = "raise") -> Decisions:
    """Fit and ask ``allocator`` at every decision bar, in time order (see the module docstring)."""
    check_choice(on_failure, FAILURE_POLICIES, "on_failure")
    if refit is not None and refit_dates is not None:
        raise ConfigError("refit and refit_dates: give one (every N bars, or on given dates), not both")
    for name, value, low in (("refit", refit, 1), ("fit_window", fit_window, 2), ("fit_gap", fit_gap, 0)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
            raise ConfigError(f"{name}: must be an integer >= {low} (bars), got {value!r}")
    dates, names = bars.dates, pd.Index(list(bars.names))
    first = 0 if trade_start is None else int(np.searchsorted(dates.values.astype("datetime64[D]"),
                                                               np.datetime64(pd.Timestamp(trade_start).date(), "D")))
    due = due_rows(dates, first, schedule)
    fits = fit_rows(dates, first, fit, refit, refit_dates)
    close, stamps = bars.close, dates.values.astype("datetime64[ns]")
    array_path = has_array_path(type(allocator))
    out = Decisions(rows=due, targets=np.zeros((len(due), len(names))))
    if not fit and first < len(dates) and getattr(allocator, "fit_end_", None) is not None:
        start = getattr(allocator, "fit_start_", None)
        out.training_period = (pd.Timestamp(start).date() if start is not None else None,
                               pd.Timestamp(allocator.fit_end_).date())

    def frame(lo, hi):  # the window's own copy, kept as is (copy=False), laid out as a strategy's history frame:
        # pandas' reductions (a covariance) sum in layout order, so another layout changes the last bit
        return pd.DataFrame(close[lo:hi].copy(), index=pd.DatetimeIndex(stamps[lo:hi], name="Date"), columns=names,
                            copy=False)

    last = None
    todo = sorted({(r, 0) for r in fits} | {(int(r), 1) for r in due})  # a fit before the decision of its bar
    source = type(allocator).__name__
    k = 0
    for row, what in todo:
        if what == 0:
            date = dates[row].date()
            hi = row + 1 - fit_gap
            lo = 0 if fit_window is None else max(0, hi - fit_window)
            if hi <= 0:
                raise DataError(f"{date}: fit_gap {fit_gap} leaves no rows of history to fit on")
            history = frame(lo, hi)
            allocator.fit(history)
            if not out.fits:
                out.training_period = (history.index[0].date(), history.index[-1].date())
            out.fits.append({"date": date, "rows": hi - lo, "first": history.index[0].date(),
                             "last": history.index[-1].date()})
            continue
        lookback = allocator.lookback  # read at every call, as a strategy does (a fit may set it)
        lo = 0 if lookback is None else max(0, row + 1 - lookback)
        try:
            if array_path:
                raw = allocator.allocate_values(close[lo:row + 1], names, stamps[lo:row + 1])
            else:
                raw = allocator.allocate(frame(lo, row + 1))
            w = weights_array(raw, names, source=source)
        except ALLOCATOR_FAILURES as exc:
            date = dates[row].date()
            if on_failure == "raise":
                if isinstance(exc, AllocationError):
                    raise AllocationError(f"{date}: {exc}") from exc
                raise
            w, used = _fallback(on_failure, last, len(names))
            out.fallbacks.append({"date": date, "reason": f"{type(exc).__name__}: {exc}", "used": used})
        out.targets[k] = w
        last = w
        k += 1
    return out


def _fallback(policy: str, last, n: int) -> tuple[np.ndarray, str]:
    if policy == "hold" and last is not None:
        return last, "previous target"
    if policy == "cash":
        return np.zeros(n), "cash"
    return np.full(n, 1.0 / n), "equal weight"
