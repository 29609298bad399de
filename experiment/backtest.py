"""Run one strategy config through a fresh Cerebro and collect plain results.

``run_backtest`` is the unit of work of an experiment: given the market, one strategy config,
the broker config and the first trading date, it builds a fresh Cerebro with the same feeds,
cash and commission, runs it, and returns a :class:`BacktestResult` made of pandas objects and
plain dicts (picklable, so it can come back from a worker process).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import backtrader as bt
import pandas as pd

from bt_lstm_mvo.experiment.factory import build_allocator, strategy_kwargs
from bt_lstm_mvo.feeds.market import Market
from bt_lstm_mvo.strategies.base import AllocationStrategy
from bt_lstm_mvo.strategies.commission import ProportionalCommission


@dataclass
class BacktestResult:
    """What one run produced. ``returns`` cover the test period only (from ``trade_start``)."""

    name: str
    kind: str
    seed: int | None
    values: pd.Series  # portfolio value at each bar's close (whole run, warm-up included)
    returns: pd.Series  # daily returns over the test period
    weights_held: pd.DataFrame  # held weights at each close of the test period, before trades
    weights_target: pd.DataFrame  # target weights on rebalance dates
    rebalances: list[dict]
    fills: list[dict]
    order_stats: dict
    order_failures: list[dict]
    fallbacks: list[dict]
    fits: list[dict]
    final_weights: dict
    commission: float
    trade_start: pd.Timestamp
    seconds: float
    allocator: dict = field(default_factory=dict)
    analyzers: dict = field(default_factory=dict)


def add_broker(cerebro: bt.Cerebro, broker) -> None:
    cerebro.broker.setcash(float(broker.cash))
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=float(broker.commission)))


def run_backtest(
    market: Market,
    name: str,
    spec,
    broker,
    trade_start: pd.Timestamp,
    seed: int | None = None,
    progress: bool = False,
    analyzers: dict | None = None,
) -> BacktestResult:
    """Run strategy ``spec`` on ``market``; trading starts at ``trade_start`` (earlier bars warm up).

    ``analyzers`` maps a name to ``(AnalyzerClass, kwargs)``; their ``get_analysis()`` is kept.
    """
    t0 = time.perf_counter()
    allocator = build_allocator(spec, seed=seed, progress=progress)
    cerebro = bt.Cerebro(cheat_on_open=broker.execution == "next_open", stdstats=False)
    market.add_to(cerebro)
    add_broker(cerebro, broker)
    cerebro.addstrategy(AllocationStrategy, **strategy_kwargs(spec, broker, trade_start, allocator))
    for aname, (acls, akw) in (analyzers or {}).items():
        cerebro.addanalyzer(acls, _name=aname, **akw)
    strat = cerebro.run()[0]

    dates = pd.DatetimeIndex([pd.Timestamp(b["date"]) for b in strat.bars])
    values = pd.Series([b["value"] for b in strat.bars], index=dates, name=name)
    test_values = values[values.index >= trade_start]
    returns = test_values.pct_change().iloc[1:].rename(name)
    held = pd.DataFrame([b["held"] for b in strat.bars], index=dates)
    held = held[held.index >= trade_start]
    target = pd.DataFrame([r["target"] for r in strat.rebalances],
                          index=pd.DatetimeIndex([pd.Timestamp(r["date"]) for r in strat.rebalances]))
    analysis = {a: strat.analyzers.getbyname(a).get_analysis() for a in (analyzers or {})}
    return BacktestResult(
        name=name, kind=spec.kind, seed=seed, values=values, returns=returns,
        weights_held=held, weights_target=target, rebalances=strat.rebalances, fills=strat.fills,
        order_stats=dict(strat.order_stats), order_failures=strat.order_failures,
        fallbacks=list(strat.fallbacks) + list(getattr(strat.allocator, "fallbacks_", []) or []),
        fits=strat.fits, final_weights=strat.final_weights, commission=strat.total_commission,
        trade_start=pd.Timestamp(trade_start), seconds=time.perf_counter() - t0,
        allocator=strat.allocator.describe(), analyzers=analysis,
    )
