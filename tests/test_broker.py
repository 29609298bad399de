"""FastBroker: Backtrader's BackBroker with hand-made order snapshots; every notification, fill and
value the same as BackBroker's, on the real paper data, for every order type and status."""

from __future__ import annotations

import copy
import datetime

import backtrader as bt
import pandas as pd
import pytest

from bt_lstm_mvo.allocators.naive import EqualWeight
from bt_lstm_mvo.experiment.config import BrokerConfig
from bt_lstm_mvo.experiment.run import set_broker
from bt_lstm_mvo.feeds.market import load_market
from bt_lstm_mvo.strategies import broker as broker_module
from bt_lstm_mvo.strategies.base import AllocationStrategy
from bt_lstm_mvo.strategies.broker import CashInterestBroker, FastBroker, clone_order
from bt_lstm_mvo.strategies.commission import ProportionalCommission

PAPER = ["BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA"]


def _snapshot(order) -> tuple:
    ex = order.executed
    return (order.ref, order.ordtypename(), order.getstatusname(), order.exectype, order.size, order.created.price,
            ex.size, ex.price, ex.value, ex.comm, ex.pnl, ex.remsize, ex.p1, ex.p2,  # exbits: shared, by design
            [(b.size, b.price, b.comm) for b in order.executed.iterpending()], order.alive())


class EveryOrderKind(bt.Strategy):
    """Market, limit, stop, stop-limit, valid-until, cancelled and unaffordable orders; records a
    snapshot of every notification when it arrives and again at the end (a snapshot must not change)."""

    def __init__(self):
        self.seen, self.kept = [], []

    def next(self):
        i = len(self)
        d, close = self.datas[i % len(self.datas)], self.datas[i % len(self.datas)].close[0]
        step = i % 7
        if step == 0:
            self.buy(data=d, size=3)
        elif step == 1:
            self.buy(data=d, size=2, exectype=bt.Order.Limit, price=close * 0.98, valid=self.datas[0].datetime[0] + 3)
        elif step == 2:
            self.sell(data=d, size=1, exectype=bt.Order.Stop, price=close * 0.97)
        elif step == 3:
            self.buy(data=d, size=1, exectype=bt.Order.StopLimit, price=close * 1.01, plimit=close * 1.02)
        elif step == 4:
            self.deep = self.buy(data=d, size=1, exectype=bt.Order.Limit, price=close * 0.5)
        elif step == 5:
            self.cancel(self.deep)  # accepted last bar, not filled: Canceled
            self.buy(data=d, size=1e9)  # more than the cash: Margin
        else:
            self.sell(data=d, size=2)

    def notify_order(self, order):
        self.seen.append(_snapshot(order))
        self.kept.append(order)


def _cerebro(market, broker, strategy, coc=False, **kw):
    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=False)
    if broker is not None:
        cerebro.broker = broker
    market.add_to(cerebro)
    cerebro.broker.setcash(1_000_000.0)
    cerebro.broker.set_coc(coc)
    cerebro.broker.addcommissioninfo(ProportionalCommission(commission=0.001))
    cerebro.addstrategy(strategy, **kw)
    return cerebro


@pytest.fixture(scope="module")
def market(data_dir):
    return load_market(PAPER, source="csv", data_dir=data_dir, start="2021-01-01", end="2022-12-31")


@pytest.mark.parametrize("coc", [False, True])
def test_every_notification_is_backbrokers(market, coc):
    runs = {}
    for name, broker in (("back", None), ("fast", FastBroker())):
        cerebro = _cerebro(market, broker, EveryOrderKind, coc=coc)
        strat = cerebro.run()[0]
        first = strat.seen[0][0]  # order refs count on across runs: number them from this run's first
        seen = [(s[0] - first, *s[1:]) for s in strat.seen]
        kept = [(s[0] - first, *s[1:]) for s in map(_snapshot, strat.kept)]
        runs[name] = (seen, kept, cerebro.broker.getvalue(), cerebro.broker.getcash())
    back, fast = runs["back"], runs["fast"]
    statuses = {s[2] for s in back[0]}
    assert {"Submitted", "Accepted", "Completed", "Canceled", "Margin", "Expired"} <= statuses, statuses
    assert fast == back  # as they arrived, at the end, value and cash: the same
    assert back[0] == back[1]  # snapshots: a notification does not change when its order moves on


class MadeOrders(bt.Strategy):
    """Orders of every kind FastBroker makes itself or hands to Backtrader's ``Order.__init__``
    (trailing stops, ``valid`` as a number, a date, a timedelta or ``DAY``, brackets with parents);
    keeps each as returned, and a copy of its state right after it was made."""

    def __init__(self):
        self.made = []

    def next(self):
        i = len(self)
        d = self.datas[i % len(self.datas)]
        close, now = d.close[0], d.datetime[0]
        step = i % 11
        if step == 0:
            orders = [self.buy(data=d, size=3), self.sell(data=d, size=2)]
        elif step == 1:
            orders = [self.buy(data=d, size=2, exectype=bt.Order.Limit, price=close * 0.98),
                      self.sell(data=d, size=1, exectype=bt.Order.Stop, price=close * 0.97, tradeid=2)]
        elif step == 2:
            orders = [self.buy(data=d, size=1, exectype=bt.Order.StopLimit, price=close * 1.01, plimit=close * 1.02),
                      self.sell(data=d, size=1, exectype=bt.Order.Close)]
        elif step == 3:
            orders = [self.sell(data=d, size=1, exectype=bt.Order.StopTrail, trailamount=close * 0.02),
                      self.buy(data=d, size=1, exectype=bt.Order.StopTrailLimit, price=close, plimit=close * 1.01,
                               trailpercent=0.02)]
        elif step == 4:
            orders = [self.buy(data=d, size=1, exectype=bt.Order.Limit, price=close * 0.9, valid=now + 2),
                      self.buy(data=d, size=1, exectype=bt.Order.Limit, price=close * 0.9, valid=bt.Order.DAY),
                      self.sell(data=d, size=1, exectype=bt.Order.Limit, price=close * 1.1,
                                valid=d.datetime.date(0) + datetime.timedelta(days=3)),
                      self.sell(data=d, size=1, exectype=bt.Order.Limit, price=close * 1.1,
                                valid=datetime.timedelta(days=2))]
        elif step == 5:
            orders = list(self.buy_bracket(data=d, size=1, price=close, stopprice=close * 0.95,
                                           limitprice=close * 1.05))
        elif step == 6:
            orders = [self.buy(data=d, size=0.5, price=close * 1.001, note="info kept")]
        else:
            orders = [self.order_target_percent(data=d, target=0.02 * step)]
        for order in orders:
            if order is not None:
                self.made.append((order, _state(order)))


_OBJECTS = ("broker", "owner", "data", "parent", "comminfo", "oco")  # objects of each run: compared by kind


def _state(order) -> dict:
    """An order's attributes, its params' values and its created/executed data, as plain values."""
    names = set(vars(order)) | set(broker_module._HOISTED) | set(order.p._getkeys())
    out = {name: getattr(order, name) for name in names - {"created", "executed", "info", "p", "params"}}
    out["info"] = dict(order.info)
    out["params"] = {k: getattr(order.p, k) for k in order.p._getkeys() if k not in _OBJECTS}
    for part in ("created", "executed"):
        data = vars(getattr(order, part))
        out[part] = {k: ([vars(bit) for bit in v] if k == "exbits" else v) for k, v in data.items()}
    return out


@pytest.mark.parametrize("coc", [False, True])
def test_orders_are_made_as_backbroker_makes_them(market, coc):
    """Every attribute, param and created/executed field of every order FastBroker makes (of every kind)
    equals BackBroker's, right after it is made and at the end of the run; FastBroker makes its
    own order classes, which are Backtrader's BuyOrder and SellOrder."""
    runs = {}
    for name, broker in (("back", None), ("fast", FastBroker())):
        cerebro = _cerebro(market, broker, MadeOrders, coc=coc)
        strat = cerebro.run()[0]
        first = strat.made[0][0].ref
        runs[name] = [(o.ref - first, type(o), {**made, "ref": made["ref"] - first},
                       {**_state(o), "ref": o.ref - first}) for o, made in strat.made]
    back, fast = runs["back"], runs["fast"]
    assert len(back) == len(fast) > 400
    for (ref_b, cls_b, made_b, end_b), (ref_f, cls_f, made_f, end_f) in zip(back, fast):
        assert ref_f == ref_b and issubclass(cls_f, cls_b)
        for key in set(made_b) | set(made_f):
            if key in _OBJECTS:
                assert isinstance(made_f[key], type(made_b[key])), key
            else:
                assert made_f[key] == made_b[key], (key, made_f[key], made_b[key])
        assert {k: v for k, v in end_f.items() if k not in _OBJECTS} == {
            k: v for k, v in end_b.items() if k not in _OBJECTS}
    made_by_us = [cls for _, cls, _, _ in fast]
    assert broker_module.FastBuyOrder in made_by_us and broker_module.FastSellOrder in made_by_us
    kinds = {(made["exectype"], made["valid"] is None) for _, _, made, _ in back}
    assert len(kinds) >= 8  # market, close, limit, stop, stop-limit, trailing (2), with and without valid


def test_the_copied_order_init_is_for_this_backtrader():
    """FastBroker's order classes copy ``Order.__init__`` of the Backtrader versions it names; on
    another version it makes Backtrader's own classes. A new Backtrader fails here until the copy
    is checked against it and its version added."""
    assert bt.__version__ in broker_module.ORDER_INIT_VERSIONS
    assert (broker_module.FastBuyOrder, broker_module.FastSellOrder) == broker_module._ORDER_CLASSES


def test_session_end_is_order_inits_for_any_time_zone_and_session():
    frame = pd.DataFrame({"close": [1.0, 2.0, 3.0]},
                         index=pd.to_datetime(["2024-01-02 09:30", "2024-01-02 17:45", "2024-01-03 00:00"]))
    class Probe(bt.Strategy):
        def __init__(self):
            self.got = []

        def next(self):
            backtrader_made = bt.BuyOrder(owner=self, data=self.data, size=1)
            self.got.append((broker_module.session_end(self.data), backtrader_made.dteos))

    seen = set()
    for kw in ({}, {"sessionend": datetime.time(16, 0)}, {"tz": "US/Eastern"},
               {"tz": "Asia/Tokyo", "sessionend": datetime.time(15, 0)}):
        cerebro = bt.Cerebro(stdstats=False)
        cerebro.adddata(bt.feeds.PandasData(dataname=frame, **kw))
        cerebro.addstrategy(Probe)
        got = cerebro.run()[0].got
        assert len(got) == 3 and all(ours == theirs for ours, theirs in got), (kw, got)
        seen.update(theirs for _, theirs in got)
    assert len(seen) >= 5  # session ends on several days and times: the cache key tells them apart


class OcoGroups(bt.Strategy):
    """A market order every bar; every 4th bar a group of two (a limit below and a stop above the
    close, ``oco``: whichever fills first cancels the other, or both expire); every 9th bar a limit
    whose ``oco`` is a market order that finished long ago (its group is gone)."""

    def __init__(self):
        self.seen, self.first_market = [], None

    def next(self):
        i = len(self)
        d = self.datas[i % len(self.datas)]
        close, now = d.close[0], self.datas[0].datetime[0]
        market = self.buy(data=d, size=0.01)
        self.first_market = self.first_market or market
        if i % 4 == 0:
            low = self.buy(data=d, size=0.01, exectype=bt.Order.Limit, price=close * 0.99, valid=now + 5)
            self.buy(data=d, size=0.01, exectype=bt.Order.Stop, price=close * 1.01, valid=now + 5, oco=low)
        if i % 9 == 0 and i > 20:
            self.buy(data=d, size=0.01, exectype=bt.Order.Limit, price=close * 0.995, valid=now + 3,
                     oco=self.first_market)

    def notify_order(self, order):
        self.seen.append(_snapshot(order))


def test_oco_groups_are_backbrokers_and_self_led_orders_are_not_stored(market):
    """FastBroker's ``_ocos`` stores no order that leads its own group: the same notifications as
    BackBroker's with OCO groups (cancelled by a sibling's fill, expired) and with an order grouped
    with a long-finished one; the same group members; none of the entries BackBroker keeps for every
    order made without ``oco``."""
    runs, groups, kept = {}, {}, {}
    for name, broker in (("back", None), ("fast", FastBroker())):
        cerebro = _cerebro(market, broker, OcoGroups)
        strat = cerebro.run()[0]
        first, b = strat.seen[0][0], cerebro.broker
        runs[name] = ([(s[0] - first, *s[1:]) for s in strat.seen], b.getvalue(), b.getcash())
        live = {o.ref for o in b.orders if o.alive()}
        groups[name] = {k - first: v - first for k, v in b._ocos.items() if v != k}  # members of a group
        kept[name] = (len(b._ocos), {k for k, v in b._ocos.items() if v == k} - live)  # self-led, finished
    assert runs["fast"] == runs["back"]
    statuses = [s[2] for s in runs["back"][0]]
    assert statuses.count("Canceled") > 50 and "Expired" in statuses and statuses.count("Completed") > 500
    assert groups["fast"] == groups["back"] and len(groups["back"]) > 100  # group members are kept
    assert len(kept["back"][1]) > 500 and kept["fast"][1] == set()  # BackBroker keeps every finished order
    assert kept["fast"][0] < kept["back"][0] / 3


def test_the_strategy_gives_the_same_results_on_both(market):
    out = {}
    for name, broker in (("back", None), ("fast", FastBroker()), ("interest", CashInterestBroker(rate=0.0))):
        cerebro = _cerebro(market, broker, AllocationStrategy, allocator=EqualWeight())
        strat = cerebro.run()[0]
        out[name] = (list(strat.bars), list(strat.fills), dict(strat.order_stats), cerebro.broker.getvalue())
    assert out["fast"] == out["back"] == out["interest"]
    assert out["back"][2]["Completed"] > 1000


def test_clone_order_copies_what_order_clone_copies(market):
    strat = _cerebro(market, FastBroker(), EveryOrderKind).run()[0]
    for order in strat.kept[:50]:
        a, b = copy.copy(order), copy.copy(order)  # two identical originals, cloned each way
        a.executed, b.executed = copy.copy(order.executed), copy.copy(order.executed)
        x, y = a.clone(), clone_order(b)
        assert type(x) is type(y) and type(x.executed) is type(y.executed)
        assert x.executed is not b.executed and y.executed is not b.executed
        assert {k: v for k, v in vars(x).items() if k != "executed"} == {
            k: v for k, v in vars(y).items() if k != "executed"}
        assert vars(x.executed) == vars(y.executed) and (a.executed.p1, a.executed.p2) == (b.executed.p1,
                                                                                         b.executed.p2)


def test_an_order_class_with_its_own_clone_keeps_it():
    class Tagged(bt.BuyOrder):
        def clone(self):
            obj = super().clone()
            obj.tag = "own clone"
            return obj

    class Slotted(bt.OrderData):
        __slots__ = ()

    data = bt.feeds.PandasData(dataname=pd.DataFrame({"close": [1.0]}, index=pd.to_datetime(["2024-01-02"])))
    order = Tagged(owner=None, data=data, size=1, simulated=True)
    assert clone_order(order).tag == "own clone"
    plain = bt.BuyOrder(owner=None, data=data, size=1, simulated=True)
    plain.executed.__class__ = type("Other", (bt.OrderData,), {"clone": lambda self: "data's own"})
    assert clone_order(plain) is not None and clone_order(plain).executed == "data's own"
    assert broker_module._plain(Slotted, bt.OrderData.clone) is False


def test_the_runner_trades_on_a_fast_broker(market):
    cerebro = bt.Cerebro()
    set_broker(cerebro, BrokerConfig(), PAPER)
    assert type(cerebro.broker) is FastBroker
    cerebro = bt.Cerebro()
    set_broker(cerebro, BrokerConfig(interest_rate=0.02), PAPER)
    assert type(cerebro.broker) is CashInterestBroker
