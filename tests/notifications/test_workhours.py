"""Escalation counts working hours: the organisation's days and hours, in its own time
zone, daylight saving included."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from careline.notifications.workhours import Calendar, deadline

LONDON = zoneinfo.ZoneInfo("Europe/London")
WEEKDAYS = Calendar("Europe/London", dt.time(9), dt.time(17), frozenset({1, 2, 3, 4, 5}))


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def test_within_a_working_day_it_is_wall_time() -> None:
    # Tuesday 10:00 + 4 h = Tuesday 14:00.
    assert deadline(local(2026, 12, 1, 10), 4, WEEKDAYS) == local(2026, 12, 1, 14)


def test_the_evening_and_night_do_not_count() -> None:
    # Tuesday 15:00 + 4 h: 2 h on Tuesday, 2 h on Wednesday morning.
    assert deadline(local(2026, 12, 1, 15), 4, WEEKDAYS) == local(2026, 12, 2, 11)


def test_a_message_after_hours_waits_from_the_next_morning() -> None:
    assert deadline(local(2026, 12, 1, 22, 30), 4, WEEKDAYS) == local(2026, 12, 2, 13)
    assert deadline(local(2026, 12, 2, 6), 1.5, WEEKDAYS) == local(2026, 12, 2, 10, 30)


def test_the_weekend_does_not_count() -> None:
    # Friday 16:00 + 4 h: 1 h on Friday, 3 h on Monday.
    assert deadline(local(2026, 12, 4, 16), 4, WEEKDAYS) == local(2026, 12, 7, 12)
    assert deadline(local(2026, 12, 5, 11), 4, WEEKDAYS) == local(2026, 12, 7, 13)


def test_long_thresholds_span_weeks() -> None:
    # 40 working hours = one working week.
    assert deadline(local(2026, 12, 7, 9), 40, WEEKDAYS) == local(2026, 12, 11, 17)
    assert deadline(local(2026, 12, 7, 9), 41, WEEKDAYS) == local(2026, 12, 14, 10)


def test_the_organisations_own_time_zone_and_days() -> None:
    riyadh = Calendar("Asia/Riyadh", dt.time(8), dt.time(16), frozenset({7, 1, 2, 3, 4}))
    # Thursday 15:00 in Riyadh (12:00 UTC) + 2 h: 1 h Thursday, Friday and Saturday off,
    # 1 h on Sunday: 09:00 Riyadh = 06:00 UTC.
    start = dt.datetime(2026, 12, 3, 12, tzinfo=dt.UTC)
    assert deadline(start, 2, riyadh) == dt.datetime(2026, 12, 6, 6, tzinfo=dt.UTC)


def test_daylight_saving_an_hour_is_an_hour_that_passes() -> None:
    # Sunday 29 March 2026 the clocks go forward at 01:00 in London; an all-day calendar
    # counts the real hours that pass: 00:30 GMT + 2 h of real time = 03:30 BST.
    always = Calendar("Europe/London", dt.time(0), dt.time(23, 59), frozenset(range(1, 8)))
    got = deadline(local(2026, 3, 29, 0, 30), 2, always)
    assert got == dt.datetime(2026, 3, 29, 2, 30, tzinfo=dt.UTC)
    assert got.astimezone(LONDON).time() == dt.time(3, 30)
    # Across the change a 09:00-17:00 day is still 8 working hours.
    assert deadline(local(2026, 3, 27, 9), 16, WEEKDAYS) == local(2026, 3, 30, 17)


@pytest.mark.parametrize(
    "calendar",
    [
        Calendar("UTC", dt.time(9), dt.time(17), frozenset()),
        Calendar("UTC", dt.time(17), dt.time(9), frozenset({1})),
    ],
)
def test_a_calendar_without_working_time_is_refused(calendar: Calendar) -> None:
    with pytest.raises(ValueError, match="works some hours"):
        deadline(local(2026, 12, 1, 10), 4, calendar)
