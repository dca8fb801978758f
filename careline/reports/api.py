"""HTTP for admins: the month's usage and engagement reports, as JSON or CSV (docs/api.md)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from careline.auth.api import CurrentActor
from careline.db.tx import transaction
from careline.reports import csv_forms
from careline.reports import service as report_service
from careline.reports.records import ROLES, Engagement, EngagementRow, Month, Usage
from careline.reports.schemas import EngagementRead, UsageRead
from careline.web.http import ERRORS

admin = APIRouter(prefix="/api/v1/admin/reports", tags=["admin"], responses=ERRORS)

Format = Literal["json", "csv"]
_MONTH = Query(
    None,
    max_length=32,
    description="YYYY-MM in the organisation's time zone; the current month when left out.",
)
_FORMAT = Query(
    "json", alias="format", description="`csv`: a text/csv attachment with the same figures."
)


def _csv(kind: str, month: Month, text: str) -> Response:
    return Response(
        content=text.encode(),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="careline-{kind}-{month.label}.csv"',
            "cache-control": "no-store",
        },
    )


def _usage(u: Usage) -> dict[str, Any]:
    return {
        "active": {**{r: u.active[r] for r in ROLES}, "total": u.active_total},
        "messages_from_staff": u.messages_from_staff,
        "messages_from_clients": u.messages_from_clients,
        "messages": u.messages_from_staff + u.messages_from_clients,
        "files": u.files,
    }


@admin.get("/usage", response_model=UsageRead, responses={200: {"content": {"text/csv": {}}}})
async def get_usage_report(
    actor: CurrentActor, month: str | None = _MONTH, form: Format = _FORMAT
) -> Any:
    """Admins: people active per day, per ISO week and in the month, by role; messages per
    day (from staff, from clients); files shared. Counts only. Recorded in the audit
    (`report.read`). Errors: 403 `admin_only`, 422 `bad_month`, `future_month`."""
    async with transaction(actor) as tx:
        report = await report_service.usage_report(tx, month, fmt=form)
    if form == "csv":
        return _csv("usage", report.month, csv_forms.usage_csv(report))
    return {
        "month": report.month.label,
        "time_zone": report.month.time_zone,
        "total": _usage(report.total),
        "days": [{"day": d, **_usage(u)} for d, u in report.days],
        "weeks": [{"week_start": w, **_usage(u)} for w, u in report.weeks],
    }


def _engagement(e: Engagement) -> dict[str, Any]:
    return {
        "waiting": e.waiting,
        "answered": e.answered,
        "median_reply_seconds": e.median_reply_seconds,
        "unanswered_over_a_day": e.unanswered_over_a_day,
    }


def _row(r: EngagementRow) -> dict[str, Any]:
    return {"account_id": r.account_id, "name": r.name, **_engagement(r.figures)}


@admin.get(
    "/engagement", response_model=EngagementRead, responses={200: {"content": {"text/csv": {}}}}
)
async def get_engagement_report(
    actor: CurrentActor, month: str | None = _MONTH, form: Format = _FORMAT
) -> Any:
    """Admins: client messages that waited for staff in the month, the median time to the
    first staff reply and the waits of more than a day; for the organisation, by staff
    member and by care team. Counts and times only. Recorded in the audit
    (`report.read`). Errors: 403 `admin_only`, 422 `bad_month`, `future_month`."""
    async with transaction(actor) as tx:
        report = await report_service.engagement_report(tx, month, fmt=form)
    if form == "csv":
        return _csv("engagement", report.month, csv_forms.engagement_csv(report))
    return {
        "month": report.month.label,
        "time_zone": report.month.time_zone,
        "total": _engagement(report.total),
        "by_staff": [_row(r) for r in report.by_staff],
        "by_team": [_row(r) for r in report.by_team],
    }
