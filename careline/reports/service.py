"""The reports' public API: note the days people are active, and build a month's usage
and engagement reports for the organisation's admins (docs/operations.md "Reports").

Counts, times and ids only: a report never reads message text or file names. Each report
read is audited (`report.read`). Raises Forbidden `admin_only` for anyone but an admin;
InvalidInput `bad_month` (not YYYY-MM) and `future_month` (after the current one).
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from careline.audit import service as audit_service
from careline.db.tx import Role, Tx
from careline.kit import clock
from careline.kit.errors import InvalidInput
from careline.reports import store
from careline.reports.records import (
    ROLES,
    Engagement,
    EngagementReport,
    EngagementRow,
    Month,
    Usage,
    UsageReport,
)
from careline.tenants import service as tenant_service

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# A wait longer than this without a staff reply counts as "unanswered for more than a day".
UNANSWERED_AFTER = dt.timedelta(days=1)
# Limits (docs/limits.md, "Reports"): the first month a report covers, and the people one
# node remembers as noted today before it starts again.
REPORT_FIRST_YEAR = 2000
ACTIVITY_MEMO_MAX = 100_000

# (tenant, account) -> when the organisation's day ends: until then, that person's day
# is noted. Filled only after COMMIT, so a send that rolls back does not stop the next
# one from noting the day. Bounded: cleared when full (the cost is one more upsert each).
_noted: dict[tuple[uuid.UUID, uuid.UUID], dt.datetime] = {}


async def note_active(tx: Tx) -> None:
    """The actor sent a message or read a conversation: note today as an active day for
    them (one upsert per person per day per node; the memo skips the rest)."""
    actor = tx.actor
    if actor.account_id is None or actor.tenant_id is None or actor.role is Role.SYSTEM:
        return
    key = (actor.tenant_id, actor.account_id)
    until = _noted.get(key)
    if until is not None and clock.now() < until:
        return
    ends = await store.insert_activity_day(tx, actor.tenant_id, actor.account_id, actor.role.value)
    if ends is None:
        return

    async def remember() -> None:
        if len(_noted) >= ACTIVITY_MEMO_MAX:
            _noted.clear()
        _noted[key] = ends

    tx.after_commit(remember)


def forget_noted() -> None:
    """Empty the memo (tests: a day noted before is written again)."""
    _noted.clear()


def check_month(value: str | None, *, time_zone: str, now: dt.datetime) -> Month:
    """`YYYY-MM` (default: the current month in `time_zone`) as its bounds."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    if value is None:
        year, month = today.year, today.month
    else:
        found = _MONTH.match(value)
        if not found or not 1 <= int(found[2]) <= 12 or int(found[1]) < REPORT_FIRST_YEAR:
            raise InvalidInput(f"month is YYYY-MM, from {REPORT_FIRST_YEAR}-01", code="bad_month")
        year, month = int(found[1]), int(found[2])
        if (year, month) > (today.year, today.month):
            raise InvalidInput("that month has not begun", code="future_month")
    first = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return Month(
        year=year,
        month=month,
        time_zone=time_zone,
        first=first,
        last=following - dt.timedelta(days=1),
        start=dt.datetime.combine(first, dt.time(), zone),
        end=dt.datetime.combine(following, dt.time(), zone),
    )


async def _begin(tx: Tx, month: str | None, report: str, fmt: str) -> Month:
    tenant_service.require_admin(tx)
    zone = await store.get_time_zone(tx, tx.actor.tenant) or "UTC"
    period = check_month(month, time_zone=zone, now=clock.now())
    await audit_service.record(
        tx,
        "report.read",
        detail={"month": period.year * 100 + period.month, "report": report, "format": fmt},
    )
    return period


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _by_role(rows: Iterable[Any]) -> dict[str, int]:
    active = dict.fromkeys(ROLES, 0)
    for row in rows:
        active[row["role"]] += row["people"]
    return active


async def usage_report(tx: Tx, month: str | None, *, fmt: str = "json") -> UsageReport:
    """People active per day, per ISO week and in the month by role; messages per day by
    side (staff and admins; clients and guardians); files shared in messages."""
    period = await _begin(tx, month, "usage", fmt)
    tenant = tx.actor.tenant
    week_first = period.first - dt.timedelta(days=period.first.weekday())
    week_last = period.last + dt.timedelta(days=6 - period.last.weekday())
    # The counts cover every conversation of the organisation, also those the admin is
    # not in: read as careline, within the admin's tenant, and only counted.
    async with tx.as_system():
        day_rows = await store.count_active_days(tx, tenant, period.first, period.last)
        week_rows = await store.count_active_weeks(tx, tenant, week_first, week_last)
        month_rows = await store.count_active_people(tx, tenant, period.first, period.last)
        messages = await store.count_messages(
            tx, tenant, period.start, period.end, period.time_zone
        )
        files = await store.count_files(tx, tenant, period.start, period.end, period.time_zone)
    active_on: dict[dt.date, list[Any]] = defaultdict(list)
    for row in day_rows:
        active_on[row["day"]].append(row)
    staff_sent: dict[dt.date, int] = defaultdict(int)
    client_sent: dict[dt.date, int] = defaultdict(int)
    for row in messages:
        side = staff_sent if row["role"] in ("admin", "staff") else client_sent
        side[row["day"]] += row["messages"]
    shared = {row["day"]: row["files"] for row in files}
    days = [
        (
            day,
            Usage(_by_role(active_on[day]), staff_sent[day], client_sent[day], shared.get(day, 0)),
        )
        for day in _days(period.first, period.last)
    ]
    weeks = []
    for monday in _days(week_first, week_last)[::7]:
        inside = [(d, u) for d, u in days if monday <= d < monday + dt.timedelta(days=7)]
        weeks.append(
            (
                monday,
                Usage(
                    _by_role(r for r in week_rows if r["week"] == monday),
                    sum(u.messages_from_staff for _, u in inside),
                    sum(u.messages_from_clients for _, u in inside),
                    sum(u.files for _, u in inside),
                ),
            )
        )
    total = Usage(
        _by_role(month_rows),
        sum(staff_sent.values()),
        sum(client_sent.values()),
        sum(shared.values()),
    )
    return UsageReport(period, total, days, weeks)


def _engagement(waits: list[Any], now: dt.datetime) -> Engagement:
    replies = [
        (w["replied_at"] - w["waiting_since"]).total_seconds()
        for w in waits
        if w["replied_at"] is not None
    ]
    late = sum(1 for w in waits if (w["replied_at"] or now) - w["waiting_since"] > UNANSWERED_AFTER)
    return Engagement(
        waiting=len(waits),
        answered=len(replies),
        median_reply_seconds=statistics.median(replies) if replies else None,
        unanswered_over_a_day=late,
    )


async def engagement_report(tx: Tx, month: str | None, *, fmt: str = "json") -> EngagementReport:
    """Client messages that waited for staff in the month: how many, how many were
    answered, the median time to the first staff reply, and how many waited more than a
    day (unanswered still, or answered later than that); over the organisation, by the
    staff member of each care conversation (support conversations: the support desk, no
    account), and by the client's care team (the client's conversations)."""
    period = await _begin(tx, month, "engagement", fmt)
    tenant = tx.actor.tenant
    async with tx.as_system():
        waits = await store.list_waiting(tx, tenant, period.start, period.end)
        by_staff: dict[uuid.UUID | None, list[Any]] = defaultdict(list)
        by_team: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for w in waits:
            by_staff[w["staff_id"] if w["kind"] == "care" else None].append(w)
            by_team[w["client_id"]].append(w)
        known = [a for a in (*by_staff, *by_team) if a is not None]
        members = await tenant_service.members_by_ids(tx, known)
    names = {k: m.display_name for k, m in members.items()}
    now = clock.now()

    def rows(groups: dict[Any, list[Any]]) -> list[EngagementRow]:
        made = [
            EngagementRow(k, names.get(k) if k else None, _engagement(v, now))
            for k, v in groups.items()
        ]
        return sorted(
            made, key=lambda r: (r.account_id is None, (r.name or "").lower(), str(r.account_id))
        )

    return EngagementReport(period, _engagement(waits, now), rows(by_staff), rows(by_team))
