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

from careline.audit.changes import record_change
from careline.db.tx import Role, Tx
from careline.kit.errors import InvalidInput, NotFound
from careline.notifications import preferences_store
from careline.tenants import service as tenant_service

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
    row = await preferences_store.get_member_choices(tx, tenant_id, account_id)
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


# Changing choices and defaults (the API: careline/notifications/preferences_api.py) ---

AUDIENCES: tuple[Audience, ...] = ("staff", "clients")


@dataclass(frozen=True, slots=True)
class MyChoices:
    """A person's view of their choices: their own (None: the organisation decides),
    what None means for them now, and what applies."""

    audience: Audience
    own: dict[str, Any]
    defaults: Choices
    effective: Choices


@dataclass(frozen=True, slots=True)
class AudienceDefaults:
    choices: Choices
    custom: bool  # set by an admin (else careline's built-in defaults apply)


def _mine(row: Any) -> MyChoices:
    audience = audience_of(row["role"])
    base = built_in(audience, row["tenant_zone"])
    defaults = Choices(
        **{
            name: row[f"d_{name}"] if row[f"d_{name}"] is not None else getattr(base, name)
            for name in FIELDS
        }
    )
    return MyChoices(
        audience=audience,
        own={name: row[name] for name in FIELDS},
        defaults=defaults,
        effective=combine(row, audience),
    )


def _check_window(choices: Choices) -> None:
    # An empty window is no window: refuse it rather than silently never being quiet.
    if choices.quiet_start == choices.quiet_end:
        raise InvalidInput(
            "quiet hours must start and end at different times", code="empty_quiet_hours"
        )


async def get_my_choices(tx: Tx) -> MyChoices:
    """The acting person's choices in the acting organisation. NotFound if they are not
    an enabled member (cannot happen for a live session)."""
    row = await preferences_store.get_member_choices(tx, tx.actor.tenant, tx.actor.account)
    if row is None:
        raise NotFound("no such member")
    return _mine(row)


async def internal_update_choices(
    tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID, changes: dict[str, Any]
) -> MyChoices:
    """Change exactly the named choices of one member (a value, or None for the
    organisation's default); the others stay. Values are already validated (the wire
    schemas); InvalidInput `empty_quiet_hours` if the result would have quiet hours
    starting and ending at the same time (nothing changed). The caller's transaction
    must see the member's rows: the person themselves, or the system (an unsubscribe
    link)."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a preference: {sorted(unknown)}")
    row = await preferences_store.get_member_choices(tx, tenant_id, account_id)
    if row is None:
        raise NotFound("no such member")
    values = {name: row[name] for name in FIELDS} | changes
    merged = {**dict(row.items()), **values}
    mine = _mine(merged)
    _check_window(mine.effective)
    await preferences_store.upsert_own(tx, tenant_id, account_id, values)
    return mine


async def do_update_my_choices(tx: Tx, changes: dict[str, Any]) -> MyChoices:
    """The acting person changes their own choices in the acting organisation."""
    return await internal_update_choices(tx, tx.actor.tenant, tx.actor.account, changes)


async def get_defaults(tx: Tx) -> dict[Audience, AudienceDefaults]:
    """The acting organisation's defaults per audience (admins only: Forbidden
    `admin_only`)."""
    tenant_service.require_admin(tx)
    zone_name = await preferences_store.get_tenant_zone(tx, tx.actor.tenant)
    if zone_name is None:
        raise NotFound("no such organisation")
    rows = await preferences_store.list_defaults(tx, tx.actor.tenant)
    found: dict[Audience, AudienceDefaults] = {}
    for audience in AUDIENCES:
        row = rows.get(audience)
        if row is None:
            found[audience] = AudienceDefaults(built_in(audience, zone_name), custom=False)
        else:
            found[audience] = AudienceDefaults(
                Choices(**{name: row[name] for name in FIELDS}), custom=True
            )
    return found


async def do_update_defaults(
    tx: Tx, changes: dict[Audience, dict[str, Any]]
) -> dict[Audience, AudienceDefaults]:
    """An admin changes the named defaults of each audience; the rest stay as they are
    (careline's built-in values, the first time). A person's own choice still wins over
    them. Forbidden `admin_only`; InvalidInput `empty_quiet_hours` (nothing changed)."""
    current = await get_defaults(tx)
    updated: dict[Audience, Choices] = {}
    for audience, fields in changes.items():
        if not fields:
            continue
        values = {name: getattr(current[audience].choices, name) for name in FIELDS} | fields
        choices = Choices(**values)
        _check_window(choices)
        updated[audience] = choices
    for audience, choices in updated.items():
        values = {name: getattr(choices, name) for name in FIELDS}
        await preferences_store.upsert_defaults(tx, tx.actor.tenant, audience, values)
        for name in FIELDS:
            if values[name] != getattr(current[audience].choices, name):
                await record_change(
                    tx, "notifications.defaults_changed", detail={"setting": f"{audience}.{name}"}
                )
    return await get_defaults(tx)
