"""What execution cost, from the orders the analyzer is notified of and the broker's records.

Works in any cerebro: the fee/spread/impact split of each fill is taken from the data's
:class:`~bt_lstm_mvo.strategies.commission.AssetCommission` (the whole commission counts as fee
under any other scheme); the volume-capped remainders from the strategy's ``unfilled`` record
(an :class:`~bt_lstm_mvo.strategies.base.AllocationStrategy`), and the interest from a
:class:`~bt_lstm_mvo.strategies.broker.CashInterestBroker` (0 under any other broker).
"""

from __future__ import annotations

import backtrader as bt

from bt_lstm_mvo.periods import to_date


class ExecutionCosts(bt.Analyzer):
    """Fees, spread and impact paid, volume-capped orders and interest earned, from ``since``.

    Params:
        since (None): a date; only fills, remainders and interest dated on or after it count.

    ``get_analysis()`` keys: fee, spread, impact, total (currency); by_asset: {asset: {fee,
    spread, impact}}; fills; capped_orders (orders a volume cap cut), unfilled_value (their
    remainders at the bar's close, currency), carried / cancelled (how many of each policy);
    interest (currency earned on idle cash).
    """

    params = (("since", None),)

    def __init__(self):
        self._configure()

    def _configure(self):
        self.since = to_date(self.p.since, "ExecutionCosts: since").date() if self.p.since is not None else None

    def start(self):
        self._by_asset: dict = {}
        self._fills = 0

    def _counted(self, d) -> bool:
        return self.since is None or d >= self.since

    def notify_order(self, order):
        if order.status != order.Completed:
            return
        ex = order.executed
        if not self._counted(bt.num2date(ex.dt).date()):
            return
        info = self.strategy.broker.getcommissioninfo(order.data)
        breakdown = getattr(info, "breakdown", None)  # an AssetCommission splits its charge
        fee, spread, impact = breakdown(ex.size, ex.price) if breakdown is not None else (float(ex.comm), 0.0, 0.0)
        row = self._by_asset.setdefault(order.data._name, {"fee": 0.0, "spread": 0.0, "impact": 0.0})
        row["fee"] += fee
        row["spread"] += spread
        row["impact"] += impact
        self._fills += 1

    def stop(self):
        parts = {k: float(sum(r[k] for r in self._by_asset.values())) for k in ("fee", "spread", "impact")}
        unfilled = [u for u in getattr(self.strategy, "unfilled", []) if self._counted(u["date"])]
        closes = {d._name: float(d.close[0]) for d in self.strategy.datas}
        broker = self.strategy.broker
        interest = [r for r in getattr(broker, "interest", []) if self._counted(r["date"])]
        self.rets = {
            **parts, "total": float(sum(parts.values())), "by_asset": self._by_asset, "fills": self._fills,
            "capped_orders": len(unfilled),
            "unfilled_value": float(sum(abs(u["unfilled"]) * closes.get(u["asset"], 0.0) for u in unfilled)),
            "carried": sum(u["policy"] == "carry" for u in unfilled),
            "cancelled": sum(u["policy"] == "cancel" for u in unfilled),
            "interest": float(sum(r["amount"] for r in interest)),
        }

    def get_analysis(self):
        return self.rets
