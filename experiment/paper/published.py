"""The paper's published figures, written once (PAPER_NOTES: "Published results").

Decimals (0.1234 = 12.34%). ``total_return`` is Table 1's (after 0.1% costs, as the paper
says); ``total_return_after_fees`` is the post-fee figure of the author's repository. Table 3's
final weights are by asset; Table 4 is the 2022 stress window.
"""

from __future__ import annotations

#: the notebook's ticker list, in the order its MVO weight vector is built (step 9)
PAPER_TICKERS = ("BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA")

PUBLISHED_MVO = {
    "weights": {"BTC-USD": 0.1185, "ETH-USD": 0.0, "SPY": 0.0, "GLD": 0.5188, "NVDA": 0.3627},
    "total_return": 1.5096,
    "total_return_after_fees": 1.5072,
    "max_drawdown": -0.1768,
    "sharpe": 2.04,
    "volatility": 0.181,
    "sortino_paper": 4.24,
}

PUBLISHED_LSTM = {
    "weights": {"BTC-USD": 0.9914, "ETH-USD": 0.0014, "SPY": 0.0010, "GLD": 0.0009, "NVDA": 0.0053},
    "total_return": 1.6642,
    "total_return_after_fees": 1.6615,
    "max_drawdown": -0.2598,
    "sharpe": 1.87,
    "volatility": 0.244,
    "sortino_paper": 3.30,
}

#: Table 2: alpha of the LSTM over MVO in three non-overlapping windows
PUBLISHED_ALPHA = (0.068, -0.021, 0.109)

#: Table 4: the 2022 bear market ("total return" and max drawdown as published)
PUBLISHED_2022 = {"lstm": {"total_return": 1.2147, "max_drawdown": -0.1981},
                  "mvo": {"total_return": 1.1091, "max_drawdown": -0.1041}}

#: Table 1 as printed: (label, metric key, how the paper rounds it)
TABLE1_ROWS = (("Total return", "total_return", 2), ("Max drawdown", "max_drawdown", 2), ("Sharpe", "sharpe", None),
               ("Sortino", "sortino_paper", None), ("Volatility (ann.)", "volatility", 1))
