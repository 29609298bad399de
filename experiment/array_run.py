"""``engine: array``: one strategy config run on the numpy engine (:mod:`bt_lstm_mvo.engine`).

The same allocator, built the same way, gets the same history windows as under Backtrader
(:func:`~bt_lstm_mvo.engine.decide.decide`, from the strategy params
:func:`~bt_lstm_mvo.experiment.registry.strategy_kwargs` gives the Backtrader strategy); the
portfolio is simulated with the same broker settings; every figure is then computed by the
plugin's own analyzers, replayed on the run (:mod:`bt_lstm_mvo.analyzers.replay`). The result is
a :class:`~bt_lstm_mvo.experiment.run.BacktestResult` like a Backtrader run's.
"""

from __future__ import annotations

import time

import pandas as pd

from bt_lstm_mvo.analyzers.replay import RunRecord, replay
from bt_lstm_mvo.engine import bars_from_frames, decide, simulate
from bt_lstm_mvo.experiment.backtest import BacktestResult, cost_models, interest_rate
from bt_lstm_mvo.experiment.registry import build_allocator, strategy_kwargs


def broker_settings(broker, tickers) -> dict:
    """The :func:`~bt_lstm_mvo.engine.simulate.simulate` keywords of a ``BrokerConfig``: cash, the
    flat commission or every ticker's cost model, and the interest rate (a number or a dated series)."""
    out = {"cash": float(broker.cash), "interest_rate": interest_rate(broker)}
    models = cost_models(broker, tickers)
    if models is None:
        out["commission"] = float(broker.commission)
    else:
        out["models"] = [models[t].describe() for t in tickers]
    return out


def run_array_backtest(market, name: str, spec, broker, trade_start, seed=None, progress: bool = False,
                       analyzers: dict | None = None, folds=None, allocator=None, bars=None):
    """:func:`~bt_lstm_mvo.experiment.run.run_backtest` on the array engine (same arguments;
    ``bars``: the market's :class:`~bt_lstm_mvo.engine.bars.Bars`, if already made)."""
    t0 = time.perf_counter()
    if allocator is None:
        allocator = build_allocator(spec, seed=seed, progress=progress)
    kw = strategy_kwargs(spec, broker, trade_start, allocator, folds)
    bars = bars if bars is not None else bars_from_frames(market.frames)
    decisions = decide(bars, allocator, schedule=kw["schedule"], trade_start=kw["trade_start"], fit=kw["fit"],
                       refit=kw["refit"], refit_dates=kw.get("refit_dates"), fit_window=kw["fit_window"],
                       fit_gap=kw.get("fit_gap", 0), on_failure=kw["on_failure"])
    sim = simulate(bars, decisions, execution=kw["execution"], cash_buffer=kw["cash_buffer"],
                   min_trade_value=kw["min_trade_value"], drift_threshold=kw["drift_threshold"],
                   unfilled=kw["unfilled"], **broker_settings(broker, list(bars.names)))
    names = list(bars.names)
    day = [d.date() for d in bars.dates]
    r = sim.rebalances
    rebalances = [{"date": day[t], "target": dict(zip(names, w.tolist())), "value": float(v), "traded_value": float(tv),
                   "planned_commission": float(pc), "buy_scale": float(bs)}
                  for t, w, v, tv, pc, bs in zip(r["row"].tolist(), r["target"], r["value"], r["traded_value"],
                                                 r["planned_commission"], r["buy_scale"])]
    fills = sim.fills.arrays()
    run = RunRecord(names=names, dates=bars.dates.normalize(), values=sim.values, closes=bars.close, held=sim.held,
                    fills=fills, cash=float(broker.cash), rebalances=rebalances, unfilled=sim.unfilled,
                    interest=sim.interest, training_period=decisions.training_period,
                    training_end=decisions.training_period[1] if decisions.training_period else None)
    done = {a: replay(cls, run, **kwargs) for a, (cls, kwargs) in (analyzers or {}).items()}
    analysis = {a: obj.get_analysis() for a, obj in done.items() if a != "holdings"}
    frame = sim.fills.frame(bars)
    fill_list = frame.to_dict("records") if broker.costs is not None else \
        frame.drop(columns=["fee", "spread", "impact"]).to_dict("records")
    target = pd.DataFrame([x["target"] for x in rebalances], index=pd.DatetimeIndex([pd.Timestamp(x["date"])
                                                                                      for x in rebalances]))
    returns = done["paper_metrics"].portfolio_returns().rename(name) if "paper_metrics" in done else None
    holdings = done.get("holdings")
    return BacktestResult(
        name=name, kind=spec.kind, seed=seed, values=pd.Series(sim.values, index=bars.dates, name=name),
        returns=returns, weights_target=target, rebalances=rebalances, fills=fill_list, order_failures=[],
        fallbacks=list(decisions.fallbacks) + list(getattr(allocator, "fallbacks_", []) or []),
        fits=decisions.fits, trade_start=pd.Timestamp(trade_start), seconds=time.perf_counter() - t0,
        cash=float(broker.cash), allocator=allocator.describe(), analyzers=analysis,
        positions=holdings.positions() if holdings is not None else None,
        transactions=holdings.transactions() if holdings is not None else None,
        unfilled=list(sim.unfilled), interest=float(sim.interest_paid),
    )
