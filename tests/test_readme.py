"""The README's code and commands stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


@pytest.mark.realdata
def test_readme_python_example_runs(data_dir, monkeypatch, capsys):
    section = README.split("## Using the parts in your own Backtrader script", 1)[1]
    block = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    monkeypatch.chdir(ROOT)
    code = block.replace('"../shared/data"', repr(str(data_dir)))
    exec(compile(code, "README.md", "exec"), {})
    assert "total_return" in capsys.readouterr().out


def test_readme_commands_exist():
    for path in re.findall(r"`python ((?:scripts|benchmarks|examples)/[\w/]+\.py)", README):
        assert (ROOT / path).is_file(), path
    for cfg in re.findall(r"`(configs/[\w-]+\.yaml)`", README):
        assert (ROOT / cfg).is_file(), cfg
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make test" in README


def test_readme_notebook_block_names_real_api():
    from bt_lstm_mvo.experiment.api import RunResult

    section = README.split("### From a notebook", 1)[1]
    block = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    used = set(re.findall(r"result\.(\w+)", block))
    assert used >= {"metrics", "returns", "positions", "to_quantstats", "to_pyfolio", "write"}
    assert all(hasattr(RunResult, name) for name in used), used - {n for n in used if hasattr(RunResult, n)}


def _run_first_block(heading: str, data_dir, monkeypatch) -> dict:
    """Execute the first ``python`` block after ``heading`` (on the test data folder); its globals."""
    section = README.split(heading, 1)[1]
    block = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(block.replace('"../shared/data"', repr(str(data_dir))), "README.md", "exec"), scope)
    return scope


@pytest.mark.realdata
def test_readme_broker_realism_example_runs(data_dir, monkeypatch, capsys):
    scope = _run_first_block("## Broker realism", data_dir, monkeypatch)
    costs, stats = scope["strat"].analyzers.costs.get_analysis(), scope["strat"].order_stats
    assert costs["spread"] > 0 and costs["fee"] > 0 and costs["interest"] > 0
    assert stats["Completed"] == sum(stats.values()) > 0
    assert all(f["size"] == round(f["size"]) for f in scope["strat"].fills if f["asset"] == "SPY")
    assert "'spread'" in capsys.readouterr().out


@pytest.mark.realdata
def test_readme_array_engine_example_runs(data_dir, monkeypatch, capsys):
    _run_first_block("## Two engines: Backtrader and the array engine", data_dir, monkeypatch)
    lines = capsys.readouterr().out.split("\n")
    finals = [float(line.split()[1]) for line in lines if line.strip()]
    assert len(finals) == 3 and finals[0] > finals[1] > finals[2]  # more cost, less left
