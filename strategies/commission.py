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
from dataclasses import fields

import backtrader as bt
import numpy as np

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.strategies.costs import CostModel, CostTable, MarketView


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


class AssetCommission(bt.CommInfoBase):
    """One asset's full cost model (fee schedule, spread, impact, volume cap, lots) as a
    Backtrader commission scheme; formulas in :mod:`bt_lstm_mvo.strategies.costs`.

    Add one per data feed by name; :class:`bt_lstm_mvo.strategies.base.AllocationStrategy`
    reads the model from the broker, sizes its orders with it, and before trading sets the
    rolling market state (``set_market``) the fill is then charged with::

        cerebro.broker.addcommissioninfo(AssetCommission(per_share=0.005, minimum=1.0,
                                                         half_spread=0.0002, lot=1), name="SPY")
        cerebro.broker.addcommissioninfo(AssetCommission(commission=0.001, spread="high_low"),
                                         name="BTC-USD")

    The spread and impact are charged as part of the fill's commission (``executed.comm``),
    at the bar's price; the strategy's ``fills`` record splits them into fee, spread and impact.

    Params: the :class:`~bt_lstm_mvo.strategies.costs.CostModel` fields (``commission``,
    ``per_share``, ``minimum``, ``half_spread``, ``spread``, ``impact``, ``window``,
    ``participation``, ``lot``, ``volume_unit``); ``stocklike``/``commtype``/``percabs`` as
    :class:`ProportionalCommission`.
    """

    params = (
        ("commission", 0.0),
        ("per_share", 0.0),
        ("minimum", 0.0),
        ("half_spread", 0.0),
        ("spread", "fixed"),
        ("impact", 0.0),
        ("window", 21),
        ("participation", None),
        ("lot", 0.0),
        ("volume_unit", "units"),
        ("stocklike", True),
        ("commtype", bt.CommInfoBase.COMM_PERC),
        ("percabs", True),
    )

    def __init__(self):
        super().__init__()
        self.model = CostModel(**{f.name: getattr(self.p, f.name) for f in fields(CostModel)})  # params = fields
        self._table = CostTable([self.model])
        self._market = None  # a one-asset MarketView, set by the strategy before it trades

    def set_market(self, half_spread: float, sigma: float, adv: float, volume: float) -> None:
        """The rolling estimates the next fills are priced with (known at the decision bar)."""
        self._market = MarketView(*(np.array([float(x)]) for x in (half_spread, sigma, adv, volume)))

    def breakdown(self, size: float, price: float) -> tuple[float, float, float]:
        """(fee, spread, impact) of a fill of ``size`` at ``price``, priced as ``_getcommission`` is."""
        fee, spread, impact = self._table.breakdown(np.array([size], dtype=float), np.array([price], dtype=float),
                                                    self._market)
        return float(fee[0]), float(spread[0]), float(impact[0])

    def _getcommission(self, size, price, pseudoexec):
        return float(self._table.cost(np.array([size], dtype=float), np.array([price], dtype=float),
                                      self._market)[0])

    def getsize(self, price, cash):
        if price <= 0:
            return 0.0
        return self.get_leverage() * cash / price
