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
import string
import uuid
from dataclasses import dataclass
from html import escape
from pathlib import Path
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
    "alert": ("An alert was raised", "{n} alerts were raised"),
    "intervention": (
        "An admin intervened in a conversation",
        "Admins intervened in conversations {n} times",
    ),
}
PUSH_TITLE_FALLBACK = "careline"

# A path of lower-case words (at most two: "/admin/monitoring") and an opaque id.
_LINK_PATH = re.compile(r"^/[a-z]*(/[a-z]+)?(/[0-9a-f-]{36})?$")
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


# --- E-mail (careline/notifications/email_channel.py, digests.py, unsubscribe_api.py) ---
# The templates (careline/notifications/templates/) hold the layout; every word they
# show comes from here or from Facts, and every value is escaped for HTML.
TEMPLATES = Path(__file__).parent / "templates"
EMAIL_PRIVACY = (
    "For your privacy, careline never puts what was written, or who wrote it, in an e-mail."
)
EMAIL_OPEN = "Open careline to read them:"
EMAIL_OPEN_BUTTON = "Open careline"
# Why the person gets the e-mail, and what the unsubscribe link stops, per what it is.
EMAIL_REASON: dict[str, str] = {
    "email": "e-mail notifications",
    "daily": "daily digests",
    "weekly": "weekly digests",
    "digest": "digest e-mails",
}
EMAIL_STOP = "Stop these e-mails"
# The digest's line: (messages, conversations), each (one, several).
DIGEST_MESSAGES = ("1 unread message", "{n} unread messages")
DIGEST_CONVERSATIONS = ("in 1 conversation", "in {n} conversations")
# The unsubscribe page (GET: a question and a button; POST: done), and its refusals.
UNSUBSCRIBE_ASK = "Stop {what} from {organisation}?"
UNSUBSCRIBE_ASK_MORE = (
    "You will get no more {what} from {organisation}. Nothing else changes, and you can "
    "turn them on again in careline's notification settings."
)
UNSUBSCRIBE_DONE = "You will get no more {what} from {organisation}."
UNSUBSCRIBE_DONE_MORE = "You can turn them on again in careline's notification settings."
UNSUBSCRIBE_INVALID = "This unsubscribe link is not valid. Nothing was changed."
UNSUBSCRIBE_EXPIRED = (
    "This unsubscribe link has expired. Nothing was changed: use the link in a newer "
    "e-mail, or careline's notification settings."
)
_UNSUBSCRIBE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,200}\.[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Email:
    subject: str
    text: str
    html: str


def _plural(words: tuple[str, str], n: int) -> str:
    return words[0] if n == 1 else words[1].format(n=n)


def _one_line(value: str) -> str:
    """A value as one line of plain words (headers never carry a line break)."""
    return " ".join(value.split())


def _fill(
    template: str, values: dict[str, str], *, html: bool, markup: dict[str, str] | None = None
) -> str:
    """The template with `values` (escaped for HTML when `html`) and `markup` (HTML this
    module built itself from escaped values)."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    filled = {k: escape(v, quote=True) if html else v for k, v in values.items()}
    return string.Template(text).substitute(filled | (markup or {}))


def unsubscribe_link(token: str) -> str:
    """The one-click unsubscribe URL (RFC 8058) for a token of unsubscribe.py."""
    if not _UNSUBSCRIBE_TOKEN.match(token):
        raise ValueError("not an unsubscribe token")
    return f"{config.current().base_url}/api/v1/unsubscribe/{token}"


def digest_line(facts: Facts) -> str:
    """ "5 unread messages in 2 conversations"."""
    messages = _plural(DIGEST_MESSAGES, facts.count)
    return f"{messages} {_plural(DIGEST_CONVERSATIONS, facts.conversations)}"


def email(facts: Facts, *, unsubscribe_token: str, reason: str = "email") -> Email:
    """An e-mail notification (reason "email") or a digest ("daily", "weekly"): subject,
    plain text and HTML, from Facts, the unsubscribe token and a closed word for why."""
    if reason not in EMAIL_REASON:
        raise ValueError(f"unknown e-mail reason {reason!r}")
    organisation = _one_line(facts.organisation) or PUSH_TITLE_FALLBACK
    headline = summary(facts) if reason == "email" else digest_line(facts)
    values = {
        "organisation": organisation,
        "headline": headline,
        "link": check_link(facts.link),
        "open": EMAIL_OPEN,
        "open_button": EMAIL_OPEN_BUTTON,
        "privacy": EMAIL_PRIVACY,
        "reason": EMAIL_REASON[reason],
        "stop": EMAIL_STOP,
        "unsubscribe": unsubscribe_link(unsubscribe_token),
    }
    return Email(
        subject=f"{organisation}: {headline}",
        text=_fill("email.txt", values, html=False),
        html=_fill("email.html", values, html=True),
    )


def unsubscribe_page(*, organisation: str | None, reason: str, state: str, action: str = "") -> str:
    """The unsubscribe page: state "ask" (a button that posts), "done", "invalid" or
    "expired". Built from the organisation's name and closed words only."""
    what = EMAIL_REASON.get(reason, EMAIL_REASON["email"])
    org = _one_line(organisation or "") or PUSH_TITLE_FALLBACK
    heading, more = {
        "ask": (UNSUBSCRIBE_ASK, UNSUBSCRIBE_ASK_MORE),
        "done": (UNSUBSCRIBE_DONE, UNSUBSCRIBE_DONE_MORE),
        "invalid": (UNSUBSCRIBE_INVALID, ""),
        "expired": (UNSUBSCRIBE_EXPIRED, ""),
    }[state]
    form = ""
    if state == "ask":
        form = (
            f'<form method="post" action="{escape(action, quote=True)}">'
            '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
            f'<button type="submit">{escape(EMAIL_STOP)}</button></form>'
        )
    values = {
        "title": heading.format(what=what, organisation=org),
        "more": more.format(what=what, organisation=org),
    }
    return _fill("unsubscribe.html", values, html=True, markup={"form": form})
