"""Checkpoints of the LSTM allocator: round trip without refit, no pickle, clear mismatch errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from bt_lstm_mvo.allocators.lstm import LSTMAllocator
from bt_lstm_mvo.allocators.lstm.checkpoint import FORMAT_VERSION, load_checkpoint
from bt_lstm_mvo.errors import AllocationError, ConfigError
from tests.helpers import make_prices

TINY = {"hidden_size": 8, "epochs": 2, "progress": False, "seed": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def prices():
    return make_prices(700, 3, seed=21)


@pytest.fixture(scope="module")
def saved(prices, tmp_path_factory):
    alloc = LSTMAllocator(**{**TINY, "max_weight": 0.5, "validation_fraction": 0.2}).fit(prices.iloc[:300])
    path = tmp_path_factory.mktemp("ckpt") / "lstm.pt"
    alloc.save(path)
    return alloc, path


def test_roundtrip_allocates_identically_without_refit(saved, prices, monkeypatch):
    alloc, path = saved
    monkeypatch.setattr(LSTMAllocator, "fit", lambda self, history: pytest.fail("load must not refit"))
    loaded = LSTMAllocator(**{**TINY, "max_weight": 0.5, "validation_fraction": 0.2}).load(path)
    adopted = LSTMAllocator.from_checkpoint(path)
    for end in (300, 450, 700):
        w = alloc.allocate(prices.iloc[:end])
        assert (loaded.allocate(prices.iloc[:end]) == w).all()
        assert (adopted.allocate(prices.iloc[:end]) == w).all()
        pd.testing.assert_frame_equal(loaded.last_features_, alloc.last_features_)
    assert np.array_equal(loaded.scaler_.data_min, alloc.scaler_.data_min)
    assert np.array_equal(loaded.scaler_.data_max, alloc.scaler_.data_max)
    assert loaded.assets_ == alloc.assets_ and adopted.config == alloc.config
    assert loaded.history_ == alloc.history_ and loaded.best_epoch_ == alloc.best_epoch_
    assert loaded.fit_end_ == alloc.fit_end_


def test_file_holds_only_tensors_and_json(saved):
    _, path = saved
    payload = torch.load(path, map_location="cpu", weights_only=True)  # refuses pickled objects
    assert payload["format_version"] == FORMAT_VERSION
    assert all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values())
    meta = json.loads(payload["metadata_json"])
    assert meta["assets"] == ["A0", "A1", "A2"]
    assert meta["feature_spec"]["order"] == "asset-major"
    assert set(meta) >= {"config", "feature_spec", "assets", "scaler", "fit"}
    state, meta2 = load_checkpoint(path)
    assert meta2 == meta and set(state) == set(payload["state_dict"])


def test_feature_spec_mismatch_names_expected_and_got(saved):
    _, path = saved
    with pytest.raises(ConfigError, match="window: expected 20, got 30"):
        LSTMAllocator(**{**TINY, "max_weight": 0.5, "window": 20}).load(path)


def test_model_config_mismatch_is_a_config_error(saved):
    _, path = saved
    with pytest.raises(ConfigError, match="hidden_size: expected 16, got 8"):
        LSTMAllocator(**{**TINY, "max_weight": 0.5, "hidden_size": 16}).load(path)
    with pytest.raises(ConfigError, match="max_weight: expected None, got 0.5"):
        LSTMAllocator(**TINY).load(path)


def test_asset_mismatch_is_an_allocation_error(saved, prices):
    _, path = saved
    expected = r"trained on assets \['A0', 'A1', 'A2'\], expected \['A0', 'X'"
    with pytest.raises(AllocationError, match=expected):
        LSTMAllocator(**{**TINY, "max_weight": 0.5}).load(path, assets=["A0", "X", "A2"])
    loaded = LSTMAllocator.from_checkpoint(path)
    other = prices.iloc[:400].rename(columns={"A1": "B1"})
    with pytest.raises(AllocationError, match="B1"):
        loaded.allocate(other)


def test_bad_files_fail_clearly(tmp_path):
    with pytest.raises(ConfigError, match="missing.pt: not found"):
        LSTMAllocator.from_checkpoint(tmp_path / "missing.pt")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(ConfigError, match="not an"):
        LSTMAllocator(**TINY).load(foreign)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="cannot be read"):
        LSTMAllocator(**TINY).load(garbage)
    with pytest.raises(AllocationError, match="nothing to save"):
        LSTMAllocator(**TINY).save(tmp_path / "x.pt")


def test_save_leaves_no_temporary_file(saved):
    _, path = saved
    assert [p.name for p in path.parent.iterdir()] == ["lstm.pt"]


def test_loaded_model_can_warm_start(saved, prices):
    _, path = saved
    alloc = LSTMAllocator.from_checkpoint(path, warm_start=True)
    before = alloc.allocate(prices.iloc[:400])
    alloc.fit(prices.iloc[:400])
    assert alloc.fit_end_ == prices.index[399].date().isoformat()
    assert not (alloc.allocate(prices.iloc[:400]) == before).all()
