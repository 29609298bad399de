"""An experiment: the same feeds, cash and commission for every strategy of a config.

config -> market (load, validate, align) -> split -> one fresh Cerebro per strategy (and per
seed) -> buy-and-hold reference lines -> metrics. Reporting lives in :mod:`bt_lstm_mvo.experiment.report`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bt_lstm_mvo.analyzers import PaperMetrics, PortfolioWeights, SortinoRatio, StressWindow
from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.experiment.backtest import BacktestResult, run_backtest
from bt_lstm_mvo.experiment.config import ExperimentConfig, StrategyConfig
from bt_lstm_mvo.experiment.split import test_start
from bt_lstm_mvo.feeds.market import Market, load_market

log = logging.getLogger(__name__)


@dataclass
class ExperimentResult:
    config: ExperimentConfig
    market: Market
    trade_start: pd.Timestamp
    periods_per_year: float
    runs: dict[str, list[BacktestResult]] = field(default_factory=dict)  # name -> one per seed
    benchmarks: dict[str, BacktestResult] = field(default_factory=dict)

    def primary(self, name: str) -> BacktestResult:
        """The first seed's run of a strategy (the one plotted)."""
        return self.runs[name][0]


def market_for(cfg: ExperimentConfig, data_dir: str | Path | None = None) -> Market:
    d = cfg.data
    folder = data_dir if data_dir is not None else d.data_dir
    if d.source != "synthetic" and folder is None:
        raise ConfigError("data.data_dir: required for source 'csv'/'yahoo'; set it or pass --data-dir")
    return load_market(d.tickers, source=d.source, data_dir=folder, start=d.start, end=d.end,
                       calendar=d.calendar, adjust=d.adjust, seed=d.seed)


def check_against_data(cfg: ExperimentConfig, market: Market, start: pd.Timestamp) -> None:
    """Rules that need the data: enough training bars for every window."""
    train_bars = int((market.index < start).sum()) + 1
    for name, s in cfg.strategies.items():
        need = 2
        if s.kind == "lstm":
            p = s.params
            need = int(p.get("window", 30)) + int(p.get("vol_window", 20)) + 2
        if s.kind == "mvo":
            need = len(market.tickers) + 2
        if s.fit_window is not None and s.fit_window > train_bars:
            raise ConfigError(
                f"strategies.{name}.fit_window: {s.fit_window} bars is longer than the {train_bars} "
                f"training bars available before {start.date()}"
            )
        if need > train_bars:
            raise ConfigError(
                f"strategies.{name}: needs at least {need} training bars, the data has {train_bars} "
                f"before the test start {start.date()}; use a longer date range or a later split"
            )


def run_analyzers(cfg: ExperimentConfig, start: pd.Timestamp, ppy: float) -> dict:
    """The plugin's analyzers added to every strategy run, over the test period only."""
    a = cfg.analysis
    windows = {k: (str(v[0]), str(v[1])) for k, v in a.stress_windows.items()}
    return {
        "paper_metrics": (PaperMetrics, {"since": start, "sortino_variant": a.sortino_variant,
                                         "periods_per_year": ppy}),
        "sortino": (SortinoRatio, {"since": start, "variant": a.sortino_variant, "periods_per_year": ppy}),
        "stress": (StressWindow, {"since": start, "windows": windows, "periods_per_year": ppy}),
        "portfolio": (PortfolioWeights, {"keep_series": False, "periods_per_year": ppy}),
    }


def run_experiment(cfg: ExperimentConfig, data_dir=None, progress: bool = True,
                   stage=lambda msg: None) -> ExperimentResult:
    import torch

    torch.set_num_threads(cfg.runtime.torch_threads)
    stage(f"loading data ({cfg.data.source})")
    market = market_for(cfg, data_dir)
    start = test_start(market.index, cfg.split.train_fraction, cfg.split.test_start)
    check_against_data(cfg, market, start)
    ppy = cfg.analysis.periods_per_year or market.periods_per_year()
    stage(f"{len(market.tickers)} tickers, {len(market.index)} bars {market.index[0].date()}.."
          f"{market.index[-1].date()} ({market.calendar} calendar, {ppy:.1f} bars/year); "
          f"test from {start.date()}")
    result = ExperimentResult(cfg, market, start, ppy)
    analyzers = run_analyzers(cfg, start, ppy)
    for name, spec in cfg.strategies.items():
        seeds = spec.seeds if spec.kind == "lstm" and spec.seeds else [None]
        result.runs[name] = []
        for seed in seeds:
            stage(f"running {name}" + (f" (seed {seed})" if seed is not None else ""))
            run = run_backtest(market, name, spec, cfg.broker, start, seed=seed, progress=progress,
                               analyzers=analyzers)
            result.runs[name].append(run)
    if cfg.buy_and_hold_benchmarks:
        for ticker in market.tickers:
            spec = StrategyConfig(kind="buy_and_hold", asset=ticker, schedule="never")
            result.benchmarks[ticker] = run_backtest(market, f"hold {ticker}", spec, cfg.broker, start)
    return result
