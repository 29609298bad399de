"""The array engine: the same runs as the Backtrader strategies, simulated in numpy.

Two steps, so that one set of decisions serves many cost settings::

    bars = bars_from_frames(market.frames)                 # arrays of OHLCV and tradable
    decisions = decide(bars, allocator, schedule="daily")  # causal fits and target weights
    sim = simulate(bars, decisions, commission=0.001)      # drift, trades, costs, interest

It never imports Backtrader or ``strategies/``, so comparing it with the Backtrader path
(``tests/test_engines.py``) checks both.
"""

from bt_lstm_mvo.engine.bars import Bars, bars_from_frames
from bt_lstm_mvo.engine.decide import Decisions, decide
from bt_lstm_mvo.engine.simulate import Simulation, simulate

__all__ = ["Bars", "Decisions", "Simulation", "bars_from_frames", "decide", "simulate"]
