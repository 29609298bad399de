"""The strategy-kind registry: one place to add an allocator to the runner.

Each ``kind`` of a config's strategy maps to a :class:`Kind`: how to build its allocator from
the strategy's config, which config fields it takes (``weights``, ``asset``, ``checkpoint``,
``class``, ``params``), and whether it trains with a seed. The history an allocator needs
before its first decision comes from the allocator itself
(:meth:`bt_lstm_mvo.allocators.base.Allocator.min_history_rows`; for the LSTM,
``FeatureSpec.min_rows`` plus its targets), so it is never written twice.

Built-in kinds: ``equal_weight``, ``fixed_weights``, ``buy_and_hold``, ``mvo``, ``lstm``. The
kind ``python`` names a user's own allocator class by import path, validated like the
built-ins::

    strategies:
      mom:
        kind: python
        class: mypkg.alloc:MomentumAllocator     # or mypkg.alloc.MomentumAllocator
        params: {lookback_bars: 60}

The class must subclass :class:`bt_lstm_mvo.allocators.Allocator`; ``params`` must fit its
``__init__``. To add a built-in kind, write the allocator (framework-free) and add one entry
to :data:`KINDS`.

Checkpoint rule (the same in the runner and in ``LSTMStrategy``): a ``checkpoint`` replaces
the first fit; with ``refit: N`` the strategy still refits every N trading bars after that.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

from bt_lstm_mvo.allocators.base import Allocator
from bt_lstm_mvo.allocators.naive import BuyAndHold, EqualWeight, FixedWeights
from bt_lstm_mvo.errors import ConfigError, PluginError
from bt_lstm_mvo.text import did_you_mean, one_line

#: strategy-config fields that only some kinds take (the others are common to all kinds)
KIND_FIELDS = ("weights", "asset", "checkpoint", "class_", "params", "seeds")


@dataclass(frozen=True)
class Kind:
    """One strategy kind: its allocator builder and the config fields it takes.

    ``build(spec, seed, progress)`` returns a fresh allocator for a validated strategy config;
    ``fields`` are the entries of :data:`KIND_FIELDS` the kind takes (``required`` of them must
    be set); ``seeded``: whether ``seeds`` (one run per training seed) applies.
    """

    name: str
    summary: str
    build: Callable
    fields: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    seeded: bool = False


def _check_keys(params: dict, allowed: list[str], owner: str) -> None:
    for key in params:
        if key not in allowed:
            raise ConfigError(f"{key}: unknown {owner} parameter ({did_you_mean(key, allowed)})")


def _init_params(cls) -> list[str]:
    if hasattr(cls, "__dataclass_fields__"):
        return list(cls.__dataclass_fields__)
    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


def _mvo(spec, seed=None, progress=None) -> Allocator:
    from bt_lstm_mvo.allocators.mvo import MVOAllocator  # cvxpy is imported on the first estimate

    _check_keys(spec.params, _init_params(MVOAllocator), "mvo")
    kw = dict(spec.params)
    if "weight_bounds" in kw and isinstance(kw["weight_bounds"], list):
        kw["weight_bounds"] = tuple(kw["weight_bounds"])
    return MVOAllocator(**kw)


def _lstm(spec, seed=None, progress=None) -> Allocator:
    from bt_lstm_mvo.allocators.lstm import LSTMAllocator, LSTMConfig

    overrides = {}
    if progress is not None:
        overrides["progress"] = bool(progress)
    if spec.checkpoint:
        if spec.params:
            raise ConfigError(
                f"params {sorted(spec.params)} cannot be combined with a checkpoint (the checkpoint "
                "carries its own config); drop them or train without the checkpoint"
            )
        return LSTMAllocator.from_checkpoint(spec.checkpoint, **overrides)
    if seed is not None:
        overrides["seed"] = seed
    _check_keys(spec.params, _init_params(LSTMConfig), "lstm")
    return LSTMAllocator(LSTMConfig.from_dict(spec.params, **overrides))


def import_allocator_class(path: str):
    """The class named by ``"module:Class"`` (or ``"module.Class"``); ConfigError when the
    import fails or the object is not an :class:`Allocator` subclass."""
    if not isinstance(path, str) or not path.strip():
        raise ConfigError(f"class: must be an import path such as 'mypkg.alloc:MyAllocator', got {path!r}")
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr or module_name.startswith("."):
        raise ConfigError(f"class: {path!r} is not an import path 'module:Class' (e.g. 'mypkg.alloc:MyAllocator')")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"class: cannot import module {module_name!r} for {path!r} ({exc})") from None
    except Exception as exc:  # the user's module itself fails (a syntax error, an error at import)
        raise ConfigError(f"class: importing module {module_name!r} for {path!r} failed "
                          f"({type(exc).__name__}: {one_line(exc)})") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"class: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not (inspect.isclass(obj) and issubclass(obj, Allocator)):
        raise ConfigError(
            f"class: {path!r} is {obj!r}, not a subclass of bt_lstm_mvo.allocators.Allocator "
            "(implement allocate(history) -> weights, and fit(history) if it learns)"
        )
    return obj


def _python(spec, seed=None, progress=None) -> Allocator:
    cls = import_allocator_class(spec.class_)
    try:
        inspect.signature(cls).bind(**spec.params)
    except TypeError as exc:
        allowed = _init_params(cls)
        raise ConfigError(f"{spec.class_}: params {sorted(spec.params)} do not fit its __init__ ({exc}; "
                          f"it takes {allowed})") from None
    try:
        return cls(**spec.params)
    except (TypeError, ValueError) as exc:  # the user's own argument checks
        raise ConfigError(f"{spec.class_}({spec.params}): {type(exc).__name__}: {exc}") from None


KINDS: dict[str, Kind] = {
    "equal_weight": Kind("equal_weight", "1/N in every asset", lambda spec, seed=None, progress=None: EqualWeight()),
    "fixed_weights": Kind("fixed_weights", "constant weights by asset name",
                          lambda spec, seed=None, progress=None: FixedWeights(spec.weights),
                          fields=("weights",), required=("weights",)),
    "buy_and_hold": Kind("buy_and_hold", "everything in one asset",
                         lambda spec, seed=None, progress=None: BuyAndHold(spec.asset),
                         fields=("asset",), required=("asset",)),
    "mvo": Kind("mvo", "mean-variance optimisation (PyPortfolioOpt)", _mvo, fields=("params",)),
    "lstm": Kind("lstm", "the paper's LSTM rebalancer (PyTorch)", _lstm, fields=("params", "checkpoint", "seeds"),
                 seeded=True),
    "python": Kind("python", "a user's Allocator subclass by import path", _python, fields=("class_", "params"),
                   required=("class_",)),
}

KIND_NAMES = tuple(KINDS)


def field_name(field: str) -> str:
    """The YAML name of a strategy-config field (``class_`` is ``class``)."""
    return "class" if field == "class_" else field


def kind_field_problem(spec) -> str | None:
    """A one-line message when ``spec`` sets a field its kind does not take or misses a
    required one (so nothing given is silently ignored); None when it is consistent."""
    kind = KINDS[spec.kind]
    for f in kind.required:
        if not getattr(spec, f):
            return f"kind {spec.kind!r} needs {field_name(f)!r}"
    for f in KIND_FIELDS:
        value = getattr(spec, f)
        if f not in kind.fields and value not in (None, {}, []):
            takes = ", ".join(repr(field_name(x)) for x in kind.fields) or "none of them"
            return (f"{field_name(f)!r} does not apply to kind {spec.kind!r} (it takes {takes} of "
                    f"{', '.join(field_name(x) for x in KIND_FIELDS)})")
    if spec.seeds is not None and not spec.seeds:
        return "'seeds' must list at least one seed"
    if spec.seeds and spec.checkpoint:
        return "'seeds' cannot be combined with a checkpoint (nothing is trained)"
    return None


def allocator_problem(spec) -> str | None:
    """``"<field>: <message>"`` of the error building this strategy's allocator raises, or None
    when it builds (a checkpoint is loaded, a user's class imported and constructed)."""
    try:
        build_allocator(spec, progress=False)
    except PluginError as exc:
        msg = str(exc)
        if spec.kind == "python" and msg.startswith("class:"):
            return msg
        field = {"fixed_weights": "weights", "buy_and_hold": "asset"}.get(
            spec.kind, "checkpoint" if spec.checkpoint else "params")
        return f"{field}: {msg}"
    return None


def build_allocator(spec, seed: int | None = None, progress: bool | None = None) -> Allocator:
    """A fresh allocator for one validated strategy config (``seed`` overrides a seeded kind's)."""
    return KINDS[spec.kind].build(spec, seed=seed, progress=progress)


def seeds_of(spec) -> list[int | None]:
    """The training seeds a strategy runs with (``[None]``: one run with its own settings)."""
    return list(spec.seeds) if KINDS[spec.kind].seeded and spec.seeds else [None]


def strategy_kwargs(spec, broker, trade_start, allocator: Allocator, folds=None) -> dict:
    """``AllocationStrategy`` params for one strategy config (a checkpoint replaces the first fit).

    ``folds``: the walk-forward plan (:func:`bt_lstm_mvo.experiment.split.fold_plan`) and its
    ``(training, train_bars, gap)``: the strategy refits at every fold's decision bar, on the
    rolling or expanding window, leaving ``gap`` bars out.
    """
    if folds is not None:
        plan, (training, train_bars, gap) = folds
        fold_kw = {"refit": None, "refit_dates": [f.dates[0].date() for f in plan[1:]],
                   "fit_window": train_bars if training == "rolling" else None, "fit_gap": gap}
    else:
        fold_kw = {"refit": spec.refit, "fit_window": spec.fit_window}
    return {
        "allocator": allocator,
        "schedule": spec.schedule,
        "drift_threshold": spec.drift_threshold,
        "trade_start": trade_start,
        "execution": broker.execution,
        "cash_buffer": broker.cash_buffer,
        "on_failure": spec.on_failure,
        "fit": not bool(spec.checkpoint),
        "commission_rate": broker.commission if broker.costs is None else None,
        "min_trade_value": broker.min_trade_value,
        "unfilled": broker.costs.unfilled if broker.costs is not None else "carry",
        "lean": True,  # the runner keeps only live orders (bit-identical results, constant memory per order)
        **fold_kw,
    }
