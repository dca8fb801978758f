"""The interface every channel outside the app implements (web push, e-mail; WhatsApp
later), so delivery treats them alike.

A channel gets a `Delivery` (ids, a priority and the `Facts` of words.py: nothing a
channel could leak) and answers with a `Result`. It makes and records its own attempts
(careline/notifications/attempts.py). A channel never raises for a refusal: a refused or
failed send is a Result, recorded without content; only a passing outage that should
be tried again as a whole is `retry`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from careline.notifications import kinds
from careline.notifications.kinds import Kind, Priority
from careline.notifications.words import Facts, conversation_link, link_to

ChannelName = Literal["push", "email"]


@dataclass(frozen=True, slots=True)
class Delivery:
    notification_id: uuid.UUID
    tenant_id: uuid.UUID
    account_id: uuid.UUID
    kind: Kind
    priority: Priority
    round: int  # with the id and channel: the dedupe key of this send
    facts: Facts
    tag: str  # opaque: replaces an earlier notification of the same record on a device

    @classmethod
    def of_record(cls, row: Any, *, window: int, tag: str | None = None) -> Delivery:
        """The send of a notification record (its columns, and its organisation's name
        as `organisation`), in the round `window`: the words from Facts only, tagged by the
        record's id unless told otherwise."""
        kind = kinds.get(row["kind"])
        return cls(
            notification_id=row["id"],
            tenant_id=row["tenant_id"],
            account_id=row["account_id"],
            kind=kind,
            priority=row["priority"],
            round=window,
            facts=Facts(
                organisation=row["organisation"],
                kind=kind.name,
                count=row["count"],
                link=conversation_link(row["tenant_id"], row["conversation_id"])
                if kind.link_path is None
                else link_to(kind.link_path, org=row["tenant_id"]),
            ),
            tag=tag if tag is not None else row["id"].hex,
        )


@dataclass(frozen=True, slots=True)
class Result:
    # sent: handed to at least one device or relay; nothing: nowhere to send (no
    # subscription, no e-mail address); failed: refused for good; retry: a passing
    # outage, try the whole delivery again after `retry_after` seconds.
    outcome: Literal["sent", "nothing", "failed", "retry"]
    retry_after: float | None = None
    reason: str | None = None


class Channel(Protocol):
    name: ChannelName

    async def send(self, delivery: Delivery) -> Result: ...


_channels: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    _channels[channel.name] = channel


def get(name: ChannelName) -> Channel | None:
    return _channels.get(name)
