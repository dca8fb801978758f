"""Background jobs of the invitations domain: e-mailing an invitation's link, and a
sweep that re-defers e-mails a crash may have lost.

The job carries ids only. It mints the link's token itself (so no token waits anywhere
in the clear), sends, and records the outcome; an invitation already sent, withdrawn or
accepted makes it do nothing. Run twice after a crash between sending and recording, it
sends a second e-mail whose link replaces the first: never a working link lost.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid

from procrastinate.exceptions import AlreadyEnqueued

from careline import config
from careline.db.tx import Actor, transaction
from careline.invitations import service as invitation_service
from careline.jobs.app import RetryLater, RetryWhenAsked, app
from careline.kit import clock
from careline.mail import smtp, words
from careline.tenants import service as tenant_service

log = logging.getLogger(__name__)

QUEUE = "mail"
MAIL_RETRY_SECONDS = 60.0
_SWEEP_BATCH = 500
_OVERDUE_SECONDS = 120  # an invitation still unsent after this has probably lost its job


@app.task(name="invitations.mail", queue=QUEUE, retry=RetryWhenAsked())
async def mail_invitation(invitation_id: str, tenant_id: str) -> None:
    actor = Actor.system(uuid.UUID(tenant_id))
    async with transaction(actor) as tx:
        minted = await invitation_service.internal_mint_for_mail(tx, uuid.UUID(invitation_id))
        if minted is None:
            return
        invitation, token = minted
        tenant = await tenant_service.get_tenant(tx, invitation.tenant_id)
    message = words.invitation(
        organisation=tenant.name,
        link=invitation_service.invitation_link(token),
        days=config.current().invitation_days,
    )
    try:
        await smtp.send(invitation.email, message.subject, message.text)
    except smtp.MailUnavailable as exc:
        log.warning("invitation e-mail postponed", extra={"invitation_id": invitation_id})
        raise RetryLater(str(exc), after=MAIL_RETRY_SECONDS) from None
    except smtp.MailRejected as exc:
        log.warning(
            "invitation e-mail refused", extra={"invitation_id": invitation_id, "reason": str(exc)}
        )
        async with transaction(actor) as tx:
            await invitation_service.internal_note_mail(tx, invitation.id, token, delivered=False)
        return
    async with transaction(actor) as tx:
        await invitation_service.internal_note_mail(tx, invitation.id, token, delivered=True)


async def defer_mail(invitation_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
    """Queue the e-mail of a committed invitation (once: one already queued stands)."""
    with contextlib.suppress(AlreadyEnqueued):
        await mail_invitation.configure(
            queueing_lock=f"invite:{invitation_id}", lock=f"invite:{invitation_id}"
        ).defer_async(invitation_id=str(invitation_id), tenant_id=str(tenant_id))


@app.periodic(cron="*/5 * * * *", periodic_id="invitations.requeue")
@app.task(name="invitations.requeue", queue=QUEUE)
async def requeue_unmailed(timestamp: int) -> None:
    """Every five minutes: invitations still waiting for their e-mail a while after they
    were made are deferred again (a no-op for those queued or waiting to retry)."""
    older_than = clock.now() - dt.timedelta(seconds=_OVERDUE_SECONDS)
    async with transaction(Actor.system(), readonly=True) as tx:
        overdue = await invitation_service.internal_unmailed(
            tx, older_than=older_than, limit=_SWEEP_BATCH
        )
    for invitation_id, tenant_id in overdue:
        await defer_mail(invitation_id, tenant_id)
