"""Per-asset features for the LSTM allocator, the min-max scaler and the training samples.

Conventions (the *feature spec*, recorded in every checkpoint):

* Input: a DataFrame of close prices (adjusted), tz-naive dates in increasing order, one column
  per asset, every price finite and > 0.
* Three features per asset, computed causally (row ``t`` uses rows ``<= t`` only):

  - ``return``: simple daily return ``p_t / p_{t-1} - 1``;
  - ``rsi``: RSI of *prices* with Wilder smoothing, i.e. ``ewm(alpha=1/rsi_period, adjust=False)``
    of the gains and losses of ``p_t - p_{t-1}``, ``RSI = 100 * avg_gain / (avg_gain + avg_loss)``
    (identical to ``100 - 100 / (1 + RS)``; 100 when there are no losses, 50 when there is no
    movement at all). Undefined for the first ``rsi_period`` rows;
  - ``volatility``: rolling sample standard deviation (``ddof=1``) of the simple returns over
    ``vol_window`` bars (not annualised). Undefined for the first ``vol_window`` rows.

* Column order is **asset-major**: ``(asset_0, return), (asset_0, rsi), (asset_0, volatility),
  (asset_1, return), ...``, as a ``MultiIndex`` named ``("asset", "feature")``; the flat column
  ``j`` is asset ``j // 3``, feature ``j % 3``.
* Scaling: min-max per feature column, fitted on the training inputs only (the learned
  ``scaler_``); transforming later rows may leave ``[0, 1]``, which is allowed. A column with a
  zero range in the training data is mapped to ``x - min`` (scale 1).
* Samples: the input of the sample decided at row ``t`` is the scaled feature rows
  ``t - window + 1 .. t``; its target is the RAW (unscaled) simple return of row ``t + 1``. The
  last sample of a history therefore has the last available return as its target.

Wilder's recursion starts from the first price change of whatever history it is given, so a
truncated history gives a slightly different RSI; the difference decays like
``(1 - 1/rsi_period) ** n`` after ``n`` bars. ``FeatureSpec.lookback_bars`` (window plus
``rsi_warmup_bars`` = 500 by default, i.e. a factor ``(13/14) ** 499 < 1e-16``) is therefore a
constant number of rows that reproduces the full-history features to well below ``1e-9``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import as_strided

from bt_lstm_mvo.allocators.base import check_history
from bt_lstm_mvo.errors import ConfigError, DataError

FEATURE_NAMES: tuple[str, ...] = ("return", "rsi", "volatility")
FEATURE_ORDER = "asset-major"
FEATURE_SPEC_VERSION = 1


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class FeatureSpec:
    """What the features are and how many rows they need.

    Params:
        window: input window of the LSTM in bars (30).
        rsi_period: RSI period; Wilder smoothing ``alpha = 1 / rsi_period`` (14).
        vol_window: bars in the rolling standard deviation of returns (20).
        rsi_warmup_bars: extra rows kept before the window so that the RSI of a truncated
            history equals the full-history RSI to < 1e-12 (500).
    """

    window: int = 30
    rsi_period: int = 14
    vol_window: int = 20
    rsi_warmup_bars: int = 500

    def __post_init__(self):
        _check_int("window", self.window, 2)
        _check_int("rsi_period", self.rsi_period, 2)
        _check_int("vol_window", self.vol_window, 2)
        _check_int("rsi_warmup_bars", self.rsi_warmup_bars, 0)
        if self.rsi_warmup_bars < max(self.rsi_period, self.vol_window):
            raise ConfigError(
                f"rsi_warmup_bars must be >= max(rsi_period, vol_window) = "
                f"{max(self.rsi_period, self.vol_window)}, got {self.rsi_warmup_bars}"
            )

    @property
    def n_features_per_asset(self) -> int:
        return len(FEATURE_NAMES)

    @property
    def first_valid_row(self) -> int:
        """Row index (0-based) of the first row on which every feature is defined."""
        return max(self.rsi_period, self.vol_window)

    @property
    def min_rows(self) -> int:
        """Fewest price rows that give one complete input window."""
        return self.first_valid_row + self.window

    @property
    def lookback_bars(self) -> int:
        """Constant number of trailing rows that ``allocate`` uses (window + RSI warm-up)."""
        return self.window + self.rsi_warmup_bars

    def to_dict(self) -> dict:
        """Plain JSON-able description, stored in checkpoints and compared on load."""
        d = asdict(self)
        d.update(
            version=FEATURE_SPEC_VERSION,
            features=list(FEATURE_NAMES),
            order=FEATURE_ORDER,
            returns="simple",
            rsi="wilder-ewm-on-prices",
            volatility="rolling-std-ddof1-of-simple-returns",
            scaling="minmax-fit-on-training-inputs",
            targets="raw-next-bar-simple-returns",
        )
        return d


def validate_prices(prices: pd.DataFrame, source: str = "prices") -> None:
    """Raise :class:`DataError` unless ``prices`` is a usable close-price frame."""
    check_history(prices, source)
    try:
        values = prices.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{source}: prices must be numeric") from None
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        rows, cols = np.nonzero(bad)
        asset = prices.columns[cols[0]]
        count = int(bad[:, cols[0]].sum())
        raise DataError(
            f"{source}: column {asset!r} has {count} missing or non-positive prices (first on "
            f"{prices.index[rows[0]]}); prices must be finite and > 0 (align or fill the data first)"
        )


def feature_columns(assets) -> pd.MultiIndex:
    """The asset-major feature columns for ``assets``."""
    return pd.MultiIndex.from_product([list(assets), list(FEATURE_NAMES)], names=["asset", "feature"])


def _wilder(x: np.ndarray, alpha: float, min_periods: int) -> np.ndarray:
    """``ewm(alpha, adjust=False, min_periods)`` of a column-wise array whose first row is NaN."""
    df = pd.DataFrame(x)
    return df.ewm(alpha=alpha, adjust=False, min_periods=min_periods).mean().to_numpy()


def feature_array(prices: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Unscaled features as an array ``(rows, n_assets * 3)``, asset-major; NaN while undefined.

    ``prices`` is a validated 2-D float array (rows = dates, columns = assets).
    """
    prices = np.asarray(prices, dtype=float)
    n_rows, n_assets = prices.shape
    delta = np.full_like(prices, np.nan)
    delta[1:] = prices[1:] - prices[:-1]
    returns = np.full_like(prices, np.nan)
    returns[1:] = prices[1:] / prices[:-1] - 1.0

    alpha = 1.0 / spec.rsi_period
    up = np.where(delta > 0, delta, 0.0)
    down = np.where(delta < 0, -delta, 0.0)
    up[0] = down[0] = np.nan  # no change is known on the first row
    gains = _wilder(up, alpha, spec.rsi_period)
    losses = _wilder(down, alpha, spec.rsi_period)
    total = gains + losses
    with np.errstate(invalid="ignore", divide="ignore"):
        rsi = np.where(total > 0, 100.0 * gains / np.where(total > 0, total, 1.0), 50.0)
    rsi[np.isnan(total)] = np.nan

    vol = (
        pd.DataFrame(returns)
        .rolling(spec.vol_window, min_periods=spec.vol_window)
        .std(ddof=1)
        .to_numpy()
    )
    return np.stack([returns, rsi, vol], axis=2).reshape(n_rows, n_assets * len(FEATURE_NAMES))


_DECAY: dict = {}


def _decay_weights(alpha: float, n: int) -> np.ndarray:
    """Weights ``w`` with ``w @ x[:n] == y[n-1]`` of ``y_0 = x_0, y_t = (1 - a) y_(t-1) + a x_t``."""
    key = (alpha, n)
    w = _DECAY.get(key)
    if w is None:
        w = alpha * (1.0 - alpha) ** np.arange(n - 1, -1, -1, dtype=float)
        w[0] = (1.0 - alpha) ** (n - 1)
        if len(_DECAY) > 64:
            _DECAY.clear()
        _DECAY[key] = w
    return w


def _recurse(x: np.ndarray, before: np.ndarray, alpha: float) -> np.ndarray:
    """``y_t = (1 - a) y_(t-1) + a x_t`` over the rows of ``x`` from ``y_(-1) = before``, as one
    product with the lower-triangular decay matrix ``L[t, j] = a (1 - a) ** (t - j)``, plus
    ``(1 - a) ** (t + 1) * before`` (what ``scipy.signal.lfilter`` computes, without importing
    scipy.signal: 0.57 s in every fresh process, e.g. each sweep worker)."""
    n = len(x)
    key = ("recurse", alpha, n)
    cached = _DECAY.get(key)
    if cached is None:
        lag = np.subtract.outer(np.arange(n), np.arange(n))
        decay = np.where(lag >= 0, alpha * (1.0 - alpha) ** np.maximum(lag, 0), 0.0)
        cached = (decay, (1.0 - alpha) ** np.arange(1, n + 1, dtype=float))
        if len(_DECAY) > 64:
            _DECAY.clear()
        _DECAY[key] = cached
    decay, carry = cached
    return decay @ x + carry[:, None] * before[None, :]


def feature_tail(prices: np.ndarray, spec: FeatureSpec, rows: int) -> np.ndarray:
    """The last ``rows`` rows of :func:`feature_array` in numpy alone (the per-bar path).

    The same definitions: Wilder's RSI as the recursion ``y_t = (1 - a) y_(t-1) + a x_t`` from the
    first change (what pandas' ``ewm(adjust=False)`` computes: its value before the last ``rows``
    changes as one weighted sum, then the recursion over those as one matrix product), the
    rolling std (ddof 1) of the last ``vol_window`` returns only where a row needs it. It equals
    ``feature_array(prices)[-rows:]`` to rounding (about 1e-15 relative; tested to 1e-9) at a
    tenth of its cost. ``prices``: finite, > 0, at least ``spec.min_rows`` rows.
    """
    prices = np.asarray(prices, dtype=float)
    n, k = prices.shape
    delta = prices[1:] - prices[:-1]
    alpha = 1.0 / spec.rsi_period
    start = n - 1 - rows  # the first output row's change (change j is row j + 1)
    tail = delta[start:] if start >= 2 else delta
    moves = np.empty((len(tail), 2 * k))  # gains (up moves) beside losses (down moves): one filter for both
    np.maximum(tail, 0.0, out=moves[:, :k])
    np.maximum(-tail, 0.0, out=moves[:, k:])
    if start >= 2:  # the recursion's value just before the tail as one weighted sum, then recurse over the tail
        w = _decay_weights(alpha, start)
        head = delta[:start]
        signed, size = w @ head, w @ np.abs(head)  # up = (|d| + d) / 2, down = (|d| - d) / 2
        before = np.concatenate([(size + signed) * 0.5, (size - signed) * 0.5])
        smooth = _recurse(moves, before, alpha)
    else:  # the recursion starts at the first change: y_0 = x_0
        smooth = _recurse(moves, moves[0], alpha)[-rows:]
    gains, losses = smooth[:, :k], smooth[:, k:]
    total = gains + losses
    rsi = np.divide(100.0 * gains, total, out=np.full_like(total, 50.0), where=total > 0)
    first = n - rows  # full row index of the first output row; change j is row j + 1
    rsi[: max(0, spec.rsi_period - first)] = np.nan  # rows before rsi_period changes are known
    recent = prices[-(rows + spec.vol_window):]
    rets = recent[1:] / recent[:-1] - 1.0  # the returns of the last rows + vol_window - 1 rows
    r0, r1 = rets.strides
    win = as_strided(rets[-(rows + spec.vol_window - 1):], shape=(rows, k, spec.vol_window),
                     strides=(r0, r1, r0), writeable=False)  # (rows, assets, vol_window) views
    dev = win - win.sum(axis=-1, keepdims=True) / spec.vol_window
    vol = np.sqrt(np.einsum("rkw,rkw->rk", dev, dev) / (spec.vol_window - 1))  # two-pass std, ddof 1
    return np.stack([rets[-rows:], rsi, vol], axis=2).reshape(rows, k * len(FEATURE_NAMES))


def compute_features(prices: pd.DataFrame, spec: FeatureSpec | None = None) -> pd.DataFrame:
    """Unscaled features of a close-price frame, offline (same code as ``allocate`` uses).

    Returns a DataFrame on the same dates with asset-major ``MultiIndex`` columns
    ``(asset, feature)``; rows where a feature is not yet defined hold NaN.
    """
    spec = spec or FeatureSpec()
    validate_prices(prices)
    values = feature_array(prices.to_numpy(dtype=float), spec)
    return pd.DataFrame(values, index=prices.index, columns=feature_columns(prices.columns))


@dataclass
class MinMaxScaler:
    """Per-column min-max scaling learned from training rows: ``(x - data_min) / scale``.

    ``scale = data_max - data_min``, or 1 where that range is 0. Values outside the training
    range map outside ``[0, 1]``; that is allowed at inference.
    """

    data_min: np.ndarray
    data_max: np.ndarray

    @classmethod
    def fit(cls, values) -> MinMaxScaler:
        values = np.asarray(values, dtype=float)
        if values.ndim != 2 or values.shape[0] == 0:
            raise DataError(f"MinMaxScaler.fit: need a non-empty 2-D array, got shape {values.shape}")
        if not np.isfinite(values).all():
            raise DataError("MinMaxScaler.fit: training features contain NaN or infinite values")
        return cls(values.min(axis=0), values.max(axis=0))

    @property
    def scale(self) -> np.ndarray:
        cached = self.__dict__.get("_scale")
        if cached is None or cached[0] is not self.data_min or cached[1] is not self.data_max:
            rng = self.data_max - self.data_min
            cached = (self.data_min, self.data_max, np.where(rng > 0, rng, 1.0))
            self.__dict__["_scale"] = cached
        return cached[2]

    def transform(self, values):
        """Scale an array or a DataFrame (whose columns are the fitted columns, in order)."""
        if isinstance(values, pd.DataFrame):
            return pd.DataFrame(self.transform(values.to_numpy(dtype=float)), index=values.index,
                                columns=values.columns)
        values = np.asarray(values, dtype=float)
        if values.shape[-1] != self.data_min.shape[0]:
            raise DataError(
                f"MinMaxScaler: expected {self.data_min.shape[0]} feature columns, got {values.shape[-1]}"
            )
        return (values - self.data_min) / self.scale

    def to_dict(self) -> dict:
        return {"data_min": [float(x) for x in self.data_min], "data_max": [float(x) for x in self.data_max]}

    @classmethod
    def from_dict(cls, d: dict) -> MinMaxScaler:
        return cls(np.asarray(d["data_min"], dtype=float), np.asarray(d["data_max"], dtype=float))


def sample_rows(features: np.ndarray, window: int) -> np.ndarray:
    """Row indices ``t`` of the decision bars that make a training sample.

    ``t`` qualifies when its whole input window ``t - window + 1 .. t`` has every feature defined
    and a next row ``t + 1`` exists (its return is the target). Features are causal and prices
    validated, so undefined rows only occur at the start.
    """
    valid = np.isfinite(features).all(axis=1)
    if not valid.any():
        return np.arange(0)
    first = int(np.argmax(valid))
    if not valid[first:].all():
        raise DataError("features are undefined after their warm-up; check the prices for gaps")
    return np.arange(first + window - 1, features.shape[0] - 1)


def windows(scaled: np.ndarray, rows: np.ndarray, window: int) -> np.ndarray:
    """Input windows ``(len(rows), window, n_features)`` ending at each row in ``rows``."""
    view = np.lib.stride_tricks.sliding_window_view(scaled, window, axis=0)  # (T-w+1, F, w)
    return np.ascontiguousarray(view[rows - window + 1].transpose(0, 2, 1))
