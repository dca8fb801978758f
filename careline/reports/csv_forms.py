"""The reports as CSV: one header row, one row per period or group; counts, dates, ids
and display names only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from careline.reports.records import ROLES, Engagement, EngagementReport, Usage, UsageReport

USAGE_HEADER = [
    "period",
    "start",
    *(f"active_{r}" for r in ROLES),
    "active_total",
    "messages_from_staff",
    "messages_from_clients",
    "messages",
    "files",
]
ENGAGEMENT_HEADER = [
    "group",
    "account_id",
    "name",
    "waiting",
    "answered",
    "median_reply_seconds",
    "unanswered_over_a_day",
]


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts like a formula: a name must stay a name.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _write(header: list[str], rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _usage(period: str, start: str, u: Usage) -> list[Any]:
    return [
        period,
        start,
        *(u.active[r] for r in ROLES),
        u.active_total,
        u.messages_from_staff,
        u.messages_from_clients,
        u.messages_from_staff + u.messages_from_clients,
        u.files,
    ]


def usage_csv(report: UsageReport) -> str:
    rows = [_usage("month", report.month.first.isoformat(), report.total)]
    rows += [_usage("week", monday.isoformat(), u) for monday, u in report.weeks]
    rows += [_usage("day", day.isoformat(), u) for day, u in report.days]
    return _write(USAGE_HEADER, rows)


def _seconds(e: Engagement) -> str:
    return "" if e.median_reply_seconds is None else f"{e.median_reply_seconds:.0f}"


def engagement_csv(report: EngagementReport) -> str:
    t = report.total
    rows: list[list[Any]] = [
        ["organisation", "", "", t.waiting, t.answered, _seconds(t), t.unanswered_over_a_day]
    ]
    for group, found in (("staff", report.by_staff), ("team", report.by_team)):
        for r in found:
            e = r.figures
            name = r.name if r.account_id else "support desk"
            rows.append(
                [
                    group,
                    r.account_id or "",
                    name,
                    e.waiting,
                    e.answered,
                    _seconds(e),
                    e.unanswered_over_a_day,
                ]
            )
    return _write(ENGAGEMENT_HEADER, rows)
