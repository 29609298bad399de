"""The MVO replication table: the published figures, the notebook replication, the corrected
variant and the two Backtrader runs, side by side (REPRODUCTION.md section 1 and
``python scripts/replicate_mvo.py``).

Columns: Published (:mod:`~bt_lstm_mvo.experiment.paper.published`), Notebook replication
(defects kept on purpose: look-ahead estimate, mismatched columns, population std), Corrected
(pre-test estimate, weights by asset name, sample std), Backtrader constant mix and
buy-and-hold (:func:`~bt_lstm_mvo.experiment.paper.corrected.backtrader_mvo`).
"""

from __future__ import annotations

from bt_lstm_mvo.experiment.paper.corrected import backtrader_mvo, corrected_mvo
from bt_lstm_mvo.experiment.paper.notebook import replicate_notebook_mvo
from bt_lstm_mvo.experiment.paper.published import PUBLISHED_MVO
from bt_lstm_mvo.experiment.report.tables import num, pct


def mvo_columns(data_dir) -> dict[str, dict]:
    """Every column of the table, by its heading."""
    return {
        "Published": PUBLISHED_MVO,
        "Notebook replication": replicate_notebook_mvo(data_dir),
        "Corrected (no look-ahead)": corrected_mvo(data_dir),
        "Backtrader constant mix": backtrader_mvo(data_dir, "constant_mix"),
        "Backtrader buy-and-hold": backtrader_mvo(data_dir, "buy_and_hold"),
    }


def _rows(tickers) -> list[tuple[str, object]]:
    """(label, how to format a result dict) for each table row."""
    rows: list[tuple[str, object]] = []
    for t in tickers:
        rows.append((f"MVO weight {t}", lambda r, t=t: pct((r.get("weights") or {}).get(t))))
    for t in tickers:
        rows.append((f"Exposure held in {t}", lambda r, t=t: pct((r.get("weights_applied") or {}).get(t))))
    rows += [
        ("Estimation window", lambda r: f"{r['estimation_start']}..{r['estimation_end']}"
         if r.get("estimation_start") else "n/a"),
        ("Test period", lambda r: f"{r['test_start']}..{r['test_end']}" if r.get("test_start") else "n/a"),
        ("Test days", lambda r: str(r["n_days"]) if r.get("n_days") is not None else "n/a"),
        ("Total return (before fees)", lambda r: pct(r.get("total_return"))),
        ("Total return (after fees)", lambda r: pct(r.get("total_return_after_fees"))),
        ("Max drawdown", lambda r: pct(r.get("max_drawdown"))),
        ("Sharpe (ann.)", lambda r: num(r.get("sharpe"))),
        ("Volatility (ann.)", lambda r: pct(r.get("volatility"), 1)),
        ("Sortino (paper variant)", lambda r: num(r.get("sortino_paper"))),
        ("Sortino (standard)", lambda r: num(r.get("sortino_standard"))),
    ]
    return rows


def build_table(columns: dict[str, dict], tickers) -> str:
    """Markdown table, one column per result dict."""
    names = list(columns)
    lines = ["| Metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label, fmt in _rows(tickers):
        lines.append(f"| {label} | " + " | ".join(fmt(columns[n]) for n in names) + " |")
    return "\n".join(lines)


NOTES = """\
Notes:
- Published: PAPER_NOTES (Table 1 MVO, Table 3 weights, the repository's post-fee return).
- Notebook replication: weights estimated on 2019-2024 *including* the test period, and applied
  in the order BTC, ETH, SPY, GLD, NVDA to the alphabetical columns (GLD's weight held in NVDA,
  NVDA's in SPY, SPY's in GLD); "Exposure held" shows what was really held. Sharpe and
  volatility use the population std as the notebook's step 11 does; they do NOT equal Table 1's
  Sharpe 2.04 / volatility 18.1%, which come from some other computation.
- Corrected: weights from prices strictly before the first test return, applied by asset name;
  sample std. Both: costs as the notebook (0.1% on day one, then on target-weight changes only),
  constant-mix daily returns; risk metrics on after-fee returns; 252 periods per year."""
