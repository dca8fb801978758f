"""Who is where in the clinic of issue 14, at a scale: the people, their care teams and
guardians, their conversations and how many messages each holds.

At scale 1: 700 people (593 clients, 40 staff of whom one admin, 60 guardians), 763
conversations (a care conversation per client, 170 team conversations) and about
200,000 messages, with
- clinician A in 300 care conversations, one of them of 100,000 messages (`huge`);
- reader C in 11 conversations with 26,000 unread: a care conversation of 25,000
  messages, the last 20,000 of them from the client (`large`), and 10 team conversations of 600;
- reader D in another 25,000-message care conversation, read to its own last message (`marked`), who
  marks read short of the end;
- staff member B in 1,000 conversations, the most a resume names: every team
  conversation but C's, B's share of the care conversations, and as many more team
  conversations of B's (B and one colleague) as that leaves short;
- every client in a care relationship with their clinician, every second client with a
  second staff member too; each guardian linked to two clients.
`--scale S` multiplies the organisation (people, conversations, messages); what one
person has (300 and 1,000 conversations, 100,000 and 25,000 messages, 20,000 unread)
stays as the issue gives it, scaled down only below 1, for quick runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from careline.bench.clinic_seed import Conv, Rows
from careline.conversations.records import Kind
from careline.db.tx import Role

ADMIN, A, B, C, D = 0, 1, 2, 3, 4  # staff indexes; the rest of the staff from 5
C_TEAMS = 10
TEAM_SIZE = 3


@dataclass(frozen=True, slots=True)
class Sizes:
    scale: float

    def _org(self, n: int, least: int) -> int:
        return max(least, round(n * self.scale))

    def _person(self, n: int, least: int) -> int:
        return max(least, round(n * min(1.0, self.scale)))

    @property
    def clients(self) -> int:
        return self._org(593, 12)

    @property
    def staff(self) -> int:
        return self._org(40, 8)

    @property
    def guardians(self) -> int:
        return self._org(60, 1)

    @property
    def teams(self) -> int:
        return self._org(170, C_TEAMS + 1)

    @property
    def messages(self) -> int:
        return self._org(200_000, 0)

    @property
    def clinician(self) -> int:
        return self._person(300, 4)

    @property
    def resume(self) -> int:
        return self._person(1000, 10)

    @property
    def huge(self) -> int:
        return self._person(100_000, 200)

    @property
    def large(self) -> int:
        return self._person(25_000, 100)

    @property
    def team_unread(self) -> int:
        return self._person(600, 10)


@dataclass(slots=True)
class Layout:
    sizes: Sizes
    roles: list[Role] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    rows: Rows = field(default_factory=lambda: Rows([], [], []))

    def staff(self, i: int) -> int:
        return i

    def client(self, j: int) -> int:
        return self.sizes.staff + j

    def guardian(self, g: int) -> int:
        return self.sizes.staff + self.sizes.clients + g

    def conversations_of(self, person: int) -> list[int]:
        return [
            n
            for n, c in enumerate(self.rows.conversations)
            if any(person == i for i, _ in c.members)
        ]

    def named(self, name: str) -> int:
        return next(n for n, c in enumerate(self.rows.conversations) if c.name == name)


def _people(layout: Layout) -> None:
    s = layout.sizes
    layout.roles = (
        [Role.ADMIN]
        + [Role.STAFF] * (s.staff - 1)
        + [Role.CLIENT] * s.clients
        + [Role.GUARDIAN] * s.guardians
    )
    # Names sort in no particular relation to roles or indexes, as a directory's do.
    layout.names = [
        f"{('Ash', 'Blake', 'Casey', 'Drew', 'Emery', 'Flynn', 'Gray')[i % 7]} "
        f"{(i * 7919) % 100_000:05d} ({role.value})"
        for i, role in enumerate(layout.roles)
    ]


def _care(layout: Layout) -> dict[int, int]:
    """Each client's clinician (the staff member of their care conversation)."""
    s = layout.sizes
    others = [layout.staff(i) for i in range(5, s.staff)]
    clinician: dict[int, int] = {}
    for j in range(s.clients):
        client = layout.client(j)
        if j < s.clinician:
            clinician[client] = A
        elif j == s.clinician:
            clinician[client] = C
        elif j == s.clinician + 1:
            clinician[client] = D
        else:
            clinician[client] = ([B, *others])[j % (len(others) + 1)]
        layout.rows.care.append((client, clinician[client], True))
        if j % 2 == 0:
            second = others[j % len(others)]
            if second != clinician[client]:
                layout.rows.care.append((client, second, False))
    return clinician


def _guardians(layout: Layout) -> dict[int, list[int]]:
    s = layout.sizes
    of_client: dict[int, list[int]] = {}
    for g in range(s.guardians):
        for j in ((2 * g) % s.clients, (2 * g + 1) % s.clients):
            layout.rows.links.append((layout.guardian(g), layout.client(j)))
            of_client.setdefault(layout.client(j), []).append(layout.guardian(g))
    return of_client


def _care_conversations(
    layout: Layout, clinician: dict[int, int], guardians: dict[int, list[int]]
) -> None:
    s = layout.sizes
    for j in range(s.clients):
        client = layout.client(j)
        staff = clinician[client]
        members = [(staff, Role.STAFF), (client, Role.CLIENT)]
        members += [(g, Role.GUARDIAN) for g in guardians.get(client, [])]
        conv = Conv(Kind.CARE, staff, members, 0, [staff, client], client=client, staff=staff)
        if j == 0:
            conv.name, conv.messages = "huge", s.huge
        elif staff in (C, D):
            # The clinician's fifth first, then the client's four fifths: 20,000 of 25,000
            # unread for C (sending is reading, so what C wrote last is read up to).
            own = s.large // 5
            conv.messages, conv.senders = s.large, [staff] * own + [client] * (s.large - own)
            conv.name = "large" if staff == C else "marked"
            # D has read to its own last message (seq own + 1), as its sends left it.
            conv.readers = {staff: 0 if staff == C else own + 1}
        layout.rows.conversations.append(conv)


def _team_conversations(layout: Layout) -> None:
    s = layout.sizes
    others = [layout.staff(i) for i in range(5, s.staff)]
    for t in range(C_TEAMS):
        colleagues = [others[t % len(others)], others[(t + 1) % len(others)]]
        members = [(C, Role.STAFF), *((i, Role.STAFF) for i in colleagues)]
        layout.rows.conversations.append(
            Conv(
                Kind.TEAM,
                C,
                members,
                s.team_unread,
                colleagues,
                title=f"C's team {t}",
                readers={C: 0},
            )
        )
    b_has = len(layout.conversations_of(B))
    for t in range(s.teams - C_TEAMS):
        with_b = b_has < s.resume
        b_has += with_b
        colleagues = [others[(t + k) % len(others)] for k in range(TEAM_SIZE - int(with_b))]
        members = [
            *((B, Role.STAFF) for _ in range(int(with_b))),
            *((i, Role.STAFF) for i in colleagues),
        ]
        layout.rows.conversations.append(
            Conv(Kind.TEAM, members[0][0], members, 0, [i for i, _ in members], title=f"team {t}")
        )
    for t in range(s.resume - b_has):
        colleague = others[t % len(others)]
        members = [(B, Role.STAFF), (colleague, Role.STAFF)]
        layout.rows.conversations.append(
            Conv(Kind.TEAM, B, members, 0, [B, colleague], title=f"B's team {t}")
        )


def _spread_messages(layout: Layout) -> None:
    """The organisation's remaining messages, evenly over the unmeasured conversations."""
    convs = layout.rows.conversations
    rest = [c for c in convs if not c.name and not c.readers]
    left = layout.sizes.messages - sum(c.messages for c in convs)
    if left <= 0 or not rest:
        return
    each, extra = divmod(left, len(rest))
    for n, conv in enumerate(rest):
        conv.messages = each + (1 if n < extra else 0)


def layout_for(scale: float) -> Layout:
    layout = Layout(Sizes(scale))
    _people(layout)
    clinician = _care(layout)
    guardians = _guardians(layout)
    _care_conversations(layout, clinician, guardians)
    _team_conversations(layout)
    _spread_messages(layout)
    return layout
