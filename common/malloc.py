"""Keep freed memory in the process instead of handing it back to the OS (glibc only).

LSTM training allocates and frees the same large blocks every epoch (on the lambda sweep's data,
a 133 MiB and a 37 MiB block for the LSTM's backward pass). glibc's malloc serves blocks over its
mmap threshold (at most 32 MiB, adjusted as the program runs) with a fresh ``mmap`` and returns
them with ``munmap`` when freed, and trims the top of its heap when more than its trim threshold
is free; every reuse then faults the pages back in, zeroed by the kernel. On one sweep task that
was 2.7 M page faults and 40% of the task's time in the kernel.

:func:`keep_freed_memory` raises both thresholds (``mallopt`` ``M_MMAP_THRESHOLD`` and
``M_TRIM_THRESHOLD``) to ``mib`` MiB: blocks below that come from the heap and up to that much
free heap stays mapped for the next epoch. Results do not change (only where memory comes from);
the process may hold up to ``mib`` MiB more than it uses. The runner, :func:`bt_lstm_mvo.run`
and sweep/study workers call it with ``runtime.malloc_keep_mib`` (0 turns it off); in your own
script call it once before training. It does nothing (returns False) where the C library is not
glibc.
"""

from __future__ import annotations

import ctypes
import platform

_M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
_M_MMAP_THRESHOLD = -3

DEFAULT_KEEP_MIB = 512
MAX_KEEP_MIB = 2047  # mallopt takes a C int of bytes

_applied: int | None = None  # the MiB last applied in this process


def keep_freed_memory(mib: int = DEFAULT_KEEP_MIB) -> bool:
    """Set glibc's mmap and trim thresholds to ``mib`` MiB in this process; False where not glibc
    (or ``mib`` is 0, which leaves malloc as it is). Idempotent."""
    global _applied
    mib = int(mib)
    if mib < 0:
        raise ValueError(f"keep_freed_memory: mib must be >= 0, got {mib}")
    if mib == 0 or platform.libc_ver()[0] != "glibc":
        return False
    if _applied == mib:
        return True
    if mib > MAX_KEEP_MIB:
        raise ValueError(f"keep_freed_memory: mib must be <= {MAX_KEEP_MIB}, got {mib}")
    libc = ctypes.CDLL(None)
    size = ctypes.c_int(mib * 2**20)
    ok = libc.mallopt(_M_MMAP_THRESHOLD, size) == 1 and libc.mallopt(_M_TRIM_THRESHOLD, size) == 1
    if ok:
        _applied = mib
    return ok


def applied_mib() -> int | None:
    """The MiB :func:`keep_freed_memory` last applied in this process (None: never)."""
    return _applied
