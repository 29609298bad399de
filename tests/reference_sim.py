"""An independent, vectorised reference simulator (test helper; shares no code with strategies/).

Model: start with ``cash``; at each day's close, trade to ``weights`` of the value that is left
after paying ``rate`` on the traded value (solved with a root finder); between closes the
holdings drift with prices. The value reported for the last day is measured before that day's
rebalance, as a broker that fills at the close reports it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq


def _post_cost_value(value: float, holdings: np.ndarray, weights: np.ndarray, rate: float) -> float:
    def f(v):
        return v + rate * np.abs(weights * v - holdings).sum() - value

    return brentq(f, value * (1 - 2 * rate) - 1e-9, value + 1e-9, xtol=1e-12, rtol=1e-15)


def simulate(closes: pd.DataFrame, weights: pd.Series, rate: float = 0.001, cash: float = 1_000_000.0):
    """Daily-rebalanced portfolio values (one per row of ``closes``) and total commission."""
    px = closes.to_numpy(dtype=float)
    w = weights.reindex(closes.columns).fillna(0.0).to_numpy(dtype=float)
    units = np.zeros(px.shape[1])
    cash_left = cash
    values = np.empty(len(px))
    paid = 0.0
    for t in range(len(px)):
        holdings = units * px[t]
        value = cash_left + holdings.sum()
        values[t] = value
        if t == len(px) - 1:
            break
        post = _post_cost_value(value, holdings, w, rate)
        new_holdings = w * post
        paid += value - post
        units = new_holdings / px[t]
        cash_left = post - new_holdings.sum()
    return pd.Series(values, index=closes.index), paid
