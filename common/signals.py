"""Signal handling of the command line: SIGTERM becomes :class:`Terminated` (a
``KeyboardInterrupt``), so the same clean-up as for Ctrl-C runs wherever the process is (partial
output folders removed, locks released); exit codes 130 (Ctrl-C) and 143 (SIGTERM)."""

from __future__ import annotations

import signal
import sys


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is (a KeyboardInterrupt, so clean-up code catches both)."""


def _terminate(signum, frame):
    raise Terminated()


def install_sigterm():
    """Route SIGTERM to :class:`Terminated`; returns the previous handler (None off the main thread)."""
    try:
        return signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave signals to the caller
        return None


def restore_sigterm(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def interrupted(exc: KeyboardInterrupt, when: str = "") -> int:
    """Say so in one line and return the exit code (143 for SIGTERM, 130 for Ctrl-C)."""
    word = "terminated" if isinstance(exc, Terminated) else "interrupted"
    print(f"{word}{when}: no complete results were written", file=sys.stderr)
    return 143 if isinstance(exc, Terminated) else 130
