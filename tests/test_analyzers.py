"""The Backtrader analyzers agree with the pure functions on the strategy's own TimeReturn."""

from __future__ import annotations

import json

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from bt_lstm_mvo.analyzers import PaperMetrics, RollingAlpha, SortinoRatio, StressWindow
from bt_lstm_mvo.analyzers import metrics as m
from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.strategies.commission import ProportionalCommission

TOL = {"rel": 1e-12, "abs": 1e-12}
CASH = 100_000.0


def prices(start: str, n: int, seed: int, freq: str = "B", drift: float = 0.0004) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range(start, periods=n) if freq == "B" else pd.date_range(start, periods=n)
    close = 100 * np.cumprod(1 + rng.normal(drift, 0.012, n))
    open_ = close * (1 + rng.normal(0, 0.003, n))
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.002,
            "low": np.minimum(open_, close) * 0.998,
            "close": close,
            "volume": 1e6,
        },
        index=idx,
    )


class BuyHold(bt.Strategy):
    params = (("target", 0.95),)

    def next(self):
        if not self.position:
            self.order_target_percent(target=self.p.target)


class SmaTrader(bt.Strategy):
    params = (("fast", 5), ("slow", 20))

    def __init__(self):
        self.cross = bt.ind.CrossOver(bt.ind.SMA(period=self.p.fast), bt.ind.SMA(period=self.p.slow))

    def next(self):
        if not self.position and self.cross > 0:
            self.order_target_percent(target=0.9)
        elif self.position and self.cross < 0:
            self.close()


class TrainedStrategy(BuyHold):
    """Exposes a training period the duck-typed way."""

    def start(self):
        self.training_period_ = ("2019-01-01", "2019-06-30")


def run(strategy, feeds, analyzers, **runkw):
    """Run one cerebro; returns the strategy. ``feeds``: list of (DataFrame, name)."""
    cerebro = bt.Cerebro(stdstats=False)
    datas = []
    for df, name in feeds:
        data = bt.feeds.PandasData(dataname=df, name=name)
        cerebro.adddata(data)
        datas.append(data)
    cerebro.addstrategy(strategy)
    cerebro.broker.set_cash(CASH)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=0.001))
    cerebro.addanalyzer(bt.analyzers.TimeReturn, timeframe=bt.TimeFrame.Days, _name="tr")
    for cls, name, kwargs in analyzers(datas):
        cerebro.addanalyzer(cls, _name=name, **kwargs)
    return cerebro.run(**runkw)[0]


def own_returns(strat) -> pd.Series:
    """The strategy's TimeReturn as a Series on midnight dates (independent of the plugin)."""
    tr = strat.analyzers.tr.get_analysis()
    return pd.Series(list(tr.values()), index=pd.DatetimeIndex(list(tr.keys())).normalize(), dtype=float)


def assert_dicts_close(got: dict, exp: dict):
    assert got.keys() == exp.keys()
    for key, val in exp.items():
        if isinstance(val, float):
            assert got[key] == pytest.approx(val, **TOL), key
        else:
            assert got[key] == val, key


EQ = prices("2019-01-02", 400, seed=1)
BENCH = prices("2019-01-02", 400, seed=2, drift=0.0002)

WINDOWS = {
    "h1_2019": ("2019-01-01", "2019-06-30"),
    "late": ("2020-06-01", "2020-12-31"),
    "2022": ("2022-01-01", "2022-12-31"),
}


def _main_analyzers(datas):
    return [
        (SortinoRatio, "sortino", {}),
        (SortinoRatio, "sortino_paper", {"variant": "paper"}),
        (SortinoRatio, "sortino_target", {"target": 0.0002, "periods_per_year": 252}),
        (PaperMetrics, "metrics", {}),
        (PaperMetrics, "metrics_paper", {"sortino_variant": "paper", "ddof": 0, "periods_per_year": 252}),
        (StressWindow, "stress", {"windows": WINDOWS, "training_end": "2019-12-31"}),
        (StressWindow, "stress_default", {}),
        (RollingAlpha, "alpha_feed", {"data": datas[1], "capm": True, "window_length": 60}),
    ]


@pytest.fixture(scope="module")
def traded():
    return run(SmaTrader, [(EQ, "EQ"), (BENCH, "BENCH")], _main_analyzers)


def test_sortino_matches_pure_function(traded):
    r = own_returns(traded)
    ppy = m.periods_per_year_from_index(r.index)
    got = traded.analyzers.sortino.get_analysis()
    assert got["sortino_ratio"] == pytest.approx(m.sortino_ratio(r, ppy), **TOL)
    assert got["periods_per_year"] == pytest.approx(ppy, **TOL)
    assert got["n_periods"] == len(r) == len(EQ)
    paper = traded.analyzers.sortino_paper.get_analysis()["sortino_ratio"]
    assert paper == pytest.approx(m.sortino_ratio(r, ppy, variant="paper"), **TOL)
    target = traded.analyzers.sortino_target.get_analysis()
    assert target["sortino_ratio"] == pytest.approx(m.sortino_ratio(r, 252, target=0.0002), **TOL)
    assert target["periods_per_year"] == 252


def test_paper_metrics_match_pure_functions(traded):
    r = own_returns(traded)
    assert_dicts_close(traded.analyzers.metrics.get_analysis(), m.performance_summary(r))
    assert_dicts_close(
        traded.analyzers.metrics_paper.get_analysis(),
        m.performance_summary(r, periods_per_year=252, sortino_variant="paper", ddof=0),
    )
    got = traded.analyzers.metrics.get_analysis()
    assert got["total_return"] == pytest.approx(traded.broker.getvalue() / CASH - 1, **TOL)
    assert got["max_drawdown"] < 0 and got["annual_volatility"] > 0


def test_stress_window_matches_and_flags(traded):
    r = own_returns(traded)
    got = traded.analyzers.stress.get_analysis()
    assert got["training_end"] == "2019-12-31" and got["training_source"] == "param"
    for name, (start, end) in WINDOWS.items():
        exp = m.window_stats(r, start, end)
        exp["overlaps_training"] = name == "h1_2019"
        assert_dicts_close(got["windows"][name], exp)
    assert got["windows"]["h1_2019"]["status"] == "ok"
    late = got["windows"]["late"]
    assert late["status"] == "partial" and late["end"] == EQ.index[-1].strftime("%Y-%m-%d")
    outside = got["windows"]["2022"]
    assert outside["status"] == "outside traded period"
    assert outside["total_return"] is None and outside["max_drawdown"] is None
    assert outside["annual_volatility"] is None
    default = traded.analyzers.stress_default.get_analysis()
    assert list(default["windows"]) == ["2022"]
    assert default["windows"]["2022"]["status"] == "outside traded period"
    assert default["windows"]["2022"]["overlaps_training"] is None


def test_stress_window_training_from_strategy_attribute():
    strat = run(
        TrainedStrategy,
        [(EQ, "EQ")],
        lambda d: [(StressWindow, "stress", {"windows": {"a": ("2019-03-01", "2019-03-31"),
                                                         "b": ("2020-01-01", "2020-03-31")}})],
    )
    got = strat.analyzers.stress.get_analysis()
    assert got["training_source"] == "strategy.training_period_"
    assert (got["training_start"], got["training_end"]) == ("2019-01-01", "2019-06-30")
    assert got["windows"]["a"]["overlaps_training"] is True
    assert got["windows"]["b"]["overlaps_training"] is False


def _feed_returns(df: pd.DataFrame) -> pd.Series:
    """Close-to-close returns of a price frame, first bar 0 (firstopen=False)."""
    return df["close"].pct_change().fillna(0.0)


def test_rolling_alpha_with_benchmark_feed(traded):
    r = own_returns(traded)
    b = _feed_returns(BENCH)
    got = traded.analyzers.alpha_feed.get_analysis()
    assert got["benchmark"] == "BENCH"
    assert got["n_periods"] == len(r)
    for g, e in zip(got["windows"], m.excess_return_windows(r, b, n_windows=3)):
        assert_dicts_close(g, e)
    assert len(got["windows"]) == 3
    fixed = m.excess_return_windows(r, b, window_length=60)
    assert len(got["fixed_windows"]) == len(fixed) == 7
    for g, e in zip(got["fixed_windows"], fixed):
        assert_dicts_close(g, e)
    ppy = m.periods_per_year_from_index(r.index)
    assert_dicts_close(got["capm"], m.capm_alpha_beta(r, b, ppy))
    bench_growth = BENCH["close"].iloc[-1] / BENCH["close"].iloc[0]
    assert got["total"]["benchmark_return"] == pytest.approx(bench_growth - 1, **TOL)


def test_rolling_alpha_feed_starting_later_and_other_calendar():
    """A 7-day benchmark feed that starts 30 days after the strategy's data."""
    late = prices("2019-02-15", 300, seed=4, freq="D")
    strat = run(BuyHold, [(EQ, "EQ"), (late, "LATE")],
                lambda d: [(RollingAlpha, "alpha", {"data": d[1], "n_windows": 4})])
    got = strat.analyzers.alpha.get_analysis()
    assert got["start"] == "2019-02-15"
    r = own_returns(strat)
    b = _feed_returns(late)
    late_growth = late["close"].iloc[-1] / late["close"].iloc[0]
    assert got["total"]["benchmark_return"] == pytest.approx(late_growth - 1, **TOL)
    for g, e in zip(got["windows"], m.excess_return_windows(r, b, n_windows=4)):
        assert_dicts_close(g, e)


def test_rolling_alpha_with_returns_series():
    bench_strat = run(BuyHold, [(EQ, "EQ")], lambda d: [])
    bench = own_returns(bench_strat).rename("buy_and_hold")
    strat = run(SmaTrader, [(EQ, "EQ")], lambda d: [
        (RollingAlpha, "alpha", {"benchmark_returns": bench, "capm": True, "risk_free": 0.02}),
        (RollingAlpha, "alpha_map", {"benchmark_returns": bench_strat.analyzers.tr.get_analysis()}),
    ])
    r = own_returns(strat)
    got = strat.analyzers.alpha.get_analysis()
    assert got["benchmark"] == "returns series buy_and_hold"
    for g, e in zip(got["windows"], m.excess_return_windows(r, bench, n_windows=3)):
        assert_dicts_close(g, e)
    assert got["fixed_windows"] is None
    ppy = m.periods_per_year_from_index(r.index)
    assert_dicts_close(got["capm"], m.capm_alpha_beta(r, bench, ppy, risk_free=0.02))
    # a TimeReturn mapping (keys with a time of day) gives the same windows as the Series
    assert strat.analyzers.alpha_map.get_analysis()["windows"] == got["windows"]


def test_first_return_is_relative_to_starting_cash():
    """TimeReturn's first return is value(bar 1) / starting cash - 1: 0.0, since no order can
    fill before bar 2. It is kept (the portfolio did hold cash that bar); totals tie out."""
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=EQ))
    cerebro.addstrategy(BuyHold)
    cerebro.broker.set_cash(CASH)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=0.001))
    cerebro.addanalyzer(bt.analyzers.TimeReturn, timeframe=bt.TimeFrame.Days, _name="tr")
    cerebro.addanalyzer(PaperMetrics, _name="metrics")
    strat = cerebro.run()[0]
    r = own_returns(strat)
    assert r.iloc[0] == 0.0 and r.iloc[1] != 0.0
    got = strat.analyzers.metrics.get_analysis()
    assert got["total_return"] == pytest.approx(cerebro.broker.getvalue() / CASH - 1, **TOL)


def test_engine_modes_give_identical_results():
    def analyzers(d):
        return [(PaperMetrics, "metrics", {}), (RollingAlpha, "alpha", {"data": d[1]}),
                (StressWindow, "stress", {"windows": WINDOWS})]

    feeds = [(EQ, "EQ"), (BENCH, "BENCH")]
    base = run(SmaTrader, feeds, analyzers)
    other = run(SmaTrader, feeds, analyzers, preload=False, runonce=False)
    for name in ("metrics", "alpha", "stress"):
        assert other.analyzers.getbyname(name).get_analysis() == base.analyzers.getbyname(name).get_analysis()


def test_all_outputs_json_serialisable(traded):
    for name in ("sortino", "sortino_paper", "sortino_target", "metrics", "metrics_paper", "stress",
                 "stress_default", "alpha_feed"):
        analysis = traded.analyzers.getbyname(name).get_analysis()
        assert isinstance(analysis, dict)
        json.dumps(analysis, allow_nan=False)


def test_undefined_metrics_are_none_without_trades():
    class Idle(bt.Strategy):
        pass

    strat = run(Idle, [(EQ.iloc[:30], "EQ")], lambda d: [(PaperMetrics, "metrics", {}),
                                                        (SortinoRatio, "sortino", {})])
    got = strat.analyzers.metrics.get_analysis()
    assert got["total_return"] == 0.0 and got["max_drawdown"] == 0.0
    assert got["sharpe_ratio"] is None and got["sortino_ratio"] is None and got["calmar_ratio"] is None
    assert strat.analyzers.sortino.get_analysis()["sortino_ratio"] is None
    json.dumps(got, allow_nan=False)


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (RollingAlpha, {}),
        (RollingAlpha, {"benchmark_returns": pd.Series(dtype=float), "data": "x"}),
        (RollingAlpha, {"benchmark_returns": pd.Series([0.01], index=[pd.Timestamp("2019-01-02")]),
                        "n_windows": None}),
        (SortinoRatio, {"variant": "semi"}),
        (PaperMetrics, {"periods_per_year": 0}),
        (StressWindow, {"windows": {"bad": ("2020-02-01", "2020-01-01")}}),
        (StressWindow, {"windows": {}}),
    ],
)
def test_bad_params_raise_config_error(cls, kwargs):
    with pytest.raises(ConfigError):
        run(BuyHold, [(EQ.iloc[:10], "EQ")], lambda d: [(cls, "x", kwargs)])
