"""The runner end to end: outputs complete, self-contained, labelled, and never half-written."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

import runner
from bt_lstm_mvo.experiment.report import files as outputs

TINY = {
    "name": "tiny",
    "data": {"source": "synthetic", "tickers": ["BTC-USD", "SPY", "GLD"], "start": "2019-01-01",
             "end": "2020-12-31", "seed": 3},
    "split": {"train_fraction": 0.75},
    "strategies": {
        "lstm": {"kind": "lstm", "seeds": [0, 1],
                 "params": {"hidden_size": 8, "epochs": 2, "rsi_warmup_bars": 60}},
        "mvo": {"kind": "mvo"},
        "ew": {"kind": "equal_weight", "schedule": "weekly"},
    },
    "analysis": {"alpha_pair": ["lstm", "mvo"]},
}


def _write(tmp_path, cfg):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_backtest_outputs(tmp_path, capsys):
    out = tmp_path / "out"
    assert runner.main([str(_write(tmp_path, TINY)), "--out", str(out), "--quiet"]) == 0
    names = {p.name for p in out.iterdir()}
    for f in ("results.json", "returns.csv", "equity.csv", "weights_lstm.csv", "targets_mvo.csv", "equity.png",
              "drawdown.png", "weights_lstm.png", "alpha.png", "report.md", "report.html"):
        assert f in names, f
    res = json.loads((out / "results.json").read_text())
    assert res["data"]["synthetic"] is True
    assert res["strategies"]["lstm"]["seeds"] == [0, 1]
    assert len(res["strategies"]["lstm"]["runs"]) == 2
    assert res["strategies"]["lstm"]["metrics_std"]["total_return"] is not None
    assert set(res["benchmarks"]) == {"BTC-USD", "SPY", "GLD"}
    assert res["data"]["fingerprint"]["seed"] == 3 and res["versions"]["backtrader"]
    assert len(res["alpha"]["windows"]) == 3
    assert res["stress"]["2022"]["mvo"]["status"] == "outside traded period"
    # every strategy's returns over the test period agree with results.json
    rets = pd.read_csv(out / "returns.csv", index_col=0, parse_dates=True)
    total = float((1 + rets["mvo"]).prod() - 1)
    assert total == pytest.approx(res["strategies"]["mvo"]["metrics"]["total_return"], rel=1e-9)
    assert rets.index[0] > pd.Timestamp(res["split"]["test_start"])
    # the report's figures equal an independent formula (empyrical) on the written returns, with
    # the annualisation factor measured over every bar of the run (the plugin's rule)
    import empyrical

    ppy = res["data"]["periods_per_year"]
    assert ppy == pytest.approx((res["data"]["bars"] - 1) / ((pd.Timestamp(res["data"]["last_date"])
                                - pd.Timestamp(res["data"]["first_date"])).days / 365.25), rel=1e-12)
    for name in ("mvo", "ew"):
        m = res["strategies"][name]["metrics"]
        r = rets[name].dropna()
        assert m["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, annualization=ppy), rel=1e-9)
        assert m["sortino"] == pytest.approx(empyrical.sortino_ratio(r, annualization=ppy), rel=1e-9)
        assert m["max_drawdown"] == pytest.approx(empyrical.max_drawdown(r), rel=1e-9)
    # the tearsheet section comes from the TearsheetStats analyzer and agrees with QuantStats
    import quantstats as qs

    ts = res["strategies"]["mvo"]["runs"][0]["analyzers"]["tearsheet"]
    eoy = qs.stats.monthly_returns(rets["mvo"].dropna())["EOY"]
    expected = {str(y): v for y, v in eoy.items()}
    assert {y: pytest.approx(v, rel=1e-8) for y, v in ts["yearly"].items()} == expected  # the CSV has 10 digits
    assert "rolling_mvo.png" in names
    md = (out / "report.md").read_text()
    assert "Tearsheet: mvo - monthly returns" in md and "Tearsheet: lstm (first seed) - worst drawdowns" in md
    html = (out / "report.html").read_text()
    assert "SYNTHETIC DATA" in md and "SYNTHETIC DATA" in html
    for table in ("Table 1", "Table 2", "Table 3", "Table 4"):
        assert table in md and table in html
    assert "data:image/png;base64," in html and "src='equity.png'" not in html
    assert not list(tmp_path.glob("*.partial-*"))


def test_crash_leaves_no_complete_looking_output(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outputs.plots, "weights_plot", boom)
    out = tmp_path / "out"
    cfg = {**TINY, "strategies": {"ew": {"kind": "equal_weight"}}, "analysis": {"alpha_pair": None}}
    with pytest.raises(RuntimeError, match="disk full"):
        runner.main([str(_write(tmp_path, cfg)), "--out", str(out), "--quiet"])
    assert not out.exists()
    assert not list(tmp_path.glob("out*"))


def test_existing_out_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    cfg = {**TINY, "strategies": {"ew": {"kind": "equal_weight"}}, "analysis": {}}
    assert runner.main([str(_write(tmp_path, cfg)), "--out", str(out), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.realdata
@pytest.mark.slow
def test_notebook_replication_mode(tmp_path, data_dir):
    cfg = {"name": "repl", "mode": "notebook_replication", "data": {"source": "csv", "data_dir": str(data_dir)},
           "replication": {"seeds": [0], "epochs": 3}}
    out = tmp_path / "out"
    assert runner.main([str(_write(tmp_path, cfg)), "--out", str(out), "--quiet"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert round(res["mvo"]["metrics"]["total_return"] * 100, 2) == 150.96
    assert round(res["mvo"]["metrics"]["max_drawdown"] * 100, 2) == -17.68
    assert res["test"]["n_days"] == 292
    assert all(r < 0 for r in res["asset_returns_2022"].values())
    assert "Table 4" in (out / "report.md").read_text()


def test_sweep_through_the_runner(tmp_path):
    cfg = {**TINY, "strategies": {"mvo": {"kind": "mvo"}, "ew": {"kind": "equal_weight"}},
           "analysis": {"alpha_pair": ["mvo", "ew"]},
           "sweep": {"strategy": "mvo", "grid": {"schedule": ["daily", "weekly"]}, "compare_to": "ew",
                     "workers": 1, "n_boot": 200}}
    out = tmp_path / "out"
    assert runner.main([str(_write(tmp_path, cfg)), "--out", str(out), "--quiet"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert len(res["sweep"]["table"]) == 2 and not res["sweep"]["failures"]
    md = (out / "report.md").read_text()
    assert "Sweep - mvo over schedule" in md and "Significance - mvo vs ew" in md
    assert res["significance"]["verdicts"][0].startswith("The difference in Sharpe (mvo - ew)")
    assert any(p.name.startswith("sweep_") for p in out.glob("*.png"))


def test_progress_lines_in_a_log_and_quiet_prints_only_the_folder(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    cfg = _write(tmp_path, TINY)
    proc = subprocess.run([sys.executable, str(root / "runner.py"), str(cfg), "--out", str(tmp_path / "a")],
                          capture_output=True, text=True, timeout=600, cwd=root)
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    assert "\r" not in err  # not a terminal: no progress-bar frames glued onto the lines
    assert err.startswith("starting: ")
    runs = [line for line in err.splitlines() if "] running " in line]
    total = len(TINY["strategies"]["lstm"]["seeds"]) + len(TINY["strategies"]) - 1 + len(TINY["data"]["tickers"])
    assert [line.split("] [")[1].split("]")[0] for line in runs] == [f"{k}/{total}" for k in range(1, total + 1)]
    assert "ETA" in runs[-1] and "buy-and-hold" in runs[-1]
    quiet = subprocess.run([sys.executable, str(root / "runner.py"), str(cfg), "--out", str(tmp_path / "b"),
                            "--quiet"], capture_output=True, text=True, timeout=600, cwd=root)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout == f"{tmp_path / 'b'}\n"
