"""The notebook API: ``bt_lstm_mvo.run`` returns pandas objects read from the analyzers, ready for
QuantStats and pyfolio, and writes the runner's folder; the example script runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import bt_lstm_mvo
from bt_lstm_mvo.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

CFG = {
    "name": "api",
    "data": {"source": "synthetic", "tickers": ["BTC-USD", "SPY", "GLD"], "start": "2019-01-01",
             "end": "2020-12-31", "seed": 4},
    "split": {"test_start": "2020-03-02"},
    "strategies": {"mvo": {"kind": "mvo"}, "ew": {"kind": "equal_weight", "schedule": "weekly"}},
    "output": {"plots": False},
}


@pytest.fixture(scope="module")
def result():
    return bt_lstm_mvo.run(CFG)


def test_tables_have_dates_and_every_run(result):
    assert list(result.metrics.index) == ["mvo", "ew", "hold_BTC-USD", "hold_SPY", "hold_GLD"]
    assert isinstance(result.returns.index, pd.DatetimeIndex)
    assert result.returns.index[0] > pd.Timestamp("2020-03-02")
    assert list(result.returns.columns) == list(result.metrics.index)
    assert result.equity.iloc[-1]["mvo"] == pytest.approx(1 + result.metrics.loc["mvo", "total_return"], rel=1e-12)
    assert result.fits.loc[result.fits["run"] == "mvo", "last"].iloc[0] == pd.Timestamp("2020-03-02").date()
    assert set(result.positions) == set(result.metrics.index)
    assert {"amount", "price", "symbol"} <= set(result.transactions["ew"].columns)


def test_quantstats_agrees(result):
    import quantstats as qs

    ppy = result.results["data"]["periods_per_year"]
    for name in ("mvo", "ew"):
        r = result.to_quantstats(name)
        m = result.metrics.loc[name]
        assert qs.stats.sharpe(r, periods=ppy) == pytest.approx(m["sharpe"], rel=1e-9)
        assert qs.stats.max_drawdown(r) == pytest.approx(m["max_drawdown"], rel=1e-9)
        assert qs.stats.comp(r) == pytest.approx(m["total_return"], rel=1e-9)


def test_pyfolio_inputs(result):
    returns, positions, transactions = result.to_pyfolio("ew")
    for x in (returns, positions, transactions):
        assert str(x.index.tz) == "UTC"
    assert "cash" in positions.columns and positions.index[0].date() == pd.Timestamp("2020-03-02").date()
    # weekly rebalancing: fills only on the first bar of each week
    assert transactions.index.normalize().nunique() <= len(pd.date_range("2020-03-02", "2020-12-31", freq="W")) + 1
    with pytest.raises(ConfigError, match="'nope' is not in this result"):
        result.to_pyfolio("nope")


def test_write_makes_the_runner_folder(result, tmp_path):
    out = result.write(tmp_path / "out")
    names = {p.name for p in out.iterdir()}
    assert {"results.json", "returns.csv", "positions_mvo.csv", "transactions_ew.csv", "report.html"} <= names
    with pytest.raises(ConfigError, match="already exists"):
        result.write(tmp_path / "out")


def test_run_accepts_paths_and_refuses_other_things(tmp_path):
    with pytest.raises(ConfigError, match="expected a YAML path, a dict or an ExperimentConfig"):
        bt_lstm_mvo.run(42)
    with pytest.raises(ConfigError, match="absent.yaml"):
        bt_lstm_mvo.run(tmp_path / "absent.yaml")


@pytest.mark.slow
def test_example_script_runs(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "notebook_api.py"), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "mvo Sharpe: ours" in proc.stdout and (tmp_path / "out" / "report.html").is_file()
    ours, theirs = proc.stdout.split("mvo Sharpe: ours ")[1].split(", QuantStats ")
    assert float(ours) == pytest.approx(float(theirs.split()[0]), rel=1e-5)


def test_weights_are_the_ones_that_earned_each_return():
    """Without commission, a run's return on day d is exactly the held weights (dated d) times
    the assets' returns on d: the weights table lines up with returns.csv, row for row."""
    cfg = {**CFG, "broker": {"commission": 0.0}, "strategies": {"ew": {"kind": "equal_weight", "schedule": "weekly"}},
           "buy_and_hold_benchmarks": False}
    result = bt_lstm_mvo.run(cfg)
    w = result.weights["ew"]
    r = result.returns["ew"]
    assert w.index.equals(r.index) and (w.sum(axis=1) - 1.0).abs().max() < 1e-12
    asset_returns = result.experiment.market.closes().pct_change().loc[r.index, ["BTC-USD", "SPY", "GLD"]]
    explained = (w[["BTC-USD", "SPY", "GLD"]] * asset_returns).sum(axis=1)
    assert (explained - r).abs().max() < 1e-12


@pytest.mark.realdata
def test_external_benchmark_alpha_beta_match_empyrical(data_dir, tmp_path):
    """``analysis.benchmark: SPY`` for a portfolio without SPY: alpha and beta as empyrical gives
    them from the returns and SPY's own closes read independently."""
    import empyrical

    cfg = {"name": "bm", "data": {"source": "csv", "tickers": ["BTC-USD", "ETH-USD", "GLD"], "start": "2020-01-01",
                                  "end": "2022-12-31", "data_dir": str(data_dir)},
           "split": {"test_start": "2022-01-03"}, "strategies": {"ew": {"kind": "equal_weight"}},
           "buy_and_hold_benchmarks": False, "analysis": {"benchmark": "SPY"}, "output": {"plots": True}}
    result = bt_lstm_mvo.run(cfg)
    ext = result.results["external_benchmark"]["strategies"]["ew"]
    spy = pd.read_csv(data_dir / "SPY.csv", index_col="Date", parse_dates=True)["Adj Close"]
    r = result.returns["ew"]
    b = spy.pct_change().reindex(r.index)
    assert b.notna().all()  # SPY trades on every bar of this calendar
    alpha, beta = empyrical.alpha_beta(r, b, annualization=result.results["data"]["periods_per_year"])
    assert ext["capm"]["beta"] == pytest.approx(beta, rel=1e-9)
    assert ext["capm"]["alpha"] == pytest.approx(alpha, rel=1e-9)
    assert ext["total"]["benchmark_return"] == pytest.approx(float((1 + b).prod() - 1), rel=1e-12)
    out = result.write(tmp_path / "out")
    assert "Against the benchmark SPY" in (out / "report.md").read_text()


def test_external_benchmark_errors():
    bad = {**CFG, "analysis": {"benchmark": "../x"}}
    with pytest.raises(ConfigError, match="analysis.benchmark: ticker '../x' is not allowed"):
        bt_lstm_mvo.run(bad)
    with pytest.raises(ConfigError, match="ZZZ"):
        bt_lstm_mvo.run({**CFG, "analysis": {"benchmark": "ZZZ"}})


def test_a_benchmark_that_ends_early_is_refused(tmp_path):
    """A benchmark shorter than the data would be carried forward flat (returns 0): refused."""
    rows = ["Date,Open,High,Low,Close,Adj Close,Volume"]
    for i, d in enumerate(pd.bdate_range("2019-01-01", "2020-06-30")):
        rows.append(f"{d.date()},{100 + i * 0.1},{101 + i * 0.1},{99 + i * 0.1},{100 + i * 0.1},{100 + i * 0.1},1000")
    path = tmp_path / "SHORT.csv"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(ConfigError, match=r"benchmark: .*SHORT.csv covers 2019-01-01..2020-06-30, not the whole"):
        bt_lstm_mvo.run({**CFG, "analysis": {"benchmark": str(path)}})
