"""The clinic's fast path (careline/bench/clinic_seed.py) leaves what real sends leave:
the same small world made both ways reads the same through the API, for every person
(conversation lists with unread counts and last-message previews, history pages whose
texts open, the timeline, single conversations, members, care teams, guardian links)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from careline.bench import clinic_seed
from careline.bench.clinic_seed import Conv, Rows
from careline.bench.seed import World, add_people, sign_in
from careline.care import service as care_service
from careline.conversations import service as conversation_service
from careline.conversations.records import Kind
from careline.db.tx import Actor, Role, transaction
from careline.messages import sending
from careline.receipts import service as receipt_service
from tests.keys.test_encryption import owner_dsn
from tests.support.server import RunningServer

ADMIN, SAM, JO, LILY, TOM, GRACE = range(6)
ROLES = [Role.ADMIN, Role.STAFF, Role.STAFF, Role.CLIENT, Role.CLIENT, Role.GUARDIAN]
NAMES = ["Alex Admin", "Sam Clinician", "Jo Clinician", "Lily Client", "Tom Client", "Grace"]


def rows() -> Rows:
    """Grace speaks for Lily; Sam has sent no receipt in Lily's conversation (his own
    messages read it up to them), Tom read to seq 2 of his and then wrote; a team
    conversation with no message at all."""
    return Rows(
        care=[(LILY, SAM, True), (LILY, JO, False), (TOM, JO, True)],
        links=[(GRACE, LILY)],
        conversations=[
            Conv(
                Kind.CARE,
                SAM,
                [(SAM, Role.STAFF), (LILY, Role.CLIENT), (GRACE, Role.GUARDIAN)],
                7,
                [SAM, LILY, LILY, GRACE],
                client=LILY,
                staff=SAM,
                readers={SAM: 0},
            ),
            Conv(
                Kind.CARE,
                JO,
                [(JO, Role.STAFF), (TOM, Role.CLIENT)],
                3,
                [JO, TOM],
                client=TOM,
                staff=JO,
                readers={TOM: 2},
            ),
            Conv(Kind.TEAM, SAM, [(SAM, Role.STAFF), (JO, Role.STAFF)], 4, [JO, SAM], title="t"),
            Conv(Kind.TEAM, JO, [(JO, Role.STAFF), (SAM, Role.STAFF)], 0, [JO], title="quiet"),
        ],
    )


def _actor(world: World, index: int) -> Actor:
    return Actor(world.people[index].account_id, world.tenant_id, ROLES[index])


async def _open(world: World, conv: Conv) -> uuid.UUID:
    ids = [world.people[i].account_id for i, _ in conv.members]
    request = (
        conversation_service.OpenRequest(Kind.CARE, client_id=ids[1])
        if conv.kind is Kind.CARE
        else conversation_service.OpenRequest(
            Kind.TEAM, member_ids=tuple(ids[1:]), title=conv.title
        )
    )
    async with transaction(_actor(world, conv.creator)) as tx:
        opened, _ = await conversation_service.do_open_conversation(tx, request)
    return opened.id


async def by_sends(plan: Rows) -> tuple[World, list[uuid.UUID]]:
    """The same world, through careline's services: links, opening, sends, receipts."""
    world = await add_people(ROLES, NAMES)
    async with transaction(_actor(world, ADMIN)) as tx:
        for client, staff, primary in plan.care:
            await care_service.do_set_relationship(
                tx,
                client_id=world.people[client].account_id,
                staff_id=world.people[staff].account_id,
                primary=primary,
            )
        for guardian, client in plan.links:
            await care_service.do_link_guardian(
                tx,
                guardian_id=world.people[guardian].account_id,
                client_id=world.people[client].account_id,
            )
    ids = [await _open(world, conv) for conv in plan.conversations]
    for n, (cid, conv) in enumerate(zip(ids, plan.conversations, strict=True)):
        for k in range(conv.messages):
            sender = conv.senders[k % len(conv.senders)]
            await sending.send_message(
                _actor(world, sender),
                cid,
                client_msg_id=f"seed-{k + 2}",
                text=clinic_seed.text_for(n, k),
            )
        for person, _ in conv.members:
            async with transaction(_actor(world, person)) as tx:
                await receipt_service.do_update_receipt(
                    tx,
                    cid,
                    delivered_seq=conv.last_seq,
                    read_seq=conv.readers.get(person, conv.last_seq),
                )
    return world, ids


class View:
    """What one person sees through the API, with ids replaced by positions."""

    def __init__(self, http: httpx.AsyncClient, world: World, ids: list[uuid.UUID]) -> None:
        self.http = http
        self.names = {str(p.account_id): f"person {p.index}" for p in world.people}
        self.names |= {str(c): f"conversation {n}" for n, c in enumerate(ids)}
        self.tokens: dict[int, str] = {}
        self.world = world

    def _plain(self, value: Any) -> Any:
        """People and conversations by position; other ids (messages') and times out;
        rows the API orders by id (participants) in the order of their positions."""
        if isinstance(value, dict):
            return {k: self._plain(v) for k, v in value.items() if k not in _VOLATILE}
        if isinstance(value, list):
            items = [self._plain(v) for v in value]
            if items and all(isinstance(i, dict) and "account_id" in i for i in items):
                items.sort(key=lambda i: str(i["account_id"]))
            return items
        if isinstance(value, str):
            return self.names.get(value, "<id>" if _is_uuid(value) else value)
        return value

    async def get(self, person: int, path: str) -> Any:
        if person not in self.tokens:
            self.tokens[person] = (await sign_in(self.world, person)).token
        r = await self.http.get(path, headers={"authorization": f"Bearer {self.tokens[person]}"})
        assert r.status_code == 200, (path, r.text)
        return self._plain(r.json())

    async def of(self, person: int, conversation_ids: list[uuid.UUID]) -> dict[str, Any]:
        listed = await self.get(person, "/api/v1/conversations")
        seen: dict[str, Any] = {"list": sorted(listed["items"], key=lambda i: i["id"])}
        for item in seen["list"]:
            cid = conversation_ids[int(item["id"].split()[1])]
            one = await self.get(person, f"/api/v1/conversations/{cid}")
            history: list[Any] = []
            before = ""
            while True:  # every page, two messages a page, newest first
                page = await self.get(
                    person, f"/api/v1/conversations/{cid}/messages?limit=2{before}"
                )
                history = page["items"] + history
                if not page["has_more"]:
                    break
                before = f"&before_seq={page['items'][0]['seq']}"
            events = await self.get(person, f"/api/v1/conversations/{cid}/events?after_seq=0")
            seen[self.names[str(cid)]] = {"one": one, "history": history, "events": events}
        seen["members"] = await self.get(person, "/api/v1/members")
        seen["care"] = sorted(await self.get(person, "/api/v1/care-relationships"), key=str)
        seen["links"] = await self.get(person, "/api/v1/guardian-links")
        return seen


# Times differ between any two worlds, and so do e-mails (they name the organisation).
_VOLATILE = {"created_at", "last_activity_at", "joined_at", "last_seen_at", "at", "email"}


def differences(got: Any, expected: Any, path: str = "") -> list[str]:
    """Where two API views differ, as paths (a readable failure)."""
    if isinstance(got, dict) and isinstance(expected, dict):
        return [
            d
            for k in sorted(set(got) | set(expected), key=str)
            for d in differences(got.get(k), expected.get(k), f"{path}.{k}")
        ]
    if isinstance(got, list) and isinstance(expected, list) and len(got) == len(expected):
        return [
            d
            for i, (g, e) in enumerate(zip(got, expected, strict=True))
            for d in differences(g, e, f"{path}[{i}]")
        ]
    return [] if got == expected else [f"{path}: {got!r} != {expected!r}"]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


async def test_the_fast_path_reads_as_real_sends_do(server: RunningServer) -> None:
    plan = rows()
    fast = await add_people(ROLES, NAMES)
    fast_ids = await clinic_seed.write(owner_dsn(server), fast, plan)
    sent, sent_ids = await by_sends(plan)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        fast_view, sent_view = View(http, fast, fast_ids), View(http, sent, sent_ids)
        for person in range(len(ROLES)):
            expected = await sent_view.of(person, sent_ids)
            got = await fast_view.of(person, fast_ids)
            assert differences(got, expected) == [], f"person {person}"
        # What the comparison rests on: texts opened, unread counts that are not all zero.
        sam = await fast_view.of(SAM, fast_ids)
        lily = sam["conversation 0"]
        assert [m["text"] for m in lily["history"]] == [
            clinic_seed.text_for(0, k) for k in range(7)
        ]
        # Sending is reading: Lily's two after Sam's last message (the fifth) are unread.
        assert lily["one"]["unread"] == 2
        tom = await fast_view.of(TOM, fast_ids)
        assert tom["conversation 1"]["one"]["unread"] == 1
