"""Who gets a file: current participants only, through links made for them alone that
expire; everyone else, and every altered or expired link, gets nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from careline.attachments.links import make_link
from careline.attachments.records import VariantName
from careline.kit import clock
from tests.support import files
from tests.support.world import World


async def _shared_photo(http: httpx.AsyncClient, world: World, conversation_id: str) -> str:
    """sam sends a photo into the conversation; its id once available and sent."""
    sam = world["sam"]
    uploaded = await files.upload(
        http, sam, conversation_id, "wound day 3.jpg", files.photo_with_gps()
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment_id: str = uploaded.json()["id"]
    assert (await files.wait_state(http, sam, attachment_id))["state"] == "available"
    sent = await files.send_with(http, sam, conversation_id, [attachment_id], text="day 3")
    assert sent.status_code == 201, sent.text
    return attachment_id


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("sam", True),
        ("lily", True),
        ("grace", True),
        ("jo", False),
        ("tom", False),
        ("admin", False),
    ],
)
async def test_only_participants_see_and_download(
    http: httpx.AsyncClient, world: World, care: str, persona: str, allowed: bool
) -> None:
    attachment_id = await _shared_photo(http, world, care)
    who = world[persona]
    seen = await http.get(f"/api/v1/attachments/{attachment_id}", headers=who.auth)
    assert seen.status_code == (200 if allowed else 404), seen.text
    # Even with a correctly signed link of their own, outsiders get nothing.
    own = make_link(
        uuid.UUID(attachment_id),
        VariantName.THUMB,
        account_id=who.account_id,
        tenant_id=who.tenant_id,
        ttl_seconds=60,
    )
    download = await http.get(own.url, headers=who.auth)
    assert download.status_code == (200 if allowed else 404), download.text


async def test_another_organisation_gets_nothing(
    http: httpx.AsyncClient, world: World, other_world: World, care: str
) -> None:
    attachment_id = await _shared_photo(http, world, care)
    lily_links = (
        await http.get(f"/api/v1/attachments/{attachment_id}", headers=world["lily"].auth)
    ).json()["links"]
    for key in ("admin", "sam", "lily", "grace"):
        outsider = other_world[key]
        seen = await http.get(f"/api/v1/attachments/{attachment_id}", headers=outsider.auth)
        assert seen.status_code == 404, seen.text
        stolen = await http.get(lily_links["original"], headers=outsider.auth)
        assert stolen.status_code == 403, stolen.text
        assert stolen.json()["code"] == "link_invalid"
        upload = await files.upload(http, outsider, care, "notes.txt", b"hello")
        assert upload.status_code == 404, upload.text


async def test_a_link_works_only_for_its_person_and_only_unaltered(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    attachment_id = await _shared_photo(http, world, care)
    lily, grace = world["lily"], world["grace"]
    links = (await http.get(f"/api/v1/attachments/{attachment_id}", headers=lily.auth)).json()[
        "links"
    ]
    url = links["original"]
    assert (await http.get(url, headers=lily.auth)).status_code == 200
    # Without signing in, or signed in as someone else (even a participant): nothing.
    anonymous = await http.get(url)
    assert anonymous.status_code == 401, anonymous.text
    borrowed = await http.get(url, headers=grace.auth)
    assert borrowed.status_code == 403, borrowed.text
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    sig = query["sig"]
    altered = {
        "signature": f"{parts.path}?exp={query['exp']}&sig={sig[:-1]}{'A' if sig[-1] != 'A' else 'B'}",
        "expiry": f"{parts.path}?exp={int(query['exp']) + 3600}&sig={sig}",
        "variant": f"{parts.path.replace('/original', '/preview')}?{parts.query}",
        "file": f"{parts.path.replace(attachment_id, str(uuid.uuid4()))}?{parts.query}",
    }
    for what, bad in altered.items():
        response = await http.get(bad, headers=lily.auth)
        assert response.status_code == 403, (what, response.text)
        assert response.json()["code"] == "link_invalid", what
        assert response.content != files.photo_with_gps()


async def test_an_expired_link_gets_nothing(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    attachment_id = await _shared_photo(http, world, care)
    lily = world["lily"]
    expired = make_link(
        uuid.UUID(attachment_id),
        VariantName.ORIGINAL,
        account_id=lily.account_id,
        tenant_id=lily.tenant_id,
        ttl_seconds=300,
        now=clock.now() - dt.timedelta(minutes=6),
    )
    response = await http.get(expired.url, headers=lily.auth)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "link_expired"


async def test_a_removed_participant_gets_nothing_more(
    http: httpx.AsyncClient, world: World
) -> None:
    sam, jo = world["sam"], world["jo"]
    team = await http.post(
        "/api/v1/conversations",
        json={"kind": "team", "member_ids": [str(jo.account_id)], "title": "Case review"},
        headers=sam.auth,
    )
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    attachment_id = await _shared_photo(http, world, team_id)
    links = (await http.get(f"/api/v1/attachments/{attachment_id}", headers=jo.auth)).json()[
        "links"
    ]
    assert (await http.get(links["thumb"], headers=jo.auth)).status_code == 200
    removed = await http.delete(
        f"/api/v1/conversations/{team_id}/participants/{jo.account_id}", headers=sam.auth
    )
    assert removed.status_code in (200, 204), removed.text
    for url in links.values():
        response = await http.get(url, headers=jo.auth)
        assert response.status_code == 404, response.text
    seen = await http.get(f"/api/v1/attachments/{attachment_id}", headers=jo.auth)
    assert seen.status_code == 404, seen.text


async def test_a_deleted_message_takes_its_files_with_it(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    sam, lily = world["sam"], world["lily"]
    attachment_id = await _shared_photo(http, world, care)
    links = (await http.get(f"/api/v1/attachments/{attachment_id}", headers=lily.auth)).json()[
        "links"
    ]
    history = await http.get(f"/api/v1/conversations/{care}/messages", headers=lily.auth)
    (message,) = [m for m in history.json()["items"] if m["attachments"]]
    assert (
        await http.delete(f"/api/v1/messages/{message['id']}", headers=sam.auth)
    ).status_code == 200
    for who in (sam, lily):
        seen = await http.get(f"/api/v1/attachments/{attachment_id}", headers=who.auth)
        assert seen.status_code == 404, seen.text
    assert (await http.get(links["original"], headers=lily.auth)).status_code == 404
    history = await http.get(f"/api/v1/conversations/{care}/messages", headers=lily.auth)
    assert all(m["attachments"] == [] for m in history.json()["items"])


async def test_files_are_sent_only_by_their_uploader_once(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    sam, lily = world["sam"], world["lily"]
    uploaded = await files.upload(http, lily, care, "diary.txt", b"Monday: better\n")
    attachment_id = uploaded.json()["id"]
    await files.wait_state(http, lily, attachment_id)
    stolen = await files.send_with(http, sam, care, [attachment_id])
    assert stolen.status_code == 422, stolen.text
    assert stolen.json()["code"] == "bad_attachment"
    assert (await files.send_with(http, lily, care, [attachment_id])).status_code == 201
    again = await files.send_with(http, lily, care, [attachment_id])
    assert again.status_code == 422, again.text
    withdrawn = await http.delete(f"/api/v1/attachments/{attachment_id}", headers=lily.auth)
    assert withdrawn.status_code == 409, withdrawn.text
    assert withdrawn.json()["code"] == "attached"
