"""Command line: ``python runner.py CONFIG [--data-dir DIR] [--out DIR] [--quiet]``.

A thin shim over :func:`bt_lstm_mvo.launcher.main`, the same command as the installed
``bt-lstm-mvo run CONFIG`` and ``python -m bt_lstm_mvo run CONFIG``. Exit codes: 0 success;
2 bad config or data (one clear message on stderr, no traceback); 130 interrupted; 143 terminated.
"""

from __future__ import annotations

import sys

try:
    from bt_lstm_mvo.launcher import main
except ModuleNotFoundError as exc:  # the package is not installed in this interpreter
    if not (exc.name or "").startswith("bt_lstm_mvo"):
        raise
    print("error: the bt_lstm_mvo package is not installed in this Python; run `make setup` "
          "(or `pip install -e .`) and use .venv/bin/python", file=sys.stderr)
    sys.exit(2)
except KeyboardInterrupt:
    print("interrupted while starting: no results were written", file=sys.stderr)
    sys.exit(130)

if __name__ == "__main__":
    sys.exit(main())
