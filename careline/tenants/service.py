"""Organisations and their members.

Errors: NotFound for a member outside the acting organisation, Forbidden for a role that
may not do this, Conflict for an e-mail or slug already taken.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import uuid
import zoneinfo
from typing import Any

from careline import config
from careline.audit.changes import record_change
from careline.db.tx import Actor, Role, Tx, transaction
from careline.keys import service as key_service
from careline.kit import clock, limits
from careline.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from careline.kit.ids import new_id
from careline.kit.passwords import Passwords
from careline.kit.text import clean_email, clean_text
from careline.tenants import store
from careline.tenants.records import (
    ConversationStart,
    EscalationSettings,
    LoginIdentity,
    Member,
    OrganisationSettings,
    Tenant,
    TenantSettings,
)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class _Hasher:
    passwords: Passwords | None = None
    made_for: tuple[int, int, int, int] | None = None


_hasher = _Hasher()


def passwords() -> Passwords:
    """The node's hasher and its thread pool, made again when the settings change (each
    in-process test server brings its own)."""
    settings = config.current()
    wanted = (
        settings.password_time_cost,
        settings.password_memory_kib,
        settings.password_hash_workers,
        settings.password_hash_max_waiting,
    )
    if _hasher.passwords is None or _hasher.made_for != wanted:
        if _hasher.passwords is not None:
            _hasher.passwords.close()
        _hasher.passwords = Passwords(
            time_cost=wanted[0], memory_kib=wanted[1], workers=wanted[2], max_waiting=wanted[3]
        )
        _hasher.made_for = wanted
    return _hasher.passwords


def check_password(password: str) -> str:
    if len(password) < limits.PASSWORD_MIN_CHARS:
        raise InvalidInput(
            f"a password needs at least {limits.PASSWORD_MIN_CHARS} characters",
            code="weak_password",
        )
    if len(password) > limits.PASSWORD_MAX_CHARS:
        raise InvalidInput("password too long", code="text_too_long")
    return password


def check_display_name(name: str) -> str:
    return clean_text(
        name, field="display name", max_chars=limits.DISPLAY_NAME_MAX_CHARS, multiline=False
    )


def require_admin(tx: Tx) -> None:
    if tx.actor.role not in (Role.ADMIN, Role.SYSTEM):
        raise Forbidden("only an organisation admin can do this", code="admin_only")


async def get_settings(tx: Tx) -> TenantSettings:
    """The acting organisation's settings (any member: the services apply them)."""
    found = await store.get_settings(tx, tx.actor.tenant)
    if found is None:
        raise NotFound("no such organisation")
    return found


async def do_update_settings(
    tx: Tx, *, file_mb_per_person_per_day: int | None = None
) -> TenantSettings:
    """Admins only: change the acting organisation's settings; None leaves one as it is."""
    require_admin(tx)
    before = await get_settings(tx)
    changed = await store.update_settings(
        tx, tx.actor.tenant, file_mb_per_person_per_day=file_mb_per_person_per_day
    )
    if changed is None:
        raise NotFound("no such organisation")
    await _audit_settings(tx, before, changed)
    return changed


async def _audit_settings(tx: Tx, before: Any, after: Any, *, prefix: str = "") -> None:
    """One `tenant.settings_changed` per setting whose value changed (its name only)."""
    for field in dataclasses.fields(after):
        if getattr(before, field.name) != getattr(after, field.name):
            await record_change(
                tx, "tenant.settings_changed", detail={"setting": prefix + field.name}
            )


async def get_organisation_settings(tx: Tx) -> OrganisationSettings:
    """The acting organisation's settings every member's client applies (any member)."""
    found = await store.get_organisation_settings(tx, tx.actor.tenant)
    if found is None:
        raise NotFound("no such organisation")
    return found


async def do_update_organisation_settings(
    tx: Tx,
    *,
    conversation_start: ConversationStart | None = None,
    device_storage: bool | None = None,
) -> OrganisationSettings:
    """Admins only: change who may start conversations with whom, or whether devices keep
    recent conversations; None leaves one as it is."""
    require_admin(tx)
    before = await get_organisation_settings(tx)
    changed = await store.update_organisation_settings(
        tx,
        tx.actor.tenant,
        conversation_start=conversation_start,
        device_storage=device_storage,
    )
    if changed is None:
        raise NotFound("no such organisation")
    await _audit_settings(tx, before, changed)
    return changed


async def get_escalation_settings(tx: Tx) -> EscalationSettings:
    """The acting organisation's unread escalation and working week (any member)."""
    found = await store.get_escalation_settings(tx, tx.actor.tenant)
    if found is None:
        raise NotFound("no such organisation")
    return found


def check_time_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("not a time zone this server knows", code="bad_time_zone") from None
    return name


async def do_update_escalation_settings(tx: Tx, changes: dict[str, Any]) -> EscalationSettings:
    """Admins only: change unread escalation or the working week. `changes` holds only
    the fields given, by EscalationSettings' names (None turns a threshold off; turning
    `hours` off turns `admin_hours` off too). Raises InvalidInput for an unknown zone,
    a working day that ends before it starts, or an admin threshold not after the
    first."""
    require_admin(tx)
    current = await get_escalation_settings(tx)
    if "hours" in changes and changes["hours"] is None:
        changes = {**changes, "admin_hours": None}
    if "time_zone" in changes:
        check_time_zone(changes["time_zone"])
    if "work_days" in changes:
        changes = {**changes, "work_days": tuple(sorted(set(changes["work_days"])))}
    wanted = dataclasses.replace(current, **changes)
    if wanted.work_start >= wanted.work_end:
        raise InvalidInput("the working day ends after it starts", code="bad_work_hours")
    if wanted.admin_hours is not None and (
        wanted.hours is None or wanted.admin_hours <= wanted.hours
    ):
        raise InvalidInput(
            "the admins are told after the care team: escalation_admin_hours is more than "
            "escalation_hours",
            code="bad_escalation_order",
        )
    changed = await store.set_escalation_settings(tx, tx.actor.tenant, wanted)
    if changed is None:
        raise NotFound("no such organisation")
    await _audit_settings(tx, current, changed, prefix="escalation.")
    return changed


def parse_clock_time(value: str) -> dt.time:
    """ "HH:MM" (the schema checked the form) as a time."""
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


async def do_create_tenant(tx: Tx, *, slug: str, name: str) -> Tenant:
    """System only: a new organisation with its first data key."""
    if not _SLUG.match(slug):
        raise InvalidInput(
            "slug: 2-63 lowercase letters, digits and dashes, starting with a letter or digit",
            code="invalid_slug",
        )
    name = clean_text(name, field="name", max_chars=200, multiline=False)
    if await store.get_tenant_by_slug(tx, slug) is not None:
        raise Conflict(f"an organisation with slug {slug!r} exists", code="slug_taken")
    tenant_id = new_id()
    await store.insert_tenant(tx, tenant_id=tenant_id, slug=slug, name=name)
    await key_service.keyring().add_version(tx, tenant_id)
    return Tenant(tenant_id, slug, name)


async def get_tenant(tx: Tx, tenant_id: uuid.UUID) -> Tenant:
    tenant = await store.get_tenant(tx, tenant_id)
    if tenant is None:
        raise NotFound("no such organisation")
    return tenant


async def get_tenant_by_slug(tx: Tx, slug: str) -> Tenant | None:
    return await store.get_tenant_by_slug(tx, slug)


def check_role(role: Role) -> Role:
    if role is Role.SYSTEM:
        raise InvalidInput("role must be admin, staff, client or guardian", code="invalid_role")
    return role


async def do_add_member(
    tx: Tx,
    *,
    tenant_id: uuid.UUID,
    email: str,
    display_name: str,
    role: Role,
    password: str | None,
) -> tuple[Member, str | None]:
    """System only (the CLI, the demo, seeding): make a membership at once, creating the
    account if the e-mail is new. An admin invites instead (careline/invitations), so
    that nobody joins an organisation without saying yes.

    An existing account keeps its own password (`password` is then ignored). Returns
    the member and, when careline chose the password, that password (shown once).
    """
    if tx.actor.role is not Role.SYSTEM:
        raise Forbidden("only careline itself adds members directly", code="admin_only")
    check_role(role)
    email = clean_email(email, max_chars=limits.EMAIL_MAX_CHARS)
    display_name = check_display_name(display_name)
    account_id = await store.get_account_id_by_email(tx, email)
    generated = None
    if account_id is None:
        if password is None:
            generated = password = secrets.token_urlsafe(12)
        account_id = await internal_create_account(
            tx, email=email, display_name=display_name, password=password
        )
    if not await internal_join(
        tx, tenant_id=tenant_id, account_id=account_id, role=role, display_name=display_name
    ):
        raise Conflict("this person is already a member", code="already_member")
    member = await store.get_member(tx, tenant_id, account_id)
    assert member is not None
    return member, generated


async def internal_create_account(
    tx: Tx, *, email: str, display_name: str, password: str
) -> uuid.UUID:
    """System: a new account (the e-mail is known to be free)."""
    account_id = new_id()
    await store.insert_account(
        tx,
        account_id=account_id,
        email=email,
        display_name=check_display_name(display_name),
        password_hash=await passwords().hash(check_password(password)),
    )
    return account_id


async def internal_join(
    tx: Tx, *, tenant_id: uuid.UUID, account_id: uuid.UUID, role: Role, display_name: str
) -> bool:
    """System: the membership itself; False when it exists already."""
    return await store.insert_membership(
        tx,
        tenant_id=tenant_id,
        account_id=account_id,
        role=check_role(role),
        display_name=check_display_name(display_name),
    )


async def internal_account_id_by_email(tx: Tx, email: str) -> uuid.UUID | None:
    """System: the account behind an e-mail, in any organisation (never shown to admins)."""
    return await store.get_account_id_by_email(tx, email)


async def find_member_by_email(tx: Tx, email: str) -> Member | None:
    """A member of the acting organisation with this e-mail (RLS keeps it to this one)."""
    return await store.get_member_by_email(tx, tx.actor.tenant, email)


async def get_member(tx: Tx, account_id: uuid.UUID) -> Member:
    member = await store.get_member(tx, tx.actor.tenant, account_id)
    if member is None:
        raise NotFound("no such member")
    return member


async def list_members(
    tx: Tx, *, role: Role | None, after: tuple[str, uuid.UUID] | None, limit: int
) -> list[Member]:
    return await store.list_members(tx, tx.actor.tenant, role=role, after=after, limit=limit)


async def list_enabled_with_role(tx: Tx, role: Role) -> list[Member]:
    """Every enabled member with `role` (the admins a support conversation holds, or who
    hear of a quarantined file), walked page by page: never cut at a page's size."""
    found: list[Member] = []
    after = None
    while True:
        page = await store.list_members(
            tx, tx.actor.tenant, role=role, after=after, limit=limits.PAGE_MAX
        )
        found += [m for m in page if not m.disabled]
        if len(page) < limits.PAGE_MAX:
            return found
        after = (page[-1].sort_key, page[-1].account_id)


async def members_by_ids(tx: Tx, account_ids: list[uuid.UUID]) -> dict[uuid.UUID, Member]:
    found = await store.list_members_by_ids(tx, tx.actor.tenant, account_ids)
    return {m.account_id: m for m in found}


async def do_update_member(
    tx: Tx, account_id: uuid.UUID, *, role: Role | None, disabled: bool | None
) -> Member:
    """Change a member's role or disable them. An admin cannot demote or disable
    themselves, so an organisation always keeps someone who can fix things."""
    require_admin(tx)
    if role is not None:
        check_role(role)
    member = await get_member(tx, account_id)
    if account_id == tx.actor.account_id and (
        (role is not None and role is not Role.ADMIN) or disabled
    ):
        raise Conflict("you cannot demote or disable yourself", code="self_demotion")
    await store.update_membership(
        tx, tx.actor.tenant, member.account_id, role=role, disabled=disabled
    )
    changed = await get_member(tx, account_id)
    if changed.role is not member.role:
        await record_change(
            tx,
            "member.role_changed",
            subject_account_id=account_id,
            detail={"from_role": member.role.value, "to_role": changed.role.value},
        )
    if changed.disabled != member.disabled:
        action = "member.disabled" if changed.disabled else "member.enabled"
        await record_change(tx, action, subject_account_id=account_id)
    return changed


async def do_update_profile(
    actor: Actor,
    *,
    display_name: str | None,
    password: str | None,
    current_password: str | None,
    keep_archived: bool | None = None,
) -> None:
    """Your name in this organisation (each organisation keeps its own), your password
    (the account's, for every organisation; the current one is required), or whether
    archived conversations stay archived when a new message comes (per organisation).

    The password is verified and the new one hashed with no transaction open: each takes
    ~90 ms of a password thread and may wait for one, and a pooled connection held all
    that time would let a handful of password changes empty the pool. The new hash is
    then written only over the hash that was verified, so a change that raced this one
    is not overwritten by a request that proved a password no longer current."""
    if display_name is not None:
        display_name = check_display_name(display_name)
    verified, new_hash = None, None
    if password is not None:
        async with transaction(actor, readonly=True) as tx:
            verified = await store.get_password_hash(tx, actor.account)
        if current_password is None or not await passwords().verify(verified, current_password):
            raise Forbidden("current password is wrong", code="wrong_password")
        new_hash = await passwords().hash(check_password(password))
    async with transaction(actor) as tx:
        if new_hash is not None and not await store.replace_password_hash(
            tx, actor.account, was=verified, new=new_hash
        ):
            raise Forbidden("current password is wrong", code="wrong_password")
        if display_name is not None:
            await store.update_member_name(tx, actor.tenant, actor.account, display_name)
        if keep_archived is not None:
            # Memberships are written by admins (their role is in the row); this changes
            # one column of the actor's own row, named by the actor's own ids.
            async with tx.as_system():
                await store.update_keep_archived(tx, actor.tenant, actor.account, keep_archived)


async def keep_archived(tx: Tx) -> bool:
    """Whether the actor keeps archived conversations archived when a message comes."""
    return await store.get_keep_archived(tx, tx.actor.tenant, tx.actor.account)


async def get_login_identity(tx: Tx, email: str) -> LoginIdentity | None:
    """System only: the account behind an e-mail, for sign-in."""
    return await store.get_login_identity(tx, email)


async def list_active_memberships(tx: Tx, account_id: uuid.UUID) -> list[tuple[Tenant, Role]]:
    return await store.list_active_memberships(tx, account_id)


async def internal_set_password_hash(tx: Tx, account_id: uuid.UUID, password_hash: str) -> None:
    await store.update_password_hash(tx, account_id, password_hash)


async def internal_touch_last_seen(tx: Tx, account_id: uuid.UUID) -> None:
    """System, scoped to one organisation: the member was last seen there now."""
    await store.touch_last_seen(tx, tx.actor.tenant, account_id, clock.now())
