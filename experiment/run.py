"""Running a config: the same feeds, cash and commission for every strategy.

config -> market (load, validate, align) -> split -> one fresh Cerebro per strategy (and per
seed), each with the plugin's analyzers attached over the test period -> buy-and-hold
reference lines. Every figure reported later is read from those analyzers
(:mod:`bt_lstm_mvo.experiment.summary`); turning results into files lives in
:mod:`bt_lstm_mvo.experiment.report`.

``run_backtest`` is the unit of work: given the market, one strategy config, the broker config
and the first trading date, it builds a fresh Cerebro, runs it and returns a
:class:`BacktestResult` made of pandas objects and plain dicts (picklable, so it can come back
from a worker process).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import backtrader as bt
import pandas as pd

from bt_lstm_mvo.analyzers import (
    ExecutionCosts,
    Holdings,
    PaperMetrics,
    PortfolioWeights,
    RollingAlpha,
    StressWindow,
    TearsheetStats,
)
from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.experiment.array_run import run_array_backtest
from bt_lstm_mvo.experiment.backtest import BacktestResult, cost_models, interest_rate
from bt_lstm_mvo.experiment.config import ExperimentConfig, StrategyConfig
from bt_lstm_mvo.experiment.registry import build_allocator, seeds_of, strategy_kwargs
from bt_lstm_mvo.experiment.split import Fold, fold_plan, test_start
from bt_lstm_mvo.feeds.market import Market, load_market
from bt_lstm_mvo.malloc import keep_freed_memory
from bt_lstm_mvo.strategies import gc_pause
from bt_lstm_mvo.strategies.base import AllocationStrategy
from bt_lstm_mvo.strategies.broker import CashInterestBroker, FastBroker
from bt_lstm_mvo.strategies.commission import AssetCommission, ProportionalCommission
from bt_lstm_mvo.vocab import ENGINES, check_choice

log = logging.getLogger(__name__)


@dataclass
class ExperimentResult:
    config: ExperimentConfig
    market: Market
    trade_start: pd.Timestamp
    runs: dict[str, list[BacktestResult]] = field(default_factory=dict)  # name -> one per seed
    benchmarks: dict[str, BacktestResult] = field(default_factory=dict)
    benchmark: pd.Series | None = None  # analysis.benchmark's returns over the test period
    folds: list[Fold] | None = None  # split.folds: the walk-forward plan (None: one test period)

    def primary(self, name: str) -> BacktestResult:
        """The first seed's run of a strategy (the one plotted)."""
        return self.runs[name][0]

    @property
    def periods_per_year(self) -> float | None:
        """The annualisation factor the analyzers used (the same for every run of one market)."""
        first = next(iter(self.runs.values()))[0]
        return first.periods_per_year


def market_for(cfg: ExperimentConfig, data_dir: str | Path | None = None, frames: dict | None = None) -> Market:
    d = cfg.data
    folder = data_dir if data_dir is not None else d.data_dir
    if d.source in ("csv", "yahoo") and folder is None:
        raise ConfigError("data.data_dir: required for source 'csv'/'yahoo'; set it or pass --data-dir")
    return load_market(d.tickers, source=d.source, data_dir=folder, start=d.start, end=d.end,
                       calendar=d.calendar, adjust=d.adjust, seed=d.seed, max_daily_move=d.max_daily_move,
                       columns=d.columns, file_format=d.format, frames=frames)


def split_for(cfg: ExperimentConfig, index: pd.DatetimeIndex) -> tuple[pd.Timestamp, tuple | None]:
    """The first trading bar, and with ``split.folds`` the walk-forward argument of
    :func:`run_backtest` (``(plan, (training, train_bars, gap))``; None for one test period)."""
    f = cfg.split.folds
    if f is None:
        return test_start(index, cfg.split.train_fraction, cfg.split.test_start), None
    plan = fold_plan(index, f.first_test, f.length, f.training, f.train_bars, f.gap)
    return plan[0].dates[0], (plan, (f.training, f.train_bars, f.gap))


def fold_windows(folds: tuple | None) -> tuple[dict, dict]:
    """(return windows, decision windows) of a walk-forward plan: fold name -> (first, last)
    date of its out-of-sample returns, and of the bars its model decides on."""
    if folds is None:
        return {}, {}
    plan = folds[0]
    returns = {f.name: (str(f.dates[3].date()), str(f.dates[4].date())) for f in plan}
    decisions = {}
    for f, nxt in zip(plan, [*plan[1:], None]):
        last = f.dates[4] if nxt is None else nxt.dates[0] - pd.Timedelta(days=1)
        decisions[f.name] = (str(f.dates[0].date()), str(last.date()))
    return returns, decisions


def check_against_data(cfg: ExperimentConfig, market: Market, start: pd.Timestamp, folds: tuple | None = None) -> None:
    """Rules that need the data: every strategy has the history its allocator asks for
    (:meth:`~bt_lstm_mvo.allocators.base.Allocator.min_history_rows`) before the test start
    (with folds: in the first fold's training window)."""
    train_bars = int((market.index < start).sum()) + 1  # the first fit also sees the start bar
    if folds is not None:
        first = folds[0][0]
        train_bars = first.train_last - first.train_first + 1
    for name, spec in cfg.strategies.items():
        if spec.fit_window is not None and spec.fit_window > train_bars:
            raise ConfigError(
                f"strategies.{name}.fit_window: {spec.fit_window} bars is longer than the {train_bars} "
                f"training bars available before {start.date()}"
            )
        allocator = build_allocator(spec, progress=False)
        try:
            allocator.check_universe(len(market.tickers))
        except ConfigError as exc:
            raise ConfigError(f"strategies.{name}.params: {exc}") from None
        need = allocator.min_history_rows(len(market.tickers))
        have = train_bars if spec.fit_window is None else spec.fit_window
        if need > have:
            raise ConfigError(
                f"strategies.{name}: needs at least {need} training bars, the data has {have} "
                f"{'in the first fold' if folds else 'before the test start'} {start.date()}; use a longer "
                "date range or a later split"
            )


def analyzer_specs(cfg: ExperimentConfig, start: pd.Timestamp, folds: tuple | None = None) -> dict:
    """The plugin's analyzers added to every run (name -> (class, kwargs)), over the test period.

    ``periods_per_year`` is passed through as configured (``None``: the analyzers measure it by
    the plugin's one rule, :mod:`bt_lstm_mvo.periods`), so a plain cerebro with the same params
    gives the same numbers.
    """
    a = cfg.analysis
    ppy = a.periods_per_year
    rf = cfg.broker.interest_rate if a.risk_free == "interest_rate" else float(a.risk_free)
    windows = {k: (str(v[0]), str(v[1])) for k, v in a.stress_windows.items()}
    fold_returns, fold_decisions = fold_windows(folds)
    per_fold = {"folds": (StressWindow, {"since": start, "windows": fold_returns, "periods_per_year": ppy,
                                         "edge_slack_days": 0})} if folds else {}
    return {**per_fold,
        "paper_metrics": (PaperMetrics, {"since": start, "sortino_variant": a.sortino_variant,
                                         "periods_per_year": ppy, "risk_free": rf, "sortino_risk_free": True}),
        "stress": (StressWindow, {"since": start, "windows": windows, "periods_per_year": ppy}),
        "portfolio": (PortfolioWeights, {"since": start, "keep_series": False, "periods_per_year": ppy,
                                         "windows": fold_decisions or None}),
        "holdings": (Holdings, {}),
        "costs": (ExecutionCosts, {"since": start}),
        "tearsheet": (TearsheetStats, {"since": start, "periods_per_year": ppy}),
    }


def benchmark_returns(cfg: ExperimentConfig, market: Market, data_dir=None) -> pd.Series | None:
    """Daily returns of ``analysis.benchmark`` on the market's calendar: a ticker of the market,
    another ticker of the same data source (a ``<TICKER>.csv`` of the data folder, or the
    synthetic generator), or a Yahoo-format CSV file. On a bar where the benchmark has no price
    (a holiday of its own) its return is 0; its first bar must not be later than the first bar."""
    name = cfg.analysis.benchmark
    if name is None:
        return None
    from bt_lstm_mvo.feeds.csv_source import read_yahoo_csv

    d = cfg.data
    if name in market.tickers:
        close = market.closes()[name]
    elif name.lower().endswith(".csv"):
        close = read_yahoo_csv(name, adjust=d.adjust, max_daily_move=d.max_daily_move)["Close"]
    elif d.source == "synthetic":
        close = load_market([name], source="synthetic", start=d.start, end=d.end, seed=d.seed).closes()[name]
    else:
        folder = data_dir if data_dir is not None else d.data_dir
        close = load_market([name], source="csv", data_dir=folder, adjust=d.adjust, max_daily_move=d.max_daily_move,
                            columns=d.columns, file_format=d.format).closes()[name]
    if close.index[0] > market.index[0] or close.index[-1] < market.index[-1]:
        raise ConfigError(f"analysis.benchmark: {name} covers {close.index[0].date()}..{close.index[-1].date()}, "
                          f"not the whole data {market.index[0].date()}..{market.index[-1].date()}; choose a "
                          "benchmark that covers the whole period")
    close = close.reindex(close.index.union(market.index)).ffill().loc[market.index]
    return close.pct_change().fillna(0.0).rename(name)


def benchmark_spec(cfg: ExperimentConfig, start: pd.Timestamp, benchmark: pd.Series) -> dict:
    """A ``RollingAlpha`` against the external benchmark, with the CAPM regression."""
    return {"benchmark": (RollingAlpha, {"since": start, "benchmark_returns": benchmark[benchmark.index > start],
                                         "n_windows": cfg.analysis.alpha_windows, "capm": True,
                                         "periods_per_year": cfg.analysis.periods_per_year})}


def alpha_spec(cfg: ExperimentConfig, start: pd.Timestamp, benchmark: pd.Series) -> dict:
    """A ``RollingAlpha`` against another run's test returns (the paper's Table 2)."""
    return {"alpha": (RollingAlpha, {"since": start, "benchmark_returns": benchmark,
                                     "n_windows": cfg.analysis.alpha_windows,
                                     "periods_per_year": cfg.analysis.periods_per_year})}


def run_backtest(
    market: Market,
    name: str,
    spec,
    broker,
    trade_start: pd.Timestamp,
    seed: int | None = None,
    progress: bool = False,
    analyzers: dict | None = None,
    folds: tuple | None = None,
    allocator=None,
    engine: str = "backtrader",
) -> BacktestResult:
    """Run strategy ``spec`` on ``market``; trading starts at ``trade_start`` (earlier bars warm up).

    ``analyzers`` maps a name to ``(AnalyzerClass, kwargs)`` and must include ``paper_metrics``
    and ``portfolio`` (:func:`analyzer_specs`); every ``get_analysis()`` is kept. ``folds``: the
    walk-forward plan from :func:`split_for` (refits at each fold), or None. ``allocator``: use
    this Allocator instead of building one from ``spec`` (a ``ReplayAllocator``). ``engine``:
    ``backtrader`` (a Cerebro, order by order) or ``array`` (the numpy engine,
    :func:`~bt_lstm_mvo.experiment.array_run.run_array_backtest`, reported by the same analyzers).
    """
    if check_choice(engine, ENGINES, "engine") == "array":
        return run_array_backtest(market, name, spec, broker, trade_start, seed=seed, progress=progress,
                                  analyzers=analyzers, folds=folds, allocator=allocator)
    t0 = time.perf_counter()
    if allocator is None:
        allocator = build_allocator(spec, seed=seed, progress=progress)
    cerebro = bt.Cerebro(cheat_on_open=broker.execution == "next_open", stdstats=False)
    set_broker(cerebro, broker, market.tickers)
    market.add_to(cerebro)
    cerebro.addstrategy(AllocationStrategy, **strategy_kwargs(spec, broker, trade_start, allocator, folds))
    for aname, (acls, akw) in (analyzers or {}).items():
        cerebro.addanalyzer(acls, _name=aname, **akw)
    try:
        strat = cerebro.run()[0]
    finally:  # a run that raised never reached the strategy's stop: give the frozen objects back here
        gc_pause.resume()

    dates = pd.DatetimeIndex([pd.Timestamp(b["date"]) for b in strat.bars])
    values = pd.Series([b["value"] for b in strat.bars], index=dates, name=name)
    target = pd.DataFrame([r["target"] for r in strat.rebalances],
                          index=pd.DatetimeIndex([pd.Timestamp(r["date"]) for r in strat.rebalances]))
    # Holdings' per-bar tables travel as DataFrames, not in the (JSON) analysis dict
    analysis = {a: strat.analyzers.getbyname(a).get_analysis() for a in (analyzers or {}) if a != "holdings"}
    holdings = strat.analyzers.getbyname("holdings") if "holdings" in (analyzers or {}) else None
    returns = strat.analyzers.getbyname("paper_metrics").portfolio_returns().rename(name)
    return BacktestResult(
        name=name, kind=spec.kind, seed=seed, values=values, returns=returns, weights_target=target,
        rebalances=strat.rebalances, fills=strat.fills,
        order_failures=strat.order_failures,
        fallbacks=list(strat.fallbacks) + list(getattr(strat.allocator, "fallbacks_", []) or []),
        fits=strat.fits, trade_start=pd.Timestamp(trade_start), seconds=time.perf_counter() - t0,
        cash=float(broker.cash), allocator=strat.allocator.describe(), analyzers=analysis,
        positions=holdings.positions() if holdings is not None else None,
        transactions=holdings.transactions() if holdings is not None else None,
        unfilled=list(strat.unfilled), interest=float(getattr(cerebro.broker, "interest_paid", 0.0)),
    )


def set_broker(cerebro: bt.Cerebro, broker, tickers) -> None:
    """Cash, interest and every feed's cost model of ``broker`` (a ``BrokerConfig``) on ``cerebro``:
    one flat :class:`ProportionalCommission`, or an :class:`AssetCommission` per ticker
    (``broker.costs``), on a :class:`FastBroker`, or a :class:`CashInterestBroker` when idle cash
    earns interest."""
    rate = interest_rate(broker)
    cerebro.broker = CashInterestBroker(rate=rate) if broker.interest_csv is not None or rate else FastBroker()
    cerebro.broker.setcash(float(broker.cash))
    models = cost_models(broker, tickers)
    if models is None:
        cerebro.broker.addcommissioninfo(ProportionalCommission(commission=float(broker.commission)))
        return
    for ticker, model in models.items():
        cerebro.broker.addcommissioninfo(AssetCommission(**model.describe()), name=ticker)


def _run_order(cfg: ExperimentConfig) -> list[str]:
    """Strategy names in run order: the alpha pair's benchmark before the strategy measured
    against it (its returns feed that strategy's ``RollingAlpha``); otherwise config order."""
    names = list(cfg.strategies)
    pair = cfg.analysis.alpha_pair
    if pair is not None:
        names.remove(pair[1])
        names.insert(names.index(pair[0]), pair[1])
    return names


class RunPlan:
    """Every run of an experiment, counted, with a time estimate for what is left: the mean
    duration of the finished runs of the same kind (an LSTM trains; a buy-and-hold does not),
    else of all finished runs. ``line(label, kind)`` gives ``[3/10] running mvo (ETA 0:42)``."""

    def __init__(self, kinds: list[str]):
        self.pending = list(kinds)  # the kind of every run not finished yet
        self.total, self.done = len(self.pending), 0
        self.seconds: dict[str, list[float]] = {}

    def eta(self) -> str:
        finished = [s for v in self.seconds.values() for s in v]
        if not finished:
            return ""
        mean_all = sum(finished) / len(finished)
        left = sum((sum(v) / len(v)) if (v := self.seconds.get(kind)) else mean_all for kind in self.pending)
        return f" (ETA {int(left // 60)}:{int(left % 60):02d})"

    def line(self, label: str) -> str:
        return f"[{self.done + 1}/{self.total}] running {label}{self.eta()}"

    def finished(self, kind: str, seconds: float) -> None:
        self.done += 1
        self.pending.remove(kind)
        self.seconds.setdefault(kind, []).append(seconds)


def run_experiment(cfg: ExperimentConfig, data_dir=None, progress: bool = True,
                   stage=lambda msg: None, frames: dict | None = None) -> ExperimentResult:
    import torch

    torch.set_num_threads(cfg.runtime.torch_threads)
    keep_freed_memory(cfg.runtime.malloc_keep_mib)
    stage(f"loading data ({cfg.data.source})")
    market = market_for(cfg, data_dir, frames)
    start, folds = split_for(cfg, market.index)
    check_against_data(cfg, market, start, folds)
    how = f"; {len(folds[0])} walk-forward folds" if folds else ""
    stage(f"{len(market.tickers)} tickers, {len(market.index)} bars {market.index[0].date()}.."
          f"{market.index[-1].date()} ({market.calendar} calendar); test from {start.date()}{how}")
    result = ExperimentResult(cfg, market, start, folds=folds[0] if folds else None)
    analyzers = analyzer_specs(cfg, start, folds)
    bench = benchmark_returns(cfg, market, data_dir)
    if bench is not None:
        analyzers.update(benchmark_spec(cfg, start, bench))
        result.benchmark = bench[bench.index > start]
    pair = cfg.analysis.alpha_pair
    runs: dict[str, list[BacktestResult]] = {}
    plan = RunPlan([cfg.strategies[n].kind for n in _run_order(cfg) for _ in seeds_of(cfg.strategies[n])]
                   + ["buy_and_hold"] * (len(market.tickers) if cfg.buy_and_hold_benchmarks else 0))
    for name in _run_order(cfg):
        spec = cfg.strategies[name]
        extra = alpha_spec(cfg, start, runs[pair[1]][0].returns) if pair and name == pair[0] else {}
        runs[name] = []
        for seed in seeds_of(spec):
            stage(plan.line(name + (f" (seed {seed})" if seed is not None else "")))
            runs[name].append(run_backtest(market, name, spec, cfg.broker, start, seed=seed,
                                           progress=progress, analyzers={**analyzers, **extra}, folds=folds,
                                           engine=cfg.engine))
            plan.finished(spec.kind, runs[name][-1].seconds)
    result.runs = {name: runs[name] for name in cfg.strategies}
    if cfg.buy_and_hold_benchmarks:
        for ticker in market.tickers:
            stage(plan.line(f"buy-and-hold {ticker}"))
            spec = StrategyConfig(kind="buy_and_hold", asset=ticker, schedule="never")
            result.benchmarks[ticker] = run_backtest(market, f"hold {ticker}", spec, cfg.broker, start,
                                                     analyzers=analyzers, folds=folds, engine=cfg.engine)
            plan.finished("buy_and_hold", result.benchmarks[ticker].seconds)
    return result
