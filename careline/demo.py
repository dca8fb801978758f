"""A ready demo organisation: an admin, three staff, six clients, two guardians, care
teams, conversations with some history, and one invitation still waiting for an answer.
Safe to run again: it only adds what is missing, and always prints the logins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from careline.care import service as care_service
from careline.conversations import service as conversation_service
from careline.conversations.records import Kind
from careline.db.tx import Actor, Role, transaction
from careline.invitations import service as invitation_service
from careline.messages import service as message_service
from careline.monitoring import service as monitor_service
from careline.tenants import service as tenant_service

SLUG = "riverside"
NAME = "Riverside Therapy"
PASSWORD = "careline-demo"  # noqa: S105 - a demo: printed on the console, never for real data


@dataclass(frozen=True, slots=True)
class Persona:
    key: str
    name: str
    email: str
    role: Role


PEOPLE = [
    Persona("admin", "Alex Morgan", "admin@riverside.demo", Role.ADMIN),
    Persona("sam", "Dr Sam Patel", "sam@riverside.demo", Role.STAFF),
    Persona("jo", "Jo Lindqvist", "jo@riverside.demo", Role.STAFF),
    Persona("amira", "Amira Haddad", "amira@riverside.demo", Role.STAFF),
    Persona("lily", "Lily Chen", "lily@riverside.demo", Role.CLIENT),
    Persona("tom", "Tom Okafor", "tom@riverside.demo", Role.CLIENT),
    Persona("noa", "Noa Levi", "noa@riverside.demo", Role.CLIENT),
    Persona("yusuf", "Yusuf Demir", "yusuf@riverside.demo", Role.CLIENT),
    Persona("maria", "Maria Santos", "maria@riverside.demo", Role.CLIENT),
    Persona("ben", "Ben Walsh", "ben@riverside.demo", Role.CLIENT),
    Persona("grace", "Grace Chen", "grace@riverside.demo", Role.GUARDIAN),
    Persona("david", "David Okafor", "david@riverside.demo", Role.GUARDIAN),
]

CARE_TEAMS = {
    "lily": ["sam", "jo"],
    "tom": ["sam"],
    "noa": ["amira"],
    "yusuf": ["jo"],
    "maria": ["amira"],
}
GUARDIANS = {"grace": "lily", "david": "tom"}
HISTORY = [
    (
        "sam",
        "lily",
        [
            (
                "sam",
                "Hi Lily, it was good to see you on Tuesday. How did the breathing exercise go?",
            ),
            ("lily", "Better than I expected! I did it twice before school."),
            ("grace", "She has been practising every evening too."),
            ("sam", "That's great to hear. Let's build on it next week."),
        ],
    ),
    (
        "amira",
        "noa",
        [
            ("amira", "Hello Noa, a reminder that our session moves to Thursday at 4pm."),
            ("noa", "תודה! Thursday works for me."),
        ],
    ),
    (
        "jo",
        "yusuf",
        [
            ("jo", "Hi Yusuf, I've put the worksheet we talked about in your folder."),
        ],
    ),
]


async def ensure_demo() -> list[tuple[Persona, str]]:
    """Create what is missing; returns (persona, password) for each login."""
    async with transaction(Actor.system()) as tx:
        tenant = await tenant_service.get_tenant_by_slug(tx, SLUG)
        if tenant is None:
            tenant = await tenant_service.do_create_tenant(tx, slug=SLUG, name=NAME)
    ids: dict[str, uuid.UUID] = {}
    async with transaction(Actor.system(tenant.id)) as tx:
        seeded = await tenant_service.get_login_identity(tx, PEOPLE[0].email) is not None
    if seeded:
        await _operator()
        return [(p, PASSWORD) for p in PEOPLE]
    async with transaction(Actor.system(tenant.id)) as tx:
        for p in PEOPLE:
            member, _ = await tenant_service.do_add_member(
                tx,
                tenant_id=tenant.id,
                email=p.email,
                display_name=p.name,
                role=p.role,
                password=PASSWORD,
            )
            ids[p.key] = member.account_id
        for client, team in CARE_TEAMS.items():
            for i, staff in enumerate(team):
                await care_service.do_set_relationship(
                    tx,
                    client_id=ids[client],
                    staff_id=ids[staff],
                    primary=i == 0 and client != "lily",
                )
        for guardian, client in GUARDIANS.items():
            await care_service.do_link_guardian(
                tx, guardian_id=ids[guardian], client_id=ids[client]
            )

    def actor(key: str) -> Actor:
        role = next(p.role for p in PEOPLE if p.key == key)
        return Actor(ids[key], tenant.id, role)

    for n, (staff, client, script) in enumerate(HISTORY):
        async with transaction(actor(staff)) as tx:
            conversation, _ = await conversation_service.do_open_conversation(
                tx, conversation_service.OpenRequest(kind=Kind.CARE, client_id=ids[client])
            )
        for i, (who, text) in enumerate(script):
            async with transaction(actor(who)) as tx:
                await message_service.do_send_message(
                    tx, conversation.id, client_msg_id=f"demo-{n}-{i}", text=text
                )
    async with transaction(actor("sam")) as tx:
        team_room, _ = await conversation_service.do_open_conversation(
            tx,
            conversation_service.OpenRequest(
                kind=Kind.TEAM,
                member_ids=(ids["jo"], ids["amira"]),
                title="Lily: care team",
                client_id=ids["lily"],
            ),
        )
        await message_service.do_send_message(
            tx,
            team_room.id,
            client_msg_id="demo-team-0",
            text="Lily is making progress with the breathing work; "
            "Jo, can you reinforce it on Friday?",
        )
    async with transaction(actor("admin")) as tx:
        # Unread escalation on, as a clinic would run it: a client's message no clinician
        # of the conversation read in 4 working hours is told to the rest of the care
        # team, after 8 to the admins (docs/notifications.md).
        await tenant_service.do_update_escalation_settings(tx, {"hours": 4.0, "admin_hours": 8.0})
        # Pending: the admin's People page shows it apart from the members.
        await invitation_service.do_invite(
            tx,
            email="priya@riverside.demo",
            display_name="Priya Nair",
            role=Role.STAFF,
            by_mail=False,
        )
    await _operator()
    return [(p, PASSWORD) for p in PEOPLE]


async def _operator() -> None:
    """The demo's admin is also an operator: the dashboard's instance view to try."""
    async with transaction(Actor.system()) as tx:
        await monitor_service.do_set_operator(tx, PEOPLE[0].email, operator=True)
