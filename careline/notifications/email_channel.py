"""The e-mail channel: one notification e-mail per unread stretch of a conversation,
and the hand-over every e-mail of this domain shares (digests use it too).

A message is multipart/alternative, plain text and HTML, both made by words.email from
`Facts` only; From shows the organisation's name; `List-Unsubscribe` and
`List-Unsubscribe-Post` (RFC 8058) carry a signed, expiring one-click link that turns
off exactly this kind of e-mail. Every hand-over is recorded as an attempt (a reason
code, never an address). A relay that is down or answers 4xx makes the delivery
`retry`; a 5xx is `failed` for good.
"""

from __future__ import annotations

import uuid
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from careline import config
from careline.db.tx import Actor, transaction
from careline.mail import smtp
from careline.notifications import attempts, channels, email_store, unsubscribe, words
from careline.notifications.channels import ChannelName, Delivery, Result

# Headers stay on one line up to RFC 5322's 998: folded at 78, a long List-Unsubscribe
# URL (no spaces to fold at) would become RFC 2047 encoded words no mail client reads.
POLICY = policy.default.clone(max_line_length=998)
RETRY_SECONDS = 60.0  # a relay that is down or deferring is tried again after this
ONE_CLICK = "List-Unsubscribe=One-Click"  # RFC 8058 section 3.1


def compose(to: str, content: words.Email, *, organisation: str, token: str) -> EmailMessage:
    """The whole message: headers, then text and HTML alternatives."""
    sender = config.current().smtp_from
    local, _, domain = sender.partition("@")
    message = EmailMessage(policy=POLICY)
    message["From"] = Address(
        display_name=" ".join(organisation.split()), username=local, domain=domain
    )
    message["To"] = to
    message["Subject"] = content.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=domain or None)
    message["List-Unsubscribe"] = f"<{words.unsubscribe_link(token)}>"
    message["List-Unsubscribe-Post"] = ONE_CLICK
    # RFC 3834: sent by a machine; autoresponders should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    return message


async def hand_over(
    message: EmailMessage,
    *,
    tenant_id: uuid.UUID,
    account_id: uuid.UUID,
    notification_id: uuid.UUID | None,
    channel: Literal["email", "digest"],
    kind: str,
) -> Result:
    """Send, and record the attempt (as the system, in its own transaction)."""
    try:
        await smtp.send_message(message)
    except smtp.MailUnavailable as exc:
        result = Result("retry", retry_after=RETRY_SECONDS, reason=str(exc))
        outcome: attempts.Outcome = "retrying"
    except smtp.MailRejected as exc:
        result, outcome = Result("failed", reason=str(exc)), "refused"
    else:
        result, outcome = Result("sent"), "sent"
    code = (result.reason or "").removeprefix("smtp_")
    status = int(code) if code.isdigit() else None  # the relay's reply code, e.g. 550
    async with transaction(Actor.system(tenant_id)) as tx:
        await attempts.record(
            tx,
            tenant_id=tenant_id,
            account_id=account_id,
            notification_id=notification_id,
            channel=channel,
            kind=kind,
            outcome=outcome,
            reason=result.reason,
            status=status,
        )
    return result


class EmailChannel:
    """channels.Channel for e-mail notifications."""

    name: ChannelName = "email"

    async def send(self, delivery: Delivery) -> Result:
        if not delivery.kind.email:
            return Result("nothing", reason="kind_without_email")
        if not smtp.configured():
            return Result("nothing", reason="smtp_not_configured")
        async with transaction(Actor.system(delivery.tenant_id), readonly=True) as tx:
            address = await email_store.get_address(tx, delivery.account_id)
        if address is None:
            return Result("nothing", reason="no_address")
        token = unsubscribe.make_token(delivery.tenant_id, delivery.account_id, "email")
        content = words.email(delivery.facts, unsubscribe_token=token)
        message = compose(address, content, organisation=delivery.facts.organisation, token=token)
        return await hand_over(
            message,
            tenant_id=delivery.tenant_id,
            account_id=delivery.account_id,
            notification_id=delivery.notification_id,
            channel="email",
            kind=delivery.kind.name,
        )


CHANNEL = EmailChannel()
channels.register(CHANNEL)
