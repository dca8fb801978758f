"""Wire shapes of attachments (inside messages, and on their own) and their events.

Events carry ids, states and numbers only: never a file's name or content. A file's
name reaches people only inside a message they may read, or from the API.
"""

from __future__ import annotations

from typing import Any

from careline.attachments.records import Attachment, Link, State

# To the uploader's devices: a scan finished (available or quarantined).
ATTACHMENT_UPDATED = "attachment.updated"
# To the tenant's admins: malware was found and the file quarantined.
ATTACHMENT_QUARANTINED = "attachment.quarantined"

QUARANTINE_REASON = (
    "A virus scan found malware in this file, so it was quarantined: nobody can open or "
    "download it. If you think this is wrong, contact your organisation's admin."
)


def attachment_wire(a: Attachment) -> dict[str, Any]:
    """An available attachment, as it appears inside a message."""
    return {
        "id": str(a.id),
        "name": a.name,
        "media_type": a.media_type,
        "kind": a.kind.value,
        "size": a.size,
        "width": a.width,
        "height": a.height,
        "previews": [v.value for v in a.previews],
    }


def reason(a: Attachment) -> str | None:
    if a.state is State.QUARANTINED:
        return QUARANTINE_REASON
    if a.state is State.PENDING:
        return "Waiting for the virus scan: the file can't be opened or sent until it is done."
    return None


def attachment_read(a: Attachment, links: dict[str, Link]) -> dict[str, Any]:
    """An attachment with its state and the caller's own download links."""
    return {
        **attachment_wire(a),
        "conversation_id": str(a.conversation_id),
        "uploader_id": str(a.uploader_id),
        "message_id": str(a.message_id) if a.message_id else None,
        "state": a.state.value,
        "reason": reason(a),
        "scan_result": a.scan_result if a.state is State.QUARANTINED else None,
        "created_at": a.created_at.isoformat(),
        "links": {name: link.url for name, link in links.items()},
        "links_expire_at": min((link.expires_at for link in links.values()), default=None),
    }
