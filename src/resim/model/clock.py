"""One clock: float days since the scenario start, with calendar months as reporting periods.

Order of same-time events (fixed, so results do not drift): arrivals and licence decisions run
first (URGENT priority); then the month-end step (produce, record) and the next month's start
(stockpile release, orders) in that order (NORMAL priority).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import simpy
from simpy.core import URGENT

DAYS_PER_MONTH = 365.25 / 12


def month_starts(start: dt.date, months: int) -> list[dt.date]:
    """The first day of each month from `start`, plus the day after the horizon."""
    out = []
    for m in range(months + 1):
        k = start.month - 1 + m
        out.append(dt.date(start.year + k // 12, k % 12 + 1, 1))
    return out


def after(env: simpy.Environment, delay: float, action: Callable[..., Any], *args: Any) -> None:
    """Run `action(*args)` `delay` days from now, before same-time NORMAL events (a bare event
    with a callback: cheaper than a process, and the model schedules thousands)."""
    event = simpy.Event(env)
    event._ok = True  # what simpy.Timeout does, but scheduled at URGENT priority
    event._value = None
    event.callbacks.append(lambda _event: action(*args))
    env.schedule(event, URGENT, max(delay, 0.0))
