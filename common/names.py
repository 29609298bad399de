"""Names that become file names, and paths that must stay inside their folder.

A ticker names a file (``<data_dir>/<TICKER>.csv``), a run name and a strategy name name output
files and folders, so each is checked against a documented character set before any path is
built from it (none can hold a path separator or be ``..``, so the path stays in its folder):

* tickers: 1-32 characters from letters, digits and ``. - _ ^ =``, starting with a letter, a
  digit or ``^`` (``BTC-USD``, ``BRK.B``, ``^GSPC``, ``EURUSD=X``);
* run and strategy names: 1-64 characters from letters, digits and ``. - _``, starting with a
  letter or a digit.

So ``../outside/SPY``, ``/etc/passwd`` and ``..`` are refused, never resolved.
"""

from __future__ import annotations

import re

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.text import short_repr

TICKER_RE = re.compile(r"[A-Za-z0-9^][A-Za-z0-9.\-_^=]{0,31}")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_]{0,63}")
TICKER_RULE = "1-32 characters from letters, digits and . - _ ^ =, starting with a letter, digit or ^"
NAME_RULE = "1-64 characters from letters, digits and . - _, starting with a letter or digit"


def check_ticker(ticker, field: str = "tickers") -> str:
    if not isinstance(ticker, str) or not TICKER_RE.fullmatch(ticker) or ".." in ticker:
        raise ConfigError(f"{field}: ticker {short_repr(ticker)} is not allowed; a ticker is {TICKER_RULE}")
    return ticker


def check_name(name, field: str = "name") -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or ".." in name:
        raise ConfigError(f"{field}: {short_repr(name)} is not allowed; a name is {NAME_RULE}")
    return name

