"""The bench's push endpoint: a small aiohttp server on loopback that takes the place of
a browser's push service for `careline bench notify` (docs/performance.md, "Notify").

Each bench person gets a subscription of their own (`Subscriber`: a P-256 key pair and
an auth secret, as a browser makes them) whose endpoint is `/push/<name>` here. The sink
accepts only what a real push service would: a VAPID `Authorization` (RFC 8292: an ES256
JWT whose `aud` is this endpoint's origin, `exp` within 24 h, a `sub`), a `TTL`,
`Content-Encoding: aes128gcm`, and a body that decrypts (RFC 8291) with the
subscriber's private key. It answers 201 and records when each push arrived
(`time.time()`, the clock PostgreSQL's `now()` reads) and the payload it carried; what it
refuses is answered 400 and counted by reason.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import http_ece
import orjson
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from careline.bench.server import HOST, free_port

VAPID_MAX_SECONDS = 24 * 3600  # RFC 8292 section 2: exp no more than 24 hours ahead


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Refused(Exception):
    """A push a real push service would refuse: the reason is a short code."""


@dataclass(slots=True)
class Subscriber:
    """One device's side of a push subscription, as the browser's PushManager makes it."""

    name: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def subscription(self, endpoint: str) -> dict[str, Any]:
        """The JSON a browser's PushSubscription.toJSON() gives."""
        return {
            "endpoint": endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(self.public_key()), "auth": b64url(self.auth)},
        }


@dataclass(frozen=True, slots=True)
class Arrival:
    name: str
    at: float  # time.time() when the request's body was in
    payload: dict[str, Any]
    urgency: str | None
    topic: str | None
    ttl: int


def _vapid(authorization: str, crypto_key: str) -> tuple[str, bytes]:
    """The JWT and the public key from either form of the VAPID header: RFC 8292's
    `vapid t=<jwt>, k=<key>`, or the older `WebPush <jwt>` with `Crypto-Key: p256ecdsa=`."""
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() == "vapid":
        params = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part.strip())
        if "t" not in params or "k" not in params:
            raise Refused("vapid_params")
        return params["t"], unb64url(params["k"])
    if scheme.lower() == "webpush":
        for part in crypto_key.split(";"):
            name, _, value = part.strip().partition("=")
            if name == "p256ecdsa":
                return rest.strip(), unb64url(value)
        raise Refused("vapid_crypto_key")
    raise Refused("vapid_missing")


def check_vapid(authorization: str, crypto_key: str, *, origin: str, now: float) -> None:
    """RFC 8292: an ES256 JWT signed by the key given beside it, for this origin, not
    expired and expiring within 24 h, with a contact (`sub`)."""
    token, key = _vapid(authorization, crypto_key)
    try:
        head_b64, claims_b64, signature_b64 = token.split(".")
        head = orjson.loads(unb64url(head_b64))
        claims = orjson.loads(unb64url(claims_b64))
        signature = unb64url(signature_b64)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise Refused("vapid_malformed") from exc
    if head.get("alg") != "ES256" or len(signature) != 64:
        raise Refused("vapid_alg")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        public.verify(
            encode_dss_signature(r, s),
            f"{head_b64}.{claims_b64}".encode(),
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature as exc:
        raise Refused("vapid_signature") from exc
    if claims.get("aud") != origin:
        raise Refused("vapid_aud")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or not now < exp <= now + VAPID_MAX_SECONDS:
        raise Refused("vapid_exp")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
        raise Refused("vapid_sub")


class PushSink:
    """The endpoint, its subscribers, and what arrived."""

    def __init__(self) -> None:
        self.port = free_port()
        self.origin = f"http://{HOST}:{self.port}"
        self.subscribers: dict[str, Subscriber] = {}
        self.arrivals: list[Arrival] = []
        self.refused: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None

    def subscribe(self, name: str) -> dict[str, Any]:
        """A new subscriber: the subscription JSON to give careline."""
        subscriber = self.subscribers[name] = Subscriber(name)
        return subscriber.subscription(f"{self.origin}/push/{name}")

    async def start(self) -> PushSink:
        app = web.Application()
        app.router.add_post("/push/{name}", self._push)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> PushSink:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _push(self, request: web.Request) -> web.Response:
        body = await request.read()
        at = time.time()
        subscriber = self.subscribers.get(request.match_info["name"])
        if subscriber is None:
            self.refused["unknown_subscription"] += 1
            return web.Response(status=404)
        try:
            arrival = self._check(request, body, subscriber, at)
        except Refused as exc:
            self.refused[str(exc)] += 1
            return web.Response(status=400, text=str(exc))
        self.arrivals.append(arrival)
        return web.Response(
            status=201, headers={"Location": f"{self.origin}/m/{len(self.arrivals)}"}
        )

    def _check(
        self, request: web.Request, body: bytes, subscriber: Subscriber, at: float
    ) -> Arrival:
        check_vapid(
            request.headers.get("Authorization", ""),
            request.headers.get("Crypto-Key", ""),
            origin=self.origin,
            now=at,
        )
        if request.headers.get("Content-Encoding", "").lower() != "aes128gcm":
            raise Refused("content_encoding")
        try:
            ttl = int(request.headers["TTL"])
        except (KeyError, ValueError) as exc:
            raise Refused("ttl") from exc
        urgency = request.headers.get("Urgency")
        if urgency is not None and urgency not in ("very-low", "low", "normal", "high"):
            raise Refused("urgency")
        topic = request.headers.get("Topic")
        if topic is not None and (len(topic) > 32 or not _is_b64url(topic)):
            raise Refused("topic")  # RFC 8030 section 5.4
        try:
            plain = http_ece.decrypt(
                body,
                private_key=subscriber.private_key,
                auth_secret=subscriber.auth,
                version="aes128gcm",
            )
            payload = orjson.loads(plain)
        except Exception as exc:  # http_ece raises several kinds for a bad body
            raise Refused("decrypt") from exc
        if not isinstance(payload, dict):
            raise Refused("payload")
        return Arrival(subscriber.name, at, payload, urgency, topic, ttl)


def _is_b64url(text: str) -> bool:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return all(c in alphabet for c in text)
