"""Where the real daily prices live.

The shared data folder is never copied into the repository. It is found, in order, from
the environment variable ``LMBT_DATA_DIR`` or ``<repository root>/../shared/data``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_ENV = "LMBT_DATA_DIR"


def shared_data_dir() -> Path:
    """Return the folder of real Yahoo-format CSVs (it may not exist; callers check)."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return (REPO_ROOT.parent / "shared" / "data").resolve()
