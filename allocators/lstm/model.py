"""The network: LSTM over the window -> last hidden state -> linear(n_assets) -> softmax [-> cap].

The output is a weight vector per sample: ``>= 0``, summing to 1 (fully invested, long only).

Per-asset cap (``max_weight``): :func:`cap_weights` maps the softmax output onto the capped
simplex ``{w : 0 <= w_i <= cap, sum w = 1}`` by water-filling: assets above the cap are set to
the cap and the excess is shared among the others in proportion to their weights, repeated
until no weight exceeds the cap (at most ``n_assets`` rounds). The result is
``w_i = min(cap, c * softmax_i)`` with ``c`` chosen so the sum is 1, which is the KL
(information) projection of the softmax weights onto the capped simplex. It is piecewise
differentiable, so it sits *inside* the network and is used in training as well as inference.
The cap then holds exactly in the dtype it is computed in; ``allocate`` re-applies it in float64
so the returned weights never exceed it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bt_lstm_mvo.errors import ConfigError


def check_cap(max_weight: float | None, n_assets: int) -> None:
    """Raise :class:`ConfigError` when ``max_weight * n_assets < 1`` (no fully invested portfolio)."""
    if max_weight is not None and max_weight * n_assets < 1.0 - 1e-12:
        raise ConfigError(
            f"max_weight={max_weight} is infeasible for {n_assets} assets: max_weight * n_assets = "
            f"{max_weight * n_assets:.6g} < 1; use max_weight >= {1.0 / n_assets:.6g} or None"
        )


def cap_weights(weights: torch.Tensor, max_weight: float | None) -> torch.Tensor:
    """Project weights (last dim sums to 1, ``>= 0``) onto the capped simplex; see module doc."""
    if max_weight is None or max_weight >= 1.0:
        return weights
    n_assets = weights.shape[-1]
    check_cap(max_weight, n_assets)
    cap = torch.as_tensor(max_weight, dtype=weights.dtype, device=weights.device)
    capped = torch.zeros_like(weights, dtype=torch.bool)
    w = weights
    for _ in range(n_assets + 1):
        n_capped = capped.sum(dim=-1, keepdim=True)
        free_mass = 1.0 - cap * n_capped
        free = torch.where(capped, torch.zeros_like(w), weights)
        free_total = free.sum(dim=-1, keepdim=True)
        has_mass = free_total > 0
        n_free = (n_assets - n_capped).clamp_min(1)
        shared = torch.where(
            has_mass,
            free * (free_mass / torch.where(has_mass, free_total, torch.ones_like(free_total))),
            (free_mass / n_free).expand_as(free),
        )
        w = torch.where(capped, cap.expand_as(w), shared)
        over = (w > cap) & ~capped
        if not bool(over.any()):
            break
        capped = capped | over
    return torch.minimum(w, cap)


class LSTMPolicy(nn.Module):
    """Maps input windows ``(batch, window, n_features)`` to weights ``(batch, n_assets)``."""

    def __init__(
        self,
        n_features: int,
        n_assets: int,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        max_weight: float | None = None,
    ):
        super().__init__()
        check_cap(max_weight, n_assets)
        self.n_features = n_features
        self.n_assets = n_assets
        self.max_weight = max_weight
        self.lstm = nn.LSTM(
            n_features,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden_size, n_assets)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(x)
        return self.fc(self.dropout(h_n[-1]))

    def infer_logits(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`logits` for inference, bit for bit, with less Python per call (the per-bar path).

        The same LSTM kernel (``torch.lstm``, which ``nn.LSTM.forward`` calls) on the module's own
        parameters and the same linear head, without ``nn.Module``'s per-call work (hooks, the
        hidden-state checks, two new zero states). Inside a strategy, where Backtrader's work
        between two bars leaves the caches cold, each torch call costs several times its warm
        cost, so fewer calls matter (BENCHMARKS.md section 4). Used in eval mode under
        ``torch.inference_mode()`` on a batched (3-D) input; anything else is :meth:`logits`.
        """
        lstm = self.lstm
        if (self.training or lstm.training or x.dim() != 3 or lstm.proj_size or lstm.bidirectional
                or not torch.is_inference_mode_enabled()):
            return self.logits(x)
        key = (x.shape[0], x.dtype, x.device)
        zeros = self.__dict__.get("_zero_state")  # not a buffer: never in state_dict
        if zeros is None or zeros[0] != key:
            h0 = torch.zeros(lstm.num_layers, x.shape[0], lstm.hidden_size, dtype=x.dtype, device=x.device)
            zeros = self.__dict__["_zero_state"] = (key, (h0, h0))  # torch.lstm does not write to it
        params = getattr(lstm, "_flat_weights", None)  # what nn.LSTM.forward passes torch.lstm (kept current
        if params is None:  # by nn.RNNBase on .to() and on new weights); the public list otherwise
            params = [p for layer in lstm.all_weights for p in layer]
        _, h_n, _ = torch.lstm(x, zeros[1], params, lstm.bias, lstm.num_layers, 0.0, False, False,
                               lstm.batch_first)
        return F.linear(h_n[-1], self.fc.weight, self.fc.bias)  # dropout is the identity in eval mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.logits(x), dim=-1)
        return cap_weights(weights, self.max_weight)
