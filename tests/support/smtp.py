"""A real SMTP server (aiosmtpd) on a loopback port, keeping what it receives (parsed,
and the raw bytes), in the clear, behind STARTTLS or with implicit TLS."""

from __future__ import annotations

import asyncio
import email
import ssl
import threading
from email import policy
from email.message import EmailMessage
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Inbox:
    """The handler: every message accepted, parsed; recipients it refuses on request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        self._raw: list[bytes] = []
        self.refuse_code: str | None = None  # e.g. "550 no such mailbox"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.refuse_code is not None:
            return self.refuse_code
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self._messages.append(parsed)
            self._raw.append(content)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    @property
    def raw(self) -> list[bytes]:
        """Each message's DATA exactly as the server received it."""
        with self._lock:
            return list(self._raw)

    async def wait_for(self, count: int, *, within: float = 15.0) -> list[EmailMessage]:
        """Poll (bounded) until `count` messages have arrived."""
        for _ in range(int(within / 0.05)):
            if len(self.messages) >= count:
                return self.messages
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} e-mails, got {len(self.messages)}")


class SmtpServer:
    """`tls`: None (plain), "starttls" (STARTTLS required before MAIL) or "implicit"
    (SMTPS: TLS from the first byte), with `context` holding the server's certificate."""

    def __init__(
        self,
        port: int,
        *,
        tls: Literal["starttls", "implicit"] | None = None,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.inbox = Inbox()
        self.port = port
        self.tls = tls
        self.context = context
        self._controller: Controller | None = None

    def start(self) -> None:
        # A Controller's loop closes when it stops, so each start makes a new one.
        options: dict[str, Any] = {}
        if self.tls == "implicit":
            options["ssl_context"] = self.context
        elif self.tls == "starttls":
            options.update(tls_context=self.context, require_starttls=True)
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
