"""Every word a notification puts outside careline, built from a closed set of fields.

What leaves careline (a push payload, an e-mail's subject, headers and both bodies, a
digest, the unsubscribe page) says that something happened and where to look, never
what: the organisation's name, counts, the kind, and a link made of opaque ids. Never
message text, an attachment's name, or a person's name (neither the recipient's nor the
sender's, nor a client's). `Facts` is the only input, and its fields can carry nothing
else: counts are ints, the kind is a registered name, and a link is checked to be
careline's own URL with nothing but ids in it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from careline import config
from careline.notifications import kinds

# Words per kind: (one, several). "{n}" is the count. Kept together so a translation
# (Arabic beside English is coming) replaces this table and nothing else.
KIND_WORDS: dict[str, tuple[str, str]] = {
    "message": ("1 new message", "{n} new messages"),
    "escalation": (
        "1 message from a client is waiting for a reply",
        "{n} messages from a client are waiting for a reply",
    ),
    "escalation.admin": (
        "1 message from a client is still waiting for a reply",
        "{n} messages from a client are still waiting for a reply",
    ),
}
PUSH_TITLE_FALLBACK = "careline"

_LINK_PATH = re.compile(r"^/[a-z]*(/[0-9a-f-]{36})?$")
_LINK_QUERY = re.compile(r"^([a-z_]+=[0-9a-f-]{1,36})(&[a-z_]+=[0-9a-f-]{1,36})*$")


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a notification may say. Nothing else reaches the words."""

    organisation: str
    kind: str
    count: int
    link: str
    conversations: int = 1

    def __post_init__(self) -> None:
        if self.kind not in kinds.KINDS or self.kind not in KIND_WORDS:
            raise ValueError(f"unknown notification kind {self.kind!r}")
        if not isinstance(self.count, int) or self.count < 0:
            raise ValueError("count is a whole number")
        if not isinstance(self.conversations, int) or self.conversations < 0:
            raise ValueError("conversations is a whole number")
        check_link(self.link)


def check_link(link: str) -> str:
    """A link that leaves careline: its own base URL, a path of opaque ids, a query of
    ids. Raises ValueError for anything else (a name or text would not fit)."""
    base = config.current().base_url
    if not link.startswith(base):
        raise ValueError("a notification links to careline itself")
    rest = link[len(base) :]
    path, _, query = rest.partition("?")
    if not _LINK_PATH.match(path or "/") or (query and not _LINK_QUERY.match(query)):
        raise ValueError("a notification link carries opaque ids only")
    return link


def link_to(path: str, **ids: uuid.UUID) -> str:
    """careline's URL for `path` (e.g. "/c/<conversation id>") with `ids` as its query."""
    query = "&".join(f"{name}={value}" for name, value in ids.items())
    return check_link(f"{config.current().base_url}{path}" + (f"?{query}" if query else ""))


def conversation_link(tenant_id: uuid.UUID, conversation_id: uuid.UUID | None) -> str:
    """Where a click on a notification goes: the conversation (at its first unread
    message, which the client finds itself), in the organisation it belongs to."""
    if conversation_id is None:
        return link_to("/", org=tenant_id)
    return link_to(f"/c/{conversation_id}", org=tenant_id)


def summary(facts: Facts) -> str:
    """One line: "3 new messages"."""
    one, several = KIND_WORDS[facts.kind]
    return one if facts.count == 1 else several.format(n=facts.count)


def push_payload(facts: Facts, *, tag: str) -> dict[str, Any]:
    """The JSON a push carries (encrypted to the browser, RFC 8291). The service worker
    shows `title` and `body` as they are, under `tag`, so a newer push for the same
    conversation replaces the older one instead of stacking."""
    return {
        "title": facts.organisation or PUSH_TITLE_FALLBACK,
        "body": summary(facts),
        "tag": tag,
        "url": facts.link,
        "count": facts.count,
        "kind": facts.kind,
    }
