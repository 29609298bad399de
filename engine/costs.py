"""The array engine's own cost arithmetic: rolling market estimates, order costs, order sizes.

Written from the models' specification (README "Broker realism", the formulas in the docstring
of ``strategies/costs.py``), sharing no code with ``strategies/`` so that the engine checks the
Backtrader path rather than repeating it: the estimates are whole-history pandas rolling
windows over each asset's real bars (not a bar-by-bar deque), the post-cost value is a root
found by ``scipy.optimize.brentq`` (not a fixed-point iteration), and the flat model's is
solved in closed form.

A model is a dict with every field of ``CostModel`` (``CostModel(...).describe()``)::

    fee    = commission |q| p + max(per_share |q|, minimum)      (second term only if q != 0)
    spread = s |q| p          s: half_spread, or with spread 'high_low' half the rolling mean
                                 Corwin-Schultz spread of the last `window` pairs of real bars
    impact = impact * sigma * sqrt(|q| / ADV) |q| p            sigma, ADV over the last `window` bars
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bt_lstm_mvo.engine.bars import Bars
from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.vocab import CASH_SAFETY, LOT_TOLERANCE

MODEL_KEYS = ("commission", "per_share", "minimum", "half_spread", "spread", "impact", "window", "participation",
              "lot", "volume_unit")


@dataclass(frozen=True)
class Estimates:
    """Per bar and asset, what is known at that bar's close (NaN until known)."""

    half_spread: np.ndarray
    sigma: np.ndarray
    adv: np.ndarray
    volume: np.ndarray  # the last real bar's volume, in units


class Models:
    """Per-asset cost models as arrays (asset order)."""

    def __init__(self, models: list[dict]):
        for i, m in enumerate(models):
            missing = [k for k in MODEL_KEYS if k not in m]
            if missing:
                raise ConfigError(f"array engine: cost model {i} lacks {missing}; pass CostModel(...).describe()")
        self.raw = [dict(m) for m in models]
        num = lambda k: np.array([float(m[k]) for m in models])  # noqa: E731
        self.commission, self.per_share, self.minimum = num("commission"), num("per_share"), num("minimum")
        self.half_spread, self.impact, self.lot = num("half_spread"), num("impact"), num("lot")
        self.high_low = np.array([m["spread"] == "high_low" for m in models])
        self.cap = np.array([np.inf if m["participation"] is None else float(m["participation"]) for m in models])
        self.windows = [int(m["window"]) for m in models]
        self.currency_volume = np.array([m["volume_unit"] == "currency" for m in models])
        self.floor = (self.per_share > 0) | (self.minimum > 0)

    @property
    def uses_market(self) -> bool:
        return bool(self.high_low.any() or (self.impact > 0).any() or np.isfinite(self.cap).any())

    def estimates(self, bars: Bars) -> Estimates:
        """The causal rolling estimates of every bar (row t: from the real bars up to t)."""
        shape = bars.shape
        out = {k: np.full(shape, np.nan) for k in ("half_spread", "sigma", "adv", "volume")}
        for i, window in enumerate(self.windows):
            real = bars.tradable[:, i]
            rows = np.flatnonzero(real)
            if not len(rows):
                continue
            h, lo, c = (pd.Series(a[rows, i]) for a in (bars.high, bars.low, bars.close))
            v = pd.Series(bars.volume[rows, i])
            if self.currency_volume[i]:
                v = v / c
            hp, lp = h.shift(1), lo.shift(1)
            beta = np.log(hp / lp) ** 2 + np.log(h / lo) ** 2
            gamma = np.log(np.maximum(hp, h) / np.minimum(lp, lo)) ** 2
            k = 3.0 - 2.0 * math.sqrt(2.0)
            alpha = (np.sqrt(2.0 * beta) - np.sqrt(beta)) / k - np.sqrt(gamma / k)
            s = (2.0 * (np.exp(alpha) - 1.0) / (1.0 + np.exp(alpha))).clip(lower=0.0)
            est = {"half_spread": 0.5 * s.rolling(window, min_periods=1).mean(),
                   "sigma": np.log(c).diff().rolling(window, min_periods=2).std(),
                   "adv": v.rolling(window, min_periods=1).mean(), "volume": v}
            for key, series in est.items():  # stale rows keep the last real bar's estimate
                col = np.full(shape[0], np.nan)
                col[rows] = series.to_numpy(dtype=float)
                out[key][:, i] = pd.Series(col).ffill().to_numpy()
        return Estimates(**out)

    def parts(self, q: np.ndarray, p: np.ndarray, est: tuple | None):
        """(fee, spread, impact) per asset for orders of ``q`` units at prices ``p``;
        ``est``: (half_spread, sigma, adv) at the bar the order is priced with."""
        a = np.abs(q)
        value = a * p
        fee = self.commission * value
        if self.floor.any():
            fee = fee + np.where(self.floor & (a > 0), np.maximum(self.per_share * a, self.minimum), 0.0)
        s = self.half_spread
        if est is not None and self.high_low.any():
            s = np.where(self.high_low, np.nan_to_num(est[0], nan=0.0), s)
        impact = np.zeros_like(value)
        if est is not None and (self.impact > 0).any():
            adv = est[2]
            ok = (self.impact > 0) & (adv > 0)
            root = np.sqrt(np.divide(a, adv, out=np.zeros_like(a), where=ok))
            impact = np.where(ok, self.impact * np.nan_to_num(est[1], nan=0.0) * root * value, 0.0)
        return fee, s * value, impact

    def cost(self, q, p, est) -> np.ndarray:
        fee, spread, impact = self.parts(q, p, est)
        return fee + spread + impact

    def lots(self, q: np.ndarray) -> np.ndarray:
        if not (self.lot > 0).any():
            return q
        step = np.where(self.lot > 0, self.lot, 1.0)
        whole = np.sign(q) * np.floor(np.abs(q) / step + LOT_TOLERANCE) * step
        return np.where(self.lot > 0, whole, q)


def flat_post_value(value: float, h: np.ndarray, w: np.ndarray, rate: float) -> float:
    """The exact root of ``x + rate * sum |w x - h| = value`` (piecewise linear, increasing in x).

    On a segment where the signs ``s = sign(w x - h)`` are fixed the equation is linear:
    ``x = (value + rate s.h) / (1 + rate s.w)``. Starting from the signs at ``x = value``, solve it
    and take the signs at the solution; when they are the segment's own (or 0, at a kink) the
    solution is the root. Usually one or two solves; after a few :func:`flat_post_value_sorted`
    locates the segment among all the kinks instead.
    """
    if rate == 0.0:
        return value
    sign = np.sign
    s = sign(w * value - h)
    for _ in range(6):
        x = (value + rate * float(s @ h)) / (1.0 + rate * float(s @ w))
        s1 = sign(w * x - h)
        if ((s1 == s) | (s1 == 0.0)).all():
            return x
        s = s1
    return flat_post_value_sorted(value, h, w, rate)


def flat_post_value_sorted(value: float, h: np.ndarray, w: np.ndarray, rate: float) -> float:
    """:func:`flat_post_value` by locating the root's segment among the sorted kinks.

    The kinks are at ``x = h_i / w_i``. ``f`` is evaluated at every kink at once with cumulative
    sums over the sorted kinks; the root lies on the first segment where ``f`` turns >= 0, and
    ``f`` is linear there, so it is found without iteration or tolerance.
    """
    if rate == 0.0:
        return value
    add = np.add
    pos = w > 0
    if pos.all():
        fixed, k, wk, hk = 0.0, h / w, w, h
    else:  # assets sold out (or untraded, h = 0) add |0 - h| whatever x is
        fixed, wk, hk = float(add.reduce(np.abs(h[~pos]))), w[pos], h[pos]
        k = hk / wk
    if not len(k):
        return value - rate * fixed
    idx = k.argsort()
    k = k[idx]
    wc, hc = add.accumulate(wk[idx]), add.accumulate(hk[idx])
    wt, ht = float(wc[-1]), float(hc[-1])
    # at x = k_j the assets 0..j are at or past their kink: sum |w x - h| = (wc x - hc) + (ht - hc) - (wt - wc) x
    fk = k + rate * ((2.0 * wc - wt) * k + (ht + fixed) - 2.0 * hc) - value
    j = int(fk.searchsorted(0.0))  # f is increasing: the first kink with f >= 0
    if j == len(k):  # past the last kink the slope is 1 + rate * sum(w)
        return float(k[-1] - fk[-1] / (1.0 + rate * wt))
    x1, f1 = float(k[j]), float(fk[j])
    x0, f0 = (0.0, rate * (ht + fixed) - value) if j == 0 else (float(k[j - 1]), float(fk[j - 1]))
    return x0 if f1 == f0 else x0 - f0 * (x1 - x0) / (f1 - f0)


@dataclass
class Orders:
    sizes: np.ndarray
    wanted: np.ndarray
    capped: np.ndarray
    cost: np.ndarray
    value: float
    buy_scale: float


def size_orders(models: Models, units, p, cash: float, w, est: tuple | None, volume: np.ndarray | None,
                can: np.ndarray, cash_buffer: float, min_trade_value: float) -> Orders:
    """Self-financing order sizes (units) toward weights ``w`` under each asset's model.

    Post-cost value (root of ``x + sum cost(q(x)) = V``), dust dropped, the volume cap, sells
    no larger than the position, lots, then buys scaled to the cash the sells bring (the
    largest scale that fits, by bisection, where a fee floor or lots make it non-linear).
    """
    h = units * p
    w = w * (1.0 - cash_buffer)
    value = float(cash + h.sum())
    zero = np.zeros_like(h)
    if value <= 0:
        return Orders(zero, zero, zero, zero, value, 1.0)
    wc, hc = np.where(can, w, 0.0), np.where(can, h, 0.0)

    def f(x):
        return x + float(models.cost((wc * x - hc) / p, p, est).sum()) - value

    if f(value) <= 0.0:
        post = value
    else:
        from scipy.optimize import brentq  # here, not at import: scipy.optimize costs 0.3 s to import

        post = brentq(f, 0.0, value, xtol=1e-14 * value, rtol=4 * np.finfo(float).eps, maxiter=500)
    wanted = (wc * post - hc) / p
    if min_trade_value > 0:
        wanted = np.where(np.abs(wanted * p) < min_trade_value, 0.0, wanted)
    capped = wanted
    if volume is not None and np.isfinite(models.cap).any():
        lim = np.where(np.isfinite(models.cap), models.cap * np.nan_to_num(volume, nan=0.0), np.inf)
        capped = np.minimum(np.maximum(wanted, -lim), lim)
    sizes = models.lots(np.maximum(capped, -units))
    sells = np.minimum(sizes, 0.0)
    buys = np.maximum(sizes, 0.0)
    available = cash + float((-sells * p).sum()) - float(models.cost(sells, p, est).sum()) - CASH_SAFETY * value

    def spend(b):
        return float((b * p).sum()) + float(models.cost(b, p, est).sum())

    scale = 1.0
    if (buys > 0).any() and spend(buys) > available:
        base = np.maximum(capped, 0.0)
        scale = max(available, 0.0) / spend(base)
        if spend(models.lots(base * scale)) > available:
            lo, hi = 0.0, scale
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if spend(models.lots(base * mid)) <= available else (lo, mid)
            scale = lo
        sizes = sells + models.lots(base * scale)
    cost = models.cost(sizes, p, est)
    return Orders(sizes, wanted, capped, cost, value - float(cost.sum()), scale)
