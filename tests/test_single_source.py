"""The analyzers are the single source of every reported number: the runner and a user's own
cerebro, built as the README's example builds it, give identical Table 1 figures for the same
MVO and equal-weight runs on the real data."""

from __future__ import annotations

import json

import backtrader as bt
import pytest
import yaml

import runner
from bt_lstm_mvo.analyzers import PaperMetrics, PortfolioWeights, StressWindow
from bt_lstm_mvo.feeds.market import load_market
from bt_lstm_mvo.strategies.commission import ProportionalCommission
from bt_lstm_mvo.strategies.mvo import MVOStrategy
from bt_lstm_mvo.strategies.naive import EqualWeightStrategy

TICKERS = ["BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA"]
START, END, TRADE_START = "2019-01-01", "2024-12-30", "2023-10-31"

#: Table 1's rows: results.json metric -> (analyzer, its key)
TABLE1 = {"total_return": ("metrics", "total_return"), "cagr": ("metrics", "cagr"),
          "max_drawdown": ("metrics", "max_drawdown"), "sharpe": ("metrics", "sharpe_ratio"),
          "sortino": ("metrics", "sortino_ratio"), "volatility": ("metrics", "annual_volatility"),
          "calmar": ("metrics", "calmar_ratio"), "downside_deviation": ("metrics", "downside_deviation")}


def _runner_results(cfg: dict, tmp_path) -> dict:
    """``cfg`` through the runner (``python runner.py cfg.yaml``): its results.json."""
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    assert runner.main([str(path), "--out", str(out), "--quiet"]) == 0
    return json.loads((out / "results.json").read_text())


def _plain_cerebro(data_dir, strategy, execution: str = "close") -> dict:
    """The README's example, with ``strategy`` in place of MVOStrategy (and ``execution``)."""
    market = load_market(TICKERS, source="csv", data_dir=data_dir, start=START, end=END)
    cerebro = bt.Cerebro(cheat_on_open=execution == "next_open")
    market.add_to(cerebro)
    cerebro.broker.setcash(1_000_000)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=0.001))
    cerebro.addstrategy(strategy, trade_start=TRADE_START, schedule="daily", execution=execution)
    cerebro.addanalyzer(PaperMetrics, since=TRADE_START, _name="metrics")
    cerebro.addanalyzer(PortfolioWeights, since=TRADE_START, _name="weights")
    cerebro.addanalyzer(StressWindow, since=TRADE_START, windows={"2024H1": ("2024-01-01", "2024-06-30")},
                        _name="stress")
    strat = cerebro.run()[0]
    return {name: strat.analyzers.getbyname(name).get_analysis() for name in ("metrics", "weights", "stress")}


@pytest.mark.realdata
@pytest.mark.parametrize("execution", ["close", "next_open"])
def test_runner_and_plain_cerebro_give_identical_table1(data_dir, tmp_path, execution):
    cfg = {
        "name": "single-source",
        "data": {"source": "csv", "tickers": TICKERS, "start": START, "end": END, "data_dir": str(data_dir)},
        "split": {"test_start": TRADE_START},
        "broker": {"cash": 1_000_000, "commission": 0.001, "execution": execution},
        "strategies": {"mvo": {"kind": "mvo", "schedule": "daily"}, "ew": {"kind": "equal_weight"}},
        "buy_and_hold_benchmarks": False,
        "analysis": {"stress_windows": {"2024H1": ["2024-01-01", "2024-06-30"]}},
        "output": {"plots": False},
    }
    res = _runner_results(cfg, tmp_path)

    for name, strategy in (("mvo", MVOStrategy), ("ew", EqualWeightStrategy)):
        plain = _plain_cerebro(data_dir, strategy, execution)
        reported = res["strategies"][name]["metrics"]
        for ours, (analyzer, key) in TABLE1.items():
            assert reported[ours] == pytest.approx(plain[analyzer][key], rel=1e-12, abs=1e-15), (name, ours)
        assert reported["turnover"] == pytest.approx(plain["weights"]["turnover"]["mean_daily"], rel=1e-12)
        assert reported["commission_pct"] == pytest.approx(plain["weights"]["commission"] / 1e6, rel=1e-12)
        assert res["stress"]["2024H1"][name]["total_return"] == pytest.approx(
            plain["stress"]["windows"]["2024H1"]["total_return"], rel=1e-12)
        # one annualisation rule: the factor measured over every bar of the run
        assert plain["metrics"]["periods_per_year"] == pytest.approx(res["data"]["periods_per_year"], rel=1e-15)
    assert 250 < res["data"]["periods_per_year"] < 253  # 1509 bars, 2019-01-02..2024-12-30


@pytest.mark.realdata
def test_runner_and_plain_cerebro_agree_under_realistic_costs_and_interest(data_dir, tmp_path):
    """The same with per-asset cost models (the realistic preset), interest on cash and that rate
    as the risk-free rate: a plain cerebro with the README's broker-realism parts matches."""
    from bt_lstm_mvo.analyzers import ExecutionCosts
    from bt_lstm_mvo.strategies.broker import CashInterestBroker
    from bt_lstm_mvo.strategies.commission import AssetCommission
    from bt_lstm_mvo.strategies.costs import models_for

    cfg = {
        "name": "single-source-costs",
        "data": {"source": "csv", "tickers": TICKERS, "start": START, "end": END, "data_dir": str(data_dir)},
        "split": {"test_start": TRADE_START},
        "broker": {"cash": 1_000_000, "costs": {"preset": "realistic"}, "interest_rate": 0.03, "cash_buffer": 0.02},
        "strategies": {"ew": {"kind": "equal_weight"}},
        "buy_and_hold_benchmarks": False,
        "analysis": {"risk_free": "interest_rate"},
        "output": {"plots": False},
    }
    res = _runner_results(cfg, tmp_path)

    market = load_market(TICKERS, source="csv", data_dir=data_dir, start=START, end=END)
    cerebro = bt.Cerebro()
    cerebro.broker = CashInterestBroker(rate=0.03)
    market.add_to(cerebro)
    cerebro.broker.setcash(1_000_000)
    for ticker, model in models_for(TICKERS, "realistic").items():
        cerebro.broker.addcommissioninfo(AssetCommission(**model.describe()), name=ticker)
    cerebro.addstrategy(EqualWeightStrategy, trade_start=TRADE_START, cash_buffer=0.02)
    cerebro.addanalyzer(PaperMetrics, since=TRADE_START, risk_free=0.03, sortino_risk_free=True, _name="metrics")
    cerebro.addanalyzer(ExecutionCosts, since=TRADE_START, _name="costs")
    strat = cerebro.run()[0]
    plain = strat.analyzers.getbyname("metrics").get_analysis()
    costs = strat.analyzers.getbyname("costs").get_analysis()
    reported = res["strategies"]["ew"]["metrics"]
    for ours, (_, key) in TABLE1.items():
        assert reported[ours] == pytest.approx(plain[key], rel=1e-12, abs=1e-15), ours
    run_costs = res["strategies"]["ew"]["runs"][0]["costs"]
    flat = [k for k in costs if k != "by_asset"]
    assert {k: run_costs[k] for k in flat} == pytest.approx({k: costs[k] for k in flat}, rel=1e-12)
    assert run_costs["by_asset"] == costs["by_asset"]
    assert costs["spread"] > costs["fee"] > 0 and costs["interest"] > 0
    assert strat.order_stats["Completed"] == sum(strat.order_stats.values())
