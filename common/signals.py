"""Signal handling of the command line: SIGTERM becomes :class:`Terminated` (a
``KeyboardInterrupt``), so the same clean-up as for Ctrl-C runs wherever the process is (partial
output folders removed, locks released); exit codes 130 (Ctrl-C) and 143 (SIGTERM)."""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def signals_held(answer: bool = True):
    """Hold SIGINT/SIGTERM during the block (yields the list of those that arrived) and, with
    ``answer``, raise the first one after it (KeyboardInterrupt, or :class:`Terminated`).

    For imports of C extensions: a KeyboardInterrupt raised inside torch's C++ start-up aborts the
    process, and one raised while cvxpy imports a solver's extension is swallowed by cvxpy (logged
    as "Encountered unexpected exception importing solver", the run then goes on as if no Ctrl-C
    had come). Off the main thread nothing is held.
    """
    held: list[int] = []

    def hold(signum, frame):
        held.append(signum)

    try:
        before = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread
        before = {}
    try:
        yield held
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
    if answer and held:
        raise Terminated() if held[0] == signal.SIGTERM else KeyboardInterrupt()


def interrupted(exc: KeyboardInterrupt, when: str = "") -> int:
    """Say so in one line and return the exit code (143 for SIGTERM, 130 for Ctrl-C)."""
    word = "terminated" if isinstance(exc, Terminated) else "interrupted"
    print(f"{word}{when}: no complete results were written", file=sys.stderr)
    return 143 if isinstance(exc, Terminated) else 130
