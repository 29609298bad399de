"""Shared fixtures.

Real-data tests read Yahoo-format CSVs from ``$LMBT_DATA_DIR`` or ``../shared/data``
(relative to the repository root). If that folder is missing the tests FAIL with a message
saying so; they are never silently skipped.
"""

from __future__ import annotations

import pytest
import torch

from bt_lstm_mvo.paths import DATA_DIR_ENV, shared_data_dir

PAPER_TICKERS = ["BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA"]


@pytest.fixture(scope="session")
def data_dir():
    path = shared_data_dir()
    if not (path / "SPY.csv").is_file():
        pytest.fail(
            f"real data not found at {path}; set {DATA_DIR_ENV} to the folder of Yahoo CSVs "
            "(../shared/data from the repository root)"
        )
    return path


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One torch thread per test process: fastest for these small networks and no contention
    between the pytest-xdist workers."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
