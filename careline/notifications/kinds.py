"""The kinds of notification, as data.

A domain that needs to tell people something (calls, appointments, safeguarding) adds a
Kind here and calls `notification_service.do_notify`; delivery, coalescing, quiet hours,
preferences and the words that leave careline then apply to it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Priority = Literal["high", "normal"]
Urgency = Literal["very-low", "low", "normal", "high"]  # RFC 8030 section 5.3


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    # How long a push service keeps an undelivered push (RFC 8030 TTL), and its
    # Urgency header for each priority.
    push_ttl_seconds: int
    urgency: dict[Priority, Urgency]
    # Whether the e-mail channel applies (after its longer delay, if still unread).
    email: bool
    # The words: see words.py (KIND_WORDS); the kind's name is their key.
    # Where a click leads for a kind that is about no conversation (e.g. an alert:
    # "/admin/monitoring"); None: the record's conversation (or the inbox).
    link_path: str | None = None


MESSAGE = Kind(
    name="message",
    push_ttl_seconds=24 * 3600,
    urgency={"high": "high", "normal": "normal"},
    email=True,
)
# Unread escalation: a client's message no staff member of the conversation has read in
# time, told to the client's other care-team staff, then to the organisation's admins.
ESCALATION = Kind(
    name="escalation",
    push_ttl_seconds=4 * 3600,
    urgency={"high": "high", "normal": "high"},
    email=True,
)
ESCALATION_ADMIN = Kind(
    name="escalation.admin",
    push_ttl_seconds=4 * 3600,
    urgency={"high": "high", "normal": "high"},
    email=True,
)

# An alert raised by the monitoring (careline/monitoring/alerts.py), told to the
# organisation's admins (every organisation's, for an instance-wide one).
ALERT = Kind(
    name="alert",
    push_ttl_seconds=3600,
    urgency={"high": "high", "normal": "high"},
    email=True,
    link_path="/admin/monitoring",
)
# Break-glass (careline/breakglass): an admin intervened in a conversation, told to the
# organisation's other admins.
INTERVENTION = Kind(
    name="intervention",
    push_ttl_seconds=24 * 3600,
    urgency={"high": "high", "normal": "normal"},
    email=True,
    link_path="/admin/conversations",
)

KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind; its name is stored on records, so it never changes once used."""
    if kind.name in KINDS and KINDS[kind.name] != kind:
        raise ValueError(f"notification kind {kind.name!r} registered twice")
    KINDS[kind.name] = kind
    return kind


for _kind in (MESSAGE, ESCALATION, ESCALATION_ADMIN, ALERT, INTERVENTION):
    register(_kind)


def get(name: str) -> Kind:
    return KINDS[name]
