"""Print the paper's MVO figures next to the notebook replication and the corrected variant.

Usage: ``python scripts/replicate_mvo.py [--data-dir DIR]`` (default: ``lmbt.paths.shared_data_dir()``).

Columns: Published (PAPER_NOTES), Notebook replication (defects kept on purpose: look-ahead
estimate, mismatched columns, population std), Corrected (pre-test estimate, weights by asset
name, sample std), and two Backtrader columns (:func:`backtrader_columns`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def backtrader_columns(data_dir) -> dict[str, dict]:
    """The corrected MVO run bar by bar through Backtrader with the 0.1% commission scheme,
    as a daily-rebalanced constant mix and as buy-and-hold (:mod:`bt_lstm_mvo.experiment.replication_bt`)."""
    from bt_lstm_mvo.experiment.replication_bt import backtrader_mvo

    return {
        "Backtrader constant mix": backtrader_mvo(data_dir, "constant_mix"),
        "Backtrader buy-and-hold": backtrader_mvo(data_dir, "buy_and_hold"),
    }


def _pct(x, digits=2):
    return "n/a" if x is None else f"{x * 100:.{digits}f}%"


def _num(x, digits=2):
    return "n/a" if x is None else f"{x:.{digits}f}"


def _rows(tickers) -> list[tuple[str, object]]:
    """(label, how to format a result dict) for each table row."""
    rows: list[tuple[str, object]] = []
    for t in tickers:
        rows.append((f"MVO weight {t}", lambda r, t=t: _pct((r.get("weights") or {}).get(t))))
    for t in tickers:
        rows.append((f"Exposure held in {t}", lambda r, t=t: _pct((r.get("weights_applied") or {}).get(t))))
    rows += [
        ("Estimation window", lambda r: f"{r['estimation_start']}..{r['estimation_end']}"
         if r.get("estimation_start") else "n/a"),
        ("Test period", lambda r: f"{r['test_start']}..{r['test_end']}" if r.get("test_start") else "n/a"),
        ("Test days", lambda r: str(r["n_days"]) if r.get("n_days") is not None else "n/a"),
        ("Total return (before fees)", lambda r: _pct(r.get("total_return"))),
        ("Total return (after fees)", lambda r: _pct(r.get("total_return_after_fees"))),
        ("Max drawdown", lambda r: _pct(r.get("max_drawdown"))),
        ("Sharpe (ann.)", lambda r: _num(r.get("sharpe"))),
        ("Volatility (ann.)", lambda r: _pct(r.get("volatility"), 1)),
        ("Sortino (paper variant)", lambda r: _num(r.get("sortino_paper"))),
        ("Sortino (standard)", lambda r: _num(r.get("sortino_standard"))),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder of <TICKER>.csv files (default: lmbt.paths.shared_data_dir())")
    parser.add_argument("--json", type=Path, default=None, help="also write the columns as JSON to this file")
    args = parser.parse_args(argv)

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from bt_lstm_mvo.errors import PluginError
    from bt_lstm_mvo.experiment.replication import (
        NOTEBOOK_TICKERS,
        PUBLISHED_MVO,
        corrected_mvo,
        replicate_notebook_mvo,
    )
    from bt_lstm_mvo.paths import shared_data_dir

    data_dir = args.data_dir if args.data_dir is not None else shared_data_dir()
    try:
        columns = {
            "Published": PUBLISHED_MVO,
            "Notebook replication": replicate_notebook_mvo(data_dir),
            "Corrected (no look-ahead)": corrected_mvo(data_dir),
        }
        columns.update(backtrader_columns(data_dir))
    except PluginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json is not None:
        import json

        from bt_lstm_mvo.experiment.results import _clean

        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(_clean({"columns": columns, "tickers": list(NOTEBOOK_TICKERS)}), indent=2))
    print(f"MVO replication on {data_dir}\n")
    print(build_table(columns, NOTEBOOK_TICKERS))
    print()
    print(NOTES)
    print("- Backtrader columns: the corrected estimate traded bar by bar from the close of "
          f"{columns['Corrected (no look-ahead)']['estimation_end']} with 0.1% commission on every fill "
          "(drift is paid for when rebalancing); after-fee returns only, sample std.")
    fallbacks = columns["Corrected (no look-ahead)"]["fallbacks"]
    if fallbacks:
        print("- Corrected variant fallbacks: " + "; ".join(f"{f['date']}: {f['reason']} -> {f['used']}"
                                                        for f in fallbacks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
