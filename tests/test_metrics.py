"""Pure metrics against empyrical, QuantStats and literal re-implementations.

Where a library's convention differs from ours the documented relation is tested:
* empyrical's ``risk_free`` is per period; ours is annual, divided by ``periods_per_year``.
* QuantStats de-annualises ``rf`` by compounding, ``(1 + rf) ** (1 / P) - 1``.
* QuantStats ``greeks`` annualises alpha as ``a * P`` (our ``alpha_simple``); empyrical
  compounds, ``(1 + a) ** P - 1`` (our ``alpha``).
"""

from __future__ import annotations

import json
import math

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from bt_lstm_mvo.analyzers import metrics as m
from bt_lstm_mvo.errors import ConfigError, DataError

TOL = {"rel": 1e-9, "abs": 1e-12}


def approx(x):
    return pytest.approx(x, **TOL)


# --------------------------------------------------------------------------- fixtures


def _synthetic(seed: int, n: int, freq: str, mu: float, sigma: float, name: str) -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2019-01-02", periods=n) if freq == "B" else pd.date_range("2019-01-01", periods=n)
    return pd.Series(rng.normal(mu, sigma, n), index=idx, name=name)


@pytest.fixture(scope="module")
def synth_equity():
    return _synthetic(7, 1000, "B", 0.0005, 0.012, "equity")


@pytest.fixture(scope="module")
def synth_crypto():
    return _synthetic(11, 900, "D", 0.001, 0.04, "crypto")


def _yahoo_returns(path) -> pd.Series:
    df = pd.read_csv(path, parse_dates=["Date"], index_col="Date")
    return df["Adj Close"].pct_change().dropna().rename(path.stem)


@pytest.fixture(scope="module")
def real_spy(data_dir):
    return _yahoo_returns(data_dir / "SPY.csv")


@pytest.fixture(scope="module")
def real_btc(data_dir):
    return _yahoo_returns(data_dir / "BTC-USD.csv")


SERIES = ["synth_equity", "synth_crypto"]
REAL = [
    pytest.param("real_spy", marks=pytest.mark.realdata),
    pytest.param("real_btc", marks=pytest.mark.realdata),
]


@pytest.fixture(params=SERIES + REAL)
def returns(request):
    return request.getfixturevalue(request.param)


# --------------------------------------------------------------------------- calendar


def test_periods_per_year_measured_from_dates(synth_equity, synth_crypto):
    assert 250 < m.periods_per_year_from_index(synth_equity.index) < 263
    assert m.periods_per_year_from_index(synth_crypto.index) == pytest.approx(365.25, rel=1e-3)
    with pytest.raises(DataError):
        m.periods_per_year_from_index(synth_equity.index[:1])


@pytest.mark.realdata
def test_periods_per_year_real_calendars(real_spy, real_btc):
    assert 250 < m.periods_per_year_from_index(real_spy.index) < 254
    assert 364 < m.periods_per_year_from_index(real_btc.index) < 366


# --------------------------------------------------------------------------- empyrical


def test_against_empyrical(returns):
    ppy = m.periods_per_year_from_index(returns.index)
    r = returns.to_numpy()
    assert m.total_return(r) == approx(ep.cum_returns_final(r))
    assert m.cagr(r, ppy) == approx(ep.cagr(r, annualization=ppy))
    assert m.annual_volatility(r, ppy) == approx(ep.annual_volatility(r, annualization=ppy))
    assert m.max_drawdown(r) == approx(ep.max_drawdown(r))
    assert m.calmar_ratio(r, ppy) == approx(ep.calmar_ratio(r, annualization=ppy))
    np.testing.assert_allclose(m.underwater(r), ep.stats.drawdown_series(r), rtol=1e-9, atol=1e-12)
    for rf_annual in (0.0, 0.03):
        ours = m.sharpe_ratio(r, ppy, risk_free=rf_annual)
        assert ours == approx(ep.sharpe_ratio(r, risk_free=rf_annual / ppy, annualization=ppy))
    for target in (0.0, 0.0003):
        assert m.sortino_ratio(r, ppy, target=target) == approx(
            ep.sortino_ratio(r, required_return=target, annualization=ppy)
        )
        assert m.downside_deviation(r, ppy, target=target) == approx(
            ep.downside_risk(r, required_return=target, annualization=ppy)
        )


def test_series_and_array_inputs_agree(synth_equity):
    ppy = 252
    assert m.sortino_ratio(synth_equity, ppy) == m.sortino_ratio(synth_equity.to_numpy(), ppy)
    assert m.max_drawdown(synth_equity) == m.max_drawdown(synth_equity.to_numpy())
    uw = m.underwater(synth_equity)
    assert isinstance(uw, pd.Series) and uw.index.equals(synth_equity.index)


def _aligned(a: pd.Series, b: pd.Series):
    common = a.index.intersection(b.index)
    return a.loc[common], b.loc[common]


@pytest.mark.parametrize("rf_annual", [0.0, 0.02])
def test_capm_against_empyrical_synthetic(synth_equity, rf_annual):
    rng = np.random.default_rng(3)
    bench = synth_equity * 0.0 + rng.normal(0.0004, 0.01, len(synth_equity))
    strat = 0.0001 + 1.3 * bench + rng.normal(0, 0.004, len(bench))
    ppy = m.periods_per_year_from_index(strat.index)
    res = m.capm_alpha_beta(strat, bench, ppy, risk_free=rf_annual)
    alpha, beta = ep.alpha_beta(
        strat.to_numpy(), bench.to_numpy(), risk_free=rf_annual / ppy, annualization=ppy
    )
    assert res["alpha"] == approx(alpha)
    assert res["beta"] == approx(beta)
    assert res["alpha_simple"] == approx(res["alpha_per_period"] * ppy)
    assert res["r_squared"] == approx(np.corrcoef(strat, bench)[0, 1] ** 2)
    assert res["n_periods"] == len(strat)
    # arrays (positional) give the same as dated Series
    res_arr = m.capm_alpha_beta(strat.to_numpy(), bench.to_numpy(), ppy, risk_free=rf_annual)
    assert res_arr == res


@pytest.mark.realdata
def test_capm_against_empyrical_and_quantstats_real(real_btc, real_spy):
    btc, spy = _aligned(real_btc, real_spy)
    ppy = m.periods_per_year_from_index(spy.index)
    res = m.capm_alpha_beta(btc, spy, ppy)
    alpha, beta = ep.alpha_beta(btc.to_numpy(), spy.to_numpy(), annualization=ppy)
    assert res["alpha"] == approx(alpha)
    assert res["beta"] == approx(beta)
    greeks = qs.stats.greeks(btc, spy, periods=ppy)
    assert res["alpha_simple"] == approx(greeks["alpha"])
    assert res["beta"] == approx(greeks["beta"])


def test_capm_undefined_is_none():
    flat = np.zeros(10)
    res = m.capm_alpha_beta(np.linspace(-0.01, 0.01, 10), flat, 252)
    assert res["beta"] is None and res["alpha"] is None and res["n_periods"] == 10
    assert m.capm_alpha_beta([0.01], [0.02], 252)["alpha"] is None
    with pytest.raises(DataError):
        m.capm_alpha_beta([0.01, 0.02], [0.02], 252)


# --------------------------------------------------------------------------- QuantStats


def test_against_quantstats(returns):
    ppy = m.periods_per_year_from_index(returns.index)
    r = returns
    assert m.total_return(r) == approx(qs.stats.comp(r))
    assert m.annual_volatility(r, ppy) == approx(qs.stats.volatility(r, periods=ppy))
    assert m.sharpe_ratio(r, ppy) == approx(qs.stats.sharpe(r, periods=ppy))
    assert m.sortino_ratio(r, ppy) == approx(qs.stats.sortino(r, periods=ppy))
    assert m.cagr(r, ppy) == approx(qs.stats.cagr(r, periods=ppy))
    assert m.max_drawdown(r) == approx(qs.stats.max_drawdown(r))
    assert m.calmar_ratio(r, ppy) == approx(qs.stats.calmar(r, periods=ppy))


def test_quantstats_risk_free_relation(synth_equity):
    """QuantStats compounds the annual rf down to a period; ours divides by P."""
    ppy = 252.0
    rf = 0.04
    qs_rf = (1.0 + rf / ppy) ** ppy - 1.0  # the annual rate whose compounded daily rate is rf / P
    assert m.sharpe_ratio(synth_equity, ppy, risk_free=rf) == approx(
        qs.stats.sharpe(synth_equity, rf=qs_rf, periods=ppy)
    )


# --------------------------------------------------------------------------- paper variant (step 11)


def _paper_step11(r: np.ndarray) -> dict:
    """PAPER_NOTES step 11, literally, with numpy."""
    return {
        "total": np.prod(1 + r) - 1,
        "max_dd": np.min(np.cumprod(1 + r) / np.maximum.accumulate(np.cumprod(1 + r)) - 1),
        "sharpe": r.mean() / r.std() * np.sqrt(252),
        "sortino": r.mean() / r[r < 0].std() * np.sqrt(252),
    }


def test_paper_variant_matches_step11(returns):
    r = returns.to_numpy()
    ref = _paper_step11(r)
    assert m.sortino_ratio(r, 252, variant="paper") == approx(ref["sortino"])
    assert m.sharpe_ratio(r, 252, ddof=0) == approx(ref["sharpe"])
    assert m.total_return(r) == approx(ref["total"])
    # the notebook's drawdown starts at the first close (no pre-start anchor): it can only be
    # less deep than ours, and equal when the first return is not a loss
    assert m.max_drawdown(r) <= ref["max_dd"] + 1e-15
    if r[0] >= 0:
        assert m.max_drawdown(r) == approx(ref["max_dd"])


def test_paper_variant_differs_from_standard(synth_equity):
    std = m.sortino_ratio(synth_equity, 252)
    paper = m.sortino_ratio(synth_equity, 252, variant="paper")
    assert std is not None and paper is not None and std != paper
    with pytest.raises(ConfigError):
        m.sortino_ratio(synth_equity, 252, variant="nope")


def test_undefined_values_are_none():
    assert m.total_return([]) is None
    assert m.sharpe_ratio([0.01, 0.01, 0.01], 252) is None
    assert m.sortino_ratio([0.01, 0.02], 252) is None
    assert m.sortino_ratio([0.01, 0.02], 252, variant="paper") is None
    assert m.calmar_ratio([0.01, 0.02], 252) is None
    assert m.annual_volatility([0.01], 252) is None
    assert m.total_return([0.01, np.nan, 0.02]) == approx(1.01 * 1.02 - 1)


# --------------------------------------------------------------------------- excess-return windows


def _pair(n=301, seed=5, offset=0):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2023-11-01", periods=n + offset)
    s = pd.Series(rng.normal(0.001, 0.02, n + offset), index=idx)
    b = pd.Series(rng.normal(0.0008, 0.015, n), index=idx[offset:])
    return s, b


def test_excess_return_windows_split_like_array_split():
    s, b = _pair()
    wins = m.excess_return_windows(s, b, n_windows=3)
    parts = np.array_split(np.arange(len(b)), 3)
    assert [w["n_periods"] for w in wins] == [len(p) for p in parts] == [101, 100, 100]
    for w, pos in zip(wins, parts):
        ss, bb = s.iloc[pos], b.iloc[pos]
        exp_s = np.prod(1 + ss.to_numpy()) - 1
        exp_b = np.prod(1 + bb.to_numpy()) - 1
        assert w["start"] == ss.index[0].strftime("%Y-%m-%d")
        assert w["end"] == ss.index[-1].strftime("%Y-%m-%d")
        assert w["strategy_return"] == approx(exp_s)
        assert w["benchmark_return"] == approx(exp_b)
        assert w["alpha"] == approx(exp_s - exp_b)
    growth = np.prod([1 + w["strategy_return"] for w in wins])
    assert growth - 1 == approx(m.total_return(s))
    json.dumps(wins, allow_nan=False)


def test_excess_return_windows_common_dates_only():
    s, b = _pair(n=100, offset=20)  # strategy has 20 extra leading dates
    wins = m.excess_return_windows(s, b, n_windows=2)
    assert sum(w["n_periods"] for w in wins) == 100
    assert wins[0]["start"] == b.index[0].strftime("%Y-%m-%d")
    assert wins[0]["strategy_return"] == approx(np.prod(1 + s.iloc[20:70].to_numpy()) - 1)


def test_excess_return_windows_fixed_length_and_edge_cases():
    s, b = _pair(n=25)
    wins = m.excess_return_windows(s, b, window_length=10)
    assert [w["n_periods"] for w in wins] == [10, 10, 5]
    assert wins[2]["alpha"] == approx(
        (np.prod(1 + s.iloc[20:].to_numpy()) - 1) - (np.prod(1 + b.iloc[20:].to_numpy()) - 1)
    )
    few = m.excess_return_windows(s.iloc[:2], b.iloc[:2], n_windows=3)
    assert [w["n_periods"] for w in few] == [1, 1, 0]
    assert few[2]["alpha"] is None and few[2]["start"] is None
    with pytest.raises(ConfigError):
        m.excess_return_windows(s, b, n_windows=0)
    with pytest.raises(ConfigError):
        m.excess_return_windows(s, b, window_length=2.5)


def test_mapping_input_with_timereturn_style_keys():
    s, b = _pair(n=30)
    end_of_day = pd.Timedelta(hours=23, minutes=59, seconds=59, microseconds=999989)
    keyed = {ts + end_of_day: v for ts, v in s.items()}
    assert m.excess_return_windows(keyed, b, n_windows=3) == m.excess_return_windows(s, b, n_windows=3)


# --------------------------------------------------------------------------- window_stats


def test_window_stats_inside_partial_outside():
    r = _synthetic(2, 600, "B", 0.0003, 0.01, "x")  # 2019-01-02 .. 2021-04
    full = m.window_stats(r, "2020-01-01", "2020-12-31")
    inside = r.loc["2020-01-01":"2020-12-31"]
    ppy = m.periods_per_year_from_index(r.index)
    assert full["status"] == "ok"
    assert (full["start"], full["end"]) == ("2020-01-01", "2020-12-31")
    assert full["n_periods"] == len(inside)
    assert full["total_return"] == approx(np.prod(1 + inside.to_numpy()) - 1)
    wealth = np.cumprod(1 + inside.to_numpy())
    peak = np.maximum.accumulate(np.r_[1.0, wealth])[1:]
    assert full["max_drawdown"] == approx(np.min(wealth / peak - 1))
    assert full["annual_volatility"] == approx(inside.std(ddof=1) * math.sqrt(ppy))
    assert full["periods_per_year"] == approx(ppy)

    part = m.window_stats(r, "2021-01-01", "2021-12-31")
    assert part["status"] == "partial"
    assert part["start"] == "2021-01-01" and part["end"] == r.index[-1].strftime("%Y-%m-%d")

    out = m.window_stats(r, "2022-01-01", "2022-12-31")
    assert out["status"] == "outside traded period"
    assert out["total_return"] is None and out["max_drawdown"] is None and out["annual_volatility"] is None
    assert out["start"] is None and out["n_periods"] == 0
    json.dumps([full, part, out], allow_nan=False)


def test_window_stats_weekend_edges_are_not_partial():
    r = pd.Series(0.001, index=pd.bdate_range("2022-01-03", "2022-12-30"))  # 2022-01-01 is a Saturday
    res = m.window_stats(r, "2022-01-01", "2022-12-31")
    assert res["status"] == "ok" and res["start"] == "2022-01-03"
    assert m.window_stats(r, "2022-01-01", "2022-12-31", edge_slack_days=0)["status"] == "partial"


# --------------------------------------------------------------------------- summary


def test_performance_summary_matches_functions(returns):
    ppy = m.periods_per_year_from_index(returns.index)
    res = m.performance_summary(returns, sortino_variant="paper")
    assert res["periods_per_year"] == approx(ppy)
    assert res["total_return"] == m.total_return(returns)
    assert res["cagr"] == m.cagr(returns, ppy)
    assert res["annual_volatility"] == m.annual_volatility(returns, ppy)
    assert res["sharpe_ratio"] == m.sharpe_ratio(returns, ppy)
    assert res["sortino_ratio"] == m.sortino_ratio(returns, ppy, variant="paper")
    assert res["max_drawdown"] == m.max_drawdown(returns)
    assert res["calmar_ratio"] == m.calmar_ratio(returns, ppy)
    assert res["n_periods"] == len(returns)
    assert res["start"] == returns.index[0].strftime("%Y-%m-%d")
    json.dumps(res, allow_nan=False)


def test_performance_summary_without_dates_needs_periods():
    res = m.performance_summary(np.array([0.01, -0.02, 0.03]))
    assert res["total_return"] is not None and res["sharpe_ratio"] is None and res["periods_per_year"] is None
    res = m.performance_summary(np.array([0.01, -0.02, 0.03]), periods_per_year=252)
    assert res["sharpe_ratio"] == m.sharpe_ratio([0.01, -0.02, 0.03], 252)
    undated = m.performance_summary(pd.Series([0.01, -0.02, 0.03]), periods_per_year=252)
    assert undated["sharpe_ratio"] == res["sharpe_ratio"] and undated["start"] is None
    with pytest.raises(ConfigError):
        m.performance_summary([0.01], sortino_variant="bad")
    with pytest.raises(DataError):
        m.excess_return_windows(pd.Series([0.01, 0.02]), pd.Series([0.01, 0.02]))


# --------------------------------------------------------------------------- tearsheet pieces vs QuantStats


@pytest.fixture
def daily():
    rng = np.random.default_rng(11)
    idx = pd.bdate_range("2021-03-15", periods=420)
    return pd.Series(rng.standard_t(4, 420) * 0.012 + 0.0004, index=idx)


def test_monthly_and_yearly_returns_match_quantstats(daily):
    import quantstats as qs

    ours = m.monthly_returns(daily)
    theirs = qs.stats.monthly_returns(daily, eoy=True, compounded=True)
    for year in ours.index:
        for month in range(1, 13):
            v = ours.loc[year, month]
            q = theirs.loc[str(year)].iloc[month - 1]
            assert (np.isnan(v) and q == 0.0) or v == pytest.approx(q, abs=1e-12)
        assert m.yearly_returns(daily)[year] == pytest.approx(theirs.loc[str(year), "EOY"], abs=1e-12)


def test_rolling_sharpe_and_volatility_match_quantstats(daily):
    import quantstats as qs

    ours = m.rolling_sharpe(daily, 63, 252).dropna()
    theirs = qs.stats.rolling_sharpe(daily, rolling_period=63, periods_per_year=252).dropna()
    pd.testing.assert_series_equal(ours, theirs.loc[ours.index], check_names=False, rtol=1e-10)
    vol = m.rolling_volatility(daily, 63, 252).dropna()
    qvol = qs.stats.rolling_volatility(daily, rolling_period=63, periods_per_year=252).dropna()
    pd.testing.assert_series_equal(vol, qvol.loc[vol.index], check_names=False, rtol=1e-10)


def test_worst_drawdowns_match_quantstats(daily):
    import quantstats as qs

    ours = m.worst_drawdowns(daily, n=5)
    details = qs.stats.drawdown_details(qs.stats.to_drawdown_series(daily)).sort_values("max drawdown")
    assert len(ours) == 5
    for mine, (_, row) in zip(ours, details.head(5).iterrows()):
        assert mine["depth"] * 100 == pytest.approx(row["max drawdown"], rel=1e-9)
        assert mine["valley"] == str(row["valley"])[:10] and mine["start"] == str(row["start"])[:10]
    assert [d["depth"] for d in ours] == sorted(d["depth"] for d in ours)
    # a drawdown still open at the end has no recovery date
    falling = pd.Series([0.01, -0.05, -0.02], index=pd.bdate_range("2024-01-01", periods=3))
    (only,) = m.worst_drawdowns(falling)
    assert only["recovery"] is None and only["start"] == "2024-01-02" and only["valley"] == "2024-01-03"
    assert only["depth"] == pytest.approx(0.95 * 0.98 - 1, rel=1e-12)
