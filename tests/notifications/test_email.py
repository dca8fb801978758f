"""The e-mail channel against a real SMTP server: what the relay received (headers, MIME
parts), the one-click unsubscribe link working end to end without signing in (the page
and the RFC 8058 POST), forged and expired tokens refused, and the relay reached over
implicit TLS and STARTTLS."""

from __future__ import annotations

import base64
import datetime as dt
import email
import re
import uuid
from email import policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from careline import config
from careline.db.tx import Actor, transaction
from careline.kit import clock
from careline.mail import smtp
from careline.notifications import kinds, unsubscribe, words
from careline.notifications.channels import Delivery
from careline.notifications.email_channel import CHANNEL, RETRY_SECONDS
from tests.realtime.test_live import open_care
from tests.support.certs import make_certs
from tests.support.server import RunningServer, free_port
from tests.support.smtp import SmtpServer
from tests.support.world import World

MARKER = "zebra-canary-7f3a"  # message text that must never leave careline


async def send_message(http: httpx.AsyncClient, world: World, conversation: str) -> None:
    response = await http.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"client_msg_id": uuid.uuid4().hex, "text": f"about my pills {MARKER}"},
        headers=world["sam"].auth,
    )
    assert response.status_code in (200, 201), response.text


async def record_of(world: World, who: str, conversation: str) -> Any:
    async with transaction(Actor.system(world.tenant_id), readonly=True) as tx:
        return await tx.conn.fetchrow(
            "SELECT * FROM notifications WHERE account_id = $1 AND object_id = $2"
            " AND read_at IS NULL",
            world[who].account_id,
            uuid.UUID(conversation),
        )


async def delivery_for(
    http: httpx.AsyncClient, world: World, who: str = "lily", messages: int = 1
) -> Delivery:
    """Messages from sam in a care conversation with lily; the Delivery of `who`'s
    record, as delivery hands it to the channel."""
    conversation = await open_care(http, world)
    for _ in range(messages):
        await send_message(http, world, conversation)
    row = await record_of(world, who, conversation)
    facts = words.Facts(
        organisation=f"Org {world.slug}",
        kind="message",
        count=row["count"],
        link=words.conversation_link(world.tenant_id, row["conversation_id"]),
    )
    return Delivery(
        notification_id=row["id"],
        tenant_id=world.tenant_id,
        account_id=world[who].account_id,
        kind=kinds.MESSAGE,
        priority=row["priority"],
        round=row["email_round"],
        facts=facts,
        tag=str(row["id"]),
    )


async def attempts_of(world: World, who: str) -> list[Any]:
    async with transaction(Actor.system(world.tenant_id), readonly=True) as tx:
        return list(
            await tx.conn.fetch(
                "SELECT channel, kind, outcome, reason, status, notification_id"
                " FROM notification_attempts WHERE account_id = $1 AND tenant_id = $2"
                " ORDER BY id",
                world[who].account_id,
                world.tenant_id,
            )
        )


async def own_choices(world: World, who: str) -> Any:
    async with transaction(Actor.system(world.tenant_id), readonly=True) as tx:
        return await tx.conn.fetchrow(
            "SELECT push, email, digest, quiet_hours, quiet_start, quiet_end, time_zone"
            " FROM notification_preferences WHERE tenant_id = $1 AND account_id = $2",
            world.tenant_id,
            world[who].account_id,
        )


def parts(message: EmailMessage) -> dict[str, str]:
    found = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            assert isinstance(part, EmailMessage)
            found[part.get_content_type()] = part.get_content()
    return found


def unsubscribe_url(message: EmailMessage) -> str:
    header = str(message["List-Unsubscribe"])
    match = re.fullmatch(r"<(https?://[^>]+)>", header)
    assert match, header
    return match.group(1)


def leaks(raw: bytes, world: World) -> list[str]:
    """Names and message text found anywhere in what the relay received: the raw bytes,
    every header decoded, and every part decoded (quoted-printable may split a word
    across lines of the raw bytes)."""
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    seen = [
        raw.decode("utf-8", "replace"),
        *(f"{name}: {value}" for name, value in message.items()),
        *parts(message).values(),
    ]
    names = [p.name for p in world.people.values()] + [MARKER, "pills"]
    return [n for n in names for text in seen if n.lower() in text.lower()]


def raw_header(raw: bytes, name: str) -> str:
    """A header exactly as it went over the wire (undecoded; a folded one unfolded)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    fields = re.split(r"\r\n(?![ \t])", head)
    found = [f.split(":", 1)[1].strip() for f in fields if f.lower().startswith(f"{name.lower()}:")]
    assert len(found) == 1, (name, head)
    return found[0]


async def test_an_email_is_text_and_html_with_the_organisation_and_one_click_unsubscribe(
    relay: SmtpServer, http: httpx.AsyncClient, world: World
) -> None:
    delivery = await delivery_for(http, world, messages=3)
    result = await CHANNEL.send(delivery)
    assert result.outcome == "sent"
    [message] = await relay.inbox.wait_for(1)
    [raw] = relay.inbox.raw
    organisation = f"Org {world.slug}"
    assert message["To"] == world["lily"].email
    assert message["From"].addresses[0].display_name == organisation
    assert message["From"].addresses[0].addr_spec == config.current().smtp_from
    assert message["Subject"] == f"{organisation}: 3 new messages"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = unsubscribe_url(message)
    assert link.startswith(f"{config.current().base_url}/api/v1/unsubscribe/")
    # On the wire as RFC 8058 has them: one line each, a plain <URL>, nothing encoded.
    assert raw_header(raw, "List-Unsubscribe") == f"<{link}>"
    assert raw_header(raw, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert raw_header(raw, "Content-Type").startswith("multipart/alternative;")
    assert message.get_content_type() == "multipart/alternative"
    bodies = parts(message)
    assert set(bodies) == {"text/plain", "text/html"}
    conversation = delivery.facts.link  # <base>/c/<id>?org=<tenant>
    assert "/c/" in conversation
    for body in bodies.values():
        assert "3 new messages" in body
        assert organisation in body
        assert link in body
    assert conversation in bodies["text/plain"]
    assert f'href="{conversation.replace("&", "&amp;")}"' in bodies["text/html"]
    assert leaks(raw, world) == []
    [attempt] = await attempts_of(world, "lily")
    assert dict(attempt) == {
        "channel": "email",
        "kind": "message",
        "outcome": "sent",
        "reason": None,
        "status": None,
        "notification_id": delivery.notification_id,
    }


async def test_the_one_click_post_turns_off_exactly_email_without_signing_in(
    relay: SmtpServer, http: httpx.AsyncClient, world: World
) -> None:
    assert (await CHANNEL.send(await delivery_for(http, world))).outcome == "sent"
    [message] = await relay.inbox.wait_for(1)
    link = unsubscribe_url(message)
    assert await own_choices(world, "lily") is None
    # What a mail client sends (RFC 8058 section 3.2): no cookie, no authorization.
    async with httpx.AsyncClient() as anonymous:
        for _ in range(2):  # again is the same
            answer = await anonymous.post(
                link,
                content=b"List-Unsubscribe=One-Click",
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"unsubscribed": "email"}
    choices = await own_choices(world, "lily")
    assert dict(choices) == {
        "push": None,
        "email": False,
        "digest": None,
        "quiet_hours": None,
        "quiet_start": None,
        "quiet_end": None,
        "time_zone": None,
    }
    # Nobody else's choices changed (grace is told of the same conversation).
    assert await own_choices(world, "grace") is None


async def test_the_unsubscribe_page_asks_then_its_button_turns_email_off(
    relay: SmtpServer, http: httpx.AsyncClient, world: World
) -> None:
    assert (await CHANNEL.send(await delivery_for(http, world))).outcome == "sent"
    [message] = await relay.inbox.wait_for(1)
    html = parts(message)["text/html"]
    [link] = re.findall(r'href="([^"]*/api/v1/unsubscribe/[^"]+)"', html)
    assert link == unsubscribe_url(message)
    async with httpx.AsyncClient(headers={"accept": "text/html"}) as browser:
        page = await browser.get(link)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert f"Org {world.slug}" in page.text
        assert '<form method="post" action="">' in page.text
        assert 'name="List-Unsubscribe" value="One-Click"' in page.text
        assert await own_choices(world, "lily") is None  # opening it changes nothing
        done = await browser.post(
            link,
            data={"List-Unsubscribe": "One-Click"},
        )
        assert done.status_code == 200
        assert done.headers["content-type"].startswith("text/html")
        assert "You will get no more e-mail notifications from" in done.text
        for name in (p.name for p in world.people.values()):
            assert name not in page.text
            assert name not in done.text
    assert (await own_choices(world, "lily"))["email"] is False


def _altered(token: str) -> str:
    body, _, mac = token.partition(".")
    return f"{body}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}"


def _moved(token: str, other: uuid.UUID) -> str:
    """The same signature over a body naming someone else."""
    body, _, mac = token.partition(".")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[18:34] = other.bytes
    return f"{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}.{mac}"


async def test_forged_and_expired_tokens_are_refused_and_change_nothing(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    lily = world["lily"]
    token = unsubscribe.make_token(world.tenant_id, lily.account_id, "email")
    days = config.current().notify_unsubscribe_days
    old = unsubscribe.make_token(
        world.tenant_id,
        lily.account_id,
        "email",
        now=clock.now() - dt.timedelta(days=days, seconds=5),
    )
    refused = {
        _altered(token): (403, "unsubscribe_invalid"),
        _moved(token, world["tom"].account_id): (403, "unsubscribe_invalid"),
        "made-up.token": (403, "unsubscribe_invalid"),
        "x" * 60: (403, "unsubscribe_invalid"),
        old: (410, "unsubscribe_expired"),
    }
    for bad, (status, code) in refused.items():
        answer = await http.post(
            f"/api/v1/unsubscribe/{bad}", content=b"List-Unsubscribe=One-Click"
        )
        assert answer.status_code == status, bad
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == code
        page = await http.get(f"/api/v1/unsubscribe/{bad}", headers={"accept": "text/html"})
        assert page.status_code == status
        assert page.headers["content-type"].startswith("text/html")
        assert ("expired" if status == 410 else "not valid") in page.text
        assert "<form" not in page.text
    for who in ("lily", "tom"):
        assert await own_choices(world, who) is None


async def test_a_digest_token_turns_off_only_the_digest(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    token = unsubscribe.make_token(world.tenant_id, world["tom"].account_id, "digest")
    answer = await http.post(f"/api/v1/unsubscribe/{token}")
    assert answer.json() == {"unsubscribed": "digest"}
    choices = await own_choices(world, "tom")
    assert (choices["digest"], choices["email"], choices["push"]) == ("off", None, None)


async def test_a_refused_address_fails_for_good_and_a_relay_down_is_retried(
    relay: SmtpServer, http: httpx.AsyncClient, world: World
) -> None:
    delivery = await delivery_for(http, world)
    relay.inbox.refuse_code = "550 no such mailbox"
    refused = await CHANNEL.send(delivery)
    assert (refused.outcome, refused.reason) == ("failed", "smtp_550")
    relay.inbox.refuse_code = None
    relay.stop()
    try:
        down = await CHANNEL.send(delivery)
    finally:
        relay.start()
    assert (down.outcome, down.reason) == ("retry", "smtp_down")
    assert down.retry_after == RETRY_SECONDS
    outcomes = [(a["outcome"], a["reason"], a["status"]) for a in await attempts_of(world, "lily")]
    assert outcomes == [("refused", "smtp_550", 550), ("retrying", "smtp_down", None)]
    assert relay.inbox.messages == []


async def test_without_a_relay_the_channel_has_nothing_to_do(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    result = await CHANNEL.send(await delivery_for(http, world))
    assert (result.outcome, result.reason) == ("nothing", "smtp_not_configured")
    assert await attempts_of(world, "lily") == []


@pytest.fixture(params=["implicit", "starttls"])
def tls_relay(request: pytest.FixtureRequest, server: RunningServer, tmp_path: Any) -> Any:
    certs = make_certs(tmp_path)
    running = SmtpServer(free_port(), tls=request.param, context=certs.server)
    running.start()
    yield running, certs
    config.use(server.settings)
    running.stop()


async def test_the_relay_is_reached_over_implicit_tls_and_starttls(
    server: RunningServer, tls_relay: Any
) -> None:
    running, certs = tls_relay
    implicit = running.tls == "implicit"
    settings = server.settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": running.port,
            "smtp_tls": implicit,
            "smtp_starttls": not implicit,
        }
    )
    # A certificate careline does not trust: not sent, and worth trying again later.
    config.use(settings)
    with pytest.raises(smtp.MailUnavailable):
        await smtp.send("pat@example.org", "Hello", "Plain words.\n")
    config.use(settings.model_copy(update={"smtp_ca_file": certs.ca_file}))
    await smtp.send("pat@example.org", "Hello", "Plain words.\n")
    [message] = await running.inbox.wait_for(1)
    assert message["Subject"] == "Hello"
