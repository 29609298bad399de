"""Command line: ``python runner.py CONFIG [--data-dir DIR] [--out DIR] [--quiet]``.

Exit codes: 0 success; 2 bad config or data (one clear message on stderr, no traceback);
130 interrupted. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys

from lmbt.errors import PluginError


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="runner.py",
        description="Compare an LSTM rebalancer with mean-variance optimisation in Backtrader.",
    )
    ap.add_argument("config", help="experiment YAML (e.g. config.yaml, configs/paper.yaml)")
    ap.add_argument("--data-dir", help="folder of Yahoo-format CSVs (overrides data.data_dir)")
    ap.add_argument("--out", help="output folder (default: results/<name>-<timestamp>)")
    ap.add_argument("--quiet", action="store_true", help="no progress output")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from experiment.cli import run_cli

    try:
        return run_cli(args)
    except PluginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no complete results were written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
