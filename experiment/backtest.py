"""What one backtest returns, and the broker inputs both engines read from a ``BrokerConfig``."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from bt_lstm_mvo.experiment.summary import run_metrics
from bt_lstm_mvo.strategies.costs import CostModel, models_for


def interest_rate(broker):
    """The annual rate idle cash earns: ``broker.interest_rate``, or the dated series of ``interest_csv``."""
    if broker.interest_csv is not None:
        from bt_lstm_mvo.feeds.rates import load_rates

        return load_rates(broker.interest_csv)
    return broker.interest_rate


def cost_models(broker, tickers) -> dict[str, CostModel] | None:
    """Every ticker's cost model of ``broker.costs`` (None: the flat ``broker.commission``)."""
    if broker.costs is None:
        return None
    c = broker.costs
    return models_for(tickers, c.preset, c.crypto.given(), c.equity.given(),
                      {t: m.given() for t, m in c.assets.items()})


@dataclass
class BacktestResult:
    """What one run produced. ``returns`` (test period only, from ``trade_start``) are the
    ``PaperMetrics`` analyzer's own series; ``analyzers`` holds every analyzer's output."""

    name: str
    kind: str
    seed: int | None
    values: pd.Series  # portfolio value at each bar's close (whole run, warm-up included)
    returns: pd.Series  # daily returns over the test period (PaperMetrics.portfolio_returns())
    weights_target: pd.DataFrame  # target weights on rebalance dates
    rebalances: list[dict]
    fills: list[dict]
    order_failures: list[dict]
    fallbacks: list[dict]
    fits: list[dict]
    trade_start: pd.Timestamp
    seconds: float
    cash: float
    allocator: dict = field(default_factory=dict)
    analyzers: dict = field(default_factory=dict)
    positions: pd.DataFrame | None = None  # Holdings: value per asset + cash after each bar's fills
    transactions: pd.DataFrame | None = None  # Holdings: one row per fill (pyfolio layout)
    unfilled: list = field(default_factory=list)  # what a volume cap left unfilled, per order
    interest: float = 0.0  # interest earned on idle cash over the whole run

    def held_weights(self) -> pd.DataFrame:
        """The weights (and cash) held during each test return, dated like :attr:`returns`: the
        holdings after the previous bar's fills, from ``Holdings``. With ``close`` execution row
        ``d`` is exactly what earned the return of ``d``; with ``next_open`` the fills of bar ``d``
        happen at its open, so row ``d`` is what was held from the previous close to that open."""
        pos = self.positions
        weights = pos.div(pos.sum(axis=1), axis=0).shift(1)
        return weights.loc[self.returns.index]

    def metrics(self) -> dict:
        """The run's figures, read from its analyzers (:func:`~bt_lstm_mvo.experiment.summary.run_metrics`)."""
        return run_metrics(self.analyzers, self.cash)

    @property
    def periods_per_year(self) -> float | None:
        return self.analyzers["paper_metrics"]["periods_per_year"]
