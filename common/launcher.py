"""The ``bt-lstm-mvo`` entry point, light to import.

The command line's real work (:mod:`bt_lstm_mvo.experiment.cli`) imports backtrader, torch and
pandas, which takes seconds; a Ctrl-C (exit 130) or SIGTERM (exit 143) in that time is handled
here too (:mod:`bt_lstm_mvo.signals`), so it never prints a traceback.
Usage: ``bt-lstm-mvo run CONFIG [--data-dir DIR] [--out DIR] [--quiet]``.
"""

from __future__ import annotations

import sys

from bt_lstm_mvo.signals import install_sigterm, interrupted, restore_sigterm


def main(argv=None) -> int:
    previous = install_sigterm()
    args = sys.argv[1:] if argv is None else list(argv)
    if "--quiet" not in args and not {"-h", "--help"} & set(args):
        print("starting: loading backtrader, torch and pandas ...", file=sys.stderr, flush=True)
    try:
        try:
            from bt_lstm_mvo.experiment.cli import main as cli_main
        except KeyboardInterrupt as exc:
            return interrupted(exc, " while starting")
        return cli_main(argv)
    except KeyboardInterrupt as exc:  # a signal between the command line's own handlers
        return interrupted(exc)
    finally:
        restore_sigterm(previous)


if __name__ == "__main__":
    sys.exit(main())
