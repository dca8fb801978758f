"""HTTP: your own notification preferences in this organisation, and the organisation's
defaults per audience (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from careline.auth.api import CurrentActor
from careline.db.tx import transaction
from careline.notifications import preferences
from careline.notifications.preferences import AudienceDefaults, Choices, MyChoices
from careline.notifications.preferences_schemas import (
    DefaultsRead,
    DefaultsUpdate,
    PreferencesRead,
    PreferencesUpdate,
    hh_mm,
)
from careline.web.http import ERRORS

router = APIRouter(prefix="/api/v1/me", tags=["notifications"], responses=ERRORS)
admin = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERRORS)


def choices_read(choices: Choices) -> dict[str, Any]:
    return {
        "push": choices.push,
        "email": choices.email,
        "digest": choices.digest,
        "quiet_hours": choices.quiet_hours,
        "quiet_start": hh_mm(choices.quiet_start),
        "quiet_end": hh_mm(choices.quiet_end),
        "time_zone": choices.time_zone,
    }


def preferences_read(mine: MyChoices) -> dict[str, Any]:
    own = dict(mine.own)
    for name in ("quiet_start", "quiet_end"):
        if own[name] is not None:
            own[name] = hh_mm(own[name])
    return {
        "audience": mine.audience,
        **own,
        "defaults": choices_read(mine.defaults),
        "effective": choices_read(mine.effective),
    }


def defaults_read(found: dict[preferences.Audience, AudienceDefaults]) -> dict[str, Any]:
    return {
        audience: {**choices_read(d.choices), "custom": d.custom} for audience, d in found.items()
    }


@router.get("/notifications", response_model=PreferencesRead)
async def get_my_notification_preferences(actor: CurrentActor) -> dict[str, Any]:
    """Your notification preferences in this organisation: each of your own choices
    (null: you follow the organisation's default, shown in `defaults`), and what
    applies (`effective`)."""
    async with transaction(actor, readonly=True) as tx:
        mine = await preferences.get_my_choices(tx)
    return preferences_read(mine)


@router.patch("/notifications", response_model=PreferencesRead)
async def update_my_notification_preferences(
    body: PreferencesUpdate, actor: CurrentActor
) -> dict[str, Any]:
    """Change your notification preferences in this organisation (your other
    organisations keep theirs). Fields left out stay as they are; null goes back to the
    organisation's default. A refused value (422 `invalid_preference`, `invalid_time`,
    `invalid_time_zone`, `empty_quiet_hours`, `invalid_input`) changes nothing."""
    async with transaction(actor) as tx:
        mine = await preferences.do_update_my_choices(tx, body.changes())
    return preferences_read(mine)


@admin.get("/notifications/defaults", response_model=DefaultsRead)
async def get_notification_defaults(actor: CurrentActor) -> dict[str, Any]:
    """The organisation's notification defaults for staff (admins and staff) and for
    clients (clients and guardians): what applies to everyone who has not chosen
    themselves. `custom` is false while careline's built-in defaults apply."""
    async with transaction(actor, readonly=True) as tx:
        found = await preferences.get_defaults(tx)
    return defaults_read(found)


@admin.patch("/notifications/defaults", response_model=DefaultsRead)
async def update_notification_defaults(body: DefaultsUpdate, actor: CurrentActor) -> dict[str, Any]:
    """Change the organisation's defaults of either audience; fields left out stay as
    they are. A person's own choice still wins. A refused value changes nothing."""
    changes: dict[preferences.Audience, dict[str, Any]] = {}
    if body.staff is not None:
        changes["staff"] = body.staff.changes()
    if body.clients is not None:
        changes["clients"] = body.clients.changes()
    async with transaction(actor) as tx:
        found = await preferences.do_update_defaults(tx, changes)
    return defaults_read(found)
