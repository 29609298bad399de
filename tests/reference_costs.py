"""An independent reference simulator for the broker-realism models (test helper).

Written from the models' specification (README "Broker realism"), sharing no code with
``strategies/``: plain Python loops per asset, pandas rolling windows for the estimates,
``scipy.optimize.brentq`` for the post-cost value. It simulates fixed target weights,
rebalanced every bar or once (carrying what a volume cap left unfilled, or not), at the
close or at the next open, with interest on idle cash.

Model per asset (a dict with the keys of ``CostModel``; missing keys are 0/None):

    fee = commission |q| p + (max(per_share |q|, minimum) if q != 0 and per_share or minimum)
    spread = s |q| p,  s = half_spread or half the rolling mean Corwin-Schultz spread
    impact = Y sigma sqrt(|q| / ADV) |q| p
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import brentq

SAFETY = 1e-9


def _estimates(frame: pd.DataFrame, window: int, volume_in_currency: bool = False) -> pd.DataFrame:
    """Rolling half-spread, sigma, ADV and volume known at each row (real rows only, then ffill)."""
    real = frame[frame["Tradable"].astype(bool)] if "Tradable" in frame else frame
    h, low, c, v = (real[k].astype(float) for k in ("High", "Low", "Close", "Volume"))
    if volume_in_currency:
        v = v / c
    hp, lp = h.shift(1), low.shift(1)
    beta = np.log(hp / lp) ** 2 + np.log(h / low) ** 2
    gamma = np.log(np.maximum(hp, h) / np.minimum(lp, low)) ** 2
    k = 3 - 2 * math.sqrt(2)
    alpha = (np.sqrt(2 * beta) - np.sqrt(beta)) / k - np.sqrt(gamma / k)
    s = (2 * (np.exp(alpha) - 1) / (1 + np.exp(alpha))).clip(lower=0)
    out = pd.DataFrame({
        "half_spread": 0.5 * s.rolling(window, min_periods=1).mean(),
        "sigma": np.log(c).diff().rolling(window, min_periods=2).std(),
        "adv": v.rolling(window, min_periods=1).mean(),
        "volume": v,
    })
    return out.reindex(frame.index).ffill()


def _cost(q: float, p: float, m: dict, est) -> float:
    q = abs(q)
    fee = m.get("commission", 0.0) * q * p
    if q > 0 and (m.get("per_share", 0.0) > 0 or m.get("minimum", 0.0) > 0):
        fee += max(m.get("per_share", 0.0) * q, m.get("minimum", 0.0))
    if m.get("spread", "fixed") == "high_low":
        s = est["half_spread"]
        s = 0.0 if not np.isfinite(s) else s
    else:
        s = m.get("half_spread", 0.0)
    cost = fee + s * q * p
    y = m.get("impact", 0.0)
    if y > 0 and est["adv"] > 0:
        sigma = est["sigma"] if np.isfinite(est["sigma"]) else 0.0
        cost += y * sigma * math.sqrt(q / est["adv"]) * q * p
    return cost


def _lot(q: float, lot: float) -> float:
    if not lot:
        return q
    return math.copysign(math.floor(abs(q) / lot + 1e-9) * lot, q)


def _orders(units, prices, cash, w, models, ests, tradable, min_trade_value=0.0, cash_buffer=0.0):
    """Sizes per asset, and which were cut by the volume cap."""
    n = len(units)
    w = [x * (1 - cash_buffer) for x in w]
    h = [units[i] * prices[i] for i in range(n)]
    value = cash + sum(h)

    def wanted(post):
        return [((w[i] * post - h[i]) / prices[i]) if tradable[i] else 0.0 for i in range(n)]

    def f(post):
        q = wanted(post)
        return post + sum(_cost(q[i], prices[i], models[i], ests[i]) for i in range(n)) - value

    post = brentq(f, 0.0, value, xtol=1e-13 * value, rtol=4 * np.finfo(float).eps, maxiter=500)
    q = wanted(post)
    q = [0.0 if abs(x * prices[i]) < min_trade_value else x for i, x in enumerate(q)]
    capped, cut = [], []
    for i, x in enumerate(q):
        part = models[i].get("participation")
        if part is not None:
            cap = part * ests[i]["volume"]
            y = min(max(x, -cap), cap)
        else:
            y = x
        capped.append(y)
        cut.append(abs(y) < abs(x))
    sizes = [_lot(max(capped[i], -units[i]), models[i].get("lot", 0.0)) for i in range(n)]
    proceeds = sum(-s * prices[i] - _cost(s, prices[i], models[i], ests[i]) for i, s in enumerate(sizes) if s < 0)
    available = cash + proceeds - SAFETY * value

    def spend(b):
        return sum(b[i] * prices[i] + _cost(b[i], prices[i], models[i], ests[i]) for i in range(n) if b[i] > 0)

    buys = [max(s, 0.0) for s in sizes]
    if any(b > 0 for b in buys) and spend(buys) > available:
        base = [max(c, 0.0) for c in capped]
        scale = max(available, 0.0) / spend(base)

        def lots(s):
            return [_lot(b * s, models[i].get("lot", 0.0)) for i, b in enumerate(base)]

        if spend(lots(scale)) > available:
            lo, hi = 0.0, scale
            for _ in range(60):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if spend(lots(mid)) <= available else (lo, mid)
            scale = lo
        sizes = [min(s, 0.0) + b for s, b in zip(sizes, lots(scale))]
    return sizes, cut


def simulate_costs(frames: dict[str, pd.DataFrame], weights: dict, models: dict, execution="close",
                   cash=1_000_000.0, once=False, carry=True, rate=0.0, min_trade_value=0.0, cash_buffer=0.0,
                   window=21):
    """Per-bar portfolio values (before each bar's own trades), total costs and interest.

    Rebalances at every bar (``once``: at the first bar only, then holds, as ``schedule='never'``);
    ``carry``: a bar after a volume-capped rebalance trades toward the target again.
    """
    names = list(frames)
    index = frames[names[0]].index
    ests = {a: _estimates(frames[a], models[a].get("window", window), models[a].get("volume_unit") == "currency")
            for a in names}
    close = pd.DataFrame({a: frames[a]["Close"] for a in names}).to_numpy(float)
    open_ = pd.DataFrame({a: frames[a]["Open"] for a in names}).to_numpy(float)
    trad = pd.DataFrame({a: frames[a].get("Tradable", True) for a in names}).to_numpy(bool)
    w = [weights.get(a, 0.0) for a in names]
    mods = [models[a] for a in names]
    units = [0.0] * len(names)
    values, paid, interest = [], 0.0, 0.0
    pending = False  # next_open: trade at this bar's open with the previous close's state
    carry_due = False

    def trade(t, prices, state_row, can):
        nonlocal cash, paid, carry_due
        e = [ests[a].iloc[state_row] for a in names]
        sizes, cut = _orders(units, prices, cash, w, mods, e, can, min_trade_value, cash_buffer)
        for i, s in enumerate(sizes):
            if s:
                c = _cost(s, prices[i], mods[i], e[i])
                cash -= s * prices[i] + c
                paid += c
                units[i] += s
        carry_due = carry and any(cut)

    for t in range(len(index)):
        # interest for the days since the last bar, on the cash held over them
        credit = cash * rate * (index[t] - index[t - 1]).days / 365 if t > 0 and cash > 0 else 0.0
        if pending:  # next_open: sized at this open with the cash before the interest is booked
            prices = [open_[t][i] if trad[t][i] else close[t - 1][i] for i in range(len(names))]
            trade(t, prices, t - 1, trad[t])
            pending = False
        cash += credit
        interest += credit
        values.append(cash + sum(u * p for u, p in zip(units, close[t])))
        if t == len(index) - 1:
            break
        if t == 0 or not once or carry_due:
            if execution == "close":
                trade(t, list(close[t]), t, trad[t])
            else:
                carry_due = False
                pending = True
    return pd.Series(values, index=index), paid, interest
