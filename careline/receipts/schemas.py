"""Wire models of the receipts API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from careline.kit.fields import Seq


class ReceiptWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delivered_seq: Seq | None = None
    read_seq: Seq | None = None


class ReceiptRead(BaseModel):
    delivered_seq: int
    read_seq: int
    unread: int
