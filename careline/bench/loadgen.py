"""A load-generator process: many bench clients on real sockets, driven by commands from
the orchestrator over a pipe.

Clients behave as the real ones do: authenticate with the first frame, send messages
with client ids, receive events, acknowledge reads (debounced, as a client on screen
would), resume after a drop. Every send carries its send time (CLOCK_MONOTONIC, which
all processes of the machine share) in its client_msg_id, so a receiver in any process
measures delivery latency without asking anyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import resource
import time
from array import array
from collections import Counter
from collections.abc import Callable, Coroutine
from multiprocessing.connection import Connection
from typing import Any

import orjson

from careline.bench.wsclient import WsProtocol

AUTH, SEND, RECEIPT, RESUME = range(4)
KIND_NAMES = ("auth", "send", "receipt", "resume")
WS_PATH = "/api/v1/ws"
TEXT = "Quick update: the session moved to Thursday at 4pm, same room. See you then!"
ACK_TIMEOUT_NS = 15_000_000_000

now_ns = time.monotonic_ns


class Phase:
    """What one worker saw during one measured phase."""

    def __init__(self) -> None:
        self.ack_sent = array("q")
        self.ack_lat = array("q")
        self.del_sent = array("q")
        self.del_lat = array("q")
        self.acked: dict[str, list[int]] = {}
        self.errors: Counter[str] = Counter()
        self.sent = 0
        self.receipts = 0
        self.other = 0
        self.lag_max_ns = 0
        self.since_ns = 0  # reconnect: deliveries are timed from the moment of the drop

    def report(self) -> dict[str, Any]:
        return {
            "ack_sent": self.ack_sent,
            "ack_lat": self.ack_lat,
            "del_sent": self.del_sent,
            "del_lat": self.del_lat,
            "errors": dict(self.errors),
            "sent": self.sent,
            "receipts": self.receipts,
            "other": self.other,
            "lag_max_ns": self.lag_max_ns,
        }


class Client:
    """One socket of one bench account."""

    def __init__(self, worker: Worker, index: int, token: str, cursors: dict[str, int]):
        self.worker = worker
        self.index = index
        self.token = token
        self.cursors = dict(cursors)
        self.received: dict[str, list[int]] = {c: [] for c in cursors}
        self.account_id = ""
        self.proto: WsProtocol | None = None
        self.pending: dict[str, tuple[int, int, str]] = {}
        self.receipt_due: set[str] = set()
        self.closed_loop = False
        self.waiter: asyncio.Future[int] | None = None
        self._refs = itertools.count(1)
        self._n = itertools.count(1)

    async def connect(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(
            lambda: WsProtocol(host, port, WS_PATH, self.on_message), host, port
        )
        self.proto = proto
        await proto.opened
        await self.call(AUTH, {"op": "auth", "token": self.token})

    async def call(self, kind: int, frame: dict[str, Any]) -> int:
        """Send a request and wait for its answer; returns when it came (ns)."""
        self.waiter = asyncio.get_running_loop().create_future()
        self._request(kind, frame, "")
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def _request(self, kind: int, frame: dict[str, Any], conversation_id: str) -> int:
        ref = str(next(self._refs))
        frame["ref"] = ref
        t = now_ns()
        self.pending[ref] = (kind, t, conversation_id)
        assert self.proto is not None
        self.proto.send(orjson.dumps(frame))
        return t

    def send_message(self, conversation_id: str) -> None:
        if self.proto is None:
            return
        ref = str(next(self._refs))
        t = now_ns()
        self.pending[ref] = (SEND, t, conversation_id)
        self.proto.send(
            orjson.dumps(
                {
                    "op": "message.send",
                    "ref": ref,
                    "conversation_id": conversation_id,
                    "client_msg_id": f"b{t}-{self.worker.id}-{self.index}-{next(self._n)}",
                    "text": TEXT,
                }
            )
        )
        self.worker.phase.sent += 1

    def _send_receipt(self, conversation_id: str) -> None:
        self.receipt_due.discard(conversation_id)
        if self.proto is None or self.proto.closed.done():
            return
        frame = {
            "op": "receipt.update",
            "conversation_id": conversation_id,
            "read_seq": self.cursors[conversation_id],
        }
        self._request(RECEIPT, frame, conversation_id)
        self.worker.phase.receipts += 1

    # frames from the server -----------------------------------------------------------

    def on_message(self, payload: bytes) -> None:
        frame = orjson.loads(payload)
        op = frame["op"]
        if op == "message.sent":
            self._delivered(frame)
        elif op in ("ack", "error"):
            self._answered(frame, op == "ack")
        else:
            self.worker.phase.other += 1

    def _delivered(self, frame: dict[str, Any]) -> None:
        now = now_ns()
        phase = self.worker.phase
        conversation_id = frame["conversation_id"]
        seq = frame["seq"]
        cursor = self.cursors.get(conversation_id, 0)
        if seq != cursor + 1:
            # Timeline events of a conversation reach each socket once, in seq order.
            phase.errors["duplicate" if seq <= cursor else "gap"] += 1
        if seq > cursor:
            self.cursors[conversation_id] = seq
        self.received.setdefault(conversation_id, []).append(seq)
        message = frame["message"]
        client_msg_id: str = message["client_msg_id"]
        if client_msg_id[0] == "b":
            sent = int(client_msg_id[1 : client_msg_id.index("-")])
            phase.del_sent.append(sent)
            phase.del_lat.append(now - sent)
        elif phase.since_ns:
            phase.del_sent.append(phase.since_ns)
            phase.del_lat.append(now - phase.since_ns)
        read_every = self.worker.read_every
        # A client marks read what others sent; its own messages were never unread.
        if (
            read_every
            and message["sender_id"] != self.account_id
            and conversation_id not in self.receipt_due
        ):
            self.receipt_due.add(conversation_id)
            asyncio.get_running_loop().call_later(read_every, self._send_receipt, conversation_id)

    def _answered(self, frame: dict[str, Any], ok: bool) -> None:
        phase = self.worker.phase
        entry = self.pending.pop(frame.get("ref") or "", None)
        if entry is None:
            phase.errors["unexpected_reply"] += 1
            return
        kind, sent, conversation_id = entry
        now = now_ns()
        if not ok:
            phase.errors[f"{KIND_NAMES[kind]}:{frame.get('code')}"] += 1
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(RuntimeError(f"{frame.get('code')}"))
        elif kind == SEND:
            phase.ack_sent.append(sent)
            phase.ack_lat.append(now - sent)
            phase.acked.setdefault(conversation_id, []).append(frame["result"]["message"]["seq"])
        elif self.waiter is not None and not self.waiter.done():
            if kind == AUTH:
                self.account_id = frame["result"]["account_id"]
            self.waiter.set_result(now)
        if kind == SEND and self.closed_loop and self.worker.sending:
            self.send_message(conversation_id)


class Worker:
    def __init__(self, worker_id: int) -> None:
        self.id = worker_id
        self.clients: dict[int, Client] = {}
        self.phase = Phase()
        self.sending = False
        self.read_every = 0.0
        self.host = "127.0.0.1"
        self.port = 0

    # commands -------------------------------------------------------------------------

    async def cmd_connect(
        self,
        *,
        host: str,
        port: int,
        clients: list[tuple[int, str, dict[str, int]]],
        concurrency: int,
        read_every: float,
    ) -> dict[str, Any]:
        """Open and authenticate every client socket."""
        self.host, self.port, self.read_every = host, port, read_every
        self.phase = Phase()
        gate = asyncio.Semaphore(concurrency)
        times = array("q")

        async def one(index: int, token: str, cursors: dict[str, int]) -> None:
            client = Client(self, index, token, cursors)
            async with gate:
                started = now_ns()
                try:
                    async with asyncio.timeout(60):
                        await client.connect(host, port)
                except Exception as exc:
                    self.phase.errors[f"connect:{type(exc).__name__}"] += 1
                    return
                times.append(now_ns() - started)
            self.clients[index] = client

        await asyncio.gather(*(one(*spec) for spec in clients))
        return {"connected": len(self.clients), "errors": dict(self.phase.errors), "ms": times}

    async def cmd_run(
        self,
        *,
        mode: str,
        senders: list[tuple[int, str]],
        rate: float,
        count: int | None,
        start_ns: int,
        end_ns: int,
    ) -> dict[str, Any]:
        """Send from `senders` between start and end, closed-loop (each waits for its
        ack) or open-loop at `rate` messages/s; then wait for outstanding acks."""
        self.phase = Phase()
        for client in self.clients.values():
            client.received = {c: [] for c in client.cursors}
        pairs = [(self.clients[i], c) for i, c in senders if i in self.clients]
        await _sleep_until(start_ns)
        self.sending = True
        ticker: asyncio.Task[None] | None = None
        if mode == "closed":
            for client, conversation_id in pairs:
                client.closed_loop = True
                client.send_message(conversation_id)
        elif pairs and rate > 0:
            ticker = asyncio.get_running_loop().create_task(self._tick(pairs, rate, count))
        await _sleep_until(end_ns)
        self.sending = False
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        for client, _ in pairs:
            client.closed_loop = False
        deadline = now_ns() + ACK_TIMEOUT_NS
        await _poll(
            lambda: not any(self._pending_sends(c) for c in self.clients.values()), deadline
        )
        for client in self.clients.values():
            late = self._pending_sends(client)
            if late:
                self.phase.errors["send:ack_timeout"] += len(late)
                for ref in late:
                    del client.pending[ref]
        return {"acked": self.phase.acked, "sent": self.phase.sent}

    async def cmd_collect(self, *, expected: dict[str, list[int]], within: float) -> dict[str, Any]:
        """Wait until every client holds every acked message of its conversations, then
        report the phase. What has not arrived by the timeout is missing."""
        want = {c: len(seqs) for c, seqs in expected.items()}
        deadline = now_ns() + int(within * 1e9)

        def complete() -> bool:
            return all(
                len(received) >= want.get(c, 0)
                for client in self.clients.values()
                for c, received in client.received.items()
            )

        await _poll(complete, deadline)
        missing = deliveries = 0
        for client in self.clients.values():
            for c, received in client.received.items():
                got = set(received)
                deliveries += len(got)
                missing += sum(1 for seq in expected.get(c, ()) if seq not in got)
        return {**self.phase.report(), "missing": missing, "deliveries": deliveries}

    async def cmd_drop(self) -> dict[str, Any]:
        """Lose every connection at once, as a network failure would."""
        cursors = {}
        for index, client in self.clients.items():
            if client.proto is not None:
                client.proto.abort()
                client.proto = None
            client.pending.clear()
            cursors[index] = dict(client.cursors)
        return {"cursors": cursors}

    async def cmd_reconnect(
        self, *, start_ns: int, expected: dict[str, int], within: float
    ) -> dict[str, Any]:
        """Every client reconnects at once and resumes from its cursors; each is caught
        up when it holds every event up to `expected` last seq of its conversations."""
        self.phase = Phase()
        self.phase.since_ns = start_ns
        caught = array("q")
        await _sleep_until(start_ns)

        async def one(client: Client) -> None:
            before = dict(client.cursors)
            client.received = {c: [] for c in before}
            try:
                async with asyncio.timeout(within):
                    await client.connect(self.host, self.port)
                    answered = await client.call(RESUME, {"op": "resume", "conversations": before})
            except Exception as exc:
                self.phase.errors[f"reconnect:{type(exc).__name__}"] += 1
                return
            self.phase.ack_sent.append(start_ns)
            self.phase.ack_lat.append(answered - start_ns)
            missing = 0
            for c, last in before.items():
                got = set(client.received.get(c, ()))
                missing += sum(
                    1 for s in range(last + 1, expected.get(c, last) + 1) if s not in got
                )
            if missing:
                self.phase.errors["resume:missing"] += missing
            caught.append(answered - start_ns)

        await asyncio.gather(*(one(c) for c in self.clients.values()))
        deliveries = sum(len(r) for c in self.clients.values() for r in c.received.values())
        return {
            **self.phase.report(),
            "caught_up_ns": caught,
            "missing": self.phase.errors.get("resume:missing", 0),
            "deliveries": deliveries,
        }

    async def cmd_close(self) -> dict[str, Any]:
        for client in self.clients.values():
            if client.proto is not None:
                client.proto.close()
        waits = [c.proto.closed for c in self.clients.values() if c.proto is not None]
        if waits:
            await asyncio.wait(waits, timeout=5)
        self.clients.clear()
        return {}

    # helpers --------------------------------------------------------------------------

    @staticmethod
    def _pending_sends(client: Client) -> list[str]:
        return [ref for ref, entry in client.pending.items() if entry[0] == SEND]

    async def _tick(self, pairs: list[tuple[Client, str]], rate: float, count: int | None) -> None:
        """Open loop: send on schedule whatever the answers, to expose queueing."""
        random.Random(self.id).shuffle(pairs)  # noqa: S311 - load order, not a secret
        interval = 1e9 / rate
        due = float(now_ns())
        schedule = itertools.cycle(pairs)
        for client, conversation_id in itertools.islice(schedule, count):
            now = now_ns()
            if due > now:
                await asyncio.sleep((due - now) / 1e9)
                now = now_ns()
            self.phase.lag_max_ns = max(self.phase.lag_max_ns, int(now - due))
            client.send_message(conversation_id)
            due += interval


async def _poll(done: Callable[[], bool], deadline_ns: int) -> None:
    """Wait for a condition that protocol callbacks make true (they cannot await)."""
    while not done() and now_ns() < deadline_ns:  # noqa: ASYNC110 - see above
        await asyncio.sleep(0.01)


async def _sleep_until(t_ns: int) -> None:
    delay = (t_ns - now_ns()) / 1e9
    if delay > 0:
        await asyncio.sleep(delay)


def raise_fd_limit() -> int:
    """Thousands of sockets need thousands of descriptors: take the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return max(soft, hard)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:  # uvicorn[standard] brings it; stay usable without
        return asyncio.new_event_loop
    return uvloop.new_event_loop


async def _serve(conn: Connection, worker: Worker) -> None:
    loop = asyncio.get_running_loop()
    while True:
        command: dict[str, Any] = await loop.run_in_executor(None, conn.recv)
        name = command.pop("cmd")
        if name == "exit":
            await worker.cmd_close()
            conn.send({})
            return
        handler: Callable[..., Coroutine[Any, Any, dict[str, Any]]] = getattr(worker, f"cmd_{name}")
        try:
            result = await handler(**command)
        except Exception as exc:
            result = {"failed": f"{type(exc).__name__}: {exc}"}
        conn.send(result)


def worker_main(conn: Connection, worker_id: int) -> None:
    """Entry point of a load-generator process."""
    raise_fd_limit()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_serve(conn, Worker(worker_id)))
