"""``PortfolioWeights``: held and target weights, turnover and costs, for any strategy.

Held weights are read from the broker at each bar (position value / portfolio value), so the
analyzer works with any strategy; target weights come from an
:class:`bt_lstm_mvo.strategies.base.AllocationStrategy`'s ``rebalances`` record when the strategy has one.
Turnover and costs come from the fills the analyzer is notified of.

Turnover, the plugin's one definition: on each bar, the value of the fills dated that bar,
both legs, divided by the portfolio value the analyzer records at that bar's close (so a full
switch from one asset to another is 2.0 and the first purchase from cash is 1.0). With fills at
the close (cheat-on-close, ``execution='close'``) that value is the one just before the fills;
with fills at the open (``execution='next_open'``) it is the same bar's close, after them. ``total`` sums
it over the counted bars (those dated on or after ``since``: the decision bar at ``since`` is
counted, since its trades earn the first counted return); ``mean_daily`` divides ``total`` by
the number of return periods after ``since`` (the ``n_periods`` of ``PaperMetrics`` with the
same ``since``); ``annualised`` multiplies that by bars per year, by the plugin's annualisation
rule (:mod:`bt_lstm_mvo.periods`: the param, else measured over every bar the analyzer saw).
"""

from __future__ import annotations

import backtrader as bt
import pandas as pd

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.periods import check_periods_per_year, iso_date, periods_per_year_from_index, to_date


def _iso(d) -> str:
    return d.isoformat() if hasattr(d, "isoformat") else str(d)


class PortfolioWeights(bt.Analyzer):
    """Weights per bar, final weights, turnover and commission.

    Params:
        since (None): a date; turnover, commission and traded value count only bars dated on or
            after it, and ``mean_daily`` divides by the bars after it (see the module doc).
        periods_per_year (None): annualisation of turnover; None measures it from the dates of
            every bar seen (the plugin's rule).
        keep_series (True): include the per-bar ``held`` and per-rebalance ``target`` dicts.
        windows (None): name -> (first, last) dates, both inclusive: turnover and commission of
            the fills dated inside each (walk-forward folds pass each fold's decision bars).

    ``get_analysis()`` keys:
        held: {date: {asset: weight}} as the broker holds them at each bar's close, before
            orders submitted at that close are filled (omitted when ``keep_series`` is False).
        target: {date: {asset: weight}} on rebalance dates, or None for strategies that do not
            record targets (omitted when ``keep_series`` is False).
        final_held, final_target: the last ones ({} / None when absent).
        turnover: {total, mean_daily, annualised, n_periods, periods_per_year}; commission:
            total paid; traded_value: total (these three over the counted bars); orders:
            {status: count} (over the whole run); rebalances: number of rebalances on counted
            bars (None for strategies that do not record them).
        windows: name -> {start, end, n_bars (bars dated inside), turnover (total),
            mean_daily (total / n_bars), commission} (only with the ``windows`` param).
    """

    params = (("since", None), ("periods_per_year", None), ("keep_series", True), ("windows", None))

    def __init__(self):
        self._configure()

    def _configure(self):
        self.since = to_date(self.p.since, "PortfolioWeights: since").date() if self.p.since is not None else None
        self.windows = {str(k): (to_date(a, f"PortfolioWeights: window {k!r}").date(),
                                 to_date(b, f"PortfolioWeights: window {k!r}").date())
                        for k, (a, b) in (self.p.windows or {}).items()}
        self.configured_periods_per_year = check_periods_per_year(self.p.periods_per_year, "PortfolioWeights")

    def start(self):
        self._held = {}
        self._traded_by_date = {}
        self._commission_by_date = {}
        self._value_by_date = {}
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
            self._commission_by_date[d] = self._commission_by_date.get(d, 0.0) + float(order.executed.comm)

    def next(self):
        date = self.strategy.datetime.date(0)
        value = self.strategy.broker.getvalue()
        held = {}
        for i, d in enumerate(self.strategy.datas):
            pos = self.strategy.broker.getposition(d)
            held[d._name or f"data{i}"] = float(pos.size * d.close[0] / value) if value > 0 else 0.0
        self._held[date] = held
        self._value_by_date[date] = float(value)

    def _counted(self, d) -> bool:
        return self.since is None or d >= self.since

    def stop(self):
        dates = sorted(self._held)
        # every fill is dated on a bar this analyzer saw (its next() records that bar's value)
        turnover_by_date = {d: traded / self._value_by_date[d]
                            for d, traded in self._traded_by_date.items() if self._counted(d)}
        total = float(sum(turnover_by_date.values()))
        n = sum(1 for d in dates if self.since is None or d > self.since)
        ppy = self.configured_periods_per_year
        if ppy is None and len(dates) >= 2:
            ppy = periods_per_year_from_index(dates)
        mean_daily = total / n if n else None
        rebalances = getattr(self.strategy, "rebalances", None)
        out = {
            "final_held": dict(self._held[dates[-1]]) if dates else {},
            "final_target": dict(rebalances[-1]["target"]) if rebalances else None,
            "turnover": {
                "total": total,
                "mean_daily": mean_daily,
                "annualised": mean_daily * ppy if (mean_daily is not None and ppy) else None,
                "n_periods": n,
                "periods_per_year": ppy,
            },
            "commission": float(sum(c for d, c in self._commission_by_date.items() if self._counted(d))),
            "traded_value": float(sum(v for d, v in self._traded_by_date.items() if self._counted(d))),
            "orders": dict(self._orders),
            "rebalances": (sum(1 for r in rebalances if self._counted(pd.Timestamp(r["date"]).date()))
                           if rebalances is not None else None),
        }
        if self.windows:
            out["windows"] = {}
            for name, (a, b) in self.windows.items():
                inside = [d for d in dates if a <= d <= b]
                total_w = float(sum(v for d, v in turnover_by_date.items() if a <= d <= b)) if inside else None
                out["windows"][name] = {
                    "start": _iso(a), "end": _iso(b), "n_bars": len(inside), "turnover": total_w,
                    "mean_daily": total_w / len(inside) if inside else None,
                    "commission": float(sum(c for d, c in self._commission_by_date.items() if a <= d <= b)),
                }
        if self.p.keep_series:
            out["held"] = {_iso(d): self._held[d] for d in dates}
            out["target"] = ({_iso(r["date"]): dict(r["target"]) for r in rebalances}
                             if rebalances is not None else None)
        self.rets.update(out)

    def get_analysis(self):
        return dict(self.rets)

    def held_frame(self) -> pd.DataFrame:
        """Held weights per bar as a DataFrame on dates (needs ``keep_series``; after ``stop``)."""
        held = self.rets.get("held")
        if held is None:
            raise ConfigError("PortfolioWeights: held_frame() needs keep_series=True")
        return pd.DataFrame.from_dict(held, orient="index").rename(index=pd.Timestamp)


class Holdings(bt.Analyzer):
    """Positions and transactions in pyfolio's layout, for any strategy.

    Transactions are the fills as the broker executed them, dated by their execution (the
    decision bar's close with cheat-on-close, the next bar's open with cheat-on-open). Positions
    are the value of every holding *after* the fills dated that bar, at that bar's close, plus
    cash: rebuilt in ``stop()`` from the starting cash, the fills and the interest a
    :class:`~bt_lstm_mvo.strategies.broker.CashInterestBroker` credited, so they do not depend on
    when Backtrader notifies an order. Their row sum is the portfolio's value after that bar's
    trades. (Backtrader's own ``PyFolio.get_pf_items`` keeps only the last data feed's column.)

    ``get_analysis()`` keys:
        positions: {date: {asset: value, ..., "cash": cash}};
        transactions: list of {date, symbol, amount (signed units), price, value (signed:
            negative for a purchase, as pyfolio), commission}.

    :meth:`positions` and :meth:`transactions` give the same as pandas DataFrames with a
    DatetimeIndex (tz-naive dates): ready for ``pyfolio.create_full_tear_sheet(returns,
    positions=..., transactions=...)`` after ``tz_localize("UTC")``.
    """

    def start(self):
        self._dates: list = []
        self._closes: list = []
        self._fills: list = []
        self._names = [d._name or f"data{i}" for i, d in enumerate(self.strategy.datas)]
        self._index = {id(d): i for i, d in enumerate(self.strategy.datas)}
        self._cash0 = float(self.strategy.broker.startingcash)
        self._daily = min(d._timeframe for d in self.strategy.datas) >= bt.TimeFrame.Days
        if "cash" in self._names:
            raise ConfigError("Holdings: a data feed is named 'cash', the name of the cash column; rename the feed")

    def notify_order(self, order):
        if order.status not in (order.Partial, order.Completed):
            return
        i = self._index[id(order.data)]
        for bit in order.executed.iterpending():
            if bit is None:
                break
            when = bt.num2date(bit.dt)
            self._fills.append((when.date() if self._daily else when, i, float(bit.size), float(bit.price),
                                float(bit.comm)))

    def next(self):
        # daily (or coarser) bars by date, intraday bars by their full datetime, so they stay apart
        self._dates.append(self.strategy.datetime.date(0) if self._daily else self.strategy.datetime.datetime(0))
        self._closes.append([float(d.close[0]) for d in self.strategy.datas])

    def _frames(self):
        import numpy as np

        dates = pd.DatetimeIndex(pd.to_datetime(self._dates), name="date")
        fills = pd.DataFrame(self._fills, columns=["date", "i", "amount", "price", "commission"])
        trades = np.zeros((len(dates), len(self._names)))
        flows = np.zeros(len(dates))
        if len(fills):
            rows = dates.get_indexer(pd.to_datetime(fills["date"]))
            if (rows < 0).any():
                raise RuntimeError("Holdings: a fill is dated on a bar the analyzer never saw")
            for r, i, amount, price, comm in zip(rows, fills["i"], fills["amount"], fills["price"],
                                                 fills["commission"]):
                trades[r, i] += amount
                flows[r] -= amount * price + comm
        credits = getattr(self.strategy.broker, "interest", None) or []  # a CashInterestBroker's interest
        if credits:
            rows = dates.get_indexer(pd.to_datetime([c["date"] for c in credits]))
            for r, c in zip(rows, credits):
                if r >= 0:
                    flows[r] += c["amount"]
        sizes, cash = np.cumsum(trades, axis=0), self._cash0 + np.cumsum(flows)
        positions = pd.DataFrame(sizes * np.asarray(self._closes, dtype=float).reshape(sizes.shape),
                                 index=dates, columns=self._names)
        positions["cash"] = cash
        transactions = pd.DataFrame({
            "amount": fills["amount"], "price": fills["price"],
            "symbol": [self._names[i] for i in fills["i"]],
            "value": -fills["amount"] * fills["price"], "commission": fills["commission"],
        })
        transactions.index = pd.DatetimeIndex(pd.to_datetime(fills["date"]), name="date")
        return positions, transactions

    def stop(self):
        positions, transactions = self._frames()
        self._positions_frame, self._transactions_frame = positions, transactions
        self.rets["positions"] = {iso_date(d): {k: float(v) for k, v in row.items()}
                                  for d, row in positions.iterrows()}
        self.rets["transactions"] = [
            {"date": iso_date(d), "symbol": r.symbol, "amount": float(r.amount), "price": float(r.price),
             "value": float(r.value), "commission": float(r.commission)}
            for d, r in zip(transactions.index, transactions.itertuples())]

    def positions(self) -> pd.DataFrame:
        """Value of each holding after the bar's fills, at its close, and cash (pyfolio layout)."""
        return self._positions_frame.copy()

    def transactions(self) -> pd.DataFrame:
        """One row per fill: amount (signed units), price, symbol, value, commission (pyfolio layout)."""
        return self._transactions_frame.copy()
