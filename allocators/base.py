"""The allocator contract.

An allocator maps what is known at a decision time to target weights.

* ``fit(history)`` estimates or learns whatever it needs and returns ``self``. Learned state
  lives in attributes ending in ``_`` (``weights_``, ``scaler_``).
* ``allocate(history)`` returns a :class:`pandas.Series` indexed by asset name: finite,
  ``>= 0``, summing to ``<= 1`` (the rest is cash).

``history`` is a :class:`pandas.DataFrame` of (adjusted) close prices, indexed by tz-naive
dates in increasing order, one column per asset, whose last row is the decision bar. The
caller guarantees it holds nothing later than the decision bar; an allocator must not assume
anything about rows it was not given.

``lookback`` tells the caller how many trailing rows ``allocate`` needs (``None``: all of
them); strategies use it to keep per-bar cost independent of history length.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np
import pandas as pd

from lmbt.errors import AllocationError

WEIGHT_TOL = 1e-9


class Allocator(ABC):
    """Base class. Subclasses store (and validate) arguments in ``__init__`` only."""

    #: trailing rows of history ``allocate`` needs; ``None`` means the whole history
    lookback: int | None = None
    #: whether ``fit`` must be called before ``allocate``
    requires_fit: bool = False

    def fit(self, history: pd.DataFrame) -> Allocator:
        """Estimate from ``history`` (nothing later than the decision bar). Returns self."""
        return self

    @abstractmethod
    def allocate(self, history: pd.DataFrame) -> pd.Series:
        """Target weights for the last row of ``history``."""

    def describe(self) -> dict:
        """Plain, JSON-able description used in reports."""
        return {"allocator": type(self).__name__}


def validate_weights(weights, assets, source: str = "allocator") -> pd.Series:
    """Check the weight contract and return the weights as a float Series in ``assets`` order.

    Raises :class:`AllocationError` naming the rule and the value when a weight is not finite,
    negative, the sum exceeds 1, or an asset is unknown/missing.
    """
    assets = list(assets)
    if not isinstance(weights, pd.Series):
        raise AllocationError(
            f"{source}: weights must be a pandas Series indexed by asset, got {type(weights).__name__}"
        )
    unknown = [a for a in weights.index if a not in assets]
    if unknown:
        raise AllocationError(
            f"{source}: weights name unknown assets {unknown}; known assets are {assets}"
        )
    w = weights.reindex(assets).fillna(0.0).astype(float)
    values = w.to_numpy()
    bad = ~np.isfinite(values)
    if bad.any():
        first = w.index[bad][0]
        raise AllocationError(
            f"{source}: weight of {first} is {weights[first]!r}; weights must be finite"
        )
    neg = values < -WEIGHT_TOL
    if neg.any():
        first = w.index[neg][0]
        raise AllocationError(
            f"{source}: weight of {first} is {values[neg][0]:.6g}; weights must be >= 0 (no shorts)"
        )
    total = float(values.sum())
    if total > 1.0 + 1e-6:
        raise AllocationError(
            f"{source}: weights sum to {total:.9g}; they must sum to <= 1 (no leverage)"
        )
    w = w.clip(lower=0.0)
    total = float(w.sum())
    if total > 1.0:  # rounding only (checked above): rescale to exactly 1
        w = w / total
    if not math.isfinite(total):
        raise AllocationError(f"{source}: weights sum is not finite")
    return w
