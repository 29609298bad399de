"""LSTMAllocator: contract, determinism, no look-ahead, truncation, caps, speed, notebook mode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from bt_lstm_mvo.allocators.base import validate_weights
from bt_lstm_mvo.allocators.lstm import (
    LSTMAllocator,
    LSTMConfig,
    compute_features,
)
from bt_lstm_mvo.errors import AllocationError, ConfigError, DataError
from bt_lstm_mvo.experiment.paper.notebook import load_paper_closes
from bt_lstm_mvo.experiment.paper.notebook_lstm import run_notebook_lstm
from tests.helpers import make_prices

TINY = {"hidden_size": 8, "epochs": 3, "progress": False, "seed": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def prices():
    return make_prices(800, 3, seed=11)


def test_fit_allocate_contract(prices):
    alloc = LSTMAllocator(**TINY)
    assert alloc.requires_fit and alloc.lookback == 530
    assert alloc.fit(prices.iloc[:300]) is alloc
    w = alloc.allocate(prices.iloc[:320])
    assert list(w.index) == list(prices.columns)
    pd.testing.assert_series_equal(validate_weights(w, prices.columns), w.astype(float))
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert [h["epoch"] for h in alloc.history_] == [1, 2, 3]
    assert alloc.train_seconds_per_epoch_ > 0
    assert alloc.n_train_samples_ == 300 - 50 and alloc.n_val_samples_ == 0
    feats = alloc.last_features_
    assert feats.shape == (30, 9) and feats.index.equals(prices.index[290:320])
    assert list(feats.columns[:3]) == [("A0", "return"), ("A0", "rsi"), ("A0", "volatility")]
    assert alloc.describe()["fitted"] is True


def test_config_object_mapping_and_overrides_are_equivalent():
    cfg = LSTMConfig(**TINY)
    assert LSTMAllocator(cfg).config == LSTMAllocator(TINY).config == LSTMAllocator(**TINY).config
    assert LSTMAllocator(cfg, seed=4).config.seed == 4
    with pytest.raises(ConfigError, match="unknown keys"):
        LSTMAllocator(hiden_size=3)


def test_same_seed_gives_bit_identical_weights(prices):
    a = LSTMAllocator(**TINY).fit(prices.iloc[:300])
    b = LSTMAllocator(**TINY).fit(prices.iloc[:300])
    for end in (300, 350, 400):
        assert (a.allocate(prices.iloc[:end]) == b.allocate(prices.iloc[:end])).all()
    for name, tensor in a.model_.state_dict().items():
        assert torch.equal(tensor, b.model_.state_dict()[name])
    c = LSTMAllocator(**{**TINY, "seed": 1}).fit(prices.iloc[:300])
    assert not (a.allocate(prices.iloc[:300]) == c.allocate(prices.iloc[:300])).all()


def test_minibatch_training_is_deterministic_too(prices):
    cfg = {**TINY, "batch_size": 32, "validation_fraction": 0.2, "patience": 2, "epochs": 4, "dropout": 0.2}
    a = LSTMAllocator(**cfg).fit(prices.iloc[:300])
    b = LSTMAllocator(**cfg).fit(prices.iloc[:300])
    assert (a.allocate(prices.iloc[:330]) == b.allocate(prices.iloc[:330])).all()
    assert a.n_val_samples_ == int(250 * 0.2) and all(h["val_loss"] is not None for h in a.history_)


def test_refit_fully_resets_and_warm_start_continues(prices):
    fresh = LSTMAllocator(**TINY).fit(prices.iloc[:300])
    refit = LSTMAllocator(**TINY).fit(prices.iloc[:400]).fit(prices.iloc[:300])
    assert (fresh.allocate(prices.iloc[:320]) == refit.allocate(prices.iloc[:320])).all()
    assert np.array_equal(fresh.scaler_.data_max, refit.scaler_.data_max)
    warm = LSTMAllocator(**{**TINY, "warm_start": True}).fit(prices.iloc[:400])
    warm.fit(prices.iloc[:300])
    assert not (fresh.allocate(prices.iloc[:320]) == warm.allocate(prices.iloc[:320])).all()
    assert np.array_equal(fresh.scaler_.data_max, warm.scaler_.data_max)  # scaler always refitted
    with pytest.raises(AllocationError, match="trained on"):
        warm.fit(make_prices(300, 4))


def test_no_look_ahead(prices):
    cut = 400
    perturbed = prices.copy()
    rng = np.random.default_rng(5)
    perturbed.iloc[cut + 1 :] *= rng.uniform(0.3, 3.0, size=perturbed.iloc[cut + 1 :].shape)
    a = LSTMAllocator(**TINY).fit(prices.iloc[: cut + 1])
    b = LSTMAllocator(**TINY).fit(perturbed.iloc[: cut + 1])
    for end in range(cut - 20, cut + 1):
        wa = a.allocate(prices.iloc[: end + 1])
        wb = b.allocate(perturbed.iloc[: end + 1])
        assert (wa == wb).all()
    # the offline features of rows <= cut do not depend on later rows either
    fa = compute_features(prices).iloc[: cut + 1].to_numpy()
    fb = compute_features(perturbed).iloc[: cut + 1].to_numpy()
    assert np.array_equal(fa, fb, equal_nan=True)


def test_last_return_of_the_fit_history_is_a_training_target(prices):
    a = LSTMAllocator(**TINY).fit(prices.iloc[:300])
    changed = prices.iloc[:300].copy()
    changed.iloc[-1] *= 1.5  # only the last row changes: only the last target changes
    b = LSTMAllocator(**TINY).fit(changed)
    assert np.array_equal(a.scaler_.data_max, b.scaler_.data_max)  # inputs end one row earlier
    assert not (a.allocate(prices.iloc[:299]) == b.allocate(prices.iloc[:299])).all()


def test_scaler_is_fitted_on_training_inputs_only(prices):
    alloc = LSTMAllocator(**{**TINY, "validation_fraction": 0.2}).fit(prices.iloc[:300])
    feats = compute_features(prices.iloc[:300]).to_numpy()
    n_train = alloc.n_train_samples_
    last_train_row = 49 + n_train - 1  # first decision row is 49 (20 warm-up + 30 window - 1)
    expected = feats[20 : last_train_row + 1]
    assert np.array_equal(alloc.scaler_.data_min, expected.min(axis=0))
    assert np.array_equal(alloc.scaler_.data_max, expected.max(axis=0))
    # rows after the training inputs (validation, last row) do not move the scaler
    changed = prices.iloc[:300].copy()
    changed.iloc[last_train_row + 1 :] *= 3.0
    again = LSTMAllocator(**{**TINY, "validation_fraction": 0.2}).fit(changed)
    assert np.array_equal(again.scaler_.data_min, alloc.scaler_.data_min)
    assert np.array_equal(again.scaler_.data_max, alloc.scaler_.data_max)


def test_truncated_allocate_features_match_offline_full_history(prices):
    alloc = LSTMAllocator(**TINY).fit(prices.iloc[:300])
    offline = alloc.scaler_.transform(compute_features(prices))
    for end in (560, 700, 800):
        w_full = alloc.allocate(prices.iloc[:end])
        online = alloc.last_features_
        expected = offline.loc[online.index]
        assert online.index.equals(prices.index[end - 30 : end])
        assert np.max(np.abs(online.to_numpy() - expected.to_numpy())) < 1e-9
        # allocate uses only the trailing `lookback` rows, whatever it is given
        w_trunc = alloc.allocate(prices.iloc[end - alloc.lookback : end])
        assert (w_full == w_trunc).all()


def test_column_order_and_asset_checks(prices):
    alloc = LSTMAllocator(**TINY).fit(prices.iloc[:300])
    w = alloc.allocate(prices.iloc[:320])
    shuffled = alloc.allocate(prices.iloc[:320][["A2", "A0", "A1"]])
    assert list(shuffled.index) == ["A2", "A0", "A1"]
    assert (shuffled.reindex(w.index) == w).all()
    with pytest.raises(AllocationError, match=r"\['A0', 'A1'\].*\['A0', 'A1', 'A2'\]"):
        alloc.allocate(prices.iloc[:320][["A0", "A1"]])


def test_errors_are_clear(prices):
    with pytest.raises(AllocationError, match="not fitted"):
        LSTMAllocator(**TINY).allocate(prices)
    with pytest.raises(DataError, match="at least 51 rows"):
        LSTMAllocator(**TINY).fit(prices.iloc[:50])
    alloc = LSTMAllocator(**TINY).fit(prices.iloc[:51])
    assert alloc.n_train_samples_ == 1
    with pytest.raises(DataError, match="needs at least 50"):
        alloc.allocate(prices.iloc[:49])
    with pytest.raises(ConfigError, match="infeasible"):
        LSTMAllocator(**{**TINY, "max_weight": 0.3}).fit(prices.iloc[:300])
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="cuda"):
            LSTMAllocator(**{**TINY, "device": "cuda"}).fit(prices.iloc[:300])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_logits_are_an_allocation_error(prices, bad):
    """A broken network (here one output bias made non-finite) is refused, not turned into weights."""
    alloc = LSTMAllocator(**TINY).fit(prices.iloc[:300])
    with torch.no_grad():
        alloc.model_.fc.bias[1] = bad
    with pytest.raises(AllocationError, match="non-finite logits"):
        alloc.allocate(prices.iloc[:320])
    with pytest.raises(AllocationError, match="non-finite logits"):
        alloc.allocate_values(prices.to_numpy()[:320], list(prices.columns))


@pytest.mark.parametrize("cap", [0.25, 0.26, 0.3])
def test_cap_holds_exactly_in_allocate(cap):
    prices = make_prices(300, 4, seed=3)
    alloc = LSTMAllocator(**{**TINY, "max_weight": cap}).fit(prices)
    with torch.no_grad():  # push the softmax towards asset 0 so that the cap binds
        alloc.model_.fc.bias[0] += 3.0
    for end in range(250, 301, 10):
        w = alloc.allocate(prices.iloc[:end])
        assert (w <= cap).all() and (w >= 0).all()
        assert w.sum() == pytest.approx(1.0, abs=1e-12)
        assert w["A0"] == cap


def test_progress_bar_runs(prices, capsys):
    cfg = {**TINY, "progress": True, "epochs": 2, "validation_fraction": 0.2}
    LSTMAllocator(**cfg).fit(prices.iloc[:200])
    assert "LSTM fit" in capsys.readouterr().err


def test_notebook_mode_runs_and_its_penalty_is_inert():
    closes = make_prices(260, 3, seed=8)
    a = run_notebook_lstm(closes, seed=0, epochs=3, hidden_size=8)
    b = run_notebook_lstm(closes, seed=0, epochs=3, hidden_size=8, lambda_penalty=0.0)
    n_rows = 260 - 20
    assert a["n_features_rows"] == n_rows and a["n_samples"] == n_rows - 30
    assert a["n_train"] == int(0.8 * (n_rows - 30)) and a["n_test"] == len(a["returns"])
    assert a["returns"].index[-1] == closes.index[-1]
    assert a["weights"].index.equals(a["returns"].index)
    assert list(a["final_weights"]) == list(closes.columns)
    raw = closes.pct_change().loc[a["returns"].index]
    np.testing.assert_allclose(a["returns"], (a["weights"] * raw).sum(axis=1), rtol=1e-12)
    # scaled targets are >= 0: the downside penalty never fires, lambda changes nothing
    pd.testing.assert_series_equal(a["returns"], b["returns"])
    assert a["returns_after_costs"].iloc[0] == pytest.approx(a["returns"].iloc[0] - 0.001, abs=1e-15)


@pytest.mark.slow
@pytest.mark.realdata
def test_notebook_replication_on_paper_data(data_dir):
    closes = load_paper_closes(data_dir)
    assert closes.shape == (1509, 5) and list(closes.columns) == sorted(closes.columns)
    result = run_notebook_lstm(closes, seed=0)
    assert result["n_features_rows"] == 1489 and result["n_test"] == 292
    assert str(result["returns"].index[0].date()) == "2023-11-01"
    assert str(result["returns"].index[-1].date()) == "2024-12-30"
    assert sum(result["final_weights"].values()) == pytest.approx(1.0, abs=1e-6)


def test_allocate_values_is_allocate_without_pandas(prices):
    """The strategy's array path gives allocate's weights bit for bit, in the caller's column order."""
    alloc = LSTMAllocator(**TINY).fit(prices.iloc[:300])
    for end in (560, 800):
        frame = prices.iloc[:end]
        expected = alloc.allocate(frame)
        got = alloc.allocate_values(frame.to_numpy(), frame.columns, frame.index.values)
        assert np.array_equal(got, expected.to_numpy())
        features = alloc.last_features_
        assert features.index.equals(frame.index[-30:])
        shuffled = frame[frame.columns[::-1]]
        assert np.array_equal(alloc.allocate_values(shuffled.to_numpy(), shuffled.columns),
                              alloc.allocate(shuffled).to_numpy())
    bad = prices.iloc[:600].to_numpy().copy()
    bad[-3, 1] = np.nan
    with pytest.raises(DataError, match="missing or non-positive"):
        alloc.allocate_values(bad, prices.columns)
    with pytest.raises(AllocationError, match="trained on"):
        alloc.allocate_values(prices.iloc[:600].to_numpy()[:, :2], prices.columns[:2])


def test_the_strategy_takes_the_array_path_unless_allocate_is_overridden(prices):
    from bt_lstm_mvo.allocators.base import has_array_path as _has_array_path

    class Logged(LSTMAllocator):
        def allocate(self, history):
            return super().allocate(history)

    assert _has_array_path(LSTMAllocator) and not _has_array_path(Logged)
    from bt_lstm_mvo.allocators.mvo import MVOAllocator
    from bt_lstm_mvo.allocators.naive import EqualWeight

    assert _has_array_path(EqualWeight)  # the naive allocators have one too (allocators/naive.py)
    assert not _has_array_path(MVOAllocator)
