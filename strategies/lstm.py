"""``LSTMStrategy``: the rebalancing base driven by :class:`bt_lstm_mvo.allocators.lstm.LSTMAllocator`.

The strategy fits the network itself on the bars it has seen: once at the trading start (the
paper), or walk-forward every ``refit`` bars over an expanding (``fit_window=None``) or rolling
window. Per-bar inference sees only the allocator's constant ``lookback`` rows, so its cost
does not grow with the history.

Checkpoint rule (the same as the runner's): a ``checkpoint`` replaces the first fit, so a
trained model is reused in another cerebro without retraining; with ``refit=N`` the strategy
still refits every N trading bars after the first.
"""

from __future__ import annotations

from bt_lstm_mvo.allocators.lstm import LSTMAllocator
from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.strategies.base import AllocationStrategy


class LSTMStrategy(AllocationStrategy):
    """LSTM weights, decided at each scheduled bar from the trailing ``lookback`` closes.

    Params (besides AllocationStrategy's):
        allocator_params (None): :class:`~bt_lstm_mvo.allocators.lstm.LSTMConfig` fields
            (``epochs``, ``lambda_penalty``, ``seed``...), e.g. ``{"epochs": 100}``.
        checkpoint (None): path of a saved model; it is loaded instead of trained (no
            ``allocator_params`` then: the checkpoint carries its config).
    """

    allocator_class = LSTMAllocator
    params = (("checkpoint", None),)

    def __init__(self):
        super().__init__()
        if self.p.checkpoint is not None:
            self.do_fit = False

    def build_allocator(self):
        if self.p.checkpoint is None:
            return super().build_allocator()
        if self.p.allocator is not None or self.p.allocator_params:
            raise ConfigError("LSTMStrategy: a checkpoint carries its own config; give 'checkpoint' alone "
                              "(not with 'allocator' or 'allocator_params')")
        return LSTMAllocator.from_checkpoint(self.p.checkpoint)
