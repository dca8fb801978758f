"""HTTP: upload a file, look at it (state and download links), withdraw it, download it
through a link; the upload policy; admins' list of quarantined files."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from careline import config
from careline.attachments import daemon as scanner_daemon
from careline.attachments import jobs as attachment_jobs
from careline.attachments import service as attachment_service
from careline.attachments import sniff
from careline.attachments.events import attachment_read
from careline.attachments.records import Attachment, VariantName
from careline.attachments.schemas import AttachmentRead, FilePolicyRead, QuarantinedPage
from careline.audit import service as audit_service
from careline.auth.api import CurrentActor
from careline.db.tx import Actor, transaction
from careline.kit import limits
from careline.kit.errors import AppError, InvalidInput
from careline.kit.pagination import clamp_limit, decode_time_cursor, encode_cursor
from careline.web.http import ERRORS, PROBLEM_JSON

router = APIRouter(prefix="/api/v1", tags=["files"], responses=ERRORS)
admin = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERRORS)

# Everything careline serves from a file stays inert: no script, no plugin, no form, no
# framing, in a sandbox of its own origin, even if a browser is talked into showing it.
FILE_CSP = (
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; "
    "sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_DRAIN_SLACK = 1024 * 1024

_UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes, as they are (any Content-Type).",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


class UploadCut(AppError):
    status, code, title = 400, "upload_incomplete", "Upload incomplete"


def _declared_size(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise InvalidInput("Content-Length must be a number of bytes", code="bad_length")
    return int(raw)


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise UploadCut("the upload was cancelled or cut off") from None


async def _drain(request: Request) -> None:
    """Read what is left of a refused upload (up to a bound), so the client can send it
    all and then read the error, rather than see its connection reset."""
    budget = config.current().file_max_bytes + _DRAIN_SLACK
    try:
        async for chunk in request.stream():
            budget -= len(chunk)
            if budget < 0:
                return
    except (ClientDisconnect, RuntimeError):
        return  # gone, or read to the end already


async def _receive(
    conversation_id: uuid.UUID, request: Request, actor: Actor, name: str
) -> Attachment:
    async with transaction(actor, readonly=True) as tx:
        plan = await attachment_service.check_upload(
            tx, conversation_id, raw_name=name, declared_size=_declared_size(request)
        )
    staged = await attachment_service.stage_upload(plan, _body(request))
    try:
        async with transaction(actor) as tx:
            attachment = await attachment_service.do_create_attachment(tx, staged)
    except BaseException:
        await attachment_service.discard(staged.tenant_id, staged.id)
        raise
    await attachment_jobs.defer_scan(attachment.id, attachment.tenant_id)
    return attachment


@router.post(
    "/conversations/{conversation_id}/attachments",
    response_model=AttachmentRead,
    status_code=201,
    openapi_extra=_UPLOAD_OPENAPI,
    responses={415: _PROBLEM | {"description": "File type not accepted"}},
)
async def upload_attachment(
    conversation_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    file_name: str = Header(
        alias="X-File-Name",
        min_length=1,
        max_length=1024,
        description="The file's name, percent-encoded UTF-8.",
    ),
) -> dict[str, Any]:
    """Upload one file; the request body is the file. Its type is decided from its
    content against an allow-list (docs/files.md). It starts `pending`, seen by you
    alone, until the virus scan finishes (`attachment.updated` on your socket); once
    `available`, send it with a message (`attachment_ids`)."""
    try:
        attachment = await _receive(conversation_id, request, actor, _file_name(file_name))
    except AppError:
        await _drain(request)
        raise
    return attachment_read(attachment, {})


def _file_name(raw: str) -> str:
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput("X-File-Name must be percent-encoded UTF-8", code="bad_name") from None


@router.get("/attachments/policy", response_model=FilePolicyRead)
async def get_file_policy(actor: CurrentActor) -> dict[str, Any]:
    """What can be attached, and how big: for clients to check before uploading."""
    settings = config.current()
    types = [
        {
            "media_type": t.media_type,
            "kind": t.kind.value,
            "extensions": [e for e, known in sniff.EXTENSIONS.items() if known == t],
        }
        for t in sniff.ALLOWED
    ]
    return {
        "max_bytes": settings.file_max_bytes,
        "max_attachments_per_message": limits.MESSAGE_MAX_ATTACHMENTS,
        "link_ttl_seconds": settings.file_link_ttl_seconds,
        "types": types,
        "scanner": scanner_state(settings),
    }


# While the scanner is missing, clients look again about twice per check; while it works,
# now and then (and before each upload), to notice it going away.
RECHECK_AVAILABLE_SECONDS = 60


def scanner_state(settings: config.Settings) -> dict[str, Any]:
    status = scanner_daemon.status()
    recheck = (
        RECHECK_AVAILABLE_SECONDS
        if status.available
        else max(1, round(settings.scanner_check_seconds * 2))
    )
    return {"available": status.available, "reason": status.reason, "recheck_seconds": recheck}


@router.get("/attachments/{attachment_id}", response_model=AttachmentRead)
async def get_attachment(attachment_id: uuid.UUID, actor: CurrentActor) -> dict[str, Any]:
    """A file: its state and, once available, download links made for you alone
    (`original`, and `thumb` / `preview` for images and PDFs)."""
    async with transaction(actor, readonly=True) as tx:
        attachment = await attachment_service.access_attachment(tx, attachment_id)
        links = attachment_service.links_for(tx, attachment)
    return attachment_read(attachment, links)


@router.delete("/attachments/{attachment_id}", status_code=204)
async def delete_attachment(attachment_id: uuid.UUID, actor: CurrentActor) -> Response:
    """Withdraw a file you uploaded and have not sent; its bytes are removed."""
    async with transaction(actor) as tx:
        attachment = await attachment_service.do_delete_attachment(tx, attachment_id)
    await attachment_service.discard(attachment.tenant_id, attachment.id)
    return Response(status_code=204)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _range(header: str | None, size: int) -> tuple[int, int, bool]:
    """[start, end) to send and whether it is partial. One range only; anything else
    is ignored (the whole file is sent), as RFC 9110 allows."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None or match.groups() == ("", ""):
        return 0, size, False
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size
    else:
        start = int(first)
        end = min(size, int(last) + 1) if last else size
    if start >= size or end <= start:
        raise AppError(
            "the requested range is outside the file",
            code="range_not_satisfiable",
            status=416,
            headers={"Content-Range": f"bytes */{size}"},
        )
    return start, end, (start, end) != (0, size)


def _disposition(kind: str, name: str) -> str:
    fallback = re.sub(r'[^\x20-\x7e]|["\\%;]', "_", name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _served_name(attachment: Attachment, variant: VariantName, media_type: str) -> str:
    if variant is VariantName.ORIGINAL:
        return attachment.name
    stem = attachment.name.rpartition(".")[0] or attachment.name
    return f"{stem}-{variant.value}.{'png' if media_type == 'image/png' else 'jpg'}"


@router.get(
    "/files/{attachment_id}/{variant}",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file's bytes",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
        206: {"description": "The requested range of the file's bytes"},
        416: _PROBLEM | {"description": "Range outside the file"},
    },
)
async def download_attachment(
    attachment_id: uuid.UUID,
    variant: VariantName,
    *,
    request: Request,
    actor: CurrentActor,
    exp: int = Query(ge=0, le=2**40, description="From the link."),
    sig: str = Query(min_length=1, max_length=100, description="From the link."),
) -> StreamingResponse:
    """Download through a link from GET /attachments/{id}: it works only for the person
    it was made for, until it expires, while they may still see the file. Anything but
    a preview comes as an attachment (never shown in place); every file response is
    sandboxed and not sniffed."""
    async with transaction(actor) as tx:
        download = await attachment_service.check_download(
            tx, attachment_id, variant, expires=exp, sig=sig
        )
        found = download.variant
        start, end, partial = _range(request.headers.get("range"), found.size)
        # Every request is one access, a range of a video included; a refused one
        # (a bad link, a range outside the file) raised above and records nothing.
        if variant is VariantName.ORIGINAL:
            await audit_service.record(
                tx,
                "attachment.downloaded",
                conversation_id=download.attachment.conversation_id,
                object_id=attachment_id,
            )
        else:
            await audit_service.record(
                tx,
                "attachment.previewed",
                conversation_id=download.attachment.conversation_id,
                object_id=attachment_id,
                detail={"variant": variant.value},
            )
    # Open the first chunk before answering: stored bytes that fail their integrity
    # check get a clean error response instead of a download cut off midway.
    await asyncio.to_thread(download.reader.chunk, start // download.reader.chunk_bytes)
    disposition = "inline" if found.name.inline else "attachment"
    headers = {
        "Content-Disposition": _disposition(
            disposition, _served_name(download.attachment, found.name, found.media_type)
        ),
        "Content-Security-Policy": FILE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": "private, no-store",
        "Accept-Ranges": "bytes",
        "Content-Length": str(end - start),
    }
    if partial:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{found.size}"
    media_type = found.media_type
    if media_type == "text/plain":
        media_type = "text/plain; charset=utf-8"
    return StreamingResponse(
        attachment_service.iter_plaintext(download.reader, start, end),
        status_code=206 if partial else 200,
        headers=headers,
        media_type=media_type,
    )


@admin.get("/attachments/quarantined", response_model=QuarantinedPage)
async def list_quarantined(
    actor: CurrentActor,
    cursor: str | None = Query(None, max_length=500),
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """Admins: files the virus scan quarantined, newest first. Ids and facts only:
    neither the name nor the content of a file is shown, and neither can be fetched."""
    before = decode_time_cursor(cursor)
    size = clamp_limit(limit)
    async with transaction(actor, readonly=True) as tx:
        found = await attachment_service.list_quarantined(tx, before=before, limit=size)
    last = found[-1] if len(found) == size else None
    return {
        "items": [
            {
                "id": a.id,
                "conversation_id": a.conversation_id,
                "uploader_id": a.uploader_id,
                "media_type": a.media_type,
                "size": a.size,
                "scan_result": a.scan_result,
                "created_at": a.created_at,
            }
            for a in found
        ],
        "next_cursor": encode_cursor([last.created_at.isoformat(), str(last.id)]) if last else None,
    }
