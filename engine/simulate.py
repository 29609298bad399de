"""The array engine's simulation: drift, self-financing trades, costs and interest, in numpy.

Given the decisions of :func:`~bt_lstm_mvo.engine.decide.decide`, each bar ``t``:

1. ``next_open``: the target decided at the previous close is traded at this bar's open (a
   stale asset at its last close), sized with the cash held since then and the market
   estimates of the previous bar;
2. idle cash earns ``rate * days / 365`` for the calendar days since the previous bar, at the
   rate in force on the previous bar's date (only cash > 0);
3. the bar's value ``cash + sum(units * close)`` and held weights are recorded (before its trades);
4. on a trading bar: a decision bar trades to its target (unless ``drift_threshold`` says the
   holdings are close enough), otherwise a target a volume cap left unreached is traded toward
   again (``unfilled: carry``); ``close`` trades at this close, ``next_open`` at the next open.

Trades are sized from one snapshot (sells and buys together), sells never exceed the position,
buys are scaled to the cash the sells bring (:mod:`bt_lstm_mvo.engine.costs`). Nothing here
imports Backtrader or the strategies: the engine is a check on them as well as a fast path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bt_lstm_mvo.engine.bars import Bars
from bt_lstm_mvo.engine.costs import Models, flat_post_value, size_orders
from bt_lstm_mvo.engine.decide import Decisions
from bt_lstm_mvo.errors import ConfigError, DataError
from bt_lstm_mvo.vocab import CASH_SAFETY, EXECUTIONS, UNFILLED_POLICIES, check_choice


class Fills:
    """Every fill, column-wise: one block of arrays per rebalance (``row``: the bar it filled on,
    ``asset``: the asset's index), joined on demand."""

    KEYS = ("row", "asset", "size", "price", "commission", "fee", "spread", "impact")

    def __init__(self):
        self._blocks: list[tuple] = []
        self._joined: dict | None = None

    def add(self, t, sizes, prices, comm, parts=None):
        """One rebalance's orders, every asset (zero sizes are dropped when joined); ``parts``:
        fee, spread, impact (None: all of the commission is a fee)."""
        self._blocks.append((t, sizes, prices, comm, parts))
        self._joined = None

    def __len__(self) -> int:
        return len(self.arrays()["row"])

    def arrays(self) -> dict[str, np.ndarray]:
        if self._joined is None:
            blocks = self._blocks
            if not blocks:
                self._joined = {k: np.zeros(0, dtype=int if k in ("row", "asset") else float) for k in self.KEYS}
                return self._joined
            n = len(blocks[0][1])
            size = np.concatenate([b[1] for b in blocks])
            keep = size != 0.0
            zeros = np.zeros(n)
            cols = {"row": np.repeat([b[0] for b in blocks], n), "asset": np.tile(np.arange(n), len(blocks)),
                    "size": size, "price": np.concatenate([b[2] for b in blocks]),
                    "commission": np.concatenate([b[3] for b in blocks])}
            for i, k in enumerate(("fee", "spread", "impact")):
                cols[k] = np.concatenate([(b[3] if i == 0 else zeros) if b[4] is None else b[4][i] for b in blocks])
            self._joined = {k: v[keep] for k, v in cols.items()}
        return self._joined

    def frame(self, bars: Bars) -> pd.DataFrame:
        a = self.arrays()
        return pd.DataFrame({
            "date": [d.date() for d in bars.dates[a["row"]]], "asset": [bars.names[i] for i in a["asset"]],
            "size": a["size"], "price": a["price"], "value": np.abs(a["size"]) * a["price"],
            "commission": a["commission"], "fee": a["fee"], "spread": a["spread"], "impact": a["impact"]})


@dataclass
class Simulation:
    """What one simulated run produced (arrays in bar x asset order)."""

    bars: Bars
    values: np.ndarray  # value at each close, before that bar's trades
    cash: np.ndarray
    held: np.ndarray  # weights held at each close, before that bar's trades
    units: np.ndarray  # units held at the end (after the last bar)
    rebalances: dict  # row, target, value, traded_value, planned_commission, buy_scale (arrays)
    fills: Fills
    unfilled: list[dict]
    interest: list[dict]
    interest_paid: float

    def value_series(self, name=None) -> pd.Series:
        return pd.Series(self.values, index=self.bars.dates, name=name)

    @property
    def final_value(self) -> float:
        return float(self.values[-1])


_sum = np.add.reduce  # ndarray.sum without its Python wrapper (the per-bar loop calls it often)


def _rate_lookup(rate):
    """A function date -> annual rate: a number, or an as-of lookup in a dated Series."""
    if isinstance(rate, pd.Series):
        days = pd.DatetimeIndex(rate.index).values.astype("datetime64[D]")
        vals = rate.to_numpy(dtype=float)

        def on(day):
            i = int(np.searchsorted(days, day, side="right")) - 1
            return float(vals[i]) if i >= 0 else 0.0
        return on
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not np.isfinite(rate) or not -1 < rate < 1:
        raise ConfigError(f"interest rate must be an annual fraction in (-1, 1), got {rate!r}")
    return lambda day: float(rate)


def simulate(bars: Bars, decisions: Decisions, *, cash: float = 1_000_000.0, commission: float = 0.0,
             models: list[dict] | None = None, execution: str = "close", cash_buffer: float = 0.0,
             min_trade_value: float = 0.01, drift_threshold: float | None = None, unfilled: str = "carry",
             interest_rate=0.0, day_count: int = 365) -> Simulation:
    """Simulate the portfolio that trades to ``decisions`` (see the module docstring).

    ``commission``: one proportional rate for every asset; ``models``: instead, one cost-model
    dict per asset (``CostModel(...).describe()``), in ``bars.names`` order.
    """
    check_choice(execution, EXECUTIONS, "execution")
    check_choice(unfilled, UNFILLED_POLICIES, "unfilled")
    n_bars, n = bars.shape
    table = Models(models) if models is not None else None
    if table is not None and len(table.raw) != n:
        raise ConfigError(f"array engine: {len(table.raw)} cost models for {n} assets")
    est = table.estimates(bars) if table is not None and table.uses_market else None
    rate_on = _rate_lookup(interest_rate)
    days = bars.dates.values.astype("datetime64[D]")
    gaps = np.r_[0, np.diff(days).astype(int)].tolist()
    earns = not (isinstance(interest_rate, (int, float)) and interest_rate == 0)
    close, open_, tradable = bars.close, bars.open, bars.tradable
    every_row = tradable.all(axis=1).tolist()  # rows where every asset has a real bar
    keep = 1.0 - cash_buffer
    targets = decisions.at()

    units = np.zeros(n)
    cash_now = float(cash)
    values, cash_rec, held = np.empty(n_bars), np.empty(n_bars), np.empty((n_bars, n))
    reb_row, reb_target, reb_num = [], [], []  # per rebalance: bar, target, (value, traded, planned, scale)
    fills, short_log, credits = Fills(), [], []
    paid = 0.0
    pending = None  # next_open: target to trade at this bar's open
    carry = None  # a target a volume cap left unreached
    n_rebalances = 0

    def trade(t, w, prices, can, state_row, dry=False, h=None):
        """Size and (unless ``dry``: the last bar's orders, which would fill after the data) fill;
        ``h``: the holdings' values at ``prices``, if known."""
        nonlocal cash_now, carry, n_rebalances, units
        if h is None:
            h = units * prices
        value = cash_now + float(_sum(h))
        if table is None and value <= 0:
            sizes = comm = np.zeros(n)
            parts, planned, scale, traded, spent = None, 0.0, 1.0, 0.0, 0.0
        elif table is None:
            every = every_row[t] if state_row == t else bool(can.all())
            wc = (w * keep if cash_buffer else w) if every else np.where(can, w * keep, 0.0)
            hc = h if every else np.where(can, h, 0.0)
            post = flat_post_value(value, hc, wc, commission)
            trades = wc * post - hc
            if min_trade_value > 0:
                trades[np.abs(trades) < min_trade_value] = 0.0
            gross = np.abs(trades)
            total, net = float(_sum(gross)), float(_sum(trades))
            buys = 0.5 * (total + net)  # the sum of the positive trades
            sells = buys - net
            available = cash_now + sells * (1.0 - commission) - CASH_SAFETY * value
            scale = 1.0
            if buys > 0 and buys * (1.0 + commission) > available:
                scale = max(available, 0.0) / (buys * (1.0 + commission))
                trades = np.where(trades > 0, trades * scale, trades)
                gross = np.abs(trades)
                total, net = float(_sum(gross)), float(_sum(trades))
            sizes = trades / prices
            comm = commission * gross
            traded, spent = total, net + commission * total  # cash out: the trades and their commission
            parts, planned = None, commission * total
        else:
            e = None if est is None else (est.half_spread[state_row], est.sigma[state_row], est.adv[state_row])
            vol = None if est is None else est.volume[state_row]
            o = size_orders(table, units, prices, cash_now, w, e, vol, can, cash_buffer, min_trade_value)
            sizes = o.sizes
            parts = table.parts(sizes, prices, e)
            comm = parts[0] + parts[1] + parts[2]
            planned, scale = float(o.cost.sum()), o.buy_scale
            traded = float(np.abs(sizes * prices).sum())
            spent = float(_sum(sizes * prices)) + float(_sum(comm))
            short = np.abs(o.capped) < np.abs(o.wanted)
            for i in np.flatnonzero(short).tolist():
                short_log.append({"date": bars.dates[t].date(), "asset": bars.names[i], "wanted": float(o.wanted[i]),
                                  "filled": float(o.capped[i]), "unfilled": float(o.wanted[i] - o.capped[i]),
                                  "policy": unfilled})
            if short.any() and unfilled == "carry":
                carry = w
        reb_row.append(t)
        reb_target.append(w)
        reb_num.append((value, traded, planned, scale))
        n_rebalances += 1
        if not dry and traded > 0:  # a zero size adds 0.0 to its units and its cash: unchanged
            units = units + sizes
            cash_now -= spent
            fills.add(t, sizes, prices, comm, parts)

    for t in range(n_bars):
        # interest for the days since the last bar, on the cash held over them (before this bar's open fills)
        held_cash, credit = cash_now, 0.0
        if earns and t > 0 and held_cash > 0 and gaps[t] > 0:
            r = rate_on(days[t - 1])
            credit = held_cash * r * gaps[t] / day_count
        if pending is not None:  # decided at the previous close, traded at this open
            w, pending = pending, None
            prices = np.where(tradable[t], open_[t], close[t])  # a stale row's close is its last real close
            bad = ~np.isfinite(prices) | (prices <= 0)
            if bad.any():
                i = int(np.argmax(bad))
                raise DataError(f"feed {bars.names[i]!r}: open is {float(prices[i])!r} on {bars.dates[t].date()}; "
                                "prices must be finite and > 0")
            trade(t, w, prices, tradable[t], t - 1)  # sized with the cash before the credit, as the broker does
        if credit:
            cash_now += credit
            paid += credit
            credits.append({"date": bars.dates[t].date(), "days": int(gaps[t]), "rate": r, "cash": float(held_cash),
                            "amount": float(credit)})
        hv = units * close[t]
        value = cash_now + float(_sum(hv))
        values[t], cash_rec[t] = value, cash_now
        held[t] = hv / value if value > 0 else 0.0
        last = t == n_bars - 1
        if last and execution == "next_open":
            break  # a target decided at the last close would trade after the data ends
        w = targets.get(t)
        if w is None:
            if carry is None:
                continue
            w, carry = carry, None
        else:
            carry = None
            if drift_threshold is not None and n_rebalances > 0 and np.max(np.abs(held[t] - w)) <= drift_threshold:
                continue
        if execution == "close":
            trade(t, w, close[t], tradable[t], t, dry=last, h=hv)  # the last bar's orders never fill
        else:
            pending = w
    num = np.array(reb_num, dtype=float).reshape(-1, 4)
    reb = {"row": np.array(reb_row, dtype=int), "target": np.array(reb_target, dtype=float).reshape(-1, n),
           "value": num[:, 0], "traded_value": num[:, 1], "planned_commission": num[:, 2], "buy_scale": num[:, 3]}
    return Simulation(bars, values, cash_rec, held, units, reb, fills, short_log, credits, paid)
