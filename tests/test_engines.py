"""The array engine (engine/) against the Backtrader engine: the same runs, the same numbers.

* every broker-realism model (the grid of tests/test_broker_realism.py), at the close and the
  next open, on both calendars, with interest: final value to 1e-8, every bar's value, the
  fills, the costs and the unfilled remainders;
* every shipped config (LSTM epochs cut to 1 so the suite stays fast; everything else as
  shipped) run by the runner on both engines: the same final value to 1e-8, identical target
  weights and every analyzer's figures to 1e-9;
* the engine's own pieces against independent arithmetic (the flat post-cost value against a
  root finder, the schedules against ``strategies/schedule.py``), its look-ahead (changing the
  prices after a bar leaves every decision and value up to it unchanged) and its independence
  (it imports neither Backtrader nor the strategies).
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import backtrader as bt
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

from bt_lstm_mvo.allocators.base import Allocator
from bt_lstm_mvo.allocators.mvo import MVOAllocator
from bt_lstm_mvo.allocators.naive import EqualWeight, FixedWeights
from bt_lstm_mvo.engine import bars_from_frames, decide, simulate
from bt_lstm_mvo.engine.costs import flat_post_value, flat_post_value_sorted
from bt_lstm_mvo.engine.decide import due_rows
from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.experiment.config import CostsConfig, load_config
from bt_lstm_mvo.experiment.run import run_experiment
from bt_lstm_mvo.strategies.base import AllocationStrategy
from bt_lstm_mvo.strategies.broker import CashInterestBroker
from bt_lstm_mvo.strategies.commission import AssetCommission, ProportionalCommission
from bt_lstm_mvo.strategies.costs import CostModel
from bt_lstm_mvo.strategies.schedule import is_due
from tests.test_broker_realism import _GRID, WEIGHTS, _market, _setup

REPO = Path(__file__).resolve().parents[1]


def _cerebro(market, allocator, execution="close", models=None, commission=0.001, rate=0.0, **params):
    cerebro = bt.Cerebro(cheat_on_open=execution == "next_open", stdstats=False)
    if rate:
        cerebro.broker = CashInterestBroker(rate=rate)
    market.add_to(cerebro)
    cerebro.broker.setcash(1_000_000.0)
    if models is None:
        cerebro.broker.addcommissioninfo(ProportionalCommission(commission=commission))
    else:
        for name in market.tickers:
            cerebro.broker.addcommissioninfo(AssetCommission(**models[name]), name=name)
    cerebro.addstrategy(AllocationStrategy, allocator=allocator, execution=execution, **params)
    return cerebro.run()[0]


def _engine(market, allocator, execution="close", models=None, commission=0.001, rate=0.0, schedule="daily",
            unfilled="carry", cash_buffer=0.0, drift_threshold=None, trade_start=None, **fit):
    bars = bars_from_frames(market.frames)
    decisions = decide(bars, allocator, schedule=schedule, trade_start=trade_start, **fit)
    kw = {"commission": commission} if models is None else {
        "models": [CostModel(**models[n]).describe() for n in market.tickers]}
    return decisions, simulate(bars, decisions, execution=execution, interest_rate=rate, unfilled=unfilled,
                               cash_buffer=cash_buffer, drift_threshold=drift_threshold, **kw)


def _fills(strat) -> pd.DataFrame:
    return pd.DataFrame(list(strat.fills)).sort_values(["date", "asset"]).reset_index(drop=True)


@pytest.mark.realdata
@pytest.mark.parametrize(("calendar", "case", "execution"), _GRID)
def test_array_engine_matches_backtrader_for_each_cost_model(data_dir, calendar, case, execution):
    market = _market(data_dir, calendar)
    models, rate, once, buffer = _setup(case)
    schedule = "never" if once else "daily"
    strat = _cerebro(market, FixedWeights(WEIGHTS), execution, models=models, rate=rate, schedule=schedule,
                     cash_buffer=buffer)
    _, sim = _engine(market, FixedWeights(WEIGHTS), execution, models=models, rate=rate, schedule=schedule,
                     cash_buffer=buffer)
    bars = np.array([b["value"] for b in strat.bars])
    print(f"{calendar} {case} {execution}: backtrader {bars[-1]:,.4f} array {sim.final_value:,.4f}")
    assert abs(sim.final_value / bars[-1] - 1) < 1e-8
    assert np.max(np.abs(sim.values / bars - 1)) < 1e-8
    ours = sim.fills.frame(sim.bars).sort_values(["date", "asset"]).reset_index(drop=True)
    theirs = _fills(strat)
    assert len(ours) == len(theirs) > 0
    assert list(ours["asset"]) == list(theirs["asset"]) and list(ours["date"]) == list(theirs["date"])
    np.testing.assert_allclose(ours["size"], theirs["size"], rtol=1e-7, atol=1e-9)
    for part in ("fee", "spread", "impact"):
        assert ours[part].sum() == pytest.approx(theirs[part].sum(), rel=1e-7, abs=1e-9)
    assert len(sim.unfilled) == len(strat.unfilled)
    assert sim.interest_paid == pytest.approx(strat.broker.interest_paid if rate else 0.0, rel=1e-8, abs=1e-9)
    assert len(sim.rebalances["row"]) == len(strat.rebalances)


@pytest.mark.realdata
@pytest.mark.parametrize("execution", ["close", "next_open"])
def test_schedules_fits_drift_and_buffer_match_backtrader(data_dir, execution):
    market = _market(data_dir, "intersection")
    start = market.index[700]
    kw = dict(schedule="weekly", drift_threshold=0.02, cash_buffer=0.01, trade_start=start)
    strat = _cerebro(market, MVOAllocator(objective="max_sharpe"), execution, refit=120, fit_window=400, fit_gap=3,
                     **kw)
    decisions, sim = _engine(market, MVOAllocator(objective="max_sharpe"), execution, refit=120, fit_window=400,
                             fit_gap=3, **kw)
    values = np.array([b["value"] for b in strat.bars])
    assert abs(sim.final_value / values[-1] - 1) < 1e-8
    assert [f["date"] for f in strat.fits] == [f["date"] for f in decisions.fits]
    assert [(f["first"], f["last"], f["rows"]) for f in strat.fits] == \
        [(f["first"], f["last"], f["rows"]) for f in decisions.fits]
    target = np.array([list(r["target"].values()) for r in strat.rebalances])
    rows = sim.rebalances["row"]
    assert [sim.bars.dates[r].date() for r in rows] == [r["date"] for r in strat.rebalances]
    assert np.array_equal(sim.rebalances["target"], target)  # the same weights, bit for bit
    assert len(rows) < len(decisions.rows)  # the drift threshold skipped some due rebalances


class _Flaky(Allocator):
    """Fails on every 7th call (a solver that does not converge), else equal weight."""

    lookback = 5

    def __init__(self):
        self.calls = 0

    def allocate(self, history):
        self.calls += 1
        if self.calls % 7 == 0:
            raise ArithmeticError("no convergence")
        return EqualWeight().allocate(history)


@pytest.mark.realdata
@pytest.mark.parametrize("policy", ["hold", "cash", "equal_weight"])
def test_failure_policies_match_backtrader(data_dir, policy):
    market = _market(data_dir, "intersection")
    strat = _cerebro(market, _Flaky(), on_failure=policy, schedule=3)
    decisions, sim = _engine(market, _Flaky(), on_failure=policy, schedule=3)
    assert [(f["date"], f["used"]) for f in strat.fallbacks] == [(f["date"], f["used"]) for f in decisions.fallbacks]
    assert len(decisions.fallbacks) > 10
    assert abs(sim.final_value / strat.bars[-1]["value"] - 1) < 1e-8


def _quick(path: Path, engine: str, preset: str | None = None):
    cfg = load_config(path)
    if preset is not None:  # a study's cost preset, as the runs of its cost_presets use it
        cfg = cfg.model_copy(update={"broker": cfg.broker.model_copy(update={"costs": CostsConfig(preset=preset)})})
    strategies = {}
    for name, spec in cfg.strategies.items():
        seeds = spec.seeds[:1] if spec.seeds else spec.seeds
        params = {**spec.params, "epochs": 1} if spec.kind == "lstm" else spec.params
        strategies[name] = spec.model_copy(update={"params": params, "seeds": seeds})
    mode = "backtest" if cfg.mode == "study" else cfg.mode  # a study's runs are backtests of its strategies
    return cfg.model_copy(update={"strategies": strategies, "mode": mode, "study": None, "sweep": None,
                                  "engine": engine})


def _close(a, b, path=""):
    """Every number of two analyzer outputs equal to 1e-9 (relative), everything else equal."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert isinstance(b, float), path
        assert (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9 * max(1.0, abs(a)), (path, a, b)
    else:
        assert a == b, (path, a, b)


SHIPPED = sorted(p.name for p in (REPO / "configs").glob("*.yaml")) + ["config.yaml"]
#: configs whose study also runs under per-asset cost presets: those runs too
PRESETS = [(n, p) for n in SHIPPED if n != "config.yaml"
           for p in (load_config(REPO / "configs" / n).study.cost_presets
                     if load_config(REPO / "configs" / n).study is not None else [])]


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize(("name", "preset"), [(n, None) for n in SHIPPED if n != "paper-replication.yaml"] + PRESETS)
def test_every_shipped_config_gives_the_same_results_on_both_engines(data_dir, name, preset):
    path = REPO / ("config.yaml" if name == "config.yaml" else f"configs/{name}")
    runs = {e: run_experiment(_quick(path, e, preset), data_dir=data_dir, progress=False)
            for e in ("backtrader", "array")}
    bt_res, arr_res = runs["backtrader"], runs["array"]
    pairs = [(bt_res.runs[n][0], arr_res.runs[n][0]) for n in bt_res.runs]
    pairs += [(bt_res.benchmarks[t], arr_res.benchmarks[t]) for t in bt_res.benchmarks]
    for a, b in pairs:
        rel = b.values.iloc[-1] / a.values.iloc[-1] - 1
        print(f"{name} {a.name}: final {a.values.iloc[-1]:,.4f} vs {b.values.iloc[-1]:,.4f} (rel {rel:.1e})")
        assert abs(rel) < 1e-8
        assert a.weights_target.index.equals(b.weights_target.index)
        assert np.array_equal(a.weights_target.to_numpy(), b.weights_target.to_numpy())  # identical weights
        _close(a.analyzers, b.analyzers, a.name)
        assert len(a.fills) == len(b.fills)
        pd.testing.assert_frame_equal(a.positions, b.positions, rtol=1e-9, check_freq=False)


def test_the_replication_config_has_no_engine_to_choose():
    cfg = load_config(REPO / "configs" / "paper-replication.yaml")
    with pytest.raises(Exception, match="notebook_replication replays the reference notebook"):
        type(cfg).model_validate({**cfg.model_dump(by_alias=True), "engine": "array"})


@pytest.mark.parametrize("seed", range(20))
def test_flat_post_value_is_the_root(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    h = rng.uniform(0, 100, n) * (rng.random(n) > 0.3)
    w = rng.dirichlet(np.ones(n)) * rng.uniform(0.5, 1.0) * (rng.random(n) > 0.2)
    cash = float(rng.uniform(0, 100))
    value, rate = cash + h.sum(), float(rng.choice([0.0, 0.0005, 0.001, 0.01, 0.2]))

    def f(x):
        return x + rate * np.abs(w * x - h).sum() - value

    want = brentq(f, 0.0, value * 2 + 1, xtol=1e-14, rtol=1e-15)
    assert flat_post_value(value, h, w, rate) == pytest.approx(want, rel=1e-13, abs=1e-12)
    assert flat_post_value_sorted(value, h, w, rate) == pytest.approx(want, rel=1e-13, abs=1e-12)


@pytest.mark.parametrize("schedule", ["daily", "weekly", "monthly", "quarterly", "never", 1, 5, 21])
def test_schedules_agree_with_the_strategy_rule(schedule):
    dates = pd.bdate_range("2021-12-20", periods=400).delete([3, 4, 50, 51, 52, 200])
    first = 10
    last, since, want = None, 0, []
    for i in range(first, len(dates)):
        since += 1
        if is_due(schedule, dates[i].date(), last, since):
            want.append(i)
            last, since = dates[i].date(), 0
    assert due_rows(dates, first, schedule).tolist() == want


def test_a_decision_never_depends_on_later_prices():
    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2020-01-01", periods=300)
    frames = {}
    for t in ("A", "B", "C"):
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, len(idx))))
        frames[t] = pd.DataFrame({"Open": close, "High": close * 1.01, "Low": close * 0.99, "Close": close,
                                  "Volume": 1e6}, index=idx)
    cut = 200
    moved = {t: f.copy() for t, f in frames.items()}
    for f in moved.values():
        f.iloc[cut + 1:, :4] *= np.linspace(0.5, 3.0, len(f) - cut - 1)[:, None]
    out = []
    for fr in (frames, moved):
        bars = bars_from_frames(fr)
        d = decide(bars, MVOAllocator(objective="min_volatility"), schedule="weekly", trade_start=idx[100], refit=20)
        out.append((d, simulate(bars, d, commission=0.001)))
    (d0, s0), (d1, s1) = out
    past = d0.rows <= cut
    assert past.sum() > 10 and np.array_equal(d0.rows[past], d1.rows[past])
    assert np.array_equal(d0.targets[past], d1.targets[past])
    assert np.array_equal(s0.values[: cut + 1], s1.values[: cut + 1])
    assert not np.array_equal(d0.targets[~past], d1.targets[~past])  # the change was seen once it happened


def test_the_engine_imports_neither_backtrader_nor_the_strategies():
    code = ("import sys, bt_lstm_mvo.engine; "
            "bad = [m for m in sys.modules if m == 'backtrader' or m.startswith('bt_lstm_mvo.strategies')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bad_engine_input_is_a_plugin_error():
    idx = pd.bdate_range("2020-01-01", periods=5)
    good = pd.DataFrame({"Open": 1.0, "High": 1.0, "Low": 1.0, "Close": 1.0, "Volume": 1.0}, index=idx)
    with pytest.raises(Exception, match="not on the first asset's dates"):
        bars_from_frames({"A": good, "B": good.iloc[1:]})
    bad = good.copy()
    bad.iloc[2, 3] = np.nan
    with pytest.raises(Exception, match="feed 'A': close is nan"):
        bars_from_frames({"A": bad})
    bars = bars_from_frames({"A": good})
    d = decide(bars, EqualWeight())
    with pytest.raises(ConfigError, match="execution: must be one of"):
        simulate(bars, d, execution="at_noon")
    with pytest.raises(ConfigError, match="lacks"):
        simulate(bars, d, models=[{"commission": 0.001}])
    with pytest.raises(ConfigError, match="not both"):
        decide(bars, EqualWeight(), refit=5, refit_dates=["2020-01-03"])
    with pytest.raises(ConfigError, match="fit_gap: must be an integer >= 0"):
        decide(bars, EqualWeight(), fit_gap=-1)
