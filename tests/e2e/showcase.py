"""A lifelike organisation for screenshots and the accessibility checks: real names, a
care thread with a guardian, replies, reactions, an edit, receipts, a team room, and
messages in Hebrew and Arabic beside English ones. Built through the services, as
people would have built it by using careline."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from careline.care import service as care_service
from careline.conversations import service as conversation_service
from careline.conversations.records import Kind
from careline.db.tx import Actor, Role, transaction
from careline.messages import service as message_service
from careline.receipts import service as receipt_service
from careline.tenants import service as tenant_service
from tests.support.world import PASSWORD, Persona, World, sign_in

PEOPLE: list[tuple[str, str, Role]] = [
    ("admin", "Alex Morgan", Role.ADMIN),
    ("sam", "Dr Sam Patel", Role.STAFF),
    ("jo", "Jo Lindqvist", Role.STAFF),
    ("amira", "Amira Haddad", Role.STAFF),
    ("lily", "Lily Chen", Role.CLIENT),
    ("tom", "Tom Okafor", Role.CLIENT),
    ("noa", "Noa Levi", Role.CLIENT),
    ("yusuf", "Yusuf Demir", Role.CLIENT),
    ("maria", "Maria Santos", Role.CLIENT),
    ("grace", "Grace Chen", Role.GUARDIAN),
    ("david", "David Okafor", Role.GUARDIAN),
]

HEBREW = "תודה רבה! נתראה ביום חמישי בארבע."
ARABIC = "شكراً جزيلاً، سأكون هناك في الموعد."


@dataclass
class Showcase:
    world: World
    conversations: dict[str, uuid.UUID] = field(default_factory=dict)
    messages: dict[str, uuid.UUID] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Persona:
        return self.world[key]


async def make_showcase(base_url: str) -> Showcase:
    slug = f"riverside-{uuid.uuid4().hex[:8]}"
    async with transaction(Actor.system()) as tx:
        tenant = await tenant_service.do_create_tenant(tx, slug=slug, name="Riverside Therapy")
    show = Showcase(World(tenant.id, slug))
    async with transaction(Actor.system(tenant.id)) as tx:
        for key, name, role in PEOPLE:
            member, _ = await tenant_service.do_add_member(
                tx,
                tenant_id=tenant.id,
                email=f"{key}@{slug}.test",
                display_name=name,
                role=role,
                password=PASSWORD,
            )
            show.world.people[key] = Persona(
                key, name, role, f"{key}@{slug}.test", member.account_id, tenant.id
            )
        for client, staff, primary in [
            ("lily", "sam", True),
            ("lily", "jo", False),
            ("tom", "sam", True),
            ("noa", "sam", False),
            ("noa", "amira", True),
            ("yusuf", "sam", True),
            ("maria", "amira", True),
        ]:
            await care_service.do_set_relationship(
                tx,
                client_id=show[client].account_id,
                staff_id=show[staff].account_id,
                primary=primary,
            )
        for guardian, client in [("grace", "lily"), ("david", "tom")]:
            await care_service.do_link_guardian(
                tx, guardian_id=show[guardian].account_id, client_id=show[client].account_id
            )
    for persona in show.world.people.values():
        persona.token = await sign_in(base_url, persona.email)

    await _care(
        show,
        "tom",
        [
            ("david", "Tom has a cold, so we may need to move Monday."),
            ("sam", "No problem at all. I hope he feels better soon."),
        ],
    )
    await _read(show, "sam", show.conversations["tom"])
    await _team(show)
    await _care(
        show,
        "maria",
        [("sam", "Hi Maria, the referral letter is ready to collect.")],
        staff="sam",
        read=True,
    )
    await _care(
        show, "yusuf", [("sam", "Hi Yusuf, a reminder: Thursday at 10:30."), ("yusuf", ARABIC)]
    )
    await _care(
        show,
        "noa",
        [
            ("sam", "Hello Noa, our session moves to Thursday at 4pm."),
            ("noa", HEBREW),
            ("noa", "Thursday works for me."),
        ],
    )
    await _lily(show)
    return show


async def _send(
    show: Showcase,
    who: str,
    conversation_id: uuid.UUID,
    text: str,
    reply_to: uuid.UUID | None = None,
) -> uuid.UUID:
    async with transaction(show[who].actor) as tx:
        message = await message_service.do_send_message(
            tx, conversation_id, client_msg_id=uuid.uuid4().hex, text=text, reply_to_id=reply_to
        )
    return message.id


async def _read(show: Showcase, who: str, conversation_id: uuid.UUID) -> None:
    async with transaction(show[who].actor) as tx:
        last = (await conversation_service.last_seqs(tx, [conversation_id]))[conversation_id]
        await receipt_service.do_update_receipt(
            tx, conversation_id, delivered_seq=last, read_seq=last
        )


async def _open(show: Showcase, staff: str, client: str) -> uuid.UUID:
    async with transaction(show[staff].actor) as tx:
        conversation, _ = await conversation_service.do_open_conversation(
            tx,
            conversation_service.OpenRequest(kind=Kind.CARE, client_id=show[client].account_id),
        )
    show.conversations[client] = conversation.id
    return conversation.id


async def _care(
    show: Showcase,
    client: str,
    script: list[tuple[str, str]],
    *,
    staff: str = "sam",
    read: bool = False,
) -> None:
    conversation_id = await _open(show, staff, client)
    for who, text in script:
        await _send(show, who, conversation_id, text)
    if read:
        await _read(show, client, conversation_id)


async def _team(show: Showcase) -> None:
    async with transaction(show["jo"].actor) as tx:
        room, _ = await conversation_service.do_open_conversation(
            tx,
            conversation_service.OpenRequest(
                kind=Kind.TEAM,
                member_ids=(show["sam"].account_id, show["amira"].account_id),
                title="Lily · care team",
                client_id=show["lily"].account_id,
            ),
        )
    show.conversations["team"] = room.id
    await _send(show, "jo", room.id, "I'll reinforce the breathing work with Lily on Friday.")
    await _send(show, "amira", room.id, "Great. I've updated her plan in the shared folder.")
    await _read(show, "sam", room.id)


async def _lily(show: Showcase) -> None:
    c = await _open(show, "sam", "lily")
    first = await _send(
        show,
        "sam",
        c,
        "Hi Lily, it was good to see you on Tuesday. How did the breathing exercise go?",
    )
    await _read(show, "lily", c)
    await _send(show, "lily", c, "Better than I expected! I did it twice before school 🙂")
    counting = await _send(show, "lily", c, "The counting part helps the most.")
    await _send(
        show, "grace", c, "She has been practising every evening too. Thank you for the worksheet."
    )
    await _read(show, "sam", c)
    async with transaction(show["sam"].actor) as tx:
        await message_service.do_react(tx, counting, emoji="👏", add=True)
    await _send(show, "sam", c, "That's wonderful to hear, both of you.")
    await _send(
        show,
        "sam",
        c,
        "Let's build on the counting next week. Could you note down when it felt hardest?",
        reply_to=counting,
    )
    notebook = await _send(show, "lily", c, "Yes! I'll write it in my notebook.")
    async with transaction(show["grace"].actor) as tx:
        await message_service.do_react(tx, notebook, emoji="❤️", add=True)
    async with transaction(show["sam"].actor) as tx:
        await message_service.do_react(tx, notebook, emoji="👍", add=True)
    await _read(show, "sam", c)
    see_you = await _send(show, "sam", c, "Perfect. See you on Thursday at 3pm.")
    async with transaction(show["sam"].actor) as tx:
        await message_service.do_edit_message(
            tx, see_you, text="Perfect. See you on Thursday at 4pm."
        )
    await _read(show, "lily", c)
    show.messages.update(first=first, counting=counting, notebook=notebook, see_you=see_you)
