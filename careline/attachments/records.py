"""Rows and values of the attachments domain, and the upload state machine."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field


class State(enum.StrEnum):
    """Where an upload is in its life.

    pending -> available    clamd said clean (previews made)
    pending -> quarantined  clamd found malware: never served, bytes destroyed
    pending -> pending      clamd down, slow or over its limits: scanned again later

    Only `available` files are ever served or attached to a message, and only the
    uploader sees a file before that.
    """

    PENDING = "pending"
    AVAILABLE = "available"
    QUARANTINED = "quarantined"

    def can_become(self, target: State) -> bool:
        return target in _TRANSITIONS[self]


_TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.PENDING, State.AVAILABLE, State.QUARANTINED}),
    State.AVAILABLE: frozenset(),
    State.QUARANTINED: frozenset(),
}


class Kind(enum.StrEnum):
    IMAGE = "image"
    PDF = "pdf"
    DOCUMENT = "document"
    TEXT = "text"
    AUDIO = "audio"
    VIDEO = "video"


class VariantName(enum.StrEnum):
    ORIGINAL = "original"
    THUMB = "thumb"  # a small image for lists and message bubbles
    PREVIEW = "preview"  # an image's display copy, or a PDF's first page

    @property
    def inline(self) -> bool:
        """Previews are images careline made itself, so browsers may show them inline;
        everything uploaded goes out as an attachment."""
        return self is not VariantName.ORIGINAL


@dataclass(frozen=True, slots=True)
class FileType:
    """What the content of a file is, decided from its bytes."""

    media_type: str
    kind: Kind
    extension: str  # canonical, without the dot


@dataclass(frozen=True, slots=True)
class Variant:
    """One stored object of an attachment: the original or a preview careline made."""

    name: VariantName
    media_type: str
    size: int
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    id: uuid.UUID
    tenant_id: uuid.UUID
    conversation_id: uuid.UUID
    uploader_id: uuid.UUID
    message_id: uuid.UUID | None
    state: State
    name: str
    media_type: str
    kind: Kind
    size: int
    width: int | None
    height: int | None
    key_version: int
    chunk_bytes: int
    scan_result: str | None
    created_at: dt.datetime
    variants: dict[VariantName, Variant] = field(default_factory=dict)

    @property
    def previews(self) -> list[VariantName]:
        return [v for v in self.variants if v is not VariantName.ORIGINAL]


@dataclass(frozen=True, slots=True)
class Staged:
    """An upload whose bytes are stored (encrypted) and checked, but not yet recorded."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    conversation_id: uuid.UUID
    name: str
    sealed_name: bytes
    file_type: FileType
    size: int
    sha256: bytes
    key_version: int
    width: int | None
    height: int | None


class Verdict(enum.StrEnum):
    CLEAN = "clean"
    INFECTED = "infected"


@dataclass(frozen=True, slots=True)
class ScanResult:
    verdict: Verdict
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    expires_at: dt.datetime
