"""The steps of a file's scan, run by careline/attachments/jobs.py: find the pending
file, stream it (decrypted, never to disk) to clamd, make previews of clean images and
PDFs in a child process, and record the outcome.

Fail closed: a file leaves `pending` only on a clear verdict from clamd. Anything else
(clamd down, slow, over its limits) raises scanner.ScannerUnavailable and the file stays
pending, unseen by anyone but its uploader, until a later attempt succeeds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid

from careline import config
from careline.attachments import daemon, previews, scanner, store
from careline.attachments import storage as file_storage
from careline.attachments.chunks import Sealer, object_key
from careline.attachments.events import ATTACHMENT_QUARANTINED, ATTACHMENT_UPDATED
from careline.attachments.records import Attachment, ScanResult, State, Variant, VariantName
from careline.attachments.service import (
    emit_to,
    iter_plaintext,
    original_reader,
    to_attachment,
)
from careline.db.tx import Role, Tx
from careline.keys import service as key_service
from careline.keys.service import BoundKey
from careline.tenants import service as tenant_service

log = logging.getLogger(__name__)


async def internal_scan_target(
    tx: Tx, attachment_id: uuid.UUID
) -> tuple[Attachment, BoundKey] | None:
    """System: a pending attachment and its key, or None when there is nothing to do
    (scanned already, or withdrawn)."""
    row = await store.get(tx, attachment_id)
    if row is None or row["state"] != State.PENDING:
        return None
    attachment = await to_attachment(tx, row)
    key = await key_service.keyring().bound_key(
        tx, attachment.tenant_id, version=attachment.key_version
    )
    return attachment, key


async def scan_file(attachment: Attachment, key: BoundKey) -> ScanResult:
    """clamd's verdict on the original, or scanner.ScannerUnavailable."""
    settings = config.current()
    reader = original_reader(attachment, key)
    return await scanner.scan(
        daemon.address(settings),
        iter_plaintext(reader, 0, reader.size),
        limit_seconds=settings.scan_timeout_seconds,
    )


async def make_file_previews(attachment: Attachment, key: BoundKey) -> dict[VariantName, Variant]:
    """Thumbnail and preview of a clean image or PDF, sealed and stored. A file the
    renderer cannot handle simply has no previews: it is still a file to download."""
    if not previews.wants_previews(attachment.kind):
        return {}
    reader = original_reader(attachment, key)
    try:
        made = await previews.make_previews(
            attachment.kind,
            iter_plaintext(reader, 0, reader.size),
            limit_seconds=config.current().preview_timeout_seconds,
        )
    except previews.PreviewFailed as exc:
        log.warning(
            "no previews for attachment",
            extra={"attachment_id": str(attachment.id), "reason": str(exc)},
        )
        return {}
    objects = file_storage.store()
    stored = {}
    for variant, blob in made:
        sealer = Sealer(key, attachment.id, variant.name, attachment.chunk_bytes)
        sealed = [*sealer.feed(blob), sealer.finish()]
        target = object_key(attachment.tenant_id, attachment.id, variant.name)
        await asyncio.to_thread(objects.put, target, sealed)
        stored[variant.name] = variant
    return stored


async def internal_mark_available(
    tx: Tx, attachment_id: uuid.UUID, made: dict[VariantName, Variant]
) -> Attachment | None:
    """System: scanned clean. Emits attachment.updated to the uploader. None when the
    file is no longer pending (another run got there first, or it was withdrawn)."""
    row = await store.lock(tx, attachment_id)
    if row is None or not State(row["state"]).can_become(State.AVAILABLE):
        return None
    if row["state"] != State.PENDING:
        return None
    variants = {
        v.name.value: {
            "media_type": v.media_type,
            "size": v.size,
            "width": v.width,
            "height": v.height,
        }
        for v in made.values()
    }
    await store.mark_available(tx, attachment_id, variants=variants)
    attachment = await to_attachment(tx, await store.lock(tx, attachment_id))
    emit_to(
        tx,
        attachment,
        ATTACHMENT_UPDATED,
        (attachment.uploader_id,),
        state=State.AVAILABLE.value,
        scan_result=None,
    )
    return attachment


async def internal_quarantine(
    tx: Tx, attachment_id: uuid.UUID, *, signature: str
) -> Attachment | None:
    """System: malware. The uploader is told (attachment.updated) and the organisation's
    admins alerted (attachment.quarantined), with ids and the signature only. The
    caller destroys the bytes after commit; the row stays as the record."""
    row = await store.lock(tx, attachment_id)
    if row is None or row["state"] != State.PENDING:
        return None
    await store.mark_quarantined(tx, attachment_id, signature=signature)
    attachment = await to_attachment(tx, await store.lock(tx, attachment_id))
    emit_to(
        tx,
        attachment,
        ATTACHMENT_UPDATED,
        (attachment.uploader_id,),
        state=State.QUARANTINED.value,
        scan_result=signature,
    )
    admins = await tenant_service.list_enabled_with_role(tx, Role.ADMIN)
    emit_to(
        tx,
        attachment,
        ATTACHMENT_QUARANTINED,
        tuple(m.account_id for m in admins),
        uploader_id=str(attachment.uploader_id),
        scan_result=signature,
    )
    return attachment


async def internal_note_scan_failure(tx: Tx, attachment_id: uuid.UUID, *, reason: str) -> None:
    await store.note_scan_failure(tx, attachment_id, reason=reason)


async def internal_overdue(
    tx: Tx, *, older_than: dt.datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """System: pending files (id, tenant) waiting longer than a scan should take."""
    rows = await store.list_pending(tx, older_than=older_than, limit=limit)
    return [(r["id"], r["tenant_id"]) for r in rows]


async def internal_expire_unattached(
    tx: Tx, *, older_than: dt.datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """System: delete uploads never sent; (id, tenant) of each, so the caller can remove
    their bytes after commit."""
    rows = await store.delete_unattached(tx, older_than=older_than, limit=limit)
    return [(r["id"], r["tenant_id"]) for r in rows]
