"""A catalogue of bad inputs: every one gets one clear line, never a traceback, never a silently
changed result, never a path outside the folders the user named.

Each case asserts the exception class (or the runner's exit code 2), that the message is one
line, and that it names the file or field and the offending value. Classes: config (keys,
types, ranges, cross-field rules), YAML documents, CSV files, checkpoints, the command line and
output folders, the Python API (strategy params, allocator outputs, feeds, analyzers). The fault
cases (signals, concurrent runs, a full disk, data removed mid-run) are in
``tests/test_faults.py``. ``test_catalogue_size`` counts the cases.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import backtrader as bt
import numpy as np
import pandas as pd
import pytest
import torch
import yaml

import runner
from bt_lstm_mvo.allocators import Allocator
from bt_lstm_mvo.allocators.base import validate_weights
from bt_lstm_mvo.allocators.lstm import LSTMAllocator
from bt_lstm_mvo.analyzers import PaperMetrics, PortfolioWeights, RollingAlpha, SortinoRatio, StressWindow
from bt_lstm_mvo.errors import AllocationError, ConfigError, DataError, PluginError
from bt_lstm_mvo.experiment.config import load_config, parse_config
from bt_lstm_mvo.feeds.bt_feeds import add_frames
from bt_lstm_mvo.feeds.csv_source import load_csv_folder, read_yahoo_csv
from bt_lstm_mvo.feeds.market import load_market
from bt_lstm_mvo.strategies.base import AllocationStrategy
from bt_lstm_mvo.strategies.commission import ProportionalCommission
from bt_lstm_mvo.strategies.mvo import MVOStrategy
from bt_lstm_mvo.strategies.naive import EqualWeightStrategy

COUNTS: dict[str, int] = {}


def _count(kind: str, cases: list) -> list:
    COUNTS[kind] = COUNTS.get(kind, 0) + len(cases)
    return cases


def _one_line(msg: str, *fragments: str) -> None:
    assert "\n" not in msg.strip(), msg
    assert "Traceback" not in msg
    for f in fragments:
        assert f in msg, f"{f!r} not in {msg!r}"


BASE = {
    "name": "bad",
    "data": {"source": "synthetic", "tickers": ["BTC-USD", "SPY"], "start": "2020-01-01", "end": "2020-12-31"},
    "strategies": {"ew": {"kind": "equal_weight"}},
    "buy_and_hold_benchmarks": False,
    "output": {"plots": False},
}


def _with(path: str, value, base=BASE) -> dict:
    cfg = copy.deepcopy(base)
    node = cfg
    keys = path.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    if value is _DELETE:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return cfg


_DELETE = object()

# ------------------------------------------------------------------------------------- config

CONFIG_CASES = _count("config", [
    # unknown keys
    (_with("data.tikers", ["SPY"]), ["data.tikers", "unknown key", "tickers"]),
    (_with("brokr", {}), ["brokr", "unknown key", "broker"]),
    (_with("strategies.ew.shedule", "daily"), ["strategies.ew.shedule", "schedule"]),
    (_with("analysis.sortino", "paper"), ["analysis.sortino", "unknown key"]),
    (_with("output.plot", False), ["output.plot", "plots"]),
    (_with("runtime.threads", 2), ["runtime.threads", "torch_threads"]),
    (_with("split.test_begin", "2020-06-01"), ["split.test_begin", "test_start"]),
    # wrong types and loose YAML scalars
    (_with("broker.cash", "lots"), ["broker.cash", "'lots'"]),
    (_with("broker.cash", float("inf")), ["broker.cash", "inf"]),
    (_with("broker.cash", float("nan")), ["broker.cash", "nan"]),
    (_with("broker.cash", True), ["broker.cash", "boolean", "True"]),
    (_with("broker.commission", "0.1%"), ["broker.commission", "'0.1%'"]),
    (_with("broker.commission", float("inf")), ["broker.commission", "inf"]),
    (_with("broker.cash_buffer", -0.1), ["broker.cash_buffer", "-0.1"]),
    (_with("broker.cash_buffer", 1.5), ["broker.cash_buffer", "1.5"]),
    (_with("data.start", 0), ["data.start", "date", "0"]),
    (_with("data.end", 20201231), ["data.end", "20201231"]),
    (_with("data.start", "2020-13-45"), ["data.start", "2020-13-45"]),
    (_with("data.start", True), ["data.start", "True"]),
    (_with("data.seed", True), ["data.seed", "True"]),
    (_with("data.seed", "x"), ["data.seed", "'x'"]),
    (_with("data.tickers", "SPY"), ["data.tickers", "'SPY'"]),
    (_with("data.tickers", []), ["data.tickers", "[]"]),
    (_with("data.tickers", [1, 2]), ["data.tickers", "1"]),
    (_with("data.tickers", ["SPY", "SPY"]), ["tickers must be distinct", "SPY"]),
    (_with("data.calendar", "weekdays"), ["data.calendar", "'weekdays'"]),
    (_with("data.source", "bloomberg"), ["data.source", "'bloomberg'"]),
    (_with("data.max_daily_move", 0.5), ["data.max_daily_move", "0.5"]),
    (_with("data.end", "2019-01-01"), ["end (2019-01-01) must be after start (2020-01-01)"]),
    (_with("strategies.ew.schedule", 0), ["strategies.ew.schedule", "0"]),
    (_with("strategies.ew.schedule", True), ["strategies.ew.schedule", "True"]),
    (_with("strategies.ew.schedule", "fortnightly"), ["strategies.ew.schedule", "'fortnightly'"]),
    (_with("strategies.ew.schedule", -3), ["strategies.ew.schedule", "-3"]),
    (_with("strategies.ew.drift_threshold", -0.1), ["strategies.ew.drift_threshold", "-0.1"]),
    (_with("strategies.ew.drift_threshold", 2), ["strategies.ew.drift_threshold", "2"]),
    (_with("strategies.ew.refit", 0), ["strategies.ew.refit", "0"]),
    (_with("strategies.ew.refit", True), ["strategies.ew.refit", "True"]),
    (_with("strategies.ew.fit_window", 1), ["strategies.ew.fit_window", "1"]),
    (_with("strategies.ew.on_failure", "ignore"), ["strategies.ew.on_failure", "'ignore'"]),
    (_with("strategies.ew.kind", "momentum"), ["strategies.ew.kind", "'momentum'"]),
    (_with("strategies.ew", "equal_weight"), ["strategies.ew", "'equal_weight'"]),
    (_with("strategies", []), ["strategies", "[]"]),
    (_with("strategies", {}), ["at least one strategy"]),
    (_with("analysis.periods_per_year", -252), ["analysis.periods_per_year", "-252"]),
    (_with("analysis.periods_per_year", float("inf")), ["analysis.periods_per_year", "inf"]),
    (_with("analysis.sortino_variant", "fancy"), ["analysis.sortino_variant", "'fancy'"]),
    (_with("analysis.alpha_windows", 0), ["analysis.alpha_windows", "0"]),
    (_with("analysis.alpha_pair", ["ew", "mvoo"]), ["analysis.alpha_pair", "'mvoo'"]),
    (_with("analysis.alpha_pair", ["ew", "ew"]), ["analysis.alpha_pair", "'ew'", "itself"]),
    (_with("analysis.alpha_pair", ["ew"]), ["analysis.alpha_pair", "['ew']"]),
    (_with("analysis.stress_windows", {"x": ["2022-12-31", "2022-01-01"]}), ["stress window 'x'", "before"]),
    (_with("analysis.stress_windows", {"x": [0, 1]}), ["stress window 'x'", "0"]),
    (_with("runtime.torch_threads", 0), ["runtime.torch_threads", "0"]),
    (_with("runtime.malloc_keep_mib", -1), ["runtime.malloc_keep_mib", "-1"]),
    (_with("runtime.malloc_keep_mib", 4096), ["runtime.malloc_keep_mib", "4096"]),
    (_with("mode", "live"), ["mode", "'live'"]),
    (_with("replication.seeds", []), ["replication.seeds", "[]"]),
    (_with("replication.epochs", 0), ["replication.epochs", "0"]),
    # names that would become paths
    (_with("name", "../../x"), ["name", "'../../x'", "not allowed"]),
    (_with("name", "/etc/evil"), ["name", "'/etc/evil'"]),
    (_with("name", ".."), ["name", "'..'"]),
    (_with("name", "a b"), ["name", "'a b'"]),
    (_with("name", ""), ["name", "''"]),
    (_with("name", "x" * 200), ["name", "xxxx"]),
    (_with("data.tickers", ["../outside/SPY"]), ["tickers", "'../outside/SPY'", "not allowed"]),
    (_with("data.tickers", ["/etc/passwd"]), ["tickers", "'/etc/passwd'"]),
    (_with("data.tickers", ["SPY\x00"]), ["tickers", "SPY"]),
    (_with("data.tickers", [".."]), ["tickers", "'..'"]),
    (_with("data.tickers", ["C:\\x"]), ["tickers", "'C:\\\\x'"]),
    (_with("strategies", {"../up": {"kind": "equal_weight"}}), ["strategies", "'../up'", "not allowed"]),
    # kind fields: nothing given is silently ignored
    (_with("strategies.ew.weights", {"SPY": 1.0}), ["strategies.ew", "'weights' does not apply"]),
    (_with("strategies.ew.asset", "SPY"), ["strategies.ew", "'asset' does not apply"]),
    (_with("strategies.ew.params", {"x": 1}), ["strategies.ew", "'params' does not apply"]),
    (_with("strategies.ew.seeds", [1]), ["strategies.ew", "'seeds' does not apply"]),
    (_with("strategies.ew.checkpoint", "x.pt"), ["strategies.ew", "'checkpoint' does not apply"]),
    (_with("strategies", {"f": {"kind": "fixed_weights"}}), ["strategies.f", "needs 'weights'"]),
    (_with("strategies", {"f": {"kind": "fixed_weights", "weights": {"SPY": 2.0}}}),
     ["strategies.f.weights", "sum to 2"]),
    (_with("strategies", {"f": {"kind": "fixed_weights", "weights": {"SPY": -0.5}}}),
     ["strategies.f.weights", "-0.5"]),
    (_with("strategies", {"f": {"kind": "fixed_weights", "weights": {"DOGE": 0.5}}}), ["'DOGE'", "data.tickers"]),
    (_with("strategies", {"f": {"kind": "fixed_weights", "weights": {"SPY": "half"}}}),
     ["strategies.f.weights.SPY", "'half'"]),
    (_with("strategies", {"h": {"kind": "buy_and_hold"}}), ["strategies.h", "needs 'asset'"]),
    (_with("strategies", {"h": {"kind": "buy_and_hold", "asset": "DOGE"}}), ["asset 'DOGE'", "data.tickers"]),
    (_with("strategies", {"m": {"kind": "mvo", "params": {"objectiv": "max_sharpe"}}}),
     ["strategies.m.params", "objectiv", "objective"]),
    (_with("strategies", {"m": {"kind": "mvo", "params": {"objective": "max_return"}}}),
     ["strategies.m.params", "'max_return'"]),
    (_with("strategies", {"m": {"kind": "mvo", "params": {"max_weight": 1.5}}}), ["strategies.m.params", "1.5"]),
    (_with("strategies", {"m": {"kind": "mvo", "params": {"weight_bounds": [0.6, 0.5]}}}),
     ["strategies.m.params", "(0.6, 0.5)"]),
    (_with("strategies", {"m": {"kind": "mvo", "params": {"estimation_window": 1}}}),
     ["strategies.m.params", "estimation_window", "1"]),
    (_with("strategies", {"m": {"kind": "mvo", "params": {"risk_free_rate": "2%"}}}),
     ["strategies.m.params", "'2%'"]),
    (_with("strategies", {"m": {"kind": "mvo", "seeds": [1, 2]}}), ["strategies.m", "'seeds' does not apply"]),
    (_with("strategies", {"l": {"kind": "lstm", "params": {"lamda": 10}}}), ["strategies.l.params", "lamda"]),
    (_with("strategies", {"l": {"kind": "lstm", "params": {"lambda_penalty": -1}}}),
     ["strategies.l.params", "lambda_penalty", "-1"]),
    (_with("strategies", {"l": {"kind": "lstm", "params": {"hidden_size": 0}}}),
     ["strategies.l.params", "hidden_size", "0"]),
    (_with("strategies", {"l": {"kind": "lstm", "params": {"epochs": 2.5}}}), ["strategies.l.params", "2.5"]),
    (_with("strategies", {"l": {"kind": "lstm", "params": {"loss": "mse"}}}), ["strategies.l.params", "'mse'"]),
    (_with("strategies", {"l": {"kind": "lstm", "params": {"device": "tpu"}}}), ["strategies.l.params", "'tpu'"]),
    (_with("strategies", {"l": {"kind": "lstm", "params": {"dropout": 1.0}}}), ["strategies.l.params", "dropout"]),
    (_with("strategies", {"l": {"kind": "lstm", "params": {"patience": 3}}}), ["strategies.l.params", "patience=3"]),
    (_with("strategies", {"l": {"kind": "lstm", "seeds": []}}), ["strategies.l", "at least one seed"]),
    (_with("strategies", {"l": {"kind": "lstm", "checkpoint": "nowhere.pt"}}),
     ["strategies.l.checkpoint", "nowhere.pt", "not found"]),
    (_with("strategies", {"l": {"kind": "lstm", "checkpoint": "x.pt", "params": {"epochs": 1}}}),
     ["strategies.l", "params", "checkpoint"]),
    (_with("strategies", {"u": {"kind": "python"}}), ["strategies.u", "needs 'class'"]),
    (_with("strategies", {"u": {"kind": "python", "class": ".relative:X"}}), ["class", "'.relative:X'"]),
    (_with("strategies", {"u": {"kind": "python", "class": "tests.broken_allocator_module:X"}}),
     ["strategies.u.class", "importing module 'tests.broken_allocator_module'", "failed"]),
    (_with("strategies", {"f": {"kind": "fixed_weights", "weights": {"SPY": True}}}),
     ["strategies.f.weights.SPY", "True"]),
    (_with("strategies", {"l": {"kind": "lstm", "seeds": [True]}}), ["strategies.l.seeds.0", "True"]),
    (_with("replication.seeds", [False]), ["replication.seeds.0", "False"]),
    (_with("strategies", {"u": {"kind": "python", "class": "os:system"}}), ["class", "'os:system'"]),
    (_with("strategies", {"u": {"kind": "python", "class": "no_such_module_x:A"}}),
     ["strategies.u.class", "'no_such_module_x'"]),
    (_with("split", {"train_fraction": 1.5}), ["split.train_fraction", "1.5"]),
    (_with("split", {"train_fraction": 0}), ["split.train_fraction", "0"]),
    (_with("split", {"train_fraction": 0.8, "test_start": "2020-06-01"}), ["split", "train_fraction", "test_start"]),
    (_with("split", {"test_start": "yesterday"}), ["split.test_start", "'yesterday'"]),
    # sweeps
    (_with("sweep", {"strategy": "eww"}), ["sweep", "'eww'", "'ew'"]),
    (_with("sweep", {"strategy": "ew", "grid": {"params.x": []}}), ["grid 'params.x'", "at least one value"]),
    (_with("sweep", {"strategy": "ew", "workers": 0}), ["sweep.workers", "0"]),
    (_with("sweep", {"strategy": "ew", "backend": "dask"}), ["sweep.backend", "'dask'"]),
    (_with("sweep", {"strategy": "ew", "grid": {"kind": ["mvo"]}}), ["grid 'kind'"]),
    (_with("sweep", {"strategy": "ew", "n_boot": 10}), ["sweep.n_boot", "10"]),
    # walk-forward folds
    (_with("split", {"folds": {"first_test": "soon"}}), ["split.folds.first_test", "'soon'"]),
    (_with("split", {"folds": {"first_test": "2020-06-01", "length": "week"}}), ["split.folds.length", "'week'"]),
    (_with("split", {"folds": {"first_test": "2020-06-01", "length": 1}}), ["split.folds.length", "1"]),
    (_with("split", {"folds": {"first_test": "2020-06-01", "gap": -3}}), ["split.folds.gap", "-3"]),
    (_with("split", {"folds": {"first_test": "2020-06-01", "training": "sliding"}}),
     ["split.folds.training", "'sliding'"]),
    (_with("split", {"folds": {"first_test": "2020-06-01", "training": "rolling"}}), ["split.folds", "train_bars"]),
    (_with("split", {"folds": {"first_test": "2020-06-01"}, "test_start": "2020-06-01"}), ["split", "test_start"]),
    # studies
    (_with("study", {"universes": {"u": ["SPY", "GLD"]}}), ["study", "mode 'study'"]),
    ({**_with("mode", "study"), "study": {"universes": {"u": ["SPY", "GLD"]}}}, ["study", "split.folds"]),
    ({**_with("mode", "study"), "split": {"folds": {"first_test": "2020-06-01"}},
      "study": {"universes": {"u": ["SPY", "../x"]}}}, ["study.universes", "'../x'"]),
    ({**_with("mode", "study"), "split": {"folds": {"first_test": "2020-06-01"}},
      "study": {"universes": {"u": ["SPY", "GLD"]}, "commissions": [1.5]}}, ["study.commissions", "1.5"]),
    ({**_with("mode", "study"), "split": {"folds": {"first_test": "2020-06-01"}},
      "study": {"universes": {"u": ["SPY", "GLD"]}, "workers": 0}}, ["study.workers", "0"]),
    ({**_with("mode", "study"), "split": {"folds": {"first_test": "2020-06-01"}},
      "study": {"universes": {"u": ["SPY", "GLD"]}, "cost_presets": ["cheap"]}}, ["study.cost_presets", "'cheap'"]),
    # broker realism
    (_with("broker.costs", {"crypto": {"per_shar": 0.005}}), ["broker.costs.crypto.per_shar", "per_share"]),
    (_with("broker.costs", {"equity": {"minimum": -1}}), ["broker.costs.equity.minimum", "-1"]),
    (_with("broker.costs", {"equity": {"spread": "bid_ask"}}), ["broker.costs.equity.spread", "'bid_ask'"]),
    (_with("broker.costs", {"equity": {"participation": 0}}), ["broker.costs.equity.participation", "0"]),
    (_with("broker.costs", {"equity": {"participation": 1.5}}), ["broker.costs.equity.participation", "1.5"]),
    (_with("broker.costs", {"equity": {"window": 1}}), ["broker.costs.equity.window", "1"]),
    (_with("broker.costs", {"crypto": {"volume_unit": "lots"}}), ["broker.costs.crypto.volume_unit", "'lots'"]),
    (_with("broker.costs", {"preset": "cheap"}), ["broker.costs.preset", "'cheap'"]),
    (_with("broker.costs", {"unfilled": "keep"}), ["broker.costs.unfilled", "'keep'"]),
    (_with("broker.costs", {"assets": {"NVDA": {"lot": 1}}}), ["broker.costs.assets", "'NVDA'", "not a ticker"]),
    ({**_with("broker.costs", {"preset": "realistic"}), "broker": {"commission": 0.002, "costs": {}}},
     ["broker", "commission", "costs", "not both"]),
    (_with("broker.interest_rate", 1.5), ["broker.interest_rate", "1.5"]),
    (_with("broker", {"interest_rate": 0.02, "interest_csv": "r.csv"}), ["broker", "interest_rate or interest_csv"]),
    (_with("broker.min_trade_value", -1), ["broker.min_trade_value", "-1"]),
    (_with("analysis.risk_free", "libor"), ["analysis.risk_free", "'libor'"]),
])


@pytest.mark.parametrize("cfg, fragments", CONFIG_CASES)
def test_bad_config_values(cfg, fragments):
    with pytest.raises(ConfigError) as err:
        parse_config(cfg, source="cfg.yaml")
    _one_line(str(err.value), "cfg.yaml", *fragments)


def test_config_top_level_not_a_mapping():
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        parse_config(["a"], source="cfg.yaml")


COUNTS["config"] += 1

# ------------------------------------------------------------------------------ YAML documents

BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
) + "name: *i\n"

YAML_CASES = _count("yaml", [
    ("data: [unclosed\n", ["not valid YAML"]),
    ("- just\n- a list\n", ["top level must be a mapping"]),
    ("just a string\n", ["top level must be a mapping", "str"]),
    ("42\n", ["top level must be a mapping", "int"]),
    (BOMB, ["expands to more than", "refusing"]),
    ("name: &a [*a]\n", ["alias refers to itself"]),
    ("data: " + "[" * 200 + "]" * 200 + "\n", ["nested"]),
    ("name: x\nname: y\nstrategies: {ew: {kind: equal_weight}}\n", ["line 2", "'name' appears twice"]),
    ("strategies:\n  ew: {kind: equal_weight}\n  ew: {kind: mvo}\n", ["line 3", "'ew' appears twice"]),
    ("data: !!python/object/apply:os.system [echo hi]\n", ["not valid YAML"]),
    ("name: \"unterminated\n", ["not valid YAML"]),
    ("\t- tab indented\n", ["not valid YAML"]),
    ("a: b: c\n", ["not valid YAML"]),
    ("name: *nowhere\n", ["not valid YAML"]),
])


@pytest.mark.parametrize("text, fragments", YAML_CASES)
def test_bad_yaml_documents(tmp_path, text, fragments):
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    _one_line(str(err.value), "cfg.yaml", *fragments)


def _config_file(tmp_path, kind: str) -> Path:
    path = tmp_path / "cfg.yaml"
    if kind == "missing":
        return tmp_path / "absent.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    elif kind == "nul":
        path.write_text("name: x\x00\n")
    elif kind == "broken-link":
        path.symlink_to(tmp_path / "gone.yaml")
    elif kind == "loop":
        path.symlink_to(path)
    elif kind == "huge":
        path.write_text("# " + "x" * 2_000_000 + "\n")
    elif kind == "unreadable":  # a regular file whose read fails, even for root
        path.symlink_to("/proc/self/mem")
    return path


FILE_CASES = _count("config file", [
    ("missing", "absent.yaml: config file not found"),
    ("directory", "is a directory"),
    ("binary", "not UTF-8"),
    ("nul", "NUL bytes"),
    ("broken-link", "broken symbolic link"),
    ("loop", "symbolic link loop"),
    ("huge", "at most 1,000,000 are read"),
    ("unreadable", "cannot be read"),
])


@pytest.mark.parametrize("kind, fragment", FILE_CASES)
def test_unreadable_config_files(tmp_path, kind, fragment):
    path = _config_file(tmp_path, kind)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    _one_line(str(err.value), fragment)

# ---------------------------------------------------------------------------------------- CSV

HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"
GOOD = ["2020-01-02,10,11,9,10,10,100", "2020-01-03,10,11,9,10.5,10.5,100", "2020-01-06,10,11,9,10.2,10.2,100"]


def _csv(*rows, header=HEADER) -> str:
    return header + "\n".join(rows) + "\n"


CSV_CASES = _count("csv", [
    (_csv(*GOOD, header="Date,Open,High,Low,close,Adj Close,Volume\n"), ["missing column 'Close'", "'close'"]),
    (_csv(*GOOD, header="Date,Open,High,Low,Adj Close,Volume\n"), ["missing column 'Close'"]),
    (_csv("100,2020-01-02,10,10,11,9,10", "100,2020-01-03,10.5,10,11,9,10.5",
          header="Volume,Date,Close,Open,High,Low,Adj Close\n"), []),
    (_csv(*[r + ",1" for r in GOOD], header="Date,Open,High,Low,Close,Adj Close,Volume,Close\n"),
     ["['Close']", "more than once"]),
    (_csv("2020-01-02,10,11,9,10,10,100", "not-a-date,10,11,9,10,10,100"), ["unparsable dates", "'not-a-date'"]),
    (_csv(GOOD[0], GOOD[0]), ["duplicate dates", "2020-01-02"]),
    (_csv(GOOD[1], GOOD[0]), ["not sorted", "2020-01-02"]),
    (_csv("2020-01-02,10,11,9,,10,100"), ["column 'Close'", "missing or non-numeric", "2020-01-02"]),
    (_csv("2020-01-02,10,11,9,abc,10,100"), ["column 'Close'", "non-numeric"]),
    (_csv("2020-01-02,10,11,9,0,10,100"), ["column 'Close'", "non-positive", "2020-01-02"]),
    (_csv("2020-01-02,10,11,9,-5,10,100"), ["non-positive"]),
    (_csv("2020-01-02,10,11,9,inf,inf,100"), ["column 'Close'", "infinite or implausibly large", "inf"]),
    (_csv("2020-01-02,10,1e308,9,1e308,1e308,100"), ["implausibly large", "1e+308"]),
    (_csv("2020-01-02,10,8,9,8.5,8.5,100"), ["High < Low", "2020-01-02"]),
    (_csv("2020-01-02,10,11,9,12,12,100"), ["Close outside [Low, High]", "2020-01-02", "12"]),
    (_csv("2020-01-02,15,11,9,10,10,100"), ["Open outside [Low, High]", "15"]),
    (_csv("2020-01-02,10,11,9,10,10,-1"), ["column 'Volume'", "-1" if False else "negative", "2020-01-02"]),
    (_csv("2020-01-02,10,11,9,10,10,inf"), ["column 'Volume'"]),
    (_csv("2020-01-02,10,11,9,10,10,"), ["column 'Volume'"]),
    (HEADER, ["no rows"]),
    ("", ["the file is empty"]),
    ("\n\n   \n", ["the file is empty"]),
    (_csv(GOOD[0], "2020-01-03,10,11000,9,10000,10000,100"), ["move by more than 10x", "2020-01-03", "10 -> 10000"]),
    (_csv(GOOD[0], "2020-01-03,0.001,0.002,0.0005,0.001,0.001,100"), ["move by more than 10x"]),
    (_csv("2020-01-02 00:00:00+09:00,10,11,9,10,10,100", "2020-01-03T00:00:00-05:00,10,11,9,10,10,100",
          "garbage,1,1,1,1,1,1"), ["unparsable dates", "'garbage'"]),
    (_csv('2020-01-02,10,11,9,"10,5",10,100'), ["column 'Close'", "non-numeric", "2020-01-02"]),
    (_csv("2020-01-02,10,11,9,10,10,100,extra"), ["row 2 has 8 fields", "the header has 7"]),
    (_csv("2020-01-02,10,11,9,10,10"), ["row 2 has 6 fields"]),
    ("\x89PNG\x00\xff\xfe binary", ["not a text CSV"]),
])


@pytest.mark.parametrize("text, fragments", CSV_CASES)
def test_bad_csv_files(tmp_path, text, fragments):
    path = tmp_path / "AAA.csv"
    if isinstance(text, str) and text.startswith("\x89PNG"):
        path.write_bytes(text.encode("latin-1"))
    else:
        path.write_text(text)
    if not fragments:  # a column order other than Yahoo's is fine: same result
        assert list(read_yahoo_csv(path).columns) == ["Open", "High", "Low", "Close", "Volume"]
        return
    with pytest.raises(DataError) as err:
        read_yahoo_csv(path)
    _one_line(str(err.value), "AAA.csv", *fragments)


FOLDER_CASES = _count("csv folder", [
    ("missing folder", "does not exist"),
    ("folder is a file", "is not a folder"),
    ("unknown ticker", "ticker 'NOPE': file"),
    ("csv is a directory", "is a directory"),
    ("broken link", "broken symbolic link"),
    ("string tickers", "expected a list of tickers"),
    ("path ticker", "'../AAA' is not allowed"),
])


@pytest.mark.parametrize("case, fragment", FOLDER_CASES)
def test_bad_csv_folders(tmp_path, case, fragment):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "AAA.csv").write_text(_csv(*GOOD))
    tickers = ["AAA"]
    if case == "missing folder":
        folder = tmp_path / "nowhere"
    elif case == "folder is a file":
        folder = folder / "AAA.csv"
    elif case == "unknown ticker":
        tickers = ["NOPE"]
    elif case == "csv is a directory":
        (folder / "BBB.csv").mkdir()
        tickers = ["BBB"]
    elif case == "broken link":
        (folder / "BBB.csv").symlink_to(tmp_path / "gone.csv")
        tickers = ["BBB"]
    elif case == "string tickers":
        tickers = "AAA"
    elif case == "path ticker":
        (tmp_path / "AAA.csv").write_text(_csv(*GOOD))
        tickers = ["../AAA"]
    with pytest.raises(PluginError) as err:
        load_csv_folder(folder, tickers)
    _one_line(str(err.value), fragment)


def test_offset_dates_keep_their_local_date(tmp_path):
    """yfinance's -05:00/-04:00 and any other offset: the date as written, never shifted to UTC."""
    path = tmp_path / "AAA.csv"
    path.write_text(_csv("2020-01-02 00:00:00-05:00,10,11,9,10,10,100", "2020-01-03 00:00:00+09:00,10,11,9,10.5,10.5,1",
                         "2020-01-06T23:30:00-04:00,10,11,9,10.2,10.2,1"))
    got = read_yahoo_csv(path)
    assert [d.date().isoformat() for d in got.index] == ["2020-01-02", "2020-01-03", "2020-01-06"]


COUNTS["csv"] += 1

# -------------------------------------------------------------------------------- checkpoints

TINY = {"window": 5, "vol_window": 5, "rsi_period": 3, "rsi_warmup_bars": 10, "hidden_size": 4, "epochs": 1,
        "device": "cpu"}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    rng = np.random.default_rng(0)
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (80, 2)), axis=0)),
                          index=pd.bdate_range("2020-01-01", periods=80), columns=["A", "B"])
    alloc = LSTMAllocator(**TINY).fit(prices)
    return alloc.save(tmp_path_factory.mktemp("ckpt") / "model.pt")


def _payload(path):
    return torch.load(path, weights_only=True)


def _edited(path, tmp_path, edit) -> Path:
    payload = _payload(path)
    edit(payload)
    out = tmp_path / "edited.pt"
    torch.save(payload, out)
    return out


def _meta(edit):
    def apply(payload):
        meta = json.loads(payload["metadata_json"])
        edit(meta)
        payload["metadata_json"] = json.dumps(meta)
    return apply


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/bt_lstm_mvo_pwned",))


CKPT_CASES = _count("checkpoint", [
    ("missing", lambda p, t: t / "nope.pt", "nope.pt: not found"),
    ("directory", lambda p, t: (t / "dir.pt").mkdir() or t / "dir.pt", "is a directory"),
    ("garbage", lambda p, t: (t / "g.pt").write_bytes(b"garbage") and t / "g.pt", "cannot be read safely"),
    ("pickle payload", lambda p, t: torch.save({"x": _Evil()}, t / "evil.pt") or t / "evil.pt",
     "cannot be read safely"),
    ("foreign", lambda p, t: torch.save({"weights": torch.zeros(2)}, t / "f.pt") or t / "f.pt", "not an"),
    ("newer version", lambda p, t: _edited(p, t, lambda d: d.update(format_version=99)), "format_version 99"),
    ("metadata not JSON", lambda p, t: _edited(p, t, lambda d: d.update(metadata_json="{oops")), "not valid JSON"),
    ("metadata not a dict", lambda p, t: _edited(p, t, lambda d: d.update(metadata_json="[1]")), "JSON object"),
    ("no assets", lambda p, t: _edited(p, t, _meta(lambda m: m.pop("assets"))), "'assets' must be a JSON list"),
    ("assets wrong type", lambda p, t: _edited(p, t, _meta(lambda m: m.update(assets=5))), "it is a int"),
    ("no scaler", lambda p, t: _edited(p, t, _meta(lambda m: m.pop("scaler"))), "'scaler'"),
    ("bad scaler", lambda p, t: _edited(p, t, _meta(lambda m: m.update(scaler={"x": 1}))), "scaler metadata"),
    ("no config", lambda p, t: _edited(p, t, _meta(lambda m: m.pop("config"))), "'config'"),
    ("bad config", lambda p, t: _edited(p, t, _meta(lambda m: m["config"].update(hidden_size=-1))),
     "its config is invalid"),
    ("state not tensors", lambda p, t: _edited(p, t, lambda d: d.update(state_dict={"w": 1})), "state_dict"),
    ("fit not a dict", lambda p, t: _edited(p, t, _meta(lambda m: m.update(fit=None))), "'fit' must be a JSON object"),
    ("fit_end not a date", lambda p, t: _edited(p, t, _meta(lambda m: m.setdefault("fit", {}).update(
        fit_end="not a date"))), "fit.fit_end must be an ISO date"),
    ("wrong shapes", lambda p, t: _edited(p, t, lambda d: d["state_dict"].update(
        {k: torch.zeros(1) for k in list(d["state_dict"])[:1]})), "weights do not fit"),
])


@pytest.mark.parametrize("case, make, fragment", CKPT_CASES, ids=[c[0] for c in CKPT_CASES])
def test_bad_checkpoints(checkpoint, tmp_path, case, make, fragment):
    path = make(checkpoint, tmp_path)
    with pytest.raises(ConfigError) as err:
        LSTMAllocator.from_checkpoint(path)
    msg = str(err.value)
    _one_line(msg, str(path), fragment)
    assert "weights_only=False" not in msg and "weights_only` set to `False" not in msg
    assert not Path("/tmp/bt_lstm_mvo_pwned").exists()

# --------------------------------------------------------------------------- command line


def _run(tmp_path, cfg, *extra, out: Path | None = None) -> int:
    path = tmp_path / "cfg.yaml"
    path.write_text(cfg if isinstance(cfg, str) else yaml.safe_dump(cfg))
    args = [str(path), "--quiet", *extra]
    if out is not None:
        args += ["--out", str(out)]
    return runner.main(args)


def _cli(tmp_path, case):
    """(config, extra args, out folder) of a command-line case."""
    out = tmp_path / "out"
    if case == "out exists":
        out.mkdir()
        return BASE, [], out
    if case == "out parent is a file":
        (tmp_path / "afile").write_text("x")
        return BASE, [], tmp_path / "afile" / "out"
    if case == "out not writable":  # /proc refuses new files even to root
        return BASE, [], Path("/proc/bt-lstm-mvo-out")
    if case == "output.dir exists":
        (tmp_path / "od").mkdir()
        return _with("output.dir", str(tmp_path / "od")), [], None
    if case == "locked by a live run":
        (tmp_path / ".out.lock").write_text(str(os.getppid()))
        return BASE, [], out
    if case == "data dir missing":
        return _with("data.source", "csv"), ["--data-dir", str(tmp_path / "nowhere")], out
    if case == "csv without data dir":
        return _with("data.source", "csv"), [], out
    if case == "too few test returns":
        return _with("split", {"test_start": "2020-12-30"}), [], out
    if case == "no training bars":
        return _with("split", {"test_start": "2019-01-01"}), [], out
    if case == "fit window too long":
        return _with("strategies.ew.fit_window", 5000), [], out
    if case == "mvo too few bars":
        return _with("strategies", {"m": {"kind": "mvo"}}, _with("split", {"test_start": "2020-01-02"})), [], out
    if case == "lstm too few bars":
        return _with("strategies", {"l": {"kind": "lstm"}}, _with("split", {"test_start": "2020-01-20"})), [], out
    if case == "lstm too large":
        return _with("strategies", {"l": {"kind": "lstm", "params": {"hidden_size": 5000, "num_layers": 4}}}), [], out
    if case == "lstm cap infeasible":
        return _with("strategies", {"l": {"kind": "lstm", "params": {"max_weight": 0.2}}}), [], out
    if case == "mvo bounds infeasible":
        return _with("strategies", {"m": {"kind": "mvo", "params": {"max_weight": 0.3}}}), [], out
    if case == "notebook replication without data":
        return _with("mode", "notebook_replication"), [], out
    raise AssertionError(case)


CLI_CASES = _count("cli", [
    ("out exists", ["--out", "already exists"]),
    ("out parent is a file", ["--out", "afile is a file"]),
    ("out not writable", ["--out", "cannot write in /proc"]),
    ("output.dir exists", ["output.dir", "already exists"]),
    ("locked by a live run", ["--out", "another run (pid"]),
    ("data dir missing", ["data folder", "nowhere", "does not exist"]),
    ("csv without data dir", ["data.data_dir", "required"]),
    ("too few test returns", ["split.test_start", "2020-12-30", "leaves 1 test returns"]),
    ("no training bars", ["split.test_start", "2019-01-01", "no training period"]),
    ("fit window too long", ["strategies.ew.fit_window", "5000"]),
    ("mvo too few bars", ["strategies.m", "needs at least 3 training bars"]),
    ("lstm too few bars", ["strategies.l", "needs at least 51 training bars"]),
    ("lstm too large", ["strategies.l.params", "hidden_size 5000", "parameters"]),
    ("lstm cap infeasible", ["strategies.l.params", "max_weight=0.2"]),
    ("mvo bounds infeasible", ["strategies.m.params", "cannot sum to 1"]),
    ("notebook replication without data", ["data.data_dir", "notebook_replication"]),
])


@pytest.mark.parametrize("case, fragments", CLI_CASES)
def test_bad_command_lines_exit_2(tmp_path, capsys, case, fragments):
    cfg, extra, out = _cli(tmp_path, case)
    assert _run(tmp_path, cfg, *extra, out=out) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: "), err
    _one_line(err, *fragments)
    assert not list(tmp_path.glob("*.partial-*"))


def test_cli_prints_no_traceback_for_a_missing_file(tmp_path, capsys):
    assert runner.main([str(tmp_path / "absent.yaml"), "--quiet"]) == 2
    _one_line(capsys.readouterr().err, "absent.yaml", "not found")


COUNTS["cli"] += 1

# --------------------------------------------------------------------------------- Python API


def _frames(n=40, assets=("A", "B"), bad=None):
    idx = pd.bdate_range("2021-01-01", periods=n)
    frames = {}
    for j, a in enumerate(assets):
        close = 100.0 * (1.0 + 0.001 * (j + 1)) ** np.arange(n)
        f = pd.DataFrame({"Open": close, "High": close * 1.01, "Low": close * 0.99, "Close": close,
                          "Volume": 1e6}, index=idx)
        frames[a] = f
    if bad is not None:
        frames["A"].iloc[20, frames["A"].columns.get_loc("Close")] = bad
    return frames


def _cerebro(frames=None, **strategy_params):
    c = bt.Cerebro(stdstats=False)
    add_frames(c, frames or _frames())
    c.broker.setcash(1e5)
    c.broker.addcommissioninfo(ProportionalCommission())
    c.addstrategy(EqualWeightStrategy, **strategy_params)
    return c


STRATEGY_PARAM_CASES = _count("api", [
    ({"cash_buffer": "abc"}, "cash_buffer", "'abc'"),
    ({"cash_buffer": -0.1}, "cash_buffer", "-0.1"),
    ({"cash_buffer": 1.0}, "cash_buffer", "1.0"),
    ({"drift_threshold": "x"}, "drift_threshold", "'x'"),
    ({"drift_threshold": -0.05}, "drift_threshold", "-0.05"),
    ({"drift_threshold": 0}, "drift_threshold", "0"),
    ({"min_trade_value": -1}, "min_trade_value", "-1"),
    ({"min_trade_value": float("nan")}, "min_trade_value", "nan"),
    ({"commission_rate": -0.001}, "commission_rate", "-0.001"),
    ({"commission_rate": 1.5}, "commission_rate", "1.5"),
    ({"trade_start": "not-a-date"}, "trade_start", "'not-a-date'"),
    ({"trade_start": 5}, "trade_start", "5"),
    ({"schedule": "hourly"}, "schedule", "'hourly'"),
    ({"schedule": 0}, "schedule", "0"),
    ({"schedule": True}, "schedule", "True"),
    ({"execution": "vwap"}, "execution", "'vwap'"),
    ({"on_failure": "ignore"}, "on_failure", "'ignore'"),
    ({"refit": 0}, "refit", "0"),
    ({"refit": "10"}, "refit", "'10'"),
    ({"fit_window": 1}, "fit_window", "1"),
    ({"fit": "yes"}, "fit", "'yes'"),
])


@pytest.mark.parametrize("params, field, value", STRATEGY_PARAM_CASES)
def test_bad_strategy_params(params, field, value):
    with pytest.raises(ConfigError) as err:
        _cerebro(**params).run()
    _one_line(str(err.value), field, value)


class _Returns(Allocator):
    def __init__(self, weights):
        self.weights = weights

    def allocate(self, history):
        return self.weights(history)


ALLOCATOR_OUTPUT_CASES = _count("api", [
    (lambda h: pd.Series([np.nan, 0.5], index=h.columns), "weight of A is nan"),
    (lambda h: pd.Series([np.inf, 0.0], index=h.columns), "weight of A is inf"),
    (lambda h: pd.Series([0.5], index=["A"]).reindex(h.columns), "weight of B is nan"),
    (lambda h: pd.Series([-0.2, 0.5], index=h.columns), "weight of A is -0.2"),
    (lambda h: pd.Series([0.8, 0.8], index=h.columns), "sum to 1.6"),
    (lambda h: pd.Series([0.5, 0.5], index=["A", "Z"]), "unknown assets ['Z']"),
    (lambda h: [0.5, 0.5], "must be a pandas Series"),
    (lambda h: pd.Series(["a", "b"], index=h.columns), "must be numbers"),
])


@pytest.mark.parametrize("make, fragment", ALLOCATOR_OUTPUT_CASES)
def test_bad_allocator_outputs_are_refused(make, fragment):
    with pytest.raises(AllocationError) as err:
        validate_weights(make(pd.DataFrame(columns=["A", "B"])), ["A", "B"], source="MyAllocator")
    _one_line(str(err.value), "MyAllocator", fragment)
    c = bt.Cerebro(stdstats=False)
    add_frames(c, _frames())
    c.addstrategy(AllocationStrategy, allocator=_Returns(make))
    with pytest.raises(AllocationError):
        c.run()


FEED_CASES = _count("api", [(np.nan, "nan"), (np.inf, "inf"), (0.0, "0.0"), (-1.0, "-1.0")])


@pytest.mark.parametrize("bad, shown", FEED_CASES)
def test_bad_feed_prices_stop_the_run(bad, shown):
    with pytest.raises(DataError) as err:
        _cerebro(_frames(bad=bad)).run()
    _one_line(str(err.value), "feed 'A'", f"close is {shown}", "2021-01-29")


ANALYZER_CASES = _count("api", [
    (PaperMetrics, {"sortino_variant": "fancy"}, "sortino_variant", "'fancy'"),
    (PaperMetrics, {"ddof": 2}, "ddof", "2"),
    (PaperMetrics, {"periods_per_year": -1}, "periods_per_year", "-1"),
    (PaperMetrics, {"periods_per_year": "252"}, "periods_per_year", "'252'"),
    (SortinoRatio, {"variant": "x"}, "variant", "'x'"),
    (StressWindow, {"windows": {}}, "windows", "{}"),
    (StressWindow, {"windows": {"w": ("2022-12-31", "2022-01-01")}}, "window 'w'", "2022-12-31"),
    (StressWindow, {"windows": {"w": ("someday", "2022-01-01")}}, "window 'w'", "'someday'"),
    (StressWindow, {"edge_slack_days": -1}, "edge_slack_days", "-1"),
    (RollingAlpha, {}, "RollingAlpha", "exactly one benchmark"),
    (RollingAlpha, {"benchmark_returns": pd.Series(dtype=float), "n_windows": 0}, "n_windows", "0"),
    (PortfolioWeights, {"periods_per_year": 0}, "periods_per_year", "0"),
    (PaperMetrics, {"since": 2023}, "PaperMetrics: since", "2023"),
    (PaperMetrics, {"since": "soon"}, "PaperMetrics: since", "'soon'"),
    (SortinoRatio, {"since": True}, "SortinoRatio: since", "True"),
    (PortfolioWeights, {"since": "x"}, "PortfolioWeights: since", "'x'"),
    (PaperMetrics, {"risk_free": "2%"}, "PaperMetrics: risk_free", "'2%'"),
    (SortinoRatio, {"target": float("nan")}, "SortinoRatio: target", "nan"),
])


@pytest.mark.parametrize("cls, params, field, value", ANALYZER_CASES)
def test_bad_analyzer_params(cls, params, field, value):
    c = _cerebro()
    c.addanalyzer(cls, **params)
    with pytest.raises(ConfigError) as err:
        c.run()
    _one_line(str(err.value), field, value)


MARKET_CASES = _count("api", [
    ({"tickers": "SPY"}, "expected a list of tickers", "'SPY'"),
    ({"tickers": []}, "at least one ticker", ""),
    ({"tickers": ["SPY", "SPY"]}, "listed more than once", "SPY"),
    ({"tickers": ["SPY"], "source": "ftp"}, "data.source", "'ftp'"),
    ({"tickers": ["SPY"], "calendar": "lunar"}, "data.calendar", "'lunar'"),
    ({"tickers": ["SPY"], "source": "csv"}, "data.data_dir", "required"),
    ({"tickers": ["../x"], "source": "csv", "data_dir": "."}, "tickers", "'../x'"),
    ({"tickers": ["DOGE-XYZ"], "source": "synthetic"}, "DOGE-XYZ", ""),
])


@pytest.mark.parametrize("kwargs, fragment, value", MARKET_CASES)
def test_bad_load_market_calls(kwargs, fragment, value):
    with pytest.raises(PluginError) as err:
        load_market(**kwargs)
    _one_line(str(err.value), fragment, value)


STRATEGY_CLASS_CASES = _count("api", [
    (MVOStrategy, {"allocator_params": {"objectiv": "max_sharpe"}}, "'objectiv'", "'objective'"),
    (MVOStrategy, {"allocator_params": {"max_weight": 7}}, "max_weight", "7"),
    (MVOStrategy, {"allocator_params": "max_sharpe"}, "allocator_params", "'max_sharpe'"),
    (AllocationStrategy, {}, "'allocator' is required", ""),
    (AllocationStrategy, {"allocator": "mvo"}, "allocator", "str"),
])


@pytest.mark.parametrize("cls, params, field, value", STRATEGY_CLASS_CASES)
def test_bad_strategy_construction(cls, params, field, value):
    c = bt.Cerebro(stdstats=False)
    add_frames(c, _frames())
    c.addstrategy(cls, **params)
    with pytest.raises(ConfigError) as err:
        c.run()
    _one_line(str(err.value), field, value)


def test_catalogue_size():
    """At least 150 distinct bad inputs, across every class."""
    total = sum(COUNTS.values())
    print("bad-input catalogue:", dict(sorted(COUNTS.items())), "total", total)
    assert total >= 150, COUNTS
    assert set(COUNTS) >= {"config", "yaml", "config file", "csv", "csv folder", "checkpoint", "cli", "api"}
