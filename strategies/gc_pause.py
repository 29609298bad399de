"""Keep Python's cyclic garbage collector off the objects a run starts with (lean mode).

A Backtrader run at scale creates and drops a few dozen tracked objects per order. The survivors
of the young generations make CPython run a full collection every few dozen bars, and each full
collection walks every tracked object in the process: the feeds, the strategy, Backtrader's
classes, pandas, numpy and, in the runner, torch (a few hundred thousand objects). BENCHMARKS.md
section 3 times a lean run with and without this pause, with the runner's imports loaded.

:func:`pause` moves the objects that exist when the strategy starts into CPython's permanent
generation (``gc.freeze``); :func:`resume` moves them back (``gc.unfreeze``) when it stops, so the
next collection sees them again. Nothing is freed or kept differently: objects made during the run
are collected as usual, and a cycle among the start-up objects that becomes garbage during the run
is collected after it. Results cannot change: no value the run computes depends on when a
collection runs (the lean-mode tests compare the runs with and without the pause).

If the process had frozen objects already (an application using ``gc.freeze`` itself), neither
function does anything, so this never unfreezes what someone else froze. A run that raises before
``stop`` leaves its objects frozen (Backtrader does not call ``stop`` then); the next run's
:func:`resume` unfreezes them, and the runner calls :func:`resume` in a ``finally`` around its run.
"""

from __future__ import annotations

import gc

_paused_here = False  # the frozen objects, if any, were frozen by pause()


def pause() -> bool:
    """Freeze the current tracked objects unless someone else froze objects; True if frozen here."""
    global _paused_here
    if not gc.isenabled() or (gc.get_freeze_count() and not _paused_here):
        return False
    gc.freeze()
    _paused_here = True
    return True


def resume() -> None:
    """Unfreeze what :func:`pause` froze (nothing if it froze nothing)."""
    global _paused_here
    if _paused_here:
        gc.unfreeze()
        _paused_here = False
