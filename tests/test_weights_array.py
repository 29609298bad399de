"""weights_array (the per-bar check of an allocator's weights) gives validate_weights' result
bit for bit on every path: Python floats below 8 assets, numpy reductions from 8 on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bt_lstm_mvo.allocators.base import WEIGHT_TOL, validate_weights, weights_array
from bt_lstm_mvo.errors import AllocationError


@pytest.mark.parametrize("n", [1, 2, 5, 7, 8, 9, 12])
def test_weights_array_equals_validate_weights_bit_for_bit(n):
    rng = np.random.default_rng(n)
    assets = pd.Index([f"A{i}" for i in range(n)])
    over = 0
    for _ in range(1000):
        w = rng.random(n) * 10.0 ** rng.integers(-4, 2, n)
        w /= w.sum() * rng.choice([1.0, 1.0 - 1e-7, 1.0 + 1e-7, 1.0 - 1e-16, 1.0 + 2e-16])
        if n > 1 and rng.random() < 0.2:
            w[rng.integers(n)] = -WEIGHT_TOL / 2  # a tiny negative the contract clips
        expected = validate_weights(pd.Series(w, index=assets), assets).to_numpy(dtype=float)
        got = weights_array(w, assets)
        assert np.array_equal(got, expected), (w, got, expected)
        over += float(np.sum(w)) > 1.0
    assert over > 30  # the division by the sum ran


@pytest.mark.parametrize("n", [3, 9])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -0.1, 2.0])
def test_weights_array_words_a_broken_contract_like_validate_weights(n, bad):
    assets = pd.Index([f"A{i}" for i in range(n)])
    w = np.full(n, 1.0 / n)
    w[1] = bad
    with pytest.raises(AllocationError) as general:
        validate_weights(pd.Series(w, index=assets), assets)
    with pytest.raises(AllocationError) as fast:
        weights_array(w, assets)
    assert str(fast.value) == str(general.value)
