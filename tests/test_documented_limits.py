"""Every limit in docs/limits.md, checked against the running server: the limit itself
is accepted, one over it is refused with the code (and status) docs/limits.md and
docs/errors.md name, over REST and over the socket alike."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from careline.db.tx import Actor, Role, transaction
from careline.kit import limits
from careline.tenants import service as tenant_service
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import WsClient, WsError, connect

DOCS = Path(__file__).resolve().parents[1] / "docs"


def table_rows(page: str, heading: str) -> list[list[str]]:
    """The body rows of the first table under `heading`, cells stripped."""
    section = page.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif rows and not line.startswith("|"):
            break
    return rows[1:]


LIMIT_ROWS = {
    row[0].strip("`"): row for row in table_rows((DOCS / "limits.md").read_text(), "## Fixed")
}
ERROR_STATUS = {
    code.strip("` "): int(cells[1])
    for line in (DOCS / "errors.md").read_text().splitlines()
    if line.startswith("| `")
    for cells in [[c.strip() for c in line.strip("|").split("|")]]
    if cells[1].isdigit()
    for code in cells[0].split("/")
}


def documented(name: str) -> tuple[str | None, int | None]:
    """The code and HTTP status docs/limits.md gives for going over `name`."""
    what = LIMIT_ROWS[name][2]
    code = re.search(r"`([a-z_]+)`", what)
    status = re.search(r"\b(4\d\d)\b", what)
    return (code.group(1) if code else None), (int(status.group(1)) if status else None)


def check_refusal(name: str, response: httpx.Response) -> None:
    code, status = documented(name)
    body = response.json()
    assert body["code"] == code, (name, body)
    assert code is not None, f"docs/limits.md names no code for {name}"
    assert response.status_code == status == ERROR_STATUS[code], (name, response.status_code)


Probe = Callable[[RunningServer, httpx.AsyncClient, World], Awaitable[None]]
PROBES: dict[str, Probe] = {}


def probe(*names: str) -> Callable[[Probe], Probe]:
    def register(fn: Probe) -> Probe:
        for name in names:
            PROBES[name] = fn
        return fn

    return register


async def send(http: httpx.AsyncClient, world: World, conversation: str, **body: Any) -> Any:
    body.setdefault("client_msg_id", uuid.uuid4().hex)
    return await http.post(
        f"/api/v1/conversations/{conversation}/messages", json=body, headers=world["sam"].auth
    )


async def ws_error(client: WsClient, op: str, **args: Any) -> str | None:
    try:
        await client.request(op, **args)
    except WsError as exc:
        return exc.code
    return None


@probe("MESSAGE_TEXT_MAX_CHARS")
async def _text(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    name, n = "MESSAGE_TEXT_MAX_CHARS", limits.MESSAGE_TEXT_MAX_CHARS
    conversation = await open_care(http, world)
    assert (await send(http, world, conversation, text="x" * n)).status_code == 201
    for over in (n + 1, 2 * n + 1, 60_000):  # at any length, not only just over
        response = await send(http, world, conversation, text="x" * over)
        check_refusal(name, response)
        assert response.json()["limit"] == n
    message_id = (await send(http, world, conversation, text="to edit")).json()["id"]
    edit = await http.patch(
        f"/api/v1/messages/{message_id}", json={"text": "y" * (n + 1)}, headers=world["sam"].auth
    )
    check_refusal(name, edit)
    async with connect(server.ws_url, world["sam"].token, max_size=None) as sam:
        args = {"conversation_id": conversation, "client_msg_id": "ws-ok"}
        assert await ws_error(sam, "message.send", text="x" * n, **args) is None
        args["client_msg_id"] = "ws-over"
        code, _ = documented(name)
        assert await ws_error(sam, "message.send", text="x" * (n + 1), **args) == code
        assert await ws_error(sam, "message.edit", message_id=message_id, text="y" * (n + 1)) == (
            code
        )


@probe("CLIENT_MSG_ID_MAX_CHARS")
async def _client_msg_id(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    name, n = "CLIENT_MSG_ID_MAX_CHARS", limits.CLIENT_MSG_ID_MAX_CHARS
    conversation = await open_care(http, world)
    assert (await send(http, world, conversation, client_msg_id="a" * n, text="hi")).is_success
    for bad in ("a" * (n + 1), "", "has space"):
        check_refusal(name, await send(http, world, conversation, client_msg_id=bad, text="hi"))
    code, _ = documented(name)
    async with connect(server.ws_url, world["sam"].token) as sam:
        for bad in ("b" * (n + 1), ""):
            args = {"conversation_id": conversation, "client_msg_id": bad, "text": "hi"}
            assert await ws_error(sam, "message.send", **args) == code
        args = {"conversation_id": conversation, "client_msg_id": "b" * n, "text": "hi"}
        assert await ws_error(sam, "message.send", **args) is None


@probe("REACTION_MAX_CHARS")
async def _reaction(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    n = limits.REACTION_MAX_CHARS
    conversation = await open_care(http, world)
    message_id = (await send(http, world, conversation, text="react")).json()["id"]
    at_limit = "👍" + "\ufe0f" * (n - 1)  # one emoji with variation selectors: n code points
    url = f"/api/v1/messages/{message_id}/reactions/"
    ok = await http.put(url + quote(at_limit), headers=world["sam"].auth)
    assert ok.status_code == 200, ok.text
    over = await http.put(url + quote(at_limit + "\ufe0f"), headers=world["sam"].auth)
    check_refusal("REACTION_MAX_CHARS", over)
    async with connect(server.ws_url, world["sam"].token) as sam:
        code, _ = documented("REACTION_MAX_CHARS")
        args = {"message_id": message_id, "emoji": at_limit + "\ufe0f"}
        assert await ws_error(sam, "reaction.add", **args) == code


async def _team(http: httpx.AsyncClient, world: World, **body: Any) -> httpx.Response:
    body.setdefault("member_ids", [str(world["jo"].account_id)])
    return await http.post(
        "/api/v1/conversations", json={"kind": "team", **body}, headers=world["sam"].auth
    )


@probe("TITLE_MAX_CHARS")
async def _title(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    n = limits.TITLE_MAX_CHARS
    assert (await _team(http, world, title="t" * n)).status_code == 201
    check_refusal("TITLE_MAX_CHARS", await _team(http, world, title="t" * (n + 1)))


@probe("DISPLAY_NAME_MAX_CHARS")
async def _display_name(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    n = limits.DISPLAY_NAME_MAX_CHARS
    me = "/api/v1/me"
    ok = await http.patch(me, json={"display_name": "d" * n}, headers=world["sam"].auth)
    assert ok.status_code == 204, ok.text
    over = await http.patch(me, json={"display_name": "d" * (n + 1)}, headers=world["sam"].auth)
    check_refusal("DISPLAY_NAME_MAX_CHARS", over)


async def _add_member(http: httpx.AsyncClient, world: World, **body: Any) -> httpx.Response:
    member = {
        "email": f"{uuid.uuid4().hex[:10]}@limits.test",
        "display_name": "New Person",
        "role": "staff",
        **body,
    }
    return await http.post("/api/v1/admin/members", json=member, headers=world["admin"].auth)


@probe("EMAIL_MAX_CHARS")
async def _email(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    n = limits.EMAIL_MAX_CHARS

    def address(length: int) -> str:
        local = uuid.uuid4().hex[:20]
        domain = "d" * (length - len(local) - len("@.test")) + ".test"
        return f"{local}@{domain}"

    assert (await _add_member(http, world, email=address(n))).status_code == 201
    check_refusal("EMAIL_MAX_CHARS", await _add_member(http, world, email=address(n + 1)))


async def _invitation_link(http: httpx.AsyncClient, world: World) -> str:
    invited = await _add_member(http, world)
    assert invited.status_code == 201, invited.text
    link: str = invited.json()["link"]
    return link.split("#", 1)[1]


@probe("PASSWORD_MIN_CHARS", "PASSWORD_MAX_CHARS")
async def _password(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    """A new person chooses their password when they accept their invitation."""
    low, high = limits.PASSWORD_MIN_CHARS, limits.PASSWORD_MAX_CHARS

    async def accept(password: str) -> httpx.Response:
        body = {"token": await _invitation_link(http, world), "password": password}
        return await http.post(
            "/api/v1/invitations/accept", json=body | {"display_name": "New Person"}
        )

    for length in (low, high):
        accepted = await accept("p" * length)
        assert accepted.status_code == 200, accepted.text
    check_refusal("PASSWORD_MIN_CHARS", await accept("p" * (low - 1)))
    check_refusal("PASSWORD_MAX_CHARS", await accept("p" * (high + 1)))


@probe("INVITATION_TOKEN_MAX_CHARS")
async def _invitation_token(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    n = limits.INVITATION_TOKEN_MAX_CHARS
    unknown = await http.post("/api/v1/invitations/preview", json={"token": "t" * n})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "invitation_not_found")
    over = await http.post("/api/v1/invitations/preview", json={"token": "t" * (n + 1)})
    check_refusal("INVITATION_TOKEN_MAX_CHARS", over)


@probe("TEAM_MAX_MEMBERS")
async def _team_members(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    n = limits.TEAM_MAX_MEMBERS
    staff = []
    async with transaction(Actor.system(world.tenant_id)) as tx:
        for i in range(n):
            member, _ = await tenant_service.do_add_member(
                tx,
                tenant_id=world.tenant_id,
                email=f"team{i}@{world.slug}.test",
                display_name=f"Team {i}",
                role=Role.STAFF,
                password=None,
            )
            staff.append(str(member.account_id))
    # The creator and n - 1 others make n people; one more is one too many.
    assert (await _team(http, world, member_ids=staff[: n - 1])).status_code == 201
    check_refusal("TEAM_MAX_MEMBERS", await _team(http, world, member_ids=staff))
    ids = [*staff, str(uuid.uuid4())]  # more ids than the schema takes
    check_refusal("TEAM_MAX_MEMBERS", await _team(http, world, member_ids=ids))


@probe("PAGE_MAX")
async def _page(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    conversation = await open_care(http, world)
    url = f"/api/v1/conversations/{conversation}/messages"
    assert (
        await http.get(url, params={"limit": limits.PAGE_MAX}, headers=world["sam"].auth)
    ).is_success
    over = await http.get(url, params={"limit": limits.PAGE_MAX + 1}, headers=world["sam"].auth)
    check_refusal("PAGE_MAX", over)


@probe("WS_FRAME_MAX_BYTES")
async def _frame(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    n = limits.WS_FRAME_MAX_BYTES

    def frame(size: int) -> str:
        head = json.dumps({"op": "ping", "ref": "f", "pad": ""})
        return head[:-2] + "x" * (size - len(head)) + '"}'

    assert len(frame(n)) == n
    async with connect(server.ws_url, world["sam"].token, max_size=None) as sam:
        await sam.ws.send(frame(n))  # at the limit: read (and refused for its `pad`)
        assert (await sam.next_event("error"))["code"] == "invalid_input"
        await sam.ws.send(frame(n + 1))
        close = re.search(r"close (\d+)", LIMIT_ROWS["WS_FRAME_MAX_BYTES"][2])
        assert close is not None
        assert await sam.closed() == int(close.group(1))


@probe("RESUME_MAX_CONVERSATIONS")
async def _resume_conversations(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    n = limits.RESUME_MAX_CONVERSATIONS
    code, _ = documented("RESUME_MAX_CONVERSATIONS")
    async with connect(server.ws_url, world["sam"].token) as sam:
        ids = [str(uuid.uuid4()) for _ in range(n + 1)]
        result = await sam.request("resume", conversations=dict.fromkeys(ids[:n], 0))
        assert len(result["conversations"]) == n
        assert await ws_error(sam, "resume", conversations=dict.fromkeys(ids, 0)) == code
        assert await ws_error(sam, "resume", conversations={ids[0]: -1}) == "invalid_seq"


@probe("RESUME_MAX_EVENTS", "PAGE_DEFAULT")
async def _resume_events(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    n = limits.RESUME_MAX_EVENTS
    conversation = await open_care(http, world)
    async with connect(server.ws_url, world["sam"].token) as sam:
        pending = [
            sam.request(
                "message.send",
                timeout=120,  # queued behind each other on one socket
                conversation_id=conversation,
                client_msg_id=f"e{i}",
                text="e",
            )
            for i in range(n + 1)
        ]
        last = max(r["message"]["seq"] for r in await asyncio.gather(*pending))
    async with connect(server.ws_url, world["lily"].token) as lily:
        within = await lily.request("resume", conversations={conversation: last - n})
        assert within["conversations"][conversation]["status"] == "ok"
    async with connect(server.ws_url, world["lily"].token) as lily:
        beyond = await lily.request("resume", conversations={conversation: last - n - 1})
        assert beyond["conversations"][conversation] == {"status": "reset", "last_seq": last}
    page = await http.get(
        f"/api/v1/conversations/{conversation}/messages", headers=world["sam"].auth
    )
    assert len(page.json()["items"]) == limits.PAGE_DEFAULT


@probe("HTTP_BODY_MAX_BYTES")
async def _body(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    n = limits.HTTP_BODY_MAX_BYTES
    conversation = await open_care(http, world)

    def body(size: int) -> bytes:
        head = json.dumps({"client_msg_id": "big", "text": ""}).encode()
        return head[:-2] + b"x" * (size - len(head)) + b'"}'

    headers = {**world["sam"].auth, "content-type": "application/json"}
    url = f"/api/v1/conversations/{conversation}/messages"
    at_limit = await http.post(url, content=body(n), headers=headers)
    assert at_limit.json()["code"] == "text_too_long"  # read and judged, not cut off
    check_refusal("HTTP_BODY_MAX_BYTES", await http.post(url, content=body(n + 1), headers=headers))


@probe("MESSAGE_MAX_ATTACHMENTS")
async def _attachments(server: RunningServer, http: httpx.AsyncClient, world: World) -> None:
    n = limits.MESSAGE_MAX_ATTACHMENTS
    conversation = await open_care(http, world)
    ids = [str(uuid.uuid4()) for _ in range(n + 1)]
    # n unknown uploads are judged one by one; n + 1 are too many before that.
    at_limit = await send(http, world, conversation, text="f", attachment_ids=ids[:n])
    assert at_limit.json()["code"] == "bad_attachment"
    check_refusal(
        "MESSAGE_MAX_ATTACHMENTS",
        await send(http, world, conversation, text="f", attachment_ids=ids),
    )


# Limits of file contents: refused with their codes by the upload pipeline, checked with
# crafted files (and clamd) in these tests.
ELSEWHERE = {
    "BREAKGLASS_HOURS_MAX": ("breakglass/test_breakglass.py", "BREAKGLASS_HOURS_MAX"),
    "PUSH_ENDPOINT_MAX_CHARS": ("push/test_api.py", "PUSH_ENDPOINT_MAX_CHARS"),
    "PUSH_KEY_MAX_CHARS": ("push/test_api.py", "PUSH_KEY_MAX_CHARS"),
    "PUSH_SUBSCRIPTIONS_MAX": ("push/test_api.py", "PUSH_SUBSCRIPTIONS_MAX"),
    "PUSH_RETRY_MAX": ("push/test_channel.py", "PUSH_RETRY_MAX"),
    "PUSH_RETRY_AFTER_MAX_SECONDS": ("push/test_channel.py", "PUSH_RETRY_AFTER_MAX_SECONDS"),
    "PUSH_RETRY_BACKOFF_MAX_SECONDS": ("push/test_channel.py", "PUSH_RETRY_BACKOFF_MAX_SECONDS"),
    "IMAGE_MAX_PIXELS": ("attachments/test_refusals.py", "image bomb"),
    "IMAGE_MAX_SIDE": (
        "attachments/test_sniff.py",
        "test_image_headers_are_checked_without_decoding",
    ),
    "ARCHIVE_MAX_MEMBERS": ("attachments/test_sniff.py", "archive_bomb"),
    "ARCHIVE_MAX_UNPACKED_BYTES": ("attachments/test_refusals.py", "zip bomb"),
    "ARCHIVE_MAX_RATIO": ("attachments/test_sniff.py", "archive_bomb"),
    "FILE_NAME_MAX_CHARS": ("attachments/test_sniff.py", "FILE_NAME_MAX_CHARS"),
    "PNG_MAX_CHUNKS_BEFORE_IMAGE": ("attachments/test_sniff.py", "PNG_MAX_CHUNKS_BEFORE_IMAGE"),
    "PNG_MAX_HEADER_BYTES": ("attachments/test_sniff.py", "PNG_MAX_HEADER_BYTES"),
    "CLEAN_IMAGE_MAX_FACTOR": ("attachments/test_metadata.py", "CLEAN_IMAGE_MAX_FACTOR"),
    # The checking child dying of any of its limits is one refusal; the tests drive it over
    # its CPU and wall time (no crafted file reaches 512 MiB without a cap refusing first).
    "FILE_CHECK_CPU_SECONDS": ("attachments/test_abuse.py", "file_too_complex"),
    "FILE_CHECK_MEMORY_BYTES": ("attachments/test_abuse.py", "file_too_complex"),
    # Organisation settings an admin sets; refused by the settings' own tests.
    "ESCALATION_HOURS_MAX": ("notifications/test_escalation_settings.py", "ESCALATION_HOURS_MAX"),
    "ESCALATION_ADMIN_HOURS_MAX": (
        "notifications/test_escalation_settings.py",
        "ESCALATION_ADMIN_HOURS_MAX",
    ),
    # How a resume reads, not a refusal: a resume that needs several reads returns what
    # one per conversation would.
    "CATCH_UP_READ_EVENTS": ("realtime/test_resume_batched.py", "CATCH_UP_READ_EVENTS"),
    "CATCH_UP_READ_EVENTS_PER_CONVERSATION": (
        "realtime/test_resume_batched.py",
        "CATCH_UP_READ_EVENTS_PER_CONVERSATION",
    ),
    # Refused over REST and the socket alike, the limit itself accepted.
    "NOTIFICATIONS_READ_MAX_IDS": ("notifications/test_centre.py", "NOTIFICATIONS_READ_MAX_IDS"),
}
# Sizes careline works with that nobody sends: nothing to refuse.
NOT_A_REFUSAL = {
    "FILE_CHUNK_BYTES",
    "THUMBNAIL_MAX_SIDE",
    "PREVIEW_MAX_SIDE",
    "UNATTACHED_UPLOAD_HOURS",
    "NOTIFICATIONS_RESUME_ITEMS",  # how much a resume's ack carries (notifications/test_centre.py)
}


def test_every_documented_limit_is_checked_somewhere() -> None:
    assert set(LIMIT_ROWS) == set(PROBES) | set(ELSEWHERE) | NOT_A_REFUSAL
    for name in NOT_A_REFUSAL:
        assert documented(name) == (None, None), name
    for name, (path, needle) in ELSEWHERE.items():
        assert needle in (Path(__file__).parent / path).read_text(), (name, path)
    for name in LIMIT_ROWS:
        code, status = documented(name)
        if status is not None:
            assert ERROR_STATUS.get(code or "") == status, f"{name}: {code} {status} vs errors.md"


@pytest.mark.parametrize("limit", sorted({p.__name__.strip("_"): p for p in PROBES.values()}))
async def test_a_documented_limit_holds_on_the_running_server(
    limit: str, server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    [check] = {p for p in PROBES.values() if p.__name__.strip("_") == limit}
    await check(server, http, world)


async def test_negative_seqs_are_invalid_seq_everywhere(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation = await open_care(http, world)
    auth = world["sam"].auth
    for url, params in (
        (f"/api/v1/conversations/{conversation}/messages", {"after_seq": -1}),
        (f"/api/v1/conversations/{conversation}/messages", {"before_seq": -1}),
        (f"/api/v1/conversations/{conversation}/events", {"after_seq": -1}),
    ):
        response = await http.get(url, params=params, headers=auth)
        assert (response.status_code, response.json()["code"]) == (422, "invalid_seq"), url
    receipt = await http.post(
        f"/api/v1/conversations/{conversation}/receipt", json={"read_seq": -1}, headers=auth
    )
    assert (receipt.status_code, receipt.json()["code"]) == (422, "invalid_seq")
    async with connect(server.ws_url, world["sam"].token) as sam:
        args = {"conversation_id": conversation, "delivered_seq": -3}
        assert await ws_error(sam, "receipt.update", **args) == "invalid_seq"


async def test_the_openapi_max_lengths_are_the_documented_limits(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/api/v1/openapi.json")).json()["components"]["schemas"]
    send = schema["MessageSend"]["properties"]
    assert send["text"]["maxLength"] == limits.MESSAGE_TEXT_MAX_CHARS
    assert send["client_msg_id"]["maxLength"] == limits.CLIENT_MSG_ID_MAX_CHARS
    assert send["client_msg_id"]["minLength"] == 1
    assert send["attachment_ids"]["maxItems"] == limits.MESSAGE_MAX_ATTACHMENTS
    assert schema["MessageEdit"]["properties"]["text"]["maxLength"] == limits.MESSAGE_TEXT_MAX_CHARS
    title = schema["ConversationCreate"]["properties"]["title"]["anyOf"][0]
    assert title["maxLength"] == limits.TITLE_MAX_CHARS
    member = schema["InvitationCreate"]["properties"]
    assert member["display_name"]["maxLength"] == limits.DISPLAY_NAME_MAX_CHARS
    assert member["email"]["maxLength"] == limits.EMAIL_MAX_CHARS
