"""MVOAllocator on seeded synthetic prices: contract, options, fallbacks, errors, reference formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pypfopt import risk_models
from pypfopt.efficient_frontier import EfficientFrontier
from pypfopt.exceptions import OptimizationError

import bt_lstm_mvo.allocators.mvo as mvo_module
from bt_lstm_mvo.allocators.base import validate_weights
from bt_lstm_mvo.allocators.mvo import MVOAllocator
from bt_lstm_mvo.errors import AllocationError, ConfigError, DataError
from bt_lstm_mvo.periods import snapped_periods_per_year

ASSETS = ["AAA", "BBB", "CCC", "DDD"]


def make_prices(
    n_rows: int = 300,
    drifts=(0.15, 0.10, 0.08, 0.05),
    vols=(0.30, 0.20, 0.15, 0.10),
    corr: float = 0.2,
    seed: int = 0,
    freq: str = "B",
    assets=None,
) -> pd.DataFrame:
    """Correlated lognormal daily prices (annual drifts and vols), starting at 100."""
    rng = np.random.default_rng(seed)
    k = len(drifts)
    c = np.full((k, k), corr) + (1 - corr) * np.eye(k)
    sd = np.asarray(vols) / math.sqrt(252)
    cov = c * np.outer(sd, sd)
    daily = rng.multivariate_normal(np.asarray(drifts) / 252, cov, size=n_rows - 1)
    prices = 100 * np.exp(np.vstack([np.zeros(k), np.cumsum(daily, axis=0)]))
    index = pd.date_range("2020-01-01", periods=n_rows, freq=freq)
    return pd.DataFrame(prices, index=index, columns=assets or ASSETS[:k])


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return make_prices()


# -- contract ------------------------------------------------------------------------------


def test_weights_long_only_fully_invested(prices):
    alloc = MVOAllocator().fit(prices)
    w = alloc.allocate(prices.iloc[-1:])
    assert list(w.index) == ASSETS
    assert (w >= 0).all()
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    validate_weights(w, prices.columns, source="test")
    assert alloc.method_ == "max_sharpe"
    assert alloc.fallbacks_ == []
    assert MVOAllocator.lookback == 1 and MVOAllocator.requires_fit is True


def test_allocate_before_fit_is_an_error(prices):
    with pytest.raises(AllocationError, match="before fit"):
        MVOAllocator().allocate(prices)


def test_allocate_refuses_other_assets(prices):
    alloc = MVOAllocator().fit(prices)
    with pytest.raises(AllocationError, match="differ from the fitted assets"):
        alloc.allocate(prices[["AAA", "BBB"]])


def test_describe_has_params_and_last_weights(prices):
    alloc = MVOAllocator(max_weight=0.5, estimation_window=200)
    assert alloc.describe()["weights"] is None
    alloc.fit(prices)
    d = alloc.describe()
    assert d["allocator"] == "MVOAllocator"
    assert d["objective"] == "max_sharpe" and d["max_weight"] == 0.5 and d["estimation_window"] == 200
    assert d["weights"] == pytest.approx(alloc.weights_.to_dict(), abs=0)
    assert d["fallbacks"] == []


# -- options -------------------------------------------------------------------------------


def test_max_weight_cap_holds_exactly():
    dominant = make_prices(drifts=(0.60, 0.05, 0.04, 0.03), vols=(0.20, 0.20, 0.20, 0.20), seed=1)
    uncapped = MVOAllocator().fit(dominant).weights_
    assert uncapped.max() > 0.4  # precondition: the cap binds
    capped = MVOAllocator(max_weight=0.4).fit(dominant).weights_
    assert capped.max() <= 0.4  # exactly, no tolerance
    assert capped.max() == 0.4
    assert (capped >= 0).all()
    assert capped.sum() == pytest.approx(1.0, abs=1e-12)


def test_weight_bounds_and_cap_combine(prices):
    w = MVOAllocator(weight_bounds=(0.05, 0.6), max_weight=0.35).fit(prices).weights_
    assert w.min() >= 0.05 and w.max() <= 0.35
    assert w.sum() == pytest.approx(1.0, abs=1e-12)


def test_infeasible_bounds_for_asset_count(prices):
    with pytest.raises(ConfigError, match="cannot sum to 1 over 4 assets"):
        MVOAllocator(max_weight=0.2).fit(prices)


def test_min_volatility_matches_global_minimum_variance(prices):
    """Unconstrained GMV w ∝ Σ^-1 1 (all positive here) equals the long-only optimum."""
    alloc = MVOAllocator(objective="min_volatility", periods_per_year=252).fit(prices)
    rets = prices.pct_change().iloc[1:].to_numpy()
    sigma = np.cov(rets, rowvar=False, ddof=1)
    ref = np.linalg.solve(sigma, np.ones(len(ASSETS)))
    ref /= ref.sum()
    assert (ref > 0).all()  # precondition
    assert alloc.method_ == "min_volatility"
    assert alloc.weights_.to_numpy() == pytest.approx(ref, abs=1e-4)


def test_ledoit_wolf_covariance(prices):
    from sklearn.covariance import ledoit_wolf

    alloc = MVOAllocator(covariance="ledoit_wolf", periods_per_year=252).fit(prices)
    rets = prices.pct_change().iloc[1:].to_numpy()
    ref = ledoit_wolf(rets)[0] * 252
    assert alloc.covariance_.to_numpy() == pytest.approx(ref, rel=1e-9)
    sample = MVOAllocator(periods_per_year=252).fit(prices)
    assert not np.allclose(alloc.covariance_.to_numpy(), sample.covariance_.to_numpy(), rtol=1e-6)
    assert alloc.weights_.sum() == pytest.approx(1.0, abs=1e-12)


def test_expected_return_options(prices):
    rets = prices.pct_change().iloc[1:]
    arith = MVOAllocator(expected_returns="arithmetic", periods_per_year=252).fit(prices)
    assert arith.expected_returns_.to_numpy() == pytest.approx((rets.mean() * 252).to_numpy(), rel=1e-12)
    geo = MVOAllocator(expected_returns="mean_historical", periods_per_year=252).fit(prices)
    growth = (prices.iloc[-1] / prices.iloc[0]) ** (252 / len(rets)) - 1
    assert geo.expected_returns_.to_numpy() == pytest.approx(growth.to_numpy(), rel=1e-9)


def test_periods_per_year_measured_from_dates():
    business = make_prices(n_rows=120, freq="B")
    assert MVOAllocator().fit(business).periods_per_year_ == 252
    calendar = make_prices(n_rows=120, freq="D")
    assert MVOAllocator().fit(calendar).periods_per_year_ == 365
    assert MVOAllocator(periods_per_year=260).fit(business).periods_per_year_ == 260
    assert snapped_periods_per_year(pd.date_range("2020-01-01", periods=40, freq="MS")) == 12


def test_tangency_matches_closed_form(prices):
    """Unconstrained tangency w ∝ Σ^-1 (μ - rf), solved with numpy, all positive here."""
    rets = prices.pct_change().iloc[1:].to_numpy()
    mu = rets.mean(axis=0) * 252
    sigma = np.cov(rets, rowvar=False, ddof=1) * 252
    for rf in (0.0, 0.02):
        ref = np.linalg.solve(sigma, mu - rf)
        ref /= ref.sum()
        assert (ref > 0).all()  # precondition: the long-only bounds do not bind
        alloc = MVOAllocator(expected_returns="arithmetic", periods_per_year=252, risk_free_rate=rf)
        w = alloc.fit(prices).weights_.to_numpy()
        assert w == pytest.approx(ref, abs=1e-4)


# -- windows and look-ahead ----------------------------------------------------------------


def test_estimation_window_uses_only_last_rows(prices):
    n = 120
    changed = prices.copy()
    rng = np.random.default_rng(7)
    changed.iloc[: len(prices) - n] *= rng.uniform(0.5, 1.5, size=(len(prices) - n, len(ASSETS)))
    a = MVOAllocator(estimation_window=n).fit(prices)
    b = MVOAllocator(estimation_window=n).fit(changed)
    pd.testing.assert_series_equal(a.weights_, b.weights_)
    assert a.estimation_start_ == prices.index[-n] and a.estimation_end_ == prices.index[-1]
    assert a.n_returns_ == n - 1
    expanding = MVOAllocator().fit(changed)
    assert not np.allclose(expanding.weights_, a.weights_, atol=1e-6)


def test_fit_ignores_data_after_the_decision_bar(prices):
    t = prices.index[200]
    other_future = prices.copy()
    other_future.loc[other_future.index > t] *= 1.7  # a different future
    a = MVOAllocator().fit(prices.loc[:t])
    b = MVOAllocator().fit(other_future.loc[:t])
    pd.testing.assert_series_equal(a.weights_, b.weights_)
    assert a.estimation_end_ == t
    full = MVOAllocator().fit(prices)
    assert not np.allclose(full.weights_, a.weights_, atol=1e-6)


# -- fallbacks -----------------------------------------------------------------------------


def test_fallback_when_no_asset_beats_risk_free_rate():
    falling = make_prices(drifts=(-0.6, -0.5, -0.7, -0.4), seed=3)
    alloc = MVOAllocator(periods_per_year=252)
    alloc.fit(falling)
    assert (alloc.expected_returns_ < 0).all()  # precondition
    assert alloc.method_ == "min_volatility"
    assert len(alloc.fallbacks_) == 1
    entry = alloc.fallbacks_[0]
    assert entry["date"] == falling.index[-1].date().isoformat()
    assert "max_sharpe failed" in entry["reason"] and "risk-free rate" in entry["reason"]
    assert entry["used"] == "min_volatility"
    assert alloc.weights_.sum() == pytest.approx(1.0, abs=1e-12)
    assert alloc.describe()["fallbacks"] == alloc.fallbacks_


def test_fallback_chain_previous_then_equal_weight(prices, monkeypatch):
    class BrokenFrontier(EfficientFrontier):
        def max_sharpe(self, *args, **kwargs):
            raise OptimizationError("forced max_sharpe failure")

        def min_volatility(self, *args, **kwargs):
            raise OptimizationError("forced min_volatility failure")

    # first fit: no previous weights -> equal weight
    monkeypatch.setattr(mvo_module._pf(), "EfficientFrontier", BrokenFrontier)
    alloc = MVOAllocator()
    alloc.fit(prices)
    assert alloc.method_ == "equal_weight"
    assert alloc.weights_.to_numpy() == pytest.approx([0.25] * 4, abs=0)
    assert [f["used"] for f in alloc.fallbacks_] == ["min_volatility", "equal weight"]
    assert "forced max_sharpe failure" in alloc.fallbacks_[0]["reason"]

    # a good fit, then a failing one: previous weights are kept, and it says so
    monkeypatch.setattr(mvo_module._pf(), "EfficientFrontier", EfficientFrontier)
    alloc.fit(prices.iloc[:200])
    good = alloc.weights_.copy()
    monkeypatch.setattr(mvo_module._pf(), "EfficientFrontier", BrokenFrontier)
    alloc.fit(prices)
    assert alloc.method_ == "previous"
    pd.testing.assert_series_equal(alloc.weights_, good)
    last = alloc.fallbacks_[-1]
    assert last["used"] == "previous weights" and "forced min_volatility failure" in last["reason"]
    assert last["date"] == prices.index[-1].date().isoformat()
    assert len(alloc.fallbacks_) == 4


def test_non_psd_covariance_repair_is_recorded(prices, monkeypatch):
    real_sample_cov = risk_models.sample_cov

    def indefinite_sample_cov(p, frequency=252, **kwargs):
        cov = real_sample_cov(p, frequency=frequency).to_numpy().copy()
        cov[0, 1] = cov[1, 0] = 2.0 * math.sqrt(cov[0, 0] * cov[1, 1])  # |corr| = 2: not PSD
        frame = pd.DataFrame(cov, index=p.columns, columns=p.columns)
        return risk_models.fix_nonpositive_semidefinite(frame)

    monkeypatch.setattr(mvo_module._pf().risk_models, "sample_cov", indefinite_sample_cov)
    alloc = MVOAllocator().fit(prices)
    repairs = [f for f in alloc.fallbacks_ if "positive semidefinite" in f["reason"]]
    assert len(repairs) == 1
    assert "eigenvalues" in repairs[0]["used"]
    assert repairs[0]["date"] == prices.index[-1].date().isoformat()
    assert alloc.weights_.sum() == pytest.approx(1.0, abs=1e-12)


# -- bad input -----------------------------------------------------------------------------


def test_constant_price_asset_is_named(prices):
    bad = prices.copy()
    bad["CCC"] = 42.0
    with pytest.raises(AllocationError, match=r"\['CCC'\].*zero return variance"):
        MVOAllocator().fit(bad)


def test_nan_price_is_named(prices):
    bad = prices.copy()
    bad.iloc[10, 1] = np.nan
    with pytest.raises(DataError, match=r"'BBB' has 1 NaN prices.*first on 2020-01-15"):
        MVOAllocator().fit(bad)


def test_nan_outside_the_window_is_ignored(prices):
    bad = prices.copy()
    bad.iloc[10, 1] = np.nan
    MVOAllocator(estimation_window=100).fit(bad)


def test_non_positive_price_is_named(prices):
    bad = prices.copy()
    bad.iloc[5, 3] = 0.0
    with pytest.raises(DataError, match=r"'DDD' has 1 non-positive.*prices must be > 0"):
        MVOAllocator().fit(bad)


def test_too_few_rows(prices):
    with pytest.raises(DataError, match=r"4 price rows for 4 assets.*assets \+ 1 = 5"):
        MVOAllocator().fit(prices.iloc[:4])
    with pytest.raises(DataError, match=r"3 price rows for 4 assets"):
        MVOAllocator(estimation_window=3).fit(prices)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (
            {"objective": "max_return"},
            "objective must be one of ['max_sharpe', 'min_volatility'], got 'max_return'",
        ),
        ({"expected_returns": "ema"}, "expected_returns must be one of ['mean_historical', 'arithmetic']"),
        ({"covariance": "exp_cov"}, "covariance must be one of ['sample', 'ledoit_wolf'], got 'exp_cov'"),
        ({"periods_per_year": 0}, "periods_per_year must be None"),
        ({"periods_per_year": "252"}, "periods_per_year must be None"),
        ({"weight_bounds": (-0.1, 1.0)}, "weight_bounds must satisfy 0 <= lower < upper <= 1"),
        ({"weight_bounds": (0.0,)}, "weight_bounds must be a pair"),
        ({"max_weight": 1.5}, "max_weight must be None or a number in (0, 1], got 1.5"),
        ({"risk_free_rate": float("nan")}, "risk_free_rate must be a finite"),
        ({"estimation_window": 1}, "estimation_window must be None (all rows) or an integer >= 2"),
        ({"estimation_window": 30.5}, "estimation_window must be None"),
    ],
)
def test_invalid_options(kwargs, fragment):
    with pytest.raises(ConfigError) as info:
        MVOAllocator(**kwargs)
    assert fragment in str(info.value)
