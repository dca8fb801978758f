"""What a person chose about being told, in one organisation, and what applies when
they chose nothing: their own choice, else the organisation's default for their
audience (staff: admin and staff; clients: client and guardian), else careline's.

`effective` is what delivery and digests read. The API that changes choices and
defaults validates every value (docs/notifications.md, "Preferences").
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass
from typing import Any, Literal

from careline.db.tx import Role, Tx

Audience = Literal["staff", "clients"]
Digest = Literal["off", "daily", "weekly"]


@dataclass(frozen=True, slots=True)
class Choices:
    push: bool
    email: bool
    digest: Digest
    quiet_hours: bool
    quiet_start: dt.time
    quiet_end: dt.time
    time_zone: str


QUIET_START, QUIET_END = dt.time(21, 0), dt.time(7, 30)
# careline's own defaults, per audience: clients and guardians get quiet nights and a
# weekly digest; staff get neither unless they or their organisation choose them.
BUILT_IN: dict[Audience, dict[str, Any]] = {
    "staff": {"push": True, "email": True, "digest": "off", "quiet_hours": False},
    "clients": {"push": True, "email": True, "digest": "weekly", "quiet_hours": True},
}
FIELDS = ("push", "email", "digest", "quiet_hours", "quiet_start", "quiet_end", "time_zone")


def audience_of(role: Role | str) -> Audience:
    return "staff" if Role(role).is_staff else "clients"


def built_in(audience: Audience, time_zone: str) -> Choices:
    return Choices(
        **BUILT_IN[audience], quiet_start=QUIET_START, quiet_end=QUIET_END, time_zone=time_zone
    )


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The time zone, or UTC for a name this machine no longer knows."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


async def effective(tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID) -> Choices | None:
    """What applies to this member now (None: not a member, or disabled). One statement;
    the transaction must see the rows (the person themselves, or the system)."""
    row = await tx.conn.fetchrow(
        """
        SELECT m.role, t.time_zone AS tenant_zone,
               p.push, p.email, p.digest, p.quiet_hours, p.quiet_start, p.quiet_end,
               p.time_zone,
               d.push AS d_push, d.email AS d_email, d.digest AS d_digest,
               d.quiet_hours AS d_quiet_hours, d.quiet_start AS d_quiet_start,
               d.quiet_end AS d_quiet_end, d.time_zone AS d_time_zone
        FROM memberships m
        JOIN tenants t ON t.id = m.tenant_id
        LEFT JOIN notification_preferences p
          ON p.tenant_id = m.tenant_id AND p.account_id = m.account_id
        LEFT JOIN notification_defaults d ON d.tenant_id = m.tenant_id
          AND d.audience = CASE WHEN m.role IN ('admin', 'staff') THEN 'staff' ELSE 'clients' END
        WHERE m.tenant_id = $1 AND m.account_id = $2 AND m.disabled_at IS NULL
        """,
        tenant_id,
        account_id,
    )
    if row is None:
        return None
    return combine(row, audience_of(row["role"]))


def combine(row: Any, audience: Audience) -> Choices:
    """A person's choice where they made one, else the organisation's default, else
    careline's. `row` has the person's columns and the default's as d_<column>."""
    base = built_in(audience, row["tenant_zone"])
    values: dict[str, Any] = {}
    for name in FIELDS:
        own, default = row[name], row[f"d_{name}"]
        values[name] = (
            own if own is not None else default if default is not None else getattr(base, name)
        )
    return Choices(**values)


def in_quiet_hours(choices: Choices, at: dt.datetime) -> dt.datetime | None:
    """If `at` falls in the person's quiet hours, when they end (as an aware UTC time);
    else None. Quiet hours may span midnight (21:00-07:30) and follow the person's time
    zone, daylight saving included."""
    if not choices.quiet_hours or choices.quiet_start == choices.quiet_end:
        return None
    tz = zone(choices.time_zone)
    local = at.astimezone(tz)
    start, end, now = choices.quiet_start, choices.quiet_end, local.time()
    spans_midnight = start > end
    inside = (now >= start or now < end) if spans_midnight else (start <= now < end)
    if not inside:
        return None
    end_day = local.date()
    if spans_midnight and now >= start:
        end_day += dt.timedelta(days=1)
    ends = dt.datetime.combine(end_day, end, tzinfo=tz)
    return ends.astimezone(dt.UTC)
