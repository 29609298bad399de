"""Turn an :class:`bt_lstm_mvo.experiment.run.ExperimentResult` into plain, JSON-able results.

The same dict feeds ``results.json``, the report tables and the reproduction document. Every
figure in it is read from the plugin's analyzers attached to the runs (``PaperMetrics``,
``PortfolioWeights``, ``StressWindow``, ``RollingAlpha``) through
:func:`bt_lstm_mvo.experiment.summary.run_metrics`; nothing here recomputes a metric.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import platform

from bt_lstm_mvo.experiment.summary import aggregate
from bt_lstm_mvo.jsonsafe import json_clean

PACKAGES = ("backtrader", "torch", "pyportfolioopt", "pandas", "numpy", "scipy", "matplotlib", "pydantic")


def versions() -> dict:
    out = {"python": platform.python_version()}
    for p in ("bt-lstm-mvo", *PACKAGES):
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            out[p] = None
    return out


def _run_record(run) -> dict:
    pw = run.analyzers["portfolio"]
    return {
        "seed": run.seed,
        "metrics": run.metrics(),
        "final_target": pw["final_target"],
        "final_held": pw["final_held"],
        "commission": pw["commission"],
        "costs": run.analyzers.get("costs"),
        "order_stats": pw["orders"],
        "order_failures": run.order_failures,
        "fallbacks": run.fallbacks,
        "fits": run.fits,
        "n_rebalances": pw["rebalances"],
        "seconds": run.seconds,
        "allocator": run.allocator,
        "analyzers": run.analyzers,
    }


def _alpha(result) -> dict | None:
    pair = result.config.analysis.alpha_pair
    if pair is None:
        return None
    runs = result.runs[pair[0]]
    first = runs[0].analyzers["alpha"]
    out = {"pair": list(pair), "n_windows": result.config.analysis.alpha_windows, "windows": first["windows"],
           "total": first["total"]}
    if len(runs) > 1:
        out["per_seed"] = [r.analyzers["alpha"]["windows"] for r in runs]
    return out


def _external_benchmark(result) -> dict | None:
    """Each strategy against ``analysis.benchmark`` (first seed): its ``benchmark`` RollingAlpha."""
    name = result.config.analysis.benchmark
    if name is None:
        return None
    per = {}
    for strategy, runs in list(result.runs.items()) + [(f"hold {t}", [b]) for t, b in result.benchmarks.items()]:
        a = runs[0].analyzers["benchmark"]
        per[strategy] = {"total": a["total"], "capm": a["capm"], "windows": a["windows"]}
    return {"name": name, "strategies": per}


def _stress(result) -> dict:
    stress: dict = {}
    for wname in result.config.analysis.stress_windows:
        stress[wname] = {}
        for name, runs in result.runs.items():
            analysis = runs[0].analyzers["stress"]
            stress[wname][name] = {**analysis["windows"][wname], "training_end": analysis["training_end"]}
    return stress


def _folds(result) -> dict | None:
    """The walk-forward plan and, per strategy, each fold's figures (mean over seeds) from the
    runs' ``folds`` (StressWindow over the fold windows) and ``portfolio`` (turnover) analyzers."""
    if result.folds is None:
        return None
    per: dict = {}
    for name, runs in list(result.runs.items()) + [(f"hold {t}", [b]) for t, b in result.benchmarks.items()]:
        per[name] = {}
        for f in result.folds:
            rows = [{**r.analyzers["folds"]["windows"][f.name],
                     "turnover": r.analyzers["portfolio"]["windows"][f.name]["mean_daily"]} for r in runs]
            mean, _, _ = aggregate(rows, keys=("total_return", "sharpe_ratio", "sortino_ratio", "max_drawdown",
                                                "annual_volatility", "turnover"))
            per[name][f.name] = mean
    f = result.config.split.folds
    return {"training": f.training, "train_bars": f.train_bars, "gap": f.gap, "length": f.length,
            "plan": [x.as_dict() for x in result.folds], "strategies": per}


def collect(result) -> dict:
    """Everything the report shows, as plain Python."""
    cfg = result.config
    idx = result.market.index
    start = result.trade_start
    strategies = {}
    for name, runs in result.runs.items():
        records = [_run_record(r) for r in runs]
        mean, std, ci = aggregate([x["metrics"] for x in records])
        strategies[name] = {
            "kind": runs[0].kind,
            "seeds": [r.seed for r in runs],
            "metrics": mean,
            "metrics_std": std,
            "metrics_ci95": ci,
            "runs": records,
        }
    benchmarks = {t: {"metrics": b.metrics()} for t, b in result.benchmarks.items()}

    significance = None
    pair = cfg.analysis.alpha_pair
    if pair is not None:
        from bt_lstm_mvo.experiment.report.tables import verdict
        from bt_lstm_mvo.experiment.significance import compare_experiment

        comp = compare_experiment(result, pair=tuple(pair))
        if comp is not None:
            significance = {"comparison": comp,
                            "verdicts": [verdict(comp, "sharpe"), verdict(comp, "total_return")]}

    return json_clean({
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
            "periods_per_year": result.periods_per_year,
            "fingerprint": result.market.fingerprint,
        },
        "split": {
            "train_start": idx[0],
            "train_end": idx[idx < start][-1],
            "test_start": start,
            "test_end": idx[-1],
            "n_test_returns": next(iter(result.runs.values()))[0].analyzers["paper_metrics"]["n_periods"],
            "note": "weights decided at the close of test_start are the first traded; the first return "
                    "counted is the next bar's",
        },
        "config": cfg.model_dump(mode="json", by_alias=True),
        "versions": versions(),
        "strategies": strategies,
        "benchmarks": benchmarks,
        "alpha": _alpha(result),
        "external_benchmark": _external_benchmark(result),
        "stress": _stress(result),
        "folds": _folds(result),
        "significance": significance,
    })


def add_sweep(res: dict, sweep) -> dict:
    """Attach a :class:`bt_lstm_mvo.experiment.sweep.SweepResult` (and its report tables) to ``res``."""
    from dataclasses import asdict

    from bt_lstm_mvo.experiment.report.tables import sweep_tables

    res["sweep"] = sweep.to_dict()
    res["sweep_tables"] = json_clean([asdict(t) for t in sweep_tables(sweep)])
    return res
