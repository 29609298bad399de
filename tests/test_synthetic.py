"""Synthetic market: determinism, frame contract, calendars, calibration, regimes, validation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.feeds import synthetic_params as P
from bt_lstm_mvo.feeds.synthetic import (
    COLUMNS,
    SUPPORTED_TICKERS,
    SYNTHETIC_LABEL,
    generate_assets,
    generate_market,
    regime_path,
)

CRYPTO = ["BTC-USD", "ETH-USD"]
EQUITIES = ["SPY", "GLD", "NVDA"]


@pytest.fixture(scope="module")
def market():
    return generate_market(seed=42)


def log_returns(frame: pd.DataFrame) -> pd.Series:
    return np.log(frame["Close"]).diff().dropna()


def periods(ticker: str) -> int:
    return P.ASSETS[ticker]["periods_per_year"]


def excess_kurtosis(r: pd.Series) -> float:
    d = r - r.mean()
    return float((d**4).mean() / (d**2).mean() ** 2 - 3.0)


def assert_frames_identical(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t], check_exact=True)
        assert a[t].to_numpy().tobytes() == b[t].to_numpy().tobytes()


# ----------------------------------------------------------------------------- determinism


def test_same_seed_is_bit_identical(market):
    assert_frames_identical(market, generate_market(seed=42))
    assert_frames_identical(generate_assets(4, 300, seed=7), generate_assets(4, 300, seed=7))


def test_different_seed_differs(market):
    other = generate_market(seed=43)
    for t in SUPPORTED_TICKERS:
        assert not np.allclose(market[t]["Close"].to_numpy(), other[t]["Close"].to_numpy())
    a, b = generate_assets(3, 100, seed=1), generate_assets(3, 100, seed=2)
    assert not np.allclose(a["A000"]["Close"], b["A000"]["Close"])


def test_ticker_subset_does_not_change_a_series(market):
    sub = generate_market(["NVDA", "BTC-USD"], seed=42)
    assert list(sub) == ["NVDA", "BTC-USD"]
    for t in sub:
        pd.testing.assert_frame_equal(sub[t], market[t], check_exact=True)


def test_default_tickers_and_label(market):
    assert list(market) == list(SUPPORTED_TICKERS) == ["BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA"]
    assert "synthetic" in SYNTHETIC_LABEL and "not real" in SYNTHETIC_LABEL


# ----------------------------------------------------------------------------- frame contract


def check_frame(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == COLUMNS == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.name == "Date"
    assert frame.index.tz is None
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert (frame.index == frame.index.normalize()).all()
    assert all(dtype == np.float64 for dtype in frame.dtypes)
    values = frame.to_numpy()
    assert np.isfinite(values).all()
    assert (frame[["Open", "High", "Low", "Close"]] > 0).all().all()
    assert (frame["High"] >= frame[["Open", "Close"]].max(axis=1)).all()
    assert (frame["Low"] <= frame[["Open", "Close"]].min(axis=1)).all()
    assert (frame["Volume"] > 0).all()
    assert frame["Adj Close"].equals(frame["Close"])


def test_ohlc_contract(market):
    for frame in market.values():
        check_frame(frame)
    for frame in generate_assets(3, 500, seed=3).values():
        check_frame(frame)


def test_start_prices_are_the_real_ones(market):
    for t, frame in market.items():
        first_close = frame["Close"].iloc[0]
        assert first_close / P.ASSETS[t]["start_price"] == pytest.approx(1.0, abs=0.25)


# ----------------------------------------------------------------------------- calendars


def test_calendars(market):
    every_day = pd.date_range("2019-01-01", "2024-12-31", freq="D")
    for t in CRYPTO:
        assert market[t].index.equals(pd.DatetimeIndex(every_day, name="Date"))
        assert (market[t].index.day_of_week >= 5).sum() > 600
    for t in EQUITIES:
        idx = market[t].index
        assert (idx.day_of_week < 5).all()
        assert idx.equals(pd.DatetimeIndex(pd.bdate_range("2019-01-01", "2024-12-31"), name="Date"))
    generic = generate_assets(2, 50, seed=0)["A001"].index
    assert (generic.day_of_week < 5).all() and generic[0] == pd.Timestamp("2000-01-03") and len(generic) == 50


def test_short_range_and_single_crypto_day():
    one = generate_market(["BTC-USD"], start="2020-02-29", end="2020-02-29", seed=1)["BTC-USD"]
    assert list(one.index) == [pd.Timestamp("2020-02-29")]
    week = generate_market(["SPY", "ETH-USD"], start="2021-03-06", end="2021-03-14", seed=1)
    assert len(week["SPY"]) == 5 and len(week["ETH-USD"]) == 9


# ----------------------------------------------------------------------------- calibration


def test_vol_and_mean_ballpark_seed_42(market):
    for t, frame in market.items():
        r = log_returns(frame)
        vol = r.std() * math.sqrt(periods(t))
        target = P.ASSETS[t]["ann_vol"]
        assert target / 1.5 < vol < target * 1.5, (t, vol, target)
        assert np.sign(r.mean()) == np.sign(P.ASSETS[t]["ann_mean_log"]), t


LONG_RANGE = ("1900-01-01", "2099-12-31")


@pytest.fixture(scope="module")
def long_market():
    """200 years of the synthetic market (seed 5): enough to measure long-run properties."""
    return generate_market(start=LONG_RANGE[0], end=LONG_RANGE[1], seed=5)


def test_long_run_moments_match_calibration(long_market):
    # long-run vol within 10 %; mean within 4 standard errors (4, not 3: the persistent regime
    # drifts make yearly returns ~20 % more dispersed than ann_vol says)
    for t, frame in long_market.items():
        r = log_returns(frame)
        years = len(r) / periods(t)
        real = P.ASSETS[t]
        vol = r.std() * math.sqrt(periods(t))
        assert vol == pytest.approx(real["ann_vol"], rel=0.10), t
        assert abs(r.mean() * periods(t) - real["ann_mean_log"]) < 4 * real["ann_vol"] / math.sqrt(years), t


def test_correlation_matches_calibration(market):
    rets = pd.concat({t: log_returns(f) for t, f in market.items()}, axis=1, join="inner")
    corr = rets.corr().loc[P.CORRELATION["tickers"], P.CORRELATION["tickers"]].to_numpy()
    assert corr[0, 1] > 0.5  # BTC / ETH
    assert np.abs(corr - np.array(P.CORRELATION["matrix"])).max() < 0.1


def test_fat_tails_for_crypto(market):
    for t in CRYPTO:
        assert excess_kurtosis(log_returns(market[t])) > 1.0, t


def test_volume_and_range_ballpark(market):
    for t, frame in market.items():
        real = P.ASSETS[t]
        assert frame["Volume"].median() == pytest.approx(real["median_volume"], rel=0.5), t
        log_range = np.log(frame["High"] / frame["Low"]).mean()
        assert log_range == pytest.approx(real["mean_log_range"], rel=0.5), t


# ----------------------------------------------------------------------------- regimes


def test_regimes_produce_crashes_and_bear_markets(market):
    close = market["BTC-USD"]["Close"]
    assert (close / close.cummax() - 1.0).min() < -0.30

    regimes = regime_path(seed=42)
    assert set(regimes.unique()) == {"bull", "bear", "crash"}
    btc = log_returns(market["BTC-USD"])
    by_regime = regimes.reindex(btc.index)
    assert btc[by_regime == "crash"].std() > 1.5 * btc[by_regime == "bull"].std()
    assert btc[by_regime != "bull"].mean() < 0 < btc[by_regime == "bull"].mean()


def test_regime_drifts_over_the_long_run(long_market):
    regimes = regime_path(*LONG_RANGE, seed=5)
    share = regimes.value_counts(normalize=True)
    assert share["bull"] > share["bear"] > share["crash"] > 0.005
    for t in ["BTC-USD", "ETH-USD", "SPY", "NVDA"]:  # GLD barely loads on the regimes
        r = log_returns(long_market[t])
        mean = r.groupby(regimes.reindex(r.index)).mean()
        assert mean["bull"] > mean["bear"] and mean["bull"] > mean["crash"] and mean["bull"] > 0, t
        if t != "NVDA":  # NVDA's high drift (+24 bp/day) roughly cancels its bear offset (-28 bp/day)
            assert mean["bear"] < 0, (t, mean.to_dict())


def test_volatility_clusters():
    # squared returns are autocorrelated (GARCH + regimes); an i.i.d. model gives ~0
    r = log_returns(generate_market(["SPY"], start="1950-01-01", end="2049-12-31", seed=9)["SPY"])
    sq = (r - r.mean()) ** 2
    assert sq.autocorr(lag=1) > 0.05


# ----------------------------------------------------------------------------- generic market


def test_generate_assets_scale():
    # speed is measured by benchmarks/, not asserted here (shared, noisy machines)
    frames = generate_assets(200, 6000, seed=11)
    assert list(frames)[:2] == ["A000", "A001"] and list(frames)[-1] == "A199"
    assert all(len(f) == 6000 for f in frames.values())
    closes = pd.DataFrame({t: f["Close"] for t, f in list(frames.items())[:20]})
    corr = np.log(closes).diff().dropna().corr().to_numpy()
    off_diag = corr[~np.eye(len(corr), dtype=bool)]
    assert 0.05 < off_diag.mean() < 0.7
    vols = np.log(closes).diff().std() * math.sqrt(252)
    assert vols.between(0.10, 0.90).all()


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tickers": ["AAPL"]}, r"'AAPL'.*supported.*BTC-USD"),
        ({"tickers": "SPY"}, "list of ticker names"),
        ({"tickers": []}, "at least one"),
        ({"tickers": ["SPY", "SPY"]}, "more than once"),
        ({"tickers": [3]}, "strings"),
        ({"start": "2019-13-45"}, "start.*not a valid date"),
        ({"end": "yesterday-ish"}, "end.*not a valid date"),
        ({"start": 20190101}, "start.*must be a date"),
        ({"start": "2024-01-01", "end": "2023-12-31"}, "before start"),
        ({"start": "2019-01-01T00:00+01:00"}, "time zone"),
        ({"tickers": ["SPY"], "start": "2021-03-06", "end": "2021-03-07"}, "no business day"),
        ({"seed": "42"}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
    ],
)
def test_generate_market_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        generate_market(**kwargs)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, 10, 0), "n_assets"),
        ((1001, 10, 0), "n_assets"),
        ((2.0, 10, 0), "n_assets"),
        ((2, 0, 0), "n_bars"),
        ((2, 10, None), "seed"),
    ],
)
def test_generate_assets_rejects_bad_arguments(args, match):
    with pytest.raises(ConfigError, match=match):
        generate_assets(*args)


def test_numpy_seed_and_date_objects_accepted(market):
    same = generate_market(["GLD"], start=pd.Timestamp("2019-01-01"), end=np.datetime64("2024-12-31"),
                           seed=np.int64(42))
    pd.testing.assert_frame_equal(same["GLD"], market["GLD"], check_exact=True)


# ----------------------------------------------------------------------------- generated parameters


def _assert_close(fresh, stored, path="") -> None:
    if isinstance(fresh, dict):
        assert isinstance(stored, dict) and set(fresh) == set(stored), path
        for k in fresh:
            _assert_close(fresh[k], stored[k], f"{path}.{k}")
    elif isinstance(fresh, (list, tuple)):
        assert len(fresh) == len(stored), path
        for i, (a, b) in enumerate(zip(fresh, stored)):
            _assert_close(a, b, f"{path}[{i}]")
    elif isinstance(fresh, float):
        assert stored == pytest.approx(fresh, rel=1e-9, abs=1e-9), path
    else:
        assert fresh == stored, path


@pytest.mark.realdata
def test_params_file_matches_fresh_calibration(data_dir):
    from scripts.calibrate_synthetic import calibrate

    fresh = calibrate(data_dir)
    _assert_close(fresh["tickers"], P.TICKERS, "TICKERS")
    _assert_close(fresh["window"], P.WINDOW, "WINDOW")
    _assert_close(fresh["assets"], P.ASSETS, "ASSETS")
    _assert_close(fresh["correlation"], P.CORRELATION, "CORRELATION")
    with open(P.__file__) as fh:
        header = fh.read(400)
    assert "GENERATED" in header and "scripts/calibrate_synthetic.py" in header
