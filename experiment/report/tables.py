"""The report: the paper's Tables 1-4 laid out from ``results.json``, in Markdown and HTML.

Tables are built once as plain data (:class:`Table`) and rendered twice, so the Markdown and the
self-contained HTML (plots embedded as base64 PNG) always show the same numbers.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bt_lstm_mvo.experiment.sweep import SweepResult, point_label


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        out = [f"### {self.title}", "", "| " + " | ".join(self.header) + " |",
               "|" + "---|" * len(self.header)]
        out += ["| " + " | ".join(r) + " |" for r in self.rows]
        out += [""] + [f"*{n}*" for n in self.notes]
        return "\n".join(out) + "\n"

    def html(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in self.rows)
        notes = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in self.notes)
        return f"<h3>{html.escape(self.title)}</h3><table><tr>{head}</tr>{body}</table>{notes}"


def pct(x, digits=2) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def num(x, digits=2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


ROWS_T1 = [("Total return", "total_return", pct), ("CAGR", "cagr", pct), ("Max drawdown", "max_drawdown", pct),
           ("Sharpe", "sharpe", num), ("Sortino", "sortino", num), ("Volatility (ann.)", "volatility", pct),
           ("Calmar", "calmar", num), ("Mean daily turnover", "turnover", pct),
           ("Commission (% of initial cash)", "commission_pct", lambda x: pct(x, 3))]


def _cell(s: dict, key: str, fmt) -> str:
    mean = s["metrics"].get(key)
    std = (s.get("metrics_std") or {}).get(key)
    if std is not None and len(s.get("seeds", [])) > 1:
        return f"{fmt(mean)} ± {fmt(std)}"
    return fmt(mean)


def table1(res: dict) -> Table:
    strategies = res["strategies"]
    names = list(strategies)
    rows = [[label] + [_cell(strategies[n], key, fmt) for n in names] for label, key, fmt in ROWS_T1]
    notes = [f"Test period {res['split']['test_start']}..{res['split']['test_end']} "
             f"({res['split']['n_test_returns']} daily returns), after {cost_phrase(res['config']['broker'])}; "
             f"Sortino variant: {res['config']['analysis']['sortino_variant']}; annualised with "
             f"{res['data']['periods_per_year']:.1f} bars/year; Sharpe uses the sample std."]
    multi = [n for n in names if len(strategies[n]["seeds"]) > 1]
    if multi:
        notes.append(f"{', '.join(multi)}: mean ± std over seeds {strategies[multi[0]]['seeds']}.")
    return Table("Table 1 - Performance over the test period", ["Metric", *names], rows, notes)


def table_benchmarks(res: dict) -> Table | None:
    if not res["benchmarks"]:
        return None
    rows = [[f"hold {t}", pct(b["metrics"]["total_return"]), pct(b["metrics"]["max_drawdown"]),
             num(b["metrics"]["sharpe"]), pct(b["metrics"]["volatility"])] for t, b in res["benchmarks"].items()]
    return Table("Reference lines - buy-and-hold of each asset",
                 ["Line", "Total return", "Max drawdown", "Sharpe", "Volatility"], rows)


def table2(res: dict) -> Table | None:
    alpha = res.get("alpha")
    if not alpha:
        return None
    a, b = alpha["pair"]
    rows = []
    for i, w in enumerate(alpha["windows"], 1):
        rows.append([f"Window {i}", f"{w['start']}..{w['end']}", pct(w["strategy_return"]),
                     pct(w["benchmark_return"]), pct(w["alpha"], 1)])
    notes = [f"Alpha = compounded return of {a} minus that of {b} in each of {alpha['n_windows']} "
             "non-overlapping windows of the test period (first seed)."]
    if alpha.get("per_seed"):
        per = alpha["per_seed"]
        spread = [", ".join(pct(s[i]["alpha"], 1) for s in per) for i in range(len(alpha["windows"]))]
        notes.append("Per seed: " + "; ".join(f"window {i + 1}: {s}" for i, s in enumerate(spread)))
    return Table(f"Table 2 - Alpha of {a} vs {b}", ["", "Dates", a, b, "Alpha"], rows, notes)


def table_external_benchmark(res: dict) -> Table | None:
    ext = res.get("external_benchmark")
    if not ext:
        return None
    rows = []
    for name, s in ext["strategies"].items():
        t, c = s["total"], s["capm"] or {}
        rows.append([name, pct(t["strategy_return"]), pct(t["benchmark_return"]), pct(t["alpha"]),
                     pct(c.get("alpha")), num(c.get("beta")), num(c.get("r_squared"))])
    return Table(f"Against the benchmark {ext['name']}", ["Strategy", "Return", f"{ext['name']} return",
                 "Excess return", "CAPM alpha (ann.)", "Beta", "R²"], rows,
                 [f"Over the test period (first seed). CAPM: OLS of daily returns on {ext['name']}'s (risk-free 0); "
                  "alpha compounded to a year, as empyrical. On a bar where the benchmark has no price its return "
                  "is 0."])


def table3(res: dict) -> Table:
    strategies = res["strategies"]
    names = list(strategies)
    tickers = res["data"]["tickers"]
    rows = []
    for t in tickers:
        row = [t]
        for n in names:
            run = strategies[n]["runs"][0]
            tgt = (run["final_target"] or {}).get(t)
            held = (run["final_held"] or {}).get(t)
            row.append(f"{pct(tgt)} / {pct(held)}")
        rows.append(row)
    cash = ["Cash"]
    for n in names:
        run = strategies[n]["runs"][0]
        tgt = 1 - sum((run["final_target"] or {}).values()) if run["final_target"] else None
        held = 1 - sum((run["final_held"] or {}).values()) if run["final_held"] else None
        cash.append(f"{pct(tgt)} / {pct(held)}")
    rows.append(cash)
    notes = ["Target: the last allocation decided; held: after drift since the last rebalance (first seed)."]
    costs = res["config"]["broker"].get("costs")
    if costs is not None:
        notes.append("Held cash includes what per-asset costs leave over: the residual of whole-share lots, "
                     "capped orders' remainders, and the minimum trade value.")
    return Table("Table 3 - Final weights (target / held at the last close)", ["Asset", *names], rows, notes)


def table4(res: dict) -> list[Table]:
    out = []
    for wname, per in res["stress"].items():
        rows = []
        for name, s in per.items():
            status = s.get("status", "ok")
            if status == "outside traded period":
                flag = "n/a (not traded)"
            else:
                flag = {True: "no: in training data", False: "yes", None: "unknown"}[s.get("overlaps_training")]
            rows.append([name, status, pct(s.get("total_return")), pct(s.get("max_drawdown")),
                         pct(s.get("annual_volatility")), flag])
        notes = ["A window outside the traded (test) period gives no numbers. 'No: in training data' means the "
                 "window starts before the end of the data of the first fit, so the model that traded it had "
                 "seen (part of) it. Walk-forward refits (folds) only ever use bars before the decisions they "
                 "drive, so every window after the first fold's start is out of sample."]
        out.append(Table(f"Table 4 - Stress window '{wname}'",
                         ["Strategy", "Coverage", "Return", "Max drawdown", "Volatility", "Out of sample"],
                         rows, notes))
    return out


def table_folds(res: dict) -> Table | None:
    """Walk-forward folds: each fold's training and test dates, and per strategy its return and
    Sharpe (mean over seeds) from the fold-window analyzers."""
    folds = res.get("folds")
    if not folds:
        return None
    names = list(folds["strategies"])
    rows = []
    for f in folds["plan"]:
        row = [f["name"], f"{f['train_first']}..{f['train_last']} ({f['train_bars']})",
               f"{f['test_first']}..{f['test_last']} ({f['test_returns']})"]
        for n in names:
            m = folds["strategies"][n][f["name"]]
            row.append(f"{pct(m.get('total_return'), 1)} / {num(m.get('sharpe_ratio'))}")
        rows.append(row)
    how = (f"{folds['training']} training" + (f" of {folds['train_bars']} bars" if folds["train_bars"] else "")
           + f", gap {folds['gap']} bars, fold length {folds['length']}")
    return Table("Walk-forward folds - return / Sharpe per out-of-sample fold",
                 ["Fold", "Training bars (count)", "Test returns (count)", *names], rows,
                 [f"Each fold's models are fitted at the close before its first test return on the training "
                  f"bars only ({how}); the portfolio carries over from fold to fold. Seeded strategies: mean "
                  "over seeds."])


def table_orders(res: dict) -> Table:
    rows = []
    for name, s in res["strategies"].items():
        for run in s["runs"]:
            stats = run["order_stats"]
            failed = sum(v for k, v in stats.items() if k != "Completed")
            rows.append([name + (f" (seed {run['seed']})" if run["seed"] is not None else ""),
                         str(run["n_rebalances"]), str(stats.get("Completed", 0)), str(failed),
                         f"{run['commission']:,.2f}", str(len(run["fallbacks"])), f"{run['seconds']:.1f}s"])
    return Table("Orders, costs and fallbacks", ["Run", "Rebalances", "Fills", "Margin/Rejected/Canceled",
                                                 "Commission paid", "Fallbacks", "Run time"], rows)


def cost_phrase(broker: dict) -> str:
    """How fills were charged, in words (Table 1's note)."""
    costs = broker.get("costs")
    if costs is None:
        text = f"{100 * broker['commission']:g}% commission on every fill"
    else:
        text = (f"per-asset costs (preset {costs['preset']!r}: fees, spread, impact, volume cap, lots; "
                "see Execution costs)")
    if broker.get("interest_csv"):
        text += f", idle cash earning the rates of {broker['interest_csv']}"
    elif broker.get("interest_rate"):
        text += f", idle cash earning {100 * broker['interest_rate']:g}% a year"
    return text


def table_costs(res: dict) -> Table | None:
    """Fees, spread, impact, volume-capped orders and interest per run (the ExecutionCosts analyzer)."""
    broker = res["config"]["broker"]
    if broker.get("costs") is None and not broker.get("interest_rate") and not broker.get("interest_csv"):
        return None
    rows = []
    for name, s in res["strategies"].items():
        for run in s["runs"]:
            c = run.get("costs")
            if not c:
                continue
            cash = broker["cash"]
            rows.append([name + (f" (seed {run['seed']})" if run["seed"] is not None else ""),
                         pct(c["fee"] / cash, 3), pct(c["spread"] / cash, 3), pct(c["impact"] / cash, 3),
                         pct(c["total"] / cash, 3), f"{c['capped_orders']} ({c['carried']} carried, "
                         f"{c['cancelled']} cancelled)", f"{c['unfilled_value']:,.0f}", pct(c["interest"] / cash, 3)])
    return Table("Execution costs over the test period",
                 ["Run", "Fees", "Spread", "Impact", "Total cost", "Volume-capped orders", "Unfilled value",
                  "Interest earned"], rows,
                 ["Costs and interest as % of the initial cash; unfilled value: the capped remainders at the "
                  "bar's close. Formulas and parameters: README, Broker realism."])


def table_significance(res: dict) -> Table | None:
    sig = res.get("significance")
    if not sig:
        return None
    return significance_table(sig["comparison"])


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def tearsheet_tables(res: dict) -> list[Table]:
    """Per strategy (first seed): monthly and yearly returns, and the worst drawdowns, from its
    ``TearsheetStats`` analyzer."""
    out = []
    for name, s in res["strategies"].items():
        ts = s["runs"][0]["analyzers"].get("tearsheet")
        if not ts:
            continue
        rows = []
        for year, months in ts["monthly"].items():
            rows.append([str(year)] + [pct(months.get(str(m)), 1) if str(m) in months else ""
                                       for m in range(1, 13)] + [pct(ts["yearly"].get(str(year)), 1)])
        seed = " (first seed)" if len(s["seeds"]) > 1 else ""
        out.append(Table(f"Tearsheet: {name}{seed} - monthly returns", ["Year", *MONTHS, "Year total"], rows,
                         ["Compounded daily returns of the test period per calendar month and year "
                          "(a partial first or last month covers only the test days)."]))
        rows = [[str(i), d["start"], d["valley"], d["recovery"] or "not recovered", pct(d["depth"]), str(d["days"])]
                for i, d in enumerate(ts["drawdowns"], 1)]
        out.append(Table(f"Tearsheet: {name}{seed} - worst drawdowns",
                         ["#", "Start", "Valley", "Recovery", "Depth", "Days"], rows,
                         ["Episodes of compounded wealth below its previous peak, deepest first; days are calendar "
                          "days from the start to the recovery (or to the end of the test)."]))
    return out


def tables(res: dict) -> list[Table]:
    out = [table1(res)]
    for t in (table_benchmarks(res), table_external_benchmark(res), table2(res), table_significance(res)):
        if t is not None:
            out.append(t)
    out.append(table3(res))
    folds = table_folds(res)
    if folds is not None:
        out.append(folds)
    out += table4(res)
    out.append(table_orders(res))
    costs = table_costs(res)
    if costs is not None:
        out.append(costs)
    out += tearsheet_tables(res)
    out += [Table(**t) for t in res.get("sweep_tables", [])]
    return out


def header_lines(res: dict) -> list[str]:
    d = res["data"]
    lines = [f"Data: {d['label']}; {len(d['tickers'])} tickers, {d['bars']} bars {d['first_date']}.."
             f"{d['last_date']} ({d['calendar']} calendar). Fingerprint {d['fingerprint'].get('digest')}."]
    if d["synthetic"]:
        lines.insert(0, "SYNTHETIC DATA: these results come from the seeded synthetic market, not real "
                        "prices. They demonstrate the tool, not the paper's claims.")
    lines.append(f"Training bars {res['split']['train_start']}..{res['split']['train_end']}; "
                 f"test {res['split']['test_start']}..{res['split']['test_end']}.")
    return lines


def fallbacks_lines(res: dict) -> list[str]:
    out = []
    for name, s in res["strategies"].items():
        for run in s["runs"]:
            for f in run["fallbacks"]:
                out.append(f"{name}: {f.get('date')}: {f.get('reason')} -> {f.get('used')}")
    return out


def render_markdown(res: dict, images: dict[str, str]) -> str:
    parts = [f"# {res['name']}", "", res.get("description") or "", ""]
    parts += [f"> {line}" for line in header_lines(res)] + [""]
    for t in tables(res):
        parts.append(t.markdown())
    fb = fallbacks_lines(res)
    parts += ["### Fallbacks", ""] + ([f"- {x}" for x in fb] if fb else ["None."]) + [""]
    for title, rel in images.items():
        parts += [f"### {title}", "", f"![{title}]({rel})", ""]
    parts.append(f"Generated {res['created']} with " + ", ".join(f"{k} {v}" for k, v in res["versions"].items()))
    return "\n".join(parts) + "\n"


CSS = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
       "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
       "text-align:right}td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:90%}"
       ".banner{background:#fff3cd;border:1px solid #e0c060;padding:.6em}img{max-width:100%}")


def render_html(res: dict, image_files: dict[str, Path]) -> str:
    lines = header_lines(res)
    banner = "".join(f"<p class='banner'>{html.escape(x)}</p>" if i == 0 and res["data"]["synthetic"]
                     else f"<p>{html.escape(x)}</p>" for i, x in enumerate(lines))
    body = [f"<h1>{html.escape(res['name'])}</h1><p>{html.escape(res.get('description') or '')}</p>", banner]
    body += [t.html() for t in tables(res)]
    fb = fallbacks_lines(res)
    body.append("<h3>Fallbacks</h3>" + ("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in fb) + "</ul>"
                                        if fb else "<p>None.</p>"))
    for title, path in image_files.items():
        data = base64.b64encode(Path(path).read_bytes()).decode()
        body.append(f"<h3>{html.escape(title)}</h3><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(res['name'])}</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


# ----------------------------------------------------------------------------- significance


def _signed(x, kind: str) -> str:
    if x is None:
        return "n/a"
    return f"{100 * x:+.1f}%" if kind == "total_return" else f"{x:+.2f}"


def _ci(ci, kind: str) -> str:
    return "n/a" if ci is None else f"{_signed(ci[0], kind)}..{_signed(ci[1], kind)}"


def verdict(comparison: dict, stat: str) -> str:
    """One plain sentence: is the difference in ``stat`` ("sharpe" or "total_return") significant?"""
    label = {"sharpe": "Sharpe", "total_return": "total return"}[stat]
    what = f"The difference in {label} ({comparison['a']} - {comparison['b']})"
    runs = [r for r in comparison["runs"] if r[stat]["diff"] is not None]
    if not runs:
        return f"{what} could not be tested (undefined for these returns)."
    if len(runs) == 1:
        s = runs[0][stat]
        word = "is significant" if s["significant"] else "is not significant"
        return (f"{what} {word} at 95%: {_signed(s['diff'], stat)} (CI {_ci(s['ci95'], stat)}, "
                f"p = {s['p_value']:.3f}).")
    sig = [r for r in runs if r[stat]["significant"]]
    n = len(runs)
    if not sig:
        return f"{what} is not significant at 95% for any of the {n} seeds (every CI contains 0)."
    ups = sum(1 for r in sig if r[stat]["diff"] > 0)
    direction = (f"{comparison['a']} higher" if ups == len(sig) else
                 f"{comparison['b']} higher" if ups == 0 else "in both directions")
    if len(sig) == n:
        return f"{what} is significant at 95% for all {n} seeds ({direction})."
    return (f"{what} is significant at 95% for {len(sig)} of {n} seeds ({direction}) and not significant "
            f"for the other {n - len(sig)}.")


def significance_table(comparison: dict, title: str | None = None):
    """A :class:`bt_lstm_mvo.experiment.report.Table` of a :func:`compare` dict: one row per seed, and notes
    that say in plain words whether the Sharpe and total-return differences are significant."""
    a, b = comparison["a"], comparison["b"]
    rows = []
    for r in comparison["runs"]:
        sh, tr = r["sharpe"], r["total_return"]
        rows.append([
            "-" if r["seed"] is None else str(r["seed"]),
            num(sh["a"]), num(sh["b"]), _signed(sh["diff"], "sharpe"), _ci(sh["ci95"], "sharpe"),
            "n/a" if sh["p_value"] is None else f"{sh['p_value']:.3f}",
            pct(tr["a"], 1), pct(tr["b"], 1), _signed(tr["diff"], "total_return"), _ci(tr["ci95"], "total_return"),
            "n/a" if tr["p_value"] is None else f"{tr['p_value']:.3f}",
        ])
    header = ["Seed", f"Sharpe {a}", f"Sharpe {b}", "Diff", "95% CI", "p",
              f"Return {a}", f"Return {b}", "Diff", "95% CI", "p"]
    notes = [verdict(comparison, "sharpe"), verdict(comparison, "total_return")]
    dist = comparison["distribution"]
    if len(comparison["runs"]) > 1:
        for stat, fmt, label in (("sharpe", num, "Sharpe"), ("total_return", pct, "total return")):
            d = dist[stat]
            if d["n"] and d["baseline"] is not None:
                notes.append(f"Across {d['n']} seeds, {a} {label} is {fmt(d['mean'])} ± {fmt(d['std'])} "
                             f"(min {fmt(d['min'])}, max {fmt(d['max'])}); {d['beats']} of {d['n']} seeds beat "
                             f"{b} ({fmt(d['baseline'])}).")
    first = comparison["runs"][0] if comparison["runs"] else None
    if first is not None:
        notes.append(f"Paired {first['method']} block bootstrap of the {first['n']} daily test returns "
                     f"(blocks of {first['block']} bars, {first['n_boot']} resamples, seed {first['bootstrap_seed']}); "
                     "percentile 95% CI; significant = the CI excludes 0; two-sided bootstrap p-value.")
    return Table(title or f"Significance - {a} vs {b} over the test period", header, rows, notes)


# ----------------------------------------------------------------------------- sweeps


def _fmt(mean, std, fmt) -> str:
    if mean is None or (isinstance(mean, float) and np.isnan(mean)):
        return "n/a"
    if std is None or (isinstance(std, float) and np.isnan(std)):
        return fmt(mean)
    return f"{fmt(mean)} ± {fmt(std)}"


def sweep_tables(result: SweepResult) -> list:
    """Report tables (:class:`Table`) for a sweep.

    1. the aggregated grid: mean ± std over seeds of each metric per grid point;
    2. the failed tasks with their parameters and error (only when some failed);
    3. one significance table per grid point when the sweep has ``compare_to``.
    """
    labels = [("Total return", "total_return", pct), ("Max drawdown", "max_drawdown", pct),
              ("Sharpe", "sharpe", num), ("Sortino", "sortino", num), ("Volatility", "volatility", pct),
              ("Downside dev.", "downside_deviation", pct), ("Daily turnover", "turnover", pct)]
    t = result.table
    rows = []
    for row in t.to_dict(orient="records"):
        cells = [str(row[c]) for c in result.columns] + [f"{int(row['n'])}" + (
            f" ({int(row['failed'])} failed)" if row["failed"] else "")]
        cells += [_fmt(row[f"{k}_mean"], row[f"{k}_std"], fmt) for _, k, fmt in labels]
        rows.append(cells)
    seeds = sorted({r["seed"] for r in result.records}, key=lambda s: (s is None, s))
    notes = [f"{result.strategy}: mean ± std (sample std) over "
             + (f"seeds {seeds}" if seeds != [None] else "one run per point")
             + "; the 95% CI half-width (1.96 std / sqrt(n)) of each metric is in the results.",
             f"{len(result.records) + len(result.failures)} tasks"
             + (" (+1 reference run)" if result.baseline is not None else "")
             + f" on {result.backend} with {result.workers} workers in {result.seconds:.0f} s."]
    if result.baseline is not None:
        bm = result.baseline["metrics"]
        notes.append(f"{result.baseline['strategy']} (reference): total return {pct(bm['total_return'])}, "
                     f"max drawdown {pct(bm['max_drawdown'])}, Sharpe {num(bm['sharpe'])}, downside dev. "
                     f"{pct(bm['downside_deviation'])}, daily turnover {pct(bm['turnover'])}.")
    header = [*result.columns, "Runs"] + [lab for lab, _, _ in labels]
    tables = [Table(f"Sweep - {result.strategy} over {', '.join(result.params) or 'seeds'}", header, rows, notes)]
    if result.failures:
        frows = [[str(f["task_id"]), f["strategy"], point_label(f["overrides"]),
                  "" if f["seed"] is None else str(f["seed"]), f["error"]] for f in result.failures]
        tables.append(Table("Sweep - failed tasks", ["Task", "Strategy", "Parameters", "Seed", "Error"], frows,
                            [f"{len(result.failures)} of {len(result.records) + len(result.failures)} tasks "
                             "failed; the tables above use the others."]))
    if result.significance:
        for label, comp in result.significance.items():
            tables.append(significance_table(comp, title=f"Significance - {result.strategy} ({label}) vs "
                                                          f"{comp['b']} over the test period"))
    return tables


def write_simple_report(folder: Path, res: dict, banner: str, tables: list[Table], images: dict[str, Path],
                        indent: int = 2) -> None:
    """``results.json``, ``report.md`` and a self-contained ``report.html`` (plots embedded) of a
    run mode without the backtest report (notebook replication, the study): a title, a banner
    line, the tables and the plots, the same numbers in both files."""
    import json

    md = [f"# {res['name']}", "", f"> {banner}", ""] + [t.markdown() for t in tables]
    md += [f"### {title}\n\n![{title}]({p.name})\n" for title, p in images.items()]
    (folder / "results.json").write_text(json.dumps(res, indent=indent, allow_nan=False))
    (folder / "report.md").write_text("\n".join(md) + "\n")
    body = [f"<h1>{html.escape(res['name'])}</h1><p class='banner'>{html.escape(banner)}</p>"]
    body += [t.html() for t in tables]
    for title, p in images.items():
        data = base64.b64encode(p.read_bytes()).decode()
        body.append(f"<h3>{html.escape(title)}</h3><img src='data:image/png;base64,{data}'>")
    (folder / "report.html").write_text(f"<!doctype html><html><head><meta charset='utf-8'><style>{CSS}</style>"
                                        f"</head><body>{''.join(body)}</body></html>\n")
