"""The paper's LSTM rebalancer: features, network, training, checkpoints and the allocator.

Public API::

    LSTMConfig(...)                       # validated settings (YAML keys = field names)
    LSTMAllocator(config=None, **fields)  # .fit(history) / .allocate(history) / .save / .load
    compute_features(prices, spec=None)   # offline features, same code as allocate()
    FeatureSpec, MinMaxScaler             # feature definition / learned scaling
    portfolio_loss(weights, returns, kind, lambda_penalty, turnover_cost)

Nothing here imports backtrader.
"""

from bt_lstm_mvo.allocators.lstm.allocator import LSTMAllocator
from bt_lstm_mvo.allocators.lstm.config import LSTMConfig
from bt_lstm_mvo.allocators.lstm.features import FEATURE_NAMES, FeatureSpec, MinMaxScaler, compute_features
from bt_lstm_mvo.allocators.lstm.losses import portfolio_loss
from bt_lstm_mvo.allocators.lstm.model import LSTMPolicy, cap_weights

__all__ = [
    "FEATURE_NAMES",
    "FeatureSpec",
    "LSTMAllocator",
    "LSTMConfig",
    "LSTMPolicy",
    "MinMaxScaler",
    "cap_weights",
    "compute_features",
    "portfolio_loss",
]
