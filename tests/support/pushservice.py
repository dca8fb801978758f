"""A local push service (RFC 8030) on a loopback port, the one fake the tests allow: it
stands for the browser vendors' push services on the internet, and it checks every
request careline makes against the RFCs before it answers.

Checked on every POST (a broken rule answers 400 and is kept in `problems`):
- RFC 8292 (VAPID): `Authorization: vapid t=<JWT>,k=<key>`; the JWT's header says ES256
  and its signature verifies under `k`; `k` is the applicationServerKey the subscription
  was made with; `aud` is this endpoint's origin; `exp` is in the future and at most
  24 hours ahead; `sub` is a mailto: or https: URL.
- RFC 8030: a `TTL` header (a whole number of seconds); `Urgency`, if sent, one of
  very-low, low, normal, high; `Topic`, if sent, at most 32 base64url characters; a
  body of at most 4096 bytes.
- RFC 8291 / RFC 8188: `Content-Encoding: aes128gcm`, and the body decrypts with the
  subscription's private key and auth secret (the payload careline meant for the
  browser, here readable by the test).

It answers 201 Created (with a Location) unless told otherwise per subscription:
`answer(sub, 410)`, `answer(sub, 429, retry_after=1)`, `answer(sub, 500, times=2)`.
It runs on its own thread and event loop, so it serves whatever loop careline uses.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_URGENCY = {"very-low", "low", "normal", "high"}
_SUB = re.compile(r"^(mailto:[^@\s]+@\S+|https://\S+)$")
PAYLOAD_MAX_BYTES = 4096  # RFC 8030 section 7.2: what every push service must take


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """One browser's subscription: its keys (what the browser would hold) and the
    applicationServerKey it subscribed with."""

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    server_key: str | None  # base64url applicationServerKey; None: any is taken

    @property
    def p256dh(self) -> str:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(public)

    def subscription(self) -> dict[str, Any]:
        """As PushSubscription.toJSON() gives it: what the browser POSTs to careline."""
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)},
        }


@dataclass
class Received:
    subscriber: str
    status: int  # what the service answered
    headers: dict[str, str]
    claims: dict[str, Any] | None
    payload: dict[str, Any] | None  # decrypted, when the request was sound
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Answer:
    status: int
    retry_after: str | None
    times: int


class PushService:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, Subscriber] = {}
        self._answers: dict[str, list[_Answer]] = {}
        self._received: list[Received] = []
        self.problems: list[str] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # --- running ---

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the push service did not start")

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_post("/push/{id}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        server = site._server  # aiohttp keeps the bound port here
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # --- what a test does ---

    def subscriber(self, *, server_key: str | None = None) -> Subscriber:
        """A new browser subscription on this service (keys made as a browser would)."""
        sub_id = uuid.uuid4().hex
        made = Subscriber(
            id=sub_id,
            endpoint=f"{self.origin}/push/{sub_id}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth=os.urandom(16),
            server_key=server_key,
        )
        with self._lock:
            self._subscribers[sub_id] = made
        return made

    def answer(
        self, sub: Subscriber, status: int, *, retry_after: str | int | None = None, times: int = 1
    ) -> None:
        """The next `times` pushes to `sub` get `status` (then 201 again). 404 and 410 stay
        for good, as a real service's answer for an expired subscription does."""
        with self._lock:
            self._answers.setdefault(sub.id, []).append(
                _Answer(status, None if retry_after is None else str(retry_after), times)
            )

    def received(self, sub: Subscriber) -> list[Received]:
        """Every request for `sub`, whatever it was answered."""
        with self._lock:
            return [r for r in self._received if r.subscriber == sub.id]

    def delivered(self, sub: Subscriber) -> list[dict[str, Any]]:
        """The decrypted payloads `sub` accepted (answered 2xx)."""
        return [r.payload for r in self.received(sub) if r.status < 300 and r.payload is not None]

    async def wait_for(
        self, sub: Subscriber, count: int, *, within: float = 15.0, delivered: bool = True
    ) -> list[Received]:
        """Poll (bounded) until `sub` has `count` requests (2xx ones by default)."""
        deadline = time.monotonic() + within
        while True:
            got = [r for r in self.received(sub) if not delivered or r.status < 300]
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} pushes, got {len(got)}: {self.problems}")
            await asyncio.sleep(0.02)

    # --- the service ---

    def _next_answer(self, sub_id: str) -> _Answer | None:
        with self._lock:
            queue = self._answers.get(sub_id, [])
            if not queue:
                return None
            head = queue[0]
            if head.status not in (404, 410):
                head.times -= 1
                if head.times <= 0:
                    queue.pop(0)
            return head

    async def _handle(self, request: web.Request) -> web.Response:
        sub_id = request.match_info["id"]
        with self._lock:
            sub = self._subscribers.get(sub_id)
        if sub is None:
            return web.Response(status=404)
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            claims = self._check_vapid(sub, headers.get("authorization", ""))
            self._check_headers(headers, body)
            payload = self._decrypt(sub, body)
        except ValueError as exc:
            with self._lock:
                self.problems.append(str(exc))
                self._received.append(Received(sub_id, 400, headers, None, None))
            return web.json_response({"error": str(exc)}, status=400)
        scripted = self._next_answer(sub_id)
        status = 201 if scripted is None else scripted.status
        with self._lock:
            self._received.append(Received(sub_id, status, headers, claims, payload))
        if status == 201:
            return web.Response(
                status=201, headers={"Location": f"{self.origin}/m/{uuid.uuid4().hex}"}
            )
        extra = {"Retry-After": scripted.retry_after} if scripted and scripted.retry_after else {}
        return web.Response(status=status, headers=extra)

    def _check_vapid(self, sub: Subscriber, authorization: str) -> dict[str, Any]:
        match = re.fullmatch(r"vapid t=([A-Za-z0-9_\-.]+),\s*k=([A-Za-z0-9_-]+)", authorization)
        if match is None:
            raise ValueError("Authorization is not `vapid t=...,k=...` (RFC 8292 section 3)")
        token, key = match.groups()
        parts = token.split(".")
        if len(parts) != 3:
            raise ValueError("the VAPID token is not a JWS compact serialisation")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims: dict[str, Any] = json.loads(b64url_decode(parts[1]))
        except ValueError:
            raise ValueError("the VAPID token's header or claims are not JSON") from None
        if header.get("alg") != "ES256":
            raise ValueError(f"the VAPID token is signed with {header.get('alg')!r}, not ES256")
        if len(b64url_decode(key)) != 65:
            raise ValueError("k is not an uncompressed P-256 key")
        if sub.server_key is not None and key != sub.server_key:
            raise ValueError("k is not the applicationServerKey of the subscription (RFC 8292 4)")
        if not Vapid02.verify(authorization):
            raise ValueError("the VAPID token's signature does not verify under k")
        if claims.get("aud") != self.origin:
            raise ValueError(f"aud {claims.get('aud')!r} is not the endpoint's origin")
        exp = claims.get("exp")
        now = time.time()
        if not isinstance(exp, int) or not now < exp <= now + 24 * 3600:
            raise ValueError(f"exp {exp!r} is not within the next 24 hours")
        if not isinstance(claims.get("sub"), str) or not _SUB.match(claims["sub"]):
            raise ValueError(f"sub {claims.get('sub')!r} is not a mailto: or https: URL")
        return claims

    def _check_headers(self, headers: dict[str, str], body: bytes) -> None:
        ttl = headers.get("ttl")
        if ttl is None or not ttl.isdigit():
            raise ValueError(f"TTL {ttl!r} is not a whole number of seconds (RFC 8030 5.2)")
        urgency = headers.get("urgency")
        if urgency is not None and urgency not in _URGENCY:
            raise ValueError(f"Urgency {urgency!r} is not one of RFC 8030 5.3")
        topic = headers.get("topic")
        if topic is not None and not _TOPIC.match(topic):
            raise ValueError(f"Topic {topic!r} is not 1-32 base64url characters (RFC 8030 5.4)")
        if headers.get("content-encoding") != "aes128gcm":
            raise ValueError("Content-Encoding is not aes128gcm (RFC 8291 section 4)")
        if not body or len(body) > PAYLOAD_MAX_BYTES:
            raise ValueError(f"the body is {len(body)} bytes (1 to 4096)")

    def _decrypt(self, sub: Subscriber, body: bytes) -> dict[str, Any]:
        try:
            plain = http_ece.decrypt(
                body, private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm"
            )
        except Exception as exc:  # any failure to open is the finding
            raise ValueError(
                f"the body does not decrypt with the subscription's keys: {exc}"
            ) from None
        try:
            payload: dict[str, Any] = json.loads(plain)
        except ValueError:
            raise ValueError("the decrypted payload is not JSON") from None
        return payload
