"""Named personas in a fresh organisation per test, so access matrices read like prose:
an admin, two clinicians, two clients and a guardian (for lily)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx

from careline.care import service as care_service
from careline.db.tx import Actor, Role, transaction
from careline.tenants import service as tenant_service

PASSWORD = "correct horse battery staple"

PERSONAS: list[tuple[str, str, Role]] = [
    ("admin", "Alex Admin", Role.ADMIN),
    ("sam", "Sam Clinician", Role.STAFF),
    ("jo", "Jo Clinician", Role.STAFF),
    ("lily", "Lily Client", Role.CLIENT),
    ("tom", "Tom Client", Role.CLIENT),
    ("grace", "Grace Guardian", Role.GUARDIAN),
]


@dataclass
class Persona:
    key: str
    name: str
    role: Role
    email: str
    account_id: uuid.UUID
    tenant_id: uuid.UUID
    token: str = ""

    @property
    def actor(self) -> Actor:
        return Actor(self.account_id, self.tenant_id, self.role)

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


@dataclass
class World:
    tenant_id: uuid.UUID
    slug: str
    people: dict[str, Persona] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Persona:
        return self.people[key]


async def sign_in(base_url: str, email: str, password: str = PASSWORD) -> str:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            "/api/v1/auth/token", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token


async def make_world(base_url: str, *, sign_in_all: bool = True) -> World:
    slug = f"t-{uuid.uuid4().hex[:12]}"
    async with transaction(Actor.system()) as tx:
        tenant = await tenant_service.do_create_tenant(tx, slug=slug, name=f"Org {slug}")
    world = World(tenant.id, slug)
    async with transaction(Actor.system(tenant.id)) as tx:
        for key, name, role in PERSONAS:
            email = f"{key}@{slug}.test"
            member, _ = await tenant_service.do_add_member(
                tx,
                tenant_id=tenant.id,
                email=email,
                display_name=name,
                role=role,
                password=PASSWORD,
            )
            world.people[key] = Persona(key, name, role, email, member.account_id, tenant.id)
        await care_service.do_set_relationship(
            tx, client_id=world["lily"].account_id, staff_id=world["sam"].account_id, primary=True
        )
        await care_service.do_set_relationship(
            tx, client_id=world["tom"].account_id, staff_id=world["jo"].account_id, primary=False
        )
        await care_service.do_link_guardian(
            tx, guardian_id=world["grace"].account_id, client_id=world["lily"].account_id
        )
    if sign_in_all:
        for persona in world.people.values():
            persona.token = await sign_in(base_url, persona.email)
    return world


async def join_by_invitation(
    base_url: str, admin: Persona, person: Persona, *, name: str, role: Role, slug: str
) -> Persona:
    """`person` (who has an account elsewhere) invited by `admin` and accepting through
    the link with their own password: the same account, a second membership."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        invited = await client.post(
            "/api/v1/admin/members",
            json={"email": person.email, "display_name": name, "role": role.value},
            headers=admin.auth,
        )
        assert invited.status_code == 201, invited.text
        token = invited.json()["link"].partition("#")[2]
        accepted = await client.post(
            "/api/v1/invitations/accept", json={"token": token, "password": PASSWORD}
        )
        assert accepted.status_code == 200, accepted.text
        signed = await client.post(
            "/api/v1/auth/token",
            json={"email": person.email, "password": PASSWORD, "tenant": slug},
        )
        assert signed.status_code == 200, signed.text
    joined = Persona(person.key, name, role, person.email, person.account_id, admin.tenant_id)
    joined.token = signed.json()["token"]
    return joined
