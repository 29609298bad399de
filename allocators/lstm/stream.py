"""``FeatureStream``: the LSTM's scaled input window carried on from one bar to the next.

The per-bar path (``LSTMAllocator.allocate_values``, which a strategy and the array engine call
once a decision) gets the trailing ``lookback`` rows of one price buffer. From one daily decision
to the next that window moves on by one row, so every feature row but the newest is already
known. A stream computes its first window with :func:`~bt_lstm_mvo.allocators.lstm.features.feature_tail`
(about 25 numpy calls, whose cost is per call, not per value), then each new row alone, in Python
floats (a few dozen float operations per asset):

* the return ``p_t / p_(t-1) - 1``: the same two roundings as ``feature_tail``, equal bit for bit;
* the RSI: Wilder's recursion ``y_t = (1 - a) y_(t-1) + a x_t`` carried on from the previous row's
  smoothed gain and loss instead of restarted at the window's first row. The two differ by the
  weight ``(1 - a) ** (lookback - 1)`` of the start value (< 1e-16 for the defaults, see
  :mod:`~bt_lstm_mvo.allocators.lstm.features`); the carried value is the full-history recursion;
* the volatility: the same two passes over the last ``vol_window`` returns, summed in another order.

A streamed row therefore equals ``feature_tail``'s to rounding (tests: 1e-12 over 1,000 bars, 1e-9
against the offline pandas features). The network's float32 input differs from a fresh
computation only where a value rounds across a float32 step,
so a weight can, rarely, differ from ``allocate``'s on the same window in about its 7th digit.

A call continues the stream only when its window is the previous window moved on by exactly one
row with every earlier price equal, or the same window again (then the same input, so the same
weights); anything else (another buffer, a gap of more than one bar, a changed price, a new scaler
after a fit) starts a new stream from scratch. A run of a strategy or of the array engine decides
on its own buffer from its first bar, so it starts from scratch unless its first window continues
the previous call's window exactly (a run that picks up on the next bar where another stopped).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from bt_lstm_mvo.allocators.lstm.features import FEATURE_NAMES, FeatureSpec, MinMaxScaler, _tail


class FeatureStream:
    """The scaled input window (``window`` rows, asset-major features) of a sliding price window.

    ``FeatureStream(spec, scaler, prices)`` starts on ``prices`` (validated, finite and > 0, at
    least ``spec.min_rows`` rows, the assets in the scaler's order); :meth:`advance` takes the next
    call's prices and says whether it continued. :attr:`scaled` and :attr:`scaled32` are views of
    the current window (float64, and the float32 the network reads), valid until the next advance.
    """

    __slots__ = ("spec", "_minmax", "_lo", "_scale", "_alpha", "_gain", "_loss", "_rets", "_last",
                 "_prices", "_ring", "_ring32", "_pos")

    def __init__(self, spec: FeatureSpec, scaler: MinMaxScaler, prices: np.ndarray):
        rows, width = spec.window, spec.vol_window
        features, smooth = _tail(prices, spec, rows)
        scaled = scaler.transform(features)
        k = prices.shape[1]
        self.spec = spec
        self._minmax = (scaler.data_min, scaler.data_max)
        self._lo, self._scale = scaler.data_min.tolist(), scaler.scale.tolist()
        self._alpha = 1.0 / spec.rsi_period
        self._gain, self._loss = smooth[:k].tolist(), smooth[k:].tolist()  # the loss side is <= 0
        recent = prices[-(width + 1):]
        rets = recent[1:] / recent[:-1]  # as _tail: the division, then the subtraction
        rets -= 1.0
        self._rets = [deque(rets[:, j].tolist(), maxlen=width) for j in range(k)]
        self._last = prices[-1].tolist()
        self._prices = np.array(prices, dtype=float)  # a copy: the caller's buffer may change
        self._ring = np.empty((2 * rows, scaled.shape[1]))  # each row twice, so the window is one slice
        self._ring[:rows] = scaled
        self._ring[rows:] = scaled
        self._ring32 = self._ring.astype(np.float32)
        self._pos = rows - 1  # the window is ring[pos + 1 : pos + 1 + rows]

    def serves(self, spec: FeatureSpec, scaler: MinMaxScaler) -> bool:
        """Built for this spec and this scaler's fitted values (a fit or a load makes new ones)."""
        return spec is self.spec and scaler.data_min is self._minmax[0] and scaler.data_max is self._minmax[1]

    @property
    def scaled(self) -> np.ndarray:
        return self._ring[self._pos + 1: self._pos + 1 + self.spec.window]

    @property
    def scaled32(self) -> np.ndarray:
        return self._ring32[self._pos + 1: self._pos + 1 + self.spec.window]

    def advance(self, prices: np.ndarray) -> bool:
        """Move on to ``prices`` (float, assets in order) if they continue the stream: the previous
        window moved on by one row (or grown by one row, while shorter than ``lookback``), or the same
        window. Returns False, changing nothing, for anything else, including a new row that is not
        finite and > 0 (the caller's full check then words the error)."""
        old = self._prices
        n = len(prices)
        # byte equality is value equality here: the old prices are finite and > 0 (no NaN, no -0.0), and
        # another number of assets gives another length; one memcmp instead of a comparison array
        if n == len(old) and prices.shape == old.shape:
            if prices[:-1].tobytes() != old[1:].tobytes():
                return prices.tobytes() == old.tobytes()  # the same window: nothing to do
        elif n != len(old) + 1 or prices[:-1].tobytes() != old.tobytes():
            return False
        new = prices[-1].tolist()
        if not all(0.0 < p < math.inf for p in new):  # NaN fails too
            return False
        self._step(new)
        if n == len(old):
            old[:] = prices
        else:
            self._prices = np.array(prices, dtype=float)
        return True

    def _step(self, new: list) -> None:
        """The feature row of the new prices, scaled, into the ring (``feature_tail``'s definitions)."""
        a = self._alpha
        b = 1.0 - a
        width = self.spec.vol_window
        lo, scale, gain, loss, last = self._lo, self._scale, self._gain, self._loss, self._last
        n_feat = len(FEATURE_NAMES)
        row = []
        for j, p in enumerate(new):
            q = last[j]
            d = p - q
            g = gain[j] = b * gain[j] + a * (d if d > 0.0 else 0.0)
            h = loss[j] = b * loss[j] + a * (d if d < 0.0 else 0.0)
            total = g - h
            rsi = (g / total if total > 0.0 else 0.5) * 100.0
            r = p / q - 1.0
            rets = self._rets[j]
            rets.append(r)  # the oldest drops out (maxlen)
            mean = sum(rets) / width
            ss = 0.0
            for x in rets:
                x -= mean
                ss += x * x
            vol = math.sqrt(ss / (width - 1))
            c = j * n_feat
            row.append((r - lo[c]) / scale[c])
            row.append((rsi - lo[c + 1]) / scale[c + 1])
            row.append((vol - lo[c + 2]) / scale[c + 2])
        self._last = new
        rows = self.spec.window
        pos = self._pos = (self._pos + 1) % rows
        values = np.array(row)
        self._ring[pos] = values
        self._ring[pos + rows] = values
        self._ring32[pos] = values
        self._ring32[pos + rows] = values
