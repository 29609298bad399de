"""Plain, JSON-able Python out of results that hold numpy and pandas values."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd


def json_clean(x):
    """NaN/inf -> None; numpy scalars -> Python; dates -> ISO strings (recursively)."""
    if isinstance(x, dict):
        return {str(k): json_clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, (pd.Timestamp, dt.date, dt.datetime)):
        return x.isoformat()[:10] if isinstance(x, (dt.date, pd.Timestamp)) else x.isoformat()
    return x
