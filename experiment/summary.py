"""Per-run metrics read from the plugin's analyzers, and their summary over seeds.

:func:`run_metrics` is the only place a run's reported figures come from: it reads
``PaperMetrics`` (returns, risk, ratios, downside deviation) and ``PortfolioWeights``
(turnover, commission) as the runner attached them (:func:`bt_lstm_mvo.experiment.run.analyzer_specs`),
and recomputes nothing. The report, results.json and the sweep tables go through it; the
significance tests resample the analyzers' return series.
"""

from __future__ import annotations

import math

import numpy as np

#: the figures of one run, in report order
METRICS = ("total_return", "cagr", "max_drawdown", "sharpe", "sortino", "volatility", "calmar",
           "downside_deviation", "turnover", "commission_pct")

#: our metric name -> the PaperMetrics key it is read from
_PAPER_KEYS = {"total_return": "total_return", "cagr": "cagr", "max_drawdown": "max_drawdown",
               "sharpe": "sharpe_ratio", "sortino": "sortino_ratio", "volatility": "annual_volatility",
               "calmar": "calmar_ratio", "downside_deviation": "downside_deviation"}


def run_metrics(analysis: dict, cash: float) -> dict:
    """The figures of one run from its analyzers' ``get_analysis()`` dicts (by runner name).

    ``turnover`` is ``PortfolioWeights``' mean daily turnover over the test period (the one
    definition, :mod:`bt_lstm_mvo.analyzers.portfolio`); ``commission_pct`` is the commission
    paid over the test period divided by the starting cash.
    """
    pm, pw = analysis["paper_metrics"], analysis["portfolio"]
    out = {ours: pm[theirs] for ours, theirs in _PAPER_KEYS.items()}
    out["turnover"] = pw["turnover"]["mean_daily"]
    out["commission_pct"] = pw["commission"] / cash
    return out


def run_label(name: str, seed, n_seeds: int) -> str:
    """The column of one run in tables and CSVs: the strategy's name, with ``_seed<k>`` when it
    ran several seeds (every seed labelled the same way, no spaces)."""
    return f"{name}_seed{seed}" if n_seeds > 1 else name


def aggregate(per_seed: list[dict], keys=METRICS) -> tuple[dict, dict, dict]:
    """Mean, std and 95% CI half-width (normal approximation) of each metric (``keys``) over seeds."""
    mean, std, ci = {}, {}, {}
    for k in keys:
        vals = np.array([m[k] for m in per_seed if m.get(k) is not None], dtype=float)
        mean[k] = float(vals.mean()) if len(vals) else None
        std[k] = float(vals.std(ddof=1)) if len(vals) > 1 else None
        ci[k] = float(1.96 * vals.std(ddof=1) / math.sqrt(len(vals))) if len(vals) > 1 else None
    return mean, std, ci
