"""Accounts, sessions and conversations for a scenario, made through careline's own
services against the running server's database (the same data directory, its socket).

Seeding is not measured. Its accounts are hashed with small argon2id parameters so two
thousand of them take seconds, not minutes; the server never hashes them again, because
sessions are opened here, by the same service the sign-in endpoint calls.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from careline import config
from careline.app import load_keyring
from careline.auth import service as auth_service
from careline.conversations import service as conversation_service
from careline.conversations.records import Kind
from careline.db import tx
from careline.db.database import Database
from careline.db.tx import Actor, Role, transaction
from careline.keys import service as key_service
from careline.messages import service as message_service
from careline.tenants import service as tenant_service

PASSWORD = "careline-bench-password"  # noqa: S105 - throwaway accounts in a temp directory
_CONCURRENCY = 8

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Person:
    index: int
    account_id: uuid.UUID
    role: Role
    token: str


@dataclass(slots=True)
class World:
    tenant_id: uuid.UUID
    people: list[Person]
    # conversation id -> indexes of its members, and its last seq
    members: dict[str, list[int]] = field(default_factory=dict)
    last_seq: dict[str, int] = field(default_factory=dict)
    slug: str = ""  # the organisation's, for signing in over HTTP

    def email(self, index: int) -> str:
        return self.email_of(self.slug, index)

    @staticmethod
    def email_of(slug: str, index: int) -> str:
        return f"p{index}@{slug}.bench"

    def conversations_of(self, index: int) -> dict[str, int]:
        return {c: self.last_seq[c] for c, m in self.members.items() if index in m}

    def client_specs(self) -> list[tuple[int, str, dict[str, int]]]:
        by_person: dict[int, dict[str, int]] = {p.index: {} for p in self.people}
        for conversation_id, members in self.members.items():
            for index in members:
                by_person[index][conversation_id] = self.last_seq[conversation_id]
        return [(p.index, p.token, by_person[p.index]) for p in self.people]


async def _bounded(jobs: Iterable[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(run(j) for j in jobs)))


class Seeder:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.settings = config.Settings(
            data_dir=data_dir,
            port=port,
            password_time_cost=1,
            password_memory_kib=1024,
            # Seeding signs thousands of people in from one address (up to --clients),
            # more than an address's sign-in budget allows a shared computer or NAT.
            login_address_burst=1_000_000,
            log_level="warning",
        )
        self.database = Database(self.settings)

    async def __aenter__(self) -> Seeder:
        config.use(self.settings)
        key_service.configure(load_keyring(self.settings))
        # The server started PostgreSQL; this attaches to it and leaves it running.
        pool = await self.database.start()
        tx.configure(pool, None)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tx.configure(None, None)
        await self.database.stop()

    async def people(self, roles: list[Role]) -> World:
        """A new organisation with one signed-in person per role given."""
        world = await add_people(roles, [f"Bench person {i}" for i in range(len(roles))])
        people = await _bounded(
            [functools.partial(sign_in, world, i) for i in range(len(roles))], _CONCURRENCY
        )
        return World(world.tenant_id, people, slug=world.slug)

    def _actor(self, world: World, index: int) -> Actor:
        person = world.people[index]
        return Actor(person.account_id, world.tenant_id, person.role)

    async def teams(self, world: World, groups: list[list[int]]) -> None:
        """One team conversation per group of staff, opened by its first member."""

        async def open_one(group: list[int]) -> None:
            async with transaction(self._actor(world, group[0])) as t:
                conversation, _ = await conversation_service.do_open_conversation(
                    t,
                    conversation_service.OpenRequest(
                        kind=Kind.TEAM,
                        member_ids=tuple(world.people[i].account_id for i in group[1:]),
                        title="bench team",
                    ),
                )
            world.members[str(conversation.id)] = list(group)
            world.last_seq[str(conversation.id)] = conversation.last_seq

        await _bounded([functools.partial(open_one, g) for g in groups], _CONCURRENCY)

    async def care(self, world: World, pairs: list[tuple[int, int]]) -> None:
        """One care conversation per (staff, client) pair, opened by the staff member."""

        async def open_one(staff: int, client: int) -> None:
            async with transaction(self._actor(world, staff)) as t:
                conversation, _ = await conversation_service.do_open_conversation(
                    t,
                    conversation_service.OpenRequest(
                        kind=Kind.CARE, client_id=world.people[client].account_id
                    ),
                )
            world.members[str(conversation.id)] = [staff, client]
            world.last_seq[str(conversation.id)] = conversation.last_seq

        await _bounded([functools.partial(open_one, s, c) for s, c in pairs], _CONCURRENCY)

    async def backlog(self, world: World, per_conversation: int) -> None:
        """Messages sent while everyone is away: what a resume has to replay."""

        async def send(conversation_id: str, members: list[int]) -> None:
            for n in range(per_conversation):
                async with transaction(self._actor(world, members[n % len(members)])) as t:
                    message = await message_service.do_send_message(
                        t,
                        uuid.UUID(conversation_id),
                        client_msg_id=f"away-{n}",
                        text="Sent while you were away: please call the clinic back.",
                    )
                world.last_seq[conversation_id] = message.seq

        await _bounded(
            [functools.partial(send, c, m) for c, m in world.members.items()], _CONCURRENCY
        )


async def add_people(
    roles: list[Role],
    names: list[str],
    *,
    slug_prefix: str = "bench",
    organisation: str = "careline bench",
) -> World:
    """A new organisation with these people, through careline's own service; nobody is
    signed in yet (`sign_in` the ones a scenario acts as)."""
    slug = f"{slug_prefix}-{uuid.uuid4().hex[:12]}"
    async with transaction(Actor.system()) as t:
        tenant = await tenant_service.do_create_tenant(t, slug=slug, name=organisation)

    async def add(batch: list[int]) -> list[uuid.UUID]:
        ids = []
        async with transaction(Actor.system(tenant.id)) as t:
            for i in batch:
                member, _ = await tenant_service.do_add_member(
                    t,
                    tenant_id=tenant.id,
                    email=World.email_of(slug, i),
                    display_name=names[i],
                    role=roles[i],
                    password=PASSWORD,
                )
                ids.append(member.account_id)
        return ids

    batches = [list(range(i, min(i + 100, len(roles)))) for i in range(0, len(roles), 100)]
    added = await _bounded([functools.partial(add, b) for b in batches], 4)
    ids = [a for batch in added for a in batch]
    return World(tenant.id, [Person(i, ids[i], roles[i], "") for i in range(len(roles))], slug=slug)


async def sign_in(world: World, index: int) -> Person:
    """Person `index` of `world`, signed in through the service the endpoint calls."""
    signed = await auth_service.do_sign_in(
        auth_service.Credentials(
            email=world.email(index),
            password=PASSWORD,
            tenant_slug=world.slug,
            address="127.0.0.1",
            user_agent="careline-bench",
            device_cookie=None,
        )
    )
    person = world.people[index]
    return Person(index, person.account_id, person.role, signed.token)
