"""Features of the LSTM allocator against independent reference formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bt_lstm_mvo.allocators.lstm import FEATURE_NAMES, FeatureSpec, MinMaxScaler, compute_features
from bt_lstm_mvo.allocators.lstm.features import sample_rows, validate_prices, windows
from bt_lstm_mvo.errors import ConfigError, DataError
from tests.helpers import make_prices


def reference_rsi(prices: list[float], period: int) -> list[float]:
    """Hand-rolled Wilder RSI: avg = (1 - 1/period) * avg + gain / period, seeded by the first change."""
    out = [math.nan] * len(prices)
    avg_gain = avg_loss = None
    for i in range(1, len(prices)):
        change = prices[i] - prices[i - 1]
        gain, loss = max(change, 0.0), max(-change, 0.0)
        if avg_gain is None:
            avg_gain, avg_loss = gain, loss
        else:
            avg_gain = (1 - 1 / period) * avg_gain + gain / period
            avg_loss = (1 - 1 / period) * avg_loss + loss / period
        if i >= period:  # `period` changes seen
            if avg_loss == 0:
                out[i] = 100.0 if avg_gain > 0 else 50.0
            else:
                out[i] = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    return out


def test_rsi_matches_hand_rolled_wilder_loop():
    prices = make_prices(200, 2, seed=1)
    features = compute_features(prices)
    for asset in prices.columns:
        expected = np.array(reference_rsi(list(prices[asset]), 14))
        got = features[(asset, "rsi")].to_numpy()
        assert np.array_equal(np.isnan(expected), np.isnan(got))
        np.testing.assert_allclose(got[14:], expected[14:], rtol=0, atol=1e-10)
    assert features.iloc[:14].xs("rsi", axis=1, level="feature").isna().all().all()


def test_rsi_edge_cases_only_gains_and_flat():
    index = pd.bdate_range("2020-01-01", periods=40)
    prices = pd.DataFrame({"up": np.linspace(10, 20, 40), "flat": np.full(40, 5.0)}, index=index)
    features = compute_features(prices)
    assert (features[("up", "rsi")].iloc[14:] == 100.0).all()
    assert (features[("flat", "rsi")].iloc[14:] == 50.0).all()


def test_returns_and_volatility_match_reference():
    prices = make_prices(120, 2, seed=2)
    features = compute_features(prices)
    p = prices.to_numpy()
    for j, asset in enumerate(prices.columns):
        ret = [math.nan] + [p[i, j] / p[i - 1, j] - 1 for i in range(1, len(p))]
        np.testing.assert_allclose(features[(asset, "return")].to_numpy()[1:], ret[1:], rtol=1e-13)
        for i in range(20, len(p)):
            window = np.array(ret[i - 19 : i + 1])
            sd = math.sqrt(((window - window.mean()) ** 2).sum() / 19)
            assert features[(asset, "volatility")].iloc[i] == pytest.approx(sd, rel=1e-10)
        assert features[(asset, "volatility")].iloc[:20].isna().all()


def test_column_order_is_asset_major_and_documented():
    prices = make_prices(60, 3)
    features = compute_features(prices)
    assert list(features.columns) == [(a, f) for a in prices.columns for f in FEATURE_NAMES]
    assert features.columns.names == ["asset", "feature"]
    assert FeatureSpec().to_dict()["order"] == "asset-major"
    assert FeatureSpec().to_dict()["features"] == ["return", "rsi", "volatility"]


def test_features_are_causal_bit_for_bit():
    prices = make_prices(300, 3, seed=3)
    cut = 200
    perturbed = prices.copy()
    noise = np.random.default_rng(9).uniform(0.5, 1.5, size=perturbed.iloc[cut + 1 :].shape)
    perturbed.iloc[cut + 1 :] *= noise
    a = compute_features(prices).iloc[: cut + 1].to_numpy()
    b = compute_features(perturbed).iloc[: cut + 1].to_numpy()
    assert np.array_equal(a, b, equal_nan=True)


def test_truncated_history_reproduces_full_history_features():
    spec = FeatureSpec()
    prices = make_prices(1500, 3, seed=4)
    full = compute_features(prices, spec)
    for end in (spec.lookback_bars + 10, 1000, 1500):
        truncated = compute_features(prices.iloc[end - spec.lookback_bars : end], spec)
        a = truncated.iloc[-spec.window :]
        b = full.iloc[end - spec.window : end]
        assert a.index.equals(b.index)
        assert np.max(np.abs(a.to_numpy() - b.to_numpy())) < 1e-9


def test_lookback_is_a_constant_window_plus_warmup():
    spec = FeatureSpec()
    assert spec.lookback_bars == 30 + 500
    # Wilder truncation error factor after the warm-up
    assert (1 - 1 / spec.rsi_period) ** (spec.rsi_warmup_bars - 1) < 1e-14


def test_scaler_learns_from_given_rows_only():
    values = np.random.default_rng(0).normal(size=(50, 4))
    scaler = MinMaxScaler.fit(values[:30])
    changed = values.copy()
    changed[30:] *= 100.0
    assert np.array_equal(MinMaxScaler.fit(changed[:30]).data_min, scaler.data_min)
    assert np.array_equal(MinMaxScaler.fit(changed[:30]).data_max, scaler.data_max)
    out = scaler.transform(changed)
    assert out[:30].min() == 0.0 and out[:30].max() == 1.0
    assert out[30:].max() > 1.0  # values outside the training range are allowed
    again = MinMaxScaler.from_dict(scaler.to_dict())
    assert np.array_equal(again.transform(values), scaler.transform(values))


def test_scaler_constant_column_does_not_divide_by_zero():
    values = np.column_stack([np.ones(10), np.arange(10.0)])
    out = MinMaxScaler.fit(values).transform(values)
    assert np.isfinite(out).all() and (out[:, 0] == 0).all()


def test_samples_last_target_is_last_row():
    prices = make_prices(100, 2)
    features = compute_features(prices).to_numpy()
    rows = sample_rows(features, 30)
    assert rows[-1] + 1 == len(prices) - 1  # the last sample's target is the last return
    assert rows[0] == 20 + 30 - 1  # first complete window: features defined from row 20
    x = windows(features, rows, 30)
    assert x.shape == (len(rows), 30, 6)
    assert np.array_equal(x[-1], features[-31:-1])


@pytest.mark.parametrize(
    "kwargs",
    [{"window": 1}, {"rsi_period": 1}, {"vol_window": 0}, {"rsi_warmup_bars": 5}, {"window": 2.5}],
)
def test_feature_spec_validation(kwargs):
    with pytest.raises(ConfigError):
        FeatureSpec(**kwargs)


def test_bad_prices_fail_clearly():
    prices = make_prices(50, 2)
    prices.iloc[10, 1] = np.nan
    with pytest.raises(DataError, match="A1"):
        validate_prices(prices)
    prices.iloc[10, 1] = -1.0
    with pytest.raises(DataError, match="non-positive"):
        compute_features(prices)
    with pytest.raises(DataError, match="increasing"):
        compute_features(make_prices(50, 2).iloc[::-1])


@pytest.mark.parametrize("rows", [50, 51, 60, 530, 1200])
def test_per_bar_features_equal_the_offline_features(rows):
    """feature_tail (numpy/scipy, the per-bar path) equals feature_array (pandas, the training path)
    to 1e-9 relative, NaN for NaN."""
    from bt_lstm_mvo.allocators.lstm.features import feature_array, feature_tail

    spec = FeatureSpec()
    prices = make_prices(rows, 4, seed=rows).to_numpy()
    full = feature_array(prices, spec)[-spec.window:]
    tail = feature_tail(prices, spec, spec.window)
    assert np.array_equal(np.isnan(full), np.isnan(tail))
    ok = ~np.isnan(full)
    assert np.max(np.abs(full[ok] - tail[ok]) / np.maximum(np.abs(full[ok]), 1e-12)) < 1e-9
    flat = np.full((80, 2), 7.0)  # no move at all: RSI 50, volatility 0, as the offline path says
    assert np.array_equal(feature_array(flat, spec)[-spec.window:], feature_tail(flat, spec, spec.window),
                          equal_nan=True)


@pytest.mark.parametrize("rows", [8, 12, 30, 33, 40, 90])
def test_per_bar_features_equal_the_offline_features_for_other_specs(rows):
    """Another spec (RSI period longer than the volatility window, a short window), including
    histories shorter than its warm-up, where the RSI of the first rows is undefined (NaN)."""
    from bt_lstm_mvo.allocators.lstm.features import feature_array, feature_tail

    spec = FeatureSpec(window=5, rsi_period=30, vol_window=3, rsi_warmup_bars=40)
    prices = make_prices(rows, 3, seed=rows).to_numpy()
    full = feature_array(prices, spec)[-spec.window:]
    tail = feature_tail(prices, spec, spec.window)
    assert np.array_equal(np.isnan(full), np.isnan(tail))
    ok = ~np.isnan(full)
    assert ok.any()
    assert np.max(np.abs(full[ok] - tail[ok]) / np.maximum(np.abs(full[ok]), 1e-12)) < 1e-9
    if rows < spec.rsi_period + spec.window:
        assert np.isnan(tail[0, 1])  # the RSI of the first row is not known yet


def test_per_bar_features_need_a_volatility_window_before_the_rows():
    from bt_lstm_mvo.allocators.lstm.features import feature_tail

    spec = FeatureSpec()
    with pytest.raises(DataError, match="need at least 50"):
        feature_tail(make_prices(49, 2).to_numpy(), spec, spec.window)


@pytest.mark.realdata
def test_per_bar_features_equal_the_offline_features_on_real_data(data_dir):
    from bt_lstm_mvo.allocators.lstm.features import feature_array, feature_tail
    from bt_lstm_mvo.feeds.market import load_market

    spec = FeatureSpec()
    closes = load_market(["BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA"], source="csv", data_dir=data_dir,
                         start="2019-01-01", end="2024-12-31").closes().to_numpy()
    for end in range(spec.min_rows, len(closes), 97):
        full = feature_array(closes[:end], spec)[-spec.window:]
        tail = feature_tail(closes[:end], spec, spec.window)
        ok = ~np.isnan(full)
        assert np.array_equal(np.isnan(full), np.isnan(tail))
        assert np.max(np.abs(full[ok] - tail[ok]) / np.maximum(np.abs(full[ok]), 1e-12)) < 1e-9, end
