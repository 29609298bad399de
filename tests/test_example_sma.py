"""The plain-Backtrader example runs on real SPY data, charges 0.1% and reports sane analyzers."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sma_crossover.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("sma_crossover_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # backtrader's metaclasses look the strategy's module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result(data_dir):
    module = _load_example()
    return module.main([str(data_dir / "SPY.csv"), "--start", "2019-01-01", "--end", "2024-12-31"])


@pytest.mark.realdata
def test_commission_charged_at_one_tenth_percent(result):
    assert result["fills"] > 0
    assert result["commission_paid"] > 0
    assert result["commission_paid"] == pytest.approx(0.001 * result["traded_value"], rel=1e-9)


@pytest.mark.realdata
def test_analyzer_outputs_are_sane(result, data_dir):
    metrics = result["analyzers"]["metrics"]
    final_growth = result["final_value"] / result["start_cash"]
    assert metrics["total_return"] == pytest.approx(final_growth - 1, rel=1e-9)
    assert 250 < metrics["periods_per_year"] < 254
    assert metrics["n_periods"] == result["n_daily_returns"]
    assert (metrics["start"], metrics["end"]) == ("2019-01-02", "2024-12-31")
    assert -1 < metrics["max_drawdown"] < 0
    assert 0 < metrics["annual_volatility"] < 0.5
    assert metrics["sortino_ratio"] == result["analyzers"]["sortino"]["sortino_ratio"]
    assert result["analyzers"]["sortino_paper"]["variant"] == "paper"

    stress = result["analyzers"]["stress"]["windows"]
    assert stress["2022"]["status"] == "ok"
    assert (stress["2022"]["start"], stress["2022"]["end"]) == ("2022-01-03", "2022-12-30")
    assert stress["2022"]["overlaps_training"] is None
    assert stress["covid_crash"]["max_drawdown"] <= 0

    alpha = result["analyzers"]["alpha_vs_buy_hold"]
    assert [w["n_periods"] for w in alpha["windows"]] == [504, 503, 503]
    spy = pd.read_csv(data_dir / "SPY.csv", parse_dates=["Date"], index_col="Date")["Adj Close"]
    spy = spy.loc["2019-01-01":"2024-12-31"]
    assert alpha["total"]["benchmark_return"] == pytest.approx(spy.iloc[-1] / spy.iloc[0] - 1, rel=1e-9)
    assert alpha["total"]["alpha"] == pytest.approx(
        alpha["total"]["strategy_return"] - alpha["total"]["benchmark_return"], rel=1e-12
    )
    assert 0 < alpha["capm"]["beta"] < 1.2
    json.dumps(result, allow_nan=False)


@pytest.mark.realdata
def test_prints_json(data_dir, capsys):
    module = _load_example()
    module.main([str(data_dir / "SPY.csv"), "--start", "2023-01-01", "--end", "2023-12-31"])
    printed = json.loads(capsys.readouterr().out)
    assert printed["analyzers"]["stress"]["windows"]["2022"]["status"] == "outside traded period"
