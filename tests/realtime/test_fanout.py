"""The bus only wakes sockets: events published out of order, or arriving without their
frame (as from another node), still reach each socket once, in seq order, rendered from
PostgreSQL exactly as the committing node would have."""

from __future__ import annotations

import uuid

import httpx

from careline.db import tx as db_tx
from careline.kit.events import Event
from careline.messages import service as message_service
from careline.messages.events import MESSAGE_SENT
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect


async def commit_unpublished(world: World, conversation_id: str, texts: list[str]) -> list[Event]:
    """Commit sends as sam, keeping their message.sent events instead of publishing them
    (the rest, such as the recipients' notification.updated, are not published either)."""
    captured: list[Event] = []
    original = db_tx._state.publish

    async def capture(events: list[Event]) -> None:
        captured.extend(e for e in events if e.type == MESSAGE_SENT)

    db_tx._state.publish = capture
    try:
        for text in texts:
            async with db_tx.transaction(world["sam"].actor) as tx:
                await message_service.do_send_message(
                    tx, uuid.UUID(conversation_id), client_msg_id=uuid.uuid4().hex, text=text
                )
    finally:
        db_tx._state.publish = original
    return captured


def hub(server: RunningServer):  # type: ignore[no-untyped-def]
    return server.server.config.app.state.hub  # type: ignore[attr-defined]


async def test_events_published_out_of_order_arrive_in_order_once(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    async with connect(server.ws_url, world["lily"].token) as lily:
        await lily.request("resume", conversations={conversation_id: 1})
        first, second, third = await commit_unpublished(
            world, conversation_id, ["one", "two", "three"]
        )
        await hub(server).deliver([third])  # the newest first: a gap of two
        await hub(server).deliver([first, second])  # late, already sent by the catch-up
        got = [await lily.next_event("message.sent") for _ in range(3)]
        assert [g["message"]["text"] for g in got] == ["one", "two", "three"]
        assert [g["seq"] for g in got] == [2, 3, 4]
        await lily.assert_no_event("message.sent", within=0.3)


async def test_an_event_without_its_frame_is_rendered_the_same_from_the_database(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    async with connect(server.ws_url, world["lily"].token) as lily:
        [event] = await commit_unpublished(world, conversation_id, ["rendered twice"])
        assert event.frame is not None
        await hub(server).deliver([event])
        live = await lily.next_event("message.sent")
        # What travels between nodes: ids and numbers only, no text, no frame.
        assert "rendered twice" not in str(event.to_bus())
        remote = Event.from_bus(event.to_bus())
        assert remote.frame is None
        async with connect(server.ws_url, world["grace"].token) as grace:
            await hub(server).deliver([remote])
            assert (await grace.next_event("message.sent")) == live
        await lily.assert_no_event("message.sent", within=0.2)  # lily had it already
