"""`careline bench clinic` (issue 14): the clinic of careline/bench/clinic_world.py,
seeded through the fast path of clinic_seed.py, then each operation of the issue's
table timed through the API by one client (HTTP and the socket), p50/p99 over
`--repeats`; then the same operations while the `threads-saturation` load runs.

Each operation's figure stands next to the issue's target and a pass/fail.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from careline.bench import clinic_seed
from careline.bench.apiclient import Http, Socket
from careline.bench.clinic_world import ADMIN, A, B, C, D, Layout, layout_for
from careline.bench.harness import UNBUDGETED, Options, Rig, progress
from careline.bench.metrics import PhaseResult, percentiles
from careline.bench.seed import Person, add_people, sign_in
from careline.db.pool import APP_ROLE, connect_owner
from careline.db.tx import Role
from careline.kit import limits

OP_SECONDS = 10.0  # no operation is repeated for longer than this, alone
HISTORY_P99_MS = 5.0
UNREAD_P99_MS = 10.0
RESUME_P99_MS = 20.0
RESUME_POOL_MAX = 2
MEMBERS_PAGE_P99_MS = 10.0
SEND_ACK_RATIO = 1.5  # "unchanged": a send to the huge conversation vs a small one
POOL_SAMPLES = 10  # resumes run again with the pool watched (not timed)
MAX_WINDOWS = 10  # load windows, should one operation not have met the load yet


@dataclass(slots=True)
class Op:
    name: str
    what: str
    run: Callable[[], Awaitable[list[int]]]  # one repeat: the timings it took (ns)
    target: str
    judge: Callable[[dict[str, Any]], bool]
    check: dict[str, Any] = field(default_factory=dict)  # filled by the first repeat


@dataclass(slots=True)
class Clinic:
    port: int
    layout: Layout
    ids: list[uuid.UUID]
    people: dict[int, Person]
    http: dict[int, Http] = field(default_factory=dict)
    sender: Socket | None = None
    marked_seq: int = 1
    sent: int = 0
    moved: dict[str, int] = field(default_factory=dict)  # the last seq of what it sent to

    def conv(self, name: str) -> uuid.UUID:
        return self.ids[self.layout.named(name)]

    def client(self, person: int) -> Http:
        if person not in self.http:
            self.http[person] = Http(self.port, self.people[person].token)
        return self.http[person]

    def size(self, name: str) -> int:
        return self.layout.rows.conversations[self.layout.named(name)].last_seq

    async def close(self) -> None:
        for h in self.http.values():
            await h.close()
        if self.sender is not None:
            await self.sender.close()


async def seed(rig: Rig, scale: float) -> tuple[Clinic, dict[str, Any]]:
    assert rig.seeder is not None
    layout = layout_for(scale)
    started = time.monotonic()
    progress(f"clinic: adding {len(layout.roles)} people")
    world = await add_people(
        layout.roles, layout.names, slug_prefix="clinic", organisation="careline bench clinic"
    )
    people_s = time.monotonic() - started
    rows = layout.rows
    messages = sum(c.messages for c in rows.conversations)
    progress(f"clinic: {len(rows.conversations)} conversations, {messages} messages (fast path)")
    took: dict[str, float] = {}
    ids = await clinic_seed.write(rig.seeder.database.owner_dsn, world, rows, took=took)
    seed_s = time.monotonic() - started
    signed = {i: await sign_in(world, i) for i in (ADMIN, A, B, C, D)}
    s = layout.sizes
    facts = {
        "people": len(layout.roles),
        "clients": s.clients,
        "staff": s.staff,
        "guardians": s.guardians,
        "conversations": len(rows.conversations),
        "messages": messages,
        "care_relationships": len(rows.care),
        "guardian_links": len(rows.links),
        "seed_s": round(seed_s, 1),
        "seed_people_s": round(people_s, 1),
        "seed_fast_path_s": round(seed_s - people_s, 1),
        **{f"seed_{k}": round(v, 1) for k, v in took.items()},
    }
    progress(f"clinic: seeded in {seed_s:.1f} s ({people_s:.1f} s of it people)")
    clinic = Clinic(rig.server.port, layout, ids, signed)
    # D's receipts go on from where D's own messages left its watermark.
    clinic.marked_seq = next(c for c in layout.rows.conversations if c.name == "marked").readers[D]
    return clinic, facts


# operations -------------------------------------------------------------------------


def _history(clinic: Clinic, name: str, where: str) -> Op:
    cid = clinic.conv(name)
    last = clinic.size(name)
    query = {
        "newest": "",
        "middle": f"?before_seq={last // 2}",
        "oldest": "?after_seq=0",
    }[where]
    reader = A if name == "huge" else C
    op = Op(
        f"history_{name}_{where}",
        f"history, {where} page of the {last - 1}-message conversation",
        lambda: _ms_list(_get_history(clinic, reader, cid, query, op)),
        f"p99 <= {HISTORY_P99_MS:g} ms",
        lambda ms: ms["p99"] <= HISTORY_P99_MS,
    )
    return op


async def _get_history(clinic: Clinic, reader: int, cid: uuid.UUID, query: str, op: Op) -> int:
    page, took = await clinic.client(reader).call(
        "GET", f"/api/v1/conversations/{cid}/messages{query}"
    )
    if not op.check:
        texts = [m["text"] for m in page["items"]]
        op.check = {"items": len(texts), "texts_open": all(isinstance(t, str) for t in texts)}
    return took


async def _ms_list(one: Awaitable[int]) -> list[int]:
    return [await one]


def _unread_one(clinic: Clinic) -> Op:
    cid = clinic.conv("large")

    async def run() -> list[int]:
        item, took = await clinic.client(C).call("GET", f"/api/v1/conversations/{cid}")
        op.check = {"unread": item["unread"]}
        return [took]

    op = Op(
        "unread_one",
        "unread count of one conversation (GET /conversations/{id})",
        run,
        f"p99 <= {UNREAD_P99_MS:g} ms",
        lambda ms: ms["p99"] <= UNREAD_P99_MS,
    )
    return op


def _conversation_list(clinic: Clinic) -> Op:
    async def run() -> list[int]:
        page, took = await clinic.client(C).call("GET", "/api/v1/conversations")
        op.check = {
            "conversations": len(page["items"]),
            "unread": sum(i["unread"] for i in page["items"]),
        }
        return [took]

    op = Op(
        "conversation_list",
        "the conversation-list page of a reader with every conversation unread",
        run,
        f"p99 <= {UNREAD_P99_MS:g} ms",
        lambda ms: ms["p99"] <= UNREAD_P99_MS,
    )
    return op


def _mark_read(clinic: Clinic) -> Op:
    cid = clinic.conv("marked")

    async def run() -> list[int]:
        clinic.marked_seq += 1  # watermarks move forward only: one seq further each time
        body = {"read_seq": clinic.marked_seq}
        receipt, took = await clinic.client(D).call(
            "POST", f"/api/v1/conversations/{cid}/receipt", body
        )
        op.check = {"read_seq": receipt["read_seq"], "unread_left": receipt["unread"]}
        return [took]

    op = Op(
        "mark_read_short",
        "marking read short of the end (POST /conversations/{id}/receipt)",
        run,
        f"p99 <= {UNREAD_P99_MS:g} ms (it answers the unread count)",
        lambda ms: ms["p99"] <= UNREAD_P99_MS,
    )
    return op


async def _last_seqs(clinic: Clinic, person: int) -> dict[str, int]:
    """The person's conversations at their current last seq, read from the list (all
    pages): a resume naming them has nothing to replay."""
    http, cursor, found = clinic.client(person), None, {}
    while True:
        query = f"?limit={limits.PAGE_MAX}" + (f"&cursor={cursor}" if cursor else "")
        page, _ = await http.call("GET", f"/api/v1/conversations{query}")
        found.update({i["id"]: i["last_seq"] for i in page["items"]})
        cursor = page["next_cursor"]
        if not cursor:
            return found


def _resume(clinic: Clinic, person: int, watch: PoolWatch) -> Op:
    named = len(clinic.layout.conversations_of(person))
    cursors: dict[str, int] = {}

    async def run() -> list[int]:
        if not cursors:
            cursors.update(await _last_seqs(clinic, person))
        # The sends measured here go to two of A's conversations: nothing missed there.
        cursors.update({c: seq for c, seq in clinic.moved.items() if c in cursors})
        sock = Socket(clinic.port, clinic.people[person].token)
        await sock.open()
        try:
            answer, took = await sock.call({"op": "resume", "conversations": cursors})
        finally:
            await sock.close()
        statuses = [v["status"] for v in answer["conversations"].values()]
        op.check = {
            "named": len(cursors),
            "ok": statuses.count("ok"),
            "replayed": sum(1 for e in sock.events if "seq" in e),
        }
        return [took]

    op = Op(
        f"resume_{named}",
        f"socket resume naming {named} conversations, nothing missed",
        run,
        f"p99 <= {RESUME_P99_MS:g} ms, at most {RESUME_POOL_MAX} pooled connections",
        lambda ms: (
            ms["p99"] <= RESUME_P99_MS
            and (ms.get("pool_peak") is None or ms["pool_peak"] <= RESUME_POOL_MAX)
        ),
    )
    op.check = {}
    watch.ops[op.name] = run
    return op


async def _walk(http: Http, path: str, op: Op) -> list[int]:
    """Every page of a list; a list without a cursor (a bare JSON array) is one page."""
    cursor, rows, times = None, 0, []
    while True:
        sep = "&" if "?" in path else "?"
        page, took = await http.call("GET", path + (f"{sep}cursor={cursor}" if cursor else ""))
        times.append(took)
        if isinstance(page, list):
            rows += len(page)
            break
        rows += len(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    op.check = {"pages": len(times), "rows": rows, "walk_ms": round(sum(times) / 1e6, 2)}
    return times


def _list_walk(
    clinic: Clinic, name: str, path: str, expected: int, *, page_p99: float | None
) -> Op:
    def judge(ms: dict[str, Any]) -> bool:
        complete = bool(op.check.get("rows") == expected)
        return complete and (page_p99 is None or ms["p99"] <= page_p99)

    op = Op(
        name,
        f"{path}, every page ({expected} rows)",
        lambda: _walk(clinic.client(ADMIN), path, op),
        ("every row" + (f", page p99 <= {page_p99:g} ms" if page_p99 else "")),
        judge,
    )
    return op


def _send(clinic: Clinic, name: str) -> Op:
    async def run() -> list[int]:
        if clinic.sender is None:
            clinic.sender = Socket(clinic.port, clinic.people[A].token)
            await clinic.sender.open()
            await clinic.sender.call({"op": "resume", "conversations": {}})
        clinic.sent += 1
        cid = clinic.ids[0] if name == "huge" else clinic.ids[_small(clinic)]
        result, took = await clinic.sender.call(
            {
                "op": "message.send",
                "conversation_id": str(cid),
                "client_msg_id": f"clinic-{clinic.sent}",
                "text": clinic_seed.TEXTS[0],
            }
        )
        clinic.sender.events.clear()
        clinic.moved[str(cid)] = result["message"]["seq"]
        return [took]

    what = "the 100,000-message" if name == "huge" else "a small"
    return Op(
        f"send_ack_{name}", f"send ack (socket) in {what} conversation", run, "", lambda _: True
    )


def _small(clinic: Clinic) -> int:
    """One of A's care conversations other than the huge one (the smallest)."""
    mine = clinic.layout.conversations_of(A)
    return min(mine[1:], key=lambda n: clinic.layout.rows.conversations[n].messages)


def operations(clinic: Clinic, watch: PoolWatch) -> list[Op]:
    s, rows = clinic.layout.sizes, clinic.layout.rows
    ops = [
        _history(clinic, n, w) for n in ("huge", "large") for w in ("newest", "middle", "oldest")
    ]
    ops += [_unread_one(clinic), _conversation_list(clinic), _mark_read(clinic)]
    ops += [_resume(clinic, A, watch), _resume(clinic, B, watch)]
    ops += [
        _list_walk(
            clinic, "members_walk", "/api/v1/members", len(clinic.layout.roles),
            page_p99=MEMBERS_PAGE_P99_MS,
        ),
        _list_walk(
            clinic, "care_relationships_walk", "/api/v1/care-relationships", len(rows.care),
            page_p99=None,
        ),
        _list_walk(
            clinic, "guardian_links_walk", "/api/v1/guardian-links", len(rows.links),
            page_p99=None,
        ),
    ]  # fmt: skip
    ops += [_send(clinic, "small"), _send(clinic, "huge")]
    assert s.clients > 0
    return ops


# the pool ---------------------------------------------------------------------------


class PoolWatch:
    """The most connections of careline's pool busy at once (in a transaction or a
    statement), sampled as fast as PostgreSQL answers, while a resume runs alone. The
    job worker's connections (same role, its own queries) are left out."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.ops: dict[str, Callable[[], Awaitable[list[int]]]] = {}

    async def peak(self, name: str, repeats: int) -> int:
        conn: asyncpg.Connection = await connect_owner(self.dsn)
        peak, running = 0, True

        async def sample() -> None:
            nonlocal peak
            while running:
                busy = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 "
                    "AND state IS DISTINCT FROM 'idle' AND query NOT ILIKE '%procrastinate%'",
                    APP_ROLE,
                )
                peak = max(peak, busy)

        task = asyncio.get_running_loop().create_task(sample())
        try:
            for _ in range(repeats):
                await self.ops[name]()
        finally:
            running = False
            await task
            await conn.close()
        return int(peak)


# measuring --------------------------------------------------------------------------


def _figures(op: Op, samples: list[int], pool_peak: int | None = None) -> dict[str, Any]:
    ms: dict[str, Any] = {"samples": len(samples), **percentiles(samples)}
    if pool_peak is not None:
        ms["pool_peak"] = pool_peak
    return {
        "what": op.what,
        **ms,
        "target": op.target,
        "pass": op.judge(ms) if samples else False,
        **op.check,
    }


async def alone(ops: list[Op], repeats: int, watch: PoolWatch) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for op in ops:
        samples: list[int] = []
        deadline = time.monotonic() + OP_SECONDS
        await op.run()  # warm: connections, prepared statements, the key cache
        for _ in range(repeats):
            samples += await op.run()
            if time.monotonic() > deadline:
                break
        pool = await watch.peak(op.name, POOL_SAMPLES) if op.name in watch.ops else None
        out[op.name] = _figures(op, samples, pool)
        progress(f"clinic: {op.name}: p50 {out[op.name]['p50']} p99 {out[op.name]['p99']} ms")
    _judge_sends(out)
    return out


@dataclass(slots=True)
class Loaded:
    """The operations' samples under load, and the load's own phases."""

    samples: dict[str, list[int]]
    phases: list[PhaseResult] = field(default_factory=list)
    next_op: int = 0  # where the turn stopped when a window closed

    def load(self) -> dict[str, Any]:
        ack = [t for p in self.phases for t in p.ack_ns]
        window = sum(p.window_s for p in self.phases)
        return {
            "windows": len(self.phases),
            "duration_s": round(window, 1),
            "msgs_per_s": round(len(ack) / window, 1) if window else 0.0,
            "ack_ms": percentiles(ack),
            "delivery_ms": percentiles([t for p in self.phases for t in p.delivery_ns]),
            "errors": sum(sum(p.errors.values()) for p in self.phases),
            "missing_deliveries": sum(p.missing for p in self.phases),
        }


async def while_loaded(
    rig: Rig, ops: list[Op], senders: list[tuple[int, str]], seconds: float
) -> Loaded:
    """Every operation in turn, one repeat each, only while the load's window is open
    (its warm-up done). Windows follow one another until `seconds` of them have passed
    and every operation has met the load at least once (at most MAX_WINDOWS)."""
    loaded = Loaded({op.name: [] for op in ops})
    window = max(seconds, 5.0)
    while len(loaded.phases) < MAX_WINDOWS:
        phase = asyncio.get_running_loop().create_task(
            rig.phase(mode="closed", senders=senders, seconds=window + 2, warm=2)
        )
        try:
            await asyncio.sleep(2.3)  # the window opens 0.3 s + the 2 s warm-up after
            until = time.monotonic() + window
            while time.monotonic() < until:
                op = ops[loaded.next_op]
                loaded.samples[op.name] += await op.run()
                loaded.next_op = (loaded.next_op + 1) % len(ops)
        finally:
            loaded.phases.append(await phase)
        done = sum(p.window_s for p in loaded.phases) >= seconds
        if done and all(loaded.samples.values()):
            break
    return loaded


def _judge_sends(out: dict[str, Any]) -> None:
    small, huge = out.get("send_ack_small"), out.get("send_ack_huge")
    if not small or not huge or small["p99"] is None or huge["p99"] is None:
        return
    huge["target"] = f"p99 <= {SEND_ACK_RATIO:g} x the small conversation's ({small['p99']} ms)"
    huge["pass"] = huge["p99"] <= SEND_ACK_RATIO * small["p99"]


async def _load(rig: Rig) -> list[tuple[int, str]]:
    """threads-saturation's people and conversations, in an organisation of their own."""
    assert rig.seeder is not None
    world = await rig.seeder.people([Role.STAFF] * 20 + [Role.CLIENT] * 20)
    await rig.seeder.care(world, [(i, 20 + i) for i in range(20)])
    await rig.connect(world)
    return [(members[0], c) for c, members in world.members.items()]


async def clinic(options: Options) -> list[dict[str, Any]]:
    # The load lifts the send budgets, as threads-saturation does; the measured client's
    # repeated sends and receipts need the same, or its figures would be 429s.
    async with Rig("clinic", options, settings=UNBUDGETED) as rig:
        assert rig.seeder is not None
        scene, facts = await seed(rig, options.scale)
        watch = PoolWatch(rig.seeder.database.owner_dsn)
        ops = operations(scene, watch)
        try:
            progress(f"clinic: {len(ops)} operations, one client, up to {options.repeats} each")
            mark = rig.cpu_mark()
            single = await alone(ops, options.repeats, watch)
            single_cpu = rig.cpu_since(mark)
            senders = await _load(rig)
            seconds = options.seconds or 60.0
            progress(f"clinic: the same under threads-saturation load for {seconds:g} s")
            mark = rig.cpu_mark()
            loaded = await while_loaded(rig, ops, senders, seconds)
            loaded_cpu = rig.cpu_since(mark)
        finally:
            await scene.close()
        under = {op.name: _figures(op, loaded.samples[op.name]) for op in ops}
        _judge_sends(under)
        return [
            {
                "scenario": "clinic",
                "scale": options.scale,
                "world": facts,
                "operations": single,
                "cpu": single_cpu,
                "under_load": {
                    "cpu": loaded_cpu,
                    "load": loaded.load(),
                    "operations": under,
                },
                "pass": all(v["pass"] for v in single.values()),
            }
        ]


def summary(line: dict[str, Any]) -> str:
    w = line["world"]
    out = [
        f"clinic at scale {line['scale']:g}: {w['people']} people, {w['conversations']} "
        f"conversations, {w['messages']} messages, seeded in {w['seed_s']} s"
    ]
    loaded = line["under_load"]["operations"]
    for name, f in line["operations"].items():
        under = loaded.get(name, {})
        out.append(
            f"  {name}: p50 {f['p50']} / p99 {f['p99']} ms"
            + (f", pool {f['pool_peak']}" if "pool_peak" in f else "")
            + f" [{f['target'] or 'reported'}: {'pass' if f['pass'] else 'FAIL'}]"
            + f"; under load p50 {under.get('p50')} / p99 {under.get('p99')} ms"
        )
    load = line["under_load"]["load"]
    out.append(f"  load: {load['msgs_per_s']} msg/s, ack p99 {load['ack_ms']['p99']} ms")
    out.append(
        f"  other work on the machine meanwhile: {line['cpu']['other_cpu_pct']}% alone, "
        f"{line['under_load']['cpu']['other_cpu_pct']}% under load (of 200%)"
    )
    return "\n".join(out)
