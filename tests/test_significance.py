"""Paired block bootstrap of the LSTM - MVO difference, seed distribution and the report wording."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import CircularBlockBootstrap

from bt_lstm_mvo.analyzers import metrics as M
from bt_lstm_mvo.experiment.report.tables import significance_table
from bt_lstm_mvo.experiment.significance import (
    block_bootstrap_diff,
    compare,
    compare_experiment,
    default_block,
    seed_distribution,
)

PPY = 252.0


def pair(n=500, seed=0, drift=0.0, noise=0.004):
    """A market-like series b and a related series a = b + noise + drift (dated)."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2021-01-01", periods=n)
    b = pd.Series(rng.normal(0.0003, 0.012, n), index=idx)
    a = b + rng.normal(0.0, noise, n) + drift
    return a, b


def test_identical_series_give_zero_difference_and_are_not_significant():
    _, b = pair()
    res = block_bootstrap_diff(b, b.copy(), PPY, n_boot=500)
    for stat in ("sharpe", "total_return"):
        s = res[stat]
        assert s["diff"] == pytest.approx(0.0, abs=1e-12)
        assert s["ci95"] == pytest.approx([0.0, 0.0], abs=1e-12)
        assert s["p_value"] == pytest.approx(1.0)
        assert s["significant"] is False
    table = significance_table(compare([b], b, PPY, seeds=[0], n_boot=500))
    assert "The difference in Sharpe (lstm - mvo) is not significant at 95%" in table.notes[0]
    assert "The difference in total return (lstm - mvo) is not significant at 95%" in table.notes[1]


def test_large_constant_extra_drift_is_significant():
    a, b = pair(drift=0.002)  # +0.2% a day, about +50% a year
    res = block_bootstrap_diff(a, b, PPY, n_boot=1000)
    for stat in ("sharpe", "total_return"):
        s = res[stat]
        assert s["diff"] > 0
        assert s["ci95"][0] > 0
        assert s["significant"] is True
        assert s["p_value"] < 0.01
    table = significance_table(compare([a], b, PPY, seeds=[0], n_boot=1000))
    assert "The difference in Sharpe (lstm - mvo) is significant at 95%: +" in table.notes[0]
    # and the other way round: a lower series is significantly lower
    low = block_bootstrap_diff(b, a, PPY, n_boot=1000)["sharpe"]
    assert low["significant"] and low["ci95"][1] < 0


def test_point_estimates_match_analyzers_metrics():
    a, b = pair(seed=3)
    res = block_bootstrap_diff(a, b, PPY, n_boot=200)
    assert res["sharpe"]["a"] == pytest.approx(M.sharpe_ratio(a, PPY), rel=1e-12)
    assert res["sharpe"]["diff"] == pytest.approx(M.sharpe_ratio(a, PPY) - M.sharpe_ratio(b, PPY), rel=1e-12)
    assert res["total_return"]["diff"] == pytest.approx(M.total_return(a) - M.total_return(b), rel=1e-12)
    assert res["sharpe"]["ci95"][0] <= res["sharpe"]["diff"] <= res["sharpe"]["ci95"][1]


def test_bootstrap_matches_arch_apply_with_metrics_functions():
    """Independent reference: arch's own apply() with the analyzers.metrics functions."""
    a, b = pair(n=300, seed=7)
    res = block_bootstrap_diff(a, b, PPY, n_boot=300, block=5, seed=11)
    bs = CircularBlockBootstrap(5, a.to_numpy(), b.to_numpy(), seed=np.random.default_rng(11))
    ref = bs.apply(lambda x, y: np.array([M.sharpe_ratio(x, PPY) - M.sharpe_ratio(y, PPY),
                                           M.total_return(x) - M.total_return(y)]), 300)
    for j, stat in enumerate(("sharpe", "total_return")):
        assert res[stat]["ci95"] == pytest.approx(list(np.quantile(ref[:, j], [0.025, 0.975])), rel=1e-9)


def test_ci_shrinks_with_more_data():
    widths = []
    for n in (250, 2000):
        a, b = pair(n=n, seed=1, noise=0.006)
        lo, hi = block_bootstrap_diff(a, b, PPY, n_boot=500)["sharpe"]["ci95"]
        widths.append(hi - lo)
    assert widths[1] < 0.6 * widths[0]


def test_deterministic_for_a_seed_and_paired_on_common_dates():
    a, b = pair(seed=2)
    assert block_bootstrap_diff(a, b, PPY, n_boot=300, seed=5) == block_bootstrap_diff(a, b, PPY, n_boot=300, seed=5)
    other = block_bootstrap_diff(a, b, PPY, n_boot=300, seed=6)
    assert other["sharpe"]["ci95"] != block_bootstrap_diff(a, b, PPY, n_boot=300, seed=5)["sharpe"]["ci95"]
    shifted = block_bootstrap_diff(a.iloc[10:], b.iloc[:-5], PPY, n_boot=200)
    assert shifted["n"] == len(a) - 15
    assert shifted["block"] == default_block(len(a) - 15)
    stationary = block_bootstrap_diff(a, b, PPY, n_boot=300, method="stationary")
    assert stationary["method"] == "stationary" and stationary["sharpe"]["diff"] == pytest.approx(
        block_bootstrap_diff(a, b, PPY, n_boot=300)["sharpe"]["diff"], rel=1e-12)


def test_bad_arguments_are_clear():
    a, b = pair(n=50)
    with pytest.raises(ValueError, match="same length"):
        block_bootstrap_diff(a.to_numpy(), b.to_numpy()[:-1], PPY)
    with pytest.raises(ValueError, match="method must be one of"):
        block_bootstrap_diff(a, b, PPY, method="moving")
    with pytest.raises(ValueError, match="block must be between 1 and the 50"):
        block_bootstrap_diff(a, b, PPY, block=80)


def test_seed_distribution():
    d = seed_distribution({0: 1.0, 1: 2.0, 2: None, 3: 0.5}, 0.9)
    assert d["n"] == 3
    assert d["mean"] == pytest.approx(3.5 / 3, rel=1e-12)
    assert d["std"] == pytest.approx(float(np.std([1.0, 2.0, 0.5], ddof=1)), rel=1e-12)
    assert (d["min"], d["max"], d["beats"], d["baseline"]) == (0.5, 2.0, 2, 0.9)
    assert seed_distribution([0.3], None)["std"] is None


def test_compare_over_seeds_and_table_wording():
    _, b = pair(seed=4)
    better = pair(seed=4, drift=0.002)[0]  # same b, plus 0.2% a day
    same = b.copy()
    comp = compare([better, same], b, PPY, seeds=[0, 1], n_boot=400)
    assert [r["seed"] for r in comp["runs"]] == [0, 1]
    assert comp["distribution"]["sharpe"]["beats"] == 1
    table = significance_table(comp, title="T")
    assert [row[0] for row in table.rows] == ["0", "1"]
    assert table.notes[0] == ("The difference in Sharpe (lstm - mvo) is significant at 95% for 1 of 2 seeds "
                              "(lstm higher) and not significant for the other 1.")
    assert "Across 2 seeds, lstm Sharpe is" in table.notes[2]
    assert "block bootstrap" in table.notes[-1]
    assert "| Seed |" in table.markdown() and "<table>" in table.html()


def test_compare_experiment_uses_the_pair_runs():
    a, b = pair(seed=5)
    run = lambda r, s: SimpleNamespace(returns=r, seed=s)  # noqa: E731
    result = SimpleNamespace(
        config=SimpleNamespace(analysis=SimpleNamespace(alpha_pair=("lstm", "mvo"))),
        runs={"lstm": [run(a, 0), run(a * 0.5, 1)], "mvo": [run(b, None)]}, periods_per_year=PPY)
    comp = compare_experiment(result, n_boot=200)
    assert comp["seeds"] == [0, 1] and comp["a"] == "lstm" and comp["b"] == "mvo"
    assert comp["runs"][0]["sharpe"]["diff"] == pytest.approx(M.sharpe_ratio(a, PPY) - M.sharpe_ratio(b, PPY))
    assert compare_experiment(result, pair=("lstm", "equal_weight")) is None
