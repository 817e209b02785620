"""Working days in China: official holidays and 调休 make-up workdays.

The State Council publishes each year's arrangement in late autumn; the
``chinese-calendar`` package carries the published years. For a year it does
not know yet, the center's administrators enter the arrangement in the
calendar table, whose rows (``overrides``) always win. A day neither source
knows is a working day from Monday to Friday.

Deadlines follow the civil-procedure rule (民事诉讼法 §85): the day the period
starts is not counted, and a period in calendar days that ends on a rest day
ends on the next working day.
"""
from __future__ import annotations

from datetime import date, timedelta
from enum import Enum
from functools import cache

import chinese_calendar


class DayUnit(Enum):
    CALENDAR = "calendar"
    WORKING = "working"


@cache  # the package's tables do not change while the process runs, and every day checked asks
def known_years() -> range:
    """The years whose arrangement the package carries."""
    return range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


def is_workday(day: date, overrides: dict[date, bool] | None = None) -> bool:
    """True when ``day`` is a working day (make-up workdays included, holidays excluded)."""
    if overrides and day in overrides:
        return overrides[day]
    if day.year in known_years():
        # the package's own rule, read from its tables directly: its is_workday() scans the whole
        # holiday table for the years it knows on every call
        return day in chinese_calendar.workdays or (day.weekday() < 5 and day not in chinese_calendar.holidays)
    return day.weekday() < 5


def next_workday(day: date, overrides: dict[date, bool] | None = None) -> date:
    """``day`` itself if it is a working day, else the next one."""
    while not is_workday(day, overrides):
        day += timedelta(days=1)
    return day


def deadline(start: date, days: int, unit: DayUnit, overrides: dict[date, bool] | None = None) -> date:
    """The last day of a period of ``days`` starting on ``start`` (which is not counted)."""
    if days < 0:
        raise ValueError("a period cannot be negative")
    if unit is DayUnit.CALENDAR:
        return next_workday(start + timedelta(days=days), overrides)
    day, left = start, days
    while left:
        day += timedelta(days=1)
        if is_workday(day, overrides):
            left -= 1
    return day
