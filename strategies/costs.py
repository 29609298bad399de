"""Execution costs beyond a flat commission: the formulas (pure numpy, no Backtrader).

Per asset a :class:`CostModel` prices one order of ``q`` units at the bar's price ``p`` (the
close for ``execution: close``, the open for ``next_open``)::

    fee     = commission * |q| * p  +  max(per_share * |q|, minimum)        (second term: q != 0 only)
    spread  = s_t * |q| * p                       s_t: half-spread, a fraction of the price
    impact  = Y * sigma_t * sqrt(|q| / ADV_t) * |q| * p                      (square-root law)
    cost    = fee + spread + impact

* ``s_t`` is ``half_spread`` (fixed), or with ``spread: high_low`` half the mean Corwin-Schultz
  spread of the last ``window`` pairs of bars (Corwin & Schultz 2012, "A Simple Way to Estimate
  Bid-Ask Spreads from Daily High and Low Prices", J. Finance 67(2), eq. 14; negative two-day
  estimates set to 0, as the paper does)::

      beta  = ln(H_{t-1}/L_{t-1})^2 + ln(H_t/L_t)^2
      gamma = ln(max(H_{t-1}, H_t) / min(L_{t-1}, L_t))^2
      alpha = (sqrt(2 beta) - sqrt(beta)) / (3 - 2 sqrt 2) - sqrt(gamma / (3 - 2 sqrt 2))
      S     = 2 (e^alpha - 1) / (1 + e^alpha)

* the impact is the square-root law (Almgren, Thum, Hauptmann & Li 2005, "Direct estimation of
  equity market impact", Risk; Toth et al. 2011, Phys. Rev. X 1, 021006: ``Y`` of order 1):
  ``sigma_t`` is the standard deviation (ddof 1) of the last ``window`` daily log returns of the
  close, ``ADV_t`` the mean volume (units) of the last ``window`` bars;
* a volume cap: one order takes at most ``participation`` of the last completed bar's volume
  (the decision bar's: at the next open, that bar's own volume is not known yet); the rest is
  carried to the next bar or cancelled (the strategy's ``unfilled`` param);
* lots: sizes are whole multiples of ``lot`` units (1 = whole shares; 0 = fractional), rounded
  toward zero; the residual stays in cash.

Every estimate is causal: it uses the bars up to and including the decision bar, and only the
asset's real bars (a stale row of a union calendar is not a bar of that asset).

The spread and impact are charged as a cost on the fill, at the bar's price, not by moving the
fill price: buying ``q`` at ``p (1 + s)`` and paying nothing more is the same cash and the same
units as buying at ``p`` and paying ``s p q``, and a cost line can be per asset and per bar,
which Backtrader's ``slip_perc`` (one broker-wide percentage) cannot.

The volume cap is applied when the orders are sized, not by a Backtrader filler
(``bt.broker.fillers.FixedBarPerc``): a filler is broker-wide, the self-financing sizing must know
the capped sells to scale the buys to the cash they really bring, and under cheat-on-close
Backtrader fills a partly filled market order's remainder on later bars at the *creation* bar's
close (``order.created.pclose``), a stale price. The carried remainder is a new order at the next
bar's price instead.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, fields

import numpy as np

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.vocab import (
    ASSET_CLASSES,
    CASH_SAFETY,
    COST_PRESETS,
    LOT_TOLERANCE,
    SPREAD_MODES,
    VOLUME_UNITS,
    asset_class,
)

_K = 3.0 - 2.0 * math.sqrt(2.0)


@dataclass(frozen=True)
class CostModel:
    """What an order of one asset costs (see the module docstring for the formulas).

    commission: fraction of traded value (0.001 = 0.1%); per_share: currency per unit;
    minimum: smallest fee of a non-empty order (currency); half_spread: fraction of price
    (``spread: fixed``); spread: 'fixed' | 'high_low' (Corwin-Schultz estimate);
    impact: ``Y`` of the square-root law (0: none); window: bars of the rolling estimates;
    participation: largest fraction of the last bar's volume one order may take (None: no cap);
    lot: size step in units (0: fractional); volume_unit: what the feed's Volume counts,
    'units' or 'currency' (Yahoo's crypto volume is in USD: divided by the close to get units).
    """

    commission: float = 0.0
    per_share: float = 0.0
    minimum: float = 0.0
    half_spread: float = 0.0
    spread: str = "fixed"
    impact: float = 0.0
    window: int = 21
    participation: float | None = None
    lot: float = 0.0
    volume_unit: str = "units"

    def __post_init__(self):
        def number(name, hi=None, open_low=False):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 \
                    or (hi is not None and v >= hi) or (open_low and v == 0):
                rule = f"a number in {'(' if open_low else '['}0, {hi})" if hi is not None else "a number >= 0"
                raise ConfigError(f"cost model: {name} must be {rule}, got {v!r}")

        number("commission", 1.0)
        number("per_share")
        number("minimum")
        number("half_spread", 1.0)
        number("impact")
        number("lot")
        if self.participation is not None:
            number("participation", 1.0 + 1e-12, open_low=True)
        if self.spread not in SPREAD_MODES:
            raise ConfigError(f"cost model: spread must be one of {list(SPREAD_MODES)}, got {self.spread!r}")
        if self.volume_unit not in VOLUME_UNITS:
            raise ConfigError(f"cost model: volume_unit must be one of {list(VOLUME_UNITS)}, got {self.volume_unit!r}")
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 2:
            raise ConfigError(f"cost model: window must be a whole number of bars >= 2, got {self.window!r}")

    @property
    def proportional(self) -> bool:
        """Only a percent-of-value commission (the flat model's closed-form sizing applies)."""
        return (self.per_share == 0 and self.minimum == 0 and self.half_spread == 0 and self.spread == "fixed"
                and self.impact == 0 and self.participation is None and self.lot == 0)

    @property
    def needs_market(self) -> bool:
        """Needs the rolling High/Low/volume estimates (or the bar's volume for the cap)."""
        return self.spread == "high_low" or self.impact > 0 or self.participation is not None

    def describe(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def corwin_schultz(high_prev: float, low_prev: float, high: float, low: float) -> float:
    """The two-bar Corwin-Schultz spread (a fraction of price, >= 0; module docstring)."""
    beta = math.log(high_prev / low_prev) ** 2 + math.log(high / low) ** 2
    gamma = math.log(max(high_prev, high) / min(low_prev, low)) ** 2
    alpha = (math.sqrt(2.0 * beta) - math.sqrt(beta)) / _K - math.sqrt(gamma / _K)
    spread = 2.0 * (math.exp(alpha) - 1.0) / (1.0 + math.exp(alpha))
    return max(spread, 0.0)


class RollingMarket:
    """Causal rolling estimates per asset, updated with each real bar (strategy side).

    ``half_spread[i]``: half the mean Corwin-Schultz spread of the last ``window`` bar pairs;
    ``sigma[i]``: std (ddof 1) of the last ``window`` log returns; ``adv[i]``: mean volume of
    the last ``window`` bars; ``volume[i]``: the last bar's volume. NaN until known.
    """

    def __init__(self, n_assets: int, windows):
        self.windows = list(windows)
        self._prev = [None] * n_assets  # (high, low, close) of the last real bar
        self._spreads = [deque(maxlen=w) for w in self.windows]
        self._rets = [deque(maxlen=w) for w in self.windows]
        self._vols = [deque(maxlen=w) for w in self.windows]
        self.half_spread = np.full(n_assets, np.nan)
        self.sigma = np.full(n_assets, np.nan)
        self.adv = np.full(n_assets, np.nan)
        self.volume = np.full(n_assets, np.nan)

    def update(self, i: int, high: float, low: float, close: float, volume: float) -> None:
        prev = self._prev[i]
        if prev is not None:
            self._spreads[i].append(corwin_schultz(prev[0], prev[1], high, low))
            self._rets[i].append(math.log(close / prev[2]))
            self.half_spread[i] = 0.5 * float(np.mean(self._spreads[i]))
            if len(self._rets[i]) >= 2:
                self.sigma[i] = float(np.std(self._rets[i], ddof=1))
        self._prev[i] = (high, low, close)
        self._vols[i].append(volume)
        self.adv[i] = float(np.mean(self._vols[i]))
        self.volume[i] = volume


#: starting points of ``broker.costs.preset`` by asset class (the runner's per-class defaults).
#: ``realistic`` and its sources (README "Broker realism"):
#: * crypto: 0.1% of value (Binance spot taker fee, https://www.binance.com/en/fee/schedule), fractional
#:   sizes, Yahoo volume in USD;
#: * equity/ETF: $0.005 per share, $1 minimum per order (Interactive Brokers "Fixed" US stock pricing,
#:   https://www.interactivebrokers.com/en/pricing/commissions-stocks.php), whole shares;
#: * both: the Corwin-Schultz half-spread over 21 bars, square-root impact with Y = 1 (Toth et al. 2011:
#:   Y of order 1), at most 10% of a bar's volume per order (a common participation limit).
COST_PRESETS_VALUES = {
    "none": {"crypto": {}, "equity": {}},
    "realistic": {
        "crypto": {"commission": 0.001, "spread": "high_low", "impact": 1.0, "participation": 0.1,
                   "volume_unit": "currency"},
        "equity": {"per_share": 0.005, "minimum": 1.0, "spread": "high_low", "impact": 1.0, "participation": 0.1,
                   "lot": 1.0},
    },
}
assert set(COST_PRESETS_VALUES) == set(COST_PRESETS)
assert all(set(v) == set(ASSET_CLASSES) for v in COST_PRESETS_VALUES.values())


def models_for(tickers, preset: str = "none", crypto: dict | None = None, equity: dict | None = None,
               assets: dict | None = None) -> dict[str, CostModel]:
    """Each ticker's :class:`CostModel`: the preset's values for its asset class
    (:func:`bt_lstm_mvo.vocab.asset_class`), then the class's keys, then the ticker's own."""
    if preset not in COST_PRESETS_VALUES:
        raise ConfigError(f"costs preset must be one of {list(COST_PRESETS)}, got {preset!r}")
    by_class = {"crypto": crypto or {}, "equity": equity or {}}
    out = {}
    for t in tickers:
        cls = asset_class(t)
        out[t] = CostModel(**{**COST_PRESETS_VALUES[preset][cls], **by_class[cls], **(assets or {}).get(t, {})})
    return out


@dataclass
class MarketView:
    """The per-asset state one rebalance is priced with (arrays in asset order)."""

    half_spread: np.ndarray
    sigma: np.ndarray
    adv: np.ndarray
    volume: np.ndarray


class CostTable:
    """A list of :class:`CostModel` (asset order) as arrays, for vectorised pricing."""

    def __init__(self, models):
        self.models = list(models)
        get = lambda name: np.array([getattr(m, name) for m in self.models], dtype=float)  # noqa: E731
        self.commission, self.per_share, self.minimum = get("commission"), get("per_share"), get("minimum")
        self.fixed_spread, self.impact, self.lot = get("half_spread"), get("impact"), get("lot")
        self.high_low = np.array([m.spread == "high_low" for m in self.models])
        self.participation = np.array([np.inf if m.participation is None else m.participation for m in self.models])
        self.has_fee_floor = (self.per_share > 0) | (self.minimum > 0)

    def half_spreads(self, market: MarketView | None) -> np.ndarray:
        if market is None or not self.high_low.any():
            return self.fixed_spread
        est = np.nan_to_num(market.half_spread, nan=0.0)
        return np.where(self.high_low, est, self.fixed_spread)

    def breakdown(self, sizes: np.ndarray, prices: np.ndarray, market: MarketView | None):
        """(fee, spread, impact) per asset for orders of ``sizes`` units at ``prices``."""
        q = np.abs(np.asarray(sizes, dtype=float))
        value = q * prices
        fee = self.commission * value + np.where((q > 0) & self.has_fee_floor,
                                                 np.maximum(self.per_share * q, self.minimum), 0.0)
        spread = self.half_spreads(market) * value
        if market is not None and (self.impact > 0).any():
            sigma = np.nan_to_num(market.sigma, nan=0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.where((self.impact > 0) & (market.adv > 0), np.sqrt(q / market.adv), 0.0)
            impact = self.impact * sigma * frac * value
        else:
            impact = np.zeros_like(value)
        return fee, spread, impact

    def cost(self, sizes, prices, market) -> np.ndarray:
        fee, spread, impact = self.breakdown(sizes, prices, market)
        return fee + spread + impact

    def to_lots(self, sizes: np.ndarray) -> np.ndarray:
        lot = self.lot
        if not (lot > 0).any():
            return sizes
        safe = np.where(lot > 0, lot, 1.0)
        steps = np.floor(np.abs(sizes) / safe + LOT_TOLERANCE)
        return np.where(lot > 0, np.sign(sizes) * steps * safe, sizes)


@dataclass
class OrderPlan:
    """Order sizes (units, + buy / - sell) for one rebalance, and what limited them."""

    sizes: np.ndarray
    wanted: np.ndarray  # sizes before the volume cap (the remainder is ``wanted - capped``)
    capped: np.ndarray  # sizes after the volume cap, before lots and the cash check
    cost: np.ndarray
    post_value: float
    buy_scale: float


def plan_orders(
    units: np.ndarray,
    prices: np.ndarray,
    cash: float,
    weights: np.ndarray,
    table: CostTable,
    market: MarketView | None = None,
    tradable: np.ndarray | None = None,
    cash_buffer: float = 0.0,
    min_trade_value: float = 0.0,
) -> OrderPlan:
    """Self-financing orders toward ``weights`` under each asset's own cost model.

    1. the post-cost value ``V'`` solves ``V' = V - sum_i cost_i((w_i V' - h_i) / p_i)``
       (fixed-point iteration: a contraction while the marginal cost is below 1);
    2. trades smaller than ``min_trade_value`` are dropped; 3. the volume cap clips each size;
    4. sells never exceed the position; sizes are rounded to lots (toward zero);
    5. if the buys plus their costs exceed the cash plus the sells' proceeds net of their costs
       (less ``CASH_SAFETY`` of the value), they are scaled by ``available / spend(buys)`` (exact for
       costs proportional to size; the impact's convexity keeps it feasible), or where that still
       does not fit (a fee floor, lots) by the largest factor below it that fits (bisection);
       then rounded to lots again.
    """
    units = np.asarray(units, dtype=float)
    p = np.asarray(prices, dtype=float)
    h = units * p
    w = np.asarray(weights, dtype=float) * (1.0 - cash_buffer)
    can = np.ones_like(h, dtype=bool) if tradable is None else np.asarray(tradable, dtype=bool)
    value = float(cash + h.sum())
    zero = np.zeros_like(h)
    if value <= 0:
        return OrderPlan(zero, zero, zero, zero, value, 1.0)
    w_can, h_can = np.where(can, w, 0.0), np.where(can, h, 0.0)
    post = value
    for _ in range(200):
        q = (w_can * post - h_can) / p
        new_post = value - float(table.cost(q, p, market).sum())
        done = abs(new_post - post) <= 1e-12 * value
        post = new_post
        if done:
            break
    wanted = (w_can * post - h_can) / p
    if min_trade_value > 0:
        wanted[np.abs(wanted * p) < min_trade_value] = 0.0
    capped = wanted.copy()
    if market is not None and np.isfinite(table.participation).any():
        limited = np.isfinite(table.participation)
        cap = np.where(limited, np.where(limited, table.participation, 0.0) * np.nan_to_num(market.volume, nan=0.0),
                       np.inf)
        capped = np.clip(wanted, -cap, cap)
    sizes = table.to_lots(np.maximum(capped, -units))
    sells, buys = np.minimum(sizes, 0.0), np.maximum(sizes, 0.0)
    proceeds = float((-sells * p).sum() - table.cost(sells, p, market).sum())
    available = cash + proceeds - CASH_SAFETY * value

    def spend(b):
        return float((b * p).sum() + table.cost(b, p, market).sum())

    scale = 1.0
    if buys.any() and spend(buys) > available:
        base = np.maximum(capped, 0.0)
        scale = max(available, 0.0) / spend(base)  # exact when costs are proportional to size
        if spend(table.to_lots(base * scale)) > available:  # a fee floor: bisect for the largest that fits
            lo, hi = 0.0, scale
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                if spend(table.to_lots(base * mid)) <= available:
                    lo = mid
                else:
                    hi = mid
            scale = lo
        buys = table.to_lots(base * scale)
        sizes = sells + buys
    cost = table.cost(sizes, p, market)
    return OrderPlan(sizes, wanted, capped, cost, value - float(cost.sum()), scale)
