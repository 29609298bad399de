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


def perturb_after(frames: dict[str, pd.DataFrame], after, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Copies of OHLC ``frames`` whose Open/High/Low/Close after ``after`` are multiplied by
    log-normal noise (5% sd): the look-ahead tests' "change the future" (rows up to ``after`` kept)."""
    rng = np.random.default_rng(seed)
    out = {}
    for t, f in frames.items():
        f = f.copy()
        later = f.index > after
        noise = np.exp(rng.normal(0, 0.05, later.sum()))
        for col in ("Open", "High", "Low", "Close"):
            f.loc[later, col] = f.loc[later, col].to_numpy() * noise
        out[t] = f
    return out
