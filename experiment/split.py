"""Train/test split of the aligned calendar: one test period, or walk-forward folds.

Look-ahead warning: the split only says from which bar the strategies may trade. Learned or
estimated allocators are fitted by the strategy itself on the bars it has seen, so nothing
after the first test bar can reach them; the split never hands future rows to a model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.vocab import FOLD_LENGTHS, FOLD_TRAINING, check_choice

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


# ----------------------------------------------------------------------------- walk-forward folds

#: calendar fold lengths: months per fold
_MONTHS = {"year": 12, "half": 6, "quarter": 3, "month": 1}


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold, as positions in (and dates of) the aligned calendar.

    The fold's model is fitted at the close of ``decide`` on the rows ``train_first..train_last``
    (``train_last = decide - gap``) and trades from that close; the fold's out-of-sample returns
    are those dated ``test_first..test_last`` (the first one runs from the close of ``decide``).
    So ``train_last < test_first`` always, with exactly ``gap`` bars strictly between them.
    """

    number: int
    decide: int
    train_first: int
    train_last: int
    test_first: int
    test_last: int
    dates: tuple  # (decide, train_first, train_last, test_first, test_last) as Timestamps

    @property
    def name(self) -> str:
        return f"fold {self.number}"

    def as_dict(self) -> dict:
        keys = ("decide", "train_first", "train_last", "test_first", "test_last")
        out = {"fold": self.number, "name": self.name}
        out.update({k: d.strftime("%Y-%m-%d") for k, d in zip(keys, self.dates)})
        out["train_bars"] = self.train_last - self.train_first + 1
        out["test_returns"] = self.test_last - self.test_first + 1
        return out


def fold_plan(index: pd.DatetimeIndex, first_test, length, training: str = "expanding",
              train_bars: int | None = None, gap: int = 0, last_test=None) -> list[Fold]:
    """Non-overlapping walk-forward test folds over ``index`` (the aligned calendar).

    ``first_test``: the first date whose return is out of sample (fold 1's first test return is
    the first bar on or after it). ``length``: ``"year"``/``"half"``/``"quarter"``/``"month"``
    (calendar periods: a fold holds the returns dated inside one period) or a number of bars.
    ``training``: ``"expanding"`` (every bar from the first) or ``"rolling"`` (the last
    ``train_bars`` bars). ``gap``: bars left out between the last training bar and the fold's
    decision bar (an embargo). ``last_test``: last date tested (default: the last bar). A final
    fold shorter than :data:`MIN_TEST_RETURNS` returns is dropped; a first fold that short (a
    ``first_test`` just before a period's end) is merged into the second.
    """
    check_choice(training, FOLD_TRAINING, "split.folds.training")
    index = pd.DatetimeIndex(index)
    n = len(index)
    first = int(index.searchsorted(pd.Timestamp(first_test)))
    last = n - 1 if last_test is None else int(index.searchsorted(pd.Timestamp(last_test), side="right")) - 1
    if first >= n or last < first + MIN_TEST_RETURNS - 1:
        raise ConfigError(f"split.folds: first_test {pd.Timestamp(first_test).date()} leaves fewer than "
                          f"{MIN_TEST_RETURNS} test returns before {index[min(last, n - 1)].date()} (data "
                          f"{index[0].date()}..{index[-1].date()})")
    if isinstance(length, str):
        check_choice(length, FOLD_LENGTHS, "split.folds.length")
        span = index[first:last + 1]
        periods = np.asarray(span.year * 12 + span.month - 1) // _MONTHS[length]
        cuts = [first + int(i) for i in np.flatnonzero(np.r_[True, periods[1:] != periods[:-1]])]
    else:
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < MIN_TEST_RETURNS:
            raise ConfigError(f"split.folds.length: must be one of {list(FOLD_LENGTHS)} or a number of bars "
                              f">= {MIN_TEST_RETURNS}, got {length!r}")
        cuts = list(range(first, last + 1, int(length)))
    if len(cuts) > 1 and cuts[1] - cuts[0] < MIN_TEST_RETURNS:
        cuts = [cuts[0], *cuts[2:]]  # a first_test just before a period's end: that stub joins the next fold
    ends = [c - 1 for c in cuts[1:]] + [last]
    if len(cuts) > 1 and ends[-1] - cuts[-1] + 1 < MIN_TEST_RETURNS:
        cuts, ends = cuts[:-1], ends[:-1]
    if isinstance(gap, bool) or not isinstance(gap, (int, np.integer)) or gap < 0:
        raise ConfigError(f"split.folds.gap: must be an integer >= 0 (bars), got {gap!r}")
    if training == "rolling" and (train_bars is None or isinstance(train_bars, bool) or train_bars < 2):
        raise ConfigError(f"split.folds.train_bars: rolling training needs a window of >= 2 bars, got {train_bars!r}")
    folds = []
    for k, (t0, t1) in enumerate(zip(cuts, ends), start=1):
        decide = t0 - 1
        train_last = decide - gap
        train_first = 0 if training == "expanding" else train_last - int(train_bars) + 1
        if decide < 0 or train_last < 1 or train_first < 0:
            have = max(train_last + 1, 0)
            raise ConfigError(
                f"split.folds: fold {k} (test from {index[t0].date()}) has {have} training bars before it"
                + (f" (gap {gap})" if gap else "")
                + (f", fewer than train_bars {train_bars}" if training == "rolling" else "")
                + f"; data starts {index[0].date()}: choose a later first_test"
            )
        dates = tuple(index[i] for i in (decide, train_first, train_last, t0, t1))
        folds.append(Fold(k, decide, train_first, train_last, t0, t1, dates))
    return folds
