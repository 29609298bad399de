"""The reference notebook's MVO computation, reproduced on purpose, and its corrected twin.

See ``PAPER_NOTES.md`` ("How the reference notebook computes them"). This module follows
steps 1 (data), 2 (MVO weights), 3/5/6 (only to derive the test period), 9 (evaluation), 10
(costs) and 11 (metrics).

* :func:`replicate_notebook_mvo` keeps the notebook's defects *on purpose*, so its numbers can
  be checked against the published ones: MVO weights estimated on the whole 2019-2024 sample
  (test period included: look-ahead), and applied in the order BTC, ETH, SPY, GLD, NVDA to
  the alphabetical columns BTC, ETH, GLD, NVDA, SPY (GLD's weight lands on NVDA, NVDA's on
  SPY, SPY's on GLD). Sharpe and volatility use the population std (``ddof=0``).
* :func:`corrected_mvo` evaluates the same test days with weights estimated only on prices
  dated strictly before the first test return (through the close of the decision day),
  matched to the assets by name; sample std (``ddof=1``) for Sharpe and volatility.

Both keep the notebook's cost model (step 10: 0.1% on day one, then 0.1% times the sum of
absolute changes of *target* weights; drift ignored, so a constant portfolio pays once) and
the notebook's daily evaluation ``r_p = w . r`` (a constant mix, i.e. rebalanced daily for
free). Both return the same dict layout (:data:`RESULT_KEYS`); all figures are decimals
(0.1234 = 12.34%). ``total_return`` is before costs; every other metric is computed on the
after-cost daily returns (as the notebook's Sharpe and Sortino are).

Leakage warning: the notebook variant is look-ahead by construction. Use it only to show that
the published figures come from that computation.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from pypfopt import expected_returns, risk_models
from pypfopt.efficient_frontier import EfficientFrontier

from bt_lstm_mvo.allocators.mvo import MVOAllocator
from bt_lstm_mvo.analyzers import metrics
from bt_lstm_mvo.errors import DataError
from bt_lstm_mvo.feeds.csv_source import load_adjusted_closes

logger = logging.getLogger(__name__)

#: the notebook's ticker list, in the order its MVO weight vector is built (step 9)
NOTEBOOK_TICKERS = ("BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA")
START = "2019-01-01"
END_EXCLUSIVE = "2024-12-31"
PRICE_COLUMN = "Adj Close"  # yfinance auto_adjust=True Close
SEQ_LENGTH = 30
TRAIN_FRACTION = 0.8
RSI_COM = 13
VOL_WINDOW = 20
FEE_RATE = 0.001
TRADING_DAYS = 252

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
    # additions, same in both variants:
    "weights_applied",
    "estimation_start",
    "estimation_end",
    "fallbacks",
)

#: the published MVO figures (PAPER_NOTES: Table 1, Table 3, the repository's post-fee return)
PUBLISHED_MVO = {
    "weights": {"BTC-USD": 0.1185, "ETH-USD": 0.0, "SPY": 0.0, "GLD": 0.5188, "NVDA": 0.3627},
    "total_return": 1.5096,
    "total_return_after_fees": 1.5072,
    "max_drawdown": -0.1768,
    "sharpe": 2.04,
    "volatility": 0.181,
    "sortino_paper": 4.24,
}


def load_paper_closes(data_dir: Path | str) -> pd.DataFrame:
    """Step 1: Adj Close of the five tickers, 2019-01-01 <= date < 2024-12-31, inner-joined.

    Columns in alphabetical order (as yfinance returns them): BTC-USD, ETH-USD, GLD, NVDA, SPY.
    """
    closes = load_adjusted_closes(data_dir, NOTEBOOK_TICKERS, START, END_EXCLUSIVE, sort_columns=True)
    return closes.dropna()  # the notebook's data.dropna(); a no-op on validated data


def notebook_features(closes: pd.DataFrame) -> pd.DataFrame:
    """Step 3: returns, "RSI" of the day-to-day change of returns (ewm com 13, not adjusted),
    20-day rolling std of returns; rows with any NaN dropped. Reproduced with its defects."""
    returns = closes.pct_change()
    delta = returns.diff()
    up = delta.clip(lower=0)
    down = -1 * delta.clip(upper=0)
    rs = up.ewm(com=RSI_COM, adjust=False).mean() / down.ewm(com=RSI_COM, adjust=False).mean()
    rsi = 100 - (100 / (1 + rs))
    vol = returns.rolling(window=VOL_WINDOW).std()
    return pd.concat([returns, rsi, vol], axis=1).dropna()


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
    dates = features.index[SEQ_LENGTH + split :]
    return pd.DatetimeIndex(dates)


def notebook_mvo_weights(prices: pd.DataFrame) -> dict[str, float]:
    """Step 2 as coded: mean_historical_return, sample_cov, max_sharpe (rf 0), clean_weights."""
    mu = expected_returns.mean_historical_return(prices)
    cov = risk_models.sample_cov(prices)
    ef = EfficientFrontier(mu, cov)
    ef.max_sharpe()
    return {str(k): float(v) for k, v in ef.clean_weights().items()}


def notebook_costs(weights: np.ndarray, asset_returns: np.ndarray, fee_rate: float = FEE_RATE) -> np.ndarray:
    """Step 10, the notebook's ``professional_backtest``: daily ``w_t . r_t`` minus a cost.

    Cost: ``fee_rate`` flat on day one; afterwards ``fee_rate * sum|w_t - w_{t-1}|`` on the
    *target* weights (drift between rebalances ignored).
    """
    weights = np.asarray(weights, dtype=float)
    asset_returns = np.asarray(asset_returns, dtype=float)
    gross = np.sum(weights * asset_returns, axis=1)
    cost = np.empty(len(gross))
    cost[0] = fee_rate
    cost[1:] = fee_rate * np.abs(np.diff(weights, axis=0)).sum(axis=1)
    return gross - cost


def _notebook_max_drawdown(returns: np.ndarray) -> float:
    """The notebook's ``calculate_max_drawdown``: peak of wealth starting at the first day."""
    wealth = np.cumprod(1.0 + np.asarray(returns, dtype=float))
    return float(np.min(wealth / np.maximum.accumulate(wealth) - 1.0))


def _evaluate(
    applied: pd.Series, test_returns: pd.DataFrame, population_std: bool
) -> tuple[np.ndarray, dict]:
    """Daily returns before/after costs of constant weights ``applied`` (aligned to columns)."""
    w = applied.reindex(test_returns.columns).to_numpy(dtype=float)
    r = test_returns.to_numpy(dtype=float)
    gross = r @ w
    net = notebook_costs(np.tile(w, (len(r), 1)), r)
    ddof = 0 if population_std else 1
    out = {
        "test_start": test_returns.index[0].date().isoformat(),
        "test_end": test_returns.index[-1].date().isoformat(),
        "n_days": int(len(r)),
        "total_return": metrics.total_return(gross),
        "total_return_after_fees": metrics.total_return(net),
        "max_drawdown": _notebook_max_drawdown(net) if population_std else metrics.max_drawdown(net),
        "sharpe": metrics.sharpe_ratio(net, TRADING_DAYS, ddof=ddof),
        "volatility": metrics.annual_volatility(net, TRADING_DAYS, ddof=ddof),
        "sortino_paper": metrics.sortino_ratio(net, TRADING_DAYS, variant="paper"),
        "sortino_standard": metrics.sortino_ratio(net, TRADING_DAYS, variant="standard"),
    }
    return net, out


def _result(weights: dict, applied: pd.Series, estimation: pd.DataFrame, evaluated: dict,
            fallbacks: list) -> dict:
    result = {
        "weights": {k: float(v) for k, v in weights.items()},
        **evaluated,
        "weights_applied": {str(k): float(v) for k, v in applied.items()},
        "estimation_start": estimation.index[0].date().isoformat(),
        "estimation_end": estimation.index[-1].date().isoformat(),
        "fallbacks": list(fallbacks),
    }
    return {k: result[k] for k in RESULT_KEYS}


def replicate_notebook_mvo(data_dir: Path | str) -> dict:
    """The notebook's MVO result, defects kept (whole-sample estimate, mismatched columns).

    ``weights`` are the MVO weights by the asset they were estimated for (Table 3);
    ``weights_applied`` are the exposures the notebook actually held (by column).
    """
    closes = load_paper_closes(data_dir)
    test_dates = notebook_test_dates(closes)
    weights = notebook_mvo_weights(closes)  # whole sample: look-ahead kept on purpose
    # step 9: vector built in ticker-list order, multiplied against the alphabetical columns
    vector = np.array([weights[t] for t in NOTEBOOK_TICKERS])
    applied = pd.Series(vector, index=closes.columns)
    test_returns = closes.pct_change().loc[test_dates]
    _, evaluated = _evaluate(applied, test_returns, population_std=True)
    ordered = {t: weights[t] for t in NOTEBOOK_TICKERS}
    return _result(ordered, applied, closes, evaluated, [])


def corrected_mvo(data_dir: Path | str, allocator: MVOAllocator | None = None) -> dict:
    """Same test days; weights from prices dated strictly before the first test return.

    ``allocator`` defaults to the notebook's settings on :class:`MVOAllocator` (max Sharpe,
    compounded mean, sample covariance, 252 periods, risk-free 0, bounds (0, 1)); its
    weights are applied by asset name.
    """
    closes = load_paper_closes(data_dir)
    test_dates = notebook_test_dates(closes)
    estimation = closes.loc[closes.index < test_dates[0]]
    if allocator is None:
        allocator = MVOAllocator(periods_per_year=TRADING_DAYS, risk_free_rate=0.0)
    fallbacks_before = len(getattr(allocator, "fallbacks_", []))
    allocator.fit(estimation)
    weights = allocator.weights_
    test_returns = closes.pct_change().loc[test_dates]
    _, evaluated = _evaluate(weights, test_returns, population_std=False)
    ordered = {t: float(weights[t]) for t in NOTEBOOK_TICKERS}
    return _result(ordered, weights, estimation, evaluated, allocator.fallbacks_[fallbacks_before:])
