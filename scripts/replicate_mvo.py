"""Print the paper's MVO figures next to the notebook replication and the corrected variant.

Usage: ``python scripts/replicate_mvo.py [--data-dir DIR] [--json FILE]`` (default data:
``bt_lstm_mvo.paths.shared_data_dir()``). The table is built by
:mod:`bt_lstm_mvo.experiment.paper.mvo_table`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder of <TICKER>.csv files (default: bt_lstm_mvo.paths.shared_data_dir())")
    parser.add_argument("--json", type=Path, default=None, help="also write the columns as JSON to this file")
    args = parser.parse_args(argv)

    from bt_lstm_mvo.errors import PluginError
    from bt_lstm_mvo.experiment.paper.mvo_table import NOTES, build_table, mvo_columns
    from bt_lstm_mvo.experiment.paper.published import PAPER_TICKERS
    from bt_lstm_mvo.jsonsafe import json_clean
    from bt_lstm_mvo.paths import shared_data_dir

    data_dir = args.data_dir if args.data_dir is not None else shared_data_dir()
    try:
        columns = mvo_columns(data_dir)
    except PluginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(json_clean({"columns": columns, "tickers": list(PAPER_TICKERS)}), indent=2))
    print(f"MVO replication on {data_dir}\n")
    print(build_table(columns, PAPER_TICKERS))
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
