"""``MVOStrategy``: the rebalancing base driven by :class:`bt_lstm_mvo.allocators.mvo.MVOAllocator`.

"Static" MVO comes in two flavours, chosen by the base params:

* constant mix: ``schedule='daily'`` (or weekly/monthly/N): the weights estimated once at the
  first trading bar are restored on every scheduled bar, paying for drift;
* buy-and-hold: ``schedule='never'``: bought once, then the weights drift.

Re-estimation (the paper's section 5.3 remark) is ``refit=N`` with ``fit_window=None``
(expanding) or ``estimation_window`` (rolling) in ``allocator_params``.
"""

from __future__ import annotations

from bt_lstm_mvo.allocators.mvo import MVOAllocator
from bt_lstm_mvo.strategies.base import AllocationStrategy


class MVOStrategy(AllocationStrategy):
    """Mean-variance weights estimated on the history seen at the first trading bar (or refits).

    Params: those of :class:`~bt_lstm_mvo.strategies.base.AllocationStrategy`;
    ``allocator_params`` are :class:`~bt_lstm_mvo.allocators.mvo.MVOAllocator`'s arguments
    (``objective``, ``expected_returns``, ``covariance``, ``periods_per_year``,
    ``weight_bounds``, ``max_weight``, ``risk_free_rate``, ``estimation_window``), e.g.
    ``cerebro.addstrategy(MVOStrategy, allocator_params={"max_weight": 0.4})``.
    """

    allocator_class = MVOAllocator
