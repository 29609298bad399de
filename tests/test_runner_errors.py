"""Bad config or data: one clear message on stderr and exit code 2 from the runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import runner
from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.experiment.config import parse_config

ROOT = Path(__file__).resolve().parent.parent

BASE = {
    "name": "t",
    "data": {"source": "synthetic", "tickers": ["BTC-USD", "SPY"], "start": "2020-01-01",
             "end": "2020-12-31"},
    "strategies": {"ew": {"kind": "equal_weight"}},
    "buy_and_hold_benchmarks": False,
}


def _with(path, value):
    cfg = yaml.safe_load(yaml.safe_dump(BASE))
    node = cfg
    keys = path.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value
    return cfg


def _run(tmp_path, cfg, *extra):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg) if isinstance(cfg, dict) else cfg)
    return runner.main([str(path), "--quiet", "--out", str(tmp_path / "out"), *extra])


CASES = [
    (_with("data.tikers", ["SPY"]), "data.tikers: unknown key (did you mean 'tickers'?)"),
    (_with("brokr", {}), "brokr: unknown key (did you mean 'broker'?)"),
    (_with("broker.cash", "lots"), "broker.cash: Input should be a valid number"),
    (_with("data.end", "2019-01-01"), "end (2019-01-01) must be after start (2020-01-01)"),
    (_with("data.start", "2020-13-45"), "data.start: Input should be a valid date"),
    (_with("broker.commission", -0.1), "broker.commission: Input should be greater than or equal to 0"),
    (_with("strategies", {"m": {"kind": "mvo", "params": {"objectiv": "max_sharpe"}}}),
     "objectiv: unknown mvo parameter (did you mean 'objective'?)"),
    (_with("strategies", {"m": {"kind": "mvo", "params": {"objective": "max_return"}}}),
     "objective must be one of ['max_sharpe', 'min_volatility'], got 'max_return'"),
    (_with("strategies", {"h": {"kind": "buy_and_hold", "asset": "DOGE"}}),
     "asset 'DOGE' is not among data.tickers"),
    (_with("strategies", {"m": {"kind": "mvo", "fit_window": 5000}}), "fit_window: 5000 bars is longer than"),
    (_with("split", {"test_start": "2030-01-01"}), "leaves 0 test returns"),
    (_with("split", {"test_start": "2020-12-30"}), "split.test_start: 2020-12-30 leaves 1 test returns"),
    (_with("analysis", {"alpha_pair": ["ew", "mvoo"]}), "analysis.alpha_pair: 'mvoo' is not a strategy"),
    (_with("strategies", {"ew": {"kind": "equal_weight", "weights": {"SPY": 1.0}}}),
     "strategies.ew: 'weights' does not apply to kind 'equal_weight'"),
    (_with("strategies", {"m": {"kind": "equal_weight", "schedule": "fortnightly"}}),
     "strategies.m.schedule"),
    ("- just\n- a list\n", "the top level must be a mapping"),
    ("data: [unclosed\n", "not valid YAML"),
]


@pytest.mark.parametrize("cfg, message", CASES)
def test_bad_config_exits_2_with_clear_message(tmp_path, capsys, cfg, message):
    assert _run(tmp_path, cfg) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_missing_data_folder_and_unknown_ticker(tmp_path, capsys, data_dir):
    cfg = _with("data.source", "csv")
    cfg["data"]["data_dir"] = str(tmp_path / "nowhere")
    assert _run(tmp_path, cfg) == 2
    assert "does not exist" in capsys.readouterr().err
    cfg["data"]["data_dir"] = str(data_dir)
    cfg["data"]["tickers"] = ["SPY", "NOPE"]
    assert _run(tmp_path, cfg) == 2
    err = capsys.readouterr().err
    assert "ticker 'NOPE'" in err and "available tickers" in err


def test_missing_config_file(tmp_path, capsys):
    assert runner.main([str(tmp_path / "absent.yaml"), "--quiet"]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_parse_config_is_the_single_validator():
    with pytest.raises(ConfigError, match="strategies"):
        parse_config({"data": {}})


def test_subprocess_exit_code_and_single_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_with("broker.execution", "vwap")))
    proc = subprocess.run([sys.executable, str(ROOT / "runner.py"), str(path), "--quiet"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: bad.yaml: broker.execution: Input should be 'close' or 'next_open'")
    assert "Traceback" not in proc.stderr
