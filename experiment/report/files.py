"""Write an experiment's outputs into a folder, atomically.

Everything is written into ``<out>.partial-<pid>`` first and renamed to ``<out>`` only when
complete; on any error or Ctrl-C the partial folder is removed. So a folder named ``<out>``
always holds a complete result, and a crash never leaves a complete-looking partial report.

Files: ``results.json``, ``returns.csv``, ``equity.csv``, ``weights_<strategy>.csv`` (held, per
bar), ``targets_<strategy>.csv`` (per rebalance), PNG plots, ``report.md`` and a self-contained
``report.html``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.experiment.report import plots
from bt_lstm_mvo.experiment.report.tables import render_html, render_markdown


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


@contextlib.contextmanager
def atomic_dir(out: Path):
    out = Path(out)
    if out.exists():
        raise ConfigError(f"--out: {out} already exists; choose a new folder (results are never overwritten)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.rename(out)


def write_outputs(result, res: dict, out: Path, make_plots: bool = True, extra_plots=None) -> Path:
    """Write every output file of one experiment into ``out`` (created; must not exist)."""
    with atomic_dir(out) as tmp:
        returns = {n: runs[0].returns for n, runs in result.runs.items()}
        bench = {f"hold {t}": b.returns for t, b in result.benchmarks.items()}
        all_returns = pd.DataFrame({**returns, **bench})
        for name, runs in result.runs.items():
            if len(runs) > 1:
                for r in runs[1:]:
                    all_returns[f"{name} (seed {r.seed})"] = r.returns
        all_returns.index.name = "date"
        all_returns.to_csv(tmp / "returns.csv", float_format="%.10g")
        equity = (1 + all_returns.fillna(0.0)).cumprod()
        equity.to_csv(tmp / "equity.csv", float_format="%.10g")
        for name, runs in result.runs.items():
            runs[0].weights_held.rename_axis("date").to_csv(tmp / f"weights_{_safe(name)}.csv", float_format="%.8g")
            runs[0].weights_target.rename_axis("date").to_csv(tmp / f"targets_{_safe(name)}.csv",
                                                              float_format="%.8g")

        images: dict[str, Path] = {}
        if make_plots:
            note = "SYNTHETIC market - not real prices" if res["data"]["synthetic"] else res["data"]["label"]
            images["Equity (growth of $1)"] = plots.equity_plot(
                returns, bench, tmp / "equity.png", f"{res['name']}: growth of $1 over the test period", note)
            images["Drawdowns"] = plots.drawdown_plot(returns, tmp / "drawdown.png",
                                                      f"{res['name']}: drawdowns", note)
            for name, runs in result.runs.items():
                images[f"Weights: {name}"] = plots.weights_plot(
                    runs[0].weights_held, tmp / f"weights_{_safe(name)}.png", f"{name}: held weights", note)
            if res.get("alpha"):
                a, b = res["alpha"]["pair"]
                images[f"Alpha: {a} vs {b}"] = plots.alpha_plot(
                    res["alpha"]["windows"], tmp / "alpha.png", f"Excess return of {a} over {b}", note)
            for title, fn in (extra_plots or {}).items():
                images[title] = fn(tmp)

        (tmp / "results.json").write_text(json.dumps(res, indent=2, allow_nan=False))
        rel = {title: p.name for title, p in images.items()}
        (tmp / "report.md").write_text(render_markdown(res, rel))
        (tmp / "report.html").write_text(render_html(res, images))
    return Path(out)
