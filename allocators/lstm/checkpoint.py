"""Checkpoint files of the LSTM allocator: tensors + plain JSON metadata, no pickled objects.

Layout (one file written with ``torch.save`` and read with ``torch.load(weights_only=True)``)::

    {
      "format": "lmbt-lstm-allocator",
      "format_version": 1,
      "metadata_json": "<JSON text>",      # config, feature spec, assets, scaler, fit summary
      "state_dict": {name: tensor, ...},   # the network's parameters, on CPU
    }

Floats in the JSON round-trip exactly (Python writes the shortest repr), so a loaded scaler is
bit-identical to the saved one. The file is written to a temporary name and renamed, so a
crash cannot leave a half-written checkpoint under the final name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.files import file_problem
from bt_lstm_mvo.text import one_line

FORMAT_NAME = "lmbt-lstm-allocator"
FORMAT_VERSION = 1


def save_checkpoint(path, state_dict: dict, metadata: dict) -> Path:
    """Write a checkpoint atomically; returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "metadata_json": json.dumps(metadata, sort_keys=True, allow_nan=False),
        "state_dict": {k: v.detach().to("cpu").clone() for k, v in state_dict.items()},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


#: metadata entries a checkpoint must carry, and their JSON types
REQUIRED_METADATA = {"config": dict, "feature_spec": dict, "assets": list, "scaler": dict}


def _is_iso_date(value) -> bool:
    import datetime as dt

    try:
        dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return False
    return isinstance(value, str)


def load_checkpoint(path) -> tuple[dict, dict]:
    """Read ``(state_dict, metadata)``; ConfigError (naming the file) for a missing, unreadable,
    foreign, corrupt or newer file. Loading never runs code from the file (``weights_only``)."""
    path = Path(path)
    problem = file_problem(path)
    if problem:
        raise ConfigError(f"LSTM checkpoint {path}: {problem}; fit and save() first, or fix the path")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for foreign / corrupt / unsafe files
        # never pass on torch's advice to retry with weights_only=False: that would run the file's code
        raise ConfigError(f"LSTM checkpoint {path}: cannot be read safely as a checkpoint "
                          f"({type(exc).__name__}); it is not a file written by LSTMAllocator.save, and "
                          "nothing in it was run") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise ConfigError(f"LSTM checkpoint {path}: not an {FORMAT_NAME} file")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise ConfigError(
            f"LSTM checkpoint {path}: format_version {version!r}, this code reads version {FORMAT_VERSION}"
        )
    try:
        meta = json.loads(payload.get("metadata_json"))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"LSTM checkpoint {path}: its metadata is not valid JSON ({one_line(exc)})") from None
    if not isinstance(meta, dict):
        raise ConfigError(f"LSTM checkpoint {path}: its metadata must be a JSON object, got {type(meta).__name__}")
    for key, kind in REQUIRED_METADATA.items():
        if not isinstance(meta.get(key), kind):
            got = "missing" if key not in meta else f"a {type(meta[key]).__name__}"
            raise ConfigError(f"LSTM checkpoint {path}: metadata {key!r} must be a JSON {kind.__name__}, it is {got}")
    fit = meta.get("fit", {})
    if not isinstance(fit, dict):
        raise ConfigError(f"LSTM checkpoint {path}: metadata 'fit' must be a JSON object, it is a {type(fit).__name__}")
    for key in ("fit_start", "fit_end"):
        value = fit.get(key)
        if value is not None and not _is_iso_date(value):
            raise ConfigError(f"LSTM checkpoint {path}: metadata fit.{key} must be an ISO date, got {value!r}")
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(f"LSTM checkpoint {path}: its state_dict is not a mapping of tensors")
    return state, meta
