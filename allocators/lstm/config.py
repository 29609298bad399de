"""``LSTMConfig``: every knob of the LSTM allocator, validated on construction.

Field names map one to one onto YAML keys. Defaults follow the paper (PAPER_NOTES): window 30,
hidden 64, lambda 10, Adam lr 5e-4, gradient clipping at norm 1.0, 100 full-batch epochs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from bt_lstm_mvo.allocators.lstm.features import FeatureSpec
from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.vocab import DEVICES, LOSS_KINDS

#: fields that define the network (must match when a checkpoint is loaded)
MODEL_FIELDS: tuple[str, ...] = ("hidden_size", "num_layers", "dropout", "max_weight")
#: fields that define the features (must match when a checkpoint is loaded)
FEATURE_FIELDS: tuple[str, ...] = ("window", "rsi_period", "vol_window", "rsi_warmup_bars")


@dataclass(frozen=True)
class LSTMConfig:
    """Configuration of :class:`bt_lstm_mvo.allocators.lstm.LSTMAllocator`.

    Params:
        window: input window in bars (30).
        rsi_period: RSI period, Wilder smoothing (14).
        vol_window: rolling-volatility window in bars (20).
        rsi_warmup_bars: rows kept before the window at inference so the RSI matches the
            full-history value (500); ``lookback = window + rsi_warmup_bars``.
        hidden_size: LSTM hidden units (64).
        num_layers: stacked LSTM layers (1).
        dropout: dropout between LSTM layers (when ``num_layers > 1``) and on the last hidden
            state, during training only (0.0).
        max_weight: per-asset cap, e.g. 0.4; ``None`` for no cap. Applied inside the network
            (differentiable capped-simplex projection, used in training too) and held exactly
            in the weights ``allocate`` returns. ``max_weight * n_assets < 1`` is a ConfigError.
        loss: ``"paper"`` (-mean Rp + lambda * mean over ALL samples of max(0, -Rp)^2),
            ``"notebook"`` (penalty averaged over negative days only), ``"sharpe"``
            (-mean/std), ``"sortino"`` (-mean / downside deviation). Rp = w_t . r_{t+1} with
            raw returns.
        lambda_penalty: the downside penalty weight lambda of ``paper``/``notebook`` (10.0).
        turnover_cost: weight of ``mean(|w_t - w_{t-1}|_1)`` over consecutive samples (0.0).
        learning_rate: Adam learning rate (5e-4).
        grad_clip_norm: ``clip_grad_norm_`` max norm; ``None`` disables (1.0).
        epochs: maximum training epochs (100).
        batch_size: samples per step; ``None`` = full batch. Mini-batches are contiguous
            chronological blocks (so turnover is measured between consecutive days) whose
            order is shuffled each epoch when ``shuffle`` (None).
        shuffle: shuffle the order of the mini-batch blocks each epoch (True).
        validation_fraction: last fraction of the samples held out, chronologically, for the
            validation loss; 0 = none (0.0). With validation the best epoch's weights are
            restored at the end.
        patience: stop after this many epochs without a better validation loss; ``None`` =
            no early stopping. Requires ``validation_fraction > 0``.
        seed: seeds the initialisation, dropout and batch order (0).
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        progress: show a tqdm bar during ``fit`` (True).
        warm_start: ``fit`` continues from the current network weights instead of a fresh
            network (the scaler is always refitted) (False).
    """

    window: int = 30
    rsi_period: int = 14
    vol_window: int = 20
    rsi_warmup_bars: int = 500
    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.0
    max_weight: float | None = None
    loss: str = "paper"
    lambda_penalty: float = 10.0
    turnover_cost: float = 0.0
    learning_rate: float = 5e-4
    grad_clip_norm: float | None = 1.0
    epochs: int = 100
    batch_size: int | None = None
    shuffle: bool = True
    validation_fraction: float = 0.0
    patience: int | None = None
    seed: int = 0
    device: str = "auto"
    progress: bool = True
    warm_start: bool = False

    def __post_init__(self):
        for name, minimum in (("hidden_size", 1), ("num_layers", 1), ("epochs", 1), ("seed", 0)):
            _int(name, getattr(self, name), minimum)
        if self.batch_size is not None:
            _int("batch_size", self.batch_size, 1)
        if self.patience is not None:
            _int("patience", self.patience, 1)
        _float("dropout", self.dropout, 0.0, 1.0, hi_open=True)
        _float("lambda_penalty", self.lambda_penalty, 0.0)
        _float("turnover_cost", self.turnover_cost, 0.0)
        _float("learning_rate", self.learning_rate, 0.0, lo_open=True)
        _float("validation_fraction", self.validation_fraction, 0.0, 1.0, hi_open=True)
        if self.grad_clip_norm is not None:
            _float("grad_clip_norm", self.grad_clip_norm, 0.0, lo_open=True)
        if self.max_weight is not None:
            _float("max_weight", self.max_weight, 0.0, 1.0, lo_open=True)
        if self.loss not in LOSS_KINDS:
            raise ConfigError(f"loss must be one of {list(LOSS_KINDS)}, got {self.loss!r}")
        if self.device not in DEVICES:
            raise ConfigError(f"device must be one of {list(DEVICES)}, got {self.device!r}")
        for name in ("progress", "shuffle", "warm_start"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.patience is not None and self.validation_fraction == 0:
            raise ConfigError(
                f"patience={self.patience} needs a validation set; set validation_fraction > 0 "
                "(e.g. 0.2) or patience to None"
            )
        self.feature_spec  # noqa: B018 -- validates window, rsi_period, vol_window, rsi_warmup_bars

    @property
    def feature_spec(self) -> FeatureSpec:
        return FeatureSpec(
            window=self.window,
            rsi_period=self.rsi_period,
            vol_window=self.vol_window,
            rsi_warmup_bars=self.rsi_warmup_bars,
        )

    def model_dict(self) -> dict:
        return {name: getattr(self, name) for name in MODEL_FIELDS}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping | None = None, **overrides) -> LSTMConfig:
        """Build from a mapping (e.g. a YAML section) plus keyword overrides; unknown keys fail."""
        merged = dict(values or {})
        merged.update(overrides)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(merged) - known)
        if unknown:
            raise ConfigError(f"LSTMConfig: unknown keys {unknown}; known keys are {sorted(known)}")
        return cls(**merged)


def _int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _float(name, value, lo, hi=None, lo_open=False, hi_open=False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    below = value <= lo if lo_open else value < lo
    above = hi is not None and (value >= hi if hi_open else value > hi)
    if below or above:
        lo_txt = f"{'>' if lo_open else '>='} {lo}"
        hi_txt = "" if hi is None else f" and {'<' if hi_open else '<='} {hi}"
        raise ConfigError(f"{name} must be {lo_txt}{hi_txt}, got {value!r}")
