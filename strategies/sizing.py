"""Self-financing rebalance arithmetic (pure functions, no Backtrader).

Given current holdings (value per asset), cash, target weights and a proportional cost rate
``c``, find target values ``T_i = w_i * V'`` where ``V'`` is the portfolio value left after
paying for the trades::

    V' = V - c * sum_i |w_i * V' - h_i|,      V = cash + sum_i h_i

The map is a contraction for c < 1, so fixed-point iteration converges. Assets that cannot be
traded on this bar keep their holdings. Buys are then scaled down, if needed, so that
``sum(buys) * (1 + c) <= cash + sum(sells) * (1 - c)`` (minus a tiny safety margin): a
rebalance never needs more cash than it has.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bt_lstm_mvo.vocab import CASH_SAFETY


@dataclass
class TradePlan:
    """Trade values per asset (positive buy, negative sell) and what they imply."""

    trades: np.ndarray
    target_values: np.ndarray
    post_value: float
    commission: float
    buy_scale: float


def plan_rebalance(
    holdings: np.ndarray,
    cash: float,
    weights: np.ndarray,
    rate: float,
    tradable: np.ndarray | None = None,
    cash_buffer: float = 0.0,
    min_trade_value: float = 0.0,
) -> TradePlan:
    """Trade values that move ``holdings`` (values) to ``weights`` of the post-cost value.

    ``weights`` sum to <= 1; ``cash_buffer`` (a fraction) is kept in cash on top of the
    weights' own cash share. Trades smaller than ``min_trade_value`` are skipped.
    """
    h = np.asarray(holdings, dtype=float)
    w = np.asarray(weights, dtype=float) * (1.0 - cash_buffer)
    can = np.ones_like(h, dtype=bool) if tradable is None else np.asarray(tradable, dtype=bool)
    value = float(cash + h.sum())
    if value <= 0:
        return TradePlan(np.zeros_like(h), h.copy(), value, 0.0, 1.0)

    # |target - h| with target = w * post where tradable, h elsewhere (0 there): the masked
    # copies save two array operations per iteration and give bit-identical sums
    w_can = np.where(can, w, 0.0)
    h_can = np.where(can, h, 0.0)
    post = value
    for _ in range(100):
        new_post = value - rate * float(np.abs(w_can * post - h_can).sum())
        if abs(new_post - post) <= 1e-12 * value:
            post = new_post
            break
        post = new_post
    trades = w_can * post - h_can  # == np.where(can, w * post, h) - h, bit for bit
    if min_trade_value > 0:
        trades[np.abs(trades) < min_trade_value] = 0.0

    sells = -trades[trades < 0].sum()
    buys = trades[trades > 0].sum()
    available = cash + sells * (1.0 - rate) - CASH_SAFETY * value
    scale = 1.0
    if buys > 0 and buys * (1.0 + rate) > available:
        scale = max(available, 0.0) / (buys * (1.0 + rate))
        trades = np.where(trades > 0, trades * scale, trades)
    commission = rate * float(np.abs(trades).sum())
    return TradePlan(trades, h + trades, value - commission, commission, scale)
