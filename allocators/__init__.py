"""Framework-free allocators: price history known at a decision time -> target weights.

Nothing in this package imports backtrader. See :mod:`bt_lstm_mvo.allocators.base` for the contract.
"""

from bt_lstm_mvo.allocators.base import Allocator, validate_weights
from bt_lstm_mvo.allocators.naive import BuyAndHold, EqualWeight, FixedWeights

__all__ = ["Allocator", "validate_weights", "EqualWeight", "FixedWeights", "BuyAndHold"]
