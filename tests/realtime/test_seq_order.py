"""The hub's fan-out puts each conversation's events back in seq order: publishers may
resume out of order after their commits, and a socket that saw a gap would have to
fetch it from PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any

from careline.kit.events import Event
from careline.realtime.fanout import REORDER_WAIT_SECONDS, SeqOrder

TENANT = uuid.uuid4()


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[uuid.UUID, int]] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def deliver(self, event: Event, conversation_id: uuid.UUID, seq: int) -> None:
        self.sent.append((conversation_id, seq))

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(coro))


def event(conversation_id: uuid.UUID, seq: int) -> Event:
    return Event(type="message.sent", tenant_id=TENANT, conversation_id=conversation_id, seq=seq)


async def put(order: SeqOrder, conversation_id: uuid.UUID, *seqs: int) -> None:
    for seq in seqs:
        await order.put(event(conversation_id, seq), conversation_id, seq)


async def test_a_later_event_waits_for_the_earlier_one() -> None:
    recorder, c = Recorder(), uuid.uuid4()
    order = SeqOrder(recorder.deliver, recorder.spawn)
    await put(order, c, 1, 3, 4, 2, 5)
    assert recorder.sent == [(c, 1), (c, 2), (c, 3), (c, 4), (c, 5)]
    order.close()


async def test_conversations_are_ordered_independently() -> None:
    recorder, a, b = Recorder(), uuid.uuid4(), uuid.uuid4()
    order = SeqOrder(recorder.deliver, recorder.spawn)
    await put(order, a, 7)
    await put(order, b, 2)
    await put(order, a, 9)
    await put(order, b, 3)
    await put(order, a, 8)
    assert recorder.sent == [(a, 7), (b, 2), (b, 3), (a, 8), (a, 9)]
    order.close()


async def test_a_gap_that_never_fills_is_sent_through_after_the_wait() -> None:
    recorder, c = Recorder(), uuid.uuid4()
    order = SeqOrder(recorder.deliver, recorder.spawn)
    await put(order, c, 1, 4, 3)
    assert recorder.sent == [(c, 1)]
    await asyncio.sleep(REORDER_WAIT_SECONDS * 3)
    await asyncio.gather(*recorder.tasks)
    assert recorder.sent == [(c, 1), (c, 3), (c, 4)]
    await put(order, c, 5)
    assert recorder.sent[-1] == (c, 5)
    order.close()


async def test_old_and_repeated_events_pass_straight_through() -> None:
    recorder, c = Recorder(), uuid.uuid4()
    order = SeqOrder(recorder.deliver, recorder.spawn)
    await put(order, c, 5, 6, 6, 2)
    assert recorder.sent == [(c, 5), (c, 6), (c, 6), (c, 2)]
    order.close()


async def test_a_forgotten_conversation_starts_over_from_its_next_event() -> None:
    recorder, c = Recorder(), uuid.uuid4()
    order = SeqOrder(recorder.deliver, recorder.spawn)
    await put(order, c, 1)
    order.forget(c)
    await put(order, c, 10)
    assert recorder.sent == [(c, 1), (c, 10)]
    order.close()
