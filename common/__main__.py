"""``python -m bt_lstm_mvo [run] CONFIG [options]``: the same command line as ``runner.py``."""

import sys

from bt_lstm_mvo.launcher import main

sys.exit(main())
