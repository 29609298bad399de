"""The compiled per-bar kernel against PyTorch's own forward (the independent reference)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bt_lstm_mvo.allocators.lstm import LSTMAllocator
from bt_lstm_mvo.allocators.lstm.kernel import pack_weights, window_logits
from bt_lstm_mvo.allocators.lstm.model import LSTMPolicy
from bt_lstm_mvo.errors import AllocationError
from tests.helpers import make_prices

TINY = {"hidden_size": 8, "epochs": 3, "progress": False, "seed": 0, "device": "cpu"}


def _torch_logits(model, x32: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model.logits(torch.from_numpy(x32[None])).numpy()[0]


@pytest.mark.parametrize("layers,hidden,features,window", [(1, 64, 15, 30), (1, 8, 9, 30), (2, 16, 6, 10),
                                                            (3, 5, 4, 7), (1, 1, 3, 1)])
def test_kernel_equals_torch_within_float32_rounding(layers, hidden, features, window):
    torch.manual_seed(layers * 100 + hidden)
    model = LSTMPolicy(features, 4, hidden_size=hidden, num_layers=layers).eval()
    with torch.no_grad():  # weights of a trained network's size, so that the gates saturate too
        for p in model.parameters():
            p.mul_(3.0)
    packed = pack_weights(model.lstm, model.fc)
    rng = np.random.default_rng(hidden)
    for _ in range(5):
        x = rng.uniform(-0.5, 1.5, (window, features)).astype(np.float32)
        ref = _torch_logits(model, x)
        got = window_logits(x, packed)
        assert got.dtype == np.float32 and got.shape == (4,)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=2e-6)
        np.testing.assert_array_equal(window_logits(x, packed), got)  # deterministic


def test_kernel_reads_a_non_contiguous_window_the_same():
    model = LSTMPolicy(6, 3, hidden_size=8).eval()
    packed = pack_weights(model.lstm, model.fc)
    wide = np.random.default_rng(0).random((20, 12)).astype(np.float32)
    np.testing.assert_array_equal(window_logits(wide[:, ::2], packed),
                                  window_logits(np.ascontiguousarray(wide[:, ::2]), packed))


def test_pack_refuses_what_the_kernel_does_not_compute():
    with pytest.raises(ValueError, match="one-direction"):
        pack_weights(torch.nn.LSTM(3, 4, bidirectional=True), torch.nn.Linear(8, 2))


def test_allocator_weights_follow_torch_and_in_place_changes():
    """``allocate`` on the kernel gives PyTorch's weights (to float32 rounding), and a parameter
    changed in place after an allocation is seen by the next one (the packed weights are renewed)."""
    prices = make_prices(700, 3, seed=11)
    alloc = LSTMAllocator(**TINY).fit(prices.iloc[:300])

    def torch_weights(end):
        window = alloc.feature_spec.window
        from bt_lstm_mvo.allocators.lstm.features import feature_tail

        recent = prices.iloc[end - alloc.lookback:end].to_numpy()
        x = alloc.scaler_.transform(feature_tail(recent, alloc.feature_spec, window)).astype(np.float32)
        return alloc._finalise(_torch_logits(alloc.model_, x))

    before = alloc.allocate(prices.iloc[:600]).to_numpy()
    np.testing.assert_allclose(before, torch_weights(600), rtol=0, atol=1e-6)
    with torch.no_grad():
        alloc.model_.fc.bias[0] += 2.0
    after = alloc.allocate(prices.iloc[:600]).to_numpy()
    assert after[0] > before[0] + 0.1
    np.testing.assert_allclose(after, torch_weights(600), rtol=0, atol=1e-6)
    with torch.no_grad():
        alloc.model_.lstm.weight_hh_l0[0, 0] = float("nan")
    with pytest.raises(AllocationError, match="non-finite logits"):
        alloc.allocate_values(prices.to_numpy()[:601], list(prices.columns))
