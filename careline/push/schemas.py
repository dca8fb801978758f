"""Wire models of the push API: a subscription as PushSubscription.toJSON() gives it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from careline.kit import limits


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="ignore")
    # Lengths are checked by the service (a documented 422 code), not here.
    p256dh: str = Field(description="base64url of the browser's P-256 public key (65 bytes).")
    auth: str = Field(description="base64url of the 16-byte authentication secret.")


class SubscriptionCreate(BaseModel):
    # toJSON() also carries expirationTime (and browsers may add more): taken, not kept.
    model_config = ConfigDict(extra="ignore")
    endpoint: str = Field(
        description=f"The push service URL (https; at most {limits.PUSH_ENDPOINT_MAX_CHARS})."
    )
    keys: PushKeys


class SubscriptionDelete(BaseModel):
    model_config = ConfigDict(extra="ignore")
    endpoint: str


class SubscriptionRead(BaseModel):
    id: str


class SubscriptionListed(BaseModel):
    id: str
    endpoint: str
    created_at: datetime
    last_sent_at: datetime | None


class ServerKeyRead(BaseModel):
    key: str = Field(description="careline's VAPID public key: the applicationServerKey.")
