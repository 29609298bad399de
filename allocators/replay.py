"""Replay weights decided earlier, by date (re-evaluating the same decisions under other costs).

A decision of the plugin's allocators depends only on the price history up to the decision bar,
never on the portfolio or the broker, so the target weights one run decided can be traded again
under another commission without deciding (or training) again: the study re-evaluates every
configuration at its higher cost levels this way.
"""

from __future__ import annotations

import pandas as pd

from bt_lstm_mvo.allocators.base import Allocator
from bt_lstm_mvo.errors import AllocationError, ConfigError


class ReplayAllocator(Allocator):
    """``allocate(history)`` returns the row of ``targets`` dated like the history's last row.

    Params:
        targets: DataFrame of weights, one row per decision date, one column per asset (a
            run's ``weights_target``). A decision date missing from it is an AllocationError.
    """

    lookback = 1

    def __init__(self, targets: pd.DataFrame):
        if not isinstance(targets, pd.DataFrame) or targets.empty:
            raise ConfigError("ReplayAllocator: targets must be a non-empty DataFrame of weights by date")
        self.targets = targets.copy()
        self.targets.index = pd.DatetimeIndex(self.targets.index).normalize()

    def allocate(self, history: pd.DataFrame) -> pd.Series:
        date = pd.Timestamp(history.index[-1]).normalize()
        if date not in self.targets.index:
            raise AllocationError(f"ReplayAllocator: no decision recorded for {date.date()}")
        return self.targets.loc[date].reindex(history.columns).fillna(0.0).astype(float)

    def describe(self) -> dict:
        return {"allocator": "ReplayAllocator", "decisions": len(self.targets)}
