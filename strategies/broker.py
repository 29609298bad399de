"""Interest on idle cash: a Backtrader broker that credits it bar by bar.

At each bar, cash earns ``rate * days / day_count`` (simple interest, ACT/365 by default) for
the calendar days since the previous bar, on the cash held over that period: the cash after
the previous bar's fills (``execution: close``: the fills at the previous close, which
Backtrader books at the start of this bar; ``next_open``: the fills at the previous open).
``rate`` is the annual rate in force on the previous bar's date: one number, or a date-indexed
series (e.g. a 3-month T-bill CSV) read as of that date. Negative cash never earns (or pays)
interest here: a long-only self-financing portfolio does not borrow.

Use in any script::

    cerebro.broker = CashInterestBroker(rate=0.04)
"""

from __future__ import annotations

import backtrader as bt
import numpy as np
import pandas as pd

from bt_lstm_mvo.errors import ConfigError


class CashInterestBroker(bt.brokers.BackBroker):
    """``BackBroker`` whose idle cash earns interest (module docstring).

    Params:
        rate (0.0): annual rate, a fraction (0.04 = 4%), or a ``pandas.Series`` of annual rates
            indexed by date (as-of lookup; before its first date the rate is 0).
        day_count (365): days per year of the simple-interest accrual.
    """

    params = (("rate", 0.0), ("day_count", 365))

    def __init__(self):
        super().__init__()
        rate = self.p.rate
        if isinstance(rate, pd.Series):
            if not rate.index.is_monotonic_increasing or not np.isfinite(rate.to_numpy(dtype=float)).all():
                raise ConfigError("CashInterestBroker: rate series must have increasing dates and finite values")
            self._series = (pd.DatetimeIndex(rate.index).values.astype("datetime64[D]"), rate.to_numpy(dtype=float))
        elif isinstance(rate, bool) or not isinstance(rate, (int, float)) or not np.isfinite(rate) or not -1 < rate < 1:
            raise ConfigError(f"CashInterestBroker: rate must be an annual fraction in (-1, 1), got {rate!r}")
        else:
            self._series = None
        self._prev_date = None
        self.interest_paid = 0.0
        self.interest: list[dict] = []  # {date, days, rate, cash, amount}

    def rate_on(self, date) -> float:
        if self._series is None:
            return float(self.p.rate)
        dates, values = self._series
        i = int(np.searchsorted(dates, np.datetime64(date, "D"), side="right")) - 1
        return float(values[i]) if i >= 0 else 0.0

    def _credit(self) -> None:
        datas = [d for d in getattr(self, "cerebro", None).datas if len(d)] if getattr(self, "cerebro", None) else []
        if not datas:
            return
        today = max(d.datetime.date(0) for d in datas)
        prev, self._prev_date = self._prev_date, today
        if prev is None or today <= prev or self.cash <= 0:
            return
        days = (today - prev).days
        rate = self.rate_on(prev)
        amount = self.cash * rate * days / self.p.day_count
        if amount:
            self.cash += amount
            self.interest_paid += amount
            self.interest.append({"date": today, "days": days, "rate": rate, "cash": float(self.cash - amount),
                                  "amount": float(amount)})

    def next(self):
        if self.p.coc:  # close fills of the previous bar are booked in this cycle: credit after them
            super().next()
            self._credit()
            self._get_value()
        else:
            self._credit()
            super().next()
