"""Sending one e-mail through the configured SMTP relay (aiosmtplib).

`send(to, subject, text)` (plain text) and `send_message(message)` (a message the caller
built, e.g. multipart e-mail notifications) either hand the message to the relay or raise:
MailUnavailable when it might work later (relay down, slow, or answering 4xx), so the
caller's job runs again; MailRejected when the relay refused it for good (5xx, e.g. no
such mailbox). Both carry a reason code, never the address or the text. Whoever calls
this builds the text from careline/mail/words.py, which holds no health data.
"""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid

import aiosmtplib

from careline import config


class MailUnavailable(Exception):
    """Not now: the relay is down, too slow, or deferred the message. Try again later."""


class MailRejected(Exception):
    """The relay refused the message permanently; sending it again will not help."""


def configured() -> bool:
    """Whether careline sends e-mail at all (CARELINE_SMTP_HOST is set)."""
    return config.current().smtp_host is not None


def _message(to: str, subject: str, text: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or None)
    message.set_content(text)
    return message


def _classify(exc: aiosmtplib.SMTPException) -> Exception:
    code = getattr(exc, "code", None)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [e.code for e in exc.recipients]
        code = min(codes) if codes else None
    if isinstance(code, int) and 500 <= code < 600:
        return MailRejected(f"smtp_{code}")
    if isinstance(code, int):
        return MailUnavailable(f"smtp_{code}")
    return MailUnavailable("smtp_error")


async def send(to: str, subject: str, text: str) -> None:
    """Hand one plain-text message to the relay, or raise MailUnavailable / MailRejected."""
    await send_message(_message(to, subject, text, config.current().smtp_from))


def _tls_context(settings: config.Settings) -> ssl.SSLContext:
    """The relay's certificate is checked, against CARELINE_SMTP_CA_FILE if set."""
    cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    return ssl.create_default_context(cafile=cafile)


async def send_message(message: EmailMessage) -> None:
    """Hand a whole message (its From, To and every header already set by the caller) to
    the relay, or raise MailUnavailable / MailRejected. Implicit TLS when
    CARELINE_SMTP_TLS is on, else STARTTLS when CARELINE_SMTP_STARTTLS is on."""
    settings = config.current()
    if settings.smtp_host is None:
        raise MailUnavailable("smtp_not_configured")
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    implicit = settings.smtp_tls
    starttls = settings.smtp_starttls and not implicit
    # Flattened here, with the message's own policy (aiosmtplib would refold every header
    # at 78 characters with its own, encoding a long unbreakable one such as a
    # List-Unsubscribe URL into RFC 2047 words).
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    recipients = [address for _, address in getaddresses(message.get_all("To", []))]
    try:
        await aiosmtplib.send(
            data,
            sender=settings.smtp_from,
            recipients=recipients,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            use_tls=implicit,
            # Explicit both ways: left to itself aiosmtplib upgrades whenever offered.
            start_tls=starttls,
            tls_context=_tls_context(settings) if implicit or starttls else None,
            timeout=settings.smtp_timeout_seconds,
        )
    except aiosmtplib.SMTPTimeoutError:
        raise MailUnavailable("smtp_timeout") from None
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected):
        raise MailUnavailable("smtp_down") from None
    except aiosmtplib.SMTPException as exc:
        raise _classify(exc) from None
    except ssl.SSLError:
        raise MailUnavailable("smtp_tls") from None
    except OSError:
        raise MailUnavailable("smtp_down") from None
