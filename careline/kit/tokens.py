"""Opaque bearer tokens: random, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def derive(secret: bytes | str, purpose: str) -> str:
    """A value bound to `secret` for one purpose (e.g. the CSRF token of a session)."""
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, purpose.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
