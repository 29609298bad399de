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


def load_checkpoint(path) -> tuple[dict, dict]:
    """Read ``(state_dict, metadata)``; ConfigError for a missing, foreign or newer file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"LSTM checkpoint {path} does not exist; fit and save() first, or fix the path")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for foreign / corrupt files
        raise ConfigError(f"LSTM checkpoint {path}: cannot be read as a checkpoint ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise ConfigError(f"LSTM checkpoint {path}: not an {FORMAT_NAME} file")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise ConfigError(
            f"LSTM checkpoint {path}: format_version {version!r}, this code reads version {FORMAT_VERSION}"
        )
    return payload["state_dict"], json.loads(payload["metadata_json"])
