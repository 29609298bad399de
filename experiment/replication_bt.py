"""The corrected MVO experiment run bar by bar through Backtrader (the third replication column).

Same data (Adj Close of the five paper tickers, intersection calendar) and the same test days as
:mod:`bt_lstm_mvo.experiment.replication`: the strategy starts trading at the close of the last training day,
:class:`bt_lstm_mvo.strategies.mvo.MVOStrategy` fits on the history it has seen up to that close (so the
estimate equals the corrected variant's), and the portfolio is run with the 0.1%
:class:`bt_lstm_mvo.strategies.commission.ProportionalCommission` on the trades that really happen:

* ``constant_mix``: rebalanced to the weights every day (pays for drift);
* ``buy_and_hold``: bought once, weights drift.

Returned dicts use :data:`bt_lstm_mvo.experiment.replication.RESULT_KEYS`; ``total_return`` (before fees)
is ``None`` because a broker run only knows after-fee values.
"""

from __future__ import annotations

from pathlib import Path

import backtrader as bt
import pandas as pd

from bt_lstm_mvo.analyzers import metrics
from bt_lstm_mvo.experiment.replication import (
    NOTEBOOK_TICKERS,
    RESULT_KEYS,
    TRADING_DAYS,
    load_paper_closes,
    notebook_test_dates,
)
from bt_lstm_mvo.feeds.market import load_market
from bt_lstm_mvo.strategies.commission import ProportionalCommission
from bt_lstm_mvo.strategies.mvo import MVOStrategy

SCHEDULES = {"constant_mix": "daily", "buy_and_hold": "never"}


def backtrader_mvo(data_dir: Path | str, flavour: str = "constant_mix", cash: float = 1_000_000.0) -> dict:
    closes = load_paper_closes(data_dir)
    test_dates = notebook_test_dates(closes)
    decision_day = closes.index[closes.index < test_dates[0]][-1]
    market = load_market(list(NOTEBOOK_TICKERS), source="csv", data_dir=data_dir,
                         start=closes.index[0], end=closes.index[-1], calendar="intersection")
    cerebro = bt.Cerebro(stdstats=False)
    market.add_to(cerebro)
    cerebro.broker.setcash(cash)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=0.001))
    cerebro.addstrategy(MVOStrategy, schedule=SCHEDULES[flavour], trade_start=decision_day,
                        periods_per_year=TRADING_DAYS, risk_free_rate=0.0)
    strat = cerebro.run()[0]
    values = pd.Series([b["value"] for b in strat.bars],
                       index=pd.DatetimeIndex([pd.Timestamp(b["date"]) for b in strat.bars]))
    net = values[values.index >= decision_day].pct_change().iloc[1:]
    weights = strat.allocator.weights_
    result = {
        "weights": {t: float(weights[t]) for t in NOTEBOOK_TICKERS},
        "test_start": net.index[0].date().isoformat(),
        "test_end": net.index[-1].date().isoformat(),
        "n_days": int(len(net)),
        "total_return": None,
        "total_return_after_fees": metrics.total_return(net),
        "max_drawdown": metrics.max_drawdown(net),
        "sharpe": metrics.sharpe_ratio(net, TRADING_DAYS),
        "volatility": metrics.annual_volatility(net, TRADING_DAYS),
        "sortino_paper": metrics.sortino_ratio(net, TRADING_DAYS, variant="paper"),
        "sortino_standard": metrics.sortino_ratio(net, TRADING_DAYS, variant="standard"),
        "weights_applied": dict(strat.final_weights),
        "estimation_start": strat.training_period_[0].isoformat(),
        "estimation_end": strat.training_period_[1].isoformat(),
        "fallbacks": list(strat.allocator.fallbacks_),
        "commission": strat.total_commission,
        "order_stats": dict(strat.order_stats),
    }
    return {k: result[k] for k in (*RESULT_KEYS, "commission", "order_stats")}
