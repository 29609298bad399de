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


_CACHE: dict = {}  # the constant matrices of feature_tail, by their sizes


def _cached(key, build):
    value = _CACHE.get(key)
    if value is None:
        if len(_CACHE) > 64:
            _CACHE.clear()
        value = _CACHE[key] = build()
    return value


def _decay_weights(alpha: float, n: int) -> np.ndarray:
    """Weights ``w`` with ``w @ x[:n] == y[n-1]`` of ``y_0 = x_0, y_t = (1 - a) y_(t-1) + a x_t``."""
    def build():
        w = alpha * (1.0 - alpha) ** np.arange(n - 1, -1, -1, dtype=float)
        w[0] = (1.0 - alpha) ** (n - 1)
        return w
    return _cached(("decay", alpha, n), build)


def _recursion_matrix(alpha: float, rows: int) -> np.ndarray:
    """``M`` (rows x rows + 1) with ``M @ [y_(-1); x_0 .. x_(rows-1)] == y_0 .. y_(rows-1)`` of
    ``y_t = (1 - a) y_(t-1) + a x_t``: column 0 carries the value before, ``(1 - a) ** (t + 1)``; the
    rest is the lower-triangular decay ``a (1 - a) ** (t - j)`` (what ``scipy.signal.lfilter``
    computes, without importing scipy.signal: 0.57 s in every fresh process, e.g. each sweep worker)."""
    def build():
        lag = np.subtract.outer(np.arange(rows), np.arange(rows))
        m = np.empty((rows, rows + 1))
        m[:, 0] = (1.0 - alpha) ** np.arange(1, rows + 1, dtype=float)
        m[:, 1:] = np.where(lag >= 0, alpha * (1.0 - alpha) ** np.maximum(lag, 0), 0.0)
        return m
    return _cached(("recurse", alpha, rows), build)


def _rolling_windows(rows: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """For ``rows + width - 1`` values: the matrix of the ``rows`` trailing means of ``width``
    values (rows x rows + width - 1) and the index of each window's values (rows x width)."""
    def build():
        lag = np.subtract.outer(np.arange(rows + width - 1), np.arange(rows)).T  # value j - window t
        means = np.where((lag >= 0) & (lag < width), 1.0 / width, 0.0)
        return means, np.add.outer(np.arange(rows), np.arange(width))
    return _cached(("windows", rows, width), build)


def feature_tail(prices: np.ndarray, spec: FeatureSpec, rows: int) -> np.ndarray:
    """The last ``rows`` rows of :func:`feature_array` in numpy alone (the per-bar path).

    The same definitions: Wilder's RSI as the recursion ``y_t = (1 - a) y_(t-1) + a x_t`` from the
    first change (what pandas' ``ewm(adjust=False)`` computes: its value before the last ``rows``
    changes as one weighted sum, then the recursion over those as one matrix product), the
    rolling std (ddof 1, two passes: each window's mean, then its squared deviations) of the last
    ``vol_window`` returns only where a row needs it. It equals ``feature_array(prices)[-rows:]``
    to rounding (about 1e-15 relative; tested to 1e-9) at a fraction of its cost, in about 25
    numpy calls. ``prices``: finite, > 0, at least ``rows + spec.vol_window`` rows (``spec.min_rows``
    for ``rows = spec.window``).
    """
    return _tail(prices, spec, rows)[0]


def _tail(prices: np.ndarray, spec: FeatureSpec, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`feature_tail`, and the smoothed gains beside minus the smoothed losses at the last
    row (``2 * assets``: the state a :class:`~bt_lstm_mvo.allocators.lstm.stream.FeatureStream`
    carries on)."""
    prices = np.asarray(prices, dtype=float)
    n, k = prices.shape
    width = spec.vol_window
    if rows < 1 or n < rows + width:
        raise DataError(f"feature_tail: {n} price rows give no {rows} feature rows; need at least {rows + width}")
    alpha = 1.0 / spec.rsi_period
    start = n - 1 - rows  # the first output row's change (change j is row j + 1); >= width - 1 >= 1
    moves = np.empty((n - 1, 2 * k))  # change j's up move beside its down move (<= 0)
    delta = prices[1:] - prices[:-1]
    np.maximum(delta, 0.0, out=moves[:, :k])
    np.minimum(delta, 0.0, out=moves[:, k:])
    # the recursion's value just before change `start`, put where change start - 1 was (read first)
    moves[start - 1] = _decay_weights(alpha, start) @ moves[:start]
    smooth = _recursion_matrix(alpha, rows) @ moves[start - 1:]  # smoothed gains beside minus the losses
    out = np.empty((rows, k, len(FEATURE_NAMES)))
    gains = smooth[:, :k]
    total = gains - smooth[:, k:]
    rsi = out[:, :, 1]
    rsi[...] = 0.5  # no move at all: 50
    np.divide(gains, total, out=rsi, where=total > 0)
    rsi *= 100.0
    first = n - rows  # full row index of the first output row
    if first < spec.rsi_period:  # rows before rsi_period changes are known
        rsi[: spec.rsi_period - first] = np.nan
    recent = prices[-(rows + width):]
    rets = recent[1:] / recent[:-1]  # the returns of the last rows + width - 1 rows
    rets -= 1.0
    out[:, :, 0] = rets[-rows:]
    means, index = _rolling_windows(rows, width)
    dev = rets[index]  # (rows, width, assets)
    dev -= (means @ rets)[:, None, :]
    var = np.einsum("rwk,rwk->rk", dev, dev)
    var /= width - 1
    np.sqrt(var, out=out[:, :, 2])
    return out.reshape(rows, k * len(FEATURE_NAMES)), smooth[-1]


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
