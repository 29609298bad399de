"""Turn an :class:`bt_lstm_mvo.experiment.experiment.ExperimentResult` into plain, JSON-able results.

The same dict feeds ``results.json``, the report tables and the reproduction document, so every
number a person reads comes from one place.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import math
import platform

import numpy as np
import pandas as pd

from bt_lstm_mvo.analyzers import metrics as M

PACKAGES = ("backtrader", "torch", "pyportfolioopt", "pandas", "numpy", "scipy", "matplotlib", "pydantic")
METRICS = ("total_return", "cagr", "max_drawdown", "sharpe", "sortino", "volatility", "calmar",
           "downside_deviation", "turnover", "commission_pct")


def versions() -> dict:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            out[p] = None
    return out


def _clean(x):
    """NaN/inf -> None; numpy scalars -> Python; dates -> ISO strings (recursively)."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (pd.Timestamp, dt.date, dt.datetime)):
        return x.isoformat()[:10] if isinstance(x, (dt.date, pd.Timestamp)) else x.isoformat()
    return x


def run_metrics(run, ppy: float, sortino_variant: str, cash: float) -> dict:
    r = run.returns
    test_turnover = sum(x["turnover"] for x in run.rebalances
                        if pd.Timestamp(x["date"]) >= run.trade_start)
    return {
        "total_return": M.total_return(r),
        "cagr": M.cagr(r, ppy),
        "max_drawdown": M.max_drawdown(r),
        "sharpe": M.sharpe_ratio(r, ppy),
        "sortino": M.sortino_ratio(r, ppy, variant=sortino_variant),
        "volatility": M.annual_volatility(r, ppy),
        "calmar": M.calmar_ratio(r, ppy),
        "downside_deviation": M.downside_deviation(r, ppy),
        "turnover": test_turnover / max(len(r), 1),  # mean daily two-way turnover
        "commission_pct": run.commission / cash,
    }


def aggregate(per_seed: list[dict]) -> tuple[dict, dict, dict]:
    """Mean, std and 95% CI half-width (normal approximation) of each metric over seeds."""
    mean, std, ci = {}, {}, {}
    for k in METRICS:
        vals = np.array([m[k] for m in per_seed if m.get(k) is not None], dtype=float)
        mean[k] = float(vals.mean()) if len(vals) else None
        std[k] = float(vals.std(ddof=1)) if len(vals) > 1 else None
        ci[k] = float(1.96 * vals.std(ddof=1) / math.sqrt(len(vals))) if len(vals) > 1 else None
    return mean, std, ci


def _run_record(run, ppy, variant, cash) -> dict:
    return {
        "seed": run.seed,
        "metrics": run_metrics(run, ppy, variant, cash),
        "final_target": run.rebalances[-1]["target"] if run.rebalances else None,
        "final_held": run.final_weights,
        "commission": run.commission,
        "order_stats": run.order_stats,
        "order_failures": run.order_failures,
        "fallbacks": run.fallbacks,
        "fits": run.fits,
        "n_rebalances": sum(1 for x in run.rebalances if pd.Timestamp(x["date"]) >= run.trade_start),
        "seconds": run.seconds,
        "allocator": run.allocator,
        "analyzers": run.analyzers,
    }


def collect(result) -> dict:
    """Everything the report shows, as plain Python."""
    cfg = result.config
    ppy = result.periods_per_year
    variant = cfg.analysis.sortino_variant
    cash = cfg.broker.cash
    idx = result.market.index
    start = result.trade_start
    strategies = {}
    for name, runs in result.runs.items():
        records = [_run_record(r, ppy, variant, cash) for r in runs]
        mean, std, ci = aggregate([x["metrics"] for x in records])
        strategies[name] = {
            "kind": runs[0].kind,
            "seeds": [r.seed for r in runs],
            "metrics": mean,
            "metrics_std": std,
            "metrics_ci95": ci,
            "runs": records,
        }
    benchmarks = {t: {"metrics": run_metrics(b, ppy, variant, cash)} for t, b in result.benchmarks.items()}

    alpha = None
    pair = cfg.analysis.alpha_pair
    if pair is not None:
        a, b = (result.primary(n).returns for n in pair)
        alpha = {"pair": list(pair), "n_windows": cfg.analysis.alpha_windows,
                 "windows": M.excess_return_windows(a, b, n_windows=cfg.analysis.alpha_windows),
                 "total": {"strategy_return": M.total_return(a), "benchmark_return": M.total_return(b)}}
        if len(result.runs[pair[0]]) > 1:
            alpha["per_seed"] = [M.excess_return_windows(r.returns, b, n_windows=cfg.analysis.alpha_windows)
                                 for r in result.runs[pair[0]]]

    stress = {}
    for wname, (ws, we) in cfg.analysis.stress_windows.items():
        stress[wname] = {}
        for name, runs in result.runs.items():
            run = runs[0]
            stats = M.window_stats(run.returns, ws, we, periods_per_year=ppy)
            train_end = max((f["last"] for f in run.fits), default=None)
            first_fit_end = min((f["last"] for f in run.fits), default=None)
            stats["overlaps_training"] = (
                bool(first_fit_end is not None and pd.Timestamp(ws) <= pd.Timestamp(first_fit_end))
                if run.fits else None)
            stats["training_end"] = train_end
            stress[wname][name] = stats

    significance = None
    if pair is not None:
        from bt_lstm_mvo.experiment.significance import compare_experiment, verdict

        comp = compare_experiment(result, pair=tuple(pair))
        if comp is not None:
            significance = {"comparison": comp,
                            "verdicts": [verdict(comp, "sharpe"), verdict(comp, "total_return")]}

    return _clean({
        "name": cfg.name,
        "description": cfg.description,
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "data": {
            "label": result.market.label,
            "synthetic": result.market.synthetic,
            "calendar": result.market.calendar,
            "tickers": result.market.tickers,
            "first_date": idx[0],
            "last_date": idx[-1],
            "bars": len(idx),
            "periods_per_year": ppy,
            "fingerprint": result.market.fingerprint,
        },
        "split": {
            "train_start": idx[0],
            "train_end": idx[idx < start][-1],
            "test_start": start,
            "test_end": idx[-1],
            "n_test_returns": int((idx > start).sum()),
            "note": "weights decided at the close of test_start are the first traded; the first return "
                    "counted is the next bar's",
        },
        "config": cfg.model_dump(mode="json"),
        "versions": versions(),
        "strategies": strategies,
        "benchmarks": benchmarks,
        "alpha": alpha,
        "stress": stress,
        "significance": significance,
    })


def add_sweep(res: dict, sweep) -> dict:
    """Attach a :class:`bt_lstm_mvo.experiment.sweep.SweepResult` (and its report tables) to ``res``."""
    from dataclasses import asdict

    from bt_lstm_mvo.experiment.sweep import sweep_tables

    res["sweep"] = sweep.to_dict()
    res["sweep_tables"] = _clean([asdict(t) for t in sweep_tables(sweep)])
    return res
