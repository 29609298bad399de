"""Feeds: CSV reading, adjustment, validation messages, calendars, Backtrader conversion."""

from __future__ import annotations

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from bt_lstm_mvo.errors import ConfigError, DataError
from bt_lstm_mvo.feeds.calendar import align, filter_dates
from bt_lstm_mvo.feeds.csv_source import read_yahoo_csv, write_yahoo_csv
from bt_lstm_mvo.feeds.market import load_market
from bt_lstm_mvo.periods import periods_per_year_from_index

PAPER = ["BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA"]


def _frame(dates, close=100.0, step=1.0):
    idx = pd.DatetimeIndex(pd.to_datetime(dates), name="Date")
    c = close + step * np.arange(len(idx))
    return pd.DataFrame({"Open": c, "High": c * 1.01, "Low": c * 0.99, "Close": c,
                         "Adj Close": c / 2, "Volume": 1000.0}, index=idx)


def _write(tmp_path, name, df):
    path = tmp_path / f"{name}.csv"
    write_yahoo_csv(df, path)
    return path


def _csv_text(tmp_path, name, text):
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    return path


HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"


class TestRead:
    def test_adjusted_by_default_scales_ohlc(self, tmp_path):
        df = _frame(pd.bdate_range("2020-01-01", periods=5))
        out = read_yahoo_csv(_write(tmp_path, "AAA", df))
        assert np.allclose(out["Close"], df["Adj Close"])
        assert np.allclose(out["Open"], df["Open"] / 2)
        assert np.allclose(out["High"], df["High"] / 2)
        raw = read_yahoo_csv(tmp_path / "AAA.csv", adjust=False)
        assert np.allclose(raw["Close"], df["Close"])

    def test_auto_adjusted_export_without_adj_close(self, tmp_path):
        path = _csv_text(tmp_path, "AAA", "Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n")
        out = read_yahoo_csv(path)
        assert out["Close"].iloc[0] == 1.5

    def test_real_file_is_adjusted(self, data_dir):
        out = read_yahoo_csv(data_dir / "SPY.csv")
        raw = pd.read_csv(data_dir / "SPY.csv", index_col="Date", parse_dates=True)
        assert np.allclose(out["Close"], raw["Adj Close"])
        assert out.index.tz is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Date,Open,High,Low,Price,Volume\n2020-01-02,1,2,0.5,1.5,10\n", "missing column 'Close'"),
        ("Date,Open,High,Low,close,Volume\n2020-01-02,1,2,0.5,1.5,10\n", "found 'close'"),
        (HEADER + "2020-01-02,1,2,0.5,1.5,1.5,10\nnot-a-date,1,2,0.5,1.5,1.5,10\n",
         "1 unparsable dates (first 'not-a-date' at row 2)"),
        (HEADER + "2020-01-02,1,2,0.5,1.5,1.5,10\n2020-01-02,1,2,0.5,1.5,1.5,10\n",
         "1 duplicate dates (first on 2020-01-02)"),
        (HEADER + "2020-01-03,1,2,0.5,1.5,1.5,10\n2020-01-02,1,2,0.5,1.5,1.5,10\n", "is not sorted"),
        (HEADER + "2020-01-02,1,2,0.5,1.5,1.5,10\n2020-01-03,1,2,0.5,,1.5,10\n",
         "column 'Close' has 1 missing or non-numeric prices (first on 2020-01-03)"),
        (HEADER + "2020-01-02,1,2,0.5,0,1.5,10\n2020-01-03,1,2,0.5,-3,1.5,10\n",
         "column 'Close' has 2 non-positive prices (first on 2020-01-02); prices must be > 0"),
        (HEADER + "2020-01-02,1,0.4,0.5,0.45,0.45,10\n", "1 rows have High < Low (first on 2020-01-02"),
        (HEADER + "2020-01-02,1,2,0.5,1.5,1.5,-1\n", "column 'Volume' has 1 missing or negative"),
        (HEADER, "no rows"),
    ],
)
def test_bad_csv_gets_clear_error(tmp_path, text, expected):
    path = _csv_text(tmp_path, "BAD", text)
    with pytest.raises(DataError) as err:
        read_yahoo_csv(path)
    assert "BAD.csv" in str(err.value)
    assert expected in str(err.value)


def test_missing_file_and_ticker(tmp_path):
    _write(tmp_path, "AAA", _frame(pd.bdate_range("2020-01-01", periods=5)))
    with pytest.raises(DataError, match=r"ticker 'ZZZ': file .*ZZZ.csv not found; available tickers .*'AAA'"):
        load_market(["AAA", "ZZZ"], source="csv", data_dir=tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_market(["AAA"], source="csv", data_dir=tmp_path / "nope")
    with pytest.raises(ConfigError, match="data.source"):
        load_market(["AAA"], source="bloomberg", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="listed more than once"):
        load_market(["AAA", "AAA"], source="csv", data_dir=tmp_path)


def test_date_filter_errors(tmp_path):
    frames = {"AAA": _frame(pd.bdate_range("2020-01-01", periods=5))}
    with pytest.raises(DataError, match=r"AAA: no rows between 2021-01-01 and 2021-02-01 \(its data covers"):
        filter_dates(frames, "2021-01-01", "2021-02-01")
    with pytest.raises(ConfigError, match="end 2020-01-01 is before start 2020-02-01"):
        filter_dates(frames, "2020-02-01", "2020-01-01")
    out = filter_dates(frames, "2020-01-02", "2020-01-03")
    assert list(out["AAA"].index.strftime("%Y-%m-%d")) == ["2020-01-02", "2020-01-03"]


def test_no_shared_dates():
    a = _frame(pd.bdate_range("2020-01-01", periods=3))
    b = _frame(pd.bdate_range("2021-01-01", periods=3))
    with pytest.raises(DataError, match="no dates shared by all tickers"):
        align({"A": a, "B": b}, "intersection")
    with pytest.raises(ConfigError, match="calendar"):
        align({"A": a}, "weekdays")


def test_union_calendar_marks_stale_rows():
    crypto = _frame(pd.date_range("2020-01-01", "2020-01-14"), close=10)  # 7 days a week
    equity = _frame(pd.bdate_range("2020-01-01", "2020-01-14"), close=100)
    out = align({"C": crypto, "E": equity}, "union")
    assert len(out["C"]) == 14 and out["C"]["Tradable"].all()
    e = out["E"]
    weekend = e.index.day_of_week >= 5
    assert (~e["Tradable"][weekend]).all() and e["Tradable"][~weekend].all()
    sat = e.loc["2020-01-04"]
    fri = equity.loc["2020-01-03"]
    assert sat["Close"] == fri["Close"] == sat["Open"] == sat["High"] == sat["Low"] and sat["Volume"] == 0
    inter = align({"C": crypto, "E": equity}, "intersection")
    assert len(inter["C"]) == len(equity)


@pytest.mark.realdata
def test_paper_universe_intersection_has_1509_rows(data_dir):
    m = load_market(PAPER, source="csv", data_dir=data_dir, start="2019-01-01", end="2024-12-30")
    assert len(m.index) == 1509
    assert m.index[0] == pd.Timestamp("2019-01-02") and m.index[-1] == pd.Timestamp("2024-12-30")
    assert 250 < periods_per_year_from_index(m.index) < 254
    assert set(m.fingerprint["sha256"]) == set(PAPER)
    u = load_market(PAPER, source="csv", data_dir=data_dir, start="2019-01-01", end="2024-12-30",
                    calendar="union")
    assert 364 < periods_per_year_from_index(u.index) < 366


def test_bt_feeds_named_by_ticker(tmp_path):
    for t in ("AAA", "BBB"):
        _write(tmp_path, t, _frame(pd.bdate_range("2020-01-01", periods=10)))
    m = load_market(["AAA", "BBB"], source="csv", data_dir=tmp_path)
    cerebro = bt.Cerebro()
    m.add_to(cerebro)
    seen = []

    class Probe(bt.Strategy):
        def next(self):
            seen.append((self.datas[0]._name, self.datas[1]._name, self.datas[0].close[0],
                         self.datas[0].tradable[0]))

    cerebro.addstrategy(Probe)
    cerebro.run()
    assert len(seen) == 10
    assert seen[0][:2] == ("AAA", "BBB")
    assert seen[0][2] == pytest.approx(50.0) and seen[0][3] == 1.0  # adjusted close = Close / 2
