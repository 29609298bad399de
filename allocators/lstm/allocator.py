"""``LSTMAllocator``: the paper's LSTM rebalancer behind the :class:`Allocator` contract.

``fit(history)`` trains a fresh network (and a fresh scaler) on a close-price history; every
training target lies inside that history (the last sample's target is its last return), so a
strategy that calls ``fit`` on the bars it has seen cannot look ahead. ``allocate(history)``
returns the weights for the last row from the trailing ``lookback`` rows only, so per-bar cost
does not grow with the history. See :mod:`bt_lstm_mvo.allocators.lstm.features` for the features and
:mod:`bt_lstm_mvo.allocators.lstm.losses` for the losses.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bt_lstm_mvo.allocators.base import Allocator
from bt_lstm_mvo.allocators.lstm.checkpoint import load_checkpoint, save_checkpoint
from bt_lstm_mvo.allocators.lstm.config import MODEL_FIELDS, LSTMConfig
from bt_lstm_mvo.allocators.lstm.features import (
    MinMaxScaler,
    feature_array,
    feature_columns,
    feature_tail,
    sample_rows,
    validate_prices,
    windows,
)
from bt_lstm_mvo.allocators.lstm.model import LSTMPolicy, cap_weights, check_cap
from bt_lstm_mvo.allocators.lstm.stream import FeatureStream
from bt_lstm_mvo.allocators.lstm.training import mean_epoch_seconds, resolve_device, seeded, train_policy
from bt_lstm_mvo.errors import AllocationError, ConfigError, DataError

log = logging.getLogger(__name__)


#: largest network the allocator builds (float32: 4 bytes each, plus Adam's two moments)
MAX_PARAMETERS = 20_000_000


def lstm_parameter_count(n_inputs: int, n_assets: int, hidden_size: int, num_layers: int) -> int:
    """Parameters of ``nn.LSTM(n_inputs, hidden_size, num_layers)`` plus the linear head."""
    first = 4 * hidden_size * (n_inputs + hidden_size + 2)
    rest = 4 * hidden_size * (2 * hidden_size + 2) * (num_layers - 1)
    return first + rest + hidden_size * n_assets + n_assets


class LSTMAllocator(Allocator):
    """LSTM -> softmax portfolio weights, trained on the portfolio outcome (paper's loss).

    Params:
        config: an :class:`LSTMConfig`, a mapping of its fields (e.g. a YAML section) or None
            for the defaults; keyword arguments override single fields
            (``LSTMAllocator(epochs=20, seed=3)``). See :class:`LSTMConfig` for every field.

    Learned state (after ``fit`` or ``load``):
        model_: the trained :class:`LSTMPolicy` (eval mode).
        scaler_: :class:`MinMaxScaler` fitted on the training inputs only.
        assets_: asset order of the network's inputs and outputs.
        history_: per-epoch dicts ``{epoch, train_loss, val_loss, seconds}``.
        train_seconds_per_epoch_: mean wall time of an epoch.
        best_epoch_: epoch whose weights are kept (the last one without validation).
        n_train_samples_, n_val_samples_, fit_start_, fit_end_: what ``fit`` saw.
        last_features_: scaled input window (DataFrame indexed by its 30 dates, asset-major
            ``(asset, feature)`` columns) used by the latest ``allocate``.
    """

    #: trailing rows ``allocate`` uses with the default config (set per instance from the config)
    lookback = LSTMConfig().feature_spec.lookback_bars
    requires_fit = True

    def __init__(self, config: LSTMConfig | Mapping | None = None, **overrides):
        if isinstance(config, LSTMConfig):
            config = config.to_dict()
        self.config = LSTMConfig.from_dict(config, **overrides)
        self.feature_spec = self.config.feature_spec
        self.lookback = self.feature_spec.lookback_bars
        self.model_: LSTMPolicy | None = None
        self.scaler_: MinMaxScaler | None = None
        self.assets_: list | None = None
        self.history_: list[dict] = []
        self.train_seconds_per_epoch_: float | None = None
        self.best_epoch_: int | None = None
        self.stopped_early_: bool = False
        self.n_train_samples_: int | None = None
        self.n_val_samples_: int | None = None
        self.fit_start_: str | None = None
        self.fit_end_: str | None = None
        self.device_: torch.device | None = None
        self.last_features_: pd.DataFrame | None = None
        self._columns: pd.MultiIndex | None = None

    # ------------------------------------------------------------------ fit
    def fit(self, history: pd.DataFrame) -> LSTMAllocator:
        """Train on ``history`` (close prices, nothing later than the decision bar); returns self.

        Fully resets the network and the scaler unless ``warm_start`` is set, in which case
        training continues from the current network (the scaler is refitted).
        """
        cfg, spec = self.config, self.feature_spec
        validate_prices(history, "LSTMAllocator.fit")
        warm = cfg.warm_start and self.model_ is not None
        if warm:
            history = self._in_asset_order(history, "LSTMAllocator.fit (warm_start)")
        assets = list(history.columns)
        check_cap(cfg.max_weight, len(assets))

        features = feature_array(history.to_numpy(dtype=float), spec)
        rows = sample_rows(features, spec.window)
        n_samples = len(rows)
        n_val = max(1, int(n_samples * cfg.validation_fraction)) if cfg.validation_fraction > 0 else 0
        n_train = n_samples - n_val
        needed = self.min_history_rows(len(assets)) - spec.min_rows
        if n_samples < needed or n_train < 1:
            raise DataError(
                f"LSTMAllocator.fit: history has {len(history)} rows, giving {n_samples} samples; "
                f"need at least {spec.min_rows + needed} rows ({spec.min_rows} for the first input "
                f"window + {needed} target(s)); pass a longer history"
            )
        first_row = rows[0] - spec.window + 1
        scaler = MinMaxScaler.fit(features[first_row : rows[n_train - 1] + 1])
        scaled = scaler.transform(features)
        x_all = windows(scaled, rows, spec.window).astype(np.float32)
        y_all = features[rows + 1, 0 :: spec.n_features_per_asset].astype(np.float32)  # raw returns

        device = resolve_device(cfg.device)
        with seeded(cfg.seed, device):
            if warm:  # a copy, so a failed fit leaves the current model untouched
                model = copy.deepcopy(self.model_).to(device)
            else:
                model = self._new_model(len(assets)).to(device)
            x_train = torch.from_numpy(x_all[:n_train]).to(device)
            y_train = torch.from_numpy(y_all[:n_train]).to(device)
            x_val = torch.from_numpy(x_all[n_train:]).to(device) if n_val else None
            y_val = torch.from_numpy(y_all[n_train:]).to(device) if n_val else None
            result = train_policy(model, x_train, y_train, cfg, x_val, y_val)

        self.model_, self.scaler_, self.assets_, self.device_ = model, scaler, assets, device
        self._columns = feature_columns(assets)
        self.history_ = result.history
        self.train_seconds_per_epoch_ = mean_epoch_seconds(result.history)
        self.best_epoch_ = result.best_epoch
        self.stopped_early_ = result.stopped_early
        self.n_train_samples_, self.n_val_samples_ = n_train, n_val
        self.fit_start_, self.fit_end_ = _label(history.index[0]), _label(history.index[-1])
        self.last_features_ = None
        log.info(
            "LSTMAllocator.fit: %d train / %d val samples up to %s, %d epochs (best %s), %.3f s/epoch",
            n_train, n_val, self.fit_end_, len(result.history), result.best_epoch,
            self.train_seconds_per_epoch_,
        )
        return self

    def check_universe(self, n_assets: int) -> None:
        """The per-asset cap can sum to 1, and the network is not too large to build."""
        cfg = self.config
        check_cap(cfg.max_weight, n_assets)
        n_params = lstm_parameter_count(n_assets * self.feature_spec.n_features_per_asset, n_assets,
                                        cfg.hidden_size, cfg.num_layers)
        if n_params > MAX_PARAMETERS:
            raise ConfigError(
                f"LSTMAllocator: hidden_size {cfg.hidden_size} x num_layers {cfg.num_layers} on {n_assets} assets "
                f"is {n_params:,} parameters; at most {MAX_PARAMETERS:,} (a few hundred MB) are built"
            )

    def _new_model(self, n_assets: int) -> LSTMPolicy:
        cfg = self.config
        self.check_universe(n_assets)
        return LSTMPolicy(
            n_features=n_assets * self.feature_spec.n_features_per_asset,
            n_assets=n_assets,
            hidden_size=cfg.hidden_size,
            num_layers=cfg.num_layers,
            dropout=cfg.dropout,
            max_weight=cfg.max_weight,
        )

    def _in_asset_order(self, history: pd.DataFrame, source: str) -> pd.DataFrame:
        columns = list(history.columns)
        if columns == self.assets_:
            return history
        if len(columns) != len(self.assets_) or set(columns) != set(self.assets_):
            raise AllocationError(
                f"{source}: history has assets {columns} but the model was trained on {self.assets_}; "
                "use the same assets or fit a new model"
            )
        return history[self.assets_]

    def min_history_rows(self, n_assets: int) -> int:
        """``FeatureSpec.min_rows`` (RSI/volatility warm-up + one input window) plus one target
        row, plus one more for the validation sample when ``validation_fraction > 0``."""
        return self.feature_spec.min_rows + 1 + (1 if self.config.validation_fraction > 0 else 0)

    # ------------------------------------------------------------- allocate
    def allocate(self, history: pd.DataFrame) -> pd.Series:
        """Weights for the last row of ``history``, from its trailing ``lookback`` rows.

        The network runs in float32; its logits go through softmax (and the cap) in float64 so
        the returned weights sum to 1 and respect ``max_weight`` exactly.
        """
        self._check_fitted()
        columns = list(history.columns)
        recent = self._in_asset_order(history.iloc[-self.lookback :], "LSTMAllocator.allocate")
        self._check_rows(len(recent))
        validate_prices(recent, "LSTMAllocator.allocate")
        weights = self._weights(recent.to_numpy(dtype=float), recent.index.values)
        return pd.Series(weights, index=self.assets_, dtype=float).reindex(columns)

    def allocate_values(self, values: np.ndarray, columns, dates=None) -> np.ndarray:
        """:meth:`allocate` without pandas (the strategy's per-bar path): ``values`` are the close
        prices (rows = dates, oldest first; columns = ``columns``), ``dates`` their dates (only for
        ``last_features_``). Returns ``allocate``'s weights on that frame as an array in ``columns``
        order: bit for bit on a fresh window; when the window continues the previous call's by one
        row, from a :class:`~bt_lstm_mvo.allocators.lstm.stream.FeatureStream` (only the new feature
        row computed; the features equal to rounding, so a weight can differ in about its 7th digit)."""
        self._check_fitted()
        known = self.__dict__.get("_order_of")
        if known is not None and known[0] is columns and known[1] is self.assets_:
            order = known[2]  # the strategy passes the same columns object every bar
        else:
            cols = list(columns)
            order = None
            if cols != self.assets_:
                if len(cols) != len(self.assets_) or set(cols) != set(self.assets_):
                    raise AllocationError(
                        f"LSTMAllocator.allocate: history has assets {cols} but the model was trained on "
                        f"{self.assets_}; use the same assets or fit a new model")
                order = [cols.index(a) for a in self.assets_]
            self.__dict__["_order_of"] = (columns, self.assets_, order)
        recent = np.asarray(values, dtype=float)[-self.lookback :]
        if order is not None:
            recent = recent[:, order]
        stream = self.__dict__.get("_stream")
        if (stream is None or recent.ndim != 2 or not stream.serves(self.feature_spec, self.scaler_)
                or not stream.advance(recent)):
            self.__dict__["_stream"] = None
            self._check_rows(len(recent))
            if recent.ndim != 2 or not recent.min() > 0 or not np.isfinite(recent.max()):  # NaN fails min() > 0
                validate_prices(pd.DataFrame(recent, columns=self.assets_), "LSTMAllocator.allocate")  # its message
            stream = self.__dict__["_stream"] = FeatureStream(self.feature_spec, self.scaler_, recent)
        window = self.feature_spec.window
        weights = self._forward(stream.scaled32, stream.scaled,
                                None if dates is None else np.asarray(dates)[-window:], copy=True)
        if order is None:
            return weights
        out = np.empty_like(weights)
        out[order] = weights
        return out

    def _check_fitted(self) -> None:
        if self.model_ is None:
            raise AllocationError("LSTMAllocator.allocate: not fitted; call fit(history) or load(path) first")

    def _check_rows(self, n: int) -> None:
        spec = self.feature_spec
        if n < spec.min_rows:
            raise DataError(
                f"LSTMAllocator.allocate: history has {n} rows; needs at least {spec.min_rows} "
                f"(RSI/volatility warm-up {spec.first_valid_row} + window {spec.window})"
            )

    def _weights(self, recent: np.ndarray, dates) -> np.ndarray:
        """Features of the last window (numpy, :func:`feature_tail`) -> scaler -> network -> weights."""
        window = self.feature_spec.window
        scaled = self.scaler_.transform(feature_tail(recent, self.feature_spec, window))
        return self._forward(scaled.astype(np.float32), scaled, None if dates is None else dates[-window:])

    def _forward(self, scaled32: np.ndarray, scaled: np.ndarray, dates, copy: bool = False) -> np.ndarray:
        """The network on one scaled input window (float32 for the network; float64 kept for
        ``last_features_``, copied when ``copy``: a stream's view changes on its next bar) -> weights."""
        x = torch.from_numpy(scaled32[None])
        on_cpu = self.device_ is None or self.device_.type == "cpu"
        if not on_cpu:
            x = x.to(self.device_)
        with torch.inference_mode():
            out = self.model_.infer_logits(x)
            logits = (out if on_cpu else out.to("cpu")).numpy()[0]  # numpy's index, not one more torch op
        self._last_window = (scaled.copy() if copy else scaled, dates)
        return self._finalise(logits)

    @property
    def last_features_(self) -> pd.DataFrame | None:
        """The scaled input window of the latest allocation (DataFrame on its dates, asset-major
        ``(asset, feature)`` columns); built when asked for."""
        last = getattr(self, "_last_window", None)
        if last is None:
            return None
        scaled, dates = last
        index = None if dates is None else pd.DatetimeIndex(dates, name="Date")
        return pd.DataFrame(scaled, index=index, columns=self._columns)

    @last_features_.setter
    def last_features_(self, value) -> None:
        if value is not None:
            raise AttributeError("last_features_ is set by allocate")
        self._last_window = None

    def _finalise(self, logits: np.ndarray) -> np.ndarray:
        """The network's (float32) logits -> softmax and cap in float64, so the cap holds exactly."""
        z = logits.tolist()  # float32 -> float (exact); a handful of values: Python floats, not numpy calls
        if not math.isfinite(sum(z)):  # a NaN or an inf anywhere (float32 logits cannot overflow the sum)
            raise AllocationError(f"LSTMAllocator.allocate: the network produced non-finite logits {logits}")
        top = max(z)
        e = [math.exp(v - top) for v in z]
        total = sum(e)
        w = np.array([v / total for v in e])
        if self.config.max_weight is not None:
            w = cap_weights(torch.from_numpy(w), self.config.max_weight).numpy()
        return w

    # ---------------------------------------------------------- checkpoints
    def save(self, path) -> Path:
        """Write the fitted state (no pickled objects); see :mod:`bt_lstm_mvo.allocators.lstm.checkpoint`."""
        if self.model_ is None:
            raise AllocationError("LSTMAllocator.save: nothing to save; call fit(history) first")
        metadata = {
            "config": self.config.to_dict(),
            "feature_spec": self.feature_spec.to_dict(),
            "assets": list(self.assets_),
            "scaler": self.scaler_.to_dict(),
            "fit": {
                "history": self.history_,
                "best_epoch": self.best_epoch_,
                "stopped_early": self.stopped_early_,
                "n_train_samples": self.n_train_samples_,
                "n_val_samples": self.n_val_samples_,
                "fit_start": self.fit_start_,
                "fit_end": self.fit_end_,
            },
            "torch_version": torch.__version__,
        }
        return save_checkpoint(path, self.model_.state_dict(), metadata)

    def load(self, path, assets=None) -> LSTMAllocator:
        """Load a checkpoint into this allocator (no refit); returns self.

        The checkpoint's feature spec and network fields (``hidden_size``, ``num_layers``,
        ``dropout``, ``max_weight``) must equal this allocator's config (ConfigError naming
        expected vs got); when ``assets`` is given it must equal the checkpoint's asset list
        (AllocationError). Use :meth:`from_checkpoint` to adopt the checkpoint's config instead.
        """
        state_dict, meta = load_checkpoint(path)
        expected = self.feature_spec.to_dict()
        got = meta.get("feature_spec", {})
        _compare(path, "feature spec", expected, got)
        saved_cfg = meta.get("config", {})
        _compare(path, "model config", self.config.model_dict(), {k: saved_cfg.get(k) for k in MODEL_FIELDS})
        saved_assets = list(meta["assets"])
        if assets is not None and list(assets) != saved_assets:
            raise AllocationError(
                f"LSTM checkpoint {path}: trained on assets {saved_assets}, expected {list(assets)}; "
                "load a checkpoint trained on these assets or fit a new model"
            )
        device = resolve_device(self.config.device)
        with torch.random.fork_rng(devices=[]):  # building the network draws random init values
            model = self._new_model(len(saved_assets))
        try:
            model.load_state_dict(state_dict)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[-1].strip() if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"LSTM checkpoint {path}: weights do not fit the network ({first})") from None
        model.to(device).eval()
        fit = meta.get("fit", {})
        self.model_, self.device_ = model, device
        try:
            self.scaler_ = MinMaxScaler.from_dict(meta["scaler"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"LSTM checkpoint {path}: its scaler metadata is invalid ({type(exc).__name__}: "
                              f"{exc})") from None
        if self.scaler_.data_min.shape != (len(saved_assets) * self.feature_spec.n_features_per_asset,):
            raise ConfigError(f"LSTM checkpoint {path}: its scaler does not match its {len(saved_assets)} assets")
        self.assets_ = saved_assets
        self._columns = feature_columns(saved_assets)
        self.history_ = list(fit.get("history", []))
        self.train_seconds_per_epoch_ = mean_epoch_seconds(self.history_) if self.history_ else None
        self.best_epoch_ = fit.get("best_epoch")
        self.stopped_early_ = bool(fit.get("stopped_early", False))
        self.n_train_samples_ = fit.get("n_train_samples")
        self.n_val_samples_ = fit.get("n_val_samples")
        self.fit_start_, self.fit_end_ = fit.get("fit_start"), fit.get("fit_end")
        self.last_features_ = None
        return self

    @classmethod
    def from_checkpoint(cls, path, **overrides) -> LSTMAllocator:
        """A new allocator with the checkpoint's own config (``overrides`` for e.g. ``device``)."""
        _, meta = load_checkpoint(path)
        try:
            alloc = cls(meta["config"], **overrides)
        except ConfigError as exc:
            raise ConfigError(f"LSTM checkpoint {path}: its config is invalid ({exc})") from None
        return alloc.load(path)

    def describe(self) -> dict:
        return {
            "allocator": "LSTMAllocator",
            "config": self.config.to_dict(),
            "lookback": self.lookback,
            "fitted": self.model_ is not None,
            "assets": None if self.assets_ is None else list(self.assets_),
            "fit_start": self.fit_start_,
            "fit_end": self.fit_end_,
            "best_epoch": self.best_epoch_,
            "epochs_run": len(self.history_),
            "train_seconds_per_epoch": (
                None
                if self.train_seconds_per_epoch_ is None or not math.isfinite(self.train_seconds_per_epoch_)
                else self.train_seconds_per_epoch_
            ),
        }


def _label(value) -> str:
    """ISO date for a midnight timestamp, ``str`` otherwise (JSON-able)."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    return str(value)


def _compare(path, what: str, expected: dict, got: dict) -> None:
    keys = sorted(set(expected) | set(got), key=str)
    diffs = [f"{k}: expected {expected.get(k)!r}, got {got.get(k)!r}" for k in keys
             if expected.get(k) != got.get(k)]
    if diffs:
        raise ConfigError(
            f"LSTM checkpoint {path}: {what} does not match this allocator ({'; '.join(diffs)}); "
            "use LSTMAllocator.from_checkpoint(path) or a matching config"
        )

