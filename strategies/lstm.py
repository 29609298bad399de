"""``LSTMStrategy``: the rebalancing base driven by :class:`bt_lstm_mvo.allocators.lstm.LSTMAllocator`.

The strategy fits the network itself on the bars it has seen: once at the trading start (the
paper), or walk-forward every ``refit`` bars over an expanding (``fit_window=None``) or rolling
window. A pre-trained checkpoint skips the fit, so a trained model can be reused in another
cerebro without retraining. Per-bar inference sees only the allocator's constant ``lookback``
rows, so its cost does not grow with the history.
"""

from __future__ import annotations

from bt_lstm_mvo.allocators.lstm import LSTMAllocator
from bt_lstm_mvo.strategies.base import AllocationStrategy


class LSTMStrategy(AllocationStrategy):
    """LSTM weights, decided at each scheduled bar from the trailing ``lookback`` closes.

    Params (besides AllocationStrategy's):
        config (None): an ``LSTMConfig`` or a mapping of its fields (None: the defaults).
        checkpoint (None): path of a saved model; when given the model is loaded, not trained
            (``fit`` is then ignored unless ``refit`` asks for walk-forward refits).
        An ``allocator`` param, if given, is used as is instead.
    """

    params = (("config", None), ("checkpoint", None))

    def __init__(self):
        super().__init__()
        if self.p.checkpoint is not None and self.refit is None:
            self.do_fit = False

    def build_allocator(self):
        if self.p.allocator is not None:
            return self.p.allocator
        if self.p.checkpoint is not None:
            return LSTMAllocator.from_checkpoint(self.p.checkpoint)
        return LSTMAllocator(self.p.config)
