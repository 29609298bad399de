"""Append-only per-bar and per-order records stored column-wise, read as lists of dicts.

A strategy keeps one row per bar (``bars``), per rebalance (``rebalances``) and per fill
(``fills``). As Python dicts each row costs hundreds of bytes, which at a million orders is most of
a run's memory. :class:`Records` keeps each field in its own column instead: floats in an
``array('d')`` (8 bytes a value), other values (dates, names, the policy of an unfilled order) in a
list that shares the objects (a bar's fills reuse one date object), and a mapping field with fixed
keys (``held``, ``target``: one weight per asset) as one flat float array. Reading gives the same
dicts as before: ``records[i]``, ``records[-1]``, iteration, ``len``, slicing, ``list(records)``,
``records == [...]``; ``frame()`` gives a DataFrame without building the dicts.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import pandas as pd


class Records(Sequence):
    """Rows with the fields ``floats`` (numbers), ``objects`` (anything) and ``mappings``
    (name -> the fixed keys of that field's dicts, e.g. the assets), appended with :meth:`append`."""

    def __init__(self, floats=(), objects=(), mappings: dict | None = None, order=None):
        self._floats = {f: array("d") for f in floats}
        self._objects = {f: [] for f in objects}
        self._mappings = {f: (list(keys), array("d")) for f, keys in (mappings or {}).items()}
        fields = [*self._objects, *self._floats, *self._mappings]
        self._order = list(order) if order is not None else fields
        if sorted(self._order) != sorted(fields):
            raise ValueError(f"Records: order {self._order} must list the fields {fields}")
        # the same columns as flat tuples: append runs per bar and per fill
        self._plain = (*self._objects.items(), *self._floats.items())
        self._keyed = tuple((f, keys, col) for f, (keys, col) in self._mappings.items())
        self._n = 0

    def append(self, row: dict) -> None:
        """Add one row (a dict with every field). A mapping field's value is a dict with exactly
        its keys, or a list of the values in key order (the strategy's per-bar path)."""
        values = []
        for f, keys, _ in self._keyed:  # checked before any column grows: a bad row adds nothing
            m = row[f]
            if isinstance(m, dict):
                m = [m[k] for k in keys]
            elif len(m) != len(keys):
                raise ValueError(f"Records: field {f!r} needs {len(keys)} values ({keys}), got {len(m)}")
            values.append(m)
        for f, col in self._plain:
            col.append(row[f])
        for (_, _, col), m in zip(self._keyed, values):
            col.extend(m)
        self._n += 1

    def _row(self, i: int) -> dict:
        out = {}
        for f in self._order:
            if f in self._objects:
                out[f] = self._objects[f][i]
            elif f in self._floats:
                out[f] = self._floats[f][i]
            else:
                keys, col = self._mappings[f]
                k = len(keys)
                out[f] = dict(zip(keys, col[i * k:(i + 1) * k]))
        return out

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("record index out of range")
        return self._row(i)

    def __iter__(self):
        return (self._row(i) for i in range(self._n))

    def __eq__(self, other) -> bool:
        if isinstance(other, (Records, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"Records({self._n} rows: {', '.join(self._order)})"

    def column(self, field: str) -> list:
        """One field's values in row order (a mapping field: a list of dicts)."""
        if field in self._objects:
            return list(self._objects[field])
        if field in self._floats:
            return self._floats[field].tolist()
        return [r[field] for r in self]

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (a mapping field as one column per key, ``field.key``)."""
        data = {f: self._objects[f] for f in self._objects}
        data.update({f: self._floats[f] for f in self._floats})
        for f, (keys, col) in self._mappings.items():
            k = len(keys)
            for j, key in enumerate(keys):
                data[f"{f}.{key}"] = col[j::k] if k else []
        return pd.DataFrame(data)
