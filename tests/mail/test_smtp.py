"""The mail adapter against a real SMTP server: delivered, postponed when the relay is
down, refused for good on a 5xx."""

from __future__ import annotations

import pytest

from careline.mail import smtp
from tests.support.server import RunningServer
from tests.support.smtp import SmtpServer


async def test_a_message_reaches_the_relay(relay: SmtpServer) -> None:
    await smtp.send("pat@example.org", "Hello", "Plain words.\n")
    [message] = await relay.inbox.wait_for(1)
    assert message["To"] == "pat@example.org"
    assert message["From"] == "careline@localhost"
    assert message["Subject"] == "Hello"
    assert message.get_content().replace("\r\n", "\n") == "Plain words.\n"


async def test_a_relay_that_is_down_means_try_later(relay: SmtpServer) -> None:
    relay.stop()
    try:
        with pytest.raises(smtp.MailUnavailable, match="smtp_down"):
            await smtp.send("pat@example.org", "Hello", "Plain words.\n")
    finally:
        relay.start()


async def test_a_refused_recipient_is_refused_for_good(relay: SmtpServer) -> None:
    relay.inbox.refuse_code = "550 no such mailbox"
    with pytest.raises(smtp.MailRejected, match="smtp_550"):
        await smtp.send("nobody@example.org", "Hello", "Plain words.\n")
    relay.inbox.refuse_code = "451 try again later"
    with pytest.raises(smtp.MailUnavailable, match="smtp_451"):
        await smtp.send("nobody@example.org", "Hello", "Plain words.\n")


async def test_without_a_relay_nothing_is_configured(server: RunningServer) -> None:
    assert not smtp.configured()
    with pytest.raises(smtp.MailUnavailable, match="smtp_not_configured"):
        await smtp.send("pat@example.org", "Hello", "Plain words.\n")
