"""The robustness study: its statistics against published or independent references, the cost
replay against a direct run, and a small study end to end through the command line."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bt_lstm_mvo.analyzers import metrics as M
from bt_lstm_mvo.errors import AllocationError, ConfigError
from bt_lstm_mvo.experiment import significance as S
from bt_lstm_mvo.experiment.config import parse_config

# ----------------------------------------------------------------------------- statistics


def test_deflated_sharpe_reproduces_the_papers_worked_example():
    # Bailey & Lopez de Prado (2014), "The Deflated Sharpe Ratio", section 4: annualised SR 2.5 over
    # 5 years of daily returns (T = 1250), skewness -3, kurtosis 10, N = 100 trials with an
    # annualised variance of 0.5 across them: SR0 = 0.1132 and DSR = 0.9004 (per-day units)
    sr = 2.5 / math.sqrt(250)
    sr0 = S.expected_max_sharpe(100, 0.5 / 250)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert S.psr_from_moments(sr, 1250, -3.0, 10.0, sr0) == pytest.approx(0.9004, abs=5e-5)


def test_probabilistic_sharpe_of_normal_returns():
    # for normal returns (skew 0, kurtosis 3) PSR is Phi(SR sqrt(n-1) / sqrt(1 + SR^2 / 2))
    x = np.random.default_rng(3).normal(0.0008, 0.01, 750)
    n, sr, skew, kurt = len(x), x.mean() / x.std(ddof=1), stats.skew(x), stats.kurtosis(x, fisher=False)
    expected = stats.norm.cdf(sr * math.sqrt(n - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2))
    assert S.probabilistic_sharpe(x) == pytest.approx(expected, rel=1e-12)
    assert S.psr_from_moments(sr, n, skew, kurt, sr) == pytest.approx(0.5)  # the estimate itself: a coin flip
    d = S.deflated_sharpe(x, n_trials=50, sr_variance=0.002**2)
    assert d["dsr"] < d["psr"]  # deflating by many trials can only lower it
    assert S.deflated_sharpe(x, n_trials=1, sr_variance=1.0)["dsr"] == pytest.approx(d["psr"])


def test_holm_matches_its_definition():
    # sorted p: 0.005 0.01 0.03 0.04 (m = 4) -> 4*0.005, 3*0.01, 2*0.03, max(1*0.04, previous)
    assert S.holm([0.01, 0.04, 0.03, None, 0.005]) == pytest.approx([0.03, 0.06, 0.06, None, 0.02])
    assert S.holm([0.9, 0.8]) == [1.0, 1.0]


@pytest.mark.parametrize("k, n", [(0, 5), (3, 10), (7, 10), (40, 40), (123, 300)])
def test_wilson_interval_matches_scipy(k, n):
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert S.wilson_interval(k, n) == pytest.approx((ref.low, ref.high), abs=1e-9)


def test_vectorised_bootstrap_statistics_equal_the_metric_functions():
    x = np.random.default_rng(0).normal(0.0005, 0.02, (20, 300))
    for name, single in (("sharpe", lambda r: M.sharpe_ratio(r, 252)), ("total_return", M.total_return),
                         ("sortino", lambda r: M.sortino_ratio(r, 252)), ("max_drawdown", M.max_drawdown)):
        assert S._many(name, x, 252) == pytest.approx([single(row) for row in x], rel=1e-10), name


def test_bootstrap_of_a_series_against_itself_is_never_significant():
    x = pd.Series(np.random.default_rng(1).normal(0.001, 0.01, 250), index=pd.bdate_range("2021-01-01", periods=250))
    out = S.block_bootstrap_diff(x, x, 252, n_boot=300, statistics=S.ALL_STATISTICS)
    for name in S.ALL_STATISTICS:
        assert out[name]["diff"] == 0.0 and not out[name]["significant"]
    with pytest.raises(ConfigError, match="statistic must be one of"):
        S.block_bootstrap_diff(x, x, 252, statistics=("calmar",))


# ----------------------------------------------------------------------------- cost replay


def _small_mvo_config():
    """Three synthetic assets 2019-2021, half-year folds from 2020-07, one MVO strategy."""
    return parse_config({"data": {"source": "synthetic", "tickers": ["BTC-USD", "SPY", "GLD"], "start": "2019-01-01",
                                  "end": "2021-12-31"},
                         "split": {"folds": {"first_test": "2020-07-01", "length": "half", "gap": 2}},
                         "strategies": {"mvo": {"kind": "mvo"}}})


def test_replaying_decided_weights_equals_running_at_that_cost():
    """The study's higher cost levels replay the weights decided at the first: the same as
    running the strategy at that cost directly, because a decision depends on prices only."""
    from bt_lstm_mvo.allocators.replay import ReplayAllocator
    from bt_lstm_mvo.experiment.run import analyzer_specs, market_for, run_backtest, split_for

    cfg = _small_mvo_config()
    market = market_for(cfg)
    start, folds = split_for(cfg, market.index)
    spec = cfg.strategies["mvo"]
    an = analyzer_specs(cfg, start, folds)
    cheap = run_backtest(market, "mvo", spec, cfg.broker, start, analyzers=an, folds=folds)
    dear = cfg.broker.model_copy(update={"commission": 0.005})
    direct = run_backtest(market, "mvo", spec, dear, start, analyzers=an, folds=folds)
    replay = run_backtest(market, "mvo", spec, dear, start, analyzers=an, folds=folds,
                          allocator=ReplayAllocator(cheap.weights_target))
    assert replay.values.equals(direct.values)
    assert replay.weights_target.equals(direct.weights_target)
    assert replay.metrics() == direct.metrics()
    assert direct.metrics()["commission_pct"] > cheap.metrics()["commission_pct"]
    with pytest.raises(AllocationError, match="no decision recorded"):
        ReplayAllocator(cheap.weights_target.iloc[:3]).allocate(market.closes().iloc[:600])


# ----------------------------------------------------------------------------- config


@pytest.mark.parametrize("raw, message", [
    ({"mode": "study"}, "mode 'study' needs a study section"),
    ({"study": {"universes": {"u": ["SPY", "GLD"]}}}, "mode 'study' needs a study section"),
    ({"mode": "study", "study": {"universes": {"u": ["SPY", "GLD"]}}, "split": {"train_fraction": 0.7}},
     "needs split.folds"),
    ({"mode": "study", "study": {"universes": {"u": ["SPY"]}}}, "at least two distinct tickers"),
    ({"mode": "study", "study": {"universes": {"u": ["SPY", "GLD"]}, "commissions": [0.001, 0.001]}},
     "commissions must be distinct"),
    ({"mode": "study", "study": {"universes": {"u": ["SPY", "GLD"]}, "claims": {"mvo": "mv"}}},
     "study.claims.mvo: 'mv' is not a strategy"),
    ({"mode": "study", "study": {"universes": {"u": ["SPY", "GLD"]}, "comissions": [0.001]}},
     "did you mean 'commissions'"),
])
def test_bad_study_configs_are_clear_errors(raw, message):
    base = {"split": {"folds": {"first_test": "2021-01-01"}},
            "strategies": {"lstm": {"kind": "lstm"}, "mvo": {"kind": "mvo"}, "equal_weight": {"kind": "equal_weight"}}}
    with pytest.raises(ConfigError, match=message):
        parse_config({**base, **raw})


# ----------------------------------------------------------------------------- end to end

STUDY = """
name: tiny-study
mode: study
description: a small synthetic study
data: {source: synthetic, start: 2019-01-01, end: 2022-06-30}
split:
  folds: {first_test: 2021-01-01, length: half, gap: 2}
strategies:
  lstm: {kind: lstm, seeds: [0, 1], params: {epochs: 2, window: 10, hidden_size: 8}}
  lstm_high: {kind: lstm, seeds: [0, 1], params: {epochs: 2, window: 10, hidden_size: 8, lambda_penalty: 50}}
  mvo: {kind: mvo}
  equal_weight: {kind: equal_weight}
buy_and_hold_benchmarks: false
study:
  universes:
    a: [BTC-USD, SPY, GLD]
    b: [ETH-USD, NVDA, SPY]
  commissions: [0.001, 0.01]
  claims: {lstm_high_lambda: lstm_high}
  n_boot: 200
  workers: 2
"""


@pytest.mark.slow
def test_a_small_study_end_to_end(tmp_path):
    from bt_lstm_mvo.experiment.cli import main

    cfg = tmp_path / "study.yaml"
    cfg.write_text(STUDY)
    out = tmp_path / "out"
    assert main([str(cfg), "--out", str(out), "--quiet"]) == 0
    res = json.loads((out / "results.json").read_text())
    for name in ("report.md", "report.html", "configurations.csv", "study_distributions.png", "study_seed_spread.png"):
        assert (out / name).is_file(), name
    recs = res["records"]
    assert len(recs) == 2 * (2 + 2 + 1 + 1) and all(r["status"] == "ok" for r in recs)
    a = res["analysis"]
    assert a["n_trials"] == len(recs) * 2 and a["order_failures"] == 0
    for r in recs:
        cheap, dear = r["levels"]["0.001"], r["levels"]["0.01"]
        assert dear["metrics"]["commission_pct"] > cheap["metrics"]["commission_pct"]
        assert dear["metrics"]["total_return"] < cheap["metrics"]["total_return"]
        # every fold's model was fitted only on bars before the fold, gap included
        for fit, fold in zip(r["fits"], r["plan"]):
            assert fit["date"] == fold["decide"] and fit["last"] == fold["train_last"] < fold["test_first"]
    plan = a["plans"]["a"]
    assert [f["test_first"][:7] for f in plan] == ["2021-01", "2021-07", "2022-01"]
    for c in a["claims"]:
        assert c["cases"] == 2 * len(plan)
        if c["not_significant"] is not None:
            assert c["holds"] + c["fails"] + c["not_significant"] == c["cases"]
    # the claims are computed from the records: claim 1's direction count from the fold returns
    lv = "0.001"
    for t in (t for t in a["tests"] if t["claim"] == "1" and t["cost"] == 0.001):
        lstm = [r for r in recs if r["universe"] == t["universe"] and r["strategy"] == "lstm"]
        mvo = next(r for r in recs if r["universe"] == t["universe"] and r["strategy"] == "mvo")
        fold = next(f for f in a["plans"][t["universe"]] if f["name"] == t["fold"])
        daily = pd.concat([pd.Series(r["levels"][lv]["returns"]) for r in lstm], axis=1).mean(axis=1)
        inside = daily[(daily.index >= fold["test_first"]) & (daily.index <= fold["test_last"])]
        mvo_fold = mvo["levels"][lv]["folds"][t["fold"]]["total_return"]
        assert t["diff"] == pytest.approx(float(np.prod(1 + inside) - 1) - mvo_fold, abs=1e-9)
    md = (out / "report.md").read_text()
    assert "the paper's claims, tested" in md and "deflated Sharpe" in md


@pytest.mark.slow
def test_the_study_runs_unchanged_on_ray():
    """The same study on a local Ray instance and on loky processes gives the same analysis."""
    pytest.importorskip("ray", reason="ray is in requirements-dev.txt; pip install -r requirements-dev.txt")
    import yaml

    from bt_lstm_mvo.experiment.study import run_study

    raw = yaml.safe_load(STUDY)
    tiny = {"epochs": 1, "window": 10, "hidden_size": 4}
    raw["strategies"] = {"lstm": {"kind": "lstm", "seeds": [0], "params": tiny},
                         "mvo": {"kind": "mvo"}, "equal_weight": {"kind": "equal_weight"}}
    raw["study"]["claims"] = {}
    raw["study"]["universes"] = {"a": ["BTC-USD", "SPY", "GLD"]}
    cfg = parse_config(raw)
    loky, ray = run_study(cfg, backend="loky"), run_study(cfg, backend="ray")
    assert ray["backend"] == "ray" and all(r["status"] == "ok" for r in ray["records"])
    assert ray["analysis"]["claims"] == loky["analysis"]["claims"]
    assert ray["analysis"]["deflated"] == loky["analysis"]["deflated"]


@pytest.mark.realdata
def test_the_shipped_robustness_study_covers_what_it_promises(data_dir):
    """configs/robustness.yaml: >= 10 LSTM seeds, 3 universes, 2 cost levels, and folds that
    together cover 2021-2024 of the real data in every universe."""
    from pathlib import Path

    from bt_lstm_mvo.experiment.config import load_config
    from bt_lstm_mvo.experiment.run import market_for, split_for
    from bt_lstm_mvo.experiment.study import expand_study

    cfg = load_config(Path(__file__).resolve().parent.parent / "configs" / "robustness.yaml")
    st = cfg.study
    assert len(st.universes) >= 3 and len(st.commissions) >= 2 and len(cfg.strategies["lstm"].seeds) >= 10
    assert {"mvo", "mvo_hold", "equal_weight"} <= set(cfg.strategies) and cfg.buy_and_hold_benchmarks
    tasks = expand_study(cfg, data_dir)
    assert len(tasks) == sum(10 + 5 + 3 + len(t) for t in st.universes.values())
    for name, tickers in st.universes.items():
        market = market_for(cfg.model_copy(update={"data": cfg.data.model_copy(update={"tickers": tickers})}), data_dir)
        _, folds = split_for(cfg, market.index)
        plan = folds[0]
        assert plan[0].dates[3] <= pd.Timestamp("2021-01-05") and plan[-1].dates[4] >= pd.Timestamp("2024-12-27"), name
        assert [f.dates[3].year for f in plan] == [2021, 2022, 2023, 2024]


# ----------------------------------------------------------------------------- cost sensitivity


def test_break_even_interpolates_where_the_advantage_first_vanishes():
    from bt_lstm_mvo.experiment.study import _break_even

    costs = [0.0, 0.001, 0.002, 0.005]
    assert _break_even(costs, [0.3, 0.1, -0.1, -0.4]) == {"cost": pytest.approx(0.0015), "status": "vanishes"}
    assert _break_even(costs, [-0.1, -0.2, -0.3, -0.4])["status"] == "never ahead"
    assert _break_even(costs, [0.3, 0.2, 0.1, 0.05]) == {"cost": None, "status": "ahead at every level up to 0.005"}
    assert _break_even(costs, [-0.1, 0.2, 0.1, 0.0])["status"] == "behind at 0, ahead from 0.001"
    assert _break_even(costs, [0.2, 0.1, 0.0, -0.1])["cost"] == pytest.approx(0.002)


@pytest.mark.slow
def test_a_cost_study_prices_the_same_decisions_under_every_cost_model(tmp_path):
    """Cost levels and the realistic preset replay the weights decided at the first level; the
    sensitivity rows are the records' own metrics and the break-even lies where the difference
    changes sign."""
    import yaml

    from bt_lstm_mvo.experiment.cli import main

    raw = yaml.safe_load(STUDY)
    raw["strategies"] = {"lstm": {"kind": "lstm", "seeds": [0, 1], "params": {"epochs": 2, "window": 10,
                                                                              "hidden_size": 8}},
                         "mvo": {"kind": "mvo"}, "equal_weight": {"kind": "equal_weight"}}
    raw["study"].update(universes={"a": ["BTC-USD", "SPY", "GLD"]}, commissions=[0.001, 0.0, 0.005, 0.02],
                        cost_presets=["realistic"], claims={})
    cfg = tmp_path / "costs.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    assert main([str(cfg), "--out", str(out), "--quiet"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert (out / "study_costs.png").is_file()
    c = res["analysis"]["costs"]
    assert c["levels"] == [0.0, 0.001, 0.005, 0.02] and c["presets"] == ["realistic"]
    recs = [r for r in res["records"] if r["status"] == "ok"]
    for r in recs:
        real = r["presets"]["realistic"]
        assert real["costs"]["spread"] > 0 and real["order_failures"] == 0
        returns = [r["levels"][repr(x)]["metrics"]["total_return"] for x in c["levels"]]
        assert returns == sorted(returns, reverse=True)  # the same decisions cost more at every level
    for row in c["rows"]:
        runs = [r for r in recs if r["strategy"] == row["strategy"]]
        key = ("presets", row["cost"]) if isinstance(row["cost"], str) else ("levels", repr(row["cost"]))
        assert row["total_return"] == pytest.approx(np.mean([r[key[0]][key[1]]["metrics"]["total_return"]
                                                             for r in runs]), abs=1e-12)
    for b in c["break_even"]:
        diffs = [b["diff"][repr(x)] for x in c["levels"]]
        if b["status"] == "vanishes":
            k = next(i for i, d in enumerate(diffs) if d <= 0)
            assert diffs[k - 1] > 0 and c["levels"][k - 1] <= b["cost"] <= c["levels"][k]
        elif b["status"] == "never ahead":
            assert all(d <= 0 for d in diffs[:1])
    md = (out / "report.md").read_text()
    assert "Cost sensitivity - a" in md and "Break-even costs" in md


def test_the_study_replay_gives_the_same_numbers_on_the_array_engine():
    """A study's replayed cost levels (ReplayAllocator) on ``engine: array`` equal Backtrader's."""
    from bt_lstm_mvo.allocators.replay import ReplayAllocator
    from bt_lstm_mvo.experiment.run import analyzer_specs, market_for, run_backtest, split_for

    cfg = _small_mvo_config()
    market = market_for(cfg)
    start, folds = split_for(cfg, market.index)
    spec, an = cfg.strategies["mvo"], analyzer_specs(cfg, start, folds)
    first = run_backtest(market, "mvo", spec, cfg.broker, start, analyzers=an, folds=folds)
    dear = cfg.broker.model_copy(update={"commission": 0.005})
    runs = {e: run_backtest(market, "mvo", spec, dear, start, analyzers=an, folds=folds, engine=e,
                            allocator=ReplayAllocator(first.weights_target)) for e in ("backtrader", "array")}
    a, b = runs["backtrader"], runs["array"]
    assert abs(b.values.iloc[-1] / a.values.iloc[-1] - 1) < 1e-8
    assert b.weights_target.equals(a.weights_target)
    for k, v in a.metrics().items():
        assert b.metrics()[k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
