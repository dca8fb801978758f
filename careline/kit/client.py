"""Where the request being served came from (address and user agent), for the audit.

The HTTP guard sets it for every request and socket (careline/web/http.py); the audit
reads it when an access is recorded (careline/audit/service.py). A job or the CLI has
none, and its audit events say so by leaving both empty.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

# A user agent is kept to this many characters: enough to tell browsers apart.
USER_AGENT_MAX_CHARS = 256


@dataclass(frozen=True, slots=True)
class ClientInfo:
    source: str | None
    user_agent: str | None


_current: ContextVar[ClientInfo | None] = ContextVar("careline_client", default=None)


def current() -> ClientInfo | None:
    return _current.get()


def use_scope(scope: Any) -> None:
    """Remember the client of an ASGI `scope` for the rest of this task. uvicorn has
    already replaced the peer with X-Forwarded-For when it came from a trusted proxy."""
    peer = scope.get("client")
    agent = None
    for name, value in scope.get("headers", ()):
        if name == b"user-agent":
            agent = value.decode("latin-1")[:USER_AGENT_MAX_CHARS]
            break
    _current.set(ClientInfo(source=peer[0] if peer else None, user_agent=agent))
