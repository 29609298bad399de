"""The README's code and commands stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


@pytest.mark.realdata
def test_readme_python_example_runs(data_dir, monkeypatch, capsys):
    block = re.findall(r"```python\n(.*?)```", README, re.S)[0]
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
