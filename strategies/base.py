"""The rebalancing base strategy: an allocator drives a self-financing Backtrader portfolio.

One rebalance is a few small steps with one job each::

    schedule -> build the window known at this bar -> (fit) -> allocate -> validate -> size -> orders

Time belongs to the strategy. At each bar it appends the closes it has just seen to its own
history buffer; the allocator only ever receives rows up to the current bar, so look-ahead
is impossible by construction. ``fit`` is called by the strategy itself (first trading bar,
then every ``refit`` bars), on the history it has seen, so the strategy behaves the same in
anyone's cerebro as under the runner.

Execution:
* ``close``: orders fill at the decision bar's close (the paper's convention). The strategy
  turns on the broker's cheat-on-close (``broker.set_coc(True)``) in ``start``.
* ``next_open``: weights are decided at the close of bar t; orders are sized at, and fill at,
  bar t+1's open, so a gap cannot make them fail. Needs ``bt.Cerebro(cheat_on_open=True)``
  (a clear error says so otherwise).

Orders: all sizes from one snapshot, sells before buys, buys scaled to the cash that will be
there after sells and commissions (:mod:`bt_lstm_mvo.strategies.sizing`). Margin/Rejected/Canceled orders
are counted in ``order_stats`` and listed in ``order_failures``, never dropped silently.
"""

from __future__ import annotations

import datetime as dt
import inspect
import warnings
from collections import Counter

import backtrader as bt
import numpy as np
import pandas as pd

from bt_lstm_mvo.allocators.base import ALLOCATOR_FAILURES, Allocator, has_array_path, weights_array
from bt_lstm_mvo.errors import AllocationError, ConfigError, DataError
from bt_lstm_mvo.periods import to_date
from bt_lstm_mvo.strategies import gc_pause
from bt_lstm_mvo.strategies.commission import AssetCommission
from bt_lstm_mvo.strategies.costs import CostModel, CostTable, MarketView, RollingMarket, plan_orders
from bt_lstm_mvo.strategies.records import Records
from bt_lstm_mvo.strategies.schedule import check_schedule, is_due
from bt_lstm_mvo.strategies.sizing import plan_rebalance
from bt_lstm_mvo.text import did_you_mean
from bt_lstm_mvo.vocab import EXECUTIONS, FAILURE_POLICIES, UNFILLED_POLICIES, check_choice


class _History:
    """Growable (bars x assets) float buffer of closes with dates; O(1) amortised append.

    The per-bar window frame is cheap to build: the columns are one ``pd.Index`` made once, and
    the dates a slice of one ``DatetimeIndex`` that views the whole date buffer (made again only
    when the buffer grows). Rows are never changed once written, so a window's index, a view of
    rows ``lo..n-1``, stays valid. Where pandas would copy the buffer instead of viewing it, each
    window gets its own index built from a copy of its dates.
    """

    def __init__(self, columns, capacity: int = 1024):
        self.columns = pd.Index(columns)
        self.values = np.empty((capacity, len(self.columns)))
        self.dates = np.full(capacity, np.datetime64("NaT"), dtype="datetime64[ns]")
        self.n = 0
        self._index: pd.DatetimeIndex | bool | None = None  # view of self.dates; None: make; False: no views

    def append(self, date, row) -> None:
        if self.n == len(self.values):
            grown = np.empty((2 * len(self.values), self.values.shape[1]))
            grown[: self.n] = self.values[: self.n]
            self.values = grown
            tail = np.full(self.n, np.datetime64("NaT"), dtype="datetime64[ns]")
            self.dates = np.concatenate([self.dates[: self.n], tail])
            if self._index is not False:
                self._index = None
        self.values[self.n] = row
        self.dates[self.n] = np.datetime64(date, "ns")
        self.n += 1

    def _date_index(self, lo: int, hi: int) -> pd.DatetimeIndex:
        if self._index is None:
            index = pd.DatetimeIndex(self.dates, copy=False, name="Date")
            self._index = index if np.may_share_memory(np.asarray(index), self.dates) else False
        if self._index is False:
            return pd.DatetimeIndex(self.dates[lo:hi].copy(), name="Date")
        return self._index[lo:hi]

    def frame(self, rows: int | None = None, skip: int = 0) -> pd.DataFrame:
        """The last ``rows`` rows (all if None) before the newest ``skip`` rows."""
        hi = max(0, self.n - skip)
        lo = 0 if rows is None else max(0, hi - rows)
        return pd.DataFrame(self.values[lo:hi].copy(), index=self._date_index(lo, hi), columns=self.columns,
                            copy=False)  # the values are already this frame's own copy


def _number(value, name: str, rule: str) -> float:
    """A finite float >= 0 (booleans and strings are not numbers); ConfigError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
        raise ConfigError(f"{name}: must be {rule}, got {value!r}")
    return float(value)


def _fraction(value, name: str, allow_none: bool = False, open_low: bool = False):
    """A number in [0, 1) (or (0, 1) with ``open_low``); None passes when ``allow_none``."""
    if value is None and allow_none:
        return None
    rule = f"a fraction in {'(' if open_low else '['}0, 1)" + (" or None" if allow_none else "")
    x = _number(value, name, rule)
    if x >= 1.0 or (open_low and x == 0.0):
        raise ConfigError(f"{name}: must be {rule}, got {value!r}")
    return x


def _date(value, name: str):
    return None if value is None else to_date(value, name).date()


def _fill_records(with_costs: bool) -> Records:
    """The strategy's ``fills`` record: with per-asset cost models also each fill's fee, spread, impact."""
    parts = ("fee", "spread", "impact") if with_costs else ()
    return Records(floats=("size", "price", "value", "commission", *parts), objects=("date", "asset"),
                   order=("date", "asset", "size", "price", "value", "commission", *parts))


class AllocationStrategy(bt.Strategy):
    """Rebalance all data feeds to the weights an :class:`bt_lstm_mvo.allocators.base.Allocator` decides.

    Params:
        allocator (None): the Allocator instance. Subclasses that name an ``allocator_class``
            build one from ``allocator_params`` instead (give one or the other).
        allocator_params (None): keyword arguments of the subclass's ``allocator_class``.
        schedule ('daily'): 'daily' | 'weekly' | 'monthly' | 'quarterly' | N (every N bars) |
            'never' (allocate once, then buy-and-hold: weights drift).
        drift_threshold (None): if set, a due rebalance trades only when some held weight is
            more than this far (absolute) from its target.
        trade_start (None): first date that may trade; earlier bars are warm-up (history only).
        execution ('close'): 'close' (fill at the decision bar's close) | 'next_open'.
        cash_buffer (0.0): fraction of value kept in cash on top of the weights' cash share.
        on_failure ('raise'): what to do when the allocator cannot decide (it raises one of
            ``allocators.base.ALLOCATOR_FAILURES``: a PluginError or a numerical error):
            'raise' | 'hold' (keep the previous target) | 'equal_weight' | 'cash'. Every
            fallback is recorded in ``fallbacks``; other exceptions are bugs and propagate.
        fit (True): call ``allocator.fit`` at the first trading bar (False: pre-trained, e.g.
            a checkpoint).
        refit (None): refit every N trading bars after the first (walk-forward), whether or not
            the first bar fitted; None never refits.
        fit_window (None): rows of history given to ``fit`` (None: all seen = expanding).
        refit_dates (None): dates to refit at (walk-forward folds): the first trading bar on or
            after each date refits. Give ``refit`` or ``refit_dates``, not both.
        fit_gap (0): bars held out of every fit (an embargo): a fit at bar t sees the rows up
            to t - fit_gap only.
        commission_rate (None): rate used for sizing; None reads it from the broker's
            commission scheme for the first data (``p.commission``, a fraction).
        min_trade_value (0.01): skip trades smaller than this value (currency): daily rebalancing
            otherwise sends "dust" orders worth fractions of a cent (sizes ~1e-10) whose only effect
            is a rounding-level commission; 0 sends every trade.
        unfilled ('carry'): what happens to the part of an order a volume cap (an
            :class:`~bt_lstm_mvo.strategies.commission.AssetCommission` with ``participation``)
            left unfilled: 'carry' (the next bars trade toward the same target again, re-sized at
            their prices, until a new target replaces it) | 'cancel' (dropped). Either way it is
            recorded in ``unfilled``.

    Costs: the broker's commission scheme for each feed says how orders are priced and sized.
    With :class:`~bt_lstm_mvo.strategies.commission.ProportionalCommission` (or any percent
    scheme) the flat closed-form sizing of :mod:`~bt_lstm_mvo.strategies.sizing` applies; with an
    ``AssetCommission`` for some feed, every feed's own model (fees, spread, impact, volume cap,
    lots: :mod:`~bt_lstm_mvo.strategies.costs`) sizes the orders and prices the fills.
        lean (False): constant memory per order: at every bar, drop the finished orders
            Backtrader keeps for the whole run (``broker.orders``, the strategy's notified copies
            in ``_orders``, never read by Backtrader) and its empty per-order ``broker._pchildren``
            entries. Results are
            bit-identical; only ``broker.orderstatus`` of an old order and ``strategy._orders``
            lose their history (the strategy's own ``fills``/``order_stats`` keep it). The
            runner turns it on.

    Records (plain Python, read by the analyzers and the runner):
        bars: list of {date, value, cash, held: {asset: weight}} at each bar's close, before
            that bar's trades.
        rebalances: list of {date, target, value, traded_value, planned_commission, buy_scale}
            (``value``: the portfolio value the trades were sized from; turnover is reported by
            the ``PortfolioWeights`` analyzer, the plugin's one definition).
        fills: list of {date, asset, size, price, value, commission} (with per-asset cost
            models also fee, spread, impact: the parts of commission).
        unfilled: list of {date, asset, wanted, filled, unfilled, policy} (volume cap).
        order_stats: Counter of order statuses (Completed, Margin, Rejected, Canceled...).
        order_failures: list of {date, asset, status, size}.
        fallbacks: list of {date, reason, used}.
        fits: list of {date, rows, first, last}.
        training_period_ / training_end_: dates of the FIRST fit's data (the initial training
            period; walk-forward refits are listed in ``fits``). Read by ``StressWindow``.
    """

    #: the Allocator subclass built from ``allocator_params`` (None: ``allocator`` is required)
    allocator_class: type[Allocator] | None = None

    params = (
        ("allocator", None),
        ("allocator_params", None),
        ("schedule", "daily"),
        ("drift_threshold", None),
        ("trade_start", None),
        ("execution", "close"),
        ("cash_buffer", 0.0),
        ("on_failure", "raise"),
        ("fit", True),
        ("refit", None),
        ("fit_window", None),
        ("refit_dates", None),
        ("fit_gap", 0),
        ("commission_rate", None),
        ("min_trade_value", 0.01),
        ("lean", False),
        ("unfilled", "carry"),
    )

    # ---------------------------------------------------------------- set-up
    def __init__(self):
        p = self.p
        allocator = self.build_allocator()
        if not isinstance(allocator, Allocator):
            raise ConfigError(
                f"{type(self).__name__}: param 'allocator' must be an allocators.base.Allocator, "
                f"got {type(allocator).__name__}"
            )
        check_choice(p.execution, EXECUTIONS, "execution")
        check_choice(p.on_failure, FAILURE_POLICIES, "on_failure")
        check_choice(p.unfilled, UNFILLED_POLICIES, "unfilled")
        if p.refit is not None and (not isinstance(p.refit, int) or isinstance(p.refit, bool) or p.refit < 1):
            raise ConfigError(f"refit: must be None or a positive integer (bars), got {p.refit!r}")
        if p.fit_window is not None and (not isinstance(p.fit_window, int) or isinstance(p.fit_window, bool)
                                         or p.fit_window < 2):
            raise ConfigError(f"fit_window: must be None or an integer >= 2 (rows), got {p.fit_window!r}")
        if p.refit_dates is not None and p.refit is not None:
            raise ConfigError("refit and refit_dates: give one (every N bars, or on given dates), not both")
        if isinstance(p.fit_gap, bool) or not isinstance(p.fit_gap, int) or p.fit_gap < 0:
            raise ConfigError(f"fit_gap: must be an integer >= 0 (bars), got {p.fit_gap!r}")
        if not isinstance(p.lean, bool):
            raise ConfigError(f"lean: must be True or False, got {p.lean!r}")
        if not isinstance(p.fit, bool):
            raise ConfigError(f"fit: must be True or False, got {p.fit!r}")
        self.allocator: Allocator = allocator
        self.schedule = check_schedule(p.schedule)
        self.drift_threshold = _fraction(p.drift_threshold, "drift_threshold", allow_none=True, open_low=True)
        self.trade_start = _date(p.trade_start, "trade_start")
        self.execution = p.execution
        self.cash_buffer = _fraction(p.cash_buffer, "cash_buffer")
        self.on_failure = p.on_failure
        self.do_fit = p.fit
        self.refit = p.refit
        self.fit_window = p.fit_window
        self.fit_gap = p.fit_gap
        self._refit_dates = sorted(_date(d, "refit_dates") for d in (p.refit_dates or ()))
        self.min_trade_value = _number(p.min_trade_value, "min_trade_value", "a value >= 0 (currency)")
        self._rate_param = (None if p.commission_rate is None else
                            _fraction(p.commission_rate, "commission_rate"))

        self.assets = [d._name or f"data{i}" for i, d in enumerate(self.datas)]
        if len(set(self.assets)) != len(self.assets):
            raise ConfigError(f"data feeds must have distinct names, got {self.assets}")
        self._hist = _History(self.assets)

        # column-wise (strategies/records.py): a row costs a few bytes a field, and reads as a dict
        self.bars = Records(floats=("value", "cash"), objects=("date",), mappings={"held": self.assets},
                            order=("date", "value", "cash", "held"))
        self.rebalances = Records(floats=("value", "traded_value", "planned_commission", "buy_scale"),
                                  objects=("date",), mappings={"target": self.assets},
                                  order=("date", "target", "value", "traded_value", "planned_commission",
                                         "buy_scale"))
        self.fills = _fill_records(with_costs=False)
        self.order_stats: Counter = Counter()
        self.order_failures: list[dict] = []
        self.fallbacks: list[dict] = []
        self.fits: list[dict] = []
        self.unfilled: list[dict] = []
        self._table: CostTable | None = None  # per-asset cost models (None: the flat proportional path)
        self._market: RollingMarket | None = None  # rolling spread/volatility/volume estimates
        self._carry: np.ndarray | None = None  # target still to reach after a volume-capped rebalance
        self._warned_calendar = False
        self._array_path: bool | None = None  # does the allocator take arrays (allocate_values)?
        self.training_end_ = None
        self.training_period_ = None

        self._last_target: np.ndarray | None = None  # validated weights in asset order
        self._last_rebalance: dt.date | None = None
        self._bars_since_rebalance = 0
        self._trading_bars = 0
        self._bars_since_fit = 0
        self._pending: np.ndarray | None = None  # next_open: target decided at the last close
        self._tradable_lines: list | None = None  # per feed: its 'tradable' line or None (set on first use)
        self._naive_dates = False  # clock and feeds convert datetime numbers without a time zone
        self._last_fill: tuple = (None, None)  # (datetime number, date) of the last fill
        self._held_now: list = []  # the weights held at this bar's close, as recorded in bars[-1]["held"]

    def start(self):
        if self.execution == "close":
            self.broker.set_coc(True)
        elif not self.cerebro.p.cheat_on_open:
            raise ConfigError(
                "execution='next_open' sizes orders at the next bar's open and needs "
                "bt.Cerebro(cheat_on_open=True); create the Cerebro with that flag or use execution='close'"
            )
        infos = [self.broker.getcommissioninfo(d) for d in self.datas]
        shared = [info for info in infos if isinstance(info, AssetCommission) and info.model.needs_market
                  and sum(other is info for other in infos) > 1]
        if shared:  # one scheme for several feeds (the broker's default): each feed gets its own copy, so
            for i, (d, info) in enumerate(zip(self.datas, infos)):  # each fill is priced with its own market state
                if any(info is s for s in shared):
                    infos[i] = AssetCommission(**info.model.describe())
                    self.broker.addcommissioninfo(infos[i], name=d._name)
        if any(isinstance(info, AssetCommission) for info in infos):
            if self._rate_param is not None:
                raise ConfigError("commission_rate: the broker has per-asset AssetCommission schemes, which size "
                                  "the orders themselves; leave commission_rate unset")
            self._table = CostTable([self._model_of(info, name) for info, name in zip(infos, self.assets)])
            self.fills = _fill_records(with_costs=True)
            self.rate = None
            if any(m.needs_market for m in self._table.models):
                self._market = RollingMarket(len(self.datas), [m.window for m in self._table.models])
        elif self._rate_param is not None:
            self.rate = float(self._rate_param)
        else:
            info = self.broker.getcommissioninfo(self.datas[0])
            # CommInfoBase.__init__ has already turned a percent (percabs=False) into a fraction, and
            # resolved commtype=None (Backtrader's setcommission) into _commtype
            self.rate = float(info.p.commission)
            if info._commtype != bt.CommInfoBase.COMM_PERC and info.p.commission:
                raise ConfigError(
                    "commission_rate: the broker's commission is not proportional; pass "
                    "commission_rate=<fraction> so orders can be sized"
                )
        if self.p.lean:  # last: nothing above can raise after the freeze
            gc_pause.pause()

    @staticmethod
    def _model_of(info, name: str) -> CostModel:
        if isinstance(info, AssetCommission):
            return info.model
        if info._commtype != bt.CommInfoBase.COMM_PERC and info.p.commission:
            raise ConfigError(f"feed {name!r}: its commission scheme is not proportional; use an AssetCommission "
                              "(per_share, minimum, ...) so orders can be sized")
        return CostModel(commission=float(info.p.commission))

    def build_allocator(self) -> Allocator:
        """The ``allocator`` param, or ``allocator_class(**allocator_params)`` for subclasses."""
        name = type(self).__name__
        if self.p.allocator is not None:
            if self.p.allocator_params:
                raise ConfigError(f"{name}: give 'allocator' or 'allocator_params', not both")
            return self.p.allocator
        if self.allocator_class is None:
            raise ConfigError(f"{name}: param 'allocator' is required (an allocators.base.Allocator)")
        kwargs = self.p.allocator_params or {}
        if not isinstance(kwargs, dict):
            raise ConfigError(f"{name}: allocator_params must be a dict of "
                              f"{self.allocator_class.__name__} arguments, got {kwargs!r}")
        allowed = [k for k in inspect.signature(self.allocator_class).parameters if k not in ("self", "config")]
        if "config" in inspect.signature(self.allocator_class).parameters:  # LSTMAllocator: LSTMConfig fields
            from dataclasses import fields as dc_fields

            from bt_lstm_mvo.allocators.lstm import LSTMConfig

            allowed = [f.name for f in dc_fields(LSTMConfig)]
        unknown = [k for k in kwargs if k not in allowed]
        if unknown:
            raise ConfigError(f"{name}: allocator_params {unknown[0]!r} is not a "
                              f"{self.allocator_class.__name__} argument ({did_you_mean(unknown[0], allowed)})")
        return self.allocator_class(**kwargs)

    # ---------------------------------------------------------------- helpers
    def _today(self) -> dt.date:
        """The current bar's date (in next_open the strategy's own clock has not advanced yet)."""
        return max(d.datetime.date(0) for d in self.datas if len(d))

    def _tradable(self, today: dt.date, now: float | None = None) -> np.ndarray:
        """Which feeds have a real bar on ``today`` (fresh, and ``tradable`` where the feed has that line).

        ``now``: the strategy clock's raw datetime number for ``today``, if known. When neither
        the clock nor the feeds convert numbers to dates with a time zone, a feed whose own
        number equals ``now`` is on ``today`` without a (slower) number-to-date conversion.
        """
        if self._tradable_lines is None:
            self._tradable_lines = [getattr(d.lines, "tradable", None) for d in self.datas]
            self._naive_dates = getattr(self.datetime, "_tz", None) is None and all(
                getattr(d.datetime, "_tz", None) is None for d in self.datas
            )
        if not self._naive_dates:
            now = None
        out = np.empty(len(self.datas), dtype=bool)
        stale_plain = False
        for i, (d, line) in enumerate(zip(self.datas, self._tradable_lines)):
            fresh = len(d) > 0 and ((now is not None and d.datetime[0] == now) or d.datetime.date(0) == today)
            out[i] = fresh and (line is None or line[0] > 0.5)
            stale_plain = stale_plain or (not fresh and line is None and len(d) > 0)
        if stale_plain and not self._warned_calendar:
            self._warned_calendar = True
            late = [a for a, ok, line in zip(self.assets, out, self._tradable_lines) if not ok and line is None]
            warnings.warn(
                f"feeds on different calendars: {late} had no bar on {today}. Their stale bars are not traded "
                "and are valued at their last close, but the allocator's history repeats their last price on "
                "the union calendar (annualisation then follows the union). Align the feeds first "
                "(bt_lstm_mvo.feeds.calendar.align, or feeds with a 'tradable' line: 0 on stale rows)",
                stacklevel=2,
            )
        return out

    def _positions_value(self, prices) -> np.ndarray:
        return np.array([self.getposition(d).size * px for d, px in zip(self.datas, prices)])

    def history(self, rows: int | None = None) -> pd.DataFrame:
        """Closes seen so far (nothing later than the current bar); the last ``rows`` if given."""
        return self._hist.frame(rows)

    def _record_bar(self, date, prices) -> np.ndarray:
        """Append this bar's record; returns the positions' values at ``prices``."""
        hv = self._positions_value(prices)
        value = self.broker.getvalue()
        held = (hv / value).tolist() if value > 0 else [0.0] * len(hv)  # in asset order
        self.bars.append({"date": date, "value": float(value), "cash": float(self.broker.getcash()),
                          "held": held})
        self._held_now = held  # this bar's recorded weights, for the drift threshold (no row rebuilt)
        return hv

    def _fit(self, date) -> None:
        hist = self._hist.frame(self.fit_window, skip=self.fit_gap)
        if len(hist) == 0:
            raise DataError(f"{date}: fit_gap {self.fit_gap} leaves no rows of history to fit on")
        self.allocator.fit(hist)
        if not self.fits:
            self.training_end_ = hist.index[-1].date()
            self.training_period_ = (hist.index[0].date(), hist.index[-1].date())
        self.fits.append({"date": date, "rows": len(hist), "first": hist.index[0].date(),
                          "last": hist.index[-1].date()})
        self._bars_since_fit = 0

    def _adopt_pretrained_period(self) -> None:
        """A pre-trained allocator that knows its training dates (``fit_start_``/``fit_end_``, as
        an LSTM checkpoint does) sets ``training_period_``, so stress windows can be flagged."""
        start, end = getattr(self.allocator, "fit_start_", None), getattr(self.allocator, "fit_end_", None)
        if end is not None:
            self.training_end_ = pd.Timestamp(end).date()
            self.training_period_ = (pd.Timestamp(start).date() if start is not None else None, self.training_end_)

    def _decide(self, date) -> np.ndarray | None:
        """Ask the allocator; apply the failure policy. Returns validated weights (asset order)."""
        try:
            if self._array_path is None:
                self._array_path = has_array_path(type(self.allocator))
            if self._array_path:  # the same weights without building a DataFrame (the LSTM, the naive allocators)
                h = self._hist
                lo = 0 if self.allocator.lookback is None else max(0, h.n - self.allocator.lookback)
                raw = self.allocator.allocate_values(h.values[lo:h.n], h.columns, h.dates[lo:h.n])
                return weights_array(raw, h.columns, source=type(self.allocator).__name__)
            raw = self.allocator.allocate(self.history(self.allocator.lookback))
            return weights_array(raw, self._hist.columns, source=type(self.allocator).__name__)
        except ALLOCATOR_FAILURES as exc:  # the policy decides; every fallback leaves a trace
            if self.on_failure == "raise":
                if isinstance(exc, AllocationError):
                    raise AllocationError(f"{date}: {exc}") from exc
                raise
            reason = f"{type(exc).__name__}: {exc}"
            if self.on_failure == "hold" and self._last_target is not None:
                used = "previous target"
                weights = self._last_target
            elif self.on_failure == "cash":
                used = "cash"
                weights = np.zeros(len(self.assets))
            else:
                used = "equal weight"
                weights = np.full(len(self.assets), 1.0 / len(self.assets))
            self.fallbacks.append({"date": date, "reason": reason, "used": used})
            return weights

    # ---------------------------------------------------------------- the bar
    def _check_prices(self, prices: np.ndarray, date, what: str) -> None:
        """Every feed's price is a finite number > 0: a NaN, inf or zero would turn into NaN
        values and NaN-size orders; a feed's bad bar is a data error, not a result."""
        if prices.min() > 0 and np.isfinite(prices.max()):  # NaN fails min() > 0
            return
        bad = ~np.isfinite(prices) | (prices <= 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"feed {self.assets[i]!r}: {what} is {float(prices[i])!r} on {date}; prices must be finite "
                            "and > 0 (clean the feed's data before adding it to cerebro)")

    def _prune_orders(self) -> None:
        """Lean mode: keep only live orders in the broker and the strategy (see ``lean``)."""
        broker = self.broker
        orders = getattr(broker, "orders", None)
        if orders:
            orders[:] = [o for o in orders if o.alive()]
        children = getattr(broker, "_pchildren", None)
        if children:
            for ref in [ref for ref, queue in children.items() if not queue]:
                del children[ref]
        if self._orders:  # copies of past notifications (each a snapshot: a clone is never updated); Backtrader
            self._orders.clear()  # itself never reads them back

    def next(self):
        if self.p.lean:
            self._prune_orders()
        date = self.datetime.date(0)
        prices = np.array([d.close[0] for d in self.datas], dtype=float)
        self._check_prices(prices, date, "close")
        self._hist.append(date, prices)
        holdings = self._record_bar(date, prices)
        tradable = None
        if self._market is not None:
            tradable = self._tradable(date, self.datetime[0])
            self._update_market(tradable)
        if self.trade_start is not None and date < self.trade_start:
            return
        self._trading_bars += 1
        self._bars_since_rebalance += 1
        self._bars_since_fit += 1

        due_dates = bool(self._refit_dates) and date >= self._refit_dates[0]
        while self._refit_dates and date >= self._refit_dates[0]:
            self._refit_dates.pop(0)
        if self._trading_bars == 1:
            if self.do_fit:
                self._fit(date)
            else:
                self._adopt_pretrained_period()
            self._bars_since_fit = 0
        elif due_dates or (self.refit is not None and self._bars_since_fit >= self.refit):
            self._fit(date)

        if not is_due(self.schedule, date, self._last_rebalance, self._bars_since_rebalance):
            if self._carry is not None:  # a volume cap left part of the last rebalance to do
                weights, self._carry = self._carry, None
                self._trade(date, weights, prices, tradable, holdings)
            return
        self._carry = None
        weights = self._decide(date)
        if weights is None:
            return
        self._last_target = weights
        self._last_rebalance = date
        self._bars_since_rebalance = 0
        if self.drift_threshold is not None and len(self.rebalances) > 0:
            held = np.array(self._held_now)
            if np.max(np.abs(held - weights)) <= self.drift_threshold:
                return
        self._trade(date, weights, prices, tradable, holdings)

    def _trade(self, date, weights, prices, tradable, holdings) -> None:
        """Trade to ``weights`` now (``close``) or at the next open (``next_open``)."""
        if self.execution == "close":
            if tradable is None:
                tradable = self._tradable(date, self.datetime[0])
            self._rebalance(date, weights, prices, tradable, holdings)
        else:
            self._pending = weights

    def _update_market(self, tradable: np.ndarray) -> None:
        """Feed this bar's High/Low/Close/Volume of every asset that really traded to the rolling
        estimates (stale rows are not bars of that asset)."""
        for i, (d, model) in enumerate(zip(self.datas, self._table.models)):
            if tradable[i]:
                close, volume = float(d.close[0]), float(d.volume[0])
                units = volume / close if model.volume_unit == "currency" else volume
                self._market.update(i, float(d.high[0]), float(d.low[0]), close, units)

    def next_open(self):
        """Cheat-on-open hook: trade the target decided at the previous close at this open."""
        if self._pending is None:
            return
        weights, self._pending = self._pending, None
        today = self._today()
        opens = np.array([d.open[0] for d in self.datas], dtype=float)
        tradable = self._tradable(today)
        if not tradable.all():  # a stale feed's open[0] is its last real bar's open: value it at its last close
            opens = np.where(tradable, opens, [d.close[0] for d in self.datas])
        self._check_prices(opens, today, "open")
        self._rebalance(today, weights, opens, tradable)

    def _rebalance(self, date, weights: np.ndarray, prices: np.ndarray, tradable: np.ndarray,
                   holdings: np.ndarray | None = None) -> None:
        """Size and send the orders; ``holdings``: the positions' values at ``prices``, if known."""
        if self._table is not None:
            return self._rebalance_costs(date, weights, prices, tradable)
        if holdings is None:
            holdings = self._positions_value(prices)
        cash = self.broker.getcash()
        plan = plan_rebalance(
            holdings, cash, weights, self.rate, tradable=tradable,
            cash_buffer=self.cash_buffer, min_trade_value=self.min_trade_value,
        )
        value = cash + holdings.sum()
        traded = float(np.abs(plan.trades).sum())
        self.rebalances.append({
            "date": date, "target": weights.tolist(),  # in asset order
            "value": float(value), "traded_value": traded,
            "planned_commission": plan.commission, "buy_scale": plan.buy_scale,
        })
        # Python floats, not numpy scalars: Backtrader does all its order arithmetic on the size
        trades, px = plan.trades.tolist(), prices.tolist()
        for i in np.argsort(plan.trades).tolist():  # sells (negative) first, then buys
            trade = trades[i]
            if trade == 0.0 or px[i] <= 0:
                continue
            size = trade / px[i]
            if size > 0:
                self.buy(data=self.datas[i], size=size)
            else:
                self.sell(data=self.datas[i], size=-size)

    def _market_view(self) -> MarketView | None:
        m = self._market
        return None if m is None else MarketView(m.half_spread.copy(), m.sigma.copy(), m.adv.copy(), m.volume.copy())

    def _rebalance_costs(self, date, weights: np.ndarray, prices: np.ndarray, tradable: np.ndarray) -> None:
        """Per-asset cost models: size with :func:`~bt_lstm_mvo.strategies.costs.plan_orders`, hand
        each feed's commission scheme the market state its fill is priced with, send the orders."""
        units = np.array([self.getposition(d).size for d in self.datas], dtype=float)
        cash = self.broker.getcash()
        market = self._market_view()
        plan = plan_orders(units, prices, cash, weights, self._table, market, tradable=tradable,
                           cash_buffer=self.cash_buffer, min_trade_value=self.min_trade_value)
        if market is not None:
            for i, d in enumerate(self.datas):
                info = self.broker.getcommissioninfo(d)
                if isinstance(info, AssetCommission):
                    info.set_market(market.half_spread[i], market.sigma[i], market.adv[i], market.volume[i])
        value = cash + float((units * prices).sum())
        self.rebalances.append({
            "date": date, "target": weights.tolist(),  # in asset order
            "value": float(value), "traded_value": float(np.abs(plan.sizes * prices).sum()),
            "planned_commission": float(plan.cost.sum()), "buy_scale": plan.buy_scale,
        })
        short = np.abs(plan.capped) < np.abs(plan.wanted)
        for i in np.flatnonzero(short).tolist():
            self.unfilled.append({"date": date, "asset": self.assets[i], "wanted": float(plan.wanted[i]),
                                  "filled": float(plan.capped[i]), "unfilled": float(plan.wanted[i] - plan.capped[i]),
                                  "policy": self.p.unfilled})
        if short.any() and self.p.unfilled == "carry":
            self._carry = weights
        sizes = plan.sizes.tolist()
        for i in np.argsort(plan.sizes).tolist():  # sells (negative) first, then buys
            size = sizes[i]
            if size > 0:
                self.buy(data=self.datas[i], size=size)
            elif size < 0:
                self.sell(data=self.datas[i], size=-size)

    # ---------------------------------------------------------------- broker events
    def notify_order(self, order):
        code = order.status
        if code == order.Submitted or code == order.Accepted:
            return
        status = order.getstatusname()
        self.order_stats[status] += 1
        name = order.data._name
        if code == order.Completed:
            ex = order.executed
            size, price = float(ex.size), float(ex.price)
            fill = {"date": self._fill_date(ex.dt), "asset": name, "size": size, "price": price,
                    "value": abs(size) * price, "commission": float(ex.comm)}
            if self._table is not None:
                info = self.broker.getcommissioninfo(order.data)
                fee, spread, impact = (info.breakdown(size, price) if isinstance(info, AssetCommission)
                                       else (float(ex.comm), 0.0, 0.0))
                fill.update(fee=fee, spread=spread, impact=impact)
            self.fills.append(fill)
        else:
            self.order_failures.append({"date": self.datetime.date(0), "asset": name, "status": status,
                                        "size": float(order.created.size)})

    def _fill_date(self, num) -> dt.date:
        """Date of a fill's datetime number (the bar's orders share one: the last conversion is reused)."""
        if not num:
            return self.datetime.date(0)
        if num != self._last_fill[0]:
            self._last_fill = (num, bt.num2date(num).date())
        return self._last_fill[1]

    # ---------------------------------------------------------------- results
    def stop(self):
        if self.p.lean:
            gc_pause.resume()
        prices = np.array([d.close[0] for d in self.datas], dtype=float)
        hv = self._positions_value(prices)
        value = self.broker.getvalue()
        self.final_weights = {a: (float(v / value) if value > 0 else 0.0) for a, v in zip(self.assets, hv)}
        self.total_commission = float(sum(self.fills.column("commission")))  # in fill order, as the rows
