"""The notebook's MVO experiment done correctly: estimated before the test period, weights
matched by asset name; offline (the notebook's daily evaluation) and bar by bar in Backtrader.

* :func:`corrected_mvo`: the same test days as :func:`~bt_lstm_mvo.experiment.paper.notebook.replicate_notebook_mvo`,
  weights estimated only on prices dated strictly before the first test return (through the
  close of the decision day), applied by name; the notebook's cost model and daily evaluation
  (a constant mix rebalanced for free), sample std.
* :func:`backtrader_mvo`: that estimate traded bar by bar by
  :class:`~bt_lstm_mvo.strategies.mvo.MVOStrategy` with the 0.1%
  :class:`~bt_lstm_mvo.strategies.commission.ProportionalCommission` on the trades that really
  happen, as a daily-rebalanced ``constant_mix`` (pays for drift) or ``buy_and_hold``; its
  figures are read from the plugin's analyzers (``PaperMetrics`` at 252 bars a year, the
  sample std, and a paper-variant ``SortinoRatio``).

Every result uses the :data:`~bt_lstm_mvo.experiment.paper.notebook.RESULT_KEYS` layout;
``total_return`` (before fees) is ``None`` for a broker run, which only knows after-fee values.
"""

from __future__ import annotations

from pathlib import Path

import backtrader as bt

from bt_lstm_mvo.allocators.mvo import MVOAllocator
from bt_lstm_mvo.analyzers import PaperMetrics, SortinoRatio
from bt_lstm_mvo.experiment.paper.notebook import (
    RESULT_KEYS,
    TRADING_DAYS,
    evaluate_constant,
    load_paper_closes,
    notebook_test_dates,
    result_dict,
)
from bt_lstm_mvo.experiment.paper.published import PAPER_TICKERS
from bt_lstm_mvo.feeds.market import load_market
from bt_lstm_mvo.strategies.commission import ProportionalCommission
from bt_lstm_mvo.strategies.mvo import MVOStrategy

SCHEDULES = {"constant_mix": "daily", "buy_and_hold": "never"}


def corrected_mvo(data_dir: Path | str | None = None, allocator: MVOAllocator | None = None) -> dict:
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
    evaluated = evaluate_constant(weights, test_returns, population_std=False)
    ordered = {t: float(weights[t]) for t in PAPER_TICKERS}
    return result_dict(ordered, weights, estimation, evaluated, allocator.fallbacks_[fallbacks_before:])


def backtrader_mvo(data_dir: Path | str | None = None, flavour: str = "constant_mix",
                   cash: float = 1_000_000.0) -> dict:
    """The corrected estimate traded bar by bar from the close of the last training day."""
    closes = load_paper_closes(data_dir)
    test_dates = notebook_test_dates(closes)
    decision_day = closes.index[closes.index < test_dates[0]][-1]
    market = load_market(list(PAPER_TICKERS), source="csv", data_dir=data_dir,
                         start=closes.index[0], end=closes.index[-1], calendar="intersection")
    cerebro = bt.Cerebro(stdstats=False)
    market.add_to(cerebro)
    cerebro.broker.setcash(cash)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=0.001))
    cerebro.addstrategy(MVOStrategy, schedule=SCHEDULES[flavour], trade_start=decision_day,
                        allocator_params={"periods_per_year": TRADING_DAYS, "risk_free_rate": 0.0})
    cerebro.addanalyzer(PaperMetrics, since=decision_day, periods_per_year=TRADING_DAYS, _name="metrics")
    cerebro.addanalyzer(SortinoRatio, since=decision_day, periods_per_year=TRADING_DAYS, variant="paper",
                        _name="sortino_paper")
    strat = cerebro.run()[0]
    m = strat.analyzers.metrics.get_analysis()
    weights = strat.allocator.weights_
    result = {
        "weights": {t: float(weights[t]) for t in PAPER_TICKERS},
        "test_start": m["start"],
        "test_end": m["end"],
        "n_days": m["n_periods"],
        "total_return": None,
        "total_return_after_fees": m["total_return"],
        "max_drawdown": m["max_drawdown"],
        "sharpe": m["sharpe_ratio"],
        "volatility": m["annual_volatility"],
        "sortino_paper": strat.analyzers.sortino_paper.get_analysis()["sortino_ratio"],
        "sortino_standard": m["sortino_ratio"],
        "weights_applied": dict(strat.final_weights),
        "estimation_start": strat.training_period_[0].isoformat(),
        "estimation_end": strat.training_period_[1].isoformat(),
        "fallbacks": list(strat.allocator.fallbacks_),
        "commission": strat.total_commission,
        "order_stats": dict(strat.order_stats),
    }
    return {k: result[k] for k in (*RESULT_KEYS, "commission", "order_stats")}
