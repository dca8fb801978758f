"""HTTP for admins: the audit of their organisation, filtered and paged, and its export
as CSV or JSON through a job (docs/api.md, "Audit")."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from careline.audit import browse, export_jobs, exports
from careline.audit.browse import Filters
from careline.audit.schemas import AuditExportCreate, AuditExportRead, AuditFilters, AuditPage
from careline.auth.api import CurrentActor
from careline.db.tx import transaction
from careline.kit import limits
from careline.kit.errors import InvalidInput
from careline.kit.pagination import clamp_limit, decode_time_cursor, encode_cursor
from careline.web.http import ERRORS

admin = APIRouter(prefix="/api/v1/admin", tags=["audit"], responses=ERRORS)


def _filters(query: AuditFilters) -> Filters:
    return Filters(**query.model_dump())


# RFC 3339, with its zone: what OpenAPI's date-time means (pydantic would also take a
# number of seconds, or a time without a zone).
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$"
)


def _TIME_QUERY(text: str) -> Any:  # noqa: N802 - it stands for a Query
    return Query(
        description=f"{text} RFC 3339, with a zone (2026-12-02T09:00:00Z).",
        max_length=40,
        json_schema_extra={"format": "date-time"},
    )


def _time(value: str | None, field: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        if _RFC3339.match(value):
            return dt.datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        pass
    raise InvalidInput(
        "times are RFC 3339 with a zone, e.g. 2026-12-02T09:00:00Z",
        code="invalid_filter",
        extra={"field": field},
    )


def _query_filters(
    *,
    actor_id: Annotated[uuid.UUID | None, Query(description="Events by this person.")] = None,
    conversation_id: Annotated[
        uuid.UUID | None, Query(description="Events in this conversation.")
    ] = None,
    action: Annotated[str | None, Query(max_length=64, description="One action.")] = None,
    category: Annotated[
        str | None, Query(max_length=32, description="One category of actions.")
    ] = None,
    since: Annotated[str | None, _TIME_QUERY("At or after this time.")] = None,
    until: Annotated[str | None, _TIME_QUERY("Before this time.")] = None,
    client: Annotated[
        uuid.UUID | None, Query(description="Who has opened this client's record (an account id).")
    ] = None,
) -> Filters:
    return Filters(
        actor_id,
        conversation_id,
        action,
        category,
        _time(since, "since"),
        _time(until, "until"),
        client,
    )


QueryFilters = Annotated[Filters, Depends(_query_filters)]


@admin.get("/audit", response_model=AuditPage)
async def list_audit_events(
    actor: CurrentActor,
    filters: QueryFilters,
    cursor: str | None = Query(None, max_length=500),
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """Admins: the organisation's audit, newest first, filtered by person (`actor_id`),
    conversation, action or category, time (`since`, `until`), or `client` ("who has
    opened this client's record"). Each event names who acted (name and role), the ids
    it concerns, where from, and the stated reason of a break-glass step. Reading the
    audit is itself recorded (`audit.read`)."""
    before = decode_time_cursor(cursor)
    size = clamp_limit(limit)
    async with transaction(actor) as tx:
        items = await browse.list_events(tx, filters, before=before, limit=size)
    last = items[-1] if len(items) == size else None
    return {
        "items": items,
        "next_cursor": encode_cursor([last["at"].isoformat(), str(last["id"])]) if last else None,
    }


def _export_read(export: exports.Export) -> dict[str, Any]:
    return {
        "id": export.id,
        "format": export.format,
        "state": export.state,
        "done": export.done,
        "total": export.total,
        "created_at": export.created_at,
        "finished_at": export.finished_at,
        "expires_at": export.expires_at,
        "bytes": export.bytes,
    }


@admin.post("/audit/exports", status_code=202, response_model=AuditExportRead)
async def create_audit_export(body: AuditExportCreate, actor: CurrentActor) -> dict[str, Any]:
    """Admins: export the events of `filters` as CSV or JSON. A job writes it; follow its
    progress (`done` of `total`) at GET /admin/audit/exports/{id}, then download it. The
    export holds what was recorded up to now, and is removed a day later."""
    async with transaction(actor) as tx:
        export = await exports.do_create_export(
            tx, _filters(body.filters), format=body.format, defer=export_jobs.defer_export
        )
    return _export_read(export)


@admin.get("/audit/exports/{export_id}", response_model=AuditExportRead)
async def get_audit_export(export_id: uuid.UUID, actor: CurrentActor) -> dict[str, Any]:
    """Admins: an export's state (`queued`, `running`, `done`) and progress."""
    async with transaction(actor, readonly=True) as tx:
        export = await exports.get_export(tx, export_id)
    return _export_read(export)


@admin.get(
    "/audit/exports/{export_id}/download",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}, "application/json": {}}},
        410: ERRORS[409] | {"description": "The export is past its day"},
    },
)
async def download_audit_export(export_id: uuid.UUID, actor: CurrentActor) -> Response:
    """Admins: a finished export, as an attachment (409 `export_not_ready` before, 410
    `export_expired` after its day). Recorded in the audit (`export.downloaded`)."""
    async with transaction(actor) as tx:
        export, data = await exports.do_download(tx, export_id)
    name = f"audit-{export.created_at:%Y%m%d-%H%M%S}.{export.format}"
    return Response(
        data,
        media_type=exports.MEDIA_TYPES[export.format],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
