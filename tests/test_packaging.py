"""The wheel installs one namespaced package that drops into an existing Backtrader project.

Builds the wheel from the repository, checks its top level is exactly ``bt_lstm_mvo`` (+ its
dist-info), installs it into a fresh virtual environment (third-party dependencies are borrowed
from the test interpreter's site-packages through a ``.pth`` line, so nothing is downloaded;
that line adds a path without running its ``.pth`` files, so the editable install of the
source tree stays invisible), and in a folder that has its own ``strategies/``, ``analyzers/``
and ``feeds/`` packages runs the README's "own Backtrader script" example unchanged. The
user's packages stay importable beside ours, and the entry points work.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _readme_example() -> str:
    """The first Python block of the README's "own Backtrader script" section."""
    section = README.split("## Using the parts in your own Backtrader script", 1)[1]
    return re.findall(r"```python\n(.*?)```", section, re.S)[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a clean copy of the tree (a stale build/ folder in the checkout,
    left by an earlier layout, would otherwise be packed too)."""
    out = tmp_path_factory.mktemp("wheel")
    src = tmp_path_factory.mktemp("src") / "bt-lstm-mvo"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info",
                                                             "__pycache__", "results", ".pytest_cache"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = out.glob("bt_lstm_mvo-*.whl")
    return path


def test_wheel_has_exactly_one_top_level_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"bt_lstm_mvo"}
    assert len([t for t in tops if t.endswith(".dist-info")]) == 1
    # the user's folders are inside the package, and nothing of tests/scripts/benchmarks is shipped
    for sub in ("strategies", "feeds", "analyzers", "allocators", "allocators/lstm", "experiment",
                "experiment/report", "experiment/paper"):
        assert f"bt_lstm_mvo/{sub}/__init__.py" in names, sub
    assert not [n for n in names if re.search(r"(^|/)(tests|scripts|benchmarks)/", n)]
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "bt-lstm-mvo = bt_lstm_mvo.launcher:main" in entry


@pytest.mark.slow
@pytest.mark.realdata
def test_readme_example_runs_in_a_project_with_its_own_packages(wheel, tmp_path, data_dir):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    (site / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "--ignore-installed",
         "-q", str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr

    project = tmp_path / "project"
    for pkg in ("strategies", "analyzers", "feeds"):
        (project / pkg).mkdir(parents=True)
        (project / pkg / "__init__.py").write_text(f"OWNER = 'user-{pkg}'\n")
    (project / "analyzers" / "mine.py").write_text("class PaperMetrics:  # the user's own, same name as ours\n"
                                                   "    pass\n")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(data_dir)  # the README's "../shared/data" from the project
    check = textwrap.dedent("""
        import strategies, analyzers, feeds, bt_lstm_mvo
        from analyzers.mine import PaperMetrics as Mine
        print("USER", strategies.OWNER, analyzers.OWNER, feeds.OWNER, Mine.__module__)
        print("OURS", bt_lstm_mvo.__file__)
    """)
    (project / "script.py").write_text(_readme_example() + check)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LMBT_DATA_DIR")}
    proc = subprocess.run([str(py), "script.py"], cwd=project, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "'total_return':" in out and "'sharpe_ratio':" in out
    assert "USER user-strategies user-analyzers user-feeds analyzers.mine" in out
    ours = next(line for line in out.splitlines() if line.startswith("OURS"))
    assert str(env_dir) in ours and str(ROOT) not in ours  # the wheel, not the source tree

    for cmd in ([str(env_dir / "bin" / "bt-lstm-mvo"), "run", "--help"], [str(py), "-m", "bt_lstm_mvo", "--help"]):
        helped = subprocess.run(cmd, cwd=project, capture_output=True, text=True, timeout=120, env=env)
        assert helped.returncode == 0 and "--data-dir" in helped.stdout, helped.stderr
