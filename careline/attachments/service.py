"""Uploading, attaching, finding and serving files; the scan steps the jobs run.

An upload is streamed: its first bytes decide its type (sniff.py) before anything is
stored, every 1 MiB is sealed (chunks.py) and written to the file store as it arrives;
office documents and images are then checked whole in a limited child process
(examining.py), never in this one, and an image's metadata is taken out there (the
clean copy replaces the upload: its size and hash are what the row records); and only
then is a row inserted, in one transaction with the quota check. A refused or
failed upload removes what it stored and inserts nothing. A new file is `pending` and
its uploader's alone until the scan job marks it `available`; only available files are
attached to messages and served. Names are encrypted like message text.

Each upload spends from the uploader's uploads budget (careline/kit/budgets.py), and a
person may store at most their organisation's file MiB per 24 hours (counted from the
stored rows, under the same lock as the quota, so it survives restarts, holds across
nodes and cannot be raced past).

Errors: NotFound (no such file or conversation for this actor), TooLarge (file over the
limit, organisation over its quota), OverBudget (uploads, or file bytes today: 429),
sniff.Refused / sniff.TypeMismatch (415),
sniff.Unsafe / sniff.Corrupt / examining.TooComplex / InvalidInput (422),
examining.ChecksBusy (503), Conflict (a sent file), and
links.LinkInvalid / links.LinkExpired (403).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from careline import config
from careline.attachments import examining, sniff, store
from careline.attachments import storage as file_storage
from careline.attachments.chunks import ChunkReader, Sealer, object_key
from careline.attachments.links import check_link, make_link
from careline.attachments.records import (
    Attachment,
    FileType,
    Kind,
    Link,
    Staged,
    State,
    Variant,
    VariantName,
)
from careline.conversations import service as conversation_service
from careline.db.tx import Tx
from careline.keys import service as key_service
from careline.keys.service import BoundKey
from careline.kit import budgets, limits
from careline.kit.errors import Conflict, InvalidInput, NotFound, TooLarge
from careline.kit.events import Event
from careline.kit.ids import new_id
from careline.tenants import service as tenant_service

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UploadPlan:
    """What check_upload allowed: where the bytes go and under which key."""

    attachment_id: uuid.UUID
    conversation_id: uuid.UUID
    name: str
    key: BoundKey
    max_bytes: int


def _name_context(attachment_id: uuid.UUID) -> str:
    return f"attachments.name:{attachment_id}"


def _too_large(max_bytes: int) -> TooLarge:
    return TooLarge(
        f"files can be at most {max_bytes // (1024 * 1024)} MiB",
        code="file_too_large",
        extra={"limit": max_bytes},
    )


def _over_quota() -> TooLarge:
    return TooLarge(
        "your organisation's file storage is full: ask an admin to make room",
        code="quota_exceeded",
    )


def _quota_bytes() -> int:
    return config.current().tenant_file_quota_mb * 1024 * 1024


_DAY_MS = 24 * 3600 * 1000


async def _check_bytes_today(tx: Tx, size: int) -> None:
    """Refuse a file that would take the actor past their organisation's MiB per 24
    hours. The wait named is a day at most (when the oldest counted file ages out;
    not computed, as it needs more than the sum)."""
    allowed = (await tenant_service.get_settings(tx)).file_mb_per_person_per_day * 1024 * 1024
    if await store.get_my_bytes_today(tx) + size > allowed:
        raise budgets.OverBudget("file_bytes_per_day", retry_after_ms=_DAY_MS)


async def check_upload(
    tx: Tx, conversation_id: uuid.UUID, *, raw_name: str, declared_size: int | None
) -> UploadPlan:
    """May the actor upload this file here? NotFound unless a participant; refuses a
    name that would run or render, a declared size over the limit, a full quota, an
    uploader over their uploads budget or their file bytes for today, and any file for
    a conversation an admin has frozen (Conflict `conversation_frozen`)."""
    await conversation_service.access_conversation(tx, conversation_id)
    await conversation_service.check_not_frozen(tx, conversation_id)
    name = sniff.clean_name(raw_name)
    sniff.check_extension(name)
    settings = config.current()
    max_bytes = settings.file_max_bytes
    if declared_size is not None and declared_size > max_bytes:
        raise _too_large(max_bytes)
    if await store.get_tenant_bytes(tx) + max(declared_size or 0, 1) > _quota_bytes():
        raise _over_quota()
    await _check_bytes_today(tx, max(declared_size or 0, 1))
    # Spent last, once the upload would be accepted: a refusal above costs nothing.
    await budgets.spend(budgets.charge("uploads", settings.budget_uploads, str(tx.actor.account)))
    key = await key_service.keyring().bound_key(tx, tx.actor.tenant)
    return UploadPlan(new_id(), conversation_id, name, key, max_bytes)


# --- receiving the bytes (no transaction is open meanwhile) ------------------------------


class _SealedOriginal:
    """The stored original as it is written: hashed, sealed and written a chunk's worth
    at a time in a worker thread (hashing and encrypting a MiB takes milliseconds the
    event loop owes every socket), then finished and committed."""

    def __init__(self, plan: UploadPlan, writer: file_storage.ObjectWriter) -> None:
        self.writer = writer
        self.sealer = Sealer(
            plan.key, plan.attachment_id, VariantName.ORIGINAL, limits.FILE_CHUNK_BYTES
        )
        self.digest = hashlib.sha256()
        self.pending: list[bytes] = []
        self.pending_bytes = 0

    def _see(self, data: bytes) -> None:
        """What else a piece is checked by, in the worker thread (nothing by default)."""

    def _process(self, pieces: list[bytes]) -> None:
        for data in pieces:
            self.digest.update(data)
            self._see(data)
            for sealed in self.sealer.feed(data):
                self.writer.write(sealed)

    async def _flush(self) -> None:
        pieces, self.pending, self.pending_bytes = self.pending, [], 0
        if pieces:
            await asyncio.to_thread(self._process, pieces)

    async def _pass_on(self, data: bytes) -> None:
        self.pending.append(data)
        self.pending_bytes += len(data)
        if self.pending_bytes >= limits.FILE_CHUNK_BYTES:
            await self._flush()

    async def _finish(self) -> None:
        await self._flush()
        await asyncio.to_thread(self.writer.write, self.sealer.finish())
        await asyncio.to_thread(self.writer.commit)


class _Receiver(_SealedOriginal):
    """Sniffs, checks, hashes, seals and writes one upload as it streams in."""

    def __init__(self, plan: UploadPlan, writer: file_storage.ObjectWriter) -> None:
        super().__init__(plan, writer)
        self.plan = plan
        self.size = 0
        self.head = bytearray()
        self.found: FileType | None = None
        self.text: sniff.TextCheck | None = None

    def _see(self, data: bytes) -> None:
        if self.text is not None:
            self.text.feed(data)

    async def _decide(self) -> None:
        # Only the first SNIFF_BYTES are looked at here, however much has arrived.
        self.found = sniff.sniff(bytes(self.head[: sniff.SNIFF_BYTES]))
        if self.found == sniff.TEXT:
            self.text = sniff.TextCheck()
        head, self.head = bytes(self.head), bytearray()
        await self._pass_on(head)

    async def receive(self, body: AsyncIterator[bytes]) -> FileType:
        async for data in body:
            self.size += len(data)
            if self.size > self.plan.max_bytes:
                raise _too_large(self.plan.max_bytes)
            if self.found is None:
                self.head += data
                if len(self.head) >= sniff.SNIFF_BYTES:
                    await self._decide()
            else:
                await self._pass_on(data)
        if self.found is None:
            await self._decide()
        await self._flush()
        if self.text is not None:
            self.text.finish()
        await self._finish()
        assert self.found is not None
        return self.found


def reader_for(
    key: BoundKey, attachment_id: uuid.UUID, variant: Variant, chunk_bytes: int
) -> ChunkReader:
    return ChunkReader(
        file_storage.store(),
        key,
        attachment_id=attachment_id,
        variant=variant.name,
        size=variant.size,
        chunk_bytes=chunk_bytes,
    )


class _Rewriter(_SealedOriginal):
    """Takes an image's clean bytes from the checking child and stores them, sealed, in
    place of what was uploaded (examining.Sink): hashed and counted as they come, so
    the size and hash recorded are those of what is served. Bounded to
    CLEAN_IMAGE_MAX_FACTOR times the file limit (an upright photo encoded again may come
    out a little larger): over it, the file is refused as too complex."""

    def __init__(self, plan: UploadPlan, writer: file_storage.ObjectWriter) -> None:
        super().__init__(plan, writer)
        self.bound = limits.CLEAN_IMAGE_MAX_FACTOR * plan.max_bytes
        self.received = 0

    async def take(self, data: bytes) -> None:
        self.received += len(data)
        if self.received > self.bound:
            return  # counted, not kept: the verdict then refuses the file
        await self._pass_on(data)

    async def commit(self) -> None:
        if self.received > self.bound:
            raise examining.TooComplex(
                "the image grew too large when its metadata was taken out: save it again, smaller"
            )
        await self._finish()


@dataclass(frozen=True, slots=True)
class _Checked:
    file_type: FileType
    width: int | None = None
    height: int | None = None
    cleaned: _Rewriter | None = None  # an image: what replaced the upload


async def _check_content(plan: UploadPlan, found: FileType, size: int) -> _Checked:
    """The checks that need the whole file: read back from the store, decrypted, and
    streamed to the limited checking child (examining.py); this process parses none of
    it. An image comes back without its metadata and upright, and replaces the stored
    upload. Other types were decided by their first bytes."""
    if not examining.needs_child(found):
        return _Checked(found)
    reader = reader_for(
        plan.key,
        plan.attachment_id,
        Variant(VariantName.ORIGINAL, found.media_type, size),
        limits.FILE_CHUNK_BYTES,
    )
    body = iter_plaintext(reader, 0, size)
    if found.kind is not Kind.IMAGE:
        examined = await examining.examine(found, body, size=size)
        return _Checked(examined.file_type)
    key = object_key(plan.key.tenant_id, plan.attachment_id, VariantName.ORIGINAL)
    # The child reads the whole upload before it writes a byte, so the stored upload is
    # read to its end before this writer replaces it (on commit, as a whole).
    rewriter = _Rewriter(plan, await asyncio.to_thread(file_storage.store().writer, key))
    try:
        examined = await examining.examine(found, body, size=size, sink=rewriter)
        await rewriter.commit()
    except BaseException:
        await asyncio.to_thread(rewriter.writer.abort)
        raise
    return _Checked(examined.file_type, examined.width, examined.height, rewriter)


async def stage_upload(plan: UploadPlan, body: AsyncIterator[bytes]) -> Staged:
    """Receive, check, encrypt and store the upload's bytes. On any refusal or failure
    (a client hanging up included) whatever was stored is removed before raising."""
    objects = file_storage.store()
    key = object_key(plan.key.tenant_id, plan.attachment_id, VariantName.ORIGINAL)
    writer = await asyncio.to_thread(objects.writer, key)
    receiver = _Receiver(plan, writer)
    try:
        found = await receiver.receive(body)
    except BaseException:
        await asyncio.to_thread(writer.abort)
        raise
    try:
        checked = await _check_content(plan, found, receiver.size)
        name, file_type = sniff.reconcile(plan.name, checked.file_type)
    except BaseException:
        await asyncio.to_thread(objects.delete, key)
        raise
    name = sniff.clean_name(name)
    size, digest = receiver.size, receiver.digest
    if checked.cleaned is not None:
        size, digest = checked.cleaned.received, checked.cleaned.digest
    return Staged(
        id=plan.attachment_id,
        tenant_id=plan.key.tenant_id,
        conversation_id=plan.conversation_id,
        name=name,
        sealed_name=plan.key.seal(name.encode(), context=_name_context(plan.attachment_id)),
        file_type=file_type,
        size=size,
        sha256=digest.digest(),
        key_version=plan.key.version,
        width=checked.width,
        height=checked.height,
    )


async def discard(tenant_id: uuid.UUID, attachment_id: uuid.UUID) -> None:
    """Remove every stored object of an attachment (after its row is gone, or never
    was). Idempotent."""
    objects = file_storage.store()
    for variant in VariantName:
        await asyncio.to_thread(objects.delete, object_key(tenant_id, attachment_id, variant))


# --- rows -------------------------------------------------------------------------------


def _variants(row: Any) -> dict[VariantName, Variant]:
    found = {
        VariantName.ORIGINAL: Variant(
            VariantName.ORIGINAL, row["media_type"], row["size"], row["width"], row["height"]
        )
    }
    for name, raw in (row["variants"] or {}).items():
        variant = VariantName(name)
        found[variant] = Variant(
            variant, raw["media_type"], raw["size"], raw.get("width"), raw.get("height")
        )
    return found


async def to_attachment(tx: Tx, row: Any) -> Attachment:
    name = await key_service.keyring().decrypt(
        tx,
        row["tenant_id"],
        bytes(row["name"]),
        version=row["key_version"],
        context=_name_context(row["id"]),
    )
    return Attachment(
        id=row["id"],
        tenant_id=row["tenant_id"],
        conversation_id=row["conversation_id"],
        uploader_id=row["uploader_id"],
        message_id=row["message_id"],
        state=State(row["state"]),
        name=name.decode(),
        media_type=row["media_type"],
        kind=Kind(row["kind"]),
        size=row["size"],
        width=row["width"],
        height=row["height"],
        key_version=row["key_version"],
        chunk_bytes=row["chunk_bytes"],
        scan_result=row["scan_result"],
        created_at=row["created_at"],
        variants=_variants(row),
    )


async def do_create_attachment(tx: Tx, staged: Staged) -> Attachment:
    """Record a staged upload as the actor's pending file, within the organisation's
    quota and the actor's file bytes for today (both checked under a per-tenant lock, so
    parallel uploads cannot overshoot them)."""
    await conversation_service.access_conversation(tx, staged.conversation_id)
    await conversation_service.check_not_frozen(tx, staged.conversation_id)
    await store.lock_tenant_files(tx)
    if await store.get_tenant_bytes(tx) + staged.size > _quota_bytes():
        raise _over_quota()
    await _check_bytes_today(tx, staged.size)
    row = await store.insert(
        tx,
        attachment_id=staged.id,
        conversation_id=staged.conversation_id,
        name=staged.sealed_name,
        media_type=staged.file_type.media_type,
        kind=staged.file_type.kind.value,
        size=staged.size,
        sha256=staged.sha256,
        width=staged.width,
        height=staged.height,
        chunk_bytes=limits.FILE_CHUNK_BYTES,
        key_version=staged.key_version,
    )
    return await to_attachment(tx, row)


async def access_attachment(tx: Tx, attachment_id: uuid.UUID) -> Attachment:
    """The attachment, if the actor may see it now: a participant of its conversation,
    and either its uploader or it is available, sent and its message not deleted.
    NotFound otherwise, the same for missing and forbidden."""
    row = await store.get(tx, attachment_id)
    if row is None or tx.actor.account_id is None:
        raise NotFound("no such file")
    await conversation_service.access_conversation(tx, row["conversation_id"])
    mine = row["uploader_id"] == tx.actor.account_id
    shared = row["state"] == State.AVAILABLE and row["message_id"] is not None
    if row["redacted"] or not (mine or shared):
        raise NotFound("no such file")
    return await to_attachment(tx, row)


def links_for(tx: Tx, attachment: Attachment) -> dict[str, Link]:
    """The actor's own download links for every variant of an available file."""
    if attachment.state is not State.AVAILABLE:
        return {}
    ttl = config.current().file_link_ttl_seconds
    return {
        name.value: make_link(
            attachment.id,
            name,
            account_id=tx.actor.account,
            tenant_id=tx.actor.tenant,
            ttl_seconds=ttl,
        )
        for name in attachment.variants
    }


@dataclass(frozen=True, slots=True)
class Download:
    attachment: Attachment
    variant: Variant
    reader: ChunkReader


async def check_download(
    tx: Tx, attachment_id: uuid.UUID, variant: VariantName, *, expires: int, sig: str
) -> Download:
    """A download through a link: made for this actor, unexpired, and the actor still
    allowed to see an available file."""
    check_link(
        attachment_id,
        variant,
        account_id=tx.actor.account,
        tenant_id=tx.actor.tenant,
        expires=expires,
        sig=sig,
    )
    attachment = await access_attachment(tx, attachment_id)
    found = attachment.variants.get(variant)
    if attachment.state is not State.AVAILABLE or found is None:
        raise NotFound("no such file")
    key = await key_service.keyring().bound_key(
        tx, attachment.tenant_id, version=attachment.key_version
    )
    return Download(
        attachment, found, reader_for(key, attachment.id, found, attachment.chunk_bytes)
    )


async def iter_plaintext(reader: ChunkReader, start: int, end: int) -> AsyncIterator[bytes]:
    """Bytes [start, end) of a stored variant, a chunk at a time."""
    offset = start
    while offset < end:
        index, within = divmod(offset, reader.chunk_bytes)
        chunk = await asyncio.to_thread(reader.chunk, index)
        piece = chunk[within : within + end - offset]
        if not piece:
            return
        yield piece
        offset += len(piece)


async def do_delete_attachment(tx: Tx, attachment_id: uuid.UUID) -> Attachment:
    """The uploader withdraws a file not yet sent. The caller removes its bytes after
    commit (`discard`). Conflict once it is part of a message."""
    attachment = await access_attachment(tx, attachment_id)
    if attachment.uploader_id != tx.actor.account_id:
        raise NotFound("no such file")
    if attachment.message_id is not None or not await store.delete(tx, attachment_id):
        raise Conflict("this file was sent: delete its message instead", code="attached")
    return attachment


async def internal_attach(
    tx: Tx, *, conversation_id: uuid.UUID, message_id: uuid.UUID, attachment_ids: list[uuid.UUID]
) -> list[Attachment]:
    """For messages: attach the sender's own uploads to their new message. Each must be
    in this conversation, scanned clean and not attached yet; else InvalidInput."""
    wanted = list(dict.fromkeys(attachment_ids))
    if not wanted:  # most messages: no round trip to attach nothing
        return []
    if len(wanted) > limits.MESSAGE_MAX_ATTACHMENTS:
        raise InvalidInput(
            f"a message carries at most {limits.MESSAGE_MAX_ATTACHMENTS} files",
            code="too_many_attachments",
        )
    rows = await store.attach(
        tx, message_id=message_id, conversation_id=conversation_id, ids=wanted
    )
    attached = {row["id"]: row for row in rows}
    missing = [str(a) for a in wanted if a not in attached]
    if missing:
        raise InvalidInput(
            "each attachment must be your own upload to this conversation, scanned clean "
            "and not sent yet",
            code="bad_attachment",
            extra={"attachment_ids": missing},
        )
    return [await to_attachment(tx, attached[a]) for a in wanted]


async def for_messages(tx: Tx, message_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Attachment]]:
    """The attachments of these messages, in upload order, by message."""
    found: dict[uuid.UUID, list[Attachment]] = {}
    if not message_ids:
        return found
    for row in await store.list_for_messages(tx, message_ids):
        found.setdefault(row["message_id"], []).append(await to_attachment(tx, row))
    return found


async def list_quarantined(
    tx: Tx, *, before: tuple[Any, uuid.UUID] | None, limit: int
) -> list[Attachment]:
    """Admins: the organisation's quarantined files, newest first."""
    tenant_service.require_admin(tx)
    return [
        await to_attachment(tx, r)
        for r in await store.list_quarantined(tx, before=before, limit=limit)
    ]


def original_reader(attachment: Attachment, key: BoundKey) -> ChunkReader:
    original = attachment.variants[VariantName.ORIGINAL]
    return reader_for(key, attachment.id, original, attachment.chunk_bytes)


def emit_to(
    tx: Tx, attachment: Attachment, type_: str, account_ids: tuple[uuid.UUID, ...], **data: Any
) -> None:
    """An event about the attachment to some people's own sockets (ids only)."""
    tx.emit(
        Event(
            type=type_,
            tenant_id=attachment.tenant_id,
            account_ids=account_ids,
            data={
                "attachment_id": str(attachment.id),
                "conversation_id": str(attachment.conversation_id),
                **data,
            },
        )
    )
