"""Walk-forward folds: the splitter never lets a training window reach into its test window (gap
included), the strategies fit exactly the planned rows, and changing prices after a date leaves
every earlier decision and fit unchanged (look-ahead, through the runner's fold path)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.experiment.config import parse_config
from bt_lstm_mvo.experiment.report.results import collect
from bt_lstm_mvo.experiment.run import run_experiment
from bt_lstm_mvo.experiment.split import MIN_TEST_RETURNS, fold_plan
from bt_lstm_mvo.feeds.synthetic import generate_market
from tests.helpers import perturb_after

TICKERS = ["BTC-USD", "SPY", "GLD"]


def _index(n, days="B"):
    return pd.date_range("2018-01-01", periods=n, freq=days)


@settings(max_examples=150, deadline=None)
@given(n=hs.integers(200, 1500), first=hs.integers(60, 600), length=hs.sampled_from(["year", "half", "quarter",
                                                                                      "month", 5, 21, 63, 250]),
       rolling=hs.booleans(), train_bars=hs.integers(2, 60), gap=hs.integers(0, 30), freq=hs.sampled_from(["B", "D"]))
def test_training_never_reaches_the_test_window(n, first, length, rolling, train_bars, gap, freq):
    index = _index(n, freq)
    if first >= n - MIN_TEST_RETURNS:
        return
    try:
        plan = fold_plan(index, index[first], length, "rolling" if rolling else "expanding",
                         train_bars if rolling else None, gap)
    except ConfigError:
        return  # too little data for this layout: refused, never a fold that peeks
    assert plan[0].test_first == first
    for f in plan:
        assert f.train_last == f.decide - gap
        assert f.train_last < f.test_first  # training never reaches the test window ...
        assert f.test_first - f.train_last - 1 == gap  # ... and exactly `gap` bars lie between
        assert f.decide == f.test_first - 1  # fitted at the close before its first test return
        assert f.train_first == (f.train_last - train_bars + 1 if rolling else 0) and f.train_first >= 0
        assert f.test_last - f.test_first + 1 >= MIN_TEST_RETURNS or len(plan) == 1
        assert f.dates == tuple(index[i] for i in (f.decide, f.train_first, f.train_last, f.test_first, f.test_last))
    for a, b in zip(plan, plan[1:]):  # contiguous, non-overlapping test windows
        assert b.test_first == a.test_last + 1
        assert b.train_last >= a.train_last  # later folds train on more (or later) data


def test_calendar_folds_are_calendar_periods():
    index = _index(2000)
    plan = fold_plan(index, "2021-01-01", "year", gap=5)
    assert [f.dates[3].year for f in plan] == [2021, 2022, 2023, 2024, 2025]
    for f in plan:
        assert f.dates[3].year == f.dates[4].year and f.dates[3].month == 1
        assert index[f.test_first - 1].year == f.dates[3].year - 1  # the decision bar ends the previous year


@pytest.mark.parametrize("kwargs, message", [
    ({"first_test": "2018-01-02", "length": "year"}, "training bars before it"),
    ({"first_test": "2030-01-01", "length": "year"}, "fewer than 3 test returns"),
    ({"first_test": "2019-01-01", "length": 2}, "a number of bars >= 3"),
    ({"first_test": "2019-01-01", "length": "decade"}, "split.folds.length"),
    ({"first_test": "2019-01-01", "length": "year", "training": "rolling", "train_bars": 900}, "fewer than train_bars"),
    ({"first_test": "2019-01-01", "length": "year", "gap": -1}, "split.folds.gap"),
])
def test_impossible_plans_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        fold_plan(_index(800), **kwargs)


def _frames(after=None):
    frames = generate_market(TICKERS, start="2019-01-01", end="2021-12-31", seed=11)
    frames = {t: f[["Open", "High", "Low", "Close", "Volume"]].copy() for t, f in frames.items()}
    return frames if after is None else perturb_after(frames, after, seed=5)


def _config(training="expanding", gap=3):
    folds = {"first_test": "2020-07-01", "length": "quarter", "training": training, "gap": gap}
    if training == "rolling":
        folds["train_bars"] = 250
    return parse_config({
        "name": "folds-test", "data": {"source": "frames", "tickers": TICKERS, "start": "2019-01-01",
                                       "end": "2021-12-31"},
        "split": {"folds": folds},
        "strategies": {"lstm": {"kind": "lstm", "seeds": [0], "params": {"epochs": 2, "window": 10,
                                                                          "hidden_size": 8}},
                       "mvo": {"kind": "mvo"}},
        "buy_and_hold_benchmarks": False,
        "analysis": {"stress_windows": {"2021H1": ["2021-01-01", "2021-06-30"]}},
    })


@pytest.mark.parametrize("training", ["expanding", "rolling"])
def test_each_fold_fits_on_exactly_its_training_rows(training):
    cfg = _config(training)
    result = run_experiment(cfg, frames=_frames(), progress=False)
    plan = result.folds
    assert len(plan) == 6  # 2020Q3 .. 2021Q4
    for name, runs in result.runs.items():
        fits = runs[0].fits
        assert [pd.Timestamp(f["date"]) for f in fits] == [f.dates[0] for f in plan], name
        for fit, fold in zip(fits, plan):
            assert pd.Timestamp(fit["first"]) == fold.dates[1] and pd.Timestamp(fit["last"]) == fold.dates[2]
            assert fit["rows"] == fold.train_last - fold.train_first + 1
            assert pd.Timestamp(fit["last"]) < fold.dates[3]  # never a row of the fold's own test window
    res = collect(result)
    # per-fold figures come from the fold-window analyzer and chain to the whole period's return
    mvo = res["folds"]["strategies"]["mvo"]
    chained = np.prod([1 + mvo[f.name]["total_return"] for f in plan]) - 1
    assert chained == pytest.approx(res["strategies"]["mvo"]["metrics"]["total_return"], rel=1e-9)
    for s in res["stress"]["2021H1"].values():  # a stress window after the first fold is out of sample
        assert s["status"] == "ok" and s["overlaps_training"] is False


def test_folds_have_no_lookahead():
    """Prices after T change; every decision and every fit made at or before T is unchanged, bit for
    bit, for the LSTM and MVO, through the runner's walk-forward path; later ones change."""
    T = pd.Timestamp("2021-02-15")  # inside the 2021Q1 fold: its model was fitted before T
    cfg = _config()
    base = run_experiment(cfg, frames=_frames(), progress=False)
    pert = run_experiment(cfg, frames=_frames(after=T), progress=False)
    for name in ("lstm", "mvo"):
        a, b = base.runs[name][0], pert.runs[name][0]
        past = a.weights_target.index <= T
        assert past.sum() > 100 and (~past).sum() > 50
        assert np.array_equal(a.weights_target[past].to_numpy(), b.weights_target[past].to_numpy())
        assert not np.array_equal(a.weights_target[~past].to_numpy(), b.weights_target[~past].to_numpy())
        early = [f for f in a.fits if pd.Timestamp(f["date"]) <= T]
        assert len(early) >= 3 and early == [f for f in b.fits if pd.Timestamp(f["date"]) <= T]
        assert a.values[a.values.index <= T].equals(b.values[b.values.index <= T])


@pytest.mark.parametrize("raw, message", [
    ({"split": {"folds": {"first_test": "2020-01-01"}, "test_start": "2020-01-01"}}, "set test_start or folds"),
    ({"split": {"folds": {"first_test": "2020-01-01", "training": "rolling"}}}, "needs train_bars"),
    ({"split": {"folds": {"first_test": "2020-01-01", "train_bars": 100}}}, "applies to training 'rolling'"),
    ({"split": {"folds": {"first_test": "2020-01-01", "length": 2}}}, "split.folds.length"),
    ({"split": {"folds": {"first_test": "2020-01-01", "gap": -2}}}, "split.folds.gap"),
    ({"split": {"folds": {"first_test": "2020-01-01", "lenght": "year"}}}, "did you mean 'length'"),
    ({"split": {"folds": {"first_test": "2020-01-01"}}, "strategies": {"m": {"kind": "mvo", "refit": 20}}},
     "strategies.m.refit: not with split.folds"),
])
def test_bad_fold_configs_are_clear_errors(raw, message):
    base = {"strategies": {"m": {"kind": "mvo"}}}
    with pytest.raises(ConfigError, match=message):
        parse_config({**base, **raw})


@pytest.mark.slow
def test_the_default_config_tests_2022_out_of_sample(tmp_path):
    """`make run`'s config.yaml: walk-forward folds 2022-2024, and Table 4's 2022 window has numbers
    and says out of sample for every strategy."""
    import json
    from pathlib import Path

    from bt_lstm_mvo.experiment.cli import main

    root = Path(__file__).resolve().parent.parent
    assert main([str(root / "config.yaml"), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [f["test_first"][:4] for f in res["folds"]["plan"]] == ["2022", "2023", "2024"]
    for name, s in res["stress"]["2022"].items():
        assert s["status"] == "ok" and s["overlaps_training"] is False and s["total_return"] is not None, name
    md = (tmp_path / "out" / "report.md").read_text()
    assert "Walk-forward folds" in md and "| Out of sample |" in md
