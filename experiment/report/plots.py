"""PNG plots of an experiment: equity, drawdowns, weights, rolling alpha, lambda sensitivity.

Each function takes plain pandas objects, writes one PNG and returns its path. Matplotlib runs
on the non-interactive Agg backend (no display needed).
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from bt_lstm_mvo.analyzers.metrics import underwater  # noqa: E402
from bt_lstm_mvo.experiment.sweep import SweepResult  # noqa: E402


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _subtitle(ax, note: str):
    if note:
        ax.set_title(note, fontsize=8, loc="left", color="dimgray")


STRATEGY_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
BENCHMARK_STYLES = (("dimgray", "--"), ("gray", ":"), ("darkgray", "-."), ("black", (0, (1, 3))),
                    ("silver", (0, (5, 2, 1, 2))))


def _growth(series) -> tuple[pd.Series, pd.DataFrame | None]:
    """Growth of $1 of one run, or the mean of several (seeds) with their per-date min and max."""
    if isinstance(series, pd.Series):
        return (1 + series).cumprod(), None
    paths = pd.concat([(1 + r).cumprod() for r in series], axis=1)
    return paths.mean(axis=1), paths.agg(["min", "max"], axis=1)


def _plain_log_ticks(ax) -> None:
    """Log axis labelled 0.8, 1, 2, 5 (not 8x10^-1, 2x10^0)."""
    fmt = FuncFormatter(lambda y, _: f"{y:g}")
    ax.yaxis.set_major_formatter(fmt)
    ax.yaxis.set_minor_formatter(fmt)
    ax.tick_params(axis="y", which="minor", labelsize=7)


def equity_plot(returns: dict, benchmarks: dict[str, pd.Series], path: Path, title: str, note: str = "") -> Path:
    """Growth of $1: strategies solid and coloured (a list of runs, one per seed, is drawn as their
    mean with a min-max band, and labelled so), buy-and-hold lines grey with distinct dashes."""
    fig, ax = plt.subplots(figsize=(10, 5))
    for (name, r), color in zip(returns.items(), STRATEGY_COLORS * 4):
        mean, band = _growth(r)
        label = name if band is None else f"{name} (mean of {len(r)} seeds; band: min-max)"
        ax.plot(mean.index, mean.to_numpy(), label=label, linewidth=1.8, color=color)
        if band is not None:
            ax.fill_between(band.index, band["min"].to_numpy(), band["max"].to_numpy(), color=color, alpha=0.15)
    for (name, r), (color, style) in zip(benchmarks.items(), BENCHMARK_STYLES * 4):
        ax.plot((1 + r).cumprod(), label=name, linewidth=1.0, linestyle=style, color=color)
    ax.set_ylabel("growth of $1 (log scale)")
    ax.set_yscale("log")
    _plain_log_ticks(ax)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, ncol=2, loc="upper left")
    fig.suptitle(title)
    _subtitle(ax, note)
    return _save(fig, path)


def drawdown_plot(returns: dict, path: Path, title: str, note: str = "") -> Path:
    """Underwater curves (drawdown from the running peak) as lines, one colour per strategy (the
    first seed of a several-seed strategy)."""
    fig, ax = plt.subplots(figsize=(10, 4))
    for (name, r), color in zip(returns.items(), STRATEGY_COLORS * 4):
        if not isinstance(r, pd.Series):
            r, name = r[0], f"{name} (first seed)"
        dd = underwater(r)
        ax.plot(dd.index, dd.to_numpy() * 100, label=name, linewidth=1.2, color=color)
    ax.set_ylabel("drawdown (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle(title)
    _subtitle(ax, note)
    return _save(fig, path)


def weights_plot(weights: pd.DataFrame, path: Path, title: str, note: str = "") -> Path:
    """Stack plot of held weights per bar (cash is the gap to 1)."""
    fig, ax = plt.subplots(figsize=(10, 4))
    w = weights.fillna(0.0).clip(lower=0.0)
    ax.stackplot(w.index, [w[c].to_numpy() for c in w.columns], labels=list(w.columns), alpha=0.85)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("weight")
    ax.legend(fontsize=8, loc="upper left", ncol=len(w.columns))
    ax.grid(alpha=0.3)
    fig.suptitle(title)
    _subtitle(ax, note)
    return _save(fig, path)


def alpha_plot(windows: list[dict], path: Path, title: str, note: str = "") -> Path:
    """Bars of excess return per non-overlapping window."""
    fig, ax = plt.subplots(figsize=(8, 4))
    labels = [f"{w['start']}\n..{w['end']}" for w in windows]
    values = [100 * (w["alpha"] or 0.0) for w in windows]
    colors = ["tab:green" if v >= 0 else "tab:red" for v in values]
    ax.bar(labels, values, color=colors)
    for i, v in enumerate(values):
        ax.annotate(f"{v:+.1f}%", (i, v), ha="center", va="bottom" if v >= 0 else "top", fontsize=9)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.margins(y=0.25)  # room for the labels inside the axes
    ax.set_ylabel("excess return (%)")
    fig.suptitle(title)
    _subtitle(ax, note)
    return _save(fig, path)


def rolling_plot(rolling: dict, path: Path, title: str, note: str = "") -> Path:
    """Rolling Sharpe (top) and annualised volatility (bottom) from a ``TearsheetStats`` analysis."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    for ax, key, label, scale in ((top, "sharpe", "Sharpe", 1.0), (bottom, "volatility", "volatility (%)", 100.0)):
        series = pd.Series(rolling.get(key) or {}, dtype=float)
        if not series.empty:
            series.index = pd.to_datetime(series.index)
            ax.plot(series.index, scale * series.to_numpy(), linewidth=1.2)
        ax.set_ylabel(f"rolling {label}")
        ax.grid(alpha=0.3)
    top.axhline(0, color="black", linewidth=0.8)
    fig.suptitle(f"{title} ({rolling.get('bars')}-bar window)")
    _subtitle(bottom, note)
    return _save(fig, path)


def monthly_heatmap(monthly: dict, path: Path, title: str, note: str = "") -> Path:
    """Monthly returns (``TearsheetStats`` ``monthly``: {year: {month: return}}) as a red-green
    heatmap with the value in each cell; blank where the test period has no return."""
    years = sorted(monthly, key=int)
    table = np.full((len(years), 12), np.nan)
    for i, y in enumerate(years):
        for m, v in monthly[y].items():
            table[i, int(m) - 1] = 100.0 * v
    limit = max(1.0, float(np.nanmax(np.abs(table)))) if np.isfinite(table).any() else 1.0
    fig, ax = plt.subplots(figsize=(10, 1.8 + 0.5 * len(years)))
    ax.imshow(table, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
    for i in range(len(years)):
        for j in range(12):
            if np.isfinite(table[i, j]):
                ax.text(j, i, f"{table[i, j]:.1f}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(12), ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])
    ax.set_yticks(range(len(years)), [str(y) for y in years])
    fig.suptitle(f"{title} (%)")
    _subtitle(ax, note)
    return _save(fig, path)


def sensitivity_plot(table: pd.DataFrame, x: str, path: Path, title: str, note: str = "") -> Path:
    """Return, max drawdown and turnover against a swept parameter (mean with 95% CI bars)."""
    metrics = [c for c in ("total_return", "max_drawdown", "turnover") if f"{c}_mean" in table.columns]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.6))
    axes = [axes] if len(metrics) == 1 else list(axes)
    for ax, m in zip(axes, metrics):
        ci = table.get(f"{m}_ci95")
        ax.errorbar(table[x], table[f"{m}_mean"], yerr=ci, marker="o", capsize=3)
        ax.set_xlabel(x)
        ax.set_title(m.replace("_", " "))
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    if note:
        fig.text(0.01, 0.01, note, fontsize=7, color="dimgray")
    return _save(fig, path)


def sweep_plots(result: SweepResult, out_dir: str | Path, x: str | None = None) -> list[Path]:
    """Return, max drawdown and turnover (mean with 95% CI) against grid column ``x`` (default:
    the first); one PNG per combination of the other grid parameters."""
    if not result.columns:
        raise ValueError("sweep_plot: the sweep has no grid parameter to plot against")
    x = x or result.columns[0]
    if x not in result.columns:
        raise ValueError(f"sweep_plot: x must be one of {result.columns}, got {x!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    others = [c for c in result.columns if c != x]
    table = result.table[result.table["n"] > 0]
    groups = table.groupby(others, sort=False) if others else [((), table)]
    seeds = sorted({r["seed"] for r in result.records if r["seed"] is not None})
    paths = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        fixed = ", ".join(f"{c}={v}" for c, v in zip(others, key))
        stem = "sweep_" + "__".join([x] + [f"{c}={v}" for c, v in zip(others, key)])
        stem = re.sub(r"[^A-Za-z0-9_.=-]+", "_", stem)
        note = (f"mean and 95% CI over seeds {seeds}" if seeds else "one run per point") + (
            f"; {fixed}" if fixed else "")
        paths.append(sensitivity_plot(part.sort_values(x), x, out_dir / f"{stem}.png",
                                      f"{result.strategy}: return, drawdown and turnover vs {x}", note))
    return paths


def sweep_plot(result: SweepResult, out_dir: str | Path, x: str | None = None) -> Path:
    """The first of :func:`sweep_plots` (the only one for a one-parameter grid)."""
    return sweep_plots(result, out_dir, x)[0]
