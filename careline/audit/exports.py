"""Audit exports: an admin asks for the events of some filters as CSV or JSON; a job
writes them in parts (its progress counted as `done` of `total`), each part encrypted
under the organisation's data key; the admin downloads the whole, and a day after it was
asked for it is removed.

Events recorded after the export was asked for are not in it: its time range ends then.
Emits the audit events `export.created` and `export.downloaded`. Raises Forbidden
(`admin_only`), NotFound for another organisation's export, InvalidInput
(`invalid_filter`, `export_too_large`), Conflict (`exports_busy`, `export_not_ready`)
and Gone (`export_expired`).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
import orjson

from careline.audit import browse, browse_store, exports_store
from careline.audit import service as audit_service
from careline.audit.browse import Filters
from careline.db.tx import Tx
from careline.keys import service as key_service
from careline.kit import clock
from careline.kit.errors import Conflict, Gone, InvalidInput, NotFound
from careline.tenants import service as tenant_service

Format = Literal["csv", "json"]

# Events in one export: more is refused (narrow the filters, or export in pieces).
AUDIT_EXPORT_MAX_EVENTS = 100_000
# Exports of one organisation queued or running at once.
AUDIT_EXPORTS_UNFINISHED_MAX = 3
# An export is removed this long after it was asked for.
AUDIT_EXPORT_KEEP_HOURS = 24
# Events the job writes per transaction (one encrypted part each): its progress steps.
AUDIT_EXPORT_BATCH = 500

CSV_COLUMNS = (
    "at",
    "action",
    "category",
    "actor_name",
    "actor_role",
    "actor_account_id",
    "conversation_id",
    "object_id",
    "subject_account_id",
    "subject_name",
    "detail",
    "reason",
    "source",
    "user_agent",
    "id",
)
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@dataclass(frozen=True, slots=True)
class Export:
    id: uuid.UUID
    format: Format
    state: str
    done: int
    total: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    expires_at: dt.datetime
    bytes: int


def _export(row: asyncpg.Record) -> Export:
    return Export(
        id=row["id"],
        format=row["format"],
        state=row["state"],
        done=row["done"],
        total=row["total"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        expires_at=row["expires_at"],
        bytes=row["bytes"],
    )


async def do_create_export(
    tx: Tx,
    filters: Filters,
    *,
    format: Format,  # noqa: A002 - the API's own word for it
    defer: Callable[[uuid.UUID, uuid.UUID], Awaitable[None]],
) -> Export:
    """Ask for an export; `defer` queues its job once this transaction has committed."""
    tenant_service.require_admin(tx)
    now = clock.now()
    browse.check_filters(filters)
    # The export holds what was recorded up to now, however long the job takes.
    until = min(filters.until, now) if filters.until else now
    filters = browse.check_filters(dataclasses.replace(filters, until=until))
    where = await browse.resolve(tx, filters)
    tenant = tx.actor.tenant
    if await exports_store.count_unfinished(tx, tenant) >= AUDIT_EXPORTS_UNFINISHED_MAX:
        raise Conflict(
            f"at most {AUDIT_EXPORTS_UNFINISHED_MAX} exports are made at once; "
            "wait for one to finish",
            code="exports_busy",
            extra={"limit": AUDIT_EXPORTS_UNFINISHED_MAX},
        )
    total = await browse_store.count_events(tx, where, cap=AUDIT_EXPORT_MAX_EVENTS)
    if total > AUDIT_EXPORT_MAX_EVENTS:
        raise InvalidInput(
            f"an export holds at most {AUDIT_EXPORT_MAX_EVENTS:,} events: narrow the filters",
            code="export_too_large",
            extra={"limit": AUDIT_EXPORT_MAX_EVENTS},
        )
    export_id = uuid.uuid4()
    expires = now + dt.timedelta(hours=AUDIT_EXPORT_KEEP_HOURS)
    await exports_store.insert_export(
        tx,
        id=export_id,
        tenant_id=tenant,
        requested_by=tx.actor.account,
        format=format,
        filters=filters.to_json(),
        total=total,
        created_at=now,
        expires_at=expires,
    )
    await audit_service.record(
        tx,
        "export.created",
        object_id=export_id,
        conversation_id=filters.conversation_id,
        subject_account_id=filters.client_id,
        detail={"count": total, "format": format},
    )

    async def queue() -> None:
        await defer(export_id, tenant)

    tx.after_commit(queue)
    return Export(export_id, format, "queued", 0, total, now, None, expires, 0)


async def get_export(tx: Tx, export_id: uuid.UUID) -> Export:
    tenant_service.require_admin(tx)
    row = await exports_store.get_export(tx, export_id)
    if row is None or row["tenant_id"] != tx.actor.tenant:
        raise NotFound("no such export")
    return _export(row)


async def do_download(tx: Tx, export_id: uuid.UUID) -> tuple[Export, bytes]:
    """The finished export in the clear; records `export.downloaded`."""
    export = await get_export(tx, export_id)
    if export.expires_at <= clock.now():
        raise Gone("this export has been removed; ask for a new one", code="export_expired")
    if export.state != "done":
        raise Conflict(
            "this export is not finished yet",
            code="export_not_ready",
            extra={"done": export.done, "total": export.total},
        )
    keyring = key_service.keyring()
    pieces = []
    for part in await exports_store.list_parts(tx, export_id):
        pieces.append(
            await keyring.decrypt(
                tx,
                tx.actor.tenant,
                part["ct"],
                version=part["key_version"],
                context=part_context(export_id, part["n"]),
            )
        )
    await audit_service.record(
        tx, "export.downloaded", object_id=export_id, detail={"format": export.format}
    )
    return export, b"".join(pieces)


def part_context(export_id: uuid.UUID, n: int) -> str:
    """The additional data that binds a part's ciphertext to its export and place."""
    return f"audit-export:{export_id}:{n}"


async def internal_write_next(tx: Tx, export_id: uuid.UUID) -> bool:
    """The job's step: write the next part of an export; True once it is finished (or
    gone). Safe to run twice: it goes on from the last event written."""
    row = await exports_store.lock_export(tx, export_id)
    if row is None or row["state"] == "done":
        return True
    fmt: Format = row["format"]
    n = row["parts"]
    data = b""
    if n == 0:
        data = _csv_line(list(CSV_COLUMNS)) if fmt == "csv" else b"["
    where = await browse.resolve(tx, Filters.from_json(row["filters"]))
    last = (row["last_at"], row["last_id"]) if row["last_at"] else None
    rows = await browse_store.list_events(tx, where, before=last, limit=AUDIT_EXPORT_BATCH)
    items = await browse.describe(tx, rows)
    data += _render(fmt, items, first=row["done"] == 0)
    finished = len(rows) < AUDIT_EXPORT_BATCH
    if finished and fmt == "json":
        data += b"\n]\n"
    ct, version = await key_service.keyring().encrypt(
        tx, row["tenant_id"], data, context=part_context(export_id, n)
    )
    await exports_store.insert_part(
        tx, export_id=export_id, tenant_id=row["tenant_id"], n=n, ct=ct, key_version=version
    )
    await exports_store.update_progress(
        tx,
        export_id,
        state="done" if finished else "running",
        # Never past the total counted when it was asked for (that is what the bar shows).
        done=min(row["done"] + len(rows), row["total"]),
        last=(rows[-1]["at"], rows[-1]["id"]) if rows else last,
        parts=n + 1,
        added_bytes=len(data),
        finished_at=clock.now() if finished else None,
    )
    return finished


async def internal_remove_expired(tx: Tx, *, now: dt.datetime, limit: int) -> int:
    return await exports_store.delete_expired(tx, now=now, limit=limit)


async def internal_unfinished(
    tx: Tx, *, older_than: dt.datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    return await exports_store.list_unfinished(tx, older_than=older_than, limit=limit)


def _render(fmt: Format, items: list[dict[str, Any]], *, first: bool) -> bytes:
    if fmt == "json":
        out = b""
        for i, item in enumerate(items):
            out += (b"\n" if first and i == 0 else b",\n") + orjson.dumps(item, default=str)
        return out
    return b"".join(_csv_line([_cell(item[c]) for c in CSV_COLUMNS]) for item in items)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return orjson.dumps(value).decode() if value else ""
    text = str(value)
    # A spreadsheet runs a cell that starts like a formula: a reason or a user agent is
    # typed by people, so it is kept as text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().encode()
