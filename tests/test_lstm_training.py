"""Losses, the capped softmax, the config and the training loop of the LSTM allocator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bt_lstm_mvo.allocators.lstm import LSTMConfig, LSTMPolicy, cap_weights, portfolio_loss
from bt_lstm_mvo.allocators.lstm.training import evaluate_loss, resolve_device, seeded, train_policy
from bt_lstm_mvo.errors import AllocationError, ConfigError


def _small_batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(4), size=12)
    r = rng.normal(0.0, 0.03, size=(12, 4))
    return w, r


def _np_loss(w, r, kind, lam, turnover_cost=0.0):
    rp = (w * r).sum(axis=1)
    if kind == "paper":
        loss = -rp.mean() + lam * np.mean(np.maximum(0.0, -rp) ** 2)
    elif kind == "notebook":
        neg = rp[rp < 0]
        loss = -rp.mean() + (lam * np.mean(neg**2) if neg.size else 0.0)
    elif kind == "sharpe":
        loss = -rp.mean() / (rp.std() + 1e-8)
    else:
        loss = -rp.mean() / np.sqrt(np.mean(np.minimum(rp, 0.0) ** 2) + 1e-12)
    return loss + turnover_cost * np.abs(np.diff(w, axis=0)).sum(axis=1).mean()


@pytest.mark.parametrize("kind", ["paper", "notebook", "sharpe", "sortino"])
@pytest.mark.parametrize("turnover_cost", [0.0, 0.01])
def test_losses_match_numpy(kind, turnover_cost):
    w, r = _small_batch()
    got = portfolio_loss(torch.tensor(w), torch.tensor(r), kind, 10.0, turnover_cost)
    assert float(got) == pytest.approx(_np_loss(w, r, kind, 10.0, turnover_cost), rel=1e-12, abs=1e-15)


def test_lambda_has_an_effect_with_raw_returns():
    w, r = _small_batch(1)
    rp = (w * r).sum(axis=1)
    assert (rp < 0).any()
    wt = torch.tensor(w, requires_grad=True)
    l0 = portfolio_loss(wt, torch.tensor(r), "paper", 0.0)
    (g0,) = torch.autograd.grad(l0, wt)
    l50 = portfolio_loss(wt, torch.tensor(r), "paper", 50.0)
    (g50,) = torch.autograd.grad(l50, wt)
    penalty = np.mean(np.maximum(0.0, -rp) ** 2)
    assert float((l50 - l0).detach()) == pytest.approx(50.0 * penalty, rel=1e-10)
    assert not torch.allclose(g0, g50)


def test_notebook_penalty_is_inert_on_nonnegative_targets():
    w, r = _small_batch(2)
    scaled = torch.tensor(np.abs(r))  # min-max scaled targets are all >= 0
    a = portfolio_loss(torch.tensor(w), scaled, "notebook", 0.0)
    b = portfolio_loss(torch.tensor(w), scaled, "notebook", 10.0)
    assert float(a) == float(b)


def test_paper_and_notebook_penalties_differ_in_the_averaging():
    w, r = _small_batch(3)
    rp = (w * r).sum(axis=1)
    n_neg = int((rp < 0).sum())
    assert 0 < n_neg < len(rp)
    paper = portfolio_loss(torch.tensor(w), torch.tensor(r), "paper", 1.0) + torch.tensor(rp.mean())
    notebook = portfolio_loss(torch.tensor(w), torch.tensor(r), "notebook", 1.0) + torch.tensor(rp.mean())
    assert float(notebook) == pytest.approx(float(paper) * len(rp) / n_neg, rel=1e-12)


def test_unknown_loss_kind():
    w, r = _small_batch()
    with pytest.raises(ConfigError, match="loss"):
        portfolio_loss(torch.tensor(w), torch.tensor(r), "mse")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("cap", [0.2, 0.25, 0.3, 0.4, 0.9])
def test_cap_holds_exactly_and_keeps_the_simplex(dtype, cap):
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(500, 5, generator=gen, dtype=dtype) * 4.0
    logits[0] = torch.tensor([80.0, -80.0, -80.0, -80.0, -80.0])  # softmax underflows to exact 0s
    w = torch.softmax(logits, dim=-1)
    capped = cap_weights(w, cap)
    assert bool((capped <= cap).all()) and bool((capped >= 0).all())
    assert torch.allclose(capped.sum(-1), torch.ones(500, dtype=dtype), atol=1e-6)
    # closed form: w_i = min(cap, c * softmax_i); ratios of uncapped assets are kept
    row = capped[1].double()
    free = row < cap - 1e-6
    if free.sum() >= 2:
        ratio = row[free] / w[1].double()[free]
        assert torch.allclose(ratio, ratio[0].expand_as(ratio), rtol=1e-5)


def test_cap_is_differentiable_and_infeasible_cap_fails():
    logits = torch.tensor([[2.0, 1.0, 0.5, 0.1]], requires_grad=True)
    out = cap_weights(torch.softmax(logits, -1), 0.4)
    assert float(out[0, 0].detach()) == pytest.approx(0.4, abs=1e-7) and bool((out[0, 1:] < 0.4).all())
    (out * torch.tensor([[0.01, 0.02, -0.01, 0.03]])).sum().backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    # the capped asset's weight is the constant cap: its logit only matters through rounding
    assert float(logits.grad[0, 0]) == pytest.approx(0.0, abs=1e-8)
    with pytest.raises(ConfigError, match="infeasible"):
        cap_weights(torch.full((1, 4), 0.25), 0.2)
    with pytest.raises(ConfigError, match="infeasible"):
        LSTMPolicy(n_features=12, n_assets=4, max_weight=0.2)


def test_policy_outputs_weights_on_the_simplex():
    with seeded(0):
        model = LSTMPolicy(n_features=6, n_assets=2, hidden_size=8, num_layers=2, dropout=0.1)
    model.eval()
    w = model(torch.randn(7, 30, 6))
    assert w.shape == (7, 2)
    assert torch.allclose(w.sum(-1), torch.ones(7), atol=1e-6) and bool((w >= 0).all())


@pytest.mark.parametrize(("layers", "hidden", "batch"), [(1, 64, 1), (1, 8, 5), (2, 16, 1), (3, 8, 3)])
def test_inference_logits_equal_the_modules_logits_bit_for_bit(layers, hidden, batch):
    """The per-bar path (``infer_logits``: torch.lstm and the linear head on the module's own
    parameters) gives exactly the module's logits, also after new weights are loaded; in training
    mode or outside inference mode it is the module's own forward."""
    with seeded(1):
        model = LSTMPolicy(n_features=9, n_assets=3, hidden_size=hidden, num_layers=layers, dropout=0.2)
        other = LSTMPolicy(n_features=9, n_assets=3, hidden_size=hidden, num_layers=layers, dropout=0.2)
        x = torch.randn(batch, 30, 9)
    model.eval()
    with torch.inference_mode():
        fast, slow = model.infer_logits(x), model.logits(x)
        assert fast.shape == (batch, 3) and torch.equal(fast, slow)
        model.load_state_dict(other.state_dict())  # in place: the same parameter objects, new values
        assert not torch.equal(model.infer_logits(x), fast)
        assert torch.equal(model.infer_logits(x), model.logits(x))
        assert torch.equal(model.infer_logits(x[:1]), model.logits(x[:1]))  # another batch size
    assert "_zero_state" not in model.state_dict()
    with torch.no_grad():
        assert torch.equal(model.infer_logits(x), model.logits(x))  # falls back to logits
    model.train()
    with seeded(2):
        a = model.infer_logits(x)
    with seeded(2):
        b = model.logits(x)
    assert torch.equal(a, b) and a.requires_grad  # training: the module's forward, dropout included


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lambda_penalty": -1.0}, "lambda_penalty"),
        ({"window": 1}, "window"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"patience": 3}, "validation_fraction"),
        ({"loss": "mse"}, "loss"),
        ({"device": "tpu"}, "device"),
        ({"max_weight": 0.0}, "max_weight"),
        ({"dropout": 1.0}, "dropout"),
        ({"hidden_size": True}, "hidden_size"),
        ({"lambda_penalty": float("nan")}, "lambda_penalty"),
        ({"progress": "yes"}, "progress"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        LSTMConfig(**kwargs)


def test_config_from_dict_rejects_unknown_keys_and_roundtrips():
    with pytest.raises(ConfigError, match="unknown keys"):
        LSTMConfig.from_dict({"lambda": 10})
    cfg = LSTMConfig(epochs=7, max_weight=0.4)
    assert LSTMConfig.from_dict(cfg.to_dict()) == cfg
    assert LSTMConfig.from_dict({"epochs": 3}, seed=5) == LSTMConfig(epochs=3, seed=5)


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="cuda"):
            resolve_device("cuda")


def test_seeded_restores_global_state():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    flag = torch.are_deterministic_algorithms_enabled()
    with seeded(7):
        inside = torch.rand(3)
        assert torch.are_deterministic_algorithms_enabled()
    assert torch.equal(torch.rand(3), expected)  # caller's RNG stream untouched
    assert torch.are_deterministic_algorithms_enabled() == flag
    with seeded(7):
        assert torch.equal(torch.rand(3), inside)


def test_seeded_skips_torchs_nan_fill_of_new_tensors_and_weights_do_not_change():
    """Deterministic mode's NaN fill of uninitialised memory is off inside ``seeded`` (it made a
    full-batch epoch 1.3x slower) and restored after; training gives the same weights bit for bit
    with it on, so no op reads memory it has not written."""
    import torch.utils.deterministic as deterministic

    before = deterministic.fill_uninitialized_memory
    with seeded(0):
        assert deterministic.fill_uninitialized_memory is False
        assert not torch.isnan(torch.empty(1000)).all()  # not filled (NaN fill would make all of them NaN)
    assert deterministic.fill_uninitialized_memory == before
    x, y = _tiny_data(n=120)
    cfg = LSTMConfig(hidden_size=8, epochs=4, progress=False, window=5)
    states = []
    for fill in (False, True):
        with seeded(3, fill_uninitialized=fill):
            assert deterministic.fill_uninitialized_memory is fill
            model = LSTMPolicy(n_features=4, n_assets=2, hidden_size=8)
            train_policy(model, x, y, cfg)
        states.append(model.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def _tiny_data(seed=0, n=80):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, 4, generator=gen)
    y = torch.randn(n, 2, generator=gen) * 0.05
    return x, y


def test_training_history_and_minibatches():
    x, y = _tiny_data()
    cfg = LSTMConfig(hidden_size=4, epochs=3, batch_size=16, progress=False, window=5)
    with seeded(0):
        model = LSTMPolicy(n_features=4, n_assets=2, hidden_size=4)
        result = train_policy(model, x, y, cfg)
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert all(set(h) == {"epoch", "train_loss", "val_loss", "seconds"} for h in result.history)
    assert all(h["val_loss"] is None and h["seconds"] > 0 for h in result.history)
    assert result.best_epoch == 3 and not model.training


def test_early_stopping_restores_best_weights():
    x, y = _tiny_data(1, n=120)
    cfg = LSTMConfig(
        hidden_size=16, epochs=60, learning_rate=0.05, grad_clip_norm=None, validation_fraction=0.5,
        patience=3, progress=False, window=5,
    )
    with seeded(0):
        model = LSTMPolicy(n_features=4, n_assets=2, hidden_size=16)
        result = train_policy(model, x[:60], y[:60], cfg, x[60:], y[60:])
    val_losses = [h["val_loss"] for h in result.history]
    assert result.stopped_early and len(result.history) < 60
    assert result.best_epoch == int(np.argmin(val_losses)) + 1
    assert result.best_epoch < len(result.history)
    assert len(result.history) - result.best_epoch == 3  # stopped after `patience` worse epochs
    # the restored model is the best epoch's, not the last one's
    assert evaluate_loss(model, x[60:], y[60:], cfg) == min(val_losses)
    assert evaluate_loss(model, x[60:], y[60:], cfg) != val_losses[-1]


def test_nonfinite_loss_fails_clearly():
    x, y = _tiny_data()
    y[0, 0] = float("nan")
    cfg = LSTMConfig(hidden_size=4, epochs=2, progress=False, window=5)
    with seeded(0):
        model = LSTMPolicy(n_features=4, n_assets=2, hidden_size=4)
        with pytest.raises(AllocationError, match="loss became nan"):
            train_policy(model, x, y, cfg)
