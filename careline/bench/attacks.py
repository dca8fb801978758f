"""The attacks of issue 16, each bounded in time, for `careline bench abuse`.

Every attack runs from the orchestrating process for `seconds` and returns what the
attacker got: HTTP statuses, WebSocket close codes and error codes, counted. Every
client step has a deadline and every connection is aborted when the attack ends, so an
attack stops at its bound whatever the server does (docs/performance.md, "Abuse").
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
import psutil

from careline.bench import hostile
from careline.bench.rawhttp import OPEN, Conn, head, request, start
from careline.bench.seed import PASSWORD
from careline.bench.server import HOST
from careline.bench.wsclient import WsProtocol

WS_PATH = "/api/v1/ws"
SHORT_TEXT = "Quick update: the session moved to Thursday at 4pm, same room."
LONG_TEXT = "Please read before the visit. " * 300  # 9,000 characters: fills buffers fast
QUOTA_FILE_BYTES = 20 * 1024 * 1024
HEADER_FLOOD_MAX = 64 * 1024 * 1024  # per connection, as in the issue
OPEN_CONCURRENCY = 50


@dataclass(slots=True)
class Target:
    """What the attacks aim at: the server, the attacker's account, its conversation."""

    port: int
    server_pid: int
    attacker_token: str
    conversation_id: str  # the attacker's conversation, which the consumers are in
    consumer_tokens: list[str]
    sign_ins: list[dict[str, str]]  # e-mail and organisation of accounts with real hashes
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    counts: Counter[str] = field(default_factory=Counter)
    extra: dict[str, Any] = field(default_factory=dict)


Attack = Callable[[Target, float, Outcome], Awaitable[None]]


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


# WebSocket attackers -------------------------------------------------------------------


class Peer:
    """An attacker's socket: counts the answers it gets by op and code."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts
        self.proto: WsProtocol | None = None
        self.authed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.in_flight = 0
        self.answered = asyncio.Event()
        self._refs = itertools.count(1)

    async def open(self, port: int, token: str, *, within: float) -> bool:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(within):
                _, self.proto = await loop.create_connection(
                    lambda: WsProtocol(HOST, port, WS_PATH, self._on_message), HOST, port
                )
                await self.proto.opened
                self.proto.send(orjson.dumps({"op": "auth", "ref": "auth", "token": token}))
                await self.authed
        except Exception as exc:
            self.counts[f"connect:{type(exc).__name__}"] += 1
            return False
        return True

    def _on_message(self, payload: bytes) -> None:
        frame = orjson.loads(payload)
        op, ref = frame.get("op"), frame.get("ref")
        if ref == "auth" and not self.authed.done():
            if op == "ack":
                self.authed.set_result(None)
            else:
                self.authed.set_exception(RuntimeError(f"auth:{frame.get('code')}"))
            return
        if op == "ack":
            self.counts["ack"] += 1
        elif op == "error":
            self.counts[f"error:{frame.get('code')}"] += 1
        else:
            return
        self.in_flight = max(0, self.in_flight - 1)
        self.answered.set()

    def send(self, conversation_id: str, text: str) -> None:
        assert self.proto is not None
        self.in_flight += 1
        self.proto.send(
            orjson.dumps(
                {
                    "op": "message.send",
                    "ref": str(next(self._refs)),
                    "conversation_id": conversation_id,
                    "client_msg_id": f"x{time.monotonic_ns()}",
                    "text": text,
                }
            )
        )

    def close_state(self) -> str:
        """How the server left this socket: its close code, aborted, or still open."""
        if self.proto is None:
            return "never_opened"
        if not self.proto.closed.done():
            return "open"
        code = self.proto.closed.result()
        return f"closed:{code}" if code is not None else "dropped"

    def abort(self) -> None:
        if self.proto is not None:
            self.proto.abort()


async def _open_many(
    target: Target, tokens: list[str], counts: Counter[str], into: list[Peer]
) -> list[Peer]:
    """Open and authenticate a socket per token; every peer joins `into` first, so the
    caller aborts all of them even if this is cancelled half-way."""
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def one(token: str) -> Peer | None:
        peer = Peer(counts)
        into.append(peer)
        async with gate:
            ok = await peer.open(target.port, token, within=10)
        return peer if ok else None

    peers = await asyncio.gather(*(one(t) for t in tokens))
    return [p for p in peers if p is not None]


async def _flood(peer: Peer, conversation_id: str, text: str, deadline: float) -> None:
    """Send as fast as answers come, 32 in flight: what a scripted client does."""
    while time.monotonic() < deadline and peer.proto and not peer.proto.closed.done():
        while peer.in_flight < 32:
            peer.send(conversation_id, text)
        peer.answered.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(peer.answered.wait(), min(1.0, _left(deadline)) or 0.001)


async def send_flood(target: Target, seconds: float, out: Outcome) -> None:
    deadline = time.monotonic() + seconds
    peer = Peer(out.counts)
    try:
        if await peer.open(target.port, target.attacker_token, within=min(10, seconds)):
            await _flood(peer, target.conversation_id, SHORT_TEXT, deadline)
        out.extra["acked_per_s"] = round(out.counts["ack"] / seconds, 1)
        out.counts[peer.close_state()] += 1
    finally:
        peer.abort()


def _held_by_server(server_pid: int, local_ports: set[int]) -> int:
    """How many of these client sockets the server still holds a connection for."""
    try:
        conns = psutil.Process(server_pid).net_connections(kind="tcp")
    except psutil.Error:
        return -1
    return sum(1 for c in conns if c.raddr and c.raddr.port in local_ports)


async def never_reading_consumers(target: Target, seconds: float, out: Outcome) -> None:
    """Consumers who authenticate and then never read, in a conversation the attacker
    floods with long messages: their receive buffers fill, then the server's."""
    deadline = time.monotonic() + seconds
    consumers: list[Peer] = []
    flooder = Peer(out.counts)
    try:
        opened = await _open_many(target, target.consumer_tokens, Counter(), consumers)
        ports = set()
        for peer in opened:
            assert peer.proto is not None
            assert peer.proto.transport is not None
            sock = peer.proto.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            ports.add(sock.getsockname()[1])
            peer.proto.transport.pause_reading()
        out.extra["consumers"] = len(opened)
        if await flooder.open(target.port, target.attacker_token, within=10):
            await _flood(flooder, target.conversation_id, LONG_TEXT, deadline)
        held = _held_by_server(target.server_pid, ports)
        if held < 0:  # the server's sockets could not be read
            out.counts["consumer:unknown"] += len(ports)
        else:
            out.counts["consumer:held_at_bound"] += held
            out.counts["consumer:released_by_server"] += len(ports) - held
    finally:
        flooder.abort()
        for peer in consumers:
            peer.abort()


async def sockets_one_person(target: Target, seconds: float, out: Outcome, n: int = 500) -> None:
    """Hundreds of sockets for one person, all held open."""
    deadline = time.monotonic() + seconds
    peers: list[Peer] = []
    try:
        async with asyncio.timeout(seconds):
            opened = await _open_many(target, [target.attacker_token] * n, out.counts, peers)
        out.extra["authenticated"] = len(opened)
        await asyncio.sleep(_left(deadline))
    except TimeoutError:
        out.counts["bench:opening_cut_at_bound"] += 1
    finally:
        for peer in peers:
            out.counts[peer.close_state()] += 1
            peer.abort()


# HTTP attackers ------------------------------------------------------------------------


def _upload_request(target: Target, name: str, data: bytes, *, declared: int = 0) -> bytes:
    return (
        head(
            target.port,
            "POST",
            f"/api/v1/conversations/{target.conversation_id}/attachments",
            {
                "Authorization": f"Bearer {target.attacker_token}",
                "X-File-Name": quote(name),
                "Content-Type": "application/octet-stream",
                "Content-Length": str(declared or len(data)),
                "Connection": "close",
            },
        )
        + data
    )


def file_bursts(kind: str, name: str) -> Attack:
    """Bursts of three parallel uploads of one hostile file, until the bound."""

    async def attack(target: Target, seconds: float, out: Outcome) -> None:
        data = target.files[kind]
        deadline = time.monotonic() + seconds
        while _left(deadline) > 1.0:
            body = [_upload_request(target, f"{i} {name}", data) for i in range(3)]
            for status in await asyncio.gather(
                *(request(target.port, b, within=_left(deadline)) for b in body)
            ):
                out.counts[status] += 1

    return attack


async def toward_quota(target: Target, seconds: float, out: Outcome) -> None:
    """One person uploads ordinary 20 MiB files, two at a time, until the bound."""
    data = target.files["text"]
    deadline = time.monotonic() + seconds
    n = itertools.count()
    while _left(deadline) > 1.0:
        body = [_upload_request(target, f"notes {next(n)}.txt", data) for _ in range(2)]
        for status in await asyncio.gather(
            *(request(target.port, b, within=_left(deadline)) for b in body)
        ):
            out.counts[status] += 1
    out.extra["accepted_mib"] = out.counts["201"] * len(data) // (1024 * 1024)


async def _hold(conns: list[Conn], out: Outcome) -> None:
    for conn in conns:
        out.counts[await conn.outcome()] += 1
        conn.abort()


async def header_flood(target: Target, seconds: float, out: Outcome, n: int = 4) -> None:
    """Connections streaming one request's headers, never ending them."""
    deadline = time.monotonic() + seconds
    line = b"X-Flood: " + b"a" * 1000 + b"\r\n"
    chunk = line * 64
    sent = [0] * n

    async def one(i: int, conn: Conn) -> None:
        await conn.write(start(target.port, "GET", "/health/ready"), within=1)
        while _left(deadline) > 0 and sent[i] < HEADER_FLOOD_MAX and not conn.answered:
            if not await conn.write(chunk, within=min(1.0, _left(deadline))):
                if conn.writer.is_closing() or conn.answered:
                    return
                await asyncio.sleep(min(0.2, _left(deadline)))
                continue
            sent[i] += len(chunk)

    conns = [await Conn.open(target.port) for _ in range(n)]
    try:
        await asyncio.gather(*(one(i, c) for i, c in enumerate(conns)))
        await asyncio.sleep(_left(deadline))
    finally:
        out.extra["header_mib_sent"] = round(sum(sent) / 2**20, 1)
        await _hold(conns, out)


async def many_headers(target: Target, seconds: float, out: Outcome) -> None:
    """Requests with 10,000 headers each, one after another until the bound."""
    headers = {f"X-Header-{i}": "v" for i in range(10_000)} | {"Connection": "close"}
    data = head(target.port, "GET", "/health/ready", headers)
    deadline = time.monotonic() + seconds
    while _left(deadline) > 0.5:
        out.counts[await request(target.port, data, within=min(10.0, _left(deadline)))] += 1


async def slowloris(target: Target, seconds: float, out: Outcome, n: int = 300) -> None:
    """Connections that send a header line every few seconds and never finish."""
    deadline = time.monotonic() + seconds
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def one() -> Conn | None:
        async with gate:
            try:
                conn = await Conn.open(target.port, within=min(5.0, seconds))
            except (OSError, TimeoutError):
                out.counts["refused"] += 1
                return None
        await conn.write(start(target.port, "GET", "/health/ready"), within=1)
        return conn

    conns = [c for c in await asyncio.gather(*(one() for _ in range(n))) if c is not None]
    try:
        for k in itertools.count():
            await asyncio.sleep(min(5.0, _left(deadline)))
            if _left(deadline) <= 0:
                break
            live = [c for c in conns if not c.answered and not c.writer.is_closing()]
            await asyncio.gather(*(c.write(f"X-Slow-{k}: x\r\n".encode(), within=1) for c in live))
    finally:
        await _hold(conns, out)


async def slow_body(target: Target, seconds: float, out: Outcome) -> None:
    """A sign-in whose 1,000-byte JSON body comes one byte a second."""
    deadline = time.monotonic() + seconds
    conn = await Conn.open(target.port)
    data = head(
        target.port,
        "POST",
        "/api/v1/auth/token",
        {"Content-Type": "application/json", "Content-Length": "1000", "Connection": "close"},
    )
    try:
        await conn.write(data, within=1)
        while _left(deadline) > 0 and not conn.answered:
            await conn.write(b" ", within=1)
            with contextlib.suppress(TimeoutError):
                await conn.outcome(wait=min(1.0, _left(deadline)))
    finally:
        await _hold([conn], out)


async def declared_gigabyte(target: Target, seconds: float, out: Outcome) -> None:
    """An upload declaring 1 GB whose body never comes."""
    conn = await Conn.open(target.port)
    try:
        await conn.write(_upload_request(target, "big.bin", b"", declared=2**30), within=1)
        out.counts[await conn.outcome(wait=seconds)] += 1
    finally:
        conn.abort()


def _sign_in_request(target: Target, account: dict[str, str]) -> bytes:
    body = json.dumps({**account, "password": PASSWORD}).encode()
    return (
        head(
            target.port,
            "POST",
            "/api/v1/auth/token",
            {
                "Content-Type": "application/json",
                "Content-Length": str(len(body)),
                "Connection": "close",
            },
        )
        + body
    )


async def sign_in_loops(target: Target, seconds: float, out: Outcome) -> None:
    """Parallel loops of successful sign-ins (bearer tokens), one account each."""
    deadline = time.monotonic() + seconds

    async def loop(account: dict[str, str]) -> None:
        data = _sign_in_request(target, account)
        while _left(deadline) > 0.2:
            out.counts[await request(target.port, data, within=_left(deadline))] += 1

    await asyncio.gather(*(loop(a) for a in target.sign_ins))


async def warm_up(target: Target) -> Counter[str]:
    """What an ordinary day does once before the baseline is read: an upload, and a
    sign-in to each loop's account (which the server re-hashes with its own cost), so
    the baseline holds what first use costs (imports, caches, connections) and the
    memory figure what the attacks leave."""
    counts: Counter[str] = Counter()
    data = _upload_request(target, "warm-up.txt", hostile.plain_text(1024 * 1024))
    counts[await request(target.port, data, within=30)] += 1
    for account in target.sign_ins:
        counts[await request(target.port, _sign_in_request(target, account), within=30)] += 1
    return counts


ATTACKS: dict[str, tuple[str, Attack]] = {
    "zip-directory-bomb-x3": (
        "3 parallel .docx of 26 MB listing 490,000 parts, in bursts",
        file_bursts("zip", "notes.docx"),
    ),
    "png-chunk-bomb-x3": (
        "3 parallel 24 MB PNGs with 2 million private chunks, in bursts",
        file_bursts("png", "photo.png"),
    ),
    "header-flood-x4": ("4 connections streaming up to 64 MiB of headers", header_flood),
    "headers-10000": ("requests with 10,000 headers, one after another", many_headers),
    "slowloris-300": ("300 connections sending a header line every 5 s", slowloris),
    "slow-body": ("a 1,000-byte sign-in body at one byte a second", slow_body),
    "upload-declared-1gb": ("an upload declaring 1 GB that never comes", declared_gigabyte),
    "never-reading-consumers": (
        "sockets that never read in a conversation flooded with 9,000-character messages",
        never_reading_consumers,
    ),
    "sign-in-loops-x4": ("4 parallel loops of successful sign-ins", sign_in_loops),
    "send-flood": ("one person sending as fast as acked, 32 in flight", send_flood),
    "sockets-one-person": ("500 sockets for one person, held open", sockets_one_person),
    "upload-toward-quota": ("one person uploading 20 MiB text files, 2 at a time", toward_quota),
}


def build_files(*, small: bool) -> dict[str, bytes]:
    """The files the attacks upload; `small` keeps them a tenth the size (smoke test)."""
    scale = 10 if small else 1
    return {
        "zip": hostile.zip_directory_bomb(490_000 // scale),
        "png": hostile.png_chunk_bomb(2_000_000 // scale),
        "text": hostile.plain_text(QUOTA_FILE_BYTES // scale),
    }


__all__ = ["ATTACKS", "OPEN", "Outcome", "Target", "build_files", "warm_up"]
