"""Proportional commission with fractional sizes.

Formula: ``commission = rate * |size| * price`` on every fill, buys and sells alike (both
legs), i.e. ``rate`` of traded value. The default ``rate = 0.001`` is the paper's 0.1%
proportional cost (PAPER_NOTES, "Costs"); this is the standard proportional cost model
(e.g. Perold 1988, "The implementation shortfall").

Backtrader notes handled here:
* ``percabs=True``: ``commission`` is a fraction (0.001), not a percent (0.1). With plain
  ``CommInfoBase`` the default is ``percabs=False`` and 0.001 would mean 0.001%.
* ``getsize`` returns a float so a $10k portfolio can hold 0.15 BTC; Backtrader's default
  truncates to whole units.

Use in any script::

    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=0.001))
"""

from __future__ import annotations

import math

import backtrader as bt

from bt_lstm_mvo.errors import ConfigError


class ProportionalCommission(bt.CommInfoBase):
    """Proportional cost on traded value, fractional sizes.

    Params:
        commission (0.001): fraction of traded value paid on each fill (0.001 = 0.1%).
        stocklike (True): cash settlement like stocks (no margin).
        commtype (COMM_PERC): percentage-of-value commission.
        percabs (True): ``commission`` is an absolute fraction, not a percent.
    """

    params = (
        ("commission", 0.001),
        ("stocklike", True),
        ("commtype", bt.CommInfoBase.COMM_PERC),
        ("percabs", True),
    )

    def __init__(self):
        super().__init__()
        rate = self.p.commission
        if not isinstance(rate, (int, float)) or not math.isfinite(rate) or not 0 <= rate < 1:
            raise ConfigError(
                f"ProportionalCommission: commission must be a fraction in [0, 1), got {rate!r} "
                "(0.001 means 0.1%)"
            )
        self.rate = float(rate)

    def _getcommission(self, size, price, pseudoexec):
        return self.rate * abs(size) * price

    def getsize(self, price, cash):
        """Fractional size affordable with ``cash`` (Backtrader's default truncates to int)."""
        if price <= 0:
            return 0.0
        return self.get_leverage() * cash / price
