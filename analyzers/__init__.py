"""Performance metrics (pure functions in :mod:`bt_lstm_mvo.analyzers.metrics`) and Backtrader analyzers.

Analyzers (add with ``cerebro.addanalyzer(...)``; each reads the broker's value-based daily
returns through a ``TimeReturn`` sub-analyzer and works with any strategy):

* :class:`SortinoRatio`: Sortino ratio, ``"standard"`` or the paper's variant.
* :class:`PaperMetrics`: total return, CAGR, volatility, Sharpe, Sortino, max drawdown, Calmar.
* :class:`RollingAlpha`: excess return over a benchmark feed or returns Series per window.
* :class:`StressWindow`: return, drawdown and volatility inside named date windows.
* :class:`PortfolioWeights`: held and target weights per bar, final weights, turnover, costs.
* :class:`TearsheetStats`: monthly/yearly returns, rolling Sharpe and volatility, worst drawdowns.
* :class:`ExecutionCosts`: fees, spread and impact paid, volume-capped orders, interest earned.
* :class:`Holdings`: positions and transactions in pyfolio's layout (``positions()``, ``transactions()``).
"""

from bt_lstm_mvo.analyzers.alpha import BenchmarkReturn, RollingAlpha
from bt_lstm_mvo.analyzers.bt_analyzers import (
    PaperMetrics,
    PortfolioReturnsAnalyzer,
    SortinoRatio,
    TearsheetStats,
    returns_from_timereturn,
)
from bt_lstm_mvo.analyzers.costs import ExecutionCosts
from bt_lstm_mvo.analyzers.portfolio import Holdings, PortfolioWeights
from bt_lstm_mvo.analyzers.stress import StressWindow

__all__ = [
    "BenchmarkReturn",
    "ExecutionCosts",
    "Holdings",
    "PaperMetrics",
    "PortfolioWeights",
    "PortfolioReturnsAnalyzer",
    "RollingAlpha",
    "SortinoRatio",
    "StressWindow",
    "TearsheetStats",
    "returns_from_timereturn",
]
