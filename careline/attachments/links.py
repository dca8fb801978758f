"""Short-lived download links, bound to the person they were made for.

A link is `/api/v1/files/<attachment>/<variant>?exp=<unix time>&sig=<mac>`, where the
MAC (HMAC-SHA256 under a key derived from the master key) covers the attachment, the
variant, the expiry and the account and tenant of the person it was made for. That
person is not in the URL: the download request must be signed in as them, so a link
pasted elsewhere, altered in any part, or used after its expiry opens nothing. The
access check (still a participant? still available?) runs again on every download.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid

from careline.attachments.records import Link, VariantName
from careline.keys import service as key_service
from careline.kit import clock
from careline.kit.errors import AppError

_PURPOSE = "attachments.download-link"


class LinkInvalid(AppError):
    status, code, title = 403, "link_invalid", "Link not valid"


class LinkExpired(AppError):
    status, code, title = 403, "link_expired", "Link expired"


def _mac(
    attachment_id: uuid.UUID,
    variant: VariantName,
    *,
    account_id: uuid.UUID,
    tenant_id: uuid.UUID,
    expires: int,
) -> str:
    message = f"{attachment_id}|{variant.value}|{account_id}|{tenant_id}|{expires}".encode()
    digest = hmac.new(key_service.derived_secret(_PURPOSE), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_link(
    attachment_id: uuid.UUID,
    variant: VariantName,
    *,
    account_id: uuid.UUID,
    tenant_id: uuid.UUID,
    ttl_seconds: int,
    now: dt.datetime | None = None,
) -> Link:
    expires_at = (now or clock.now()) + dt.timedelta(seconds=ttl_seconds)
    expires = int(expires_at.timestamp())
    sig = _mac(attachment_id, variant, account_id=account_id, tenant_id=tenant_id, expires=expires)
    url = f"/api/v1/files/{attachment_id}/{variant.value}?exp={expires}&sig={sig}"
    return Link(url=url, expires_at=dt.datetime.fromtimestamp(expires, dt.UTC))


def check_link(
    attachment_id: uuid.UUID,
    variant: VariantName,
    *,
    account_id: uuid.UUID,
    tenant_id: uuid.UUID,
    expires: int,
    sig: str,
) -> None:
    """LinkInvalid unless the MAC matches for this person; LinkExpired after its time.
    The MAC is checked first, so an altered expiry reads as invalid, not expired."""
    expected = _mac(
        attachment_id, variant, account_id=account_id, tenant_id=tenant_id, expires=expires
    )
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise LinkInvalid("this link is not valid for you: ask for a new one")
    if expires < clock.now().timestamp():
        raise LinkExpired("this link has expired: open the file again to get a new one")
