"""Allowed values of every string option, in one place.

Each tuple is the single list of what a YAML value, a Backtrader param or an allocator argument
may be; the config schema derives its pydantic ``Literal`` types from these tuples
(``Literal[SCHEDULES]``) and the runtime checks of strategies, analyzers and allocators test
membership in the same tuples, so the two can never disagree.
"""

from __future__ import annotations

from bt_lstm_mvo.errors import ConfigError

#: rebalance schedules by name (an integer N, every N bars, is allowed too)
SCHEDULES = ("daily", "weekly", "monthly", "quarterly", "never")
#: when a rebalance decided at a bar's close fills
EXECUTIONS = ("close", "next_open")
#: what a strategy does when its allocator fails
FAILURE_POLICIES = ("raise", "hold", "equal_weight", "cash")
#: what happens to the part of an order a volume cap left unfilled
UNFILLED_POLICIES = ("carry", "cancel")
#: half-spread models of a cost model (``high_low``: Corwin-Schultz from the bars' High/Low)
SPREAD_MODES = ("fixed", "high_low")
#: asset classes of the per-class cost defaults (a ticker ending in -USD is crypto)
ASSET_CLASSES = ("crypto", "equity")
#: what a feed's Volume counts: units (shares) or currency (Yahoo's crypto volume is in USD)
VOLUME_UNITS = ("units", "currency")
#: starting points of ``broker.costs`` (the values are in ``strategies/costs.py:COST_PRESETS``)
COST_PRESETS = ("none", "realistic")
#: Sortino ratio definitions
SORTINO_VARIANTS = ("standard", "paper")
#: data sources of the runner (``frames``: DataFrames handed to ``bt_lstm_mvo.run(frames=...)``)
SOURCES = ("synthetic", "csv", "yahoo", "frames")
#: price-file formats of the ``csv`` source
FILE_FORMATS = ("csv", "parquet")
#: how calendars of assets trading on different days are joined
CALENDAR_POLICIES = ("intersection", "union")
#: mean-variance objectives, expected-return and covariance estimators
MVO_OBJECTIVES = ("max_sharpe", "min_volatility")
MVO_EXPECTED_RETURNS = ("mean_historical", "arithmetic")
MVO_COVARIANCES = ("sample", "ledoit_wolf")
#: runner modes
MODES = ("backtest", "notebook_replication", "study")
#: sweep backends
SWEEP_BACKENDS = ("loky", "ray")

FOLD_TRAINING = ("expanding", "rolling")

FOLD_LENGTHS = ("year", "half", "quarter", "month")
#: LSTM training losses and devices
LOSS_KINDS = ("paper", "notebook", "sharpe", "sortino")
DEVICES = ("auto", "cpu", "cuda")
#: block bootstrap schemes of the significance tests
BOOTSTRAP_METHODS = ("circular", "stationary")
#: the engines a run can use: ``backtrader`` (order-level events) or ``array`` (the numpy engine)
ENGINES = ("backtrader", "array")

# Conventions of the self-financing rebalance, shared by both engines (strategies/sizing.py,
# strategies/costs.py and engine/): numbers, not allowed values, but one fact each.
#: fraction of portfolio value kept back from the buys for floating-point rounding
CASH_SAFETY = 1e-9
#: a size within this many lots of a whole lot counts as that lot (rounding toward zero)
LOT_TOLERANCE = 1e-9


def check_choice(value, allowed: tuple, name: str) -> str:
    """``value`` if it is one of ``allowed``; else a ConfigError naming ``name`` and the value."""
    if isinstance(value, str) and value in allowed:
        return value
    raise ConfigError(f"{name}: must be one of {list(allowed)}, got {value!r}")


def asset_class(ticker: str) -> str:
    """``crypto`` for a Yahoo crypto pair (``BTC-USD``), ``equity`` (US equity/ETF) otherwise."""
    return "crypto" if str(ticker).upper().endswith("-USD") else "equity"
