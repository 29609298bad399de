"""Small test helpers shared by several test files."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_prices(n_rows: int = 300, n_assets: int = 3, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0004, 0.02, size=(n_rows, n_assets))
    index = pd.bdate_range("2018-01-01", periods=n_rows)
    columns = [f"A{i}" for i in range(n_assets)]
    return pd.DataFrame(100.0 * np.exp(np.cumsum(steps, axis=0)), index=index, columns=columns)
