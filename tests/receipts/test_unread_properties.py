"""Unread counts are kept as counters (docs/architecture.md, "Receipts and unread
counts"); after any history of sends, edits, deletions, reactions, receipts and people
leaving and coming back, every participant's count equals a fresh count(*) of the rows.
A send also reads: the sender's watermarks move to their message."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.conversations import service as conversation_service
from careline.db.tx import transaction
from careline.messages import service as message_service
from careline.messages.sending import send_message
from careline.receipts import service as receipt_service
from tests.receipts.unread_support import assert_exact, fresh_counts, open_team
from tests.support.world import World

PEOPLE = ("sam", "jo", "admin")  # sam opened the team conversation and stays in it

who = st.sampled_from(PEOPLE)
# Where a receipt points: some way ahead of the person's own watermark (a step or a
# jump, capped at the end), or some way back from the end (0: the end; behind the
# watermark: no move), or past the end (capped).
offset = st.tuples(st.sampled_from(["ahead", "ahead", "from_end"]), st.integers(-2, 12))
step = st.one_of(
    st.tuples(st.just("send"), who),
    st.tuples(st.just("send"), who),
    # The k-th message still shown, changed by its sender (a reaction: by `who`).
    st.tuples(st.sampled_from(["edit", "redact", "redact", "react"]), who, st.integers(0, 50)),
    st.tuples(st.sampled_from(["read", "delivered"]), who, offset),
    st.tuples(st.just("read"), who, offset),
    st.tuples(st.sampled_from(["remove", "add"]), st.sampled_from(PEOPLE[1:])),
)


@dataclass
class History:
    world: World
    conversation_id: uuid.UUID
    members: set[str] = field(default_factory=lambda: set(PEOPLE))
    sent: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    redacted: set[uuid.UUID] = field(default_factory=set)
    n: int = 0

    def pick(self, k: int) -> tuple[str, uuid.UUID] | None:
        live = [
            (person, m)
            for person in sorted(self.members)
            for m in self.sent.get(person, [])
            if m not in self.redacted
        ]
        return live[k % len(live)] if live else None

    async def run(self, action: tuple[object, ...]) -> None:
        kind, person = str(action[0]), str(action[1])
        if person not in self.members and kind != "add":
            return
        actor = self.world[person].actor
        if kind == "send":
            self.n += 1
            message, _ = await send_message(
                actor, self.conversation_id, client_msg_id=f"m{self.n}", text=f"text {self.n}"
            )
            self.sent.setdefault(person, []).append(message.id)
            # Sending is reading: the sender's watermarks reach their message.
            async with transaction(actor, readonly=True) as tx:
                _, me = await conversation_service.access_conversation(tx, self.conversation_id)
            assert (me.read_seq, me.delivered_seq) == (message.seq, message.seq)
        elif kind in ("edit", "redact", "react"):
            await self.change(kind, person, int(str(action[2])))
        elif kind in ("read", "delivered"):
            where, k = action[2]  # type: ignore[misc]
            await self.receipt(kind, person, str(where), int(k))
        elif kind == "remove":
            async with transaction(self.world["sam"].actor) as tx:
                await conversation_service.do_remove_participant(
                    tx, self.conversation_id, self.world[person].account_id
                )
            self.members.discard(person)
        elif person not in self.members:  # add
            async with transaction(self.world["sam"].actor) as tx:
                await conversation_service.do_add_participant(
                    tx, self.conversation_id, self.world[person].account_id
                )
            self.members.add(person)

    async def change(self, kind: str, reactor: str, k: int) -> None:
        picked = self.pick(k)
        if picked is None:
            return
        sender, message_id = picked
        person = reactor if kind == "react" else sender
        async with transaction(self.world[person].actor) as tx:
            if kind == "edit":
                self.n += 1
                await message_service.do_edit_message(tx, message_id, text=f"edit {self.n}")
            elif kind == "redact":
                await message_service.do_redact_message(tx, message_id)
                self.redacted.add(message_id)
            else:
                await message_service.do_react(tx, message_id, emoji="👍", add=True)

    async def receipt(self, kind: str, person: str, where: str, k: int) -> None:
        async with transaction(self.world[person].actor, readonly=True) as tx:
            conversation, me = await conversation_service.access_conversation(
                tx, self.conversation_id
            )
        mark = me.read_seq if kind == "read" else me.delivered_seq
        target = max(0, mark + k if where == "ahead" else conversation.last_seq - k)
        async with transaction(self.world[person].actor) as tx:
            receipt = await receipt_service.do_update_receipt(
                tx,
                self.conversation_id,
                read_seq=target if kind == "read" else None,
                delivered_seq=target if kind == "delivered" else None,
            )
        # The count a receipt answers with is exact too.
        fresh = await fresh_counts(self.world, self.conversation_id)
        assert receipt.unread == fresh[self.world[person].account_id]


@pytest.mark.usefixtures("many_receipts")
@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=8, max_size=30))
async def test_unread_counts_equal_a_fresh_count_after_any_history(
    world: World, steps: list[tuple[object, ...]]
) -> None:
    history = History(world, await open_team(world, "jo", "admin"))
    for action in steps:
        await history.run(action)
        await assert_exact(world, history.conversation_id, [world[p] for p in PEOPLE])
