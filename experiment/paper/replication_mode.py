"""``mode: notebook_replication``: the reference notebook's computation, defects kept on purpose.

PAPER_NOTES steps 1-11 on the real data: MVO weights estimated on the whole sample and applied
to the wrong columns (:mod:`bt_lstm_mvo.experiment.paper.notebook`), the notebook's LSTM
pipeline with its RSI on returns, full-sample scaling, scaled targets and negative-days penalty
(:func:`bt_lstm_mvo.experiment.paper.notebook_lstm.run_notebook_lstm`, one run per seed since
the notebook set none), its cost model (step 10) and its metrics (step 11: population std, the paper's Sortino).

The results are laid out next to the published Tables 1-4 so the reader sees what the notebook
really computes. This mode exists to study the published numbers; it is look-ahead by
construction and must not be used to judge the methods (use ``mode: backtest``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from bt_lstm_mvo.analyzers import metrics as M
from bt_lstm_mvo.experiment.paper.notebook import (
    load_paper_closes,
    notebook_metrics,
    notebook_mvo_applied,
    notebook_returns,
    notebook_test_dates,
)
from bt_lstm_mvo.experiment.paper.notebook_lstm import run_notebook_lstm
from bt_lstm_mvo.experiment.paper.published import (
    PAPER_TICKERS,
    PUBLISHED_2022,
    PUBLISHED_ALPHA,
    PUBLISHED_LSTM,
    PUBLISHED_MVO,
)
from bt_lstm_mvo.experiment.report import plots
from bt_lstm_mvo.experiment.report.files import atomic_dir
from bt_lstm_mvo.experiment.report.results import versions
from bt_lstm_mvo.experiment.report.tables import Table, num, pct, write_simple_report
from bt_lstm_mvo.jsonsafe import json_clean


def notebook_mvo_series(closes: pd.DataFrame) -> tuple[pd.Series, pd.Series, dict]:
    """The notebook's MVO daily returns before and after its costs, and its weights (Table 3)."""
    test_dates = notebook_test_dates(closes)
    weights, applied = notebook_mvo_applied(closes)
    r = closes.pct_change().loc[test_dates]
    gross, net = notebook_returns(applied.to_numpy(), r.to_numpy())
    return pd.Series(gross, index=test_dates, name="mvo"), pd.Series(net, index=test_dates, name="mvo"), weights


def run_notebook_replication(cfg, data_dir, stage=lambda m: None, progress: bool = False) -> dict:
    closes = load_paper_closes(data_dir)
    stage("notebook MVO (whole-sample estimate, columns as the notebook multiplies them)")
    mvo_gross, mvo_net, mvo_weights = notebook_mvo_series(closes)
    lstm_runs = []
    for seed in cfg.replication.seeds:
        stage(f"notebook LSTM, seed {seed} ({cfg.replication.epochs} epochs)")
        out = run_notebook_lstm(closes, seed=seed, epochs=cfg.replication.epochs, progress=progress)
        lstm_runs.append(out)
    lstm_metrics = [notebook_metrics(o["returns"], o["returns_after_costs"]) for o in lstm_runs]
    keys = lstm_metrics[0].keys()
    lstm_mean = {k: float(np.mean([m[k] for m in lstm_metrics])) for k in keys}
    lstm_std = {k: float(np.std([m[k] for m in lstm_metrics], ddof=1)) if len(lstm_metrics) > 1 else None
                for k in keys}
    alpha = [M.excess_return_windows(o["returns_after_costs"], mvo_net, n_windows=3) for o in lstm_runs]
    year_2022 = closes.loc["2022-01-01":"2022-12-31"]
    asset_2022 = {t: float(year_2022[t].iloc[-1] / closes[t].loc[:"2021-12-31"].iloc[-1] - 1) for t in closes}
    final_lstm = {t: float(np.mean([o["final_weights"][t] for o in lstm_runs])) for t in PAPER_TICKERS}
    res = {
        "name": cfg.name, "description": cfg.description, "mode": "notebook_replication",
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "data": {"label": f"CSV files in {data_dir} (Adj Close)", "synthetic": False,
                 "rows": len(closes), "first_date": closes.index[0], "last_date": closes.index[-1]},
        "test": {"start": mvo_net.index[0], "end": mvo_net.index[-1], "n_days": len(mvo_net),
                 "training_samples": lstm_runs[0]["n_train"], "test_samples": lstm_runs[0]["n_test"]},
        "config": cfg.model_dump(mode="json"), "versions": versions(),
        "mvo": {"weights": mvo_weights, "metrics": notebook_metrics(mvo_gross, mvo_net)},
        "lstm": {"seeds": list(cfg.replication.seeds), "metrics_mean": lstm_mean, "metrics_std": lstm_std,
                 "per_seed": lstm_metrics, "final_weights_mean": final_lstm,
                 "final_weights_per_seed": [o["final_weights"] for o in lstm_runs]},
        "alpha": {"windows_per_seed": alpha},
        "asset_returns_2022": asset_2022,
        "published": {"lstm": PUBLISHED_LSTM, "mvo": PUBLISHED_MVO, "alpha": list(PUBLISHED_ALPHA),
                      "stress_2022": PUBLISHED_2022},
    }
    series = {"mvo": mvo_net, **{f"lstm seed {o['seed']}": o["returns_after_costs"] for o in lstm_runs}}
    return {"results": json_clean(res), "series": series, "lstm_weights": lstm_runs[0]["weights"]}


def _pm(mean, std, fmt):
    return fmt(mean) if std is None else f"{fmt(mean)} ± {fmt(std)}"


def replication_tables(res: dict) -> list[Table]:
    pub, lstm, mvo = res["published"], res["lstm"], res["mvo"]
    rows = []
    for label, key, fmt in (("Total return", "total_return", pct),
                            ("Total return after fees", "total_return_after_fees", pct),
                            ("Max drawdown", "max_drawdown", pct), ("Sharpe", "sharpe", num),
                            ("Sortino (paper variant)", "sortino_paper", num),
                            ("Volatility (ann.)", "volatility", lambda x: pct(x, 1))):
        rows.append([label, fmt(pub["lstm"].get(key)),
                     _pm(lstm["metrics_mean"][key], lstm["metrics_std"][key], fmt),
                     fmt(pub["mvo"].get(key)), fmt(mvo["metrics"][key])])
    t1 = Table("Table 1 - Notebook replication vs published", ["Metric", "LSTM published",
               f"LSTM replication (seeds {lstm['seeds']})", "MVO published", "MVO replication"], rows,
               [f"Test period {res['test']['start']}..{res['test']['end']} ({res['test']['n_days']} days). "
                "Formulas as the notebook (PAPER_NOTES step 11: population std, Sortino over negative days). "
                "Table 1's MVO Sharpe 2.04 and volatility 18.1% are not what these formulas give on the same "
                "returns; they come from some other computation. The LSTM can only be reproduced in "
                "distribution (the notebook set no seed)."])
    windows = res["alpha"]["windows_per_seed"]
    rows = []
    for i in range(3):
        w0 = windows[0][i]
        per = [w[i]["alpha"] for w in windows]
        rows.append([f"Window {i + 1}", f"{w0['start']}..{w0['end']}", pct(pub["alpha"][i], 1),
                     _pm(float(np.mean(per)), float(np.std(per, ddof=1)) if len(per) > 1 else None,
                         lambda x: pct(x, 1))])
    t2 = Table("Table 2 - Alpha of LSTM vs MVO in three non-overlapping windows",
               ["", "Dates", "Published", "Replication (after fees)"], rows,
               ["The notebook does not compute Table 2; here: compounded LSTM minus MVO return per third of "
                "the test period."])
    rows = [[t, pct(pub["lstm"]["weights"][t]), pct(lstm["final_weights_mean"][t]), pct(pub["mvo"]["weights"][t]),
             pct(mvo["weights"][t])] for t in PAPER_TICKERS]
    t3 = Table("Table 3 - Final weights", ["Asset", "LSTM published", "LSTM replication (mean)", "MVO published",
                                            "MVO replication"], rows,
               ["MVO weights are listed by the asset they were estimated for; the notebook then applies them to "
                "the wrong columns (GLD's weight held in NVDA, NVDA's in SPY, SPY's in GLD)."])
    rows = [[t, pct(r)] for t, r in res["asset_returns_2022"].items()]
    t4 = Table("Table 4 - The 2022 stress window", ["Asset", "2022 return (buy and hold)"], rows,
               [f"Published: LSTM 'total return' {pct(pub['stress_2022']['lstm']['total_return'])}, MVO "
                f"{pct(pub['stress_2022']['mvo']['total_return'])}. Every one of the five assets fell in 2022, so "
                "no long-only portfolio of them could gain that year, and 2022 lies inside the notebook's "
                "training period: Table 4 cannot be total returns of out-of-sample portfolios, and the notebook "
                "does not compute it. See configs/walk-forward.yaml for a meaningful 2022 test."])
    return [t1, t2, t3, t4]


def write_replication_outputs(run: dict, out: Path, make_plots: bool = True) -> Path:
    """Outputs of ``mode: notebook_replication``, written atomically like the backtest's."""
    res = run["results"]
    with atomic_dir(out) as tmp:
        returns = pd.DataFrame(run["series"])
        returns.index.name = "date"
        returns.to_csv(tmp / "returns.csv", float_format="%.10g")
        run["lstm_weights"].rename_axis("date").to_csv(tmp / "weights_lstm_seed0.csv", float_format="%.8g")
        images: dict[str, Path] = {}
        if make_plots:
            note = "notebook replication: look-ahead and column mismatch kept on purpose"
            images["Equity (growth of $1, after the notebook's costs)"] = plots.equity_plot(
                run["series"], {}, tmp / "equity.png", f"{res['name']}: growth of $1", note)
            images["Drawdowns"] = plots.drawdown_plot(run["series"], tmp / "drawdown.png", "drawdowns", note)
            images["LSTM weights (seed 0)"] = plots.weights_plot(run["lstm_weights"], tmp / "weights_lstm.png",
                                                                 "notebook LSTM: weights", note)
        tables = replication_tables(res)
        header = (f"Mode notebook_replication: the reference notebook's computation with its defects kept on "
                  f"purpose (look-ahead, column mismatch, scaled targets). Data: {res['data']['label']}.")
        write_simple_report(tmp, res, header, tables, images)
    return Path(out)
