"""FeatureStream: the LSTM's input window carried bar by bar equals the window computed afresh,
continues only what it may continue, and the allocator's per-bar path uses it."""

from __future__ import annotations

import numpy as np
import pytest

from bt_lstm_mvo.allocators.lstm import FeatureSpec, LSTMAllocator, MinMaxScaler
from bt_lstm_mvo.allocators.lstm.features import feature_array, feature_tail
from bt_lstm_mvo.allocators.lstm.stream import FeatureStream
from bt_lstm_mvo.errors import DataError
from tests.helpers import make_prices

TINY = {"hidden_size": 8, "epochs": 2, "progress": False, "seed": 0, "device": "cpu"}


def _scaler(closes: np.ndarray, spec: FeatureSpec) -> MinMaxScaler:
    features = feature_array(closes, spec)
    return MinMaxScaler.fit(features[spec.first_valid_row:])


def _fresh(closes, spec, scaler):
    return scaler.transform(feature_tail(closes, spec, spec.window))


def _relative(a, b):
    """The largest difference against the scale of the values (scaled features are about 0 to 1)."""
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def test_a_stream_carried_over_1000_bars_equals_the_window_computed_afresh():
    spec = FeatureSpec()
    closes = make_prices(1600, 4, seed=3).to_numpy().copy()
    closes[700:705, 1] = closes[699, 1]  # flat prices: no move, and a zero change in the RSI
    scaler = _scaler(closes[:600], spec)
    lookback = spec.lookback_bars
    stream = FeatureStream(spec, scaler, closes[:lookback])
    assert np.array_equal(stream.scaled, _fresh(closes[:lookback], spec, scaler))  # its start is feature_tail's
    assert np.array_equal(stream.scaled32, stream.scaled.astype(np.float32))
    worst = 0.0
    for end in range(lookback + 1, len(closes) + 1):
        window = closes[max(0, end - lookback):end]
        assert stream.advance(window)
        worst = max(worst, _relative(stream.scaled, _fresh(window, spec, scaler)))
        assert np.array_equal(stream.scaled32, stream.scaled.astype(np.float32))
    assert worst < 1e-12
    # and the offline (pandas, full-history) features, scaled
    offline = scaler.transform(feature_array(closes, spec)[-spec.window:])
    assert _relative(stream.scaled, offline) < 1e-9


def test_a_growing_window_continues_too():
    spec = FeatureSpec()
    closes = make_prices(700, 2, seed=5).to_numpy()
    scaler = _scaler(closes, spec)
    stream = FeatureStream(spec, scaler, closes[:spec.min_rows])
    for end in range(spec.min_rows + 1, 560):  # shorter than lookback: the window grows by one row a bar
        assert stream.advance(closes[:end])
        assert _relative(stream.scaled, _fresh(closes[:end], spec, scaler)) < 1e-12


def test_only_a_window_moved_on_by_one_row_or_the_same_window_continues():
    spec = FeatureSpec()
    closes = make_prices(700, 3, seed=7).to_numpy()
    scaler = _scaler(closes, spec)
    lb = spec.lookback_bars
    stream = FeatureStream(spec, scaler, closes[:lb])
    before = stream.scaled.copy()
    changed = closes[1:lb + 1].copy()
    changed[100, 2] *= 1.01  # an earlier price differs
    bad_row = closes[1:lb + 1].copy()
    bad_row[-1, 0] = np.nan
    grown = closes[:lb].copy()
    grown[5, 0] *= 1.01
    short = FeatureStream(spec, scaler, closes[:lb - 1])
    assert not short.advance(grown)  # grown by one row, but an earlier price differs
    assert short.advance(closes[:lb])
    for window in (closes[2:lb + 2],  # two rows on: a gap
                   closes[1:lb],  # shorter
                   changed,
                   bad_row,  # a new row that is not a price
                   closes[:lb][::-1].copy()):
        assert not stream.advance(window)
        assert np.array_equal(stream.scaled, before)  # nothing changed
    assert stream.advance(closes[:lb])  # the same window again: the same input
    assert np.array_equal(stream.scaled, before)
    assert stream.advance(closes[1:lb + 1])
    assert not np.array_equal(stream.scaled, before)


def test_the_per_bar_path_streams_and_stays_within_rounding_of_allocate():
    prices = make_prices(900, 3, seed=11)
    alloc = LSTMAllocator(**TINY).fit(prices.iloc[:300])
    values, cols, dates = prices.to_numpy(), prices.columns, prices.index.values
    lb = alloc.lookback
    first = alloc.allocate_values(values[:600][-lb:], cols, dates[:600])
    assert np.array_equal(first, alloc.allocate(prices.iloc[:600]).to_numpy())  # a fresh window: bit for bit
    stream = alloc.__dict__["_stream"]
    worst = 0.0
    for end in range(601, 900):
        got = alloc.allocate_values(values[end - lb:end], cols, dates[end - lb:end])
        assert alloc.__dict__["_stream"] is stream  # continued, not restarted
        assert alloc.last_features_.index.equals(prices.index[end - 30:end])
        assert np.array_equal(alloc.last_features_.to_numpy(), stream.scaled)
        worst = max(worst, float(np.max(np.abs(got - alloc.allocate(prices.iloc[:end]).to_numpy()))))
    assert worst < 1e-6
    kept = alloc.last_features_.to_numpy()
    alloc.allocate_values(values[850 - lb:850], cols)  # not a continuation: a fresh stream
    assert alloc.__dict__["_stream"] is not stream
    assert not np.array_equal(alloc.last_features_.to_numpy(), kept)  # last_features_ was a copy, not the ring
    # a refit makes a new scaler: the next call starts afresh, bit for bit allocate's
    alloc.fit(prices.iloc[:350])
    got = alloc.allocate_values(values[900 - lb:900], cols)
    assert alloc.__dict__["_stream"] is not stream
    assert np.array_equal(got, alloc.allocate(prices).to_numpy())


def test_a_bad_new_price_is_the_same_data_error_as_without_the_stream():
    prices = make_prices(700, 3, seed=11)
    alloc = LSTMAllocator(**TINY).fit(prices.iloc[:300])
    values = prices.to_numpy().copy()
    lb = alloc.lookback
    alloc.allocate_values(values[600 - lb:600], prices.columns)
    values[600, 1] = 0.0
    with pytest.raises(DataError, match="missing or non-positive"):
        alloc.allocate_values(values[601 - lb:601], prices.columns)


def test_a_failed_allocation_leaves_the_last_good_window_in_last_features():
    from bt_lstm_mvo.errors import AllocationError

    prices = make_prices(700, 3, seed=11)
    alloc = LSTMAllocator(**TINY).fit(prices.iloc[:300])
    values, lb = prices.to_numpy(), alloc.lookback
    alloc.allocate_values(values[600 - lb:600], prices.columns, prices.index.values[600 - lb:600])
    good = alloc.last_features_
    def failing(x):
        raise AllocationError("the network failed")

    alloc.model_.infer_logits = failing  # fails after the stream moved on, before a window is recorded
    try:
        with pytest.raises(AllocationError, match="the network failed"):
            alloc.allocate_values(values[601 - lb:601], prices.columns, prices.index.values[601 - lb:601])
    finally:
        del alloc.model_.infer_logits
    after = alloc.last_features_  # the stream moved on; the recorded window did not
    assert after.index.equals(good.index) and np.array_equal(after.to_numpy(), good.to_numpy())
