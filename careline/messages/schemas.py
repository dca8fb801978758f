"""Wire models of the messages API (the same shape the socket sends)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from careline.attachments.schemas import AttachmentSummary
from careline.kit.fields import AttachmentIds, ClientMsgId, MessageText


class ReactionRead(BaseModel):
    emoji: str
    account_ids: list[uuid.UUID]


class MessageRead(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    seq: int
    sender_id: uuid.UUID
    client_msg_id: str
    reply_to_id: uuid.UUID | None
    text: str | None = Field(description="null once the message is deleted (redacted)")
    revision: int = Field(description="0 for the original text; +1 per edit")
    created_at: dt.datetime
    edited_at: dt.datetime | None
    redacted: bool
    redacted_at: dt.datetime | None
    reactions: list[ReactionRead]
    attachments: list[AttachmentSummary] = Field(
        description="Files sent with the message (none once it is deleted); download "
        "links come from GET /api/v1/attachments/{id}."
    )


class MessageSend(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_msg_id: ClientMsgId
    text: MessageText
    reply_to_id: uuid.UUID | None = None
    attachment_ids: AttachmentIds = Field(
        default_factory=list,
        description="Your uploads to send with it (available ones); then text may be empty.",
    )


class MessageEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: MessageText


class MessagePage(BaseModel):
    items: list[MessageRead] = Field(description="Ascending by seq.")
    has_more: bool = Field(description="More messages lie beyond this page in the direction asked.")


class RevisionRead(BaseModel):
    revision: int
    text: str
    created_at: dt.datetime


class ReactionResult(BaseModel):
    seq: int | None = Field(description="The timeline seq of the change; null if nothing changed.")
