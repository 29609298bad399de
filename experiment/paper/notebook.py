"""The reference notebook's computation, step by step, defects kept on purpose.

See ``PAPER_NOTES.md`` ("How the reference notebook computes them"). This module holds the
steps the MVO and LSTM replications share, once: step 1 (data), 3 (features, with the "RSI"
of returns), 5/6 (samples and the test period), 2 (MVO weights), 9 (evaluation, with the
column mismatch), 10 (costs) and 11 (metrics). :mod:`~bt_lstm_mvo.experiment.paper.notebook_lstm`
runs the LSTM part, :mod:`~bt_lstm_mvo.experiment.paper.corrected` the corrected twins.

Leakage warning: the notebook's MVO estimate and its scaler see the test period. Use this only
to show that the published figures come from that computation.

All figures are decimals (0.1234 = 12.34%). ``total_return`` is before costs; every other
metric is computed on the after-cost daily returns (as the notebook's Sharpe and Sortino are).
Max drawdown is the plugin's one definition (:func:`bt_lstm_mvo.analyzers.metrics.max_drawdown`,
wealth starting at 1 before the first return); on the notebook's returns it equals the
notebook's own ``calculate_max_drawdown`` to the published precision.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from pypfopt import expected_returns, risk_models
from pypfopt.efficient_frontier import EfficientFrontier

from bt_lstm_mvo.analyzers import metrics
from bt_lstm_mvo.errors import DataError
from bt_lstm_mvo.experiment.paper.published import PAPER_TICKERS
from bt_lstm_mvo.feeds.csv_source import load_adjusted_closes
from bt_lstm_mvo.paths import shared_data_dir
from bt_lstm_mvo.periods import EQUITY_BARS_PER_YEAR

logger = logging.getLogger(__name__)

START = "2019-01-01"
END_EXCLUSIVE = "2024-12-31"  # yfinance's ``end``
SEQ_LENGTH = 30
TRAIN_FRACTION = 0.8
RSI_COM = 13
VOL_WINDOW = 20
FEE_RATE = 0.001
TRADING_DAYS = EQUITY_BARS_PER_YEAR  # the notebook annualises with 252

RESULT_KEYS = (
    "weights",
    "test_start",
    "test_end",
    "n_days",
    "total_return",
    "total_return_after_fees",
    "max_drawdown",
    "sharpe",
    "volatility",
    "sortino_paper",
    "sortino_standard",
    # additions, same in every variant:
    "weights_applied",
    "estimation_start",
    "estimation_end",
    "fallbacks",
)


def load_paper_closes(data_dir: Path | str | None = None) -> pd.DataFrame:
    """Step 1: Adj Close of the five tickers, 2019-01-01 <= date < 2024-12-31, inner-joined.

    Columns in alphabetical order (as yfinance returns them): BTC-USD, ETH-USD, GLD, NVDA, SPY
    (1509 rows, 2019-01-02 .. 2024-12-30 on the shared data). ``data_dir`` defaults to
    :func:`bt_lstm_mvo.paths.shared_data_dir`.
    """
    folder = Path(data_dir) if data_dir is not None else shared_data_dir()
    closes = load_adjusted_closes(folder, PAPER_TICKERS, START, END_EXCLUSIVE, sort_columns=True)
    return closes.dropna()  # the notebook's data.dropna(); a no-op on validated data


def notebook_features(closes: pd.DataFrame) -> pd.DataFrame:
    """Step 3: returns, "RSI" of the day-to-day change of returns (ewm com 13, not adjusted),
    20-day rolling std of returns; feature-major columns ``return | rsi | volatility``; rows
    with any NaN dropped. Reproduced with its defects."""
    returns = closes.pct_change()
    delta = returns.diff()
    up = delta.clip(lower=0)
    down = -1 * delta.clip(upper=0)
    rs = up.ewm(com=RSI_COM, adjust=False).mean() / down.ewm(com=RSI_COM, adjust=False).mean()
    rsi = 100 - (100 / (1 + rs))
    vol = returns.rolling(window=VOL_WINDOW).std()
    return pd.concat({"return": returns, "rsi": rsi, "volatility": vol}, axis=1).dropna()


def notebook_test_dates(closes: pd.DataFrame) -> pd.DatetimeIndex:
    """Steps 5-6: the dates of the test targets (one daily return each).

    Sample i takes feature rows i..i+29 as input and row i+30 as target; the first
    ``int(0.8 * n_samples)`` samples train, the rest test.
    """
    features = notebook_features(closes)
    n_samples = len(features) - SEQ_LENGTH
    if n_samples < 2:
        raise DataError(f"only {len(features)} feature rows; need more than {SEQ_LENGTH + 1}")
    split = int(n_samples * TRAIN_FRACTION)
    return pd.DatetimeIndex(features.index[SEQ_LENGTH + split :])


def notebook_mvo_weights(prices: pd.DataFrame) -> dict[str, float]:
    """Step 2 as coded: mean_historical_return, sample_cov, max_sharpe (rf 0), clean_weights."""
    mu = expected_returns.mean_historical_return(prices)
    cov = risk_models.sample_cov(prices)
    ef = EfficientFrontier(mu, cov)
    ef.max_sharpe()
    return {str(k): float(v) for k, v in ef.clean_weights().items()}


def notebook_costs(weights: np.ndarray, fee_rate: float = FEE_RATE) -> np.ndarray:
    """Step 10's daily cost: ``fee_rate`` flat on day one; afterwards ``fee_rate * sum|w_t - w_{t-1}|``
    on the *target* weights (drift between rebalances ignored)."""
    weights = np.asarray(weights, dtype=float)
    change = np.abs(np.diff(weights, axis=0)).sum(axis=1)
    return fee_rate * np.concatenate([[1.0], change])


def notebook_returns(weights: np.ndarray, asset_returns: np.ndarray, fee_rate: float = FEE_RATE):
    """Step 9-10, the notebook's ``professional_backtest``: daily ``w_t . r_t`` before costs and
    after :func:`notebook_costs`. ``weights`` is one row per day (or one row for a constant mix)."""
    asset_returns = np.asarray(asset_returns, dtype=float)
    weights = np.broadcast_to(np.asarray(weights, dtype=float), asset_returns.shape)
    gross = np.sum(weights * asset_returns, axis=1)
    return gross, gross - notebook_costs(weights, fee_rate)


def notebook_metrics(gross, net, population_std: bool = True) -> dict:
    """Step 11's formulas (population std with ``population_std``, else the sample std)."""
    ddof = 0 if population_std else 1
    return {
        "total_return": metrics.total_return(gross),
        "total_return_after_fees": metrics.total_return(net),
        "max_drawdown": metrics.max_drawdown(net),
        "sharpe": metrics.sharpe_ratio(net, TRADING_DAYS, ddof=ddof),
        "volatility": metrics.annual_volatility(net, TRADING_DAYS, ddof=ddof),
        "sortino_paper": metrics.sortino_ratio(net, TRADING_DAYS, variant="paper"),
        "sortino_standard": metrics.sortino_ratio(net, TRADING_DAYS, variant="standard"),
    }


def evaluate_constant(applied: pd.Series, test_returns: pd.DataFrame, population_std: bool) -> dict:
    """Test-period figures of constant weights ``applied`` (aligned to the columns by label)."""
    w = applied.reindex(test_returns.columns).to_numpy(dtype=float)
    gross, net = notebook_returns(w, test_returns.to_numpy(dtype=float))
    return {
        "test_start": test_returns.index[0].date().isoformat(),
        "test_end": test_returns.index[-1].date().isoformat(),
        "n_days": int(len(test_returns)),
        **notebook_metrics(gross, net, population_std),
    }


def result_dict(weights: dict, applied: pd.Series, estimation: pd.DataFrame, evaluated: dict,
                fallbacks: list) -> dict:
    """The :data:`RESULT_KEYS` layout shared by the MVO variants."""
    result = {
        "weights": {k: float(v) for k, v in weights.items()},
        **evaluated,
        "weights_applied": {str(k): float(v) for k, v in applied.items()},
        "estimation_start": estimation.index[0].date().isoformat(),
        "estimation_end": estimation.index[-1].date().isoformat(),
        "fallbacks": list(fallbacks),
    }
    return {k: result[k] for k in RESULT_KEYS}


def notebook_mvo_applied(closes: pd.DataFrame) -> tuple[dict, pd.Series]:
    """Step 2 + 9: the MVO weights by the asset they were estimated for (Table 3), and the
    exposures the notebook really held (its vector in ticker-list order, multiplied against
    the alphabetical columns: GLD's weight lands on NVDA, NVDA's on SPY, SPY's on GLD)."""
    weights = notebook_mvo_weights(closes)  # whole sample: look-ahead kept on purpose
    applied = pd.Series([weights[t] for t in PAPER_TICKERS], index=closes.columns)
    return {t: weights[t] for t in PAPER_TICKERS}, applied


def replicate_notebook_mvo(data_dir: Path | str | None = None) -> dict:
    """The notebook's MVO result, defects kept (whole-sample estimate, mismatched columns).

    ``weights`` are the MVO weights by the asset they were estimated for (Table 3);
    ``weights_applied`` are the exposures the notebook actually held (by column).
    """
    closes = load_paper_closes(data_dir)
    weights, applied = notebook_mvo_applied(closes)
    test_returns = closes.pct_change().loc[notebook_test_dates(closes)]
    evaluated = evaluate_constant(applied, test_returns, population_std=True)
    return result_dict(weights, applied, closes, evaluated, [])
