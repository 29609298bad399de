"""The kind registry: a user's own allocator (defined right here) run through the runner from a
config, validated like the built-ins; the history check comes from the allocator itself; one
checkpoint + refit rule."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

import runner
from bt_lstm_mvo.allocators import Allocator
from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.experiment.config import parse_config
from bt_lstm_mvo.experiment.registry import build_allocator, import_allocator_class


class TopMomentum(Allocator):
    """Everything in the asset with the best return over the last ``lookback_bars`` bars."""

    def __init__(self, lookback_bars: int = 20):
        if not isinstance(lookback_bars, int) or lookback_bars < 1:
            raise ValueError(f"lookback_bars must be a positive integer, got {lookback_bars!r}")
        self.lookback_bars = lookback_bars
        self.lookback = lookback_bars + 1
        self.calls = 0

    def min_history_rows(self, n_assets: int) -> int:
        return self.lookback_bars + 1

    def allocate(self, history: pd.DataFrame) -> pd.Series:
        self.calls += 1
        change = history.iloc[-1] / history.iloc[-self.lookback] - 1.0
        w = pd.Series(0.0, index=history.columns)
        w[change.idxmax()] = 1.0
        return w


class NotAnAllocator:
    pass


BASE = {
    "data": {"source": "synthetic", "tickers": ["BTC-USD", "SPY", "GLD"], "start": "2019-01-01",
             "end": "2020-06-30", "seed": 5},
    "split": {"test_start": "2020-01-02"},
    "buy_and_hold_benchmarks": False,
    "output": {"plots": False},
}


def _cfg(strategy: dict, **extra) -> dict:
    return {**BASE, "strategies": {"mom": strategy}, **extra}


def _run(tmp_path, cfg) -> tuple[int, dict | None]:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    rc = runner.main([str(path), "--out", str(out), "--quiet"])
    return rc, (json.loads((out / "results.json").read_text()) if rc == 0 else None)


def test_user_allocator_runs_through_the_runner(tmp_path):
    rc, res = _run(tmp_path, _cfg({"kind": "python", "class": "tests.test_registry:TopMomentum",
                                   "params": {"lookback_bars": 10}}))
    assert rc == 0
    run = res["strategies"]["mom"]["runs"][0]
    assert run["allocator"] == {"allocator": "TopMomentum"}
    targets = run["analyzers"]["portfolio"]["final_target"]
    assert sorted(targets.values()) == [0.0, 0.0, 1.0]  # all-in one asset, as the class decides
    assert res["strategies"]["mom"]["metrics"]["total_return"] is not None
    assert res["config"]["strategies"]["mom"]["class"] == "tests.test_registry:TopMomentum"


def test_user_allocator_decides_the_same_as_called_directly():
    spec = parse_config(_cfg({"kind": "python", "class": "tests.test_registry.TopMomentum",
                              "params": {"lookback_bars": 3}})).strategies["mom"]
    alloc = build_allocator(spec)
    assert type(alloc) is TopMomentum and alloc.lookback_bars == 3
    prices = pd.DataFrame({"A": [1.0, 1.0, 1.0, 1.0], "B": [1.0, 1.1, 1.2, 1.3]})
    assert alloc.allocate(prices).to_dict() == {"A": 0.0, "B": 1.0}


@pytest.mark.parametrize("strategy, message", [
    ({"kind": "python", "class": "tests.nowhere:X"}, "strategies.mom.class: cannot import module 'tests.nowhere'"),
    ({"kind": "python", "class": "tests.test_registry:Missing"}, "has no attribute 'Missing'"),
    ({"kind": "python", "class": "tests.test_registry:NotAnAllocator"}, "not a subclass of bt_lstm_mvo.allocators"),
    ({"kind": "python", "class": "justaname"}, "is not an import path 'module:Class'"),
    ({"kind": "python", "class": "tests.test_registry:TopMomentum", "params": {"lookback": 3}},
     "params ['lookback'] do not fit its __init__"),
    ({"kind": "python", "class": "tests.test_registry:TopMomentum", "params": {"lookback_bars": 0}},
     "ValueError: lookback_bars must be a positive integer, got 0"),
    ({"kind": "python"}, "kind 'python' needs 'class'"),
    ({"kind": "mvo", "class": "tests.test_registry:TopMomentum"}, "'class' does not apply to kind 'mvo'"),
    ({"kind": "equal_weight", "weights": {"SPY": 1.0}}, "'weights' does not apply to kind 'equal_weight'"),
    ({"kind": "mvo", "seeds": [1, 2]}, "'seeds' does not apply to kind 'mvo'"),
    ({"kind": "fixed_weights", "weights": {"SPY": 2.0}}, "strategies.mom.weights: FixedWeights: weights sum to 2"),
])
def test_bad_kinds_and_classes_are_one_line_config_errors(strategy, message):
    with pytest.raises(ConfigError) as err:
        parse_config(_cfg(strategy))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_history_requirement_comes_from_the_allocator(tmp_path, capsys):
    cfg = _cfg({"kind": "python", "class": "tests.test_registry:TopMomentum", "params": {"lookback_bars": 400}})
    rc, _ = _run(tmp_path, cfg)
    assert rc == 2
    err = capsys.readouterr().err
    assert "strategies.mom: needs at least 401 training bars" in err


def test_lstm_history_requirement_is_what_fit_needs():
    """min_history_rows is the real boundary: fit succeeds with that many rows, fails with one fewer."""
    from bt_lstm_mvo.allocators.lstm import LSTMAllocator
    from bt_lstm_mvo.errors import DataError
    from tests.helpers import make_prices

    for extra in ({}, {"validation_fraction": 0.5}):
        alloc = LSTMAllocator(window=10, vol_window=7, rsi_period=5, rsi_warmup_bars=10, hidden_size=4, epochs=1,
                              device="cpu", **extra)
        need = alloc.min_history_rows(3)
        prices = make_prices(n_rows=need, n_assets=3)
        alloc.fit(prices)
        with pytest.raises(DataError, match="rows"):
            alloc.fit(prices.iloc[1:])


def test_import_allocator_class_accepts_both_spellings():
    assert import_allocator_class("tests.test_registry:TopMomentum") is TopMomentum
    assert import_allocator_class("tests.test_registry.TopMomentum") is TopMomentum


def test_fit_and_refit_rule():
    """The one rule: fit at the first trading bar unless pre-trained (fit=False, a checkpoint);
    refit every ``refit`` trading bars after the first either way."""
    import backtrader as bt

    from bt_lstm_mvo.feeds.market import load_market
    from bt_lstm_mvo.strategies.base import AllocationStrategy

    class Counting(TopMomentum):
        def fit(self, history):
            return self

    market = load_market(["BTC-USD", "SPY"], source="synthetic", start="2019-01-01", end="2019-12-31", seed=1)
    idx = market.index
    assert 251 <= len(idx) < 300  # so refits fall on bars 150, 200 and 250 only
    cases = {(True, None): [idx[100]], (False, None): [], (False, 50): [idx[150], idx[200], idx[250]],
             (True, 50): [idx[100], idx[150], idx[200], idx[250]]}
    for (fit, refit), expected in cases.items():
        cerebro = bt.Cerebro(stdstats=False)
        market.add_to(cerebro)
        cerebro.addstrategy(AllocationStrategy, allocator=Counting(lookback_bars=5), fit=fit, refit=refit,
                            trade_start=idx[100])
        strat = cerebro.run()[0]
        assert [pd.Timestamp(f["date"]) for f in strat.fits] == expected, (fit, refit)


def test_runner_checkpoint_skips_the_first_fit_and_still_refits(tmp_path):
    from bt_lstm_mvo.allocators.lstm import LSTMAllocator
    from bt_lstm_mvo.feeds.market import load_market

    tiny = {"window": 10, "vol_window": 7, "rsi_period": 5, "rsi_warmup_bars": 10, "hidden_size": 4, "epochs": 1,
            "device": "cpu"}
    market = load_market(["BTC-USD", "SPY", "GLD"], source="synthetic", start="2019-01-01", end="2020-06-30", seed=5)
    path = LSTMAllocator(**tiny).fit(market.closes().loc[:"2019-12-31"]).save(tmp_path / "model.pt")
    strategy = {"kind": "lstm", "checkpoint": str(path), "refit": 40}
    rc, res = _run(tmp_path, _cfg(strategy))
    assert rc == 0
    fits = res["strategies"]["mom"]["runs"][0]["fits"]
    assert fits and all(pd.Timestamp(f["date"]) > pd.Timestamp("2020-01-02") for f in fits)  # no first-bar fit
    assert len(fits) >= 2  # refits every 40 trading bars over the ~6 months of test
