"""Build allocators and strategy classes from validated strategy configs."""

from __future__ import annotations

import difflib
import inspect

from bt_lstm_mvo.allocators.base import Allocator
from bt_lstm_mvo.allocators.naive import BuyAndHold, EqualWeight, FixedWeights
from bt_lstm_mvo.errors import ConfigError, PluginError
from bt_lstm_mvo.strategies.base import AllocationStrategy


def _mvo(params: dict) -> Allocator:
    from bt_lstm_mvo.allocators.mvo import MVOAllocator

    _check_keys(params, MVOAllocator.__init__, "mvo")
    kw = dict(params)
    if "weight_bounds" in kw:
        kw["weight_bounds"] = tuple(kw["weight_bounds"])
    return MVOAllocator(**kw)


def _lstm(params: dict, seed: int | None = None, progress: bool | None = None) -> Allocator:
    from bt_lstm_mvo.allocators.lstm import LSTMAllocator, LSTMConfig

    overrides = {}
    if seed is not None:
        overrides["seed"] = seed
    if progress is not None:
        overrides["progress"] = progress
    _check_keys(params, LSTMConfig, "lstm")
    return LSTMAllocator(LSTMConfig.from_dict(params, **overrides))


def _check_keys(params: dict, target, kind: str) -> None:
    if inspect.isclass(target) and hasattr(target, "__dataclass_fields__"):
        allowed = list(target.__dataclass_fields__)
    else:
        allowed = [p for p in inspect.signature(target).parameters if p != "self"]
    for key in params:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
            raise ConfigError(f"{key}: unknown {kind} parameter ({hint})")


def build_allocator(spec, seed: int | None = None, progress: bool | None = None) -> Allocator:
    """A fresh allocator for one strategy config (``seed`` overrides the LSTM seed)."""
    if spec.kind == "equal_weight":
        return EqualWeight()
    if spec.kind == "fixed_weights":
        return FixedWeights(spec.weights)
    if spec.kind == "buy_and_hold":
        return BuyAndHold(spec.asset)
    if spec.kind == "mvo":
        return _mvo(spec.params)
    if spec.kind == "lstm":
        alloc = _lstm(spec.params, seed=seed, progress=progress)
        if spec.checkpoint:
            alloc = type(alloc).from_checkpoint(spec.checkpoint, progress=bool(progress))
        return alloc
    raise ConfigError(f"unknown strategy kind {spec.kind!r}")


def allocator_kwargs_error(spec) -> str | None:
    """Message of the error building this allocator raises, or None when it builds."""
    if spec.kind in ("equal_weight", "fixed_weights", "buy_and_hold") and spec.params:
        return f"kind {spec.kind!r} takes no params, got {sorted(spec.params)}"
    if spec.kind == "lstm" and spec.checkpoint:
        return None  # validated when loaded
    try:
        build_allocator(spec, progress=False)
    except PluginError as exc:
        return str(exc)
    except TypeError as exc:
        return str(exc)
    return None


def strategy_kwargs(spec, broker, trade_start, allocator: Allocator) -> dict:
    """AllocationStrategy params for one strategy config."""
    return {
        "allocator": allocator,
        "schedule": spec.schedule,
        "drift_threshold": spec.drift_threshold,
        "trade_start": trade_start,
        "execution": broker.execution,
        "cash_buffer": broker.cash_buffer,
        "on_failure": spec.on_failure,
        "fit": not bool(spec.checkpoint),
        "refit": spec.refit,
        "fit_window": spec.fit_window,
        "commission_rate": broker.commission,
    }


STRATEGY_CLASS = AllocationStrategy
