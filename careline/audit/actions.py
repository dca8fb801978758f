"""What the audit records, as data: every action, its category, whether it needs a
stated reason, and the only detail keys it may carry.

Detail values are ids, counts, booleans or words from a closed set (a role, a setting's
name): never text a person wrote, never a name. `service.record` refuses anything else,
so a careless call site cannot put health data in the audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Category = Literal["access", "admin", "intervention", "system"]


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    category: Category
    # Break-glass steps must say why; the reason is kept encrypted beside the event.
    needs_reason: bool = False
    detail_keys: frozenset[str] = frozenset()


def _a(name: str, category: Category, *keys: str, reason: bool = False) -> Action:
    return Action(name, category, needs_reason=reason, detail_keys=frozenset(keys))


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        # Access to clinical data.
        _a("conversation.history_read", "access", "after_seq", "before_seq", "count"),
        _a("conversation.caught_up", "access", "after_seq", "count"),
        _a("message.read", "access"),
        _a("message.revisions_read", "access", "count"),
        _a("attachment.downloaded", "access"),
        _a("attachment.previewed", "access", "variant"),
        _a("search.performed", "access", "count"),
        _a("export.created", "access", "count", "format"),
        _a("export.downloaded", "access", "format"),
        _a("audit.read", "access", "count"),
        _a("report.read", "access", "month"),
        # Changes an admin makes.
        _a("member.invited", "admin", "role"),
        _a("invitation.revoked", "admin"),
        _a("member.role_changed", "admin", "from_role", "to_role"),
        _a("member.disabled", "admin"),
        _a("member.enabled", "admin"),
        _a("session.revoked", "admin", "count"),
        _a("care.assigned", "admin", "primary"),
        _a("care.unassigned", "admin"),
        _a("guardian.linked", "admin"),
        _a("guardian.unlinked", "admin"),
        _a("participant.added", "admin"),
        _a("tenant.settings_changed", "admin", "setting"),
        _a("notifications.defaults_changed", "admin", "setting"),
        # Emergency intervention (break-glass): each with the admin's stated reason.
        _a("conversation.frozen", "intervention", reason=True),
        _a("conversation.unfrozen", "intervention", reason=True),
        _a("participant.removed", "intervention", reason=True),
        _a("access.granted", "intervention", "hours", reason=True),
        _a("access.ended", "intervention"),
        _a("access.expired", "intervention"),
        # What careline does by itself.
        _a("keys.rotated", "system", "version"),
        _a("audit.retention_removed", "system", "count", "before_position"),
    )
}
