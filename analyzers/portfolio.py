"""``PortfolioWeights``: held and target weights, turnover and costs, for any strategy.

Held weights are read from the broker at each bar (position value / portfolio value), so the
analyzer works with any strategy; target weights come from an
:class:`bt_lstm_mvo.strategies.base.AllocationStrategy`'s ``rebalances`` record when the strategy has one.
Turnover and costs come from the fills the analyzer is notified of.

Turnover convention: ``traded value / portfolio value`` per bar, summed over both legs (a full
switch from one asset to another is 2.0). ``mean_daily`` divides by the number of bars;
``annualised`` multiplies that by ``periods_per_year`` (measured from the dates unless given).
"""

from __future__ import annotations

import backtrader as bt

from bt_lstm_mvo.analyzers.metrics import periods_per_year_from_index


def _iso(d) -> str:
    return d.isoformat() if hasattr(d, "isoformat") else str(d)


class PortfolioWeights(bt.Analyzer):
    """Weights per bar, final weights, turnover and commission.

    Params:
        periods_per_year (None): annualisation of turnover; None measures it from the dates.
        keep_series (True): include the per-bar ``held`` and per-rebalance ``target`` dicts.

    ``get_analysis()`` keys:
        held: {date: {asset: weight}} as the broker holds them at each bar's close, before
            orders submitted at that close are filled (omitted when ``keep_series`` is False).
        target: {date: {asset: weight}} on rebalance dates, or None for strategies that do not
            record targets.
        final_held, final_target: the last ones ({} / None when absent).
        turnover: {total, mean_daily, annualised}; commission: total paid; traded_value: total;
        orders: {status: count}.
    """

    params = (("periods_per_year", None), ("keep_series", True))

    def start(self):
        self._held = {}
        self._traded_by_date = {}
        self._value_by_date = {}
        self._commission = 0.0
        self._orders = {}

    def notify_order(self, order):
        if order.status in (order.Submitted, order.Accepted):
            return
        name = order.getstatusname()
        self._orders[name] = self._orders.get(name, 0) + 1
        if order.status == order.Completed:
            d = bt.num2date(order.executed.dt).date()
            self._traded_by_date[d] = self._traded_by_date.get(d, 0.0) + abs(
                order.executed.size * order.executed.price)
            self._commission += float(order.executed.comm)

    def next(self):
        date = self.strategy.datetime.date(0)
        value = self.strategy.broker.getvalue()
        held = {}
        for i, d in enumerate(self.strategy.datas):
            pos = self.strategy.broker.getposition(d)
            held[d._name or f"data{i}"] = float(pos.size * d.close[0] / value) if value > 0 else 0.0
        self._held[date] = held
        self._value_by_date[date] = float(value)

    def stop(self):
        dates = sorted(self._held)
        turnover_by_date = {
            d: self._traded_by_date[d] / self._value_by_date.get(d, max(self._value_by_date.values()))
            for d in self._traded_by_date if self._value_by_date
        }
        total = float(sum(turnover_by_date.values()))
        n = len(dates)
        ppy = self.p.periods_per_year
        if ppy is None and n >= 2:
            ppy = periods_per_year_from_index(dates)
        mean_daily = total / n if n else None
        rebalances = getattr(self.strategy, "rebalances", None)
        target = None
        if rebalances is not None:
            target = {_iso(r["date"]): dict(r["target"]) for r in rebalances}
        out = {
            "final_held": dict(self._held[dates[-1]]) if dates else {},
            "final_target": dict(rebalances[-1]["target"]) if rebalances else None,
            "turnover": {
                "total": total,
                "mean_daily": mean_daily,
                "annualised": mean_daily * ppy if (mean_daily is not None and ppy) else None,
            },
            "commission": float(self._commission),
            "traded_value": float(sum(self._traded_by_date.values())),
            "orders": dict(self._orders),
        }
        if self.p.keep_series:
            out["held"] = {_iso(d): self._held[d] for d in dates}
            out["target"] = target
        self.rets.update(out)

    def get_analysis(self):
        return dict(self.rets)
