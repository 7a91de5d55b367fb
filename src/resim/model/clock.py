"""One clock: float days since the scenario start, with calendar months as reporting periods.

Order of same-time events (fixed, so results do not drift): arrivals and licence decisions run
first (URGENT priority); then the month-end step (produce, record) and the next month's start
(stockpile release, orders) in that order (NORMAL priority).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, cast

import numpy as np
import simpy

from resim.scenario.schema import month_start

DAYS_PER_MONTH: Final = 365.25 / 12
DAYS_PER_KEY: Final = 7.0  # per-event luck (orders, shipments, licence files) is keyed by calendar week
URGENT: Final = 0  # simpy.core.URGENT (tests/test_model.py pins it)  # speed: an inlined constant


def week_of(day: float) -> int:
    """The calendar week (since the start) that keys an event's luck."""
    return int(day // DAYS_PER_KEY)


def weeks_in(horizon_days: float) -> int:
    return week_of(horizon_days) + 1


@dataclass(frozen=True)
class Months:
    """The reporting months of a run: first day of each (as dates and as days since start),
    length in days, and mid-month day. Pure functions of time are evaluated on this grid once."""

    start: dt.date
    dates: list[dt.date]
    days: np.ndarray
    first_day: np.ndarray
    mid_day: np.ndarray

    @classmethod
    def of(cls, start: dt.date, months: int) -> Months:
        bounds = month_starts(start, months)
        first = np.array([(d - start).days for d in bounds], dtype=float)
        days = np.diff(first)
        return cls(start, bounds[:-1], days, first[:-1], first[:-1] + days / 2)


def ramp(mid_day: np.ndarray, from_day: float, ramp_days: float) -> np.ndarray:
    """Share of full capacity at each mid-month day: 0 before `from_day`, then linear to 1."""
    if ramp_days <= 0:
        return (mid_day >= from_day).astype(float)
    return np.clip((mid_day - from_day) / ramp_days, 0.0, 1.0)


def month_starts(start: dt.date, months: int) -> list[dt.date]:
    """The first day of each month from `start`, plus the day after the horizon."""
    return [month_start(start, m) for m in range(months + 1)]


def clock_now(env: simpy.Environment) -> float:
    """The time now, in days since the start (SimPy's clock; tests/test_model.py pins it to `env.now`)."""
    # speed: the attribute, not the `now` property (docs/performance.md)
    return env._now


def _run(event: _Call) -> None:
    event.action(*event.args)


class _Call:
    """An already-triggered event that runs `action(*args)` when processed: what simpy.Timeout
    does, but scheduled at URGENT priority. SimPy's loop reads only an event's `callbacks` (then sets
    them to None), `_ok` and `_value`."""
    # speed: not a simpy.Event subclass (docs/performance.md)

    __slots__ = ("callbacks", "_ok", "_value", "env", "action", "args")

    def __init__(self, env: simpy.Environment, action: Callable[..., Any], args: tuple[Any, ...]):
        self.callbacks: tuple[Callable[[_Call], None], ...] | None = RUN
        self._ok, self._value = True, None
        self.env, self.action, self.args = env, action, args


RUN: Final[tuple[Callable[[_Call], None], ...]] = (_run,)  # a _Call's callbacks: one tuple, not one per event


def after(env: simpy.Environment, delay: float, action: Callable[..., Any], *args: Any) -> None:
    """Run `action(*args)` `delay` days from now, before same-time NORMAL events."""
    # a _Call is not a simpy.Event, but has all of one that SimPy's loop reads (see _Call)
    event, priority = cast("simpy.Event", _Call(env, action, args)), cast("simpy.core.EventPriority", URGENT)
    env.schedule(event, priority, delay if delay > 0 else 0.0)
