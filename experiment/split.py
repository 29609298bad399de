"""Train/test split of the aligned calendar.

Look-ahead warning: the split only says from which bar the strategies may trade. Learned or
estimated allocators are fitted by the strategy itself on the bars it has seen, so nothing
after the first test bar can reach them; the split never hands future rows to a model.
"""

from __future__ import annotations

import pandas as pd

from bt_lstm_mvo.errors import ConfigError

#: fewest daily returns a test period must have: the significance tests bootstrap at least 3
MIN_TEST_RETURNS = 3


def test_start(index: pd.DatetimeIndex, train_fraction: float | None, first_test_date=None) -> pd.Timestamp:
    """First bar of the test period: ``index[int(train_fraction * n)]`` or the first date >= the
    configured ``first_test_date``."""
    index = pd.DatetimeIndex(index)
    if first_test_date is not None:
        ts = pd.Timestamp(first_test_date)
        after = index[index >= ts]
        if len(after) < MIN_TEST_RETURNS + 1:
            raise ConfigError(
                f"split.test_start: {ts.date()} leaves {max(len(after) - 1, 0)} test returns (data ends "
                f"{index[-1].date()}); at least {MIN_TEST_RETURNS} are needed: choose an earlier test_start"
            )
        if after[0] == index[0]:
            raise ConfigError(
                f"split.test_start: {ts.date()} is on or before the first bar {index[0].date()}; "
                "there is no training period"
            )
        return after[0]
    if train_fraction is None:
        raise ConfigError("split: set train_fraction or test_start")
    cut = int(train_fraction * len(index))
    if cut < 1 or cut > len(index) - 1 - MIN_TEST_RETURNS:
        raise ConfigError(
            f"split.train_fraction: {train_fraction} of {len(index)} bars leaves no training bars or fewer "
            f"than {MIN_TEST_RETURNS} test returns"
        )
    return index[cut]
