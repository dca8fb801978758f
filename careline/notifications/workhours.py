"""Working hours: when a span of an organisation's working time, started at some moment,
has run out (docs/notifications.md, "Escalation").

An organisation works from `start` to `end` on `days` (ISO weekdays, 1 = Monday) in its
own time zone; daylight saving included (a working day is as long as the clock says, an
hour of it is an hour that really passes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from careline.notifications.preferences import zone

_SEARCH_DAYS = 800  # the longest threshold (336 h) on one day a week, with room to spare


@dataclass(frozen=True, slots=True)
class Calendar:
    time_zone: str
    start: dt.time
    end: dt.time
    days: frozenset[int]


def deadline(since: dt.datetime, hours: float, calendar: Calendar) -> dt.datetime:
    """The moment `hours` of working time have passed since `since` (aware, any zone):
    time outside working hours and on days off does not count."""
    if hours <= 0:
        return since
    if not calendar.days or calendar.start >= calendar.end:
        raise ValueError("a calendar works some hours on some days")
    tz = zone(calendar.time_zone)
    since = since.astimezone(dt.UTC)
    left = dt.timedelta(hours=hours)
    day = since.astimezone(tz).date()
    for _ in range(_SEARCH_DAYS):
        if day.isoweekday() in calendar.days:
            opens = dt.datetime.combine(day, calendar.start, tzinfo=tz).astimezone(dt.UTC)
            closes = dt.datetime.combine(day, calendar.end, tzinfo=tz).astimezone(dt.UTC)
            begin = max(opens, since)
            if begin < closes:
                if begin + left <= closes:
                    return begin + left
                left -= closes - begin
        day += dt.timedelta(days=1)
    raise ValueError("no working time within reach")  # unreachable for valid calendars
