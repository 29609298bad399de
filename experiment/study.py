"""The robustness study (``mode: study``): does the paper's conclusion hold out of sample?

Every strategy of the config (and every LSTM seed) runs on every universe of ``study.universes``
over the walk-forward folds of ``split.folds`` (each fold's models fitted on the bars before it
only, by the strategies' own refit machinery), at ``study.commissions[0]``. Each further cost
level replays the weights those runs decided (:class:`~bt_lstm_mvo.allocators.replay.ReplayAllocator`:
a decision depends on prices only, so nothing is retrained). Every figure comes from the runs'
analyzers: ``PaperMetrics`` (whole out-of-sample period), the ``folds`` ``StressWindow`` and
``PortfolioWeights`` windows (per fold).

Tasks (one per universe x strategy x seed, plus a buy-and-hold per asset) are plain dicts run by
:func:`run_study_task` on joblib/loky processes or Ray, the sweep's backends.

Statistics (:func:`analyse`), per cost level:

* per (universe, fold): each strategy's fold figures; the LSTM as the mean over its seeds;
* the paired block bootstrap (:func:`bt_lstm_mvo.experiment.significance.block_bootstrap_diff`) of
  the seed-averaged LSTM's daily returns against MVO's (Sharpe, total return, Sortino, max
  drawdown), and MVO against equal weight, in every (universe, fold); p-values Holm-adjusted
  across the (universe, fold) cases of each claim;
* the probabilistic and deflated Sharpe ratio (Bailey & Lopez de Prado 2012, 2014) of each
  strategy's whole out-of-sample series, deflated by every configuration the study tried
  (universes x strategies x seeds x cost levels);
* win rates (seed by seed) with Wilson 95% intervals;
* the claims table: each of the paper's claims as a rule, counted over the (universe, fold) cases
  where it holds (significant in the claimed direction), fails (significant against) or is not
  significant.
"""

from __future__ import annotations

import logging
import math
import os
import time

import numpy as np
import pandas as pd

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.experiment.config import CostsConfig, ExperimentConfig, StrategyConfig
from bt_lstm_mvo.experiment.registry import seeds_of
from bt_lstm_mvo.jsonsafe import json_clean
from bt_lstm_mvo.malloc import keep_freed_memory

log = logging.getLogger(__name__)

#: the per-fold figures kept for every configuration (from the ``folds`` and ``portfolio`` analyzers)
FOLD_KEYS = ("total_return", "sharpe_ratio", "sortino_ratio", "max_drawdown", "annual_volatility", "turnover")

#: the paper's claims (PAPER_NOTES) and the extra one, as testable rules
CLAIMS = {
    "1": "LSTM beats MVO on cumulative return",
    "2": "MVO beats the LSTM on Sortino ratio",
    "3": "the LSTM has deeper drawdowns than MVO",
    "4": "a larger lambda lowers the LSTM's turnover and drawdown",
    "5": "the LSTM beats MVO in at least 2 of 3 sub-windows",
    "6": "MVO beats equal weight on Sharpe ratio",
}


# ----------------------------------------------------------------------------- tasks


def _task_config(cfg: ExperimentConfig, tickers: list[str]) -> dict:
    raw = cfg.model_dump(mode="json", by_alias=True)
    raw.update(mode="backtest", study=None, sweep=None)
    raw["data"] = {**raw["data"], "tickers": list(tickers)}
    return raw


def expand_study(cfg: ExperimentConfig, data_dir=None) -> list[dict]:
    """One task per universe x strategy x seed (and per asset, a buy-and-hold benchmark)."""
    st = cfg.study
    threads = st.torch_threads or cfg.runtime.torch_threads
    tasks = []
    for uname, tickers in st.universes.items():
        base = _task_config(cfg, tickers)
        specs = [(name, spec, "strategy") for name, spec in cfg.strategies.items()]
        if cfg.buy_and_hold_benchmarks:
            specs += [(f"hold {t}", StrategyConfig(kind="buy_and_hold", asset=t, schedule="never"), "benchmark")
                      for t in tickers]
        for name, spec, role in specs:
            for seed in seeds_of(spec):
                tasks.append({"task_id": len(tasks), "universe": uname, "strategy": name, "seed": seed,
                              "role": role, "overrides": {}, "config": base,
                              "spec": spec.model_dump(mode="json", by_alias=True),
                              "commissions": list(st.commissions), "cost_presets": list(st.cost_presets),
                              "data_dir": None if data_dir is None
                              else str(data_dir), "torch_threads": threads})
    return tasks


def _summary(run, plan) -> dict:
    pw, fw = run.analyzers["portfolio"], run.analyzers["folds"]["windows"]
    folds = {}
    for f in plan:
        w = fw[f.name]
        folds[f.name] = {**{k: w[k] for k in FOLD_KEYS if k != "turnover"},
                         "turnover": pw["windows"][f.name]["mean_daily"]}
    return {"metrics": run.metrics(), "folds": folds,
            "returns": {d.strftime("%Y-%m-%d"): float(r) for d, r in run.returns.items()},
            "order_failures": len(run.order_failures), "fallbacks": len(run.fallbacks),
            "costs": {k: v for k, v in (run.analyzers.get("costs") or {}).items() if k != "by_asset"}}


def run_study_task(task: dict) -> dict:
    """Run one study task at every cost level; never raises (a failure is a record)."""
    import torch

    from bt_lstm_mvo.allocators.replay import ReplayAllocator
    from bt_lstm_mvo.experiment.run import analyzer_specs, check_against_data, run_backtest, split_for
    from bt_lstm_mvo.experiment.sweep import _market

    t0 = time.perf_counter()
    out = {k: task[k] for k in ("task_id", "universe", "strategy", "seed", "role", "overrides")}
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(int(task["torch_threads"]))
        cfg = ExperimentConfig.model_validate(task["config"])
        keep_freed_memory(cfg.runtime.malloc_keep_mib)
        market = _market(cfg, task["data_dir"])
        start, folds = split_for(cfg, market.index)
        spec = StrategyConfig.model_validate(task["spec"])
        name = task["strategy"]
        if task["role"] == "strategy":
            check_against_data(cfg.model_copy(update={"strategies": {name: spec}}), market, start, folds)
        analyzers = analyzer_specs(cfg, start, folds)
        levels, first = {}, None
        for i, commission in enumerate(task["commissions"]):
            broker = cfg.broker.model_copy(update={"commission": float(commission)})
            replay = None if first is None else ReplayAllocator(first.weights_target)
            run = run_backtest(market, name, spec, broker, start, seed=task["seed"], analyzers=analyzers,
                               folds=folds, allocator=replay, engine=cfg.engine)
            if i == 0:
                first = run
                out["fits"] = [{k: str(v) for k, v in fit.items()} for fit in run.fits]
            levels[repr(float(commission))] = _summary(run, folds[0])
        presets = {}
        for preset in task.get("cost_presets", []):
            broker = cfg.broker.model_copy(update={"costs": CostsConfig(preset=preset)})
            run = run_backtest(market, name, spec, broker, start, seed=task["seed"], analyzers=analyzers,
                               folds=folds, allocator=ReplayAllocator(first.weights_target), engine=cfg.engine)
            presets[preset] = _summary(run, folds[0])
        out.update(status="ok", levels=levels, presets=presets, plan=[f.as_dict() for f in folds[0]],
                   periods_per_year=float(first.periods_per_year), tickers=list(market.tickers),
                   first_date=str(market.index[0].date()), last_date=str(market.index[-1].date()))
    except Exception as exc:  # a failed task is reported, never lost with the others
        out.update(status="failed", error=f"{type(exc).__name__}: {' '.join(str(exc).split())}")
        log.warning("study task %s (%s, %s, seed %s) failed: %s", out["task_id"], out["universe"],
                    out["strategy"], out["seed"], out["error"])
    finally:
        torch.set_num_threads(threads)
    out["seconds"] = time.perf_counter() - t0
    return out


def check_study_data(cfg: ExperimentConfig, data_dir=None, stage=lambda msg: None) -> None:
    """Before any work: every universe's data loads and validates, its folds can be planned, and
    every strategy has the training bars it needs (one clear error naming the universe otherwise)."""
    from bt_lstm_mvo.errors import PluginError
    from bt_lstm_mvo.experiment.run import check_against_data, market_for, split_for
    from bt_lstm_mvo.text import one_line

    for uname, tickers in cfg.study.universes.items():
        ucfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"tickers": list(tickers)})})
        try:
            market = market_for(ucfg, data_dir)
            start, folds = split_for(ucfg, market.index)
            check_against_data(ucfg, market, start, folds)
        except PluginError as exc:
            raise type(exc)(f"study.universes.{uname}: {one_line(exc)}") from None
        stage(f"universe {uname}: {len(market.tickers)} tickers, {len(market.index)} bars "
              f"{market.index[0].date()}..{market.index[-1].date()}, {len(folds[0])} folds from {start.date()}")


def run_study(cfg: ExperimentConfig, data_dir=None, backend: str | None = None, workers: int | None = None,
              progress: bool = False, stage=lambda msg: None) -> dict:
    """Run every task of the study and analyse them; returns the JSON-able results dict."""
    from bt_lstm_mvo.experiment.sweep import _run_loky, _run_ray

    st = cfg.study
    if st is None:
        raise ConfigError("study: the config has no 'study' section")
    if cfg.broker.execution != "close":
        raise ConfigError("broker.execution: a study replays the decided weights at the close; use 'close'")
    backend = backend or st.backend
    workers = int(workers or st.workers)
    check_study_data(cfg, data_dir, stage)
    tasks = expand_study(cfg, data_dir)
    stage(f"study: {len(tasks)} tasks ({len(st.universes)} universes) x {len(st.commissions)} cost levels on "
          f"{backend} with {workers} workers")
    t0 = time.perf_counter()
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    done = [0]

    def tick(rec):
        done[0] += 1
        el = time.perf_counter() - t0
        left = el / done[0] * (len(tasks) - done[0])
        stage(f"[{done[0]}/{len(tasks)}] {rec['universe']} {rec['strategy']}"
              + (f" seed {rec['seed']}" if rec["seed"] is not None else "")
              + f" {rec['status']} in {rec['seconds']:.0f}s (ETA {int(left // 60)}:{int(left % 60):02d})")

    if backend == "ray":
        records = _run_ray(tasks, workers, st.address, progress, fn=run_study_task, on_result=tick)
    else:
        records = _run_loky(tasks, workers, progress, fn=run_study_task, on_result=tick)
    seconds = time.perf_counter() - t0
    records.sort(key=lambda r: r["task_id"])
    if not any(r["status"] == "ok" and r["role"] == "strategy" for r in records):
        first = next(r for r in records if r["status"] != "ok")
        raise ConfigError(f"study: every run failed; the first ({first['universe']}, {first['strategy']}): "
                          f"{first['error']}")
    stage("study: statistics")
    return json_clean({
        "name": cfg.name, "description": cfg.description, "mode": "study",
        "config": cfg.model_dump(mode="json", by_alias=True),
        "backend": backend, "workers": workers, "seconds": seconds, "cpus": os.cpu_count(),
        "load_average": {"start": load_start, "end": os.getloadavg() if hasattr(os, "getloadavg") else None},
        "records": records, "analysis": analyse(cfg, records),
    })


# ----------------------------------------------------------------------------- statistics


def _series(returns: dict) -> pd.Series:
    return pd.Series(returns, dtype=float).rename(index=pd.Timestamp).sort_index()


def _mean_series(recs, level) -> pd.Series | None:
    if not recs:
        return None
    return pd.concat([_series(r["levels"][level]["returns"]) for r in recs], axis=1).mean(axis=1)


def _window(series: pd.Series, fold: dict) -> pd.Series:
    return series.loc[pd.Timestamp(fold["test_first"]):pd.Timestamp(fold["test_last"])]


def _verdict(diff, p_adj, alpha, claimed_sign) -> str:
    """'holds' / 'fails' / 'n.s.' for a difference whose claimed sign is ``claimed_sign``."""
    if diff is None or p_adj is None:
        return "n/a"
    if p_adj >= alpha:
        return "n.s."
    return "holds" if np.sign(diff) == claimed_sign else "fails"


def _claim(number: str, cases: list[dict], pick, claimed_sign: int, rule: str, cost: float, alpha: float,
           tests: list, rows: list) -> None:
    """One claim over the (universe, fold) cases, Holm-adjusted within the claim: appends every
    test to ``tests`` and the claim's counts to ``rows``."""
    from bt_lstm_mvo.experiment.significance import holm

    got = [(c, *pick(c)) for c in cases]
    got = [(c, d, p) for c, d, p in got if d is not None]
    adj = holm([p for _, _, p in got])
    verdicts = [_verdict(d, pa, alpha, claimed_sign) for (_, d, _), pa in zip(got, adj)]
    for (c, d, p), pa, v in zip(got, adj, verdicts):
        tests.append({"cost": cost, "claim": number, "universe": c["universe"], "fold": c["fold"],
                      "diff": d, "p_value": p, "p_holm": pa, "verdict": v})
    rows.append({"cost": cost, "claim": number, "text": CLAIMS[number], "rule": rule,
                 "cases": len(got), "holds": verdicts.count("holds"), "fails": verdicts.count("fails"),
                 "not_significant": verdicts.count("n.s."),
                 "direction_holds": sum(1 for _, d, _ in got if np.sign(d) == claimed_sign)})


def _boot(key: str, stat: str):
    """Picks (difference, p-value) of one bootstrap statistic from a case."""
    def pick(c):
        s = (c.get(key) or {}).get(stat) or {}
        return s.get("diff"), s.get("p_value")
    return pick


def _lambda_pick(c):
    """Claim 4 as one number per case: +1 both lower, -1 both higher, 0 mixed; the larger p."""
    x = c.get("lambda")
    if not x:
        return None, None
    both = x["turnover"]["diff"] < 0 and x["max_drawdown"]["diff"] > 0
    against = x["turnover"]["diff"] > 0 and x["max_drawdown"]["diff"] < 0
    return (1.0 if both else -1.0 if against else 0.0), max(x["turnover"]["p_value"], x["max_drawdown"]["p_value"])


def analyse(cfg: ExperimentConfig, records: list[dict]) -> dict:
    """Per (universe, fold, cost) figures, bootstrap tests with Holm correction, PSR/DSR, win
    rates and the claims table (see the module doc)."""
    from scipy import stats as sps

    from bt_lstm_mvo.analyzers.metrics import excess_return_windows
    from bt_lstm_mvo.experiment.significance import (
        ALL_STATISTICS,
        block_bootstrap_diff,
        deflated_sharpe,
        wilson_interval,
    )

    st = cfg.study
    claims_cfg = st.claims
    levels = [repr(float(c)) for c in st.commissions]
    strategies = list(cfg.strategies)
    ok = [r for r in records if r["status"] == "ok"]
    groups: dict[tuple, list[dict]] = {}  # (universe, strategy) -> its ok records (seeds), in task order
    for r in ok:
        groups.setdefault((r["universe"], r["strategy"]), []).append(r)
    failures = [{k: r.get(k) for k in ("universe", "strategy", "seed", "error")} for r in records
                if r["status"] != "ok"]
    plans = {}
    for r in ok:
        plans.setdefault(r["universe"], r["plan"])
    ppy = {u: next(r["periods_per_year"] for r in ok if r["universe"] == u) for u in plans}

    # every configuration tried: one return series per (record, cost level), with its per-bar Sharpe
    trials = []
    for r in ok:
        for label, level in [(float(lv), r["levels"][lv]) for lv in levels] + list(r.get("presets", {}).items()):
            x = np.array(list(level["returns"].values()), dtype=float)
            sd = x.std(ddof=1) if x.size > 2 else 0.0
            trials.append((r, label, x, x.mean() / sd if sd > 0 else None))
    trial_sr = [sr for *_, sr in trials if sr is not None]
    n_trials, sr_var = len(trials), float(np.var(trial_sr, ddof=1)) if len(trial_sr) > 1 else 0.0

    per_fold, tests, deflated, win_rates, claims_rows = [], [], [], [], []
    for lv in levels:
        cases = []  # one per (universe, fold): everything the claims need
        for u, plan in plans.items():
            mean = {s: _mean_series(groups.get((u, s), []), lv) for s in strategies}
            benchmarks = sorted({r["strategy"] for r in ok if r["universe"] == u and r["role"] == "benchmark"})
            for s in strategies:
                recs = groups.get((u, s), [])
                if mean[s] is None:
                    continue
                d = deflated_sharpe(mean[s].to_numpy(), n_trials, sr_var)
                deflated.append({"cost": float(lv), "universe": u, "strategy": s, "seeds": len(recs),
                                 "sharpe_annual": None if d["sr"] is None else d["sr"] * math.sqrt(ppy[u]), **d})
            for fold in plan:
                row = {"cost": float(lv), "universe": u, "fold": fold["name"], "test_first": fold["test_first"],
                       "test_last": fold["test_last"], "strategies": {}}
                for s in strategies + benchmarks:
                    vals = [r["levels"][lv]["folds"][fold["name"]] for r in groups.get((u, s), [])]
                    if not vals:
                        continue
                    agg = {}
                    for k in FOLD_KEYS:
                        v = np.array([x[k] for x in vals if x[k] is not None], dtype=float)
                        agg[k] = float(v.mean()) if v.size else None
                        agg[k + "_std"] = float(v.std(ddof=1)) if v.size > 1 else None
                    agg["seeds"] = len(vals)
                    row["strategies"][s] = agg
                per_fold.append(row)
                case = {"universe": u, "fold": fold["name"], "ppy": ppy[u]}
                lstm, mvo, ew = (mean.get(claims_cfg.lstm), mean.get(claims_cfg.mvo), mean.get(claims_cfg.equal_weight))
                if lstm is not None and mvo is not None:
                    a, b = _window(lstm, fold), _window(mvo, fold)
                    case["lstm_mvo"] = block_bootstrap_diff(a, b, ppy[u], n_boot=st.n_boot, block=st.block_bars,
                                                            statistics=ALL_STATISTICS)
                    wins = excess_return_windows(a, b, n_windows=3)
                    case["subwindows_won"] = sum(1 for w in wins if w["alpha"] is not None and w["alpha"] > 0)
                    # seed by seed: does each LSTM seed beat MVO in this fold?
                    mvo_fold = groups[(u, claims_cfg.mvo)][0]["levels"][lv]["folds"][fold["name"]]
                    seeds = [r["levels"][lv]["folds"][fold["name"]] for r in groups[(u, claims_cfg.lstm)]]
                    case["seed_wins"] = {k: sum(1 for x in seeds if x[k] is not None and mvo_fold[k] is not None
                                                and x[k] > mvo_fold[k]) for k in ("total_return", "sharpe_ratio")}
                    case["n_seeds"] = len(seeds)
                if mvo is not None and ew is not None:
                    case["mvo_ew"] = block_bootstrap_diff(_window(mvo, fold), _window(ew, fold), ppy[u],
                                                          n_boot=st.n_boot, block=st.block_bars,
                                                          statistics=ALL_STATISTICS)
                hi = claims_cfg.lstm_high_lambda
                if hi is not None:
                    lo_recs = {r["seed"]: r for r in groups.get((u, claims_cfg.lstm), [])}
                    hi_recs = {r["seed"]: r for r in groups.get((u, hi), [])}
                    paired = sorted(set(lo_recs) & set(hi_recs))
                    if len(paired) >= 2:
                        out = {}
                        for k in ("turnover", "max_drawdown"):
                            x_hi = np.array([hi_recs[s]["levels"][lv]["folds"][fold["name"]][k] for s in paired])
                            x_lo = np.array([lo_recs[s]["levels"][lv]["folds"][fold["name"]][k] for s in paired])
                            diff = x_hi - x_lo
                            p = (float(sps.ttest_rel(x_hi, x_lo).pvalue) if np.std(diff) > 0 else
                                 (0.0 if diff.mean() != 0 else 1.0))
                            out[k] = {"hi": float(x_hi.mean()), "lo": float(x_lo.mean()), "diff": float(diff.mean()),
                                      "p_value": p}
                        out["seeds"] = paired
                        case["lambda"] = out
                cases.append(case)

        def claim(number, pick, sign, rule, cases=cases, cost=float(lv)):
            _claim(number, cases, pick, sign, rule, cost, st.alpha, tests, claims_rows)

        claim("1", _boot("lstm_mvo", "total_return"), 1,
              "total return of the seed-averaged LSTM minus MVO's > 0 (paired block bootstrap)")
        claim("2", _boot("lstm_mvo", "sortino"), -1,
              "Sortino of the seed-averaged LSTM minus MVO's < 0 (paired block bootstrap)")
        claim("3", _boot("lstm_mvo", "max_drawdown"), -1,
              "max drawdown of the seed-averaged LSTM minus MVO's < 0, i.e. deeper (paired block bootstrap)")
        if claims_cfg.lstm_high_lambda is not None:
            claim("4", _lambda_pick, 1,
                  f"{claims_cfg.lstm_high_lambda} vs {claims_cfg.lstm}: lower turnover AND shallower "
                  "max drawdown, same seeds (paired t-tests over seeds; the larger p of the two)")
        sub = [c for c in cases if "subwindows_won" in c]
        claims_rows.append({"cost": float(lv), "claim": "5", "text": CLAIMS["5"],
                            "rule": "seed-averaged LSTM's compounded return above MVO's in >= 2 of the fold's 3 "
                                    "equal sub-windows (a count; no significance test)",
                            "cases": len(sub), "holds": sum(1 for c in sub if c["subwindows_won"] >= 2),
                            "fails": sum(1 for c in sub if c["subwindows_won"] < 2), "not_significant": None,
                            "direction_holds": sum(1 for c in sub if c["subwindows_won"] >= 2)})
        claim("6", _boot("mvo_ew", "sharpe"), 1, "Sharpe of MVO minus equal weight's > 0 (paired block bootstrap)")
        for key, label in (("total_return", "return"), ("sharpe_ratio", "Sharpe")):
            wins = sum(c["seed_wins"][key] for c in sub)
            n = sum(c["n_seeds"] for c in sub)
            ci = wilson_interval(wins, n)
            win_rates.append({"cost": float(lv), "comparison": f"LSTM seed beats MVO on fold {label}", "wins": wins,
                              "n": n, "rate": wins / n if n else None, "ci95": list(ci) if ci else None})
        for key, s_a, s_b in (("sharpe", claims_cfg.mvo, claims_cfg.equal_weight),):
            pts = [c["mvo_ew"][key]["diff"] for c in cases if c.get("mvo_ew") and c["mvo_ew"][key]["diff"] is not None]
            wins = sum(1 for d in pts if d > 0)
            ci = wilson_interval(wins, len(pts))
            win_rates.append({"cost": float(lv), "comparison": f"{s_a} beats {s_b} on fold Sharpe", "wins": wins,
                              "n": len(pts), "rate": wins / len(pts) if pts else None,
                              "ci95": list(ci) if ci else None})

    best = None
    if trials:
        r, lv, x, _ = max(trials, key=lambda t: -np.inf if t[3] is None else t[3])
        d = deflated_sharpe(x, n_trials, sr_var)
        best = {"universe": r["universe"], "strategy": r["strategy"], "seed": r["seed"], "cost": lv,
                "sharpe_annual": d["sr"] * math.sqrt(r["periods_per_year"]) if d["sr"] is not None else None, **d}
    return {"n_trials": n_trials, "sr_variance": sr_var, "plans": plans, "per_fold": per_fold, "tests": tests,
            "deflated": deflated, "best_trial": best, "win_rates": win_rates, "claims": claims_rows,
            "failures": failures, "order_failures": sum(lv_["order_failures"] for r in ok
                                                        for lv_ in [*r["levels"].values(),
                                                                    *r.get("presets", {}).values()]),
            "costs": cost_sensitivity(cfg, groups)}


#: the figures of the cost-sensitivity table (whole out-of-sample period, ``run_metrics`` keys)
COST_KEYS = ("total_return", "sharpe", "turnover", "commission_pct")


def _break_even(costs: list[float], diff: list[float]) -> dict:
    """Where an advantage (``diff`` > 0) first vanishes along increasing ``costs`` (linear
    interpolation between the grid's levels)."""
    if not diff or all(d is None for d in diff):
        return {"cost": None, "status": "n/a"}
    if diff[0] is None or diff[0] <= 0:
        ahead = [c for c, d in zip(costs, diff) if d is not None and d > 0]
        status = "never ahead" if not ahead else f"behind at {costs[0]:g}, ahead from {ahead[0]:g}"
        return {"cost": None, "status": status}
    for (c0, d0), (c1, d1) in zip(zip(costs, diff), zip(costs[1:], diff[1:])):
        if d1 is not None and d1 <= 0:
            return {"cost": c0 + (c1 - c0) * d0 / (d0 - d1), "status": "vanishes"}
    return {"cost": None, "status": f"ahead at every level up to {costs[-1]:g}"}


def cost_sensitivity(cfg: ExperimentConfig, groups: dict) -> dict:
    """Return, Sharpe, turnover and costs of every strategy at every cost level and preset (seed
    means), and the break-even cost at which the LSTM's return or Sharpe advantage over each
    rival vanishes (``study.claims.lstm`` against every other strategy of the config)."""
    st = cfg.study
    numeric = sorted(float(c) for c in st.commissions)
    rows = []
    table: dict = {}
    for (u, s), recs in groups.items():
        if s not in cfg.strategies:
            continue
        for label, key in [(c, ("levels", repr(c))) for c in numeric] + [(p, ("presets", p)) for p in st.cost_presets]:
            runs = [r[key[0]][key[1]] for r in recs if key[1] in r.get(key[0], {})]
            if not runs:
                continue
            row = {"universe": u, "strategy": s, "cost": label, "seeds": len(runs)}
            for k in COST_KEYS:
                v = np.array([x["metrics"][k] for x in runs if x["metrics"].get(k) is not None], dtype=float)
                row[k] = float(v.mean()) if v.size else None
            c = [x.get("costs") or {} for x in runs]
            for k in ("fee", "spread", "impact", "capped_orders"):
                v = [x[k] for x in c if k in x]
                row[k] = float(np.mean(v)) if v else None
            rows.append(row)
            table[(u, s, label)] = row
    lstm = st.claims.lstm
    breaks = []
    for u in st.universes:
        for rival in [s for s in cfg.strategies if s != lstm]:
            for k in ("total_return", "sharpe"):
                pairs = [(table.get((u, lstm, c)), table.get((u, rival, c))) for c in numeric]
                diff = [None if a is None or b is None or a[k] is None or b[k] is None else a[k] - b[k]
                        for a, b in pairs]
                presets = {p: (None if table.get((u, lstm, p)) is None or table.get((u, rival, p)) is None
                               else table[(u, lstm, p)][k] - table[(u, rival, p)][k]) for p in st.cost_presets}
                breaks.append({"universe": u, "lstm": lstm, "rival": rival, "statistic": k,
                               "diff": dict(zip([repr(c) for c in numeric], diff)), "presets": presets,
                               **_break_even(numeric, diff)})
    return {"levels": numeric, "presets": list(st.cost_presets), "rows": rows, "break_even": breaks}


__all__ = ["CLAIMS", "analyse", "expand_study", "run_study", "run_study_task"]
