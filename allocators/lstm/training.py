"""The training loop, seeding and device choice.

Determinism: :func:`seeded` forks torch's RNG (CPU, and CUDA when used), seeds it, and turns on
``torch.use_deterministic_algorithms`` for the duration only; the caller's RNG state and the
deterministic-algorithms flag are restored afterwards. Batch order uses a ``torch.Generator``
seeded from the same seed. Same seed + same data + same thread count on CPU -> bit-identical
weights.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from bt_lstm_mvo.allocators.lstm.config import LSTMConfig
from bt_lstm_mvo.allocators.lstm.losses import portfolio_loss
from bt_lstm_mvo.errors import AllocationError, ConfigError

log = logging.getLogger(__name__)


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when available else CPU; ``cuda`` without CUDA is a ConfigError."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' but torch.cuda.is_available() is False; use 'auto' or 'cpu'")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    return torch.device(device)


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | None = None, fill_uninitialized: bool = False) -> Iterator[None]:
    """Seeded, deterministic torch section that restores the global state on exit.

    ``fill_uninitialized``: torch's ``torch.utils.deterministic.fill_uninitialized_memory``
    inside the section. Deterministic mode turns it on by default, filling every new tensor
    with NaN before use, a debugging aid that made a full-batch training epoch 1.3x slower
    (the LSTM's backward allocates ~170 MB per epoch on the paper data). Off here: no op we
    run reads memory it has not written, and the trained weights are bit-identical either way
    (tested).
    """
    import torch.utils.deterministic as deterministic

    cuda_devices = [device] if device is not None and device.type == "cuda" else []
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    was_fill = deterministic.fill_uninitialized_memory
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        # warn_only: on CUDA a few kernels have no deterministic version; CPU ops all do
        torch.use_deterministic_algorithms(True, warn_only=True)
        deterministic.fill_uninitialized_memory = bool(fill_uninitialized)
        try:
            yield
        finally:
            deterministic.fill_uninitialized_memory = was_fill
            torch.use_deterministic_algorithms(was_deterministic, warn_only=was_warn_only)


@dataclass
class TrainResult:
    """What one training run produced (besides the trained model itself)."""

    history: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    best_val_loss: float | None = None
    stopped_early: bool = False


def _batches(n: int, batch_size: int | None, shuffle: bool, generator: torch.Generator) -> list[slice]:
    """Contiguous chronological blocks, in shuffled order when ``shuffle``."""
    if batch_size is None or batch_size >= n:
        return [slice(0, n)]
    blocks = [slice(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    if shuffle:
        order = torch.randperm(len(blocks), generator=generator).tolist()
        blocks = [blocks[i] for i in order]
    return blocks


def _loss(model, x, y, config: LSTMConfig) -> torch.Tensor:
    return portfolio_loss(
        model(x),
        y,
        kind=config.loss,
        lambda_penalty=config.lambda_penalty,
        turnover_cost=config.turnover_cost,
    )


def evaluate_loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, config: LSTMConfig) -> float:
    """The loss of ``model`` on a whole (chronological) set, in eval mode, without gradients."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return float(_loss(model, x, y, config))
    finally:
        model.train(was_training)


def train_policy(
    model: torch.nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    config: LSTMConfig,
    x_val: torch.Tensor | None = None,
    y_val: torch.Tensor | None = None,
) -> TrainResult:
    """Train ``model`` in place with Adam; returns the per-epoch history.

    Runs ``config.epochs`` epochs, or fewer when ``config.patience`` epochs pass without a
    better validation loss. With a validation set the best epoch's weights are restored at the
    end. Call it inside :func:`seeded` for reproducible results. Tensors must already be on the
    model's device. A non-finite loss raises :class:`AllocationError`.
    """
    has_val = x_val is not None and y_val is not None and x_val.shape[0] > 0
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    generator = torch.Generator().manual_seed(config.seed)
    result = TrainResult()
    best_state = None
    n = x_train.shape[0]
    bar = tqdm(range(1, config.epochs + 1), desc="LSTM fit", unit="epoch", disable=not config.progress,
               leave=False)
    try:
        for epoch in bar:
            start = time.perf_counter()
            model.train()
            total = 0.0
            for block in _batches(n, config.batch_size, config.shuffle, generator):
                optimizer.zero_grad(set_to_none=True)
                loss = _loss(model, x_train[block], y_train[block], config)
                if not torch.isfinite(loss):
                    raise AllocationError(
                        f"LSTM training: the loss became {float(loss.detach())} at epoch {epoch}; lower "
                        f"learning_rate (now {config.learning_rate}) or keep grad_clip_norm set"
                    )
                loss.backward()
                if config.grad_clip_norm is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=config.grad_clip_norm)
                optimizer.step()
                total += float(loss.detach()) * (block.stop - block.start)
            train_loss = total / n
            val_loss = evaluate_loss(model, x_val, y_val, config) if has_val else None
            seconds = time.perf_counter() - start
            result.history.append(
                {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "seconds": seconds}
            )
            postfix = {"loss": f"{train_loss:.3e}"}
            if has_val:
                postfix["val_loss"] = f"{val_loss:.3e}"
                if result.best_val_loss is None or val_loss < result.best_val_loss:
                    result.best_val_loss = val_loss
                    result.best_epoch = epoch
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                elif config.patience is not None and epoch - result.best_epoch >= config.patience:
                    result.stopped_early = True
                    bar.set_postfix(postfix)
                    break
            bar.set_postfix(postfix)
    finally:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    elif not has_val:
        result.best_epoch = len(result.history)
    model.eval()
    if result.stopped_early:
        log.info("LSTM fit: early stop at epoch %d, best epoch %d", len(result.history), result.best_epoch)
    return result


def mean_epoch_seconds(history: list[dict]) -> float:
    """Mean wall time of the epochs in a training history (NaN when empty)."""
    return sum(h["seconds"] for h in history) / len(history) if history else math.nan
