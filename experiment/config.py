"""Experiment configuration: the YAML schema, validated with pydantic.

Every error becomes one :class:`bt_lstm_mvo.errors.ConfigError` line naming the file, the field path,
the rule and the value, with a did-you-mean for unknown keys, e.g.::

    config.yaml: strategies.lstm.params.lamda: unknown key (did you mean 'lambda_penalty'?)

Allocator parameters (``params`` of an ``mvo`` or ``lstm`` strategy) are validated by building
the allocator once at load time, so the allocator classes stay the single source of truth.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.experiment.registry import KIND_NAMES, KINDS, allocator_problem, kind_field_problem
from bt_lstm_mvo.feeds.csv_source import DEFAULT_MAX_DAILY_MOVE
from bt_lstm_mvo.files import read_bytes
from bt_lstm_mvo.malloc import DEFAULT_KEEP_MIB, MAX_KEEP_MIB
from bt_lstm_mvo.names import check_name, check_ticker
from bt_lstm_mvo.text import did_you_mean, one_line, short_repr
from bt_lstm_mvo.vocab import (
    CALENDAR_POLICIES,
    COST_PRESETS,
    ENGINES,
    EXECUTIONS,
    FAILURE_POLICIES,
    FILE_FORMATS,
    FOLD_LENGTHS,
    FOLD_TRAINING,
    MODES,
    SCHEDULES,
    SORTINO_VARIANTS,
    SOURCES,
    SPREAD_MODES,
    SWEEP_BACKENDS,
    UNFILLED_POLICIES,
    VOLUME_UNITS,
)

Schedule = Literal[SCHEDULES] | Annotated[int, Field(ge=1)]


class _Strict(BaseModel):
    """Unknown keys are errors, ``inf``/``nan`` are never numbers, and YAML's loose scalars are
    not coerced: ``true`` is not the integer 1, and ``0`` is not the date 1970-01-01."""

    model_config = ConfigDict(extra="forbid", frozen=False, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_loose_scalars(cls, value, info):
        annotation = str(cls.model_fields[info.field_name].annotation)
        if isinstance(value, bool) and "bool" not in annotation and "Any" not in annotation:
            raise ValueError(f"must not be a boolean, got {value!r}")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and "date" in annotation \
                and "int" not in annotation and "float" not in annotation:
            raise ValueError(f"must be a date such as 2021-07-20, got {value!r}")
        return value


class DataConfig(_Strict):
    """Where prices come from and which dates are used."""

    source: Literal[SOURCES] = "synthetic"
    tickers: list[str] = Field(default_factory=lambda: ["BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA"],
                               min_length=1)
    start: dt.date | None = dt.date(2019, 1, 1)
    end: dt.date | None = dt.date(2024, 12, 31)
    calendar: Literal[CALENDAR_POLICIES] = "intersection"
    adjust: bool = True
    data_dir: str | None = None
    seed: int = 42

    max_daily_move: float | None = Field(DEFAULT_MAX_DAILY_MOVE, gt=1.0)
    format: Literal[FILE_FORMATS] = "csv"
    columns: dict[str, str] | None = None

    @field_validator("tickers")
    @classmethod
    def _tickers(cls, v):
        for t in v:
            check_ticker(t, "tickers")
        return v

    @model_validator(mode="after")
    def _dates(self):
        if self.start and self.end and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        if len(set(self.tickers)) != len(self.tickers):
            raise ValueError(f"tickers must be distinct, got {self.tickers}")
        return self


class FoldsConfig(_Strict):
    """Walk-forward folds (:func:`bt_lstm_mvo.experiment.split.fold_plan`): K non-overlapping test
    periods from ``first_test``; each fold's models are fitted on the bars before it only."""

    first_test: dt.date
    length: Literal[FOLD_LENGTHS] | Annotated[int, Field(ge=3)] = "year"
    training: Literal[FOLD_TRAINING] = "expanding"
    train_bars: int | None = Field(None, ge=2)
    gap: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _rolling(self):
        if self.training == "rolling" and self.train_bars is None:
            raise ValueError("training 'rolling' needs train_bars (the bars of each training window)")
        if self.training == "expanding" and self.train_bars is not None:
            raise ValueError(f"train_bars ({self.train_bars}) applies to training 'rolling' only; "
                             "expanding training uses every bar before the fold")
        return self


class SplitConfig(_Strict):
    """Train/test split: a fraction of the aligned bars, a first test date, or walk-forward folds."""

    train_fraction: float | None = Field(0.8, gt=0.0, lt=1.0)
    test_start: dt.date | None = None
    folds: FoldsConfig | None = None

    @model_validator(mode="after")
    def _one(self):
        if self.folds is not None:
            for key in ("train_fraction", "test_start"):
                if key in self.model_fields_set and getattr(self, key) is not None:
                    raise ValueError(f"set {key} or folds, not both: folds define the test periods")
            self.train_fraction = None
            self.test_start = None
            return self
        if self.test_start is not None:
            if "train_fraction" in self.model_fields_set and self.train_fraction is not None:
                raise ValueError(f"set train_fraction ({self.train_fraction}) or test_start ({self.test_start}), "
                                 "not both: they say different things")
            self.train_fraction = None
        return self


class CostModelConfig(_Strict):
    """One asset class's or asset's cost model (``strategies/costs.py:CostModel``); unset keys
    keep the preset's (or the class's) value."""

    commission: float | None = Field(None, ge=0.0, lt=1.0)
    per_share: float | None = Field(None, ge=0.0)
    minimum: float | None = Field(None, ge=0.0)
    half_spread: float | None = Field(None, ge=0.0, lt=1.0)
    spread: Literal[SPREAD_MODES] | None = None
    impact: float | None = Field(None, ge=0.0)
    window: StrictInt | None = Field(None, ge=2)
    participation: float | None = Field(None, gt=0.0, le=1.0)
    lot: float | None = Field(None, ge=0.0)
    volume_unit: Literal[VOLUME_UNITS] | None = None

    def given(self) -> dict:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class CostsConfig(_Strict):
    """Per-asset cost models: ``preset`` by asset class (``-USD`` tickers are crypto, others
    equity), then the ``crypto``/``equity`` keys, then ``assets`` by ticker."""

    preset: Literal[COST_PRESETS] = "none"
    crypto: CostModelConfig = Field(default_factory=CostModelConfig)
    equity: CostModelConfig = Field(default_factory=CostModelConfig)
    assets: dict[str, CostModelConfig] = Field(default_factory=dict)
    unfilled: Literal[UNFILLED_POLICIES] = "carry"


class BrokerConfig(_Strict):
    cash: float = Field(1_000_000.0, gt=0)
    commission: float = Field(0.001, ge=0.0, lt=1.0)
    execution: Literal[EXECUTIONS] = "close"
    cash_buffer: float = Field(0.0, ge=0.0, lt=1.0)
    min_trade_value: float = Field(0.01, ge=0.0)
    costs: CostsConfig | None = None
    interest_rate: float = Field(0.0, gt=-1.0, lt=1.0)
    interest_csv: str | None = None

    @model_validator(mode="after")
    def _one_cost(self):
        if self.costs is not None and "commission" in self.model_fields_set:
            raise ValueError("set commission (one flat rate) or costs (per-asset models), not both: put a "
                             "commission into costs.crypto / costs.equity / costs.assets")
        if self.interest_csv is not None and "interest_rate" in self.model_fields_set:
            raise ValueError("set interest_rate or interest_csv, not both")
        return self


class StrategyConfig(_Strict):
    """One strategy of the comparison; ``kind`` is a :data:`bt_lstm_mvo.experiment.registry.KINDS`
    entry (``python`` with ``class: module:Class`` for a user's allocator)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Literal[KIND_NAMES]
    schedule: Schedule = "daily"
    drift_threshold: float | None = Field(None, gt=0.0, lt=1.0)
    refit: int | None = Field(None, ge=1)
    fit_window: int | None = Field(None, ge=2)
    on_failure: Literal[FAILURE_POLICIES] = "raise"
    seeds: list[StrictInt] | None = None
    checkpoint: str | None = None
    weights: dict[str, StrictFloat] | None = None
    asset: str | None = None
    class_: str | None = Field(None, alias="class")
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kind_fields(self):
        problem = kind_field_problem(self)
        if problem:
            raise ValueError(problem)
        return self


class AnalysisConfig(_Strict):
    periods_per_year: float | None = Field(None, gt=0)
    risk_free: float | Literal["interest_rate"] = 0.0
    sortino_variant: Literal[SORTINO_VARIANTS] = "standard"
    alpha_windows: int = Field(3, ge=1)
    alpha_pair: tuple[str, str] | None = None
    benchmark: str | None = None
    stress_windows: dict[str, tuple[dt.date, dt.date]] = Field(
        default_factory=lambda: {"2022": (dt.date(2022, 1, 1), dt.date(2022, 12, 31))}
    )

    @field_validator("benchmark")
    @classmethod
    def _benchmark(cls, v):
        if v is not None and not v.lower().endswith(".csv"):
            check_ticker(v, "analysis.benchmark")
        return v

    @field_validator("stress_windows", mode="before")
    @classmethod
    def _window_dates(cls, v):
        for name, pair in (v.items() if isinstance(v, dict) else ()):
            for end in pair if isinstance(pair, (list, tuple)) else ():
                if isinstance(end, (bool, int, float)):
                    raise ValueError(f"stress window {name!r}: {end!r} is not a date such as 2022-01-01")
        return v

    @field_validator("stress_windows")
    @classmethod
    def _ordered(cls, v):
        for name, (a, b) in v.items():
            if b < a:
                raise ValueError(f"stress window {name!r}: end {b} is before start {a}")
        return v


class OutputConfig(_Strict):
    dir: str | None = None
    plots: bool = True
    interactive: bool = False


class ReplicationConfig(_Strict):
    """``mode: notebook_replication``: the reference notebook's computation, defects kept on
    purpose (PAPER_NOTES steps 1-11), to reproduce the published figures."""

    seeds: list[StrictInt] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    epochs: int = Field(100, ge=1)


class RuntimeConfig(_Strict):
    """Process settings. One torch thread is fastest for this small network on a few cores
    (more threads contend with each other and with Backtrader's own work). ``malloc_keep_mib``:
    freed memory glibc keeps for reuse instead of returning it to the OS (LSTM training frees and
    re-allocates the same large blocks every epoch; see :mod:`bt_lstm_mvo.malloc`); 0 = off."""

    torch_threads: int = Field(1, ge=1)
    # MiB of freed memory kept for reuse (glibc's mmap/trim thresholds, bt_lstm_mvo.malloc); 0 = off
    malloc_keep_mib: int = Field(DEFAULT_KEEP_MIB, ge=0, le=MAX_KEEP_MIB)


class SweepConfig(_Strict):
    """A grid over one strategy's parameters (and seeds), run in parallel by :mod:`bt_lstm_mvo.experiment.sweep`.

    ``grid`` keys are dotted paths into ``strategies.<strategy>``: a StrategyConfig field
    (``schedule``, ``fit_window``) or one key of ``params``/``weights`` (``params.lambda_penalty``).
    Every grid point is validated like a strategy of its own when the config is loaded.
    """

    strategy: str
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    seeds: list[int] | None = None
    compare_to: str | None = None
    backend: Literal[SWEEP_BACKENDS] = "loky"
    workers: int = Field(2, ge=1)
    torch_threads: int | None = Field(None, ge=1)  # per worker; None = runtime.torch_threads
    address: str | None = None
    n_boot: int = Field(2000, ge=100)
    block_bars: int | None = Field(None, ge=1)

    @field_validator("grid")
    @classmethod
    def _grid(cls, v):
        for path, values in v.items():
            if not values:
                raise ValueError(f"grid {path!r}: list at least one value")
            head, _, rest = path.partition(".")
            if head in ("kind", "seeds") or head not in StrategyConfig.model_fields:
                allowed = [f for f in StrategyConfig.model_fields if f not in ("kind", "seeds")]
                hint = did_you_mean(head, allowed)
                raise ValueError(f"grid {path!r}: {head!r} is not a sweepable strategy field ({hint}); "
                                 "seeds go in sweep.seeds")
            if rest and (head not in ("params", "weights") or "." in rest):
                raise ValueError(f"grid {path!r}: only params.<key> and weights.<asset> go one level deeper")
            if head in ("params", "weights") and not rest:
                raise ValueError(f"grid {path!r}: name the key, e.g. '{head}.lambda_penalty'")
        return v

    def check(self, strategies: dict[str, StrategyConfig]) -> None:
        """Rules that need the strategies: names exist, every grid point is a valid strategy."""
        import itertools

        for role, name in (("strategy", self.strategy), ("compare_to", self.compare_to)):
            if name is not None and name not in strategies:
                hint = did_you_mean(name, strategies, f"strategies are {sorted(strategies)}")
                raise ValueError(f"{role} {name!r} is not a strategy of this config ({hint})")
        base = strategies[self.strategy]
        if self.seeds is not None and not KINDS[base.kind].seeded:
            raise ValueError(f"seeds apply to seeded kinds only (lstm); {self.strategy!r} is kind {base.kind!r}")
        if self.seeds is not None and not self.seeds:
            raise ValueError("seeds: list at least one seed")
        for values in itertools.product(*self.grid.values()):
            raw = base.model_dump()
            for path, value in zip(self.grid, values):
                head, _, key = path.partition(".")
                if key:
                    raw[head] = {**(raw[head] or {}), key: value}
                else:
                    raw[head] = value
            point = ", ".join(f"{p}={v!r}" for p, v in zip(self.grid, values))
            try:
                spec = StrategyConfig.model_validate(raw)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = str((first.get("loc") or ("?",))[0])
                msg = one_line(first.get("msg", "invalid value")).removeprefix("Value error, ")
                raise ValueError(f"grid point {point}: {where}: {msg}") from None
            problem = allocator_problem(spec)
            if problem:
                raise ValueError(f"grid point {point}: {problem}")


class StudyClaims(_Strict):
    """Which strategies of the config play which role in the paper's claims."""

    lstm: str = "lstm"
    lstm_high_lambda: str | None = None
    mvo: str = "mvo"
    equal_weight: str = "equal_weight"


class StudyConfig(_Strict):
    """``mode: study``: every strategy (and LSTM seed) on every universe, over the walk-forward
    folds of ``split.folds``, at every commission level (:mod:`bt_lstm_mvo.experiment.study`).

    The strategies run at ``commissions[0]``; each other level, and each of ``cost_presets``
    (per-asset cost models, ``broker.costs.preset``), replays the weights they decided (no
    retraining: a decision depends on prices only)."""

    universes: dict[str, list[str]] = Field(min_length=1)
    commissions: list[float] = Field(default_factory=lambda: [0.001], min_length=1)
    cost_presets: list[Literal[COST_PRESETS]] = Field(default_factory=list)
    claims: StudyClaims = Field(default_factory=StudyClaims)
    backend: Literal[SWEEP_BACKENDS] = "loky"
    workers: int = Field(2, ge=1)
    torch_threads: int | None = Field(None, ge=1)
    address: str | None = None
    n_boot: int = Field(2000, ge=100)
    block_bars: int | None = Field(None, ge=1)
    alpha: float = Field(0.05, gt=0.0, lt=0.5)

    @field_validator("universes")
    @classmethod
    def _universes(cls, v):
        for name, tickers in v.items():
            check_name(name, "study.universes")
            if len(tickers) < 2 or len(set(tickers)) != len(tickers):
                raise ValueError(f"universe {name!r}: list at least two distinct tickers, got {tickers}")
            for t in tickers:
                check_ticker(t, f"study.universes.{name}")
        return v

    @field_validator("commissions")
    @classmethod
    def _commissions(cls, v):
        for c in v:
            if isinstance(c, bool) or not 0.0 <= c < 1.0:
                raise ValueError(f"each commission must be a fraction in [0, 1), got {c!r}")
        if len(set(v)) != len(v):
            raise ValueError(f"commissions must be distinct, got {v}")
        return v

    @field_validator("cost_presets")
    @classmethod
    def _presets(cls, v):
        if len(set(v)) != len(v):
            raise ValueError(f"cost_presets must be distinct, got {v}")
        return v


class ExperimentConfig(_Strict):
    name: str = "experiment"
    description: str = ""
    mode: Literal[MODES] = "backtest"
    engine: Literal[ENGINES] = "backtrader"
    replication: ReplicationConfig = Field(default_factory=ReplicationConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    broker: BrokerConfig = Field(default_factory=BrokerConfig)
    strategies: dict[str, StrategyConfig] = Field(default_factory=dict)
    buy_and_hold_benchmarks: bool = True
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    sweep: SweepConfig | None = None
    study: StudyConfig | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        return check_name(v, "name")

    @field_validator("strategies", mode="before")
    @classmethod
    def _strategy_names(cls, v):
        if isinstance(v, dict):
            for key in v:
                check_name(key, "strategies")
        return v

    @field_validator("sweep")
    @classmethod
    def _sweep(cls, v, info):
        if v is not None and "strategies" in info.data:
            v.check(info.data["strategies"])
        return v

    @model_validator(mode="after")
    def _cross(self):
        if self.engine == "array" and self.mode == "notebook_replication":
            raise ValueError("engine: 'array' runs strategies (mode backtest or study); notebook_replication "
                             "replays the reference notebook and has no engine to choose")
        if self.mode in ("backtest", "study") and not self.strategies:
            raise ValueError(f"strategies: at least one strategy is required (mode {self.mode!r})")
        if (self.mode == "study") != (self.study is not None):
            raise ValueError("study: mode 'study' needs a study section, and a study section needs mode 'study'")
        if self.study is not None:
            if self.split.folds is None:
                raise ValueError("study: needs split.folds (the study tests every walk-forward fold)")
            if self.sweep is not None:
                raise ValueError("study: a study has no sweep section (its grid is universes x strategies x seeds)")
            for role, name in self.study.claims.model_dump().items():
                if name is not None and name not in self.strategies:
                    hint = did_you_mean(name, self.strategies, f"strategies are {sorted(self.strategies)}")
                    raise ValueError(f"study.claims.{role}: {name!r} is not a strategy of this config ({hint})")
            for name, s in self.strategies.items():
                if s.drift_threshold is not None:
                    raise ValueError(f"strategies.{name}.drift_threshold: not in a study (its cost levels replay "
                                     "every decision, and a drift threshold skips some)")
                for asset in list(s.weights or {}) + ([s.asset] if s.asset else []):
                    for u, tickers in self.study.universes.items():
                        if asset not in tickers:
                            raise ValueError(f"strategies.{name}: asset {asset!r} is not in universe {u!r}")
        tickers = set(self.data.tickers)
        if self.split.folds is not None:
            for name, s in self.strategies.items():
                for key, why in (("refit", "folds refit at each fold's start"),
                                 ("fit_window", "folds set the training window (split.folds.training)"),
                                 ("checkpoint", "a checkpoint is trained once, folds retrain before every fold")):
                    if getattr(s, key) is not None:
                        raise ValueError(f"strategies.{name}.{key}: not with split.folds ({why}); remove one")
        for name, s in self.strategies.items():
            for asset in list(s.weights or {}) + ([s.asset] if s.asset else []):
                if asset not in tickers and self.study is None:
                    raise ValueError(
                        f"strategies.{name}: asset {asset!r} is not among data.tickers {sorted(tickers)}"
                    )
        if self.analysis.alpha_pair is not None:
            for n in self.analysis.alpha_pair:
                if n not in self.strategies:
                    hint = did_you_mean(n, self.strategies, f"strategies are {sorted(self.strategies)}")
                    raise ValueError(f"analysis.alpha_pair: {n!r} is not a strategy of this config ({hint})")
            if self.analysis.alpha_pair[0] == self.analysis.alpha_pair[1]:
                raise ValueError(f"analysis.alpha_pair: compares {self.analysis.alpha_pair[0]!r} with itself")
        costs = self.broker.costs
        if costs is not None:
            universes = self.study.universes.values() if self.study else ()
            known = set(self.data.tickers) | {t for u in universes for t in u}
            for asset in costs.assets:
                if asset not in known:
                    raise ValueError(f"broker.costs.assets: {asset!r} is not a ticker of this config "
                                     f"({did_you_mean(asset, sorted(known))})")
        if self.analysis.risk_free == "interest_rate" and self.broker.interest_csv is not None:
            raise ValueError("analysis.risk_free: 'interest_rate' takes broker.interest_rate, a number; with "
                             "interest_csv give risk_free as a number")
        return self


def _model_for(path: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the field at ``path`` (for did-you-mean)."""
    model: Any = ExperimentConfig
    for part in path:
        if isinstance(part, int):
            continue
        if model is StrategyConfig and part not in StrategyConfig.model_fields:
            continue  # the strategy-name level of ``strategies.<name>``
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return model
        ann = field.annotation
        sub = None
        for cand in (DataConfig, FoldsConfig, SplitConfig, BrokerConfig, CostsConfig, CostModelConfig, StrategyConfig,
                     AnalysisConfig, OutputConfig, SweepConfig, StudyConfig, StudyClaims, RuntimeConfig,
                     ReplicationConfig):
            if ann is cand or cand.__name__ in str(ann):
                sub = cand
        if sub is None:
            return model
        model = sub
    return model


#: what a config file may be: its size, how far its YAML aliases may expand, how deep it may nest
MAX_CONFIG_BYTES = 1_000_000
MAX_EXPANDED_NODES = 200_000
MAX_DEPTH = 40


def _format_error(err: dict, source: str) -> str:
    loc = tuple(err.get("loc", ()))
    path = ".".join(str(p) for p in loc) or "(top level)"
    if err.get("type") == "extra_forbidden":
        owner = _model_for(loc[:-1]) or ExperimentConfig
        fields = list(getattr(owner, "model_fields", {}))
        return f"{source}: {path}: unknown key ({did_you_mean(loc[-1], fields)})"
    msg = one_line(err.get("msg", "invalid value"))
    if err.get("type") == "value_error":  # our own validators' messages name the field and value
        msg = msg.removeprefix("Value error, ")
        return f"{source}: {msg}" if not loc else f"{source}: {path}: {msg}"
    return f"{source}: {path}: {msg}; got {short_repr(err.get('input'))}"


def _first_errors(errors: list[dict]) -> list[dict]:
    """One error per field: a union (``schedule``: a name or an integer) fails once per member,
    and pydantic appends the member to the location; merge those into one message."""
    merged: dict[tuple, dict] = {}
    for e in errors:
        loc = tuple(p for p in e.get("loc", ()) if not (isinstance(p, str) and (
            p.startswith(("literal[", "constrained-", "function-")) or p in ("int", "float", "str", "date"))))
        if loc in merged:
            if e["msg"] not in merged[loc]["msg"]:
                merged[loc]["msg"] = f"{merged[loc]['msg']}, or {e['msg'][0].lower()}{e['msg'][1:]}"
            continue
        merged[loc] = {**e, "loc": loc}
    return list(merged.values())


def parse_config(raw: dict, source: str = "config") -> ExperimentConfig:
    """Validate a config mapping; raise ConfigError with one clear line (the first problem, and
    how many more there are)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys, got {type(raw).__name__}")
    try:
        cfg = ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        errors = _first_errors(exc.errors())
        line = _format_error(errors[0], source)
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise ConfigError(line + more) from None
    check_allocator_params(cfg, source)
    return cfg


class _ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader; documents are checked as node graphs before anything is built."""


def _check_yaml_nodes(root, source: str) -> None:
    """Refuse duplicate keys, recursive aliases, nesting deeper than :data:`MAX_DEPTH` and alias
    expansion past :data:`MAX_EXPANDED_NODES` (a "billion laughs" document), in linear time."""
    sizes: dict[int, int] = {}
    stack = [(root, 0, False)]
    on_path: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_EXPANDED_NODES:
                raise ConfigError(f"{source}: its YAML expands to more than {MAX_EXPANDED_NODES:,} values "
                                  "(aliases repeating aliases); refusing to load it")
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ConfigError(f"{source}: line {node.start_mark.line + 1}: a YAML alias refers to itself")
        if depth > MAX_DEPTH:
            raise ConfigError(f"{source}: line {node.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for k, _ in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value != "<<":
                    if (k.tag, k.value) in seen:
                        raise ConfigError(
                            f"{source}: line {k.start_mark.line + 1}: key {short_repr(k.value)} appears twice in "
                            "the same mapping; YAML would silently keep the last one")
                    seen.add((k.tag, k.value))
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in _children(node))


def _children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [x for pair in node.value for x in pair]
    return []


def load_yaml(text: str, source: str):
    """Parse one YAML document safely (see :func:`_check_yaml_nodes`); ConfigError on any problem."""
    loader = None
    try:
        loader = _ConfigLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_yaml_nodes(node, source)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML ({one_line(exc)})") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to read (more than {MAX_DEPTH} levels)") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate a YAML config file."""
    path = Path(path)
    data = read_bytes(path, "config file", ConfigError, MAX_CONFIG_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: config file is not UTF-8 text (byte {exc.start}); save it as a YAML text "
                          "file") from None
    if "\x00" in text:
        raise ConfigError(f"{path}: config file holds NUL bytes; it is not a YAML text file")
    raw = load_yaml(text, path.name)
    return parse_config(raw if raw is not None else {}, source=path.name)


def check_allocator_params(cfg: ExperimentConfig, source: str) -> None:
    """Build each strategy's allocator once so bad params fail before any run."""
    for name, s in cfg.strategies.items():
        problem = allocator_problem(s)
        if problem:
            raise ConfigError(f"{source}: strategies.{name}.{problem}")
