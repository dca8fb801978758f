"""A send from a person, transaction included: what the HTTP and socket transports call.

The one place in messages that opens transactions, because a retried send is found by
failing: the insert meets the client_msg_id it used before, the transaction (which has
taken a seq) rolls back, and a second one returns the original. A look-up before every
send would cost every send a round trip to spare the rare retry one.
"""

from __future__ import annotations

import uuid

from careline.db.tx import Actor, transaction
from careline.messages import service as message_service
from careline.messages.records import Message


async def send_message(
    actor: Actor,
    conversation_id: uuid.UUID,
    *,
    client_msg_id: str,
    text: str,
    reply_to_id: uuid.UUID | None = None,
    attachment_ids: list[uuid.UUID] | None = None,
) -> tuple[Message, bool]:
    """The message and whether it is new (False: the original of a retried send).
    Spends from the sender's budgets first (a retry too: it costs a transaction)."""
    await message_service.check_send_budget(actor, conversation_id)
    try:
        async with transaction(actor) as tx:
            message = await message_service.do_send_message(
                tx,
                conversation_id,
                client_msg_id=client_msg_id,
                text=text,
                reply_to_id=reply_to_id,
                attachment_ids=attachment_ids,
            )
        return message, True
    except message_service.SentBefore:
        async with transaction(actor, readonly=True) as tx:
            return await message_service.sent_before(tx, conversation_id, client_msg_id), False
