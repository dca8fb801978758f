"""The content rule, for every channel at once: messages carrying a unique marker, from
and to people whose names carry another, in a team conversation whose title carries a
third, go out as web push (decrypted here), e-mail (the raw bytes the SMTP server got),
a digest, the escalation notices and the unsubscribe page; none of the markers is in
anything that left careline, nor in its logs (docs/notifications.md, "The content rule").
"""

from __future__ import annotations

import datetime as dt
import uuid
from email.message import EmailMessage
from typing import Any

import httpx

from careline.db.tx import Actor, transaction
from careline.notifications import digests, escalation
from careline.notifications.workhours import Calendar, deadline
from tests.conftest import LogCapture
from tests.notifications.support import delays, set_preferences, until
from tests.notifications.test_escalation import join_care_team, turn_on
from tests.push.support import subscribe
from tests.realtime.test_live import open_care
from tests.support.pushservice import PushService
from tests.support.server import RunningServer
from tests.support.smtp import SmtpServer
from tests.support.world import World

ALWAYS = Calendar("UTC", dt.time(0), dt.time(23, 59), frozenset(range(1, 8)))


async def _rename_everyone(world: World, marker: str) -> None:
    """Every person's name, as their organisation and their account know it, carries
    the marker (a client's name is health data: it says who is in care)."""
    async with transaction(Actor.system(world.tenant_id)) as tx:
        ids = [p.account_id for p in world.people.values()]
        await tx.conn.execute(
            "UPDATE memberships SET display_name = display_name || ' ' || $2 WHERE tenant_id = $1",
            world.tenant_id,
            marker,
        )
        await tx.conn.execute(
            "UPDATE accounts SET display_name = display_name || ' ' || $2"
            " WHERE id = ANY($1::uuid[])",
            ids,
            marker,
        )


async def _say(
    http: httpx.AsyncClient, world: World, who: str, cid: str, text: str
) -> dict[str, Any]:
    sent = await http.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"client_msg_id": uuid.uuid4().hex, "text": text},
        headers=world[who].auth,
    )
    assert sent.status_code in (200, 201), sent.text
    body: dict[str, Any] = sent.json()
    return body


def _unsubscribe_link(message: EmailMessage) -> str:
    header = str(message["List-Unsubscribe"])
    return header.strip("<>")


async def test_no_text_and_no_name_leaves_careline_on_any_channel(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    push_service: PushService,
    relay: SmtpServer,
    log_capture: LogCapture,
) -> None:
    text_marker = f"canarytext{uuid.uuid4().hex}"
    name_marker = f"Canaryname{uuid.uuid4().hex[:12]}"
    title_marker = f"canarytitle{uuid.uuid4().hex[:12]}"
    markers = (text_marker, name_marker, title_marker)
    start = len(log_capture.lines)
    await _rename_everyone(world, name_marker)
    for who in ("lily", "jo", "admin", "sam"):
        await set_preferences(world, who, quiet_hours=False)
    browsers = {who: await subscribe(http, push_service, world[who]) for who in ("lily", "jo")}
    # The push service is the session's: tests/push sends it bad pushes on purpose.
    problems_before = len(push_service.problems)

    # A care conversation (sam and lily) and a team conversation named after her.
    care = await open_care(http, world)
    team = await http.post(
        "/api/v1/conversations",
        json={
            "kind": "team",
            "member_ids": [str(world["jo"].account_id)],
            "title": f"About {title_marker}",
        },
        headers=world["sam"].auth,
    )
    assert team.status_code in (200, 201), team.text
    team_id = team.json()["id"]

    with delays(server, push=0.2, email=0.4):
        # Messages: push, then e-mail (still unread) to lily and to jo.
        await _say(http, world, "sam", care, f"{text_marker} your results")
        await _say(http, world, "sam", team_id, f"{text_marker} case notes")
        for who in ("lily", "jo"):
            await push_service.wait_for(browsers[who], 1, within=60)
        await until(lambda: _count(relay), lambda n: n >= 2)

        # Escalation: lily writes; sam does not read it; jo (her care team) is told.
        await turn_on(http, world)
        await join_care_team(http, world, "jo", "lily")
        said = await _say(http, world, "lily", care, f"{text_marker} I feel worse")
        at = dt.datetime.fromisoformat(said["created_at"])
        told = await escalation.sweep(deadline(at, 1, ALWAYS) + dt.timedelta(minutes=1))
        assert any(str(t.conversation_id) == care for t in told)
        await push_service.wait_for(browsers["jo"], 2, within=60)
        told = await escalation.sweep(deadline(at, 2, ALWAYS) + dt.timedelta(minutes=1))
        assert any(str(t.conversation_id) == care for t in told)

        # A digest (lily is a client: weekly by default) on a Monday morning in London.
        monday = dt.datetime(2030, 1, 7, 8, 30, tzinfo=dt.UTC)
        assert await digests.send_due(now=monday, tenant_id=world.tenant_id) >= 1

        await until(lambda: _count(relay), lambda n: n >= 4)

    # What left: every push payload decrypted, every raw SMTP message, the unsubscribe
    # page each e-mail links to.
    pushed = [r.payload for b in browsers.values() for r in push_service.received(b)]
    assert pushed
    assert all(p is not None for p in pushed)
    kinds = {p["kind"] for p in pushed if p}
    assert {"message", "escalation"} <= kinds, kinds
    assert push_service.problems[problems_before:] == []
    outbound = [str(p) for p in pushed]
    outbound += [raw.decode("utf-8", "replace") for raw in relay.inbox.raw]
    subjects = [str(m["Subject"]) for m in relay.inbox.messages]
    assert any("unread messages in" in s for s in subjects), subjects  # the digest
    async with httpx.AsyncClient(timeout=30) as anonymous:
        for message in relay.inbox.messages:
            page = await anonymous.get(_unsubscribe_link(message))
            assert page.status_code == 200, page.text
            outbound.append(page.text)
    assert len(outbound) >= 8
    for thing in outbound:
        for marker in markers:
            assert marker not in thing
            assert marker.lower() not in thing.lower()
    logged = "\n".join(log_capture.lines[start:])
    for marker in markers:
        assert marker not in logged


async def _count(relay: SmtpServer) -> int:
    return len(relay.inbox.raw)
