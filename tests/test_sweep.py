"""Sweeps: grid expansion, picklable deterministic tasks, failures kept apart, the same numbers
on loky with 1 or 2 workers and on a real local Ray instance, config validation, report pieces."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.experiment.config import parse_config
from bt_lstm_mvo.experiment.report.plots import sweep_plot
from bt_lstm_mvo.experiment.report.tables import sweep_tables
from bt_lstm_mvo.experiment.summary import METRICS
from bt_lstm_mvo.experiment.sweep import (
    SweepResult,
    apply_overrides,
    expand_grid,
    run_sweep,
    run_task,
)

LSTM = {"hidden_size": 4, "epochs": 2, "window": 10, "vol_window": 10, "rsi_period": 5, "rsi_warmup_bars": 20,
        "device": "cpu"}
BASE = {
    "name": "sweep-test",
    "data": {"source": "synthetic", "tickers": ["BTC-USD", "SPY"], "start": "2020-01-01", "end": "2021-02-28"},
    "strategies": {"lstm": {"kind": "lstm", "schedule": "weekly", "params": LSTM},
                   "mvo": {"kind": "mvo", "schedule": "weekly"}},
    "buy_and_hold_benchmarks": False,
    "sweep": {"strategy": "lstm", "grid": {"params.lambda_penalty": [0, 50]}, "seeds": [0, 1],
              "compare_to": "mvo", "workers": 2, "n_boot": 200},
}


def config(**sweep):
    raw = copy.deepcopy(BASE)
    raw["sweep"].update(sweep)
    return parse_config(raw, source="sweep.yaml")


def numbers(result: SweepResult) -> list:
    return [(r["task_id"], r["overrides"], r["seed"], r["metrics"], r["returns"]) for r in result.records]


@pytest.fixture(scope="module")
def loky2():
    return run_sweep(config(), backend="loky", workers=2)


def test_expand_grid_gives_plain_tasks():
    tasks = expand_grid(config(), data_dir="/nowhere")
    assert [(t["overrides"], t["seed"], t["role"]) for t in tasks] == [
        ({"params.lambda_penalty": 0}, 0, "grid"), ({"params.lambda_penalty": 0}, 1, "grid"),
        ({"params.lambda_penalty": 50}, 0, "grid"), ({"params.lambda_penalty": 50}, 1, "grid"),
        ({}, None, "baseline")]
    assert [t["task_id"] for t in tasks] == list(range(5))
    assert all(t["data_dir"] == "/nowhere" and t["torch_threads"] == 1 for t in tasks)
    assert pickle.loads(pickle.dumps(tasks)) == tasks
    spec = apply_overrides(config().strategies["lstm"], {"params.lambda_penalty": 50, "schedule": 5})
    assert spec.params["lambda_penalty"] == 50 and spec.params["epochs"] == 2 and spec.schedule == 5


def test_loky_two_workers_gives_ok_records_and_the_table(loky2, tmp_path):
    assert loky2.failures == []
    assert len(loky2.records) == 4 and all(r["status"] == "ok" for r in loky2.records)
    assert loky2.baseline is not None and loky2.baseline["strategy"] == "mvo"
    rec = loky2.records[0]
    assert set(rec["metrics"]) == set(METRICS)
    assert len(rec["returns"]) > 40 and min(rec["returns"]) >= rec["trade_start"]
    t = loky2.table
    assert list(t["lambda_penalty"]) == [0, 50] and list(t["n"]) == [2, 2]
    for m in ("total_return", "max_drawdown", "sharpe", "sortino", "volatility", "downside_deviation", "turnover"):
        for stat in ("mean", "std", "ci95"):
            assert f"{m}_{stat}" in t.columns
    first = [r["metrics"]["total_return"] for r in loky2.records[:2]]
    assert t["total_return_mean"][0] == pytest.approx(sum(first) / 2, rel=1e-12)
    # report pieces
    tables = sweep_tables(loky2)
    assert tables[0].header[:2] == ["lambda_penalty", "Runs"] and len(tables[0].rows) == 2
    assert [tb.title for tb in tables[1:]] == [
        "Significance - lstm (lambda_penalty=0) vs mvo over the test period",
        "Significance - lstm (lambda_penalty=50) vs mvo over the test period"]
    assert "significant at 95%" in tables[1].notes[0]
    png = sweep_plot(loky2, tmp_path)
    assert png.name == "sweep_lambda_penalty.png" and png.stat().st_size > 1000
    assert loky2.to_dict()["table"][0]["n"] == 2


def test_run_task_is_picklable_and_deterministic(loky2):
    task = expand_grid(config())[1]
    assert pickle.loads(pickle.dumps(run_task)) is run_task
    once, twice = run_task(task), run_task(task)
    assert once["status"] == "ok"
    assert once["metrics"] == twice["metrics"] and once["returns"] == twice["returns"]
    # and the same as in a loky worker process
    assert once["metrics"] == loky2.records[1]["metrics"]


def test_results_do_not_depend_on_worker_count(loky2):
    one = run_sweep(config(compare_to=None), backend="loky", workers=1)
    assert one.workers == 1 and one.failures == []
    assert numbers(one) == numbers(loky2)


def test_failed_task_is_reported_and_the_others_kept():
    raw = copy.deepcopy(BASE)
    raw["sweep"] = {"strategy": "mvo", "grid": {"fit_window": [40, 5000]}, "workers": 2}
    result = run_sweep(parse_config(raw))
    assert len(result.records) == 1 and result.records[0]["overrides"] == {"fit_window": 40}
    (fail,) = result.failures
    assert fail["status"] == "failed" and fail["overrides"] == {"fit_window": 5000} and fail["seed"] is None
    assert fail["error"].startswith("ConfigError: strategies.mvo.fit_window: 5000 bars is longer than")
    assert list(result.table["n"]) == [1, 0] and list(result.table["failed"]) == [0, 1]
    tables = sweep_tables(result)
    assert tables[1].title == "Sweep - failed tasks"
    assert tables[1].rows[0][2] == "fit_window=5000" and "5000 bars" in tables[1].rows[0][4]
    assert tables[0].rows[1][1] == "0 (1 failed)"


@pytest.mark.slow
def test_real_local_ray_instance_gives_the_loky_numbers(loky2):
    ray = pytest.importorskip("ray", reason="ray is in requirements-dev.txt; pip install -r requirements-dev.txt")
    result = run_sweep(config(backend="ray"), workers=2)
    assert result.backend == "ray" and result.failures == []
    assert numbers(result) == numbers(loky2)
    assert result.baseline["metrics"] == loky2.baseline["metrics"]
    assert not ray.is_initialized()  # the instance it started is shut down


@pytest.mark.parametrize("sweep, message", [
    ({"strategy": "lsmt"}, "sweep: strategy 'lsmt' is not a strategy of this config "
                           "(did you mean 'lstm'?)"),
    ({"compare_to": "mvx"}, "compare_to 'mvx' is not a strategy of this config (did you mean 'mvo'?)"),
    ({"grid": {"params.lamda_penalty": [1]}},
     "grid point params.lamda_penalty=1: params: lamda_penalty: unknown lstm parameter "
     "(did you mean 'lambda_penalty'?)"),
    ({"grid": {"shedule": ["daily"]}}, "sweep.grid: grid 'shedule': 'shedule' is not a sweepable "
                                       "strategy field (did you mean 'schedule'?)"),
    ({"grid": {"params.lambda_penalty": [10, -1]}},
     "grid point params.lambda_penalty=-1: params: lambda_penalty must be >= 0.0, got -1"),
    ({"grid": {"schedule": ["fortnightly"]}}, "grid point schedule='fortnightly': schedule: Input should be"),
    ({"grid": {"params.lambda_penalty": []}}, "grid 'params.lambda_penalty': list at least one value"),
    ({"strategy": "mvo", "seeds": [1]}, "seeds apply to seeded kinds only (lstm); 'mvo' is kind 'mvo'"),
    ({"workrs": 2}, "sweep.workrs: unknown key (did you mean 'workers'?)"),
    ({"backend": "dask"}, "sweep.backend: Input should be 'loky' or 'ray'"),
    ({"workers": 0}, "sweep.workers: Input should be greater than or equal to 1"),
])
def test_bad_sweep_config_is_a_clear_config_error(sweep, message):
    with pytest.raises(ConfigError) as err:
        config(**sweep)
    assert message in str(err.value)
    assert str(err.value).startswith("sweep.yaml: sweep")


def test_the_array_engine_gives_the_sweep_the_same_numbers(loky2):
    """``engine: array`` in a sweep: the same tasks, the same metrics and returns (to 1e-9)."""
    raw = copy.deepcopy(BASE)
    raw["engine"] = "array"
    arr = run_sweep(parse_config(raw, source="sweep.yaml"), backend="loky", workers=1)
    assert len(arr.records) == len(loky2.records) and all(r["status"] == "ok" for r in arr.records)
    def by_id(result):
        return sorted(result.records, key=lambda r: r["task_id"])

    for a, b in zip(by_id(loky2), by_id(arr)):
        assert a["overrides"] == b["overrides"] and a["seed"] == b["seed"]
        for k, v in a["metrics"].items():
            same = (v is None and b["metrics"][k] is None) or b["metrics"][k] == pytest.approx(v, rel=1e-9, abs=1e-12)
            assert same, k
        assert list(a["returns"]) == list(b["returns"])
        np.testing.assert_allclose(list(b["returns"].values()), list(a["returns"].values()), rtol=1e-9, atol=1e-12)


def test_an_lstm_worker_imports_neither_scipy_nor_pypfopt(data_dir):
    """Start-up cost of a sweep worker (measured: scipy.signal 0.57 s, pypfopt + cvxpy 0.85 s of
    every fresh process): an LSTM task on CSV data, beside an MVO baseline in its config, in a
    fresh interpreter, leaves neither imported."""
    import json
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import json, sys
        from bt_lstm_mvo.experiment.config import parse_config
        from bt_lstm_mvo.experiment.sweep import expand_grid, run_task
        raw = {{"name": "w", "data": {{"source": "csv", "tickers": ["SPY", "GLD"], "start": "2020-01-01",
                                       "end": "2021-06-30", "data_dir": {str(data_dir)!r}}},
               "strategies": {{"lstm": {{"kind": "lstm", "schedule": "monthly", "params": {LSTM!r}}},
                               "mvo": {{"kind": "mvo", "schedule": "monthly"}}}},
               "buy_and_hold_benchmarks": False,
               "sweep": {{"strategy": "lstm", "grid": {{"params.lambda_penalty": [0]}}, "compare_to": "mvo",
                          "workers": 1}}}}
        task = [t for t in expand_grid(parse_config(raw), None) if t["strategy"] == "lstm"][0]
        rec = run_task(task)
        print(json.dumps([rec["status"], rec.get("error"),
                          sorted(m for m in sys.modules if m.split(".")[0] in ("scipy", "pypfopt", "cvxpy"))]))
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    status, error, heavy = json.loads(res.stdout.strip().splitlines()[-1])
    assert status == "ok", error
    assert heavy == []
