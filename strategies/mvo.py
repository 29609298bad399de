"""``MVOStrategy``: the rebalancing base driven by :class:`bt_lstm_mvo.allocators.mvo.MVOAllocator`.

"Static" MVO comes in two flavours, chosen by the base params:

* constant mix: ``schedule='daily'`` (or weekly/monthly/N): the weights estimated once at the
  first trading bar are restored on every scheduled bar, paying for drift;
* buy-and-hold: ``schedule='never'``: bought once, then the weights drift.

Re-estimation (the paper's section 5.3 remark) is ``refit=N`` with ``fit_window=None``
(expanding) or ``estimation_window`` (rolling) in the allocator params.
"""

from __future__ import annotations

from bt_lstm_mvo.allocators.mvo import MVOAllocator
from bt_lstm_mvo.strategies.base import AllocationStrategy


class MVOStrategy(AllocationStrategy):
    """Mean-variance weights estimated on the history seen at the first trading bar (or refits).

    Params (besides AllocationStrategy's):
        objective ('max_sharpe'), expected_returns ('mean_historical'), covariance ('sample'),
        periods_per_year (None: measured from dates), weight_bounds ((0, 1)), max_weight (None),
        risk_free_rate (0.0), estimation_window (None): passed to MVOAllocator.
        An ``allocator`` param, if given, is used as is instead.
    """

    params = (
        ("objective", "max_sharpe"),
        ("expected_returns", "mean_historical"),
        ("covariance", "sample"),
        ("periods_per_year", None),
        ("weight_bounds", (0.0, 1.0)),
        ("max_weight", None),
        ("risk_free_rate", 0.0),
        ("estimation_window", None),
    )

    def build_allocator(self):
        if self.p.allocator is not None:
            return self.p.allocator
        return MVOAllocator(
            objective=self.p.objective, expected_returns=self.p.expected_returns,
            covariance=self.p.covariance, periods_per_year=self.p.periods_per_year,
            weight_bounds=tuple(self.p.weight_bounds), max_weight=self.p.max_weight,
            risk_free_rate=self.p.risk_free_rate, estimation_window=self.p.estimation_window,
        )
