"""Replication of the reference notebook's LSTM (PAPER_NOTES, steps 3-8), defects included.

This is NOT the default method; it exists to reproduce the published numbers on purpose.
What it keeps from the notebook, deliberately:

* "RSI" computed from the day-to-day change of the *returns* (not prices), smoothed with
  ``ewm(com=13, adjust=False)``; 20-day rolling std of returns; rows with any NaN dropped;
  features in feature-major order ``[returns | rsi | vol]`` (each block in column order);
* min-max scaling fitted on ALL rows (test period included: look-ahead);
* targets = the next row's SCALED returns (all >= 0, so the drawdown penalty never fires);
* loss ``-mean(Rp) + lambda * mean(Rp[Rp < 0]^2)`` (penalty over negative days only), lambda 10;
* one LSTM layer, hidden 64, last hidden state -> linear -> softmax; full-batch Adam,
  lr 5e-4, gradient clipping 1.0, 100 epochs;
* split: first 80% of the samples train, last 20% test (292 test days on the paper data);
* evaluation: portfolio return = weights (float32, as the notebook) . RAW returns of the day.

What it adds: a seed (the notebook had none), so a run is reproducible; the result of one seed
is one draw from the distribution the paper's single number came from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from bt_lstm_mvo.allocators.lstm.config import LSTMConfig
from bt_lstm_mvo.allocators.lstm.features import MinMaxScaler, validate_prices, windows
from bt_lstm_mvo.allocators.lstm.model import LSTMPolicy
from bt_lstm_mvo.allocators.lstm.training import seeded, train_policy
from bt_lstm_mvo.errors import DataError
from bt_lstm_mvo.experiment.paper.notebook import (
    FEE_RATE,
    SEQ_LENGTH,
    TRAIN_FRACTION,
    notebook_costs,
    notebook_features,
)


def run_notebook_lstm(
    closes: pd.DataFrame,
    seed: int = 0,
    *,
    epochs: int = 100,
    hidden_size: int = 64,
    lambda_penalty: float = 10.0,
    learning_rate: float = 5e-4,
    window: int = SEQ_LENGTH,
    train_fraction: float = TRAIN_FRACTION,
    fee_rate: float = FEE_RATE,
    progress: bool = False,
) -> dict:
    """Run the notebook's LSTM end to end on ``closes`` (the alphabetical 5-asset frame).

    Returns a dict:
        ``returns``: test daily portfolio returns (weights . raw returns), a Series indexed by
        the day each return is earned (292 days on the paper data);
        ``returns_after_costs``: the same minus the notebook's costs (step 10: ``fee_rate`` times
        the L1 change of the target weights, ``fee_rate`` on the first day);
        ``weights``: the weights history (DataFrame, same index: the weights earning that day);
        ``final_weights``: ``{asset: weight}`` of the last test day;
        ``train_loss``: per-epoch training losses; ``seed``, ``n_features_rows``, ``n_samples``,
        ``n_train``, ``n_test``.
    """
    validate_prices(closes, "run_notebook_lstm")
    assets = list(closes.columns)
    n_assets = len(assets)
    features = notebook_features(closes)
    if len(features) < window + 2:
        raise DataError(f"run_notebook_lstm: only {len(features)} feature rows; need more than {window + 1}")
    values = features.to_numpy(dtype=float)
    scaled = MinMaxScaler.fit(values).transform(values)  # fitted on ALL rows (notebook's look-ahead)
    rows = np.arange(window - 1, len(values) - 1)  # decision rows; sample i = rows i .. i + window - 1
    x_all = windows(scaled, rows, window).astype(np.float32)
    y_scaled = scaled[rows + 1, :n_assets].astype(np.float32)  # the notebook's (scaled) targets
    raw_returns = values[rows + 1, :n_assets]
    split = int(len(rows) * train_fraction)

    config = LSTMConfig(
        hidden_size=hidden_size,
        loss="notebook",
        lambda_penalty=lambda_penalty,
        learning_rate=learning_rate,
        grad_clip_norm=1.0,
        epochs=epochs,
        batch_size=None,
        seed=seed,
        device="cpu",
        progress=progress,
    )
    with seeded(seed):
        model = LSTMPolicy(n_features=values.shape[1], n_assets=n_assets, hidden_size=hidden_size)
        x_train, y_train = torch.from_numpy(x_all[:split]), torch.from_numpy(y_scaled[:split])
        result = train_policy(model, x_train, y_train, config)
        with torch.no_grad():
            test_weights = model(torch.from_numpy(x_all[split:])).numpy()

    dates = features.index[rows[split:] + 1]
    weights = pd.DataFrame(test_weights.astype(np.float64), index=dates, columns=assets)
    gross = pd.Series(
        (weights.to_numpy() * raw_returns[split:]).sum(axis=1), index=dates, name="lstm_notebook"
    )
    costs = notebook_costs(weights.to_numpy(), fee_rate)
    return {
        "returns": gross,
        "returns_after_costs": (gross - costs).rename("lstm_notebook_after_costs"),
        "weights": weights,
        "final_weights": {a: float(w) for a, w in weights.iloc[-1].items()},
        "train_loss": [h["train_loss"] for h in result.history],
        "seed": seed,
        "n_features_rows": len(features),
        "n_samples": len(rows),
        "n_train": split,
        "n_test": len(rows) - split,
    }
