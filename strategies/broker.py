"""Backtrader brokers of the plugin: cheaper order notifications, and interest on idle cash.

:class:`FastBroker` is Backtrader's ``BackBroker`` with four changes, none of which changes a
fill, value or notification (``tests/test_broker.py`` compares them bit for bit, and every
attribute of every kind of order):

- the snapshot of an order it queues for the strategy at each status change (``Submitted``,
  ``Accepted``, ``Completed``, ...) is made by :func:`clone_order`, which copies the same
  attributes as ``Order.clone`` without ``copy.copy``'s generic protocol (about 5x cheaper;
  under cProfile, three snapshots per order were ~14% of a daily rebalance's run);
- it copies an order's params (``data``, ``parent``, ``size``, ...) into the order's own
  attributes, so Backtrader's ~40 reads of them per order do not each go through
  ``Order.__getattr__``;
- its ``buy``/``sell`` make :class:`FastBuyOrder`/:class:`FastSellOrder` (subclasses of
  Backtrader's), whose ``__init__`` is ``Order.__init__`` with the params copied first and the
  order's end of session computed once per bar and session for all feeds (:func:`session_end`)
  instead of two datetime conversions per order; trailing stops, orders with ``valid`` and
  simulated orders are made by Backtrader's ``Order.__init__`` itself, and on a Backtrader
  version other than :data:`ORDER_INIT_VERSIONS` so is every order;
- its ``_ocos`` (order -> its OCO group's leader; BackBroker keeps one entry per order for the
  whole run) stores no order that leads its own group, which every order made without ``oco``
  does: a missing entry reads as its own leader, so no lookup changes.

BENCHMARKS.md section 6 times the same run on FastBroker and on BackBroker. The runner uses it;
in a script::

    cerebro.broker = FastBroker()  # set it before setcash and addcommissioninfo

:class:`CashInterestBroker` (a ``FastBroker``) credits interest on idle cash bar by bar.

At each bar, cash earns ``rate * days / day_count`` (simple interest, ACT/365 by default) for
the calendar days since the previous bar, on the cash held over that period: the cash after
the previous bar's fills (``execution: close``: the fills at the previous close, which
Backtrader books at the start of this bar; ``next_open``: the fills at the previous open).
``rate`` is the annual rate in force on the previous bar's date: one number, or a date-indexed
series (e.g. a 3-month T-bill CSV) read as of that date. Negative cash never earns (or pays)
interest here: a long-only self-financing portfolio does not borrow.

Use in any script::

    cerebro.broker = CashInterestBroker(rate=0.04)
"""

from __future__ import annotations

import datetime

import backtrader as bt
import numpy as np
import pandas as pd
from backtrader.utils import AutoOrderedDict

from bt_lstm_mvo.errors import ConfigError

_PLAIN: dict[type, bool] = {}  # order / order-data class -> its clone is Backtrader's shallow copy


def _plain(cls: type, clone) -> bool:
    """``cls.clone`` is ``clone`` (Backtrader's) and ``copy.copy`` of an instance is a new instance
    of ``cls`` with the same ``__dict__`` (no ``__new__``, ``__copy__``, ``__reduce_ex__`` or
    ``__slots__`` of its own): then :func:`clone_order` may copy it by hand."""
    known = _PLAIN.get(cls)
    if known is None:
        known = _PLAIN[cls] = (
            cls.clone is clone and cls.__new__ is object.__new__ and getattr(cls, "__copy__", None) is None
            and cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__
            and not any("__slots__" in vars(k) for k in cls.__mro__))
    return known


def clone_order(order):
    """``order.clone()``: a shallow copy of the order whose ``executed`` is a shallow copy of its
    own (after ``markpending``), as Backtrader's ``Order.clone`` and ``OrderData.clone`` make with
    ``copy.copy``, built directly. An order (or order data) class with its own ``clone`` or copy
    protocol gets ``order.clone()`` itself."""
    cls, executed = type(order), order.executed
    ecls = type(executed)
    if not (_plain(cls, bt.Order.clone) and _plain(ecls, bt.OrderData.clone)):
        return order.clone()
    executed.markpending()
    snap = object.__new__(ecls)
    snap.__dict__.update(executed.__dict__)
    obj = object.__new__(cls)
    obj.__dict__.update(order.__dict__)
    obj.executed = snap
    return obj


#: order params Backtrader reads (each read a miss that ``Order.__getattr__`` forwards to ``order.p``,
#: ~40 per order) and never assigns through ``order.p`` after the order is made
_HOISTED = ("data", "parent", "owner", "transmit", "tradeid", "valid", "price", "pricelimit", "exectype",
            "trailamount", "trailpercent", "size")


#: Backtrader versions whose ``Order.__init__`` :class:`_FastInit` follows statement for statement
#: (1.9.78.123 is Backtrader's last release); any other version gets Backtrader's own order classes
ORDER_INIT_VERSIONS = ("1.9.78.123",)

_EOS: dict = {}  # (datetime number, session end, clock's tz, feed's tz) -> end-of-session number


def session_end(data) -> float:
    """The provisional end of session ``Order.__init__`` gives an order made now on ``data`` (a
    datetime number): the feed's ``sessionend`` time on the bar's day, or on the next day if the
    bar is later, through the feed's own ``num2date``/``date2num`` time zones. It depends only on
    the bar's datetime number, ``sessionend`` and the two time zones, so the feeds of one bar
    share one conversion (two datetime conversions an order otherwise)."""
    clock = data.datetime
    session = data.p.sessionend
    key = (clock[0], session, clock._tz, data._tz)
    eos = _EOS.get(key)
    if eos is None:
        if len(_EOS) >= 4096:
            _EOS.clear()
        dtime = clock.datetime(0)  # Order.__init__'s computation, as written there
        dteos = dtime.replace(hour=session.hour, minute=session.minute, second=session.second,
                              microsecond=session.microsecond)
        if dteos < dtime:
            dteos += datetime.timedelta(days=1)
        eos = _EOS[key] = data.date2num(dteos)
    return eos


class _FastInit:
    """``Order.__init__`` (Backtrader 1.9.78.123) for orders made by :class:`FastBroker`, with two
    changes and the same attributes: the order's params are copied into its own attributes first
    (every read of ``order.size``, ``order.data``, ... then finds the value without a miss that
    ``Order.__getattr__`` forwards to ``order.p``; FastBroker's ``submit`` does this for other
    orders), and the end of session comes from :func:`session_end`. Trailing stops, orders with
    ``valid``, simulated orders and feeds with their own ``date2num`` go through Backtrader's
    ``Order.__init__`` itself (after the copy of the params)."""

    def __init__(self):
        d, p = self.__dict__, self.p
        for name in _HOISTED:
            d[name] = getattr(p, name)
        if (p.simulated or p.valid is not None or p.exectype in (bt.Order.StopTrail, bt.Order.StopTrailLimit)
                or type(p.data).date2num is not bt.AbstractDataBase.date2num):
            return super().__init__()
        self.ref = next(self.refbasis)
        self.broker = None
        self.info = AutoOrderedDict()
        self.comminfo = None
        self.triggered = False
        self._active = self.parent is None
        self.status = bt.Order.Created
        self.plimit = p.pricelimit  # alias via property
        if self.exectype is None:
            self.exectype = bt.Order.Market
        if not self.isbuy():
            self.size = -self.size
        data = self.data
        pclose = data.close[0]
        price = pclose if not self.price and not self.pricelimit else self.price
        self.created = bt.OrderData(dt=data.datetime[0], size=self.size, price=price, pricelimit=self.pricelimit,
                                    pclose=pclose, trailamount=self.trailamount, trailpercent=self.trailpercent)
        self._limitoffset = 0.0  # not a trailing stop
        self.executed = bt.OrderData(remsize=self.size)
        self.position = 0
        self.dteos = session_end(data)  # valid is None: Order.__init__'s valid branches do nothing


class FastBuyOrder(_FastInit, bt.BuyOrder):
    """``bt.BuyOrder`` made as :class:`_FastInit` says."""


class FastSellOrder(_FastInit, bt.SellOrder):
    """``bt.SellOrder`` made as :class:`_FastInit` says."""


_ORDER_CLASSES = ((FastBuyOrder, FastSellOrder) if bt.__version__ in ORDER_INIT_VERSIONS
                  else (bt.BuyOrder, bt.SellOrder))


class _GroupLeaders(dict):
    """``BackBroker._ocos`` (order ref -> the ref of its OCO group's leader) without the entries
    of orders that lead their own group: every order made without ``oco`` is one, and BackBroker
    keeps an entry for each for the whole run (about 80 bytes an order). A ref that is not stored
    reads as its own leader, through ``[]`` and ``get`` alike, so every lookup of a registered
    order gives what BackBroker's dict gives. (An order that was never registered, i.e. not made
    by ``buy``/``sell``, also reads as its own leader, where BackBroker would raise a KeyError.)"""

    def __setitem__(self, ref, leader):
        if ref == leader:
            self.pop(ref, None)
        else:
            dict.__setitem__(self, ref, leader)

    def __missing__(self, ref):
        return ref

    def get(self, ref, default=None):
        return dict.get(self, ref, ref)


class FastBroker(bt.brokers.BackBroker):
    """``BackBroker`` whose order notifications are made by :func:`clone_order`, whose
    submitted orders hold their params as attributes, and whose OCO bookkeeping stores only
    orders that belong to another order's group (module docstring)."""

    def init(self):  # BackBroker.init (at construction and at every start) makes a plain dict
        super().init()
        self._ocos = _GroupLeaders()

    def _order(self, cls, owner, data, size, price, plimit, exectype, valid, tradeid, oco, trailamount,
               trailpercent, parent, transmit, histnotify, _checksubmit, kwargs):
        # BackBroker.buy / BackBroker.sell, with the order class as the argument
        order = cls(owner=owner, data=data, size=size, price=price, pricelimit=plimit, exectype=exectype, valid=valid,
                    tradeid=tradeid, trailamount=trailamount, trailpercent=trailpercent, parent=parent,
                    transmit=transmit, histnotify=histnotify)
        order.addinfo(**kwargs)
        self._ocoize(order, oco)
        return self.submit(order, check=_checksubmit)

    def buy(self, owner, data, size, price=None, plimit=None, exectype=None, valid=None, tradeid=0, oco=None,
            trailamount=None, trailpercent=None, parent=None, transmit=True, histnotify=False, _checksubmit=True,
            **kwargs):
        return self._order(_ORDER_CLASSES[0], owner, data, size, price, plimit, exectype, valid, tradeid, oco,
                           trailamount, trailpercent, parent, transmit, histnotify, _checksubmit, kwargs)

    def sell(self, owner, data, size, price=None, plimit=None, exectype=None, valid=None, tradeid=0, oco=None,
             trailamount=None, trailpercent=None, parent=None, transmit=True, histnotify=False, _checksubmit=True,
             **kwargs):
        return self._order(_ORDER_CLASSES[1], owner, data, size, price, plimit, exectype, valid, tradeid, oco,
                           trailamount, trailpercent, parent, transmit, histnotify, _checksubmit, kwargs)

    def submit(self, order, check=True):
        if not isinstance(order, _FastInit):  # FastBroker's own orders copied their params when made
            d, p = order.__dict__, order.p
            for name in _HOISTED:  # the same value ``order.<name>`` reads, found without the miss
                if name not in d:
                    d[name] = getattr(p, name)
        return super().submit(order, check)

    def notify(self, order):
        self.notifs.append(clone_order(order))


class CashInterestBroker(FastBroker):
    """:class:`FastBroker` whose idle cash earns interest (module docstring).

    Params:
        rate (0.0): annual rate, a fraction (0.04 = 4%), or a ``pandas.Series`` of annual rates
            indexed by date (as-of lookup; before its first date the rate is 0).
        day_count (365): days per year of the simple-interest accrual.
    """

    params = (("rate", 0.0), ("day_count", 365))

    def __init__(self):
        super().__init__()
        rate = self.p.rate
        if isinstance(rate, pd.Series):
            if not rate.index.is_monotonic_increasing or not np.isfinite(rate.to_numpy(dtype=float)).all():
                raise ConfigError("CashInterestBroker: rate series must have increasing dates and finite values")
            self._series = (pd.DatetimeIndex(rate.index).values.astype("datetime64[D]"), rate.to_numpy(dtype=float))
        elif isinstance(rate, bool) or not isinstance(rate, (int, float)) or not np.isfinite(rate) or not -1 < rate < 1:
            raise ConfigError(f"CashInterestBroker: rate must be an annual fraction in (-1, 1), got {rate!r}")
        else:
            self._series = None
        self._prev_date = None
        self.interest_paid = 0.0
        self.interest: list[dict] = []  # {date, days, rate, cash, amount}

    def rate_on(self, date) -> float:
        if self._series is None:
            return float(self.p.rate)
        dates, values = self._series
        i = int(np.searchsorted(dates, np.datetime64(date, "D"), side="right")) - 1
        return float(values[i]) if i >= 0 else 0.0

    def _credit(self) -> None:
        datas = [d for d in getattr(self, "cerebro", None).datas if len(d)] if getattr(self, "cerebro", None) else []
        if not datas:
            return
        today = max(d.datetime.date(0) for d in datas)
        prev, self._prev_date = self._prev_date, today
        if prev is None or today <= prev or self.cash <= 0:
            return
        days = (today - prev).days
        rate = self.rate_on(prev)
        amount = self.cash * rate * days / self.p.day_count
        if amount:
            self.cash += amount
            self.interest_paid += amount
            self.interest.append({"date": today, "days": days, "rate": rate, "cash": float(self.cash - amount),
                                  "amount": float(amount)})

    def next(self):
        if self.p.coc:  # close fills of the previous bar are booked in this cycle: credit after them
            super().next()
            self._credit()
            self._get_value()
        else:
            self._credit()
            super().next()
