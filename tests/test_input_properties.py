"""Property-based tests (hypothesis) of the CSV reader and the config loader: for any input, a
clean one-line PluginError or a valid result; never another exception."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bt_lstm_mvo.errors import PluginError
from bt_lstm_mvo.experiment.config import ExperimentConfig, load_config, parse_config
from bt_lstm_mvo.feeds.csv_source import read_yahoo_csv

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

COLUMNS = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]
cells = st.one_of(
    st.sampled_from(["", "nan", "inf", "-inf", "0", "-1", "1e308", "abc", "1,5", '"x"', "2020-01-02",
                     "2020-13-40", "2020-01-02 00:00:00-05:00", "2020-01-02T00:00:00+09:00"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10, 10**6).map(str),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
)


def _valid_row(draw, day: int) -> list[str]:
    low = draw(st.floats(0.5, 100.0))
    high = low * draw(st.floats(1.0, 1.2))
    close = draw(st.floats(low, high))
    open_ = draw(st.floats(low, high))
    date = (pd.Timestamp("2020-01-01") + pd.Timedelta(days=day)).strftime("%Y-%m-%d")
    return [date, repr(open_), repr(high), repr(low), repr(close), repr(close), str(draw(st.integers(0, 10**6)))]


@st.composite
def csv_texts(draw) -> str:
    header = list(COLUMNS)
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    if draw(st.integers(0, 5)) == 0:
        header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(["close", "Close", "", "Date", "X"]))
    rows = []
    for day in range(draw(st.integers(0, 12))):
        row = _valid_row(draw, day)
        if draw(st.integers(0, 3)) == 0:  # damage some cells
            row[draw(st.integers(0, len(row) - 1))] = draw(cells)
        if draw(st.integers(0, 8)) == 0:
            row = row[: draw(st.integers(0, len(row)))]
        rows.append(dict(zip(COLUMNS, row)))
    lines = [",".join(header)] + [",".join(r.get(c, "") for c in header) for r in rows]
    return "\n".join(lines) + ("\n" if draw(st.booleans()) else "")


@SETTINGS
@given(csv_texts())
def test_csv_reader_is_clean_error_or_valid_frame(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("csv") / "AAA.csv"
    path.write_text(text)
    try:
        frame = read_yahoo_csv(path)
    except PluginError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("AAA.csv")
        return
    assert list(frame.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert frame.index.is_monotonic_increasing and not frame.index.has_duplicates
    values = frame[["Open", "High", "Low", "Close"]].to_numpy()
    assert np.isfinite(values).all() and (values > 0).all()
    assert (frame["High"] >= frame["Low"]).all() and (frame["Volume"] >= 0).all()


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12), st.dates().map(str))
KEYS = ["name", "data", "split", "broker", "strategies", "analysis", "output", "runtime", "sweep", "mode",
        "tickers", "kind", "schedule", "params", "cash", "commission", "start", "end", "ew", "mvo", "lstm",
        "weights", "asset", "seeds", "test_start", "train_fraction", "source", "calendar", "alpha_pair"]
trees = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)),
                     max_leaves=25)


@SETTINGS
@given(st.dictionaries(st.sampled_from(KEYS), trees, max_size=6))
def test_config_parser_is_clean_error_or_valid_config(raw):
    try:
        cfg = parse_config(raw, source="cfg.yaml")
    except PluginError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("cfg.yaml")
        return
    assert isinstance(cfg, ExperimentConfig) and cfg.strategies


@SETTINGS
@given(st.one_of(st.text(max_size=200), trees.map(lambda t: yaml.safe_dump(t, allow_unicode=True))))
def test_config_file_loader_is_clean_error_or_valid_config(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "cfg.yaml"
    path.write_bytes(text.encode("utf-8", errors="replace"))
    try:
        cfg = load_config(path)
    except PluginError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(cfg, ExperimentConfig)
    assert all(math.isfinite(v) for v in (cfg.broker.cash, cfg.broker.commission))
