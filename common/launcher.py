"""The ``bt-lstm-mvo`` entry point, light to import.

The command line's real work (:mod:`bt_lstm_mvo.experiment.cli`) imports backtrader, torch and
pandas, which takes seconds. A Ctrl-C (exit 130) or SIGTERM (exit 143) in that time is held
until the imports are done and answered then (:mod:`bt_lstm_mvo.signals`): raised inside torch's
C++ start-up, a KeyboardInterrupt aborts the process ("terminate called after throwing an
instance of 'pybind11::error_already_set'", exit -6) instead of stopping it cleanly.
Usage: ``bt-lstm-mvo run CONFIG [--data-dir DIR] [--out DIR] [--quiet]``.
"""

from __future__ import annotations

import signal
import sys

from bt_lstm_mvo.signals import Terminated, install_sigterm, interrupted, restore_sigterm, signals_held


def _import_cli():
    """Import the command line (and torch) with SIGINT/SIGTERM held; returns ``(cli_main, signal)``
    where ``signal`` is the first one that arrived meanwhile, or None."""
    with signals_held(answer=False) as held:
        import torch  # noqa: F401  (its C++ start-up must not see a KeyboardInterrupt)

        from bt_lstm_mvo.experiment.cli import main as cli_main
    return cli_main, (held[0] if held else None)


def main(argv=None) -> int:
    previous = install_sigterm()
    args = sys.argv[1:] if argv is None else list(argv)
    if "--quiet" not in args and not {"-h", "--help"} & set(args):
        print("starting: loading backtrader, torch and pandas ...", file=sys.stderr, flush=True)
    try:
        cli_main, held = _import_cli()
        if held is not None:
            return interrupted(Terminated() if held == signal.SIGTERM else KeyboardInterrupt(), " while starting")
        return cli_main(argv)
    except KeyboardInterrupt as exc:  # a signal between the command line's own handlers
        return interrupted(exc)
    finally:
        restore_sigterm(previous)


if __name__ == "__main__":
    sys.exit(main())
