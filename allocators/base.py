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
``min_history_rows(n_assets)`` tells how many rows the first ``fit`` (or ``allocate``, for an
allocator that needs no fit) needs; the runner checks it against the data before any run.

Failures: an allocator signals that it cannot decide with a :class:`bt_lstm_mvo.errors.PluginError`
(``AllocationError`` for "no valid weights", ``DataError`` for bad or too short history);
:data:`ALLOCATOR_FAILURES` lists what a strategy's ``on_failure`` policy may catch. Anything
else (a ``TypeError``, ``KeyError``...) is a bug and propagates.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np
import pandas as pd

from bt_lstm_mvo.errors import AllocationError, DataError, PluginError

WEIGHT_TOL = 1e-9

#: what an allocator's ``fit``/``allocate`` may raise when it cannot decide (numerical failures
#: included); a strategy's ``on_failure`` policy catches these and nothing else
ALLOCATOR_FAILURES = (PluginError, ArithmeticError, np.linalg.LinAlgError)


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

    def min_history_rows(self, n_assets: int) -> int:
        """Fewest rows of history the first decision needs (the first ``fit``, or ``allocate``
        when no fit is required). The runner checks it against the training bars."""
        return 1

    def check_universe(self, n_assets: int) -> None:
        """Raise a ConfigError when this allocator cannot work on ``n_assets`` assets (a cap that
        cannot sum to 1, a network too large to build). The runner calls it before any run."""
        return None

    def describe(self) -> dict:
        """Plain, JSON-able description used in reports."""
        return {"allocator": type(self).__name__}


def check_history(history, source: str = "history") -> None:
    """The structural part of the history contract: a DataFrame with unique asset columns and
    strictly increasing dates. Raises :class:`bt_lstm_mvo.errors.DataError` naming ``source``."""
    if not isinstance(history, pd.DataFrame):
        raise DataError(f"{source}: expected a pandas DataFrame of close prices, got {type(history).__name__}")
    if history.shape[1] == 0:
        raise DataError(f"{source}: the price frame has no asset columns")
    if history.columns.has_duplicates:
        dup = list(history.columns[history.columns.duplicated()])
        raise DataError(f"{source}: duplicate asset columns {dup}; each asset must appear once")
    if not history.index.is_monotonic_increasing or history.index.has_duplicates:
        raise DataError(f"{source}: the index must be strictly increasing dates (sort and de-duplicate it)")


def has_array_path(cls) -> bool:
    """The allocator class has ``allocate_values`` defined where its ``allocate`` is (a subclass
    that overrides ``allocate`` alone keeps the DataFrame path, so its override is called)."""
    def owner(name):
        return next((k for k in cls.__mro__ if name in k.__dict__), None)

    values = owner("allocate_values")
    return values is not None and values is owner("allocate")


def weights_array(weights, assets: pd.Index, source: str = "allocator") -> np.ndarray:
    """:func:`validate_weights` as a float array in ``assets`` order, with a fast path.

    When ``weights`` is a float Series indexed exactly by ``assets`` (or a float array in
    ``assets`` order) and meets the contract, the same result is computed with numpy alone (the
    pandas reindex/clip of the general path dominate a cheap allocator's per-bar time). Anything else goes through
    :func:`validate_weights`, whose error messages stay the only ones.
    """
    if type(weights) is np.ndarray:  # already in ``assets`` order (an ``allocate_values`` result)
        values = weights.astype(float, copy=False)
        if values.shape != (len(assets),):
            raise AllocationError(f"{source}: returned weights of shape {values.shape} for {len(assets)} assets")
    elif (type(weights) is pd.Series and weights.dtype.kind == "f"
            and (weights.index is assets or weights.index.equals(assets))):
        values = weights.to_numpy(dtype=float)
    else:
        values = None
    if values is not None and values.shape == (len(assets),) and len(values):
        # two reductions decide it: a NaN or inf makes the sum non-finite (or the min fail the test)
        if len(values) < 8:  # Python floats: numpy sums fewer than 8 values in this same order
            listed = values.tolist()
            low, total = min(listed), sum(listed)
        else:
            low, total = float(values.min()), float(values.sum())
        if low >= -WEIGHT_TOL and math.isfinite(total) and total <= 1.0 + 1e-6:
            w = values.copy() if low >= 0.0 else np.maximum(values, 0.0)
            if low < 0.0:
                total = float(w.sum())
            return w / total if total > 1.0 else w
    if type(weights) is np.ndarray:  # breaks the contract: the Series path words the error
        weights = pd.Series(weights.astype(float, copy=False), index=assets)
    return validate_weights(weights, assets, source=source).to_numpy(dtype=float)


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
    try:
        given = weights.astype(float)
    except (TypeError, ValueError):
        raise AllocationError(f"{source}: weights must be numbers, got {weights.to_dict()!r}") from None
    bad = ~np.isfinite(given.to_numpy())
    if bad.any():  # checked before unnamed assets are filled with 0, so a NaN is never read as 0
        first = given.index[bad][0]
        raise AllocationError(
            f"{source}: weight of {first} is {float(given[first])!r}; weights must be finite"
        )
    w = given.reindex(assets).fillna(0.0)
    values = w.to_numpy()
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
    return w
