"""Naive allocators: equal weight, fixed weights by asset name, buy-and-hold one asset."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from bt_lstm_mvo.allocators.base import Allocator
from bt_lstm_mvo.errors import AllocationError, ConfigError


class EqualWeight(Allocator):
    """``1/N`` in each of the N assets in the history."""

    lookback = 1

    def allocate(self, history: pd.DataFrame) -> pd.Series:
        return pd.Series(self.allocate_values(history.to_numpy(), history.columns), index=history.columns)

    def allocate_values(self, values: np.ndarray, columns, dates=None) -> np.ndarray:
        """:meth:`allocate` as an array in ``columns`` order (the strategies' and engine's per-bar path)."""
        n = len(columns)
        return np.full(n, 1.0 / n)


class FixedWeights(Allocator):
    """Constant target weights by asset name; unnamed assets get 0.

    Params:
        weights: mapping asset -> weight (each >= 0, sum <= 1; the rest is cash).
    """

    lookback = 1

    def __init__(self, weights: Mapping[str, float]):
        if not isinstance(weights, Mapping) or not weights:
            raise ConfigError(f"FixedWeights: weights must be a non-empty mapping, got {weights!r}")
        clean = {}
        for name, value in weights.items():
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"FixedWeights: weight of {name!r} must be a number, got {value!r}"
                ) from None
            if not np.isfinite(v) or v < 0:
                raise ConfigError(f"FixedWeights: weight of {name!r} must be finite and >= 0, got {v}")
            clean[str(name)] = v
        total = sum(clean.values())
        if total > 1.0 + 1e-9:
            raise ConfigError(f"FixedWeights: weights sum to {total:.6g}; they must sum to <= 1")
        self.weights = clean
        self._cache: tuple | None = None  # (columns object, weights array) of the last call

    def allocate(self, history: pd.DataFrame) -> pd.Series:
        return pd.Series(self.allocate_values(history.to_numpy(), history.columns), index=history.columns)

    def allocate_values(self, values: np.ndarray, columns, dates=None) -> np.ndarray:
        """:meth:`allocate` as an array in ``columns`` order (the strategies' and engine's per-bar path)."""
        if self._cache is not None and self._cache[0] is columns:
            return self._cache[1].copy()  # the same columns object as last bar: the same weights
        missing = [a for a in self.weights if a not in columns]
        if missing:
            raise AllocationError(f"FixedWeights: assets {missing} are not in the data (columns: {list(columns)})")
        weights = np.array([self.weights.get(a, 0.0) for a in columns], dtype=float)
        self._cache = (columns, weights)
        return weights.copy()

    def describe(self) -> dict:
        return {"allocator": "FixedWeights", "weights": dict(self.weights)}


class BuyAndHold(Allocator):
    """All-in one asset. Use with ``schedule='never'`` so the position is bought once and held.

    Params:
        asset: the asset name (a column of the history).
    """

    lookback = 1

    def __init__(self, asset: str):
        if not isinstance(asset, str) or not asset:
            raise ConfigError(f"BuyAndHold: asset must be a non-empty string, got {asset!r}")
        self.asset = asset

    def allocate(self, history: pd.DataFrame) -> pd.Series:
        return pd.Series(self.allocate_values(history.to_numpy(), history.columns), index=history.columns)

    def allocate_values(self, values: np.ndarray, columns, dates=None) -> np.ndarray:
        """:meth:`allocate` as an array in ``columns`` order."""
        cols = list(columns)
        if self.asset not in cols:
            raise AllocationError(f"BuyAndHold: asset {self.asset!r} is not in the data (columns: {cols})")
        w = np.zeros(len(cols))
        w[cols.index(self.asset)] = 1.0
        return w

    def describe(self) -> dict:
        return {"allocator": "BuyAndHold", "asset": self.asset}
