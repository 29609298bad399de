"""Own data: CSVs with other headers (data.columns), parquet files, and DataFrames handed to the
API, all through the same checks and giving the same prices as the Yahoo CSV."""

from __future__ import annotations

import pandas as pd
import pytest

import bt_lstm_mvo
from bt_lstm_mvo.errors import ConfigError, DataError, PluginError
from bt_lstm_mvo.feeds.csv_source import read_yahoo_csv
from bt_lstm_mvo.feeds.market import load_market

TICKERS = ["BTC-USD", "SPY", "GLD"]
MAPPING = {"Date": "timestamp", "Open": "o", "High": "h", "Low": "l", "Close": "c", "Adj Close": "adj",
           "Volume": "vol"}


def _raw(data_dir, ticker) -> pd.DataFrame:
    return pd.read_csv(data_dir / f"{ticker}.csv", dtype={"Date": str})


@pytest.mark.realdata
def test_renamed_csv_columns_give_the_same_prices(data_dir, tmp_path):
    raw = _raw(data_dir, "SPY").rename(columns=MAPPING)
    raw.to_csv(tmp_path / "SPY.csv", index=False)
    ours = read_yahoo_csv(tmp_path / "SPY.csv", columns=MAPPING)
    pd.testing.assert_frame_equal(ours, read_yahoo_csv(data_dir / "SPY.csv"))
    with pytest.raises(DataError, match="missing column 'Date'"):
        read_yahoo_csv(tmp_path / "SPY.csv")


@pytest.mark.realdata
def test_parquet_files_give_the_same_market(data_dir, tmp_path):
    for t in TICKERS:
        _raw(data_dir, t).to_parquet(tmp_path / f"{t}.parquet", index=False)
    a = load_market(TICKERS, source="csv", data_dir=tmp_path, file_format="parquet", start="2020-01-01",
                    end="2021-12-31")
    b = load_market(TICKERS, source="csv", data_dir=data_dir, start="2020-01-01", end="2021-12-31")
    for t in TICKERS:
        pd.testing.assert_frame_equal(a.frames[t], b.frames[t])


@pytest.mark.realdata
def test_dataframes_through_the_api_give_the_same_results(data_dir):
    cfg = {"name": "own", "data": {"source": "frames", "tickers": TICKERS, "start": "2020-01-01",
                                   "end": "2021-12-31"},
           "split": {"test_start": "2021-01-04"}, "strategies": {"mvo": {"kind": "mvo"}},
           "buy_and_hold_benchmarks": False}
    frames = {t: _raw(data_dir, t).set_index("Date") for t in TICKERS}
    ours = bt_lstm_mvo.run(cfg, frames=frames)
    csv = bt_lstm_mvo.run({**cfg, "data": {**cfg["data"], "source": "csv", "data_dir": str(data_dir)}})
    pd.testing.assert_frame_equal(ours.metrics, csv.metrics)


BAD = [
    ({"columns": {"Closing": "c"}}, ConfigError, "data.columns: 'Closing' is not a Yahoo column"),
    ({"columns": {"Close": "zzz"}}, DataError, "maps to 'zzz', which is not in the header"),
    ({"frames": {"SPY": "not a frame"}}, DataError, "frames['SPY']: expected a pandas DataFrame"),
    ({"frames": {}}, ConfigError, "'frames' needs the DataFrames"),
    ({"frames": {"GLD": None}}, ConfigError, "no DataFrame given for ['SPY']"),
    ({"frames": "bad"}, ConfigError, "'frames' needs the DataFrames"),
    ({"frames": {"SPY": pd.DataFrame({"Close": [1.0]})}}, DataError, "frames['SPY']: missing column 'Open'"),
    ({"frames": {"SPY": pd.DataFrame({"Open": [1.0], "High": [1.0], "Low": [1.0], "Close": [1.0], "Volume": [1.0]},
                                     index=pd.MultiIndex.from_tuples([("2020-01-02", "x")]))}},
     DataError, "frames['SPY']: the index has 2 levels"),
]


@pytest.mark.parametrize("kwargs, error, fragment", BAD)
def test_bad_own_data(tmp_path, kwargs, error, fragment):
    (tmp_path / "SPY.csv").write_text("Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,1,1,1,1,1,1\n")
    if "frames" in kwargs:
        call = {"source": "frames", **kwargs}
    else:
        call = {"source": "csv", "data_dir": tmp_path, **kwargs}
    with pytest.raises(error) as err:
        load_market(["SPY"], **call)
    assert isinstance(err.value, PluginError) and fragment in str(err.value) and "\n" not in str(err.value)


def test_frames_source_from_the_command_line_is_a_clear_error(tmp_path, capsys):
    import yaml

    import runner

    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump({"data": {"source": "frames", "tickers": ["SPY"]},
                                    "strategies": {"ew": {"kind": "equal_weight"}}}))
    assert runner.main([str(path), "--quiet", "--out", str(tmp_path / "out")]) == 2
    assert "'frames' needs the DataFrames" in capsys.readouterr().err
