"""The plugin's analyzers applied to a run that did not happen in Backtrader (the array engine).

:func:`replay` builds an analyzer without a cerebro, reads its params exactly as Backtrader
would (defaults from the class's ``params``, the same ``_configure`` checks), fills the state its
``next``/``notify_order`` hooks would have collected from a :class:`RunRecord`, and calls its own
``stop()``: every number then comes from the analyzer's own code, so the array engine and the
Backtrader engine report through one definition of each figure.

The state is what the hooks see in a Backtrader run: at each bar, the broker's value and the
held weights at that bar's close, before that bar's orders fill (with ``execution: close`` those
orders fill at that close; with ``next_open`` at the next bar's open); each fill dated on the bar
it filled (the decision bar with ``close``, the next bar with ``next_open``); the returns
``TimeReturn`` records, ``value_t / value_{t-1} - 1`` with the starting cash before the first bar.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd

from bt_lstm_mvo.analyzers.bt_analyzers import PortfolioReturnsAnalyzer
from bt_lstm_mvo.analyzers.costs import ExecutionCosts
from bt_lstm_mvo.analyzers.portfolio import Holdings, PortfolioWeights
from bt_lstm_mvo.errors import ConfigError


@dataclass
class RunRecord:
    """What a run produced, in the terms the analyzers' hooks observe (see the module docstring).

    ``fills``: arrays ``row`` (bar index it filled on), ``asset`` (index into ``names``),
    ``size`` (signed units), ``price``, ``commission``, ``fee``, ``spread``, ``impact``.
    """

    names: list[str]
    dates: pd.DatetimeIndex  # every bar (midnight dates)
    values: np.ndarray  # broker value at each bar's close, before that bar's orders fill
    closes: np.ndarray  # (bars, assets)
    held: np.ndarray  # (bars, assets) weights at each close, before that bar's orders fill
    fills: dict[str, np.ndarray]
    cash: float  # starting cash
    rebalances: list[dict] | None = None  # {date, target: {asset: weight}, ...}
    unfilled: list[dict] = field(default_factory=list)
    interest: list[dict] = field(default_factory=list)  # {date, amount, ...} credits, as CashInterestBroker
    training_end: object = None
    training_period: tuple | None = None

    def returns(self) -> pd.Series:
        """The returns ``TimeReturn`` records (every bar, warm-up included)."""
        prev = np.r_[self.cash, self.values[:-1]]
        return pd.Series(self.values / prev - 1.0, index=self.dates)

    def strategy(self) -> SimpleNamespace:
        """The strategy attributes the analyzers' ``stop()`` read."""
        last = self.closes[-1] if len(self.closes) else np.zeros(len(self.names))
        return SimpleNamespace(
            rebalances=self.rebalances, unfilled=self.unfilled, training_end_=self.training_end,
            training_period_=self.training_period, broker=SimpleNamespace(interest=self.interest),
            datas=[SimpleNamespace(_name=n, close=[float(c)]) for n, c in zip(self.names, last)])


class _HeldByDate(Mapping):
    """``PortfolioWeights._held`` as a lazy mapping date -> {asset: weight} over the record's rows."""

    def __init__(self, run: RunRecord):
        self._run = run
        self._dates = [d.date() for d in run.dates]
        self._row = {d: i for i, d in enumerate(self._dates)}

    def __getitem__(self, date):
        return dict(zip(self._run.names, self._run.held[self._row[date]].tolist()))

    def __iter__(self):
        return iter(self._dates)

    def __len__(self):
        return len(self._dates)


def _params(cls, kwargs: dict):
    """``cls.params`` with the defaults, overridden by ``kwargs`` (as Backtrader's MetaParams does)."""
    params = cls.params()
    given = dict(kwargs)
    for name, default in cls.params._getitems():
        setattr(params, name, given.pop(name, default))
    if given:
        raise ConfigError(f"{cls.__name__}: unknown params {sorted(given)}")
    return params


def _fill_dates(run: RunRecord) -> list:
    dates = [d.date() for d in run.dates]
    return [dates[r] for r in run.fills["row"].tolist()]


def replay(cls, run: RunRecord, **kwargs):
    """An instance of analyzer ``cls`` (one of the plugin's) that has observed ``run``, stopped:
    ``.get_analysis()`` and its frame helpers answer as after a cerebro run."""
    obj = object.__new__(cls)
    obj.p = obj.params = _params(cls, kwargs)
    obj.rets = OrderedDict()
    obj.strategy = run.strategy()
    if getattr(obj.p, "data", None) is not None:
        raise ConfigError(f"{cls.__name__}: a benchmark data feed needs a cerebro; pass benchmark_returns instead")
    if hasattr(obj, "_configure"):  # Holdings has no params to read
        obj._configure()
    if issubclass(cls, PortfolioReturnsAnalyzer):
        returns = run.returns()
        obj.all_returns = lambda: returns
    elif issubclass(cls, PortfolioWeights):
        f, dates = run.fills, _fill_dates(run)
        traded, comm = {}, {}
        for d, size, price, c in zip(dates, f["size"].tolist(), f["price"].tolist(), f["commission"].tolist()):
            traded[d] = traded.get(d, 0.0) + abs(size * price)
            comm[d] = comm.get(d, 0.0) + c
        obj._held = _HeldByDate(run)
        obj._value_by_date = dict(zip((d.date() for d in run.dates), run.values.tolist()))
        obj._traded_by_date, obj._commission_by_date = traded, comm
        obj._orders = {"Completed": len(dates)} if dates else {}
    elif issubclass(cls, Holdings):
        f = run.fills
        obj._dates = [d.date() for d in run.dates]
        obj._closes = run.closes
        obj._fills = list(zip(_fill_dates(run), f["asset"].tolist(), f["size"].tolist(), f["price"].tolist(),
                              f["commission"].tolist()))
        obj._names = list(run.names)
        obj._index = {}
        obj._cash0 = float(run.cash)
        obj._daily = True
        if "cash" in obj._names:
            raise ConfigError("Holdings: a data feed is named 'cash', the name of the cash column; rename the feed")
    elif issubclass(cls, ExecutionCosts):
        f, dates = run.fills, _fill_dates(run)
        by_asset, n = {}, 0
        for d, i, fee, spread, impact in zip(dates, f["asset"].tolist(), f["fee"].tolist(), f["spread"].tolist(),
                                             f["impact"].tolist()):
            if obj._counted(d):
                row = by_asset.setdefault(run.names[i], {"fee": 0.0, "spread": 0.0, "impact": 0.0})
                row["fee"] += fee
                row["spread"] += spread
                row["impact"] += impact
                n += 1
        obj._by_asset, obj._fills = by_asset, n
    else:
        raise ConfigError(f"{cls.__name__}: not one of the plugin's analyzers; it cannot replay an array-engine run")
    obj.stop()
    return obj
