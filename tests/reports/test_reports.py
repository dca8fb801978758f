"""The month's reports on a known organisation: messages sent through the API, then set
at chosen times; active days as careline notes them. Counts only, admins only, audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from typing import Any

import httpx
import pytest

from careline.db.tx import Actor, transaction
from careline.kit import clock
from careline.reports import service as report_service
from careline.reports.service import REPORT_FIRST_YEAR
from tests.support.world import Persona, World

UTC = dt.UTC
USAGE = "/api/v1/admin/reports/usage"
ENGAGEMENT = "/api/v1/admin/reports/engagement"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


async def open_care(http: httpx.AsyncClient, staff: Persona, client: Persona) -> str:
    made = await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(client.account_id)},
        headers=staff.auth,
    )
    assert made.status_code == 201, made.text
    conversation: str = made.json()["id"]
    return conversation


async def send_at(
    http: httpx.AsyncClient, world: World, conversation: str, who: str, when: str
) -> str:
    """A message sent through the API by `who`, then dated `when` (UTC)."""
    sent = await http.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"client_msg_id": uuid.uuid4().hex, "text": "MARKER-REPORT secret words"},
        headers=world[who].auth,
    )
    assert sent.status_code == 201, sent.text
    message_id: str = sent.json()["id"]
    async with transaction(Actor.system(world.tenant_id)) as tx:
        await tx.conn.execute(
            "UPDATE messages SET created_at = $2 WHERE id = $1", uuid.UUID(message_id), at(when)
        )
    return message_id


async def active_on(world: World, who: str, *days: str) -> None:
    persona = world[who]
    async with transaction(Actor.system(world.tenant_id)) as tx:
        for day in days:
            await tx.conn.execute(
                "INSERT INTO activity_days (tenant_id, day, account_id, role)"
                " VALUES ($1, $2, $3, $4)",
                world.tenant_id,
                dt.date.fromisoformat(day),
                persona.account_id,
                persona.role.value,
            )


async def share_file_at(world: World, conversation: str, message_id: str, when: str) -> None:
    """A file shared in `message_id` (its row only: the report counts rows)."""
    async with transaction(Actor.system(world.tenant_id)) as tx:
        await tx.conn.execute(
            "INSERT INTO attachments (id, tenant_id, conversation_id, uploader_id, message_id,"
            " state, name, media_type, kind, size, sha256, chunk_bytes, key_version, created_at)"
            " VALUES ($1, $2, $3, $4, $5, 'available', '\\x00', 'text/plain', 'text', 1, $6,"
            " 65536, 1, $7)",
            uuid.uuid4(),
            world.tenant_id,
            uuid.UUID(conversation),
            world["sam"].account_id,
            uuid.UUID(message_id),
            bytes(32),
            at(when),
        )


async def march(http: httpx.AsyncClient, world: World) -> None:
    """March 2026 in Europe/London (the organisation's zone; summer time from the 29th)."""
    lily = await open_care(http, world["sam"], world["lily"])
    for who, when in [
        ("lily", "2026-03-02T09:00"),  # waits
        ("lily", "2026-03-02T09:10"),  # the same wait
        ("sam", "2026-03-02T10:00"),  # answered in an hour
        ("grace", "2026-03-05T12:00"),  # waits (a guardian is the client's side)
        ("sam", "2026-03-07T12:00"),  # answered after two days
        ("lily", "2026-03-20T08:00"),  # waits
        ("sam", "2026-03-20T08:30"),  # answered in half an hour
        ("lily", "2026-03-31T23:30"),  # 00:30 on 1 April in London: April's
    ]:
        message = await send_at(http, world, lily, who, when)
        if when == "2026-03-20T08:30":
            await share_file_at(world, lily, message, when)
    tom = await open_care(http, world["jo"], world["tom"])
    for who, when in [
        ("tom", "2026-02-28T10:00"),  # February's wait
        ("jo", "2026-03-01T09:00"),  # its answer, in March
        ("tom", "2026-03-10T10:00"),  # never answered
    ]:
        await send_at(http, world, tom, who, when)
    await active_on(world, "sam", "2026-03-02", "2026-03-03", "2026-03-30", "2026-04-01")
    await active_on(world, "lily", "2026-03-02", "2026-04-02")
    await active_on(world, "grace", "2026-03-05")
    await active_on(world, "tom", "2026-03-10")
    await active_on(world, "jo", "2026-02-27")


def active(admin: int = 0, staff: int = 0, client: int = 0, guardian: int = 0) -> dict[str, int]:
    return {
        "admin": admin,
        "staff": staff,
        "client": client,
        "guardian": guardian,
        "total": admin + staff + client + guardian,
    }


async def get(http: httpx.AsyncClient, url: str, who: Persona, **params: str) -> Any:
    response = await http.get(url, params=params, headers=who.auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_usage_counts_a_known_month(http: httpx.AsyncClient, world: World) -> None:
    await march(http, world)
    report = await get(http, USAGE, world["admin"], month="2026-03")
    assert report["month"] == "2026-03"
    assert report["time_zone"] == "Europe/London"
    assert report["total"] == {
        "active": active(staff=1, client=2, guardian=1),
        "messages_from_staff": 4,
        "messages_from_clients": 5,
        "messages": 9,
        "files": 1,
    }
    days = {d["day"]: d for d in report["days"]}
    assert len(days) == 31
    assert [d["day"] for d in report["days"]][::30] == ["2026-03-01", "2026-03-31"]
    assert days["2026-03-02"]["active"] == active(staff=1, client=1)
    assert days["2026-03-02"]["messages_from_clients"] == 2
    assert days["2026-03-02"]["messages_from_staff"] == 1
    assert days["2026-03-20"]["files"] == 1
    assert days["2026-03-31"]["messages"] == 0  # the last one fell on 1 April, in London
    assert days["2026-03-04"]["active"] == active()
    weeks = {w["week_start"]: w for w in report["weeks"]}
    assert list(weeks) == [
        "2026-02-23",
        "2026-03-02",
        "2026-03-09",
        "2026-03-16",
        "2026-03-23",
        "2026-03-30",
    ]
    # A week is counted over its seven days, the ones in the next month included.
    assert weeks["2026-02-23"]["active"] == active(staff=1)
    assert weeks["2026-03-02"]["active"] == active(staff=1, client=1, guardian=1)
    assert weeks["2026-03-30"]["active"] == active(staff=1, client=1)
    assert weeks["2026-03-02"]["messages"] == 5
    april = await get(http, USAGE, world["admin"], month="2026-04")
    assert april["total"]["messages_from_clients"] == 1
    assert april["total"]["active"] == active(staff=1, client=1)


async def test_engagement_counts_waits_and_replies(http: httpx.AsyncClient, world: World) -> None:
    await march(http, world)
    report = await get(http, ENGAGEMENT, world["admin"], month="2026-03")
    sam = {"waiting": 3, "answered": 3, "median_reply_seconds": 3600.0, "unanswered_over_a_day": 1}
    jo = {"waiting": 1, "answered": 0, "median_reply_seconds": None, "unanswered_over_a_day": 1}
    assert report["total"] == {
        "waiting": 4,
        "answered": 3,
        "median_reply_seconds": 3600.0,
        "unanswered_over_a_day": 2,
    }
    assert report["by_staff"] == [
        {"account_id": str(world["jo"].account_id), "name": "Jo Clinician", **jo},
        {"account_id": str(world["sam"].account_id), "name": "Sam Clinician", **sam},
    ]
    assert report["by_team"] == [
        {"account_id": str(world["lily"].account_id), "name": "Lily Client", **sam},
        {"account_id": str(world["tom"].account_id), "name": "Tom Client", **jo},
    ]
    february = await get(http, ENGAGEMENT, world["admin"], month="2026-02")
    assert february["total"]["waiting"] == 1
    assert february["total"]["median_reply_seconds"] == 23 * 3600.0


async def test_a_support_conversation_is_the_support_desks(
    http: httpx.AsyncClient, world: World
) -> None:
    made = await http.post(
        "/api/v1/conversations", json={"kind": "support"}, headers=world["lily"].auth
    )
    assert made.status_code == 201, made.text
    await send_at(http, world, made.json()["id"], "lily", "2026-03-03T10:00")
    report = await get(http, ENGAGEMENT, world["admin"], month="2026-03")
    assert [(r["account_id"], r["name"], r["waiting"]) for r in report["by_staff"]] == [
        (None, None, 1)
    ]
    assert [r["account_id"] for r in report["by_team"]] == [str(world["lily"].account_id)]


async def test_sending_and_reading_make_a_person_active_today(
    http: httpx.AsyncClient, world: World
) -> None:
    conversation = await open_care(http, world["sam"], world["lily"])
    for n in range(2):
        sent = await http.post(
            f"/api/v1/conversations/{conversation}/messages",
            json={"client_msg_id": f"m{n}", "text": "hello"},
            headers=world["sam"].auth,
        )
        assert sent.status_code == 201, sent.text
    read = await http.post(
        f"/api/v1/conversations/{conversation}/receipt",
        json={"read_seq": sent.json()["seq"]},
        headers=world["lily"].auth,
    )
    assert read.status_code == 200, read.text
    report = await get(http, USAGE, world["admin"])
    today = (await _today(world)).isoformat()
    assert report["month"] == today[:7]
    day = next(d for d in report["days"] if d["day"] == today)
    assert day["active"] == active(staff=1, client=1)
    assert day["messages_from_staff"] == 2
    # Jo and Tom did nothing; the guardian did not read.
    assert report["total"]["active"] == active(staff=1, client=1)


async def _today(world: World) -> dt.date:
    async with transaction(Actor.system(world.tenant_id)) as tx:
        day: dt.date = await tx.conn.fetchval(
            "SELECT (now() AT TIME ZONE time_zone)::date FROM tenants WHERE id = $1",
            world.tenant_id,
        )
    return day


async def test_the_reports_as_csv(http: httpx.AsyncClient, world: World) -> None:
    await march(http, world)
    async with transaction(Actor.system(world.tenant_id)) as tx:
        await tx.conn.execute(
            "UPDATE memberships SET display_name = '=HYPERLINK(1)'"
            " WHERE tenant_id = $1 AND account_id = $2",
            world.tenant_id,
            world["jo"].account_id,
        )
    usage = await http.get(
        USAGE, params={"month": "2026-03", "format": "csv"}, headers=world["admin"].auth
    )
    assert usage.status_code == 200, usage.text
    assert usage.headers["content-type"] == "text/csv; charset=utf-8"
    assert usage.headers["content-disposition"] == (
        'attachment; filename="careline-usage-2026-03.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(usage.text)))
    assert [r["period"] for r in rows] == ["month"] + ["week"] * 6 + ["day"] * 31
    assert rows[0] == {
        "period": "month",
        "start": "2026-03-01",
        "active_admin": "0",
        "active_staff": "1",
        "active_client": "2",
        "active_guardian": "1",
        "active_total": "4",
        "messages_from_staff": "4",
        "messages_from_clients": "5",
        "messages": "9",
        "files": "1",
    }
    second = next(r for r in rows if r["start"] == "2026-03-02" and r["period"] == "day")
    assert (second["messages_from_clients"], second["active_client"]) == ("2", "1")
    assert "MARKER-REPORT" not in usage.text

    engagement = await http.get(
        ENGAGEMENT, params={"month": "2026-03", "format": "csv"}, headers=world["admin"].auth
    )
    assert engagement.status_code == 200, engagement.text
    assert "careline-engagement-2026-03.csv" in engagement.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(engagement.text)))
    assert table[0] == [
        "group",
        "account_id",
        "name",
        "waiting",
        "answered",
        "median_reply_seconds",
        "unanswered_over_a_day",
    ]
    assert table[1] == ["organisation", "", "", "4", "3", "3600", "2"]
    jo = str(world["jo"].account_id)
    # A name that looks like a formula stays text in a spreadsheet.
    assert ["staff", jo, "'=HYPERLINK(1)", "1", "0", "", "1"] in table
    assert ["team", str(world["lily"].account_id), "Lily Client", "3", "3", "3600", "1"] in table
    assert "MARKER-REPORT" not in engagement.text


def _next_month() -> str:
    today = clock.now().date()
    return f"{today.year + today.month // 12:04d}-{today.month % 12 + 1:02d}"


@pytest.mark.parametrize(
    ("month", "code"),
    [
        ("2026-13", "bad_month"),
        ("2026-00", "bad_month"),
        ("2026-3", "bad_month"),
        ("26-03", "bad_month"),
        ("2026-03-01", "bad_month"),
        ("march", "bad_month"),
        (f"{REPORT_FIRST_YEAR - 1}-12", "bad_month"),
        ("", "bad_month"),
        ("2999-01", "future_month"),
        ("next", "future_month"),
    ],
)
@pytest.mark.parametrize("url", [USAGE, ENGAGEMENT])
async def test_a_bad_month_is_refused(
    http: httpx.AsyncClient, world: World, url: str, month: str, code: str
) -> None:
    wanted = _next_month() if month == "next" else month
    for fmt in ("json", "csv"):
        response = await http.get(
            url, params={"month": wanted, "format": fmt}, headers=world["admin"].auth
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code, response.text
    assert await _report_reads(world) == 0


async def test_a_bad_format_is_refused(http: httpx.AsyncClient, world: World) -> None:
    response = await http.get(USAGE, params={"format": "xml"}, headers=world["admin"].auth)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_input", response.text


async def _report_reads(world: World) -> int:
    async with transaction(Actor.system(world.tenant_id)) as tx:
        count: int = await tx.conn.fetchval(
            "SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'report.read'",
            world.tenant_id,
        )
    return count


async def test_each_report_read_is_audited(http: httpx.AsyncClient, world: World) -> None:
    await get(http, USAGE, world["admin"], month="2026-03")
    csv_form = await http.get(
        ENGAGEMENT, params={"month": "2026-02", "format": "csv"}, headers=world["admin"].auth
    )
    assert csv_form.status_code == 200, csv_form.text
    async with transaction(Actor.system(world.tenant_id)) as tx:
        rows = await tx.conn.fetch(
            "SELECT actor_account_id, actor_role, detail FROM audit_events"
            " WHERE tenant_id = $1 AND action = 'report.read' ORDER BY at",
            world.tenant_id,
        )
    assert [(r["actor_account_id"], r["actor_role"]) for r in rows] == [
        (world["admin"].account_id, "admin")
    ] * 2
    details = [
        json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"] for r in rows
    ]
    assert details == [
        {"month": 202603, "report": "usage", "format": "json"},
        {"month": 202602, "report": "engagement", "format": "csv"},
    ]


@pytest.mark.parametrize("who", ["sam", "lily", "grace"])
@pytest.mark.parametrize("url", [USAGE, ENGAGEMENT])
async def test_only_admins_read_reports(
    http: httpx.AsyncClient, world: World, who: str, url: str
) -> None:
    for fmt in ("json", "csv"):
        response = await http.get(
            url, params={"month": "2026-03", "format": fmt}, headers=world[who].auth
        )
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "admin_only"
    unsigned = await http.get(url)
    assert unsigned.status_code == 401, unsigned.text
    assert await _report_reads(world) == 0


async def test_an_admin_sees_only_their_own_organisation(
    http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    await march(http, world)
    usage = await get(http, USAGE, other_world["admin"], month="2026-03")
    assert usage["total"]["messages"] == 0
    assert usage["total"]["active"] == active()
    assert usage["total"]["files"] == 0
    engagement = await get(http, ENGAGEMENT, other_world["admin"], month="2026-03")
    assert engagement["total"]["waiting"] == 0
    assert engagement["by_staff"] == engagement["by_team"] == []


class RolledBack(Exception):
    pass


async def _active_days(world: World, who: str) -> int:
    async with transaction(Actor.system(world.tenant_id)) as tx:
        count: int = await tx.conn.fetchval(
            "SELECT count(*) FROM activity_days WHERE tenant_id = $1 AND account_id = $2",
            world.tenant_id,
            world[who].account_id,
        )
    return count


async def test_a_day_noted_in_a_rolled_back_send_is_noted_again(
    http: httpx.AsyncClient, world: World
) -> None:
    # The memo is filled only after COMMIT: a send that rolled back (its note with it)
    # leaves the next one to write the day.
    with pytest.raises(RolledBack):
        async with transaction(world["sam"].actor) as tx:
            await report_service.note_active(tx)
            raise RolledBack
    assert await _active_days(world, "sam") == 0
    conversation = await open_care(http, world["sam"], world["lily"])
    for n in range(3):
        sent = await http.post(
            f"/api/v1/conversations/{conversation}/messages",
            json={"client_msg_id": f"m{n}", "text": "hello"},
            headers=world["sam"].auth,
        )
        assert sent.status_code == 201, sent.text
    assert await _active_days(world, "sam") == 1
    assert await _active_days(world, "lily") == 0  # she has read nothing yet
