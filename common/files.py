"""Reading a user's file with one clear line for every way it can fail.

:func:`file_problem` says why a path cannot be read as a file (missing, a directory, a broken
link, a link loop, not readable); :func:`read_bytes` reads it with a size cap, raising the
caller's error class with the path, the rule and what to do.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from bt_lstm_mvo.errors import PluginError


def file_problem(path: Path) -> str | None:
    """Why ``path`` is not a readable regular file, or None when it is."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return "is a broken symbolic link" if os.path.islink(path) else "not found"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link loop"
        return f"cannot be read ({exc.strerror})"
    if os.path.isdir(path):
        return "is a directory, not a file"
    if not os.path.isfile(path):
        return "is not a regular file"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None


def read_bytes(path: Path | str, what: str, error: type[PluginError], max_bytes: int) -> bytes:
    """The bytes of ``path``; ``error`` (one line naming ``what`` and the path) when it cannot be
    read or is larger than ``max_bytes``."""
    path = Path(path)
    problem = file_problem(path)
    if problem:
        raise error(f"{path}: {what} {problem}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(f"{path}: {what} is {size:,} bytes; at most {max_bytes:,} are read")
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{path}: {what} cannot be read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:  # it grew after the size check
        raise error(f"{path}: {what} is more than {max_bytes:,} bytes; at most {max_bytes:,} are read")
    return data
