"""Rebalance schedules as a pure function of dates and bar counts.

Values (they map directly onto YAML): ``"daily"`` (every bar), ``"weekly"`` (first bar of each
ISO week), ``"monthly"`` (first bar of each month), ``"quarterly"``, an integer ``N`` (every N
bars), ``"never"`` (only the first allocation: buy-and-hold afterwards).
"""

from __future__ import annotations

import datetime as dt

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.vocab import SCHEDULES

NAMED = SCHEDULES


def check_schedule(schedule, name: str = "schedule"):
    """Validate a schedule value; return it normalised (str or positive int)."""
    if isinstance(schedule, bool):
        raise ConfigError(f"{name}: must be one of {list(NAMED)} or a positive integer, got {schedule!r}")
    if isinstance(schedule, int):
        if schedule < 1:
            raise ConfigError(f"{name}: an integer schedule must be >= 1 (every N bars), got {schedule}")
        return schedule
    if isinstance(schedule, str) and schedule.isdigit():
        return check_schedule(int(schedule), name)
    if schedule not in NAMED:
        raise ConfigError(f"{name}: must be one of {list(NAMED)} or a positive integer, got {schedule!r}")
    return schedule


def is_due(schedule, today: dt.date, last: dt.date | None, bars_since_last: int) -> bool:
    """Whether a rebalance is due on ``today`` given the previous rebalance date and bar count."""
    if last is None:
        return True
    if schedule == "daily":
        return True
    if schedule == "never":
        return False
    if isinstance(schedule, int):
        return bars_since_last >= schedule
    if schedule == "weekly":
        return today.isocalendar()[:2] != last.isocalendar()[:2]
    if schedule == "monthly":
        return (today.year, today.month) != (last.year, last.month)
    if schedule == "quarterly":
        return (today.year, (today.month - 1) // 3) != (last.year, (last.month - 1) // 3)
    raise ConfigError(f"schedule: unknown value {schedule!r}")
