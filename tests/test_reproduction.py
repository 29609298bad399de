"""REPRODUCTION.md is generated from reproduction/*.json, and those numbers come from the code.

* The document equals a fresh rendering of the stored results (fast).
* The deterministic pieces are recomputed from the data and must equal the stored numbers:
  the MVO replication table, and the Backtrader runs of MVO / equal weight of the real-data
  configs. One LSTM seed is re-trained and compared too (slow).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bt_lstm_mvo.experiment.config import load_config
from bt_lstm_mvo.experiment.paper.reproduction import load, render
from bt_lstm_mvo.experiment.report.results import collect
from bt_lstm_mvo.experiment.run import run_experiment

ROOT = Path(__file__).resolve().parent.parent
STORE = ROOT / "reproduction"


def _stored(name):
    return json.loads((STORE / f"{name}.json").read_text())


def test_document_is_a_fresh_rendering_of_the_stored_results():
    pieces = load(STORE)
    assert {"mvo-replication", "paper-replication", "paper-real", "walk-forward"} <= set(pieces)
    assert (ROOT / "REPRODUCTION.md").read_text() == render(pieces)


def _close(a, b, rel=1e-9):
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            _close(a[k], b[k], rel)
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=rel, abs=1e-12)
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, rel)
    else:
        assert a == b


@pytest.mark.realdata
def test_mvo_replication_numbers_recomputed(data_dir):
    from bt_lstm_mvo.experiment.paper.corrected import backtrader_mvo, corrected_mvo
    from bt_lstm_mvo.experiment.paper.notebook import replicate_notebook_mvo
    from bt_lstm_mvo.jsonsafe import json_clean as _clean

    cols = _stored("mvo-replication")["columns"]
    _close(cols["Notebook replication"], _clean(replicate_notebook_mvo(data_dir)))
    _close(cols["Corrected (no look-ahead)"], _clean(corrected_mvo(data_dir)))
    _close(cols["Backtrader constant mix"], _clean(backtrader_mvo(data_dir, "constant_mix")), rel=1e-7)


def _rerun(config, data_dir, keep):
    cfg = load_config(ROOT / config)
    cfg.strategies = {k: v for k, v in cfg.strategies.items() if k in keep}
    cfg.buy_and_hold_benchmarks = False
    cfg.analysis.alpha_pair = None
    for spec in cfg.strategies.values():
        if spec.kind == "lstm":
            spec.seeds = spec.seeds[:1]
    return collect(run_experiment(cfg, data_dir=data_dir, progress=False))


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("piece, config", [("paper-real", "configs/paper-split.yaml"),
                                           ("walk-forward", "configs/walk-forward.yaml")])
def test_backtest_numbers_recomputed(data_dir, piece, config):
    stored = _stored(piece)
    fresh = _rerun(config, data_dir, keep={"mvo", "mvo_hold", "equal_weight"})
    for name, s in fresh["strategies"].items():
        _close(stored["strategies"][name]["metrics"], s["metrics"], rel=1e-7)
        assert stored["strategies"][name]["runs"][0]["final_target"] == pytest.approx(
            s["runs"][0]["final_target"], rel=1e-7)


@pytest.mark.realdata
@pytest.mark.slow
def test_one_lstm_seed_recomputed(data_dir):
    stored = _stored("paper-real")["strategies"]["lstm"]["runs"][0]
    fresh = _rerun("configs/paper-split.yaml", data_dir, keep={"lstm"})["strategies"]["lstm"]["runs"][0]
    assert fresh["seed"] == stored["seed"]
    assert fresh["metrics"]["total_return"] == pytest.approx(stored["metrics"]["total_return"], abs=1e-6)
    assert fresh["final_target"] == pytest.approx(stored["final_target"], abs=1e-6)


def test_readme_quotes_the_stored_robustness_findings():
    from bt_lstm_mvo.experiment.report.study import findings

    assert findings(_stored("robustness")) in (ROOT / "README.md").read_text()
    for image in re.findall(r"\]\((reproduction/[\w.-]+\.png)\)", (ROOT / "REPRODUCTION.md").read_text()):
        assert (ROOT / image).is_file(), image  # the document's plots are committed beside its results


@pytest.mark.realdata
@pytest.mark.slow
def test_robustness_deterministic_runs_recomputed(data_dir):
    """The study's MVO and equal-weight runs (every universe, both cost levels: the second a replay)
    recomputed from the data give the stored per-fold figures."""
    from bt_lstm_mvo.experiment.study import expand_study, run_study_task

    cfg = load_config(ROOT / "configs" / "robustness.yaml")
    stored = {(r["universe"], r["strategy"], r["seed"]): r for r in _stored("robustness")["records"]}
    tasks = [t for t in expand_study(cfg, data_dir) if t["strategy"] in ("mvo", "equal_weight")]
    assert len(tasks) == 2 * len(cfg.study.universes)
    for task in tasks:
        fresh = run_study_task(task)
        assert fresh["status"] == "ok", fresh.get("error")
        old = stored[(task["universe"], task["strategy"], task["seed"])]
        assert fresh["plan"] == old["plan"] and fresh["fits"] == old["fits"]
        for level, got in fresh["levels"].items():
            _close(old["levels"][level]["folds"], got["folds"], rel=1e-7)
            _close(old["levels"][level]["metrics"], got["metrics"], rel=1e-7)


def test_readme_quotes_the_stored_cost_findings():
    """The README's cost sentence is generated from reproduction/costs.json (configs/costs.yaml)."""
    from bt_lstm_mvo.experiment.report.study import cost_findings

    assert cost_findings(_stored("costs")) in (ROOT / "README.md").read_text()


@pytest.mark.realdata
@pytest.mark.slow
def test_cost_study_deterministic_runs_recomputed(data_dir):
    """configs/costs.yaml promises 0-50 bps and the realistic preset; its MVO and equal-weight runs
    recomputed from the data (every level and the preset: replays) give the stored figures."""
    from bt_lstm_mvo.experiment.study import expand_study, run_study_task

    cfg = load_config(ROOT / "configs" / "costs.yaml")
    assert min(cfg.study.commissions) == 0 and max(cfg.study.commissions) >= 0.005
    assert cfg.study.cost_presets == ["realistic"]
    assert {"lstm", "mvo", "mvo_hold", "equal_weight"} <= set(cfg.strategies)
    stored = {(r["universe"], r["strategy"], r["seed"]): r for r in _stored("costs")["records"]}
    for task in [t for t in expand_study(cfg, data_dir) if t["strategy"] in ("mvo", "equal_weight")]:
        fresh = run_study_task(task)
        assert fresh["status"] == "ok", fresh.get("error")
        old = stored[(task["universe"], task["strategy"], task["seed"])]
        for group in ("levels", "presets"):
            for level, got in fresh[group].items():
                _close(old[group][level]["metrics"], got["metrics"], rel=1e-7)
                _close(old[group][level]["costs"], got["costs"], rel=1e-7)
