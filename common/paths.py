"""Where the real daily prices live.

The shared data folder is never copied into the repository. It is found, in order, from the
environment variable ``LMBT_DATA_DIR`` (the name of the first version, kept so existing set-ups
keep working), then ``<repository root>/../shared/data`` when the package runs from a source
checkout (an editable install), else ``../shared/data`` relative to the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "LMBT_DATA_DIR"


def source_root() -> Path | None:
    """The repository root when the package runs from a source checkout, else None."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "setup.cfg").is_file() and (root / "common" / "paths.py").is_file() else None


def shared_data_dir() -> Path:
    """Return the folder of real Yahoo-format CSVs (it may not exist; callers check)."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser().resolve()
    base = source_root() or Path.cwd()
    return (base.parent / "shared" / "data").resolve()
