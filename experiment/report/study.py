"""The robustness study's report: tables and plots from its ``results.json`` (mode: study).

The same tables feed ``report.md``/``report.html`` and the REPRODUCTION.md section, so the
document and the run's own report always show the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bt_lstm_mvo.experiment.report.tables import Table, num, pct


def _cost(c) -> str:
    return c if isinstance(c, str) else f"{10000 * float(c):g} bps"


def design_table(res: dict) -> Table:
    cfg = res["config"]
    st = cfg["study"]
    a = res["analysis"]
    rows = []
    for u, tickers in st["universes"].items():
        plan = a["plans"].get(u, [])
        rec = next((r for r in res["records"] if r["universe"] == u and r["status"] == "ok"), None)
        data = f"{rec['first_date']}..{rec['last_date']}" if rec else "n/a"
        tests = f"{plan[0]['test_first']}..{plan[-1]['test_last']} ({len(plan)} folds)" if plan else "n/a"
        rows.append([u, ", ".join(tickers), data, tests])
    f = cfg["split"]["folds"]
    seeds = {n: (s.get("seeds") or [None]) for n, s in cfg["strategies"].items()}
    strat = "; ".join(f"{n} ({s['kind']}" + (f", {len(seeds[n])} seeds" if seeds[n] != [None] else "")
                      + (f", lambda {s['params']['lambda_penalty']:g}"
                         if "lambda_penalty" in s.get("params", {}) else "")
                      + (f", schedule {s['schedule']}" if s["schedule"] != "daily" else "") + ")"
                      for n, s in cfg["strategies"].items())
    notes = [f"Strategies: {strat}; plus buy-and-hold of every asset." if cfg.get("buy_and_hold_benchmarks")
             else f"Strategies: {strat}.",
             f"Folds: {f['length']} folds from {f['first_test']}, {f['training']} training"
             + (f" of {f['train_bars']} bars" if f.get("train_bars") else "") + f", gap {f['gap']} bars. "
             f"Cost levels: {', '.join(_cost(c) for c in st['commissions'])} per side"
             + (f", and the per-asset cost preset(s) {', '.join(st.get('cost_presets') or [])}"
                if st.get("cost_presets") else "")
             + " (the first runs the strategies, the others replay their decided weights).",
             f"{len(res['records'])} runs ({len(a['failures'])} failed), {a['n_trials']} configurations in all "
             f"(runs x cost levels); {a['order_failures']} Margin/Rejected/Canceled orders. Wall time "
             f"{res['seconds'] / 60:.1f} min on {res['workers']} {res['backend']} workers."]
    return Table("Robustness study - design", ["Universe", "Tickers", "Data", "Out-of-sample test"], rows, notes)


def fold_tables(res: dict) -> list[Table]:
    a = res["analysis"]
    out = []
    names = list(res["config"]["strategies"])
    for cost in res["config"]["study"]["commissions"]:
        rows = []
        for row in a["per_fold"]:
            if row["cost"] != float(cost):
                continue
            cells = [row["universe"], f"{row['fold']} ({row['test_first'][:7]}..{row['test_last'][:7]})"]
            for n in names:
                s = row["strategies"].get(n)
                if s is None:
                    cells.append("n/a")
                    continue
                ret = pct(s["total_return"], 1)
                if s.get("total_return_std") is not None:
                    ret += f" ± {pct(s['total_return_std'], 1)}"
                cells.append(f"{ret} / {num(s['sharpe_ratio'])} / {pct(s['max_drawdown'], 1)}")
            rows.append(cells)
        out.append(Table(f"Robustness study - per fold at {_cost(cost)}: return / Sharpe / max drawdown",
                         ["Universe", "Fold", *names], rows,
                         ["Each fold's out-of-sample figures from the run's fold-window analyzers; seeded "
                          "strategies: mean (± std of the return) over seeds."]))
    return out


def _fold_values(res: dict, cost: float, keys) -> dict[str, dict[str, list]]:
    """Strategy -> figure -> every defined per-fold value at ``cost`` (over universes, folds, seeds)."""
    out = {n: {k: [] for k in keys} for n in res["config"]["strategies"]}
    for r in res["records"]:
        if r["status"] == "ok" and r["strategy"] in out:
            for f in r["levels"][repr(cost)]["folds"].values():
                for k in keys:
                    if f[k] is not None:
                        out[r["strategy"]][k].append(f[k])
    return out


def pooled_table(res: dict) -> Table:
    """Distributions over every (universe, fold, seed) case at the first cost level."""
    cost = float(res["config"]["study"]["commissions"][0])
    keys = ("total_return", "sharpe_ratio", "max_drawdown", "turnover")
    pooled = _fold_values(res, cost, keys)
    rows = []
    for name in res["config"]["strategies"]:
        vals = pooled[name]
        if not vals["total_return"]:
            continue
        q = {k: pd.Series(v).quantile([0.1, 0.5, 0.9]).tolist() for k, v in vals.items()}
        rows.append([name, str(len(vals["total_return"])),
                     f"{pct(q['total_return'][1], 1)} [{pct(q['total_return'][0], 1)}, {pct(q['total_return'][2], 1)}]",
                     f"{num(q['sharpe_ratio'][1])} [{num(q['sharpe_ratio'][0])}, {num(q['sharpe_ratio'][2])}]",
                     f"{pct(q['max_drawdown'][1], 1)}", f"{pct(q['turnover'][1], 2)}"])
    return Table(f"Robustness study - pooled over universes, folds and seeds at {_cost(cost)}",
                 ["Strategy", "Cases", "Fold return: median [10%, 90%]", "Fold Sharpe: median [10%, 90%]",
                  "Median max drawdown", "Median daily turnover"], rows)


def deflated_table(res: dict) -> Table:
    a = res["analysis"]
    rows = [[_cost(d["cost"]), d["universe"],
             d["strategy"] + (f" (mean of {d['seeds']} seeds)" if d["seeds"] > 1 else ""),
             num(d["sharpe_annual"]), num(d["psr"], 3), num(d["dsr"], 3)] for d in a["deflated"]]
    b = a.get("best_trial")
    notes = [f"PSR: probability that the true Sharpe ratio of the whole out-of-sample series is above 0 "
             f"(Bailey & Lopez de Prado 2012). DSR: the same probability against the Sharpe ratio the best of "
             f"{a['n_trials']} skill-less configurations would reach by luck (every run x cost level this study "
             f"tried; variance of their per-bar Sharpe ratios {a['sr_variance']:.3g}; Bailey & Lopez de Prado 2014)."]
    if b:
        notes.append(f"The best configuration of the study ({b['universe']}, {b['strategy']}"
                     + (f" seed {b['seed']}" if b["seed"] is not None else "")
                     + f", {_cost(b['cost'])}): annualised Sharpe {num(b['sharpe_annual'])}, PSR {num(b['psr'], 3)}, "
                     f"DSR {num(b['dsr'], 3)}.")
    return Table("Robustness study - probabilistic and deflated Sharpe ratios",
                 ["Cost", "Universe", "Strategy", "Sharpe (ann.)", "PSR", "DSR"], rows, notes)


def claims_table(res: dict) -> Table:
    a = res["analysis"]
    alpha = res["config"]["study"]["alpha"]
    rows = []
    for c in a["claims"]:
        ns = "-" if c["not_significant"] is None else str(c["not_significant"])
        rows.append([c["claim"], c["text"], _cost(c["cost"]), str(c["cases"]), str(c["holds"]), str(c["fails"]), ns,
                     f"{c['direction_holds']}/{c['cases']}"])
    notes = [f"Cases: (universe, fold) pairs. Holds / fails: the difference is significant at {alpha:g} after "
             "Holm's correction across the cases of that claim and cost, in / against the claimed direction; "
             "n.s.: not significant. Direction: cases where the point estimate goes the claimed way, "
             "significant or not. The LSTM is the mean of its seeds' daily returns."]
    notes += [f"Claim {c['claim']} rule: {c['rule']}." for c in a["claims"] if c["cost"] == a["claims"][0]["cost"]]
    return Table("Robustness study - the paper's claims, tested", ["#", "Claim", "Cost", "Cases", "Holds", "Fails",
                                                                  "n.s.", "Direction"], rows, notes)


def win_rate_table(res: dict) -> Table:
    rows = [[_cost(w["cost"]), w["comparison"], f"{w['wins']}/{w['n']}", pct(w["rate"], 0),
             f"[{pct(w['ci95'][0], 0)}, {pct(w['ci95'][1], 0)}]" if w["ci95"] else "n/a"]
            for w in res["analysis"]["win_rates"]]
    return Table("Robustness study - win rates", ["Cost", "Comparison", "Wins", "Rate", "Wilson 95% CI"], rows,
                 ["LSTM rows count every (universe, fold, seed); the MVO row every (universe, fold)."])


def tests_table(res: dict) -> Table:
    rows = [[_cost(t["cost"]), t["claim"], t["universe"], t["fold"], num(t["diff"], 4), num(t["p_value"], 4),
             num(t["p_holm"], 4), t["verdict"]] for t in res["analysis"]["tests"]]
    return Table("Robustness study - every test behind the claims table",
                 ["Cost", "Claim", "Universe", "Fold", "Difference", "p", "p (Holm)", "Verdict"], rows,
                 ["Differences: claims 1-3 LSTM minus MVO (return, Sortino, max drawdown), claim 6 MVO minus equal "
                  "weight (Sharpe); claim 4: +1 both lower, -1 both higher, 0 mixed."])


def _has_costs(res: dict) -> bool:
    c = res["analysis"].get("costs")
    return bool(c) and (len(c["levels"]) > 2 or bool(c["presets"]))


def cost_tables(res: dict) -> list[Table]:
    """Return, Sharpe and turnover against cost, per universe, and the break-even costs."""
    c = res["analysis"]["costs"]
    labels = [*c["levels"], *c["presets"]]
    out = []
    for u in res["config"]["study"]["universes"]:
        rows = []
        for s in res["config"]["strategies"]:
            cells = {r["cost"]: r for r in c["rows"] if r["universe"] == u and r["strategy"] == s}
            if not cells:
                continue
            for k, label, fmt in (("total_return", "return", pct), ("sharpe", "Sharpe", num),
                                  ("turnover", "turnover/day", pct)):
                rows.append([s, label] + [fmt(cells[x][k]) if x in cells else "n/a" for x in labels])
        out.append(Table(f"Cost sensitivity - {u}", ["Strategy", "Statistic", *[_cost(x) for x in labels]], rows,
                         ["Whole out-of-sample period (every fold chained), seed means; each level replays the "
                          "weights decided at the first (nothing retrained). A preset is the per-asset cost "
                          "model of README 'Broker realism'."]))
    rows = []
    for b in c["break_even"]:
        first = b["diff"].get(repr(c["levels"][0]))
        be = "n/a" if b["cost"] is None else f"{10000 * b['cost']:.1f} bps"
        pres = "; ".join(f"{p}: {'n/a' if d is None else (pct(d) if b['statistic'] == 'total_return' else num(d))}"
                         for p, d in b["presets"].items())
        fmt = pct if b["statistic"] == "total_return" else num
        stat = "return" if b["statistic"] == "total_return" else "Sharpe"
        rows.append([b["universe"], f"{b['lstm']} - {b['rival']}", stat,
                     "n/a" if first is None else fmt(first), be, b["status"], pres or "-"])
    out.append(Table("Break-even costs: where the LSTM's advantage vanishes",
                     ["Universe", "Difference", "Statistic", f"At {_cost(c['levels'][0])}", "Break-even cost",
                      "Status", "At the presets"], rows,
                     ["Break-even: the cost per side (linear interpolation between grid levels) at which the "
                      "seed-averaged LSTM's advantage first reaches 0; 'never ahead': no advantage even "
                      "without costs."]))
    return out


def study_tables(res: dict, full: bool = True) -> list[Table]:
    out = [design_table(res), claims_table(res), deflated_table(res), win_rate_table(res), pooled_table(res)]
    if _has_costs(res):
        out += cost_tables(res)
    out += fold_tables(res)
    if full:
        out.append(tests_table(res))
    return out


# ----------------------------------------------------------------------------- plots


def study_plots(res: dict, folder: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cost = float(res["config"]["study"]["commissions"][0])
    names = list(res["config"]["strategies"])
    values = _fold_values(res, cost, ("total_return", "sharpe_ratio"))
    out = {}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, (k, label) in zip(axes, (("total_return", "fold return"), ("sharpe_ratio", "fold Sharpe ratio"))):
        ax.boxplot([values[n][k] for n in names], tick_labels=names, showmeans=True)
        ax.set_title(f"{label} over universes x folds x seeds")
        ax.axhline(0, color="grey", lw=0.8)
        ax.tick_params(axis="x", rotation=20)
    fig.suptitle(f"{res['name']}: per-fold distributions at {_cost(cost)}")
    fig.tight_layout()
    path = folder / "study_distributions.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    out["Per-fold return and Sharpe distributions by strategy"] = path

    lstm, mvo = res["config"]["study"]["claims"]["lstm"], res["config"]["study"]["claims"]["mvo"]
    cases = []
    for row in res["analysis"]["per_fold"]:
        if row["cost"] == cost:
            cases.append((f"{row['universe']} {row['test_first'][:4]}", row["universe"], row["fold"]))
    fig, ax = plt.subplots(figsize=(max(8, 0.75 * len(cases)), 5))
    for i, (_, u, fold) in enumerate(cases):
        seeds = [r["levels"][repr(cost)]["folds"][fold]["total_return"] for r in res["records"]
                 if r["status"] == "ok" and r["universe"] == u and r["strategy"] == lstm]
        ax.scatter([i] * len(seeds), seeds, s=12, color="tab:blue", alpha=0.6, label="LSTM seeds" if i == 0 else None)
        m = [r["levels"][repr(cost)]["folds"][fold]["total_return"] for r in res["records"]
             if r["status"] == "ok" and r["universe"] == u and r["strategy"] == mvo]
        if m:
            ax.scatter([i], m[:1], marker="D", color="tab:orange", label="MVO" if i == 0 else None)
    ax.set_xticks(range(len(cases)), [c[0] for c in cases], fontsize=8, rotation=40, ha="right")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylabel("fold return")
    ax.set_title(f"LSTM seed spread per (universe, fold) at {_cost(cost)}")
    ax.legend()
    fig.tight_layout()
    path = folder / "study_seed_spread.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    out["LSTM seed spread"] = path
    if _has_costs(res):
        out["Return and Sharpe against cost"] = cost_plot(res, folder)
    return out


def cost_plot(res: dict, folder: Path) -> Path:
    """Return and Sharpe against the cost per side, one row of panels per universe; presets as
    labelled markers to the right of the grid."""
    import matplotlib.pyplot as plt

    c = res["analysis"]["costs"]
    universes = list(res["config"]["study"]["universes"])
    fig, axes = plt.subplots(len(universes), 2, figsize=(12, 4 * len(universes)), squeeze=False)
    bps = [10000 * x for x in c["levels"]]
    right = (max(bps) if bps else 0) * 1.12 + 1
    for row, u in zip(axes, universes):
        for ax, (k, label) in zip(row, (("total_return", "total return"), ("sharpe", "Sharpe ratio"))):
            for s in res["config"]["strategies"]:
                cells = {r["cost"]: r for r in c["rows"] if r["universe"] == u and r["strategy"] == s}
                ys = [cells[x][k] if x in cells else None for x in c["levels"]]
                line = ax.plot(bps, [float("nan") if y is None else y for y in ys], marker="o", ms=3, label=s)[0]
                for j, p in enumerate(c["presets"]):
                    if p in cells and cells[p][k] is not None:
                        ax.scatter([right + 4 * j], [cells[p][k]], marker="*", s=90, color=line.get_color())
            for j, p in enumerate(c["presets"]):
                ax.axvline(right + 4 * j, color="lightgrey", lw=0.6)
                ax.annotate(p, (right + 4 * j, 1.0), xycoords=("data", "axes fraction"), fontsize=8, ha="center",
                            va="bottom")
            for b in c["break_even"]:
                if b["universe"] == u and b["statistic"] == k and b["cost"] is not None:
                    ax.axvline(10000 * b["cost"], color="grey", ls=":", lw=0.8)
            ax.set_xlabel("cost per side (bps)")
            ax.set_ylabel(label)
            ax.set_title(f"{u}: {label} vs cost (dotted: break-even costs)", fontsize=10)
            ax.axhline(0, color="grey", lw=0.6)
        row[0].legend(fontsize=8)
    fig.tight_layout()
    path = folder / "study_costs.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_study_outputs(res: dict, out: Path, make_plots: bool = True) -> Path:
    """results.json, configurations.csv, report.md/html and the plots, written atomically."""
    from bt_lstm_mvo.experiment.report.files import atomic_dir
    from bt_lstm_mvo.experiment.report.tables import write_simple_report

    with atomic_dir(Path(out)) as tmp:
        rows = []
        for r in res["records"]:
            if r["status"] != "ok":
                continue
            for lv, level in r["levels"].items():
                for fold, f in level["folds"].items():
                    rows.append({"universe": r["universe"], "strategy": r["strategy"], "seed": r["seed"],
                                 "cost": float(lv), "fold": fold, **f})
        pd.DataFrame(rows).to_csv(tmp / "configurations.csv", index=False, float_format="%.10g")
        images = study_plots(res, tmp) if make_plots else {}
        tables = study_tables(res)
        write_simple_report(tmp, res, res["description"], tables, images, indent=1)
    return Path(out)


def findings(res: dict) -> str:
    """Two sentences on what the study found at its first cost level (README quotes them; a test
    checks the README against the stored results)."""
    a = res["analysis"]
    cost = float(res["config"]["study"]["commissions"][0])
    claims = {c["claim"]: c for c in a["claims"] if c["cost"] == cost}
    win = next(w for w in a["win_rates"] if w["cost"] == cost and "fold return" in w["comparison"])
    lstm = res["config"]["study"]["claims"]["lstm"]
    dsr = [d["dsr"] for d in a["deflated"] if d["cost"] == cost and d["strategy"] == lstm and d["dsr"] is not None]
    n_univ = len(res["config"]["study"]["universes"])
    n_folds = len(next(iter(a["plans"].values())))
    sig = sum(claims[k]["holds"] + claims[k]["fails"] for k in ("1", "2", "3") if k in claims)
    c1, c6 = claims.get("1"), claims.get("6")
    text = (f"At {_cost(cost)} per side, over {n_univ} universes x {n_folds} out-of-sample folds, the paper's claims "
            f"1-3 (LSTM return above MVO's, MVO's Sortino above the LSTM's, deeper LSTM drawdowns) are significant "
            f"in {sig} of {3 * c1['cases']} (universe, fold) tests after Holm's correction: the seed-averaged LSTM "
            f"beat MVO's return in {c1['direction_holds']} of {c1['cases']} cases (single seeds in "
            f"{win['wins']}/{win['n']}, {pct(win['rate'], 0)}, 95% CI "
            f"{pct(win['ci95'][0], 0)}-{pct(win['ci95'][1], 0)}), "
            f"and the LSTM's deflated Sharpe ratio is {num(min(dsr), 2)}-{num(max(dsr), 2)}.")
    if "4" in claims:
        c4 = claims["4"]
        text += (f" A larger lambda lowers turnover and drawdown significantly in {c4['holds']} of {c4['cases']} "
                 f"cases (the point estimates agree in {c4['direction_holds']})")
    if c6 is not None:
        text += (f"{',' if '4' in claims else ''} and MVO beats equal weight's Sharpe in {c6['direction_holds']} of "
                 f"{c6['cases']} cases ({c6['holds']} significantly).")
    return text


def cost_findings(res: dict) -> str:
    """What costs did to the LSTM's standing against each rival (README quotes it; a test checks
    the README against the stored results of ``configs/costs.yaml``)."""
    c = res["analysis"]["costs"]
    lstm = res["config"]["study"]["claims"]["lstm"]
    lo, hi = c["levels"][0], c["levels"][-1]
    parts = []
    for u in res["config"]["study"]["universes"]:
        cell = {(r["strategy"], r["cost"]): r for r in c["rows"] if r["universe"] == u}
        sentences = []
        for b in (x for x in c["break_even"] if x["universe"] == u):
            first = b["diff"][repr(lo)]
            what = "return" if b["statistic"] == "total_return" else "Sharpe"
            fmt = pct if b["statistic"] == "total_return" else (lambda x: f"{x:+.2f}")
            if b["status"] == "vanishes":
                sentences.append(f"has a {what} edge over {b['rival']} ({fmt(first)} at {_cost(lo)}) that vanishes "
                                 f"at {10000 * b['cost']:.1f} bps per side")
            elif b["status"] == "never ahead":
                sentences.append(f"trails {b['rival']} on {what} at every level ({fmt(first)} at {_cost(lo)})")
            else:
                sentences.append(f"against {b['rival']} on {what}: {b['status']}")
        text = (f"On {u} ({_cost(lo)} to {_cost(hi)} per side, the same decided weights replayed at each), "
                f"the seed-averaged {lstm} " + "; ".join(sentences) + ".")
        for p in c["presets"]:
            got = cell.get((lstm, p))
            flat = [(x, cell[(lstm, x)]["total_return"]) for x in c["levels"] if (lstm, x) in cell]
            if got is None or len(flat) < 2:
                continue
            # the flat level that costs the LSTM the same return as the preset (interpolated on the grid)
            same = next((x0 + (x1 - x0) * (r0 - got["total_return"]) / (r0 - r1)
                         for (x0, r0), (x1, r1) in zip(flat, flat[1:]) if r0 >= got["total_return"] >= r1 and r0 != r1),
                        None)
            text += (f" The {p} preset leaves {lstm} {pct(got['total_return'])} (Sharpe {num(got['sharpe'])})"
                     + (f", what a flat {10000 * same:.0f} bps per side would." if same is not None else "."))
        parts.append(text)
    return " ".join(parts)
