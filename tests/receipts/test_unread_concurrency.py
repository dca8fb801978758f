"""Unread counters stay exact when sends, deletions and receipts run at the same time,
including a receipt that waits for a row another transaction changed under it."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest

from careline.conversations import service as conversation_service
from careline.db import tx as db_tx
from careline.db.tx import transaction
from careline.messages import service as message_service
from careline.messages.sending import send_message
from careline.receipts import service as receipt_service
from careline.receipts.service import Receipt
from tests.receipts.unread_support import assert_exact, fresh_counts, open_team
from tests.support.world import Persona, World

pytestmark = pytest.mark.usefixtures("many_receipts")


async def last_seq(person: Persona, conversation_id: uuid.UUID) -> int:
    async with transaction(person.actor, readonly=True) as tx:
        return (await conversation_service.last_seqs(tx, [conversation_id]))[conversation_id]


async def read_to(person: Persona, conversation_id: uuid.UUID, seq: int) -> Receipt:
    async with transaction(person.actor) as tx:
        return await receipt_service.do_update_receipt(tx, conversation_id, read_seq=seq)


async def test_concurrent_sends_deletions_and_receipts_leave_exact_counts(world: World) -> None:
    conversation_id = await open_team(world, "jo", "admin")

    async def sender(key: str, n: int) -> None:
        sent: list[uuid.UUID] = []
        for i in range(n):
            message, _ = await send_message(
                world[key].actor, conversation_id, client_msg_id=f"{key}-{i}", text=f"{i}"
            )
            sent.append(message.id)
            if i % 5 == 4:  # delete one a little way back
                async with transaction(world[key].actor) as tx:
                    await message_service.do_redact_message(tx, sent[-3])

    async def reader(key: str, rounds: int) -> None:
        rng = random.Random(key)
        for _ in range(rounds):
            last = await last_seq(world[key], conversation_id)
            target = rng.choice([last, last - 1, last // 2, rng.randint(0, last), last + 5])
            if rng.random() < 0.2:
                async with transaction(world[key].actor) as tx:
                    await receipt_service.do_update_receipt(
                        tx, conversation_id, delivered_seq=target
                    )
            else:
                await read_to(world[key], conversation_id, target)

    await asyncio.gather(
        sender("sam", 40),
        sender("jo", 40),
        reader("sam", 50),
        reader("jo", 50),
        reader("admin", 60),
    )
    await assert_exact(world, conversation_id, [world["sam"], world["jo"], world["admin"]])


async def wait_for_a_lock_wait() -> None:
    """Until some statement of this database waits for a row lock (bounded)."""
    for _ in range(200):
        waiting = await db_tx.fetch_value(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the receipt never waited for the row lock")


@pytest.mark.parametrize("change", ["a deletion above the new watermark", "an own send"])
async def test_a_receipt_that_waited_for_its_row_counts_what_changed_meanwhile(
    world: World, change: str
) -> None:
    """The receipt's statement reads messages as they were when it began; the row it
    then waits for was changed by a transaction that commits meanwhile (the deletion of
    a message jo has not read, or jo's own send from another device, which reads
    everything up to it)."""
    conversation_id = await open_team(world, "jo")
    sent = [
        (await send_message(world["sam"].actor, conversation_id, client_msg_id=f"s{i}", text="x"))[
            0
        ]
        for i in range(3)
    ]
    jo = world["jo"]

    async with transaction(
        world["sam"].actor if change.startswith("a deletion") else jo.actor
    ) as tx:
        if change.startswith("a deletion"):
            await message_service.do_redact_message(tx, sent[2].id)  # locks jo's row
        else:
            own = await message_service.do_send_message(
                tx, conversation_id, client_msg_id="jo-phone", text="from my phone"
            )  # locks jo's row (sending reads: the watermark moves to it)
        receipt = asyncio.create_task(read_to(jo, conversation_id, sent[1].seq))
        await wait_for_a_lock_wait()
    got = await receipt

    fresh = await fresh_counts(world, conversation_id)
    # A watermark never goes back: after jo's send it is at jo's message.
    assert got.read_seq == (sent[1].seq if change.startswith("a deletion") else own.seq)
    assert fresh[jo.account_id] == 0
    assert got.unread == fresh[jo.account_id]
    await assert_exact(world, conversation_id, [world["sam"], jo])
