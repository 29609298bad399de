"""Broker realism: every cost model alone and all combined, Backtrader vs the independent
reference simulator (tests/reference_costs.py) on the real paper data, at the close and at the
next open, on the intersection and the union calendar; plus the models' own formulas."""

from __future__ import annotations

import math
import warnings

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.feeds.market import load_market
from bt_lstm_mvo.strategies.broker import CashInterestBroker
from bt_lstm_mvo.strategies.commission import AssetCommission
from bt_lstm_mvo.strategies.costs import CostModel, CostTable, MarketView, corwin_schultz, plan_orders
from bt_lstm_mvo.strategies.naive import FixedWeightsStrategy
from tests.reference_costs import simulate_costs

PAPER = ["BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA"]
WEIGHTS = dict.fromkeys(PAPER, 0.2)


def _crypto(name):
    return name.endswith("-USD")


#: one model per case, by asset (the volume cap is tiny so that it binds)
CASES = {
    "percent": lambda n: {"commission": 0.001},
    "per_share_minimum": lambda n: {"commission": 0.001} if _crypto(n) else {"per_share": 0.005, "minimum": 1.0},
    "fixed_spread": lambda n: {"half_spread": 0.0005 if _crypto(n) else 0.0001},
    "high_low_spread": lambda n: {"spread": "high_low"},
    "sqrt_impact": lambda n: {"impact": 1.0},
    "volume_cap": lambda n: {"participation": 1e-5, "commission": 0.001},
    "lots": lambda n: {"lot": 0.0 if _crypto(n) else 1.0, "commission": 0.001},
    "cash_interest": lambda n: {"commission": 0.001},
    "all": lambda n: ({"commission": 0.001, "spread": "high_low", "impact": 1.0, "participation": 0.1,
                       "volume_unit": "currency"} if _crypto(n)
                      else {"per_share": 0.005, "minimum": 1.0, "spread": "high_low", "impact": 1.0,
                            "participation": 0.1, "lot": 1.0}),
}


def _setup(case):
    models = {n: CASES[case](n) for n in PAPER}
    rate = 0.04 if case in ("cash_interest", "all") else 0.0
    once = case == "volume_cap"  # buy once and carry what the cap leaves, bar after bar
    return models, rate, once, (0.05 if rate else 0.0)


def _run(market, models, execution, rate=0.0, once=False, cash_buffer=0.0, unfilled="carry"):
    cerebro = bt.Cerebro(cheat_on_open=execution == "next_open", stdstats=False)
    if rate:
        cerebro.broker = CashInterestBroker(rate=rate)
    market.add_to(cerebro)
    cerebro.broker.setcash(1_000_000.0)
    for name in PAPER:
        cerebro.broker.addcommissioninfo(AssetCommission(**models[name]), name=name)
    cerebro.addstrategy(FixedWeightsStrategy, weights=WEIGHTS, execution=execution, cash_buffer=cash_buffer,
                        schedule="never" if once else "daily", unfilled=unfilled)
    strat = cerebro.run()[0]
    return cerebro.broker.getvalue(), strat


_MARKETS: dict = {}


def _market(data_dir, calendar):
    if calendar not in _MARKETS:
        _MARKETS[calendar] = load_market(PAPER, source="csv", data_dir=data_dir, start="2019-01-02",
                                         end="2024-12-30", calendar=calendar)
    return _MARKETS[calendar]


#: every model on the intersection calendar; on the union calendar (crypto trades at weekends, the
#: stale equity rows are neither traded nor valued at a stale open) the flat model, the cap and all
_GRID = [(cal, case, ex) for cal in ("intersection", "union") for case in CASES for ex in ("close", "next_open")
         if cal == "intersection" or case in ("percent", "volume_cap", "all")]


@pytest.mark.realdata
@pytest.mark.parametrize(("calendar", "case", "execution"), _GRID)
def test_backtrader_matches_the_reference_for_each_model(data_dir, calendar, case, execution):
    market = _market(data_dir, calendar)
    models, rate, once, buffer = _setup(case)
    value, strat = _run(market, models, execution, rate, once, buffer)
    ref, paid, interest = simulate_costs(market.frames, WEIGHTS, models, execution=execution, rate=rate, once=once,
                                         cash_buffer=buffer, min_trade_value=0.01)
    rel = value / ref.iloc[-1] - 1
    print(f"{market.calendar} {case} {execution}: backtrader {value:,.2f} reference {ref.iloc[-1]:,.2f} rel {rel:.1e}")
    assert abs(rel) < 1e-6  # the bound
    bars = pd.Series([b["value"] for b in strat.bars], index=market.index)
    assert (bars / ref - 1).abs().max() < 1e-6
    assert sum(f["commission"] for f in strat.fills) == pytest.approx(paid, rel=1e-6)
    assert sum(f["fee"] + f["spread"] + f["impact"] for f in strat.fills) == pytest.approx(paid, rel=1e-9)
    assert strat.order_stats["Completed"] == sum(strat.order_stats.values()) > 0  # no Margin/Rejected
    if rate:
        assert strat.broker.interest_paid == pytest.approx(interest, rel=1e-6) and interest > 0
    if case == "volume_cap":
        assert strat.unfilled and all(u["policy"] == "carry" for u in strat.unfilled)
    if case == "lots":
        for f in strat.fills:
            if not _crypto(f["asset"]):
                assert f["size"] == round(f["size"])


@pytest.mark.realdata
def test_cancelled_remainders_are_dropped_and_recorded(data_dir):
    market = load_market(PAPER, source="csv", data_dir=data_dir, start="2019-01-02", end="2020-12-30")
    models = {n: {"participation": 1e-5, "commission": 0.001} for n in PAPER}
    value, strat = _run(market, models, "close", once=True, unfilled="cancel")
    ref, _, _ = simulate_costs(market.frames, WEIGHTS, models, once=True, carry=False, min_trade_value=0.01)
    assert value == pytest.approx(ref.iloc[-1], rel=1e-9)
    assert len({f["date"] for f in strat.fills}) == 1  # one bar of (capped) fills, nothing carried
    assert strat.unfilled and all(u["policy"] == "cancel" for u in strat.unfilled)
    short = {u["asset"] for u in strat.unfilled}
    held = strat.bars[-1]["held"]
    assert all(held[a] < 0.2 * 0.9 for a in short)  # the capped assets stayed under their target


def test_corwin_schultz_formula():
    # no range -> no spread; a spread is >= 0; the formula by hand for one pair
    assert corwin_schultz(10, 10, 10, 10) == 0.0
    h1, l1, h2, l2 = 101.0, 99.0, 101.5, 99.2
    beta = math.log(h1 / l1) ** 2 + math.log(h2 / l2) ** 2
    gamma = math.log(max(h1, h2) / min(l1, l2)) ** 2
    k = 3 - 2 * math.sqrt(2)
    alpha = (math.sqrt(2 * beta) - math.sqrt(beta)) / k - math.sqrt(gamma / k)
    expected = max(0.0, 2 * (math.exp(alpha) - 1) / (1 + math.exp(alpha)))
    assert corwin_schultz(h1, l1, h2, l2) == pytest.approx(expected, rel=1e-12)
    assert corwin_schultz(110, 90, 130, 120) == 0.0  # a trending pair: a negative estimate is set to 0


def test_fee_schedule_lots_and_cap_by_hand():
    table = CostTable([CostModel(per_share=0.005, minimum=1.0, lot=1.0), CostModel(commission=0.001, half_spread=0.001),
                       CostModel(impact=0.5, participation=0.1)])
    market = MarketView(np.array([np.nan, np.nan, np.nan]), np.array([0.0, 0.0, 0.02]),
                        np.array([0.0, 0.0, 1e6]), np.array([0.0, 0.0, 1000.0]))
    fee, spread, impact = table.breakdown(np.array([100.0, 2.0, 1e4]), np.array([50.0, 1000.0, 10.0]), market)
    assert fee.tolist() == [1.0, 2.0, 0.0]  # 100 shares * $0.005 = $0.50 -> the $1 minimum; 0.1% of $2000
    assert spread.tolist() == [0.0, 2.0, 0.0]
    assert impact[2] == pytest.approx(0.5 * 0.02 * math.sqrt(1e4 / 1e6) * 1e5)
    assert table.breakdown(np.zeros(3), np.ones(3), market)[0].tolist() == [0.0, 0.0, 0.0]  # no order, no minimum
    plan = plan_orders(np.zeros(3), np.array([50.0, 1000.0, 10.0]), 1e6, np.array([0.3, 0.3, 0.3]), table, market)
    assert plan.sizes[0] == math.floor(plan.wanted[0])  # whole shares
    assert plan.sizes[2] == 100.0 and plan.capped[2] == 100.0 < plan.wanted[2]  # 10% of 1000 units
    assert plan.cost.sum() + (plan.sizes * [50.0, 1000.0, 10.0]).sum() <= 1e6


@pytest.mark.parametrize("bad", [{"commission": -0.1}, {"commission": 1.0}, {"per_share": float("nan")},
                                 {"spread": "bid_ask"}, {"participation": 0.0}, {"window": 1}, {"lot": -1}])
def test_bad_cost_models_are_config_errors(bad):
    with pytest.raises(ConfigError, match=next(iter(bad))) as err:
        AssetCommission(**bad)
    assert "\n" not in str(err.value)


def _frame(dates, start):
    close = start + np.arange(len(dates), dtype=float)
    return pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
                         "volume": 1e6}, index=dates)


def test_plain_feeds_on_two_calendars_warn_once_and_stale_feeds_are_not_traded():
    days = pd.bdate_range("2024-01-01", periods=40)
    every = pd.date_range("2024-01-01", days[-1], freq="D")
    cerebro = bt.Cerebro(cheat_on_open=True, stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=_frame(every, 100.0)), name="COIN-USD")
    cerebro.adddata(bt.feeds.PandasData(dataname=_frame(days, 50.0)), name="STOCK")
    cerebro.broker.setcash(1e5)
    for name in ("COIN-USD", "STOCK"):
        cerebro.broker.addcommissioninfo(AssetCommission(commission=0.001), name=name)
    cerebro.addstrategy(FixedWeightsStrategy, weights={"COIN-USD": 0.5, "STOCK": 0.5}, execution="next_open")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        strat = cerebro.run()[0]
    calendar = [w for w in caught if "different calendars" in str(w.message)]
    assert len(calendar) == 1 and "STOCK" in str(calendar[0].message)
    weekend = {d.date() for d in every if d.weekday() >= 5}
    assert not [f for f in strat.fills if f["asset"] == "STOCK" and f["date"] in weekend]
    assert strat.order_stats["Completed"] == sum(strat.order_stats.values())


def test_cash_interest_rate_series_is_read_as_of_the_previous_bar():
    broker = CashInterestBroker(rate=pd.Series([0.01, 0.05], index=pd.to_datetime(["2024-01-01", "2024-06-01"])))
    assert broker.rate_on(pd.Timestamp("2023-12-31").date()) == 0.0
    assert broker.rate_on(pd.Timestamp("2024-05-31").date()) == 0.01
    assert broker.rate_on(pd.Timestamp("2024-06-01").date()) == 0.05
    with pytest.raises(ConfigError, match="rate"):
        CashInterestBroker(rate=2.0)


@pytest.mark.parametrize("text, fragments", [
    (None, ["broker.interest_csv", "is not a file"]),
    ("when,rate\n2024-01-01,0.02\n", ["needs a 'Date' column"]),
    ("Date,a,b\n2024-01-01,0.02,0.03\n", ["needs one rate column"]),
    ("Date,rate\n2024-13-01,0.02\n", ["'2024-13-01'", "row 2", "not a date"]),
    ("Date,rate\n2024-02-01,0.02\n2024-01-01,0.02\n", ["unique and increasing"]),
    ("Date,rate\n2024-01-01,4.5\n", ["rate on 2024-01-01 is '4.5'", "annual fractions"]),
    ("Date,rate\n2024-01-01,abc\n", ["rate on 2024-01-01 is 'abc'"]),
])
def test_bad_rate_files_are_one_line_errors(tmp_path, text, fragments):
    from bt_lstm_mvo.errors import DataError
    from bt_lstm_mvo.feeds.rates import load_rates

    path = tmp_path / "rates.csv"
    if text is not None:
        path.write_text(text)
    with pytest.raises(DataError) as err:
        load_rates(path)
    msg = str(err.value)
    assert "\n" not in msg and all(f in msg for f in fragments), msg


def test_the_runner_credits_a_rate_series_and_uses_it(tmp_path):
    """broker.interest_csv: the runner's interest equals the broker's own records, rate by rate."""
    import json

    import yaml

    import runner

    rates = tmp_path / "rates.csv"
    rates.write_text("Date,rate\n2019-01-01,0.02\n2020-06-01,0.05\n")
    cfg = {"name": "interest", "data": {"source": "synthetic", "tickers": ["BTC-USD", "SPY"], "start": "2019-01-01",
                                        "end": "2020-12-31"},
           "split": {"test_start": "2020-01-02"}, "broker": {"interest_csv": str(rates), "cash_buffer": 0.5},
           "strategies": {"ew": {"kind": "equal_weight"}}, "buy_and_hold_benchmarks": False,
           "output": {"plots": False}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert runner.main([str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    run = res["strategies"]["ew"]["runs"][0]
    # half the money sits in cash: about 2% a year on it until June 2020, 5% after
    assert 0.5 * 1e6 * (0.02 * 5 / 12 + 0.05 * 7 / 12) * 0.8 < run["costs"]["interest"] < 0.5 * 1e6 * 0.05
    md = (tmp_path / "out" / "report.md").read_text()
    assert "Execution costs" in md and "idle cash earning the rates of" in md
    bad = dict(cfg, broker={"interest_csv": str(tmp_path / "none.csv")})
    path.write_text(yaml.safe_dump(bad))
    assert runner.main([str(path), "--out", str(tmp_path / "out2"), "--quiet"]) == 2
    assert not (tmp_path / "out2").exists()


def test_the_runner_records_capped_orders_per_order(tmp_path):
    """A volume cap through the config: each cut order is in unfilled_<run>.csv and counted in the
    report's Execution costs table, and every fill's cost split is in fills_<run>.csv."""
    import json

    import yaml

    import runner

    cfg = {"name": "capped", "data": {"source": "synthetic", "tickers": ["BTC-USD", "SPY"], "start": "2019-01-01",
                                      "end": "2020-06-30"},
           "split": {"test_start": "2020-01-02"},
           "broker": {"costs": {"preset": "realistic", "equity": {"participation": 1e-6}, "unfilled": "cancel"}},
           "strategies": {"ew": {"kind": "equal_weight", "schedule": "monthly"}}, "buy_and_hold_benchmarks": False,
           "output": {"plots": False}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    assert runner.main([str(path), "--out", str(out), "--quiet"]) == 0
    unfilled = pd.read_csv(out / "unfilled_ew.csv")
    assert len(unfilled) > 0 and set(unfilled["asset"]) == {"SPY"} and set(unfilled["policy"]) == {"cancel"}
    assert (unfilled["wanted"].abs() > unfilled["filled"].abs()).all()
    fills = pd.read_csv(out / "fills_ew.csv")
    assert np.allclose(fills["fee"] + fills["spread"] + fills["impact"], fills["commission"], rtol=1e-9)
    res = json.loads((out / "results.json").read_text())
    costs = res["strategies"]["ew"]["runs"][0]["costs"]
    assert costs["capped_orders"] == costs["cancelled"] == len(unfilled[unfilled["date"] >= "2020-01-02"])
    md = (out / "report.md").read_text()
    assert f"{costs['capped_orders']} (0 carried, {costs['cancelled']} cancelled)" in md
    held_cash = 1 - sum(res["strategies"]["ew"]["runs"][0]["final_held"].values())
    assert held_cash > 0.01 and f"| Cash | 0.00% / {100 * held_cash:.2f}% |" in md and "Held cash includes" in md


@pytest.mark.realdata
def test_one_scheme_for_every_feed_prices_each_with_its_own_market(data_dir):
    """A single AssetCommission as the broker's default (no name) with High/Low spread, impact and
    a cap: the same run as one scheme per feed (each fill priced with its own asset's estimates)."""
    market = load_market(PAPER, source="csv", data_dir=data_dir, start="2019-01-02", end="2021-12-30")
    model = {"commission": 0.001, "spread": "high_low", "impact": 1.0, "participation": 0.1}
    per_feed, strat = _run(market, {n: model for n in PAPER}, "close")
    cerebro = bt.Cerebro(stdstats=False)
    market.add_to(cerebro)
    cerebro.broker.setcash(1_000_000.0)
    cerebro.broker.addcommissioninfo(AssetCommission(**model))
    cerebro.addstrategy(FixedWeightsStrategy, weights=WEIGHTS)
    shared = cerebro.run()[0]
    assert cerebro.broker.getvalue() == per_feed
    assert [f["commission"] for f in shared.fills] == [f["commission"] for f in strat.fills]


def test_holdings_cash_includes_the_interest_credited():
    """Holdings rebuilds cash from the fills; with CashInterestBroker the credits are cash flows too,
    so the last row sums to the broker's final value and its cash to the broker's cash."""
    from bt_lstm_mvo.analyzers import Holdings
    from bt_lstm_mvo.feeds.market import load_market as load

    market = load(["BTC-USD", "SPY"], source="synthetic", start="2020-01-01", end="2020-12-31")
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker = CashInterestBroker(rate=0.05)
    market.add_to(cerebro)
    cerebro.broker.setcash(1e6)
    cerebro.broker.addcommissioninfo(AssetCommission(commission=0.001))
    cerebro.addstrategy(FixedWeightsStrategy, weights={"BTC-USD": 0.3, "SPY": 0.3})
    cerebro.addanalyzer(Holdings, _name="holdings")
    strat = cerebro.run()[0]
    pos = strat.analyzers.holdings.positions()
    assert strat.broker.interest_paid > 1e4
    assert pos["cash"].iloc[-1] == pytest.approx(strat.broker.getcash(), rel=1e-12)
    assert pos.iloc[-1].sum() == pytest.approx(strat.broker.getvalue(), rel=1e-12)
