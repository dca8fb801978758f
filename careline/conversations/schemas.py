"""Wire models of the conversations API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from careline.kit.fields import TeamMembers, TitleText
from careline.messages.schemas import MessageRead


class ParticipantRead(BaseModel):
    account_id: uuid.UUID
    role: Literal["admin", "staff", "client", "guardian"]
    display_name: str | None
    delivered_seq: int
    read_seq: int
    presence: Literal["online", "away", "offline"]
    last_seen_at: dt.datetime | None


class FrozenRead(BaseModel):
    at: dt.datetime
    reason: str = Field(description="Why an admin paused the conversation, as they wrote it.")


class ConversationRead(BaseModel):
    id: uuid.UUID
    kind: Literal["care", "team", "support"]
    title: str | None
    client_id: uuid.UUID | None
    staff_id: uuid.UUID | None
    created_at: dt.datetime
    last_seq: int
    last_activity_at: dt.datetime
    archived: bool
    muted: bool
    notify: Literal["all", "replies"]
    delivered_seq: int
    read_seq: int
    unread: int
    waiting_since: dt.datetime | None = Field(
        None,
        description="Staff only: when the message from a client or guardian that no staff "
        "participant has read was sent, once it has been escalated (unread escalation); "
        "null when nothing waits.",
    )
    last_message: MessageRead | None
    participants: list[ParticipantRead]
    frozen: FrozenRead | None = Field(
        None,
        description="Set while an admin has paused the conversation (break-glass): nothing "
        "can be sent, edited, deleted or reacted to (409 `conversation_frozen`).",
    )


class ConversationPage(BaseModel):
    items: list[ConversationRead]
    next_cursor: str | None


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["care", "team", "support"]
    client_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    member_ids: TeamMembers = Field(default_factory=list)
    title: TitleText | None = None


class MySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    archived: StrictBool | None = None
    muted: StrictBool | None = None
    # Team conversations only: be told of every message, or only of replies to you.
    notify: Literal["all", "replies"] | None = None


class ParticipantAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_id: uuid.UUID


class SeqResult(BaseModel):
    seq: int


class TimelineEventRead(BaseModel):
    model_config = ConfigDict(extra="allow")
    op: str
    conversation_id: uuid.UUID
    seq: int
    at: str


class TimelinePage(BaseModel):
    items: list[dict[str, Any]] = Field(description="Event frames, ascending by seq.")
    last_seq: int = Field(description="The conversation's newest seq when this page was read.")
    next_after_seq: int = Field(
        description="Ask for the next page with after_seq set to this (an event without "
        "a frame for you still moves it on)."
    )
    has_more: bool = Field(description="Events lie after next_after_seq: ask again.")
