"""Column-wise records read exactly as the lists of dicts they replace, and cost less memory."""

from __future__ import annotations

import datetime as dt
import pickle
import tracemalloc

import pandas as pd
import pytest

from bt_lstm_mvo.strategies.records import Records


def _rows(n):
    day = dt.date(2024, 1, 2)
    return [{"date": day, "asset": "SPY" if i % 2 else "GLD", "size": i * 0.5, "held": {"a": i / 10, "b": 1 - i / 10}}
            for i in range(n)]


def _records(rows):
    rec = Records(floats=("size",), objects=("date", "asset"), mappings={"held": ["a", "b"]},
                  order=("date", "asset", "size", "held"))
    for r in rows:
        rec.append(r)
    return rec


def test_records_read_as_the_list_of_dicts():
    rows = _rows(7)
    rec = _records(rows)
    assert len(rec) == 7 and bool(rec) and rec == rows and list(rec) == rows
    assert rec[0] == rows[0] and rec[-1] == rows[-1] and rec[2:5] == rows[2:5] and rec[::-2] == rows[::-2]
    assert list(rec[3]) == ["date", "asset", "size", "held"]  # the dicts' key order is kept
    assert rec.column("size") == [r["size"] for r in rows] and rec.column("asset") == [r["asset"] for r in rows]
    frame = rec.frame()
    assert list(frame.columns) == ["date", "asset", "size", "held.a", "held.b"]
    pd.testing.assert_series_equal(frame["held.b"], pd.Series([r["held"]["b"] for r in rows], name="held.b"))
    assert pickle.loads(pickle.dumps(rec)) == rows  # results come back from worker processes
    with pytest.raises(IndexError):
        rec[7]
    assert not Records(floats=("x",)) and Records(floats=("x",)) == []
    with pytest.raises(ValueError, match="order"):
        Records(floats=("x",), order=("y",))


def test_records_hold_a_fraction_of_the_dicts_memory():
    rows = _rows(20_000)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    as_dicts = [dict(r, held=dict(r["held"]), size=float(r["size"]) + 0.25) for r in rows]
    dicts = tracemalloc.get_traced_memory()[0] - base
    del as_dicts
    base = tracemalloc.get_traced_memory()[0]
    rec = _records(rows)
    columns = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert len(rec) == 20_000
    print(f"dicts {dicts / 20_000:.0f} B/row, columns {columns / 20_000:.0f} B/row")
    assert columns < dicts / 5


def test_a_mapping_field_may_come_as_values_in_key_order():
    rows = _rows(4)
    rec = Records(floats=("size",), objects=("date", "asset"), mappings={"held": ["a", "b"]},
                  order=("date", "asset", "size", "held"))
    for r in rows:
        rec.append(dict(r, held=[r["held"]["a"], r["held"]["b"]]))  # the strategy's per-bar form
    assert rec == rows
    copy = pickle.loads(pickle.dumps(rec))
    copy.append(rows[0])  # a copy's columns stay joined to its fast-path tuples
    assert copy == [*rows, rows[0]] and rec == rows
    with pytest.raises(ValueError, match="held.*2 values"):
        rec.append(dict(rows[0], held=[0.5]))
    assert rec == rows and len(rec) == 4  # the refused row left nothing behind
