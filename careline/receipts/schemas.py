"""Wire models of the receipts API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class ReceiptWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delivered_seq: StrictInt | None = Field(None, ge=0, le=2**62)
    read_seq: StrictInt | None = Field(None, ge=0, le=2**62)


class ReceiptRead(BaseModel):
    delivered_seq: int
    read_seq: int
    unread: int
