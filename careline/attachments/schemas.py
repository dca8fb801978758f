"""Wire models of the attachments API."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field


class AttachmentSummary(BaseModel):
    """An attachment as it appears inside a message (always scanned clean)."""

    id: uuid.UUID
    name: str = Field(description="Cleaned file name; the extension matches the content.")
    media_type: str = Field(description="Decided from the file's content, not its name.")
    kind: str = Field(description="image, pdf, document, text, audio or video")
    size: int = Field(description="Bytes.")
    width: int | None = Field(description="Images: pixels.")
    height: int | None
    previews: list[str] = Field(
        description="Variants besides `original` that careline made: `thumb`, `preview`."
    )


class AttachmentRead(AttachmentSummary):
    conversation_id: uuid.UUID
    uploader_id: uuid.UUID
    message_id: uuid.UUID | None
    state: str = Field(description="pending (being scanned), available or quarantined")
    reason: str | None = Field(description="Why the file is not available, for people.")
    scan_result: str | None = Field(description="Quarantined: the signature clamd found.")
    created_at: dt.datetime
    links: dict[str, str] = Field(
        description="Download links by variant (original, thumb, preview), made for you "
        "alone and short-lived; empty until the file is available."
    )
    links_expire_at: dt.datetime | None


class QuarantinedRead(BaseModel):
    """A quarantined file, for admins: ids and facts, never the name or content."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    uploader_id: uuid.UUID
    media_type: str
    size: int
    scan_result: str | None
    created_at: dt.datetime


class QuarantinedPage(BaseModel):
    items: list[QuarantinedRead]
    next_cursor: str | None


class FileTypeRead(BaseModel):
    media_type: str
    kind: str
    extensions: list[str]


class ScannerRead(BaseModel):
    available: bool
    reason: str | None = Field(
        description="Why not: `clamd_not_installed`, `no_signature_database`, "
        "`clamd_starting`, `clamd_restarting`, `clamd_unreachable`, `scanner_unknown`."
    )
    recheck_seconds: int = Field(description="Ask again after this long to see a change.")


class FilePolicyRead(BaseModel):
    max_bytes: int = Field(description="The largest file one upload may be.")
    max_attachments_per_message: int
    link_ttl_seconds: int
    types: list[FileTypeRead] = Field(description="What can be attached, by content.")
    scanner: ScannerRead = Field(
        description="Whether uploads can be virus-scanned now. While not, file sharing is "
        "paused in the web client (an upload would stay pending until clamd answers)."
    )
