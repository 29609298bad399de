"""Thin strategies over the naive allocators: equal weight, fixed weights, buy-and-hold."""

from __future__ import annotations

from bt_lstm_mvo.allocators.naive import BuyAndHold, EqualWeight, FixedWeights
from bt_lstm_mvo.strategies.base import AllocationStrategy


class EqualWeightStrategy(AllocationStrategy):
    """1/N in every feed, rebalanced on ``schedule`` (all AllocationStrategy params apply)."""

    def build_allocator(self):
        return EqualWeight()


class FixedWeightsStrategy(AllocationStrategy):
    """Constant weights by feed name.

    Params:
        weights (None): mapping feed name -> weight (>= 0, sum <= 1).
    """

    params = (("weights", None),)

    def build_allocator(self):
        return FixedWeights(self.p.weights)


class BuyAndHoldStrategy(AllocationStrategy):
    """Everything in one asset, bought once and held (``schedule='never'``).

    Params:
        asset (None): feed name to hold.
    """

    params = (("asset", None), ("schedule", "never"))

    def build_allocator(self):
        return BuyAndHold(self.p.asset)
